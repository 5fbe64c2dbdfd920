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
use axum::routing::get;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::backends::{BackendError, Backends};
use crate::config::{AuthConfig, Config, Environment};
use crate::gateway::Gateway;
use crate::http::edge::App;
use crate::http::error::{method_not_allowed, not_found};
use crate::http::internal_key::{self, InternalKey};
use crate::http::origins::TrustedOrigins;
use crate::http::rate_limit::RateLimiter;
use crate::http::{ApiError, probes};
use crate::runtime::Consumers;
use crate::secrets::{self, SecretsError};
use crate::services::ServiceName;
use crate::services::auth::keys::{KeyError, KeyRing};
use crate::services::auth::password::Hasher;
use crate::services::auth::service::{AuthService, Settings};

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
    /// A secret the hosted services need is not configured.
    #[error("{0} is not configured")]
    MissingSecret(&'static str),
    /// The JWT signing keys.
    #[error(transparent)]
    Keys(#[from] KeyError),
    /// The password hasher.
    #[error("cannot start the password hasher: {0}")]
    Hasher(String),
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
    auth: Arc<AuthService>,
    auth_config: AuthConfig,
    trusted_origins: TrustedOrigins,
    /// `X-Service-API-Key` for internal auth routes (key verification, system tokens).
    service_key: InternalKey,
    auth_limiter: RateLimiter,
    /// Verifies the JWTs the gateway forwards to services.
    verifier: crate::jwt::Verifier,
    organizations: crate::services::organizations::service::Organizations,
    users: crate::services::users::service::Users,
    ingest: crate::services::ingest::service::Ingest,
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

    /// The verifier of service-bound JWTs.
    pub fn verifier(&self) -> &crate::jwt::Verifier {
        &self.inner.verifier
    }

    /// The organizations service.
    pub fn organizations(&self) -> &crate::services::organizations::service::Organizations {
        &self.inner.organizations
    }

    /// The web ingest service.
    pub fn ingest(&self) -> &crate::services::ingest::service::Ingest {
        &self.inner.ingest
    }

    /// The users service.
    pub fn users(&self) -> &crate::services::users::service::Users {
        &self.inner.users
    }

    /// The auth service.
    pub fn auth(&self) -> &AuthService {
        &self.inner.auth
    }

    /// Cookie and origin settings.
    pub fn cookie_settings(&self) -> &AuthConfig {
        &self.inner.auth_config
    }

    /// Origins trusted for state-changing browser requests.
    pub fn trusted_origins(&self) -> &TrustedOrigins {
        &self.inner.trusted_origins
    }

    /// The stricter per-client limit of sign-in, sign-up and key verification.
    pub fn check_auth_rate(&self, peer: SocketAddr) -> Result<(), ApiError> {
        let now = self.inner.backends.clock.now().as_millis();
        self.inner.auth_limiter.check(peer.ip(), now).map_err(|wait| {
            ApiError::new(crow_core::ErrorCode::RateLimited, "too many requests; slow down").retry_after(wait)
        })
    }

    /// Internal auth routes need `X-Service-API-Key` (503 when none is configured).
    pub fn require_service_key(&self, headers: &axum::http::HeaderMap) -> Result<(), ApiError> {
        if !self.inner.service_key.is_configured() {
            return Err(ApiError::new(crow_core::ErrorCode::ServiceUnavailable, "service API key not configured"));
        }
        match headers.get(crate::http::names::X_SERVICE_API_KEY) {
            Some(v) if self.inner.service_key.matches(v.as_bytes()) => Ok(()),
            _ => Err(ApiError::new(crow_core::ErrorCode::Unauthorized, "missing or invalid service API key")),
        }
    }
}

impl FromRef<AppState> for InternalKey {
    fn from_ref(state: &AppState) -> Self {
        state.inner.internal_key.clone()
    }
}

/// The service routers: every hosted service under `/api/v1/{segment}`, each (but auth) behind
/// the internal-key guard. In one process only the gateway calls them; split processes serve
/// them directly to the gateway.
pub fn internal_router(state: AppState, services: &[ServiceName]) -> Router {
    let mut app = Router::new();
    for service in services {
        for segment in service.segments() {
            let routes = service.router(&state).fallback(not_found).method_not_allowed_fallback(method_not_allowed);
            let routes = if service.requires_internal_key() {
                routes.layer(axum::middleware::from_fn_with_state(state.clone(), internal_key::require))
            } else {
                routes
            };
            app = app.nest(&format!("/api/v1/{segment}"), routes);
        }
    }
    app.fallback(not_found).method_not_allowed_fallback(method_not_allowed).with_state(state)
}

/// The public application: process probes and, when this process is the entry point, the
/// gateway in front of every service and the tracker's files; behind the edge (request ids,
/// access spans, panics as JSON 500s, security headers).
pub fn app(state: AppState, services: &[ServiceName], config: &Config) -> App {
    let internal = internal_router(state.clone(), services).layer(DefaultBodyLimit::max(config.max_body_bytes));
    let probes = Router::new()
        .route("/health", get(probes::health))
        .route("/ready", get(probes::ready))
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state.clone());
    if config.gateway.enabled {
        let gateway = Gateway::new(
            state,
            internal,
            services.to_vec(),
            config.internal_gateway_key.clone(),
            config.gateway.clone(),
        );
        // The public entry point also serves the browser tracker.
        let router = probes.route("/sdk/{file}", get(crate::http::sdk::asset)).fallback(not_found);
        App::new(router, Some(Arc::new(gateway)))
    } else {
        // A service process in a split deployment: its routers, for the gateway to call.
        App::new(probes.merge(internal), None)
    }
}

