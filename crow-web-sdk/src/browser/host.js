// The tracker's hands in the page, imported by the wasm (see host.rs).
//
// It reads facts from the DOM into plain strings and numbers and carries out effects
// (listeners, timers, fetch); every decision stays in Rust: what to capture, element paths,
// products, rage and dead clicks, scroll milestones, vitals, batching, retries, privacy.
// Each DOM call made from wasm costs an import, a JS shim and the code that moves strings and
// references across the boundary: done here, the same work is a few bytes.
//
// Records cross the boundary as strings: fields separated by U+001F, records by U+001E. Every
// string argument of the module's functions must be a string (an absent one is ""): anything
// else makes the glue throw, and the call is lost.
// Nothing here throws into the page; a failing call only means an event is not captured.

const w = window;
const d = document;
const US = "\x1f";
const RS = "\x1e";
/** Elements whose clicks are reported. */
const INTERACTIVE =
  "a,button,input,select,textarea,label,summary,[role=button],[role=link],[onclick],[data-crow-product]";
/** Elements whose clicks should change something (dead-click candidates). */
const ACTIONS = "a,button,[role=button],[role=link],[onclick]";

/** The tracker's module (its exported functions), which the loader leaves on `window.crow._m`. */
let crow;
let mutations = 0;

/** Calls the tracker; a trap in the wasm stays here. */
const call = (method, ...args) => {
  try {
    crow[method](...args);
  } catch (e) {}
};
const text = (v) => (typeof v == "string" || typeof v == "number" ? "" + v : "");
const number = (v) => (typeof v == "number" ? v : NaN);
const attr = (el, name) => el.getAttribute(name) || "";
/** White space collapsed to single spaces, none at either end. */
const collapse = (s) => s.replace(/\s+/g, " ").trim();
/** The first `n` code points (a cut through a surrogate pair would not be valid UTF-8). */
const cut = (s, n) => (s.length > n ? Array.from(s).slice(0, n).join("") : s);

/**
 * An element and up to three ancestors below <body>, nearest first: "TAG␟id␟classes" each.
 * Attributes, not the `id` property: a form's control named "id" shadows that property.
 */
function levels(el) {
  const out = [];
  for (; el && out.length < 4 && !/^(body|html)$/i.test(el.tagName); el = el.parentElement) {
    out.push(el.tagName + US + attr(el, "id") + US + collapse(attr(el, "class")));
  }
  return out.join(RS);
}

/** A product record "id␟sku␟url␟name". */
const product = (id, sku, url, name) => [id, sku, url, name].join(US);

/**
 * `track`'s properties as a flat JSON object: strings, finite numbers, booleans and null are
 * kept, anything else becomes its JSON text (ingest takes flat properties only); 64 at most,
 * keys cut to 128 characters and values to 2,048 (the longest string ingest accepts).
 */
function flat(props) {
  const out = {};
  if (props && typeof props == "object") {
    Object.entries(props).slice(0, 64).forEach(([k, v]) => {
      const t = typeof v;
      out[cut(k, 128)] =
        t == "number" || t == "boolean" || v == null ? (t == "number" && !isFinite(v) ? null : v ?? null)
        : cut(t == "string" ? v : JSON.stringify(v) ?? "", 2048);
    });
  }
  return JSON.stringify(out);
}

/** An e-commerce call: `kind` as `api::commerce` takes it, the order (or the item) and its lines. */
function commerce(kind, order, lines) {
  lines = (Array.isArray(lines) ? lines : []).slice(0, 100).map((o) => o || {});
  order = order || {};
  call(
    "commerce",
    kind,
    lines.map((o) => product(text(o.id) || text(o.productId), text(o.sku), text(o.url), text(o.name))).join(RS),
    new Float64Array(lines.flatMap((o) => [number(o.quantity), number(o.price)]).concat(number(order.value))),
    text(order.orderId),
    text(order.currency),
  );
}

