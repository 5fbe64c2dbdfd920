//! The service routers' own guard, which split deployments expose to the gateway: every route
//! but auth's needs the internal key (401 when wrong or missing, 503 when none is configured).

use axum::body::Body;
use axum::http::{Request, StatusCode};
use crow_server::app::internal_router;
use crow_server::services::ServiceName;
use tower::ServiceExt as _;

const KEY: &str = "internal-key-internal-key-internal-key-0001";

async fn status(router: &axum::Router, path: &str, key: Option<&str>) -> (StatusCode, String) {
    let mut request = Request::get(path);
    if let Some(k) = key {
        request = request.header("x-internal-key", k);
    }
    let response = router.clone().oneshot(request.body(Body::empty()).unwrap()).await.unwrap();
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), 4096).await.unwrap();
    (status, String::from_utf8_lossy(&body).into_owned())
}

async fn state(env: &[(&str, &str)]) -> (crow_server::app::AppState, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut vars = vec![("CROW_DATA_DIR".to_owned(), dir.path().display().to_string())];
    vars.extend(env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
    let config = crow_server::Layers::load(None, vars).unwrap().resolve().unwrap();
    (crow_server::app::build_state(config).await.unwrap(), dir)
}

#[tokio::test]
async fn every_guarded_service_refuses_a_missing_or_wrong_key() {
    let (state, _dir) = state(&[("CROW_INTERNAL_GATEWAY_KEY", KEY)]).await;
    let router = internal_router(state, &ServiceName::ALL);
    for service in ServiceName::ALL.iter().filter(|s| s.requires_internal_key()) {
        for segment in service.segments() {
            let path = format!("/api/v1/{segment}/health");
            let (missing, body) = status(&router, &path, None).await;
            assert_eq!(missing, StatusCode::UNAUTHORIZED, "{path}");
            assert!(body.contains("INVALID_INTERNAL_KEY"), "{body}");
            assert_eq!(
                status(&router, &path, Some("wrong-wrong-wrong-wrong-wrong-wrong-wrong")).await.0,
                StatusCode::UNAUTHORIZED
            );
            assert_eq!(status(&router, &path, Some(KEY)).await.0, StatusCode::OK, "{path}");
            // Unknown routes hide behind the key too.
            assert_eq!(status(&router, &format!("/api/v1/{segment}/nope"), None).await.0, StatusCode::UNAUTHORIZED);
        }
    }
    // Auth is reached directly: it is where credentials come from.
    assert_eq!(status(&router, "/api/v1/auth/health", None).await.0, StatusCode::OK);
}

#[tokio::test]
async fn an_unconfigured_key_refuses_everyone() {
    let (state, _dir) =
        state(&[("CROW_ENVIRONMENT", "dev"), ("CROW_AUTH_SECRET", "an-auth-secret-of-at-least-32-characters")]).await;
    let router = internal_router(state, &ServiceName::ALL);
    let (code, body) = status(&router, "/api/v1/users/health", Some(KEY)).await;
    assert_eq!(code, StatusCode::SERVICE_UNAVAILABLE);
    assert!(body.contains("SERVICE_UNAVAILABLE"));
}
