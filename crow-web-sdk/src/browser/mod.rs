//! The tracker in the page. One `Tracker` per page, held by `api` and reached through the
//! functions `host.js` calls (for the page's API object it builds, and for listeners, timers
//! and answers). Nothing here may
//! throw into the page: every browser call that can fail is checked, and a failure only means
//! an event is not captured.
//!
//! Dependency direction: `api` and `hooks` (what JavaScript calls) → `Tracker` → `dom` (storage,
//! time, randomness, the URL, over `host`) and `host` itself (host.js: page facts, listeners,
//! timers, fetch) → the pure modules.

mod api;
mod dom;
mod hooks;
mod host;

use alloc::string::String;
use alloc::vec::Vec;

use crate::event::{self, Context, Data};
use crate::fields::{self, RECORD};
use crate::queue::Outbox;
use crate::retry::{self, Outcome};
use crate::{BATCH, FLUSH_MS, privacy, session};
use dom::Store::{Local, Session};

const OPT_OUT: &str = "crow_optout";
const CONSENT: &str = "crow_consent";
const USER: &str = "crow_uid";
const SESSION: &str = "crow_s";
const TAB: &str = "crow_tab";
const QUEUE_PREFIX: &str = "crow_q_";
/// Longest time a captured event lives only in memory.
const PERSIST_MS: i32 = 200;

/// The current page (a new one on every SPA route change).
#[derive(Debug, Default)]
struct Page {
    url: String,
    started: f64,
    visible_since: Option<f64>,
    active_ms: f64,
    scroll_pct: u8,
    /// The page's one product (its `event::product` object), which clicks are about.
    product: Option<String>,
    found_products: bool,
    errors: u8,
}

/// Timer ids (`host::later` → `hooks::run`): three fixed ones, then one per [`PendingClick`].
const FLUSH_TIMER: u32 = 0;
const PERSIST_TIMER: u32 = 1;
/// Looks for products again on an SPA route that had none when its URL changed.
const RESCAN_TIMER: u32 = 2;

/// A click on an action, checked later for a change (dead clicks): its element's
/// path, and the DOM mutations and URL at the click.
struct PendingClick {
    path: String,
    mutations: u32,
    url: String,
}

#[derive(Debug, Default)]
struct Vitals {
    lcp: Option<f64>,
    cls: f64,
    inp: Option<f64>,
    sent: bool,
}

struct Tracker {
    key: String,
    endpoint: String,
    queue_key: String,
    outbox: Outbox,
    allowed: bool,
    user_id: Option<String>,
    page: Page,
    vitals: Vitals,
    rage: crate::clicks::RageDetector,
    /// `"id|last_activity_ms"`, as kept in sessionStorage.
    session: String,
    dirty: bool,
    /// A batch is being sent (its events are the outbox's in flight).
    sending: bool,
    failures: u32,
    not_before: f64,
    /// The flush timer: handle and due time.
    timer: Option<(i32, f64)>,
    pending: Vec<(u32, PendingClick)>,
    next_timer: u32,
}

impl Tracker {
    fn new(key: String, endpoint: String) -> Self {
        // This tab's id names its saved queue. Where sessionStorage refuses, every page is a
        // new tab, and the next page adopts its queue as a closed tab's.
        let tab = dom::get(Session, TAB).unwrap_or_else(|| {
            let id = dom::new_id();
            dom::set(Session, TAB, &id);
            id
        });
        let queue_key = format_key(QUEUE_PREFIX, &tab);
        let allowed = privacy_allows();
        let user_id = dom::get(Local, USER);
        let session = dom::get(Session, SESSION).unwrap_or_default();
        let mut t = Self {
            key,
            endpoint,
            queue_key,
            outbox: Outbox::default(),
            allowed,
            user_id,
            page: Page::default(),
            vitals: Vitals::default(),
            rage: Default::default(),
            session,
            dirty: false,
            sending: false,
            failures: 0,
            not_before: 0.0,
            timer: None,
            pending: Vec::new(),
            next_timer: RESCAN_TIMER + 1,
        };
        t.adopt_saved_queues();
        t
    }

