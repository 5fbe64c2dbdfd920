// Tracker weight and main-thread cost per captured click: CROW beside posthog-js and Snowplow,
// measured in the same run, in the same headless Chromium. Run by scripts/bench-tracker.sh.
//
// Weight: everything a storefront downloads for autocapture, summed per tracker, compressed the
// same way for all three (gzip -9 by zlib; brotli at quality 11), and for CROW also as
// crow-server serves it (the precompressed .gz, written by zopfli, and .br files in dist/):
//   crow       loader + wasm-bindgen glue + wasm (crow-web-sdk/dist)
//   posthog-js dist/array.js (the script-tag bundle its snippet loads; more loads lazily)
//   Snowplow   browser-tracker + link-click-tracking + form-tracking plugins (UMD builds)
// Click cost: a page with the tracker initialised and its click autocapture on; 500
// synthetic clicks on a link, timed with performance.now() inside the page, minus the same
// loop on a page without a tracker. Network calls are answered locally with 204/200.
import { chromium } from "playwright-core";
import { createServer } from "node:http";
import { readFileSync } from "node:fs";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";
import { fileURLToPath } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
const dist = path.join(here, "..", "dist");
const nm = path.join(here, "node_modules");
const files = {
  "/crow/crow.js": path.join(dist, "crow.js"),
  "/crow/crow_web_sdk.js": path.join(dist, "crow_web_sdk.js"),
  "/crow/crow_web_sdk_bg.wasm": path.join(dist, "crow_web_sdk_bg.wasm"),
  "/posthog.js": path.join(nm, "posthog-js/dist/array.js"),
  "/sp.js": path.join(nm, "@snowplow/browser-tracker/dist/index.umd.min.js"),
  "/sp-links.js": path.join(nm, "@snowplow/browser-plugin-link-click-tracking/dist/index.umd.min.js"),
  "/sp-forms.js": path.join(nm, "@snowplow/browser-plugin-form-tracking/dist/index.umd.min.js"),
};
const weight = {
  crow: ["/crow/crow.js", "/crow/crow_web_sdk.js", "/crow/crow_web_sdk_bg.wasm"],
  "posthog-js": ["/posthog.js"],
  snowplow: ["/sp.js", "/sp-links.js", "/sp-forms.js"],
};
const gz = (f) => gzipSync(readFileSync(files[f]), { level: 9 }).length;
const br = (f) =>
  brotliCompressSync(readFileSync(files[f]), { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length;
const served = (ext) => weight.crow.reduce((s, f) => s + readFileSync(files[f] + ext).length, 0);
const KiB = (bytes) => (bytes / 1024).toFixed(1);

// Clicks stay on the page (no fragment navigation, which would dominate the timing).
const body = `<script>document.addEventListener("click", (e) => e.preventDefault());</script><main>${Array.from({ length: 50 }, (_, i) => `<div class="card"><a href="#p${i}" class="buy" id="l${i}">Buy ${i}</a></div>`).join("")}</main>`;
const heads = {
  none: "",
  crow: `<script src="/crow/crow.js" data-key="crow_pk_bench" data-endpoint="/ingest" async></script>`,
  "posthog-js": `<script src="/posthog.js"></script><script>posthog.init("phc_bench",{api_host:location.origin,autocapture:true,capture_pageview:true,disable_session_recording:true,advanced_disable_decide:true,advanced_disable_flags:true,disable_surveys:true,persistence:"localStorage"});</script>`,
  snowplow: `<script src="/sp.js"></script><script src="/sp-links.js"></script><script src="/sp-forms.js"></script><script>
    snowplowBrowserTracking.newTracker("sp", location.origin, { appId: "bench", plugins: [snowplowLinkClickTracking.LinkClickTrackingPlugin(), snowplowFormTracking.FormTrackingPlugin()] });
    snowplowLinkClickTracking.enableLinkClickTracking({ pseudoClicks: false });
    snowplowBrowserTracking.trackPageView();</script>`,
};
const ready = {
  none: "true",
  crow: "window.crow && !window.crow._q",
  "posthog-js": "window.posthog && window.posthog.__loaded",
  snowplow: "!!window.snowplowBrowserTracking",
};

const server = createServer((req, res) => {
  const url = new URL(req.url, "http://x");
  res.setHeader("Access-Control-Allow-Origin", "*");
  res.setHeader("Access-Control-Allow-Headers", "*");
  if (files[url.pathname]) {
    const type = url.pathname.endsWith(".wasm") ? "application/wasm" : "text/javascript";
    res.writeHead(200, { "content-type": type }).end(readFileSync(files[url.pathname]));
  } else if (url.pathname === "/page") {
    const t = url.searchParams.get("t");
    res.writeHead(200, { "content-type": "text/html" }).end(`<!doctype html><html><head>${heads[t]}</head><body>${body}</body></html>`);
  } else if (req.method === "OPTIONS") {
    res.writeHead(204).end();
  } else {
    req.resume();
    res.writeHead(200, { "content-type": "application/json" }).end("{}");
  }
});
await new Promise((r) => server.listen(0, "127.0.0.1", r));
const origin = `http://127.0.0.1:${server.address().port}`;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"],
});
const CLICKS = Number(process.env.CLICKS || 500), ROUNDS = 5;
async function perClick(t) {
  console.error(`measuring ${t}…`);
  const page = await browser.newPage();
  await page.goto(`${origin}/page?t=${t}`);
  await page.waitForFunction(ready[t], null, { timeout: 20000 });
  const rounds = [];
  for (let r = 0; r < ROUNDS + 1; r++) {
    rounds.push(await page.evaluate((n) => {
      const links = document.querySelectorAll("a.buy");
      const t0 = performance.now();
      for (let i = 0; i < n; i++) links[i % links.length].click();
      return (performance.now() - t0) / n;
    }, CLICKS));
  }
  await page.close();
  rounds.shift(); // warm-up
  rounds.sort((a, b) => a - b);
  return rounds[Math.floor(rounds.length / 2)];
}

const baseline = await perClick("none");
const rows = [];
for (const t of ["crow", "posthog-js", "snowplow"]) {
  const gzip = weight[t].reduce((s, f) => s + gz(f), 0);
  const brotli = weight[t].reduce((s, f) => s + br(f), 0);
  rows.push({ tracker: t, gzip, brotli, usPerClick: Math.max(0, (await perClick(t)) - baseline) * 1000 });
}
await browser.close();
server.close();

console.log(`tracker weight in KiB and main-thread time per captured click (median of ${ROUNDS} × ${CLICKS} clicks, minus a page without tracker: ${(baseline * 1000).toFixed(1)} µs)`);
console.log("tracker         gzip -9   brotli 11   µs per click");
for (const r of rows) {
  console.log(`${r.tracker.padEnd(14)} ${KiB(r.gzip).padStart(8)}   ${KiB(r.brotli).padStart(9)}   ${r.usPerClick.toFixed(1).padStart(12)}`);
}
const crow = rows[0];
const servedGzip = served(".gz");
console.log(`crow as crow-server serves it: gzip (zopfli) ${KiB(servedGzip)} KiB (${servedGzip} bytes), brotli ${KiB(served(".br"))} KiB`);
const peers = rows.slice(1);
const smaller = peers.every((p) => crow.gzip < p.gzip && crow.brotli < p.brotli);
console.log(`target: crow ≤ 15 KiB gzipped → as served ${KiB(servedGzip)} KiB: ${servedGzip <= 15 * 1024 ? "met" : "MISSED"}; ${smaller ? "smaller than every peer" : "NOT smaller than every peer"} with either compressor`);
