//! Sending a batch with `fetch`. The answer (or a network error, as status 0) goes to `done`
//! exactly once; nothing is thrown.

use js_sys::{Function, Reflect};
use wasm_bindgen::prelude::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Headers, RequestCredentials, RequestInit, Response, Window};

pub fn post(
    w: &Window,
    endpoint: &str,
    key: &str,
    body: &str,
    keepalive: bool,
    done: impl FnOnce(u16, Option<&str>) + 'static,
) {
    let init = RequestInit::new();
    init.set_method("POST");
    init.set_body(&JsValue::from_str(body));
    // Cookieless: the key identifies the shop, nothing identifies the visitor.
    init.set_credentials(RequestCredentials::Omit);
    if let Ok(h) = Headers::new() {
        let _ = h.set("Content-Type", "application/json");
        let _ = h.set("X-API-Key", key);
        init.set_headers(&h);
    }
    if keepalive {
        let _ = Reflect::set(&init, &"keepalive".into(), &JsValue::TRUE);
    }
    let answer = Closure::once_into_js(move |v: JsValue| match v.dyn_ref::<Response>() {
        Some(r) => {
            let retry_after = r.headers().get("Retry-After").ok().flatten();
            done(r.status(), retry_after.as_deref());
        }
        None => done(0, None),
    });
    // One function for both outcomes: exactly one of them runs, and `once_into_js` frees it then.
    let promise = w.fetch_with_str_and_init(endpoint, &init);
    if let Ok(then) = Reflect::get(&promise, &"then".into()) {
        let _ = then.unchecked_ref::<Function>().call2(&promise, &answer, &answer);
    }
}