    /// Takes over every saved queue: this tab's from before a reload and those of closed tabs. A
    /// queue of a tab that is still open may be sent twice; ingest keeps each event once.
    fn adopt_saved_queues(&mut self) {
        let mut saved = String::new();
        let keys = host::stored_keys(QUEUE_PREFIX);
        for k in fields::split(&keys, RECORD).filter(|k| k.starts_with(QUEUE_PREFIX)) {
            if let Some(v) = dom::get(Local, k) {
                saved.push_str(&v);
                saved.push('\n');
            }
            if k != self.queue_key {
                dom::set(Local, k, "");
            }
        }
        self.outbox = Outbox::load(&saved);
        if !self.allowed {
            self.outbox.clear();
        }
        self.persist();
    }

    /// Applies a changed privacy decision: when tracking is no longer allowed, what waits is
    /// discarded; when it newly is, the page view it missed is recorded.
    fn reconsider_privacy(&mut self) {
        let was = self.allowed;
        self.allowed = privacy_allows();
        if !self.allowed {
            self.outbox.clear();
            self.persist();
        } else if !was {
            self.page.url.clear();
            self.page_view();
        }
    }

    /// Writes the outbox and the session to storage now.
    fn persist(&mut self) {
        self.dirty = false;
        dom::set(Local, &self.queue_key, &self.outbox.save());
        dom::set(Session, SESSION, &self.session);
    }

    /// Writes within [`PERSIST_MS`]: one write per burst of events instead of one per event
    /// (each write serialises the whole outbox). `hidden` persists at once.
    fn persist_soon(&mut self) {
        if !self.dirty {
            self.dirty = true;
            host::later(PERSIST_MS, PERSIST_TIMER);
        }
    }

    fn now(&self) -> f64 {
        host::now()
    }

    /// Captures one event on the current page.
    fn emit(&mut self, data: Data) {
        if !self.allowed {
            return;
        }
        let now = dom::now_ms();
        let (session_id, saved) = session::touch(Some(&self.session), now, dom::new_id);
        self.session = saved;
        let id = dom::new_id();
        let title = host::title();
        let ctx = Context {
            id: &id,
            ts: now,
            session_id: &session_id,
            user_id: self.user_id.as_deref(),
            url: &self.page.url,
            title: Some(&title),
        };
        self.outbox.push(event::write(&ctx, &data));
        self.persist_soon();
        if self.outbox.waiting() >= BATCH {
            self.flush(false);
        } else {
            self.schedule(FLUSH_MS);
        }
    }

    /// Arms the flush timer unless one fires sooner.
    fn schedule(&mut self, ms: i32) {
        let due = self.now() + f64::from(ms);
        if let Some((handle, at)) = self.timer {
            if at <= due {
                return;
            }
            host::cancel(handle);
        }
        self.timer = Some((host::later(ms, FLUSH_TIMER), due));
    }

    /// Checks `click` after `ms`.
    fn check_later(&mut self, ms: i32, click: PendingClick) {
        let id = self.next_timer;
        self.next_timer = self.next_timer.wrapping_add(1).max(RESCAN_TIMER + 1);
        self.pending.push((id, click));
        host::later(ms, id);
    }

    /// A timer fired.
    fn run(&mut self, id: u32) {
        match id {
            FLUSH_TIMER => {
                self.timer = None;
                self.flush(false);
            }
            PERSIST_TIMER if self.dirty => self.persist(),
            PERSIST_TIMER => {}
            // Fired on a later route, it looks there, which had none either (or it is found
            // already and this does nothing): no product is reported twice.
            RESCAN_TIMER if !self.page.found_products => self.detect_products(),
            RESCAN_TIMER => {}
            _ => {
                let Some(at) = self.pending.iter().position(|(j, _)| *j == id) else { return };
                let click = self.pending.swap_remove(at).1;
                if host::mutation_count() == click.mutations && dom::url() == click.url {
                    self.emit(Data::dead_click(&click.path));
                }
            }
        }
    }

