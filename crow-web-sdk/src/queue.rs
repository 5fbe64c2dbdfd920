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

/// The id of an event written by `event::write`, which starts every event with it.
fn id(json: &str) -> &str {
    json.get(7..43).unwrap_or("")
}

/// The queue, oldest first. One batch at a time is sent, always the oldest events, so the
/// events in flight are the first `in_flight` entries: acknowledging drops them, a failed send
/// only resets the count.
#[derive(Debug, Default)]
pub struct Outbox {
    entries: Vec<String>,
    bytes: usize,
    in_flight: usize,
}

impl Outbox {
    /// Restores a queue saved by [`Outbox::save`] (possibly several, concatenated).
    pub fn load(saved: &str) -> Self {
        let mut q = Self::default();
        // Several tabs' queues may hold the same event; keep it once. (Quadratic, but only here,
        // at most 1,000 entries, and a set type would add kilobytes to the wasm.)
        for line in crate::fields::split(saved, b'\n').filter(|l| l.starts_with("{\"id\":\"")) {
            if !q.entries.iter().any(|e| id(e) == id(line)) {
                q.push(line.to_owned());
            }
        }
        q
    }

    /// One line per event.
    pub fn save(&self) -> String {
        // A loop, not `join`: the same result in fewer wasm bytes.
        let mut out = String::with_capacity(self.bytes + self.entries.len());
        for (i, e) in self.entries.iter().enumerate() {
            if i > 0 {
                out.push('\n');
            }
            out.push_str(e);
        }
        out
    }

    /// Adds a new event (its id is fresh), dropping the oldest beyond the bounds — in flight or
    /// not: an acknowledgement then drops only the survivors of its batch.
    pub fn push(&mut self, json: String) {
        self.bytes += json.len();
        self.entries.push(json);
        // A plain Vec (not VecDeque): cheaper in wasm bytes, and trimming is rare and at most
        // 1,000 entries.
        let mut drop = 0;
        let (mut len, mut bytes) = (self.entries.len(), self.bytes);
        for old in &self.entries {
            if len <= MAX_EVENTS && (bytes <= MAX_BYTES || len <= 1) {
                break;
            }
            (len, bytes) = (len - 1, bytes - old.len());
            drop += 1;
        }
        if drop > 0 {
            self.forget_oldest(drop);
        }
    }

    /// Forgets the `n` oldest events. (`n` is bounded first, so no range check is left whose
    /// panic message would stay in the wasm's data.)
    fn forget_oldest(&mut self, n: usize) {
        let n = n.min(self.entries.len());
        let rest = self.entries.split_off(n);
        self.bytes -= self.entries.iter().map(String::len).sum::<usize>();
        self.entries = rest;
        self.in_flight = self.in_flight.saturating_sub(n);
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

    /// Takes the oldest `max` waiting events for sending (they are in flight until
    /// [`Outbox::acknowledge`] or [`Outbox::release`]).
    pub fn take(&mut self, max: usize) -> &[String] {
        let start = self.in_flight;
        self.in_flight = self.entries.len().min(start + max);
        self.entries.get(start..self.in_flight).unwrap_or_default()
    }

    /// Ingest acknowledged (or refused for good) the events in flight: forget them.
    pub fn acknowledge(&mut self) {
        self.forget_oldest(self.in_flight);
    }

    /// Sending failed: the events in flight wait again.
    pub fn release(&mut self) {
        self.in_flight = 0;
    }

    /// Opt-out: forget everything.
    pub fn clear(&mut self) {
        self.entries.clear();
        self.bytes = 0;
        self.in_flight = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(n: usize) -> String {
        format!("{{\"id\":\"{n:036}\",\"pad\":\"{}\"}}", "x".repeat(10))
    }

    #[test]
    fn survives_a_reload_and_acknowledges_what_was_sent() {
        let mut q = Outbox::default();
        for n in 0..5 {
            q.push(ev(n));
        }
        assert_eq!(Outbox::load(&format!("{}\n{}\n{}", ev(1), ev(2), ev(1))).len(), 2, "a repeated id is kept once");
        assert_eq!(q.len(), 5);
        assert_eq!(q.take(3), [ev(0), ev(1), ev(2)]);
        assert_eq!(q.waiting(), 2);
        q.push(ev(5));
        q.acknowledge();
        assert_eq!(q.save(), [ev(3), ev(4), ev(5)].join("\n"));

        assert_eq!(q.take(20).len(), 3);
        assert_eq!(q.waiting(), 0);
        q.release();
        assert_eq!(q.waiting(), 3);
        let restored = Outbox::load(&q.save());
        assert_eq!(restored.save(), q.save());
        assert_eq!(restored.waiting(), 3, "after a reload nothing is in flight");
    }

    #[test]
    fn an_acknowledgement_drops_only_what_survived_of_its_batch() {
        let mut q = Outbox::default();
        for n in 0..MAX_EVENTS {
            q.push(ev(n));
        }
        assert_eq!(q.take(20).len(), 20);
        // Five newer events push the five oldest, all in flight, out.
        for n in MAX_EVENTS..MAX_EVENTS + 5 {
            q.push(ev(n));
        }
        assert_eq!(q.waiting(), MAX_EVENTS - 15);
        q.acknowledge();
        assert_eq!(q.len(), MAX_EVENTS - 15);
        assert!(q.save().starts_with(&ev(20)), "the 15 survivors of the batch are gone, nothing else");
        q.clear();
        q.push(ev(1));
        q.acknowledge();
        assert_eq!(q.len(), 1, "after a clear, an old batch's answer drops nothing new");
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
