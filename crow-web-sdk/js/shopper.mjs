// A shopper in headless Chromium (Debian's /usr/bin/chromium driven by playwright-core) for the
// end-to-end tests in tests/e2e/browser.rs. Usage: node shopper.mjs <scenario> <store-url>
//
// It prints one JSON line per finding, prefixed "RESULT ", and talks to the Rust test for the
// outage scenario: it prints "CONTROL stop" / "CONTROL start" and waits for "ok" on stdin.
// Every event id the tracker sends is read from the intercepted request bodies, so the test can
// check that each arrived exactly once however often it was sent.
import { chromium } from "playwright-core";
import readline from "node:readline";
import { readFileSync } from "node:fs";

const [scenario, store] = process.argv.slice(2);
const lines = readline.createInterface({ input: process.stdin });
const inbox = [];
let waiter = null;
lines.on("line", (l) => (waiter ? (waiter(l), (waiter = null)) : inbox.push(l)));
const control = (cmd) =>
  new Promise((resolve) => {
    console.log(`CONTROL ${cmd}`);
    if (inbox.length) resolve(inbox.shift());
    else waiter = resolve;
  });
const result = (obj) => console.log("RESULT " + JSON.stringify(obj));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"],
});

/** A fresh visitor; `privacy` adds DNT/GPC signals. Records every ingest request. */
async function visitor(privacy) {
  const context = await browser.newContext();
  if (privacy === "dnt") await context.addInitScript(() => Object.defineProperty(Navigator.prototype, "doNotTrack", { get: () => "1" }));
  if (privacy === "gpc") await context.addInitScript(() => Object.defineProperty(Navigator.prototype, "globalPrivacyControl", { get: () => true }));
  // The catalogue page calls the tracker before its loader has run, through the stub README
  // documents: those calls must be replayed once the tracker has loaded.
  const stub = readFileSync(new URL("../loader/stub.js", import.meta.url), "utf8");
  await context.addInitScript(`if (location.pathname === "/") {
    ${stub}
    crow.track("before-loader", { early: true });
  }`);
  const page = await context.newPage();
  const sent = { requests: 0, ids: new Set(), sends: 0, codings: {} };
  const pageErrors = [];
  page.on("pageerror", (e) => pageErrors.push(String(e)));
  // The store sends a strict Content-Security-Policy; anything it blocks is logged like this.
  page.on("console", (m) => {
    if (/Content Security Policy/i.test(m.text())) pageErrors.push(m.text());
  });
  context.on("request", (req) => {
    if (!req.url().includes("/api/v1/ingest/events") || req.method() !== "POST") return;
    sent.requests += 1;
    try {
      for (const e of JSON.parse(req.postData()).events) { sent.ids.add(e.id); sent.sends += 1; }
    } catch (e) {}
  });
  // How each of the tracker's files came over the wire (Content-Encoding, "" for none).
  context.on("response", (res) => {
    const file = new URL(res.url()).pathname.match(/^\/sdk\/(.+)$/);
    if (file && res.status() === 200) sent.codings[file[1]] = res.headers()["content-encoding"] || "";
  });
  return { context, page, sent, pageErrors };
}

/** Waits until the tracker has loaded. */
const ready = (page) => page.waitForFunction(() => window.crow && !window.crow._q, null, { timeout: 15000 });

/** Waits until nothing waits in the tracker's durable queue (everything acknowledged). */
async function drained(page, timeout = 30000) {
  await page.waitForFunction(() => {
    window.crow.flush();
    return Object.keys(localStorage).filter((k) => k.startsWith("crow_q_")).every((k) => !localStorage.getItem(k));
  }, null, { timeout, polling: 250 });
}

