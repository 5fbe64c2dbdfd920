/*! CROW web tracker loader. Add to a page:
 *  <script src="https://HOST/sdk/crow.js" data-key="crow_pk_…" async></script>
 * It defines window.crow at once and queues calls until the WebAssembly tracker has loaded;
 * the tracker then takes over window.crow and replays them. If anything fails to load, calls
 * stay harmless no-ops: the page never sees an error from the tracker. Optional: data-endpoint="https://…/api/v1/ingest/events".
 * Calls made before this script runs are kept too when the page queues them in window.crow._q
 * as [method, arguments] (README has a one-line stub that does). */
(function (w, d) {
  var s = d.currentScript;
  var crow = w.crow || {};
  if (!s || crow._l) return; // no script element, or the tracker is loading or loaded already
  var key = s.getAttribute("data-key");
  var base = s.src.replace(/[^/]*$/, "");
  var endpoint = s.getAttribute("data-endpoint") || new URL(s.src).origin + "/api/v1/ingest/events";
  var methods = ["track", "identify", "addToCart", "removeFromCart", "checkoutStarted", "purchase", "optOut", "optIn", "consent", "flush"];
  // A page's stub queue is adopted, so its calls are replayed first, in order.
  var q = Array.isArray(crow._q) ? crow._q : [];
  crow._q = q;
  crow._l = 1;
  w.crow = crow;
  methods.forEach(function (m) {
    crow[m] = function () { q.push([m, arguments]); };
  });
  // SPA route changes: the tracker listens for this event.
  ["pushState", "replaceState"].forEach(function (f) {
    var orig = history[f];
    history[f] = function () {
      var r = orig.apply(this, arguments);
      try { w.dispatchEvent(new Event("crow:navigate")); } catch (e) {}
      return r;
    };
  });
  // The tracker replaces the stubs on window.crow and replays the queue (host.js, install),
  // calling the module it finds on crow._m.
  import(base + "crow_web_sdk.js")
    .then(function (m) {
      return m.default(base + "crow_web_sdk_bg.wasm").then(function () {
        crow._m = m;
        m.start(key, endpoint);
      });
    })
    .catch(function () {});
})(window, document);
