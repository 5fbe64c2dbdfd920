//! Assembling and running the server: data directory, secrets, backends, the router with its
//! middleware stack, the listener, and graceful shutdown.
//!
//! Shutdown order matters: stop accepting and drain in-flight requests (bounded by the grace
//! period), then stop queue consumers after their batch in hand, then close the database.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRef};
use axum::http::Request;
use axum::routing::get;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use crate::backends::{BackendError, Backends};
use crate::config::Config;
use crate::http::error::{method_not_allowed, not_found};
use crate::http::internal_key::{self, InternalKey};
use crate::http::{ApiError, probes};
use crate::runtime::Consumers;
use crate::secrets::{self, SecretsError};
use crate::services::ServiceName;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The data directory cannot be created or written.
    #[error("data directory {path} is not usable: {source}")]
    DataDir {
        /// The directory.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// Local secrets.
    #[error(transparent)]
    Secrets(#[from] SecretsError),
    /// A backend.
    #[error(transparent)]
    Backend(#[from] BackendError),
    /// The listen address.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
}

/// State shared by every handler.
#[derive(Clone, Debug)]
pub struct AppState {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    backends: Backends,
    internal_key: InternalKey,
    shutdown: CancellationToken,
}

impl AppState {
    /// The ports.
    pub fn backends(&self) -> &Backends {
        &self.inner.backends
    }

    /// Whether shutdown has begun.
    pub fn is_shutting_down(&self) -> bool {
        self.inner.shutdown.is_cancelled()
    }
}

impl FromRef<AppState> for InternalKey {
    fn from_ref(state: &AppState) -> Self {
        state.inner.internal_key.clone()
    }
}

/// The full router: process probes, then every hosted service under `/api/v1/{segment}`, each
/// behind the internal-key guard, inside the shared middleware stack.
pub fn router(state: AppState, services: &[ServiceName], max_body_bytes: usize) -> Router {
    let mut app = Router::new()
        .route("/health", get(probes::health))
        .route("/ready", get(probes::ready));
    for service in services {
        for segment in service.segments() {
            let guarded = service
                .router()
                .fallback(not_found)
                .method_not_allowed_fallback(method_not_allowed)
                .layer(axum::middleware::from_fn_with_state(
                    state.clone(),
                    internal_key::require,
                ));
            app = app.nest(&format!("/api/v1/{segment}"), guarded);
        }
    }
    app.fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .layer(CatchPanicLayer::custom(|_| {
            // The panic message may hold request data; it is logged by the panic hook, not sent.
            axum::response::IntoResponse::into_response(ApiError::new(crow_core::ErrorCode::InternalError, "internal error"))
        }))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(
            TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
                let id = request.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
                // The path only: query strings may carry tokens and are not logged.
                tracing::info_span!("request", method = %request.method(), path = %request.uri().path(), request_id = %id)
            }),
        )
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .with_state(state)
}

/// Creates the data directory if needed and proves it writable, so a bad path fails at start with
/// a clear message instead of deep inside SQLite.
pub fn prepare_data_dir(path: &Path) -> Result<(), StartError> {
    let err = |source| StartError::DataDir {
        path: path.to_owned(),
        source,
    };
    std::fs::create_dir_all(path).map_err(err)?;
    let probe = path.join(".write-test");
    std::fs::write(&probe, b"ok").map_err(err)?;
    std::fs::remove_file(&probe).map_err(err)
}

/// A running server.
#[derive(Debug)]
pub struct Server {
    addr: SocketAddr,
    shutdown: CancellationToken,
    task: JoinHandle<()>,
}

impl Server {
    /// Prepares everything, binds the listener and starts serving in the background.
    pub async fn start(mut config: Config) -> Result<Self, StartError> {
        prepare_data_dir(&config.data_dir)?;
        let generated = secrets::ensure_local(&mut config)?;
        if !generated.is_empty() {
            tracing::warn!(
                secrets = ?generated,
                file = %config.data_dir.join("secrets.toml").display(),
                "generated local secrets for this laptop; set CROW_INTERNAL_GATEWAY_KEY and CROW_AUTH_SECRET in shared deployments"
            );
        }
        if config.internal_gateway_key.is_none() {
            tracing::warn!("no internal gateway key configured: service routes answer 503");
        }
        let backends = Backends::embedded(&config.data_dir, config.queue).await?;
        let listener =
            TcpListener::bind(config.listen)
                .await
                .map_err(|source| StartError::Bind {
                    addr: config.listen,
                    source,
                })?;
        let addr = listener.local_addr().map_err(|source| StartError::Bind {
            addr: config.listen,
            source,
        })?;

        let shutdown = CancellationToken::new();
        let state = AppState {
            inner: Arc::new(Inner {
                backends: backends.clone(),
                internal_key: InternalKey::new(config.internal_gateway_key.as_ref()),
                shutdown: shutdown.clone(),
            }),
        };
        let app = router(state, &config.services, config.max_body_bytes);
        // Consumers are registered here by the services that own queues (interactions, …).
        let consumers = Consumers::default();
        let services: Vec<&str> = config.services.iter().map(|s| s.as_str()).collect();
        tracing::info!(%addr, data_dir = %config.data_dir.display(), ?services, "crow-server listening");

        let task = tokio::spawn(serve(
            listener,
            app,
            shutdown.clone(),
            config.shutdown_grace,
            consumers,
            backends,
        ));
        Ok(Self {
            addr,
            shutdown,
            task,
        })
    }

    /// The bound address (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// A token that begins shutdown when cancelled.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Begins shutdown and waits until it completes.
    pub async fn stop(self) {
        self.shutdown.cancel();
        self.wait().await;
    }

    /// Waits until the server has shut down (after the token is cancelled).
    pub async fn wait(self) {
        if let Err(e) = self.task.await {
            tracing::error!(error = %e, "server task failed");
        }
    }
}

async fn serve(
    listener: TcpListener,
    app: Router,
    shutdown: CancellationToken,
    grace: Duration,
    consumers: Consumers,
    backends: Backends,
) {
    let signal = shutdown.clone();
    let server =
        axum::serve(listener, app).with_graceful_shutdown(async move { signal.cancelled().await });
    let drained = async {
        if let Err(e) = server.await {
            tracing::error!(error = %e, "HTTP server failed");
        }
    };
    tokio::pin!(drained);
    // Serve until shutdown begins; then give in-flight requests the grace period.
    tokio::select! {
        () = &mut drained => {}
        () = shutdown.cancelled() => {
            if tokio::time::timeout(grace, &mut drained).await.is_err() {
                tracing::warn!(?grace, "requests still running after the grace period; closing them");
            }
        }
    }
    shutdown.cancel();
    consumers.join().await;
    backends.close().await;
    tracing::info!("crow-server stopped");
}