async function shop(v) {
  const { page } = v;
  await page.goto(store + "/");
  await ready(page);
  await page.evaluate(() => crow.identify("customer-42"));
  await page.click("a[href='/products/mug-blue']");
  await ready(page);
  // An error and an unhandled rejection as the browser reports them (dispatched, so the page
  // itself sees no error).
  await page.evaluate(() => {
    dispatchEvent(new ErrorEvent("error", { message: "e2e error", filename: location.origin + "/app.js", lineno: 7 }));
    const promise = Promise.resolve();
    dispatchEvent(new PromiseRejectionEvent("unhandledrejection", { promise, reason: new Error("e2e rejection") }));
  });
  await page.evaluate(() => crow.removeFromCart({ id: "ghost-1", sku: "GH-1", quantity: 2, price: 3.5 }));
  await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
  await sleep(300);
  await page.click("button.add");
  await page.waitForFunction(() => document.getElementById("cart-count").textContent === "1");
  // Three quick clicks on the promo banner (not a link): a rage click.
  // Raw mouse clicks (no actionability waits), so the burst stays well inside one second even
  // on a loaded machine.
  const promo = await page.locator("#promo").boundingBox();
  for (let i = 0; i < 4; i++) await page.mouse.click(promo.x + 20 + i, promo.y + 10);
  await page.evaluate(() => crow.track("wishlist", { product: "mug-blue", source: "e2e" }));
  // Arguments the tracker cannot read (no event results) must not throw into the page.
  v.hostile = await page.evaluate(() =>
    [
      () => crow.track("unreadable", { n: 10n }), // JSON has no BigInt
      () => crow.addToCart({ get id() { throw new Error("a throwing getter"); } }),
    ].map((call) => {
      try {
        call();
        return "ok";
      } catch (e) {
        return String(e);
      }
    }));
  // A single-page-app route change: no load, only history.pushState.
  await page.evaluate(() => history.pushState({}, "", "/products/mug-blue?tab=reviews"));
  await page.click("#cart-link");
  await ready(page);
  // A button that does nothing: no DOM or URL change within 2.5 s, a dead click.
  await page.evaluate(() => {
    const b = document.createElement("button");
    b.id = "noop";
    b.textContent = "  Does\n   nothing ";
    document.body.append(b);
  });
  await page.click("#noop");
  await sleep(2800);
  // An SPA route whose product JSON-LD is rendered after its URL changed: found on a rescan.
  await page.evaluate(() => {
    history.pushState({}, "", "/cart?view=late");
    setTimeout(() => {
      const s = document.createElement("script");
      s.type = "application/ld+json";
      s.textContent = JSON.stringify({ "@type": "Product", productID: "late-lamp", name: "Late Lamp" });
      document.head.append(s);
    }, 100);
  });
  await sleep(900);
  await page.click("#to-checkout");
  await ready(page);
  await page.fill("input[name=name]", "Ada Lovelace");
  await page.fill("input[name=email]", "ada@example.com");
  await page.fill("input[name=address]", "12 Analytical Row");
  await page.click("#place-order");
  await page.waitForURL(/thank-you/);
  await ready(page);
  await drained(page);
}

async function outage(v) {
  const { page } = v;
  await page.goto(store + "/products/kettle-steel");
  await ready(page);
  await drained(page);
  if ((await control("stop")) !== "ok") throw new Error("server did not stop");
  // Browse while the server is down: events wait in localStorage, sends fail and back off.
  await page.click("button.add");
  await page.evaluate(() => crow.track("during-outage", { n: 1 }));
  await page.evaluate(() => crow.flush());
  await sleep(500);
  await page.goto(store + "/products/tote-canvas"); // a reload: the queue must survive it
  await page.waitForFunction(() => window.crow && !window.crow._q);
  await page.click("button.add");
  await page.evaluate(() => crow.flush());
  await sleep(1500);
  if ((await control("start")) !== "ok") throw new Error("server did not start");
  await drained(page, 90000);
}

async function privacy(kind) {
  const v = await visitor(kind);
  const { page, sent } = v;
  await page.goto(store + "/products/lamp-desk");
  await ready(page);
  if (kind === "optout") {
    await page.evaluate(() => crow.optOut());
    await drained(page); // nothing may wait once opted out
    sent.requests = 0; // whatever the page view before optOut sent is the shop's, not ours to judge
  }
  await page.click("button.add");
  await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
  await page.evaluate(() => crow.track("should-not-arrive", {}));
  await page.goto(store + "/cart");
  await ready(page);
  await page.evaluate(() => crow.flush());
  await sleep(1500);
  const queued = await page.evaluate(() =>
    Object.keys(localStorage).filter((k) => k.startsWith("crow_q_")).map((k) => localStorage.getItem(k)).join(""));
  result({ scenario: kind, requests: sent.requests, queued: queued.length, errors: v.pageErrors });
  await v.context.close();
}

/** Do Not Track is on, but the site's consent says yes: tracking goes ahead. */
async function consented() {
  const v = await visitor("dnt");
  const { page, sent } = v;
  await page.goto(store + "/products/lamp-desk");
  await ready(page);
  await page.evaluate(() => {
    crow.consent(true);
    crow.track("consented", {});
  });
  await drained(page);
  result({ scenario: "consent", requests: sent.requests, errors: v.pageErrors });
  await v.context.close();
}

try {
  if (scenario === "consent") {
    await consented();
  } else if (scenario === "privacy") {
    for (const kind of ["dnt", "gpc", "optout"]) await privacy(kind);
  } else {
    const v = await visitor(null);
    await (scenario === "outage" ? outage(v) : shop(v));
    result({ scenario, ids: [...v.sent.ids], sends: v.sent.sends, requests: v.sent.requests, errors: v.pageErrors,
      hostile: v.hostile, codings: v.sent.codings });
    await v.context.close();
  }
} finally {
  await browser.close();
  lines.close();
}