/// The auth service over the embedded store, with its signing keys loaded (or created).
async fn build_auth(config: &Config, backends: &Backends) -> Result<AuthService, StartError> {
    let store = Arc::clone(&backends.auth);
    let secret = config.auth_secret.clone().ok_or(StartError::MissingSecret("auth_secret (CROW_AUTH_SECRET)"))?;
    let keys =
        KeyRing::open(Arc::clone(&store), Arc::clone(&backends.clock), &secret).await.map_err(StartError::Keys)?;
    let hasher = Hasher::new(config.auth.hash_concurrency, config.auth.hash_queue)
        .map_err(|e| StartError::Hasher(e.to_string()))?;
    let settings = Settings {
        public_url: config.auth.public_url.clone(),
        blocked_email_domains: config.auth.blocked_email_domains.clone(),
    };
    Ok(AuthService::new(store, hasher, Arc::new(keys), Arc::clone(&backends.clock), settings))
}

/// Rotates the JWT signing key of the deployment's auth store (the `rotate-signing-key` command).
pub async fn rotate_signing_key(mut config: Config) -> Result<crow_core::id::JwksKeyId, StartError> {
    prepare_data_dir(&config.data_dir)?;
    secrets::ensure_local(&mut config)?;
    let backends = Backends::embedded(&config.data_dir, config.queue).await?;
    let auth = build_auth(&config, &backends).await?;
    let kid = auth.keys().rotate().await?;
    backends.close().await;
    Ok(kid)
}

/// Creates the data directory if needed and proves it writable, so a bad path fails at start with
/// a clear message instead of deep inside SQLite.
pub fn prepare_data_dir(path: &Path) -> Result<(), StartError> {
    let err = |source| StartError::DataDir { path: path.to_owned(), source };
    std::fs::create_dir_all(path).map_err(err)?;
    let probe = path.join(".write-test");
    std::fs::write(&probe, b"ok").map_err(err)?;
    std::fs::remove_file(&probe).map_err(err)
}