    /// Sends the next batch. `leaving`: the page is being hidden or unloaded, so the request
    /// must outlive it (`keepalive`) and backoff is ignored — it is the last chance.
    fn flush(&mut self, leaving: bool) {
        if !self.allowed || self.sending || self.outbox.waiting() == 0 {
            return;
        }
        let now = self.now();
        if !leaving && now < self.not_before {
            self.schedule((self.not_before - now) as i32 + 1);
            return;
        }
        let body = event::envelope(dom::now_ms(), self.outbox.take(BATCH).iter().map(String::as_str));
        self.sending = true;
        host::post(&self.endpoint, &self.key, &body, leaving);
    }

    fn answered(&mut self, status: u16, retry_after: Option<&str>) {
        if !core::mem::take(&mut self.sending) {
            return;
        }
        match retry::outcome(status) {
            Outcome::Done | Outcome::Drop => {
                self.outbox.acknowledge();
                self.failures = 0;
                self.persist_soon();
                if self.outbox.waiting() > 0 {
                    self.schedule(0);
                }
            }
            Outcome::Retry => {
                self.outbox.release();
                let delay = retry::delay_ms(self.failures, retry::retry_after_ms(retry_after), host::uniform());
                self.failures = self.failures.saturating_add(1);
                self.not_before = self.now() + delay as f64;
                self.schedule(i32::try_from(delay).unwrap_or(i32::MAX));
            }
        }
    }

    /// A new page: the first load or an SPA route change.
    fn page_view(&mut self) {
        let url = dom::url();
        if url == self.page.url {
            return;
        }
        let referrer = if self.page.url.is_empty() { host::referrer() } else { self.page.url.clone() };
        if !self.page.url.is_empty() {
            self.engagement();
        }
        let now = self.now();
        let visible = host::visible();
        self.page = Page { url, started: now, visible_since: visible.then_some(now), ..Page::default() };
        self.emit(Data::page_view(&referrer));
        self.detect_products();
    }

    fn detect_products(&mut self) {
        let records = host::products();
        // The page's product (none when a page starts) is its only one: a second unsets it.
        let mut found = 0;
        for p in fields::split(&records, RECORD).filter_map(event::named_product) {
            self.emit(Data::product_view(&p));
            found += 1;
            self.page.product = (found == 1).then_some(p);
        }
        self.page.found_products = found > 0;
    }

    fn engagement(&mut self) {
        let now = self.now();
        let active = self.page.active_ms + self.page.visible_since.map_or(0.0, |s| now - s);
        self.emit(Data::engagement(active, now - self.page.started));
    }

    /// The page is hidden (tab switch, navigation, close): report time and vitals, send now.
    fn hidden(&mut self) {
        let now = self.now();
        if let Some(since) = self.page.visible_since.take() {
            self.page.active_ms += now - since;
        }
        self.engagement();
        if !self.vitals.sent {
            self.vitals.sent = true;
            if let Some(v) = self.vitals.lcp {
                self.emit(Data::web_vital("LCP", v));
            }
            self.emit(Data::web_vital("CLS", self.vitals.cls));
            if let Some(v) = self.vitals.inp {
                self.emit(Data::web_vital("INP", v));
            }
        }
        self.flush(true);
        self.persist();
    }

    fn visible(&mut self) {
        self.page.visible_since = Some(self.now());
    }
}

/// The privacy rule (`privacy::allowed`) applied to what the visitor and site said (stored) and
/// what the browser signals.
fn privacy_allows() -> bool {
    let signals = host::privacy_signals();
    privacy::allowed(
        dom::get(Local, OPT_OUT).is_some(),
        dom::get(Local, CONSENT).map(|c| c == "1"),
        signals & 1 != 0,
        signals & 2 != 0,
    )
}

fn format_key(prefix: &str, id: &str) -> String {
    let mut k = String::from(prefix);
    k.push_str(id);
    k
}
