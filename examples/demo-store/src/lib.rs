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
        .route("/", get(|State(t): State<Tracker>| async move { Html(pages::catalogue(&t)) }))
        .route("/products/{id}", get(product))
        .route("/cart", get(|State(t): State<Tracker>| async move { Html(pages::cart(&t)) }))
        .route("/checkout", get(|State(t): State<Tracker>| async move { Html(pages::checkout(&t)) }))
        .route("/thank-you", get(|State(t): State<Tracker>| async move { Html(pages::thank_you(&t)) }))
        .route(
            "/static/store.js",
            get(|| async { ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8")], pages::STORE_JS) }),
        )
        .with_state(tracker)
}

async fn product(State(t): State<Tracker>, Path(id): Path<String>) -> Response {
    match catalogue::find(&id) {
        Some(p) => Html(pages::product(&t, p)).into_response(),
        None => (StatusCode::NOT_FOUND, Html("<h1>Not found</h1>".to_owned())).into_response(),
    }
}