/** Collects schema.org Products from JSON-LD: the value, arrays, @graph, ItemList items. */
function collect(v, out, depth) {
  if (depth > 4 || out.length >= 20 || !v || typeof v != "object") return;
  if (Array.isArray(v)) return v.forEach((x) => collect(x, out, depth + 1));
  const type = v["@type"];
  if (type == "Product" || (Array.isArray(type) && type.includes("Product"))) {
    return out.push(product(text(v.productID) || text(v["@id"]), text(v.sku), text(v.url), text(v.name)));
  }
  ["@graph", "itemListElement", "item", "mainEntity"].forEach((k) => collect(v[k], out, depth + 1));
}

/** The page's schema.org Products, one record each. */
export function products() {
  const out = [];
  d.querySelectorAll("script[type='application/ld+json']").forEach((s) => {
    try {
      collect(JSON.parse(s.textContent), out, 0);
    } catch (e) {}
  });
  return out.join(RS);
}

/** The browser's privacy signals: 1 = Do Not Track, 2 = Global Privacy Control (either may be
 * missing or null). */
export const privacySignals = () =>
  (navigator.doNotTrack == "1" ? 1 : 0) | (navigator.globalPrivacyControl === true ? 2 : 0);

/** DOM changes so far (a click that changes nothing is dead). */
export const mutationCount = () => mutations;

/** Web Storage, either of which may be missing or refuse (private mode, quota): a refusal
 * reads as nothing stored, and a write that fails is skipped. */
const storage = (local) => (local ? w.localStorage : w.sessionStorage);
export function load(local, key) {
  try {
    return storage(local).getItem(key); // null, like undefined, is None in the wasm
  } catch (e) {}
}
export function store(local, key, value) {
  try {
    value ? storage(local).setItem(key, value) : storage(local).removeItem(key);
  } catch (e) {}
}
export function storedKeys(prefix) {
  try {
    return Object.keys(w.localStorage).filter((k) => k.startsWith(prefix)).join(RS);
  } catch (e) {
    return "";
  }
}

/** Page facts. */
export const href = () => location.href;
export const referrer = () => d.referrer;
export const title = () => d.title;
export const visible = () => d.visibilityState == "visible";
export const now = () => performance.now();
export const clock = () => Date.now();
export const uniform = () => Math.random();
export function random(bytes) {
  try {
    crypto.getRandomValues(bytes);
  } catch (e) {
    bytes.forEach((_, i) => (bytes[i] = Math.random() * 256));
  }
}

/** Runs the tracker's job `id` after `ms`; returns the timer handle. */
export const later = (ms, id) => setTimeout(() => call("run", id), ms);

export const cancel = (handle) => clearTimeout(handle);

/** POSTs a batch; the answer, or a network error as status 0, goes to `answered` exactly once. */
export function post(url, key, body, keepalive) {
  const failed = () => call("answered", 0, "");
  try {
    fetch(url, {
      method: "POST",
      body,
      keepalive,
      credentials: "omit", // cookieless: the key identifies the shop, nothing the visitor
      headers: { "Content-Type": "application/json", "X-API-Key": key },
    }).then((r) => call("answered", r.status, r.headers.get("Retry-After") || ""), failed);
  } catch (e) {
    failed();
  }
}

/**
 * Installs every listener and observer for the page's lifetime, forwarding facts to the
 * tracker's module, then puts the page's API on `window.crow` (the loader's object, which the
 * page may hold) and replays the calls the loader queued while the tracker loaded.
 */
