//! `/sdk/*`: the browser tracker, embedded in the binary at build time from `crow-web-sdk/dist`
//! (built by `scripts/build-web-sdk.sh`, committed so a plain `cargo run` serves it).
//!
//! Storefronts on any origin load these files (`<script src>`, then a module `import()` and a
//! wasm `fetch`, both CORS requests), so they are public and carry `Access-Control-Allow-Origin:
//! *` without credentials — unlike the API, whose CORS reflects only trusted origins.

use axum::extract::Path;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::http::ApiError;

struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

const ASSETS: [Asset; 3] = [
    Asset {
        name: "crow.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../../crow-web-sdk/dist/crow.js"),
    },
    Asset {
        name: "crow_web_sdk.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../../crow-web-sdk/dist/crow_web_sdk.js"),
    },
    Asset {
        name: "crow_web_sdk_bg.wasm",
        content_type: "application/wasm",
        body: include_bytes!("../../../crow-web-sdk/dist/crow_web_sdk_bg.wasm"),
    },
];

/// `GET /sdk/{file}`.
pub async fn asset(Path(file): Path<String>) -> Response {
    let Some(asset) = ASSETS.iter().find(|a| a.name == file) else {
        return ApiError::new(crow_core::ErrorCode::NotFound, "no such SDK file").into_response();
    };
    let mut response = (StatusCode::OK, asset.body).into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(asset.content_type));
    // Short: a new tracker reaches every shop within minutes of a deploy.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
    h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    h.insert(HeaderName::from_static("cross-origin-resource-policy"), HeaderValue::from_static("cross-origin"));
    response
}