/// Prepares the data directory and secrets, opens the backends and builds every service.
async fn assemble(mut config: Config) -> Result<(AppState, Config), StartError> {
    prepare_data_dir(&config.data_dir)?;
    let generated = secrets::ensure_local(&mut config)?;
    if !generated.is_empty() {
        tracing::warn!(
            secrets = ?generated,
            file = %config.data_dir.join("secrets.toml").display(),
            "generated local secrets for this laptop; set CROW_INTERNAL_GATEWAY_KEY, CROW_AUTH_SECRET and CROW_SERVICE_API_KEY in shared deployments"
        );
    }
    if config.internal_gateway_key.is_none() {
        tracing::warn!("no internal gateway key configured: service routes answer 503");
    }
    let backends = Backends::embedded(&config.data_dir, config.queue).await?;
    let auth = Arc::new(build_auth(&config, &backends).await?);
    let state = AppState {
        inner: Arc::new(Inner {
            backends: backends.clone(),
            internal_key: InternalKey::new(config.internal_gateway_key.as_ref()),
            shutdown: CancellationToken::new(),
            auth: Arc::clone(&auth),
            trusted_origins: TrustedOrigins::new(
                &config.auth.trusted_origins,
                config.environment == Environment::Local,
            ),
            service_key: InternalKey::new(config.auth.service_api_key.as_ref()),
            auth_limiter: RateLimiter::new(
                config.auth.rate_per_minute,
                Duration::from_secs(60),
                config.auth.rate_burst,
                100_000,
            ),
            verifier: crate::jwt::Verifier::new(
                Arc::clone(auth.keys()) as Arc<dyn crate::jwt::JwksSource>,
                config.auth.public_url.clone(),
                config.auth.public_url.clone(),
            ),
            organizations: crate::services::organizations::service::Organizations::new(
                Arc::clone(&backends.organizations),
                Arc::clone(&backends.auth),
                Arc::clone(&backends.extractor),
                Arc::clone(&backends.clock),
            ),
            users: crate::services::users::service::Users::new(
                Arc::clone(&backends.auth),
                Arc::clone(&backends.objects),
                Arc::clone(&backends.clock),
            ),
            ingest: crate::services::ingest::service::Ingest::new(
                Arc::clone(&backends.organizations),
                Arc::clone(&backends.interactions),
                Arc::clone(&backends.queue),
                Arc::clone(&backends.clock),
            ),
            auth_config: config.auth.clone(),
        }),
    };
    Ok((state, config))
}

/// The state every handler sees, built from configuration (for tests that drive routers
/// without a listener).
pub async fn build_state(config: Config) -> Result<AppState, StartError> {
    Ok(assemble(config).await?.0)
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
    pub async fn start(config: Config) -> Result<Self, StartError> {
        let (state, config) = assemble(config).await?;
        let listener = TcpListener::bind(config.listen)
            .await
            .map_err(|source| StartError::Bind { addr: config.listen, source })?;
        let addr = listener.local_addr().map_err(|source| StartError::Bind { addr: config.listen, source })?;
        let shutdown = state.inner.shutdown.clone();
        let backends = state.backends().clone();
        let app = app(state, &config.services, &config);
        // Consumers of the services this process hosts.
        let mut consumers = Consumers::default();
        if config.services.contains(&ServiceName::Interactions) {
            let consumer = Arc::new(crate::services::interactions::Consumer::new(
                Arc::clone(&backends.interactions),
                Arc::clone(&backends.web_sessions),
            ));
            consumers.spawn(Arc::clone(&backends.queue), consumer, shutdown.clone());
        }
        if config.services.contains(&ServiceName::Ingest) {
            consumers.spawn_task(crate::services::ingest::sessions::run(
                Arc::clone(&backends.web_sessions),
                Arc::clone(&backends.queue),
                Arc::clone(&backends.clock),
                shutdown.clone(),
            ));
        }
        if config.services.contains(&ServiceName::Organizations) {
            let sync = Arc::new(crate::services::organizations::SyncConsumer::new(Arc::clone(&backends.organizations)));
            consumers.spawn(Arc::clone(&backends.queue), sync, shutdown.clone());
        }
        let services: Vec<&str> = config.services.iter().map(|s| s.as_str()).collect();
        tracing::info!(%addr, data_dir = %config.data_dir.display(), ?services, "crow-server listening");

        let task = tokio::spawn(serve(listener, app, shutdown.clone(), config.shutdown_grace, consumers, backends));
        Ok(Self { addr, shutdown, task })
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
    app: App,
    shutdown: CancellationToken,
    grace: Duration,
    consumers: Consumers,
    backends: Backends,
) {
    let drained = crate::http::serve::serve(listener, app, shutdown.clone());
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
