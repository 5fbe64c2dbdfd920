/*! CROW web tracker loader. Add to a page:
 *  <script src="https://HOST/sdk/crow.js" data-key="crow_pk_…" async></script>
 * It defines window.crow at once and queues calls until the WebAssembly tracker has loaded;
 * the tracker then takes over window.crow and replays them. If anything fails to load, calls
 * stay harmless no-ops: the page never sees an error from the tracker. Optional: data-endpoint="https://…/api/v1/ingest/events". */
(function (w, d) {
  var s = d.currentScript;
  if (!s || (w.crow && w.crow.track)) return; // no script element, or already loaded
  var key = s.getAttribute("data-key");
  var base = s.src.replace(/[^/]*$/, "");
  var endpoint = s.getAttribute("data-endpoint") || new URL(s.src).origin + "/api/v1/ingest/events";
  var methods = ["track", "identify", "addToCart", "removeFromCart", "checkoutStarted", "purchase", "optOut", "optIn", "consent", "flush"];
  var q = [];
  var crow = (w.crow = { _q: q });
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