export function install() {
  const page = w.crow || (w.crow = {});
  crow = page._m || {};
  delete page._m;
  const on = (target, type, f, capture) => target.addEventListener(type, f, capture);
  // Clicks and submits in the capture phase: a page that stops propagation still counts.
  on(d, "click", (e) => {
    const t = e.target;
    if (!(t instanceof Element)) return;
    const el = t.closest(INTERACTIVE);
    const owner = el && el.closest("[data-crow-product]");
    call(
      "click",
      e.clientX,
      e.clientY,
      levels(t),
      el ? levels(el) : "",
      // What a visitor typed is never read.
      el && !/^(input|textarea)$/i.test(el.tagName) ? collapse((el.textContent || "").slice(0, 512)) : "",
      owner
        ? product(attr(owner, "data-crow-product"), attr(owner, "data-crow-sku"), "", attr(owner, "data-crow-name"))
        : "",
      !!el && el.matches(ACTIONS),
    );
  }, true);
  on(d, "submit", (e) => {
    const f = e.target;
    // The attribute, not `f.id` (see levels).
    if (f instanceof HTMLFormElement) call("submit", attr(f, "id"), levels(f), f.elements.length);
  }, true);
  on(d, "visibilitychange", () => call("visibility", d.visibilityState == "hidden", false));
  on(w, "pagehide", () => call("visibility", true, true));
  on(w, "scroll", () => {
    const height = d.documentElement.scrollHeight;
    if (height > 0) call("scroll", ((w.scrollY + w.innerHeight) * 100) / height);
  }, { passive: true });
  // crow:navigate is dispatched by the loader's history.pushState/replaceState wrappers.
  ["popstate", "crow:navigate"].forEach((type) => on(w, type, () => call("navigated")));
  on(w, "error", (e) => {
    if (e instanceof ErrorEvent) call("error", "" + e.message, e.filename || "", e.lineno || 0);
  });
  on(w, "unhandledrejection", (e) => {
    const r = e.reason;
    const message = r && typeof r.message == "string" ? r.message : typeof r == "string" ? r : "unhandled rejection";
    call("error", message, "", 0);
  });
  try {
    new MutationObserver(() => mutations++).observe(d.documentElement, {
      childList: true,
      subtree: true,
      attributes: true,
      characterData: true,
    });
  } catch (e) {}
  // Web vitals: 0 = LCP candidate, 1 = layout shift without recent input, 2 = interaction.
  const vitals = (list) =>
    list.getEntries().forEach((e) => {
      if (e.entryType == "largest-contentful-paint") call("vital", 0, e.startTime);
      else if (e.entryType == "layout-shift") e.hadRecentInput || call("vital", 1, e.value);
      else if (e.interactionId) call("vital", 2, e.duration);
    });
  // One observer per type (`type` + `buffered` cannot be combined with `entryTypes`); a type
  // this browser lacks throws, and is skipped.
  ["largest-contentful-paint", "layout-shift", "event"].forEach((type) => {
    try {
      new PerformanceObserver(vitals).observe({ type, buffered: true, durationThreshold: 40 });
    } catch (e) {}
  });
  const api = {
    track: (name, props) => call("track", text(name), flat(props)),
    identify: (id) => call("identify", text(id)),
    addToCart: (item) => commerce(0, item, [item]),
    removeFromCart: (item) => commerce(1, item, [item]),
    checkoutStarted: (cart) => commerce(2, cart, cart && cart.items),
    purchase: (order) => commerce(3, order, order && order.items),
    optOut: () => call("privacy", 0),
    optIn: () => call("privacy", 1),
    consent: (granted) => call("privacy", granted ? 3 : 2),
    flush: () => call("flush"),
  };
  // Reading what the page passed can throw too (a throwing getter, a BigInt for JSON): the
  // page never sees it.
  for (const name in api) {
    const f = api[name];
    api[name] = (...args) => {
      try {
        f(...args);
      } catch (e) {}
    };
  }
  // The queue may hold what a page's own stub pushed before the loader ran: an entry that is
  // not [known method, arguments] is skipped.
  const queued = [].concat(page._q || []);
  delete page._q;
  Object.assign(page, api);
  queued.forEach((entry) => {
    try {
      api[entry[0]](...entry[1]);
    } catch (e) {}
  });
}
