//! `/sdk/*`: the browser tracker, embedded in the binary at build time from `crow-web-sdk/dist`
//! (built by `scripts/build-web-sdk.sh`, committed so a plain `cargo run` serves it).
//!
//! Storefronts on any origin load these files (`<script src>`, then a module `import()` and a
//! wasm `fetch`, both CORS requests), so they are public and carry `Access-Control-Allow-Origin:
//! *` without credentials — unlike the API, whose CORS reflects only trusted origins.
//!
//! Every shop page loads the tracker, so it is served the way a CDN would: precompressed at
//! build time (brotli and gzip, chosen by `Accept-Encoding`, 42 KB raw against 17–19 KB on the
//! wire) and revalidated by `ETag` (`304`, no body) once the short cache lifetime has passed.

use std::sync::LazyLock;

use axum::extract::Path;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use crate::http::ApiError;

/// One file of the tracker, as built and in each encoding served.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    /// Indexed by [`Coding`].
    bodies: [&'static [u8]; 3],
}

/// A content coding of an asset, in the order of [`Asset::bodies`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Coding {
    Identity = 0,
    Gzip = 1,
    Brotli = 2,
}

impl Coding {
    /// The `Content-Encoding` value; `None` for identity, which is not declared.
    fn token(self) -> Option<&'static str> {
        match self {
            Coding::Identity => None,
            Coding::Gzip => Some("gzip"),
            Coding::Brotli => Some("br"),
        }
    }
}

macro_rules! asset {
    ($name:literal, $content_type:literal) => {
        Asset {
            name: $name,
            content_type: $content_type,
            bodies: [
                include_bytes!(concat!("../../../crow-web-sdk/dist/", $name)),
                include_bytes!(concat!("../../../crow-web-sdk/dist/", $name, ".gz")),
                include_bytes!(concat!("../../../crow-web-sdk/dist/", $name, ".br")),
            ],
        }
    };
}

static ASSETS: [Asset; 3] = [
    asset!("crow.js", "text/javascript; charset=utf-8"),
    asset!("crow_web_sdk.js", "text/javascript; charset=utf-8"),
    asset!("crow_web_sdk_bg.wasm", "application/wasm"),
];

/// Each asset's entity tags, one per coding (a representation's tag names its coding too, so
/// a cache never answers a gzip request with brotli bytes): the first 128 bits of the
/// SHA-256 of the file as built, hashed once.
static ETAGS: LazyLock<Vec<[HeaderValue; 3]>> = LazyLock::new(|| {
    ASSETS
        .iter()
        .map(|a| {
            let digest = Sha256::digest(a.bodies[Coding::Identity as usize]);
            let hash = hex::encode(&digest[..16]);
            [format!("\"{hash}\""), format!("\"{hash}-gzip\""), format!("\"{hash}-br\"")]
                .map(|tag| HeaderValue::try_from(tag).unwrap_or_else(|_| HeaderValue::from_static("\"\"")))
        })
        .collect()
});

/// `GET /sdk/{file}` (and `HEAD`).
pub async fn asset(Path(file): Path<String>, request: HeaderMap) -> Response {
    let Some(index) = ASSETS.iter().position(|a| a.name == file) else {
        return ApiError::new(crow_core::ErrorCode::NotFound, "no such SDK file").into_response();
    };
    let asset = &ASSETS[index];
    let coding = negotiate(request.get_all(header::ACCEPT_ENCODING).iter().filter_map(|v| v.to_str().ok()));
    let etag = ETAGS[index][coding as usize].clone();
    let fresh = request
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|tags| matches_any(tags, etag.to_str().unwrap_or_default()));

    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (StatusCode::OK, asset.bodies[coding as usize]).into_response()
    };
    let h = response.headers_mut();
    if !fresh {
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static(asset.content_type));
        if let Some(token) = coding.token() {
            h.insert(header::CONTENT_ENCODING, HeaderValue::from_static(token));
        }
    }
    h.insert(header::ETAG, etag);
    h.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    // Fresh for 5 minutes, so a new tracker reaches every shop soon after a deploy; after that a
    // browser that has it runs the cached copy at once and revalidates in the background (a
    // 304 when unchanged), so the tracker never waits on this server on a returning visit.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300, stale-while-revalidate=86400"));
    h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    h.insert(HeaderName::from_static("cross-origin-resource-policy"), HeaderValue::from_static("cross-origin"));
    response
}

