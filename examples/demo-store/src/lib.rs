//! Rogue Store, the CROW demo storefront: a catalogue, product pages with schema.org Product
//! JSON-LD, a cart and a checkout, each page embedding the tracker with one `<script>` tag. It is
//! the page the browser tests shop on and the crawl target of the product crawler.

pub mod catalogue;
pub mod pages;
pub mod setup;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;

pub use pages::Tracker;

/// The store's routes.
pub fn router(tracker: Tracker) -> Router {
    Router::new()
        .route("/", get(|State(t): State<Tracker>| async move { page(&t, pages::catalogue(&t)) }))
        .route("/products/{id}", get(product))
        .route("/cart", get(|State(t): State<Tracker>| async move { page(&t, pages::cart(&t)) }))
        .route("/checkout", get(|State(t): State<Tracker>| async move { page(&t, pages::checkout(&t)) }))
        .route("/thank-you", get(|State(t): State<Tracker>| async move { page(&t, pages::thank_you(&t)) }))
        .route(
            "/static/store.js",
            get(|| async { ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8")], pages::STORE_JS) }),
        )
        .with_state(tracker)
}

/// A store page under the strict Content-Security-Policy a careful shop sends, so the browser
/// tests prove the tracker works under it: scripts from the store and crow-server only,
/// WebAssembly compiled from them (`'wasm-unsafe-eval'`, which allows no JavaScript `eval`),
/// requests to the store and crow-server only, no plugins, frames or foreign forms.
fn page(tracker: &Tracker, html: String) -> Response {
    let crow = &tracker.crow_url;
    let csp = format!(
        "default-src 'self'; script-src 'self' {crow} 'wasm-unsafe-eval'; connect-src 'self' {crow}; \
         style-src 'self' 'unsafe-inline'; img-src 'self' data:; object-src 'none'; base-uri 'none'; \
         form-action 'self'; frame-ancestors 'none'"
    );
    match axum::http::HeaderValue::try_from(csp) {
        Ok(csp) => ([(header::CONTENT_SECURITY_POLICY, csp)], Html(html)).into_response(),
        // A crow URL that cannot be a header value: serve the page without the policy.
        Err(_) => Html(html).into_response(),
    }
}

async fn product(State(t): State<Tracker>, Path(id): Path<String>) -> Response {
    match catalogue::find(&id) {
        Some(p) => page(&t, pages::product(&t, p)),
        None => (StatusCode::NOT_FOUND, Html("<h1>Not found</h1>".to_owned())).into_response(),
    }
}
