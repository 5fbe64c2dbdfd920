//! The durable outbox: every captured event waits here — mirrored to localStorage — until ingest
//! has acknowledged it, so a reload, a crash or a server outage loses nothing. Events carry
//! unique ids and ingest is idempotent on them, so sending one twice (a beacon whose answer was
//! never seen, two tabs adopting the same leftovers) never counts it twice.

use alloc::borrow::ToOwned;
use alloc::string::String;
use alloc::vec::Vec;

/// Most events kept; beyond it the oldest are dropped.
pub const MAX_EVENTS: usize = 1000;
/// Most bytes kept (localStorage quotas are ~5 MB per origin, shared with the shop).
pub const MAX_BYTES: usize = 256 * 1024;

#[derive(Debug, Clone, PartialEq)]
struct Entry {
    json: String,
    in_flight: bool,
}

impl Entry {
    /// Events are written by `event::write`, which starts every event with its id.
    fn id(&self) -> &str {
        self.json.get(7..43).unwrap_or("")
    }
}

/// The queue.
#[derive(Debug, Default)]
pub struct Outbox {
    entries: Vec<Entry>,
    bytes: usize,
    in_flight: usize,
}

impl Outbox {
    /// Restores a queue saved by [`Outbox::save`] (possibly several, concatenated).
    pub fn load(saved: &str) -> Self {
        let mut q = Self::default();
        // Several tabs' queues may hold the same event; keep it once. (Quadratic, but only here,
        // at most 1,000 entries, and a set type would add kilobytes to the wasm.)
        for line in saved.split('\n').filter(|l| l.starts_with("{\"id\":\"")) {
            let id = line.get(7..43).unwrap_or("");
            if !q.entries.iter().any(|e| e.id() == id) {
                q.push(line.to_owned());
            }
        }
        q
    }

    /// One line per event.
    pub fn save(&self) -> String {
        let mut out = String::with_capacity(self.bytes + self.entries.len());
        for (i, e) in self.entries.iter().enumerate() {
            if i > 0 {
                out.push('\n');
            }
            out.push_str(&e.json);
        }
        out
    }

    /// Adds a new event (its id is fresh), dropping the oldest beyond the bounds.
    pub fn push(&mut self, json: String) {
        let entry = Entry { json, in_flight: false };
        self.bytes += entry.json.len();
        self.entries.push(entry);
        // Oldest first out. A plain Vec (not VecDeque): cheaper in wasm bytes, and trimming is
        // rare and at most 1,000 entries.
        let mut drop = 0;
        let (mut len, mut bytes) = (self.entries.len(), self.bytes);
        for old in &self.entries {
            if len <= MAX_EVENTS && (bytes <= MAX_BYTES || len <= 1) {
                break;
            }
            (len, bytes) = (len - 1, bytes - old.json.len());
            self.in_flight -= usize::from(old.in_flight);
            drop += 1;
        }
        if drop > 0 {
            self.entries.drain(..drop);
            self.bytes = bytes;
        }
    }

    /// Events waiting and not already being sent.
    pub fn waiting(&self) -> usize {
        self.entries.len() - self.in_flight
    }

    /// All events, sent or not.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when nothing waits.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Takes up to `max` waiting events (marking them in flight) and returns their JSON and ids.
    pub fn take(&mut self, max: usize) -> Batch {
        let mut batch = Batch::default();
        for e in self.entries.iter_mut().filter(|e| !e.in_flight).take(max) {
            e.in_flight = true;
            self.in_flight += 1;
            batch.ids.push(e.id().to_owned());
            batch.events.push(e.json.clone());
        }
        batch
    }

    /// Waiting events to send with a page-leave beacon, in flight or not (the earlier request may
    /// never finish once the page is gone; ingest drops repeats).
    pub fn peek(&self, max: usize) -> Vec<&str> {
        self.entries.iter().take(max).map(|e| e.json.as_str()).collect()
    }

    /// Ingest acknowledged (or refused for good) these events: forget them.
    pub fn remove(&mut self, ids: &[String]) {
        self.entries.retain(|e| !ids.iter().any(|id| id == e.id()));
        self.bytes = self.entries.iter().map(|e| e.json.len()).sum();
        self.in_flight = self.entries.iter().filter(|e| e.in_flight).count();
    }

    /// Sending failed: these events wait again.
    pub fn release(&mut self, ids: &[String]) {
        for e in self.entries.iter_mut().filter(|e| e.in_flight && ids.iter().any(|id| id == e.id())) {
            e.in_flight = false;
            self.in_flight -= 1;
        }
    }

    /// Opt-out: forget everything.
    pub fn clear(&mut self) {
        self.entries.clear();
        self.bytes = 0;
        self.in_flight = 0;
    }
}

/// Events taken for one request.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Batch {
    /// Their ids.
    pub ids: Vec<String>,
    /// Their JSON.
    pub events: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(n: usize) -> String {
        format!("{{\"id\":\"{n:036}\",\"pad\":\"{}\"}}", "x".repeat(10))
    }

    #[test]
    fn survives_a_reload_and_acknowledges_by_id() {
        let mut q = Outbox::default();
        for n in 0..5 {
            q.push(ev(n));
        }
        assert_eq!(Outbox::load(&format!("{}\n{}\n{}", ev(1), ev(2), ev(1))).len(), 2, "a repeated id is kept once");
        assert_eq!(q.len(), 5);
        let first = q.take(3);
        assert_eq!(first.ids.len(), 3);
        assert_eq!(q.waiting(), 2);
        q.push(ev(5));
        q.remove(&first.ids);
        assert_eq!(q.len(), 3);

        let second = q.take(20);
        q.release(&second.ids);
        let restored = Outbox::load(&q.save());
        assert_eq!(restored.save(), q.save());
        assert_eq!(restored.waiting(), 3, "after a reload nothing is in flight");
    }

    #[test]
    fn stays_bounded_by_dropping_the_oldest() {
        let mut q = Outbox::default();
        for n in 0..(MAX_EVENTS + 10) {
            q.push(ev(n));
        }
        assert_eq!(q.len(), MAX_EVENTS);
        assert!(q.save().starts_with(&ev(10)));

        let mut q = Outbox::default();
        let big = format!("{{\"id\":\"{:036}\",\"pad\":\"{}\"}}", 1, "x".repeat(MAX_BYTES / 3));
        for n in 0..4 {
            q.push(big.replace(&format!("{:036}", 1), &format!("{n:036}")));
        }
        assert_eq!(q.len(), 2, "byte bound");
    }

    #[test]
    fn ignores_foreign_lines_in_storage() {
        let q = Outbox::load("garbage\n\n{\"nope\":1}\n");
        assert!(q.is_empty());
    }
}