/// The coding to send for the `Accept-Encoding` values given (RFC 9110 §12.5.3): the one the
/// client weights highest, brotli before gzip when weighted alike (it is smaller), identity
/// when neither is acceptable or the header is absent.
fn negotiate<'a>(values: impl Iterator<Item = &'a str>) -> Coding {
    // Weights in thousandths, as `qvalue` has three decimals; `None`: not mentioned.
    let (mut br, mut gzip, mut any) = (None, None, None);
    for element in values.flat_map(|v| v.split(',')) {
        let mut parts = element.split(';');
        let name = parts.next().unwrap_or_default().trim();
        let weight = parts.find_map(|p| {
            let (k, v) = p.split_once('=')?;
            k.trim().eq_ignore_ascii_case("q").then(|| qvalue(v.trim()))
        });
        let weight = weight.unwrap_or(Some(1000)).unwrap_or(0);
        if name.eq_ignore_ascii_case("br") {
            br = Some(weight);
        } else if name.eq_ignore_ascii_case("gzip") || name.eq_ignore_ascii_case("x-gzip") {
            gzip = Some(weight);
        } else if name == "*" {
            any = Some(weight);
        }
    }
    let br = br.or(any).unwrap_or(0);
    let gzip = gzip.or(any).unwrap_or(0);
    match (br, gzip) {
        (0, 0) => Coding::Identity,
        (b, g) if b >= g => Coding::Brotli,
        _ => Coding::Gzip,
    }
}

/// A `qvalue` in thousandths: `0`, `1`, `0.5`, `1.000`…; `None` when malformed (the element
/// is then not acceptable, never more acceptable than it said).
fn qvalue(v: &str) -> Option<u16> {
    let (int, frac) = v.split_once('.').unwrap_or((v, ""));
    if frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let thousandths =
        frac.bytes().chain(core::iter::repeat(b'0')).take(3).fold(0u16, |n, b| n * 10 + u16::from(b - b'0'));
    match int {
        "0" => Some(thousandths),
        "1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

/// Whether an `If-None-Match` value names `etag` (weak comparison, RFC 9110 §13.1.2) or is `*`.
fn matches_any(tags: &str, etag: &str) -> bool {
    tags.split(',').map(str::trim).any(|t| t == "*" || t.strip_prefix("W/").unwrap_or(t) == etag)
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    fn pick(accept: &str) -> Coding {
        negotiate([accept].into_iter())
    }

    #[test]
    fn negotiation_follows_the_clients_weights() {
        use Coding::{Brotli, Gzip, Identity};
        let table = [
            ("", Identity),
            ("identity", Identity),
            ("gzip, deflate", Gzip),
            ("gzip, deflate, br, zstd", Brotli),
            ("GZIP", Gzip),
            ("x-gzip", Gzip),
            (" br ; q=0.5 , gzip;q=0.9", Gzip),
            ("br;q=0.9, gzip;q=0.9", Brotli),
            ("br;q=0, gzip", Gzip),
            ("br;Q=0.000, gzip;q=0", Identity),
            ("*", Brotli),
            ("*;q=0", Identity),
            ("gzip;q=0, *", Brotli),
            ("br;q=0, *;q=0.1", Gzip),
            ("br;q=2", Identity),
            ("br;q=0.1234, gzip;q=0.5", Gzip),
            ("br;q=abc", Identity),
            ("deflate, zstd", Identity),
            ("brotli, gzipped", Identity),
        ];
        for (accept, want) in table {
            assert_eq!(pick(accept), want, "Accept-Encoding: {accept:?}");
        }
        // Values spread over several header lines count together.
        assert_eq!(negotiate(["gzip;q=0.5", "br;q=0.4"].into_iter()), Coding::Gzip);
    }

    #[test]
    fn qvalues() {
        for (v, want) in
            [("1", Some(1000)), ("1.000", Some(1000)), ("0", Some(0)), ("0.5", Some(500)), ("0.05", Some(50))]
        {
            assert_eq!(qvalue(v), want, "{v}");
        }
        for v in ["1.001", "2", "0.1234", "-1", "", ".5", "0.x"] {
            assert_eq!(qvalue(v), None, "{v}");
        }
    }

    #[test]
    fn if_none_match() {
        assert!(matches_any("\"a\"", "\"a\""));
        assert!(matches_any("\"x\", W/\"a\"", "\"a\""));
        assert!(matches_any("*", "\"a\""));
        assert!(!matches_any("\"a-gzip\"", "\"a\""));
        assert!(!matches_any("", "\"a\""));
    }

    /// The committed variants are what they claim to be: each decodes to the file as built
    /// (the build writes them, but `dist/` is committed and could be edited by hand).
    #[test]
    fn every_served_variant_decodes_to_the_built_file() {
        for a in &ASSETS {
            let [raw, gz, br] = a.bodies;
            let mut out = Vec::new();
            flate2::read::GzDecoder::new(gz).read_to_end(&mut out).expect("gzip variant decodes");
            assert!(out == raw, "{}.gz differs from {}", a.name, a.name);
            out.clear();
            brotli_decompressor::Decompressor::new(br, 4096).read_to_end(&mut out).expect("brotli variant decodes");
            assert!(out == raw, "{}.br differs from {}", a.name, a.name);
            assert!(gz.len() < raw.len() && br.len() < raw.len(), "{} is not smaller compressed", a.name);
        }
    }

    #[test]
    fn entity_tags_differ_per_coding_and_per_file() {
        let mut all: Vec<_> = ETAGS.iter().flatten().map(|t| t.to_str().unwrap_or_default().to_owned()).collect();
        assert!(all.iter().all(|t| t.len() > 32 && t.starts_with('"') && t.ends_with('"')));
        all.sort();
        all.dedup();
        assert_eq!(all.len(), ASSETS.len() * 3);
    }
}
