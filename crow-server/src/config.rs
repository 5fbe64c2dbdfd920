//! Configuration: embedded defaults → optional TOML file → `CROW_*` environment variables →
//! validation. Every value, whatever its source, is parsed by the one function of its key, so an
//! error always names the key and where the bad value came from (`CROW_LISTEN (environment)`,
//! `listen (crow.toml)`). Secret values are never echoed in errors or logs.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crow_core::ports::queue::RetryPolicy;
use secrecy::SecretString;

use crate::services::ServiceName;

/// Where a configuration value came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// Built in.
    Default,
    /// The TOML file at this path.
    File(PathBuf),
    /// The environment.
    Env,
}

/// A configuration error that names the key at fault.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A value does not parse or breaks a rule.
    #[error("invalid value for {key}: {reason}")]
    Invalid {
        /// The key, as its source spells it (`CROW_LISTEN`, `listen (crow.toml)`).
        key: String,
        /// What is wrong.
        reason: String,
    },
    /// The file has a key this build does not know (often a typo).
    #[error("unknown configuration key `{key}` in {file}")]
    UnknownKey {
        /// The key.
        key: String,
        /// The file.
        file: String,
    },
    /// The file cannot be read or is not TOML.
    #[error("cannot read configuration file {file}: {reason}")]
    File {
        /// The file.
        file: String,
        /// Why.
        reason: String,
    },
}

/// Deployment environment; decides what may be defaulted (local only) and the CORS defaults.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Environment {
    /// A laptop: secrets may be generated, cookies may be non-Secure on localhost.
    Local,
    /// A shared development deployment.
    Dev,
    /// Production.
    Prod,
}

/// Log output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, for log shippers.
    Json,
}

/// Validated configuration.
#[derive(Clone)]
pub struct Config {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Where SQLite, objects and generated secrets live.
    pub data_dir: PathBuf,
    /// Deployment environment.
    pub environment: Environment,
    /// Shared secret the gateway injects as `X-Internal-Key`. `None`: service routes answer 503.
    pub internal_gateway_key: Option<SecretString>,
    /// Root secret of the auth service (session and key-encryption material).
    pub auth_secret: Option<SecretString>,
    /// Which services this process hosts.
    pub services: Vec<ServiceName>,
    /// Log format.
    pub log_format: LogFormat,
    /// `tracing` filter directive, e.g. `info,crow_server=debug`.
    pub log_filter: String,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// How long shutdown waits for requests and consumers to finish.
    pub shutdown_grace: Duration,
    /// Queue retry and lease settings.
    pub queue: RetryPolicy,
    /// Authentication settings.
    pub auth: AuthConfig,
    /// Gateway settings.
    pub gateway: GatewayConfig,
}

/// Gateway settings.
#[derive(Clone, Debug)]
pub struct GatewayConfig {
    /// Requests per minute per client on service routes.
    pub rate_per_minute: u32,
    /// Burst of that limit.
    pub rate_burst: u32,
    /// Requests per minute per client on auth routes (stricter).
    pub auth_rate_per_minute: u32,
    /// Burst of that limit.
    pub auth_rate_burst: u32,
    /// Peers (addresses or CIDR blocks) whose client-IP header is believed.
    pub trusted_proxies: Vec<crate::gateway::client_ip::Cidr>,
    /// The header a trusted proxy puts the client address in.
    pub client_ip_header: String,
    /// How long a service may take before the gateway answers 504.
    pub upstream_timeout: Duration,
    /// Whether this process serves the gateway (off: it serves its service routers directly,
    /// behind the internal key, for a gateway elsewhere).
    pub enabled: bool,
    /// Base URLs of services hosted by other processes.
    pub service_urls: Vec<(ServiceName, String)>,
    /// Services that accept anonymous callers: a request without credentials gets an anonymous
    /// session JWT (one per client address for an hour) instead of a 401. None by default.
    pub anonymous_services: Vec<ServiceName>,
}

/// `SameSite` attribute of the session cookie.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SameSite {
    /// Sent on top-level navigations from other sites (the default).
    Lax,
    /// Never sent cross-site.
    Strict,
    /// Sent cross-site; requires `Secure` (cross-subdomain deployments).
    None,
}

/// Authentication settings.
#[derive(Clone, Debug)]
pub struct AuthConfig {
    /// Public base URL of the API (JWT issuer and audience; decides the cookie's `Secure`).
    pub public_url: String,
    /// Exact origins and `https://*.example.com` patterns trusted for CSRF checks and CORS.
    pub trusted_origins: Vec<String>,
    /// `Domain` of the session cookie (e.g. `.example.com`); `None` for host-only.
    pub cookie_domain: Option<String>,
    /// `SameSite` of the session cookie.
    pub cookie_same_site: SameSite,
    /// Whether the cookie is `Secure`: always, except for `http://localhost` development.
    pub cookie_secure: bool,
    /// Email domains refused at sign-up (consumer mail providers).
    pub blocked_email_domains: Vec<String>,
    /// Shared secret other services send as `X-Service-API-Key` to verify API keys.
    pub service_api_key: Option<SecretString>,
    /// Password hashes computed at once (each takes ~19 MiB and a core for tens of ms).
    pub hash_concurrency: usize,
    /// Hash requests allowed to wait for a slot; beyond that sign-ins are refused with 503.
    pub hash_queue: usize,
    /// Sign-in, sign-up, key verification and system-token requests per minute per client.
    pub rate_per_minute: u32,
    /// Burst allowance of that limit.
    pub rate_burst: u32,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Secrets are shown only as present/absent.
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("data_dir", &self.data_dir)
            .field("environment", &self.environment)
            .field("internal_gateway_key", &self.internal_gateway_key.as_ref().map(|_| "[set]"))
            .field("auth_secret", &self.auth_secret.as_ref().map(|_| "[set]"))
            .field("services", &self.services)
            .field("log_format", &self.log_format)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("public_url", &self.auth.public_url)
            .field("service_api_key", &self.auth.service_api_key.as_ref().map(|_| "[set]"))
            .finish_non_exhaustive()
    }
}

/// One configuration key: its file name, environment name, default and meaning.
struct Key {
    file: &'static str,
    env: &'static str,
    default: Option<&'static str>,
}

/// Every key. README's configuration table documents the same list.
const KEYS: &[Key] = &[
    Key { file: "listen", env: "CROW_LISTEN", default: Some("127.0.0.1:8080") },
    Key { file: "data_dir", env: "CROW_DATA_DIR", default: Some("./crow-data") },
    Key { file: "environment", env: "CROW_ENVIRONMENT", default: Some("local") },
    Key { file: "internal_gateway_key", env: "CROW_INTERNAL_GATEWAY_KEY", default: None },
    Key { file: "auth_secret", env: "CROW_AUTH_SECRET", default: None },
    Key { file: "services", env: "CROW_SERVICES", default: Some("all") },
    Key { file: "log_format", env: "CROW_LOG_FORMAT", default: Some("text") },
    Key { file: "log", env: "CROW_LOG", default: Some("info") },
    Key { file: "max_body_bytes", env: "CROW_MAX_BODY_BYTES", default: Some("1048576") },
    Key { file: "shutdown_grace_secs", env: "CROW_SHUTDOWN_GRACE_SECS", default: Some("30") },
    Key { file: "queue_max_attempts", env: "CROW_QUEUE_MAX_ATTEMPTS", default: Some("5") },
    Key { file: "queue_backoff_ms", env: "CROW_QUEUE_BACKOFF_MS", default: Some("1000") },
    Key { file: "queue_max_backoff_ms", env: "CROW_QUEUE_MAX_BACKOFF_MS", default: Some("300000") },
    Key { file: "queue_visibility_secs", env: "CROW_QUEUE_VISIBILITY_SECS", default: Some("30") },
    Key { file: "public_url", env: "CROW_PUBLIC_URL", default: Some("http://localhost:8080") },
    Key { file: "trusted_origins", env: "CROW_TRUSTED_ORIGINS", default: Some("") },
    Key { file: "cookie_domain", env: "CROW_COOKIE_DOMAIN", default: None },
    Key { file: "cookie_same_site", env: "CROW_COOKIE_SAME_SITE", default: Some("lax") },
    Key {
        file: "blocked_email_domains",
        env: "CROW_BLOCKED_EMAIL_DOMAINS",
        default: Some(
            "gmail.com,yahoo.com,outlook.com,hotmail.com,x.com,live.com,msn.com,icloud.com,me.com,aol.com,yandex.com,mail.com",
        ),
    },
    Key { file: "service_api_key", env: "CROW_SERVICE_API_KEY", default: None },
    Key { file: "password_hash_concurrency", env: "CROW_PASSWORD_HASH_CONCURRENCY", default: Some("0") },
    Key { file: "password_hash_queue", env: "CROW_PASSWORD_HASH_QUEUE", default: Some("64") },
    Key { file: "auth_rate_per_minute", env: "CROW_AUTH_RATE_PER_MINUTE", default: Some("60") },
    Key { file: "auth_rate_burst", env: "CROW_AUTH_RATE_BURST", default: Some("20") },
    Key { file: "gateway_rate_per_minute", env: "CROW_GATEWAY_RATE_PER_MINUTE", default: Some("1200") },
    Key { file: "gateway_rate_burst", env: "CROW_GATEWAY_RATE_BURST", default: Some("300") },
    Key { file: "gateway_auth_rate_per_minute", env: "CROW_GATEWAY_AUTH_RATE_PER_MINUTE", default: Some("120") },
    Key { file: "gateway_auth_rate_burst", env: "CROW_GATEWAY_AUTH_RATE_BURST", default: Some("40") },
    Key { file: "trusted_proxies", env: "CROW_TRUSTED_PROXIES", default: Some("") },
    Key { file: "client_ip_header", env: "CROW_CLIENT_IP_HEADER", default: Some("x-forwarded-for") },
    Key { file: "upstream_timeout_secs", env: "CROW_UPSTREAM_TIMEOUT_SECS", default: Some("30") },
    Key { file: "gateway", env: "CROW_GATEWAY", default: Some("on") },
    Key { file: "service_urls", env: "CROW_SERVICE_URLS", default: Some("") },
    Key { file: "gateway_anonymous_services", env: "CROW_GATEWAY_ANONYMOUS_SERVICES", default: Some("") },
];

/// The raw layers, before parsing. Secret keys' parsers never put the value in an error.
#[derive(Debug, Default)]
pub struct Layers {
    values: BTreeMap<&'static str, (String, Source)>,
}

impl Layers {
    /// Defaults, then the file (if any), then `env` (the process environment in `main`, a map in
    /// tests).
    pub fn load(file: Option<&Path>, env: impl IntoIterator<Item = (String, String)>) -> Result<Self, ConfigError> {
        let mut layers = Self::default();
        for key in KEYS {
            if let Some(default) = key.default {
                layers.values.insert(key.file, (default.to_owned(), Source::Default));
            }
        }
        if let Some(path) = file {
            layers.apply_file(path)?;
        }
        let env: BTreeMap<String, String> = env.into_iter().collect();
        for key in KEYS {
            if let Some(value) = env.get(key.env) {
                layers.values.insert(key.file, (value.clone(), Source::Env));
            }
        }
        Ok(layers)
    }

    fn apply_file(&mut self, path: &Path) -> Result<(), ConfigError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError::File { file: file.clone(), reason: e.to_string() })?;
        let table: toml::Table =
            toml::from_str(&text).map_err(|e| ConfigError::File { file: file.clone(), reason: e.to_string() })?;
        for (name, value) in table {
            let key = KEYS
                .iter()
                .find(|k| k.file == name)
                .ok_or_else(|| ConfigError::UnknownKey { key: name.clone(), file: file.clone() })?;
            let text = match value {
                toml::Value::String(s) => s,
                toml::Value::Integer(i) => i.to_string(),
                toml::Value::Boolean(b) => b.to_string(),
                toml::Value::Array(items) => {
                    let parts: Option<Vec<String>> = items.into_iter().map(|v| v.as_str().map(str::to_owned)).collect();
                    parts
                        .ok_or_else(|| ConfigError::Invalid {
                            key: format!("{name} ({file})"),
                            reason: "expected an array of strings".into(),
                        })?
                        .join(",")
                }
                other => {
                    return Err(ConfigError::Invalid {
                        key: format!("{name} ({file})"),
                        reason: format!("unsupported value type {}", other.type_str()),
                    });
                }
            };
            self.values.insert(key.file, (text, Source::File(path.to_owned())));
        }
        Ok(())
    }

    /// Parses and validates every key.
    pub fn resolve(&self) -> Result<Config, ConfigError> {
        let listen = self.parse("listen", |v| {
            v.parse::<SocketAddr>().map_err(|_| "expected a socket address such as 127.0.0.1:8080".to_owned())
        })?;
        let data_dir = self.parse("data_dir", |v| {
            if v.trim().is_empty() { Err("must not be empty".to_owned()) } else { Ok(PathBuf::from(v)) }
        })?;
        let environment = self.parse("environment", |v| match v {
            "local" => Ok(Environment::Local),
            "dev" => Ok(Environment::Dev),
            "prod" => Ok(Environment::Prod),
            _ => Err("expected one of local, dev, prod".to_owned()),
        })?;
        let secret = |name| self.optional(name, parse_secret);
        let internal_gateway_key = secret("internal_gateway_key")?;
        let auth_secret = secret("auth_secret")?;
        let services = self.parse("services", parse_services)?;
        let log_format = self.parse("log_format", |v| match v {
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            _ => Err("expected text or json".to_owned()),
        })?;
        let log_filter = self.parse("log", |v| Ok(v.to_owned()))?;
        let max_body_bytes = self.parse("max_body_bytes", |v| parse_range(v, 1024, 1 << 30))?;
        let shutdown_grace = Duration::from_secs(self.parse("shutdown_grace_secs", |v| parse_range(v, 0, 3600))?);
        let queue = RetryPolicy {
            max_attempts: self.parse("queue_max_attempts", |v| parse_range(v, 1, 1000))?,
            base_backoff: Duration::from_millis(self.parse("queue_backoff_ms", |v| parse_range(v, 1, 3_600_000))?),
            max_backoff: Duration::from_millis(self.parse("queue_max_backoff_ms", |v| parse_range(v, 1, 86_400_000))?),
            visibility_timeout: Duration::from_secs(
                self.parse("queue_visibility_secs", |v| parse_range(v, 1, 43_200))?,
            ),
        };
        if queue.max_backoff < queue.base_backoff {
            return Err(self.invalid("queue_max_backoff_ms", "must not be below queue_backoff_ms".into()));
        }
        let auth = self.auth_config()?;
        let gateway = GatewayConfig {
            rate_per_minute: self.parse("gateway_rate_per_minute", |v| parse_range(v, 1, 100_000_000))?,
            rate_burst: self.parse("gateway_rate_burst", |v| parse_range(v, 1, 10_000_000))?,
            auth_rate_per_minute: self.parse("gateway_auth_rate_per_minute", |v| parse_range(v, 1, 100_000_000))?,
            auth_rate_burst: self.parse("gateway_auth_rate_burst", |v| parse_range(v, 1, 10_000_000))?,
            trusted_proxies: self.parse("trusted_proxies", |v| {
                v.split(',')
                    .map(str::trim)
                    .filter(|p| !p.is_empty())
                    .map(|p| {
                        crate::gateway::client_ip::Cidr::parse(p)
                            .ok_or_else(|| format!("`{p}` is not an address or CIDR block"))
                    })
                    .collect()
            })?,
            client_ip_header: self.parse("client_ip_header", |v| {
                axum::http::HeaderName::from_bytes(v.as_bytes())
                    .map(|h| h.as_str().to_owned())
                    .map_err(|_| "expected a header name".to_owned())
            })?,
            upstream_timeout: Duration::from_secs(self.parse("upstream_timeout_secs", |v| parse_range(v, 1, 3600))?),
            enabled: self.parse("gateway", |v| match v {
                "on" | "true" => Ok(true),
                "off" | "false" => Ok(false),
                _ => Err("expected on or off".to_owned()),
            })?,
            service_urls: self.parse("service_urls", |v| {
                v.split(',')
                    .map(str::trim)
                    .filter(|p| !p.is_empty())
                    .map(|pair| {
                        let (name, url) = pair.split_once('=').ok_or_else(|| format!("`{pair}` is not service=url"))?;
                        let service =
                            ServiceName::parse(name.trim()).ok_or_else(|| format!("unknown service `{name}`"))?;
                        let url = url.trim().trim_end_matches('/');
                        // Service processes sit on the private network behind the gateway.
                        if !url.starts_with("http://") {
                            return Err(format!("`{url}` is not an http:// URL"));
                        }
                        match url.parse::<axum::http::Uri>() {
                            Ok(uri) if uri.authority().is_some() && uri.query().is_none() => {}
                            _ => return Err(format!("`{url}` is not a base URL (http://host:port[/path])")),
                        }
                        Ok((service, url.to_owned()))
                    })
                    .collect()
            })?,
            anonymous_services: self.parse("gateway_anonymous_services", |v| {
                v.split(',')
                    .map(str::trim)
                    .filter(|p| !p.is_empty())
                    .map(|name| match ServiceName::parse(name) {
                        // Auth routes skip authentication anyway; nothing to allow.
                        Some(ServiceName::Auth) => Err("auth takes no anonymous tokens".to_owned()),
                        Some(service) => Ok(service),
                        None => Err(format!("unknown service `{name}`")),
                    })
                    .collect()
            })?,
        };
        if !gateway.enabled && services.is_empty() {
            return Err(self.invalid("services", "a process without the gateway must host at least one service".into()));
        }
        if environment == Environment::Prod && (internal_gateway_key.is_none() || auth_secret.is_none()) {
            let missing = if internal_gateway_key.is_none() { "internal_gateway_key" } else { "auth_secret" };
            return Err(self.invalid(missing, "must be set when environment is prod".into()));
        }
        Ok(Config {
            listen,
            data_dir,
            environment,
            internal_gateway_key,
            auth_secret,
            services,
            log_format,
            log_filter,
            max_body_bytes,
            shutdown_grace,
            queue,
            auth,
            gateway,
        })
    }

    fn auth_config(&self) -> Result<AuthConfig, ConfigError> {
        let public_url = self.parse("public_url", |v| {
            let uri: axum::http::Uri = v.parse().map_err(|_| "expected an absolute http(s) URL".to_owned())?;
            match (uri.scheme_str(), uri.host()) {
                (Some("http" | "https"), Some(_)) if uri.path() == "/" || uri.path().is_empty() => {
                    Ok(v.trim_end_matches('/').to_owned())
                }
                _ => Err("expected an absolute http(s) URL without a path, e.g. https://api.example.com".to_owned()),
            }
        })?;
        let list =
            |v: &str| v.split(',').map(str::trim).filter(|p| !p.is_empty()).map(str::to_owned).collect::<Vec<_>>();
        let trusted_origins = self.parse("trusted_origins", |v| {
            let origins = list(v);
            match origins.iter().find(|o| crate::http::origins::Pattern::parse(o).is_none()) {
                Some(bad) => {
                    Err(format!("`{bad}` is not an origin (scheme://host[:port]) or https://*.domain pattern"))
                }
                None => Ok(origins),
            }
        })?;
        let cookie_domain = self.optional("cookie_domain", |v| Ok(v.to_owned()))?;
        let cookie_same_site = self.parse("cookie_same_site", |v| match v {
            "lax" => Ok(SameSite::Lax),
            "strict" => Ok(SameSite::Strict),
            "none" => Ok(SameSite::None),
            _ => Err("expected lax, strict or none".to_owned()),
        })?;
        let local_http = public_url.starts_with("http://localhost") || public_url.starts_with("http://127.0.0.1");
        let cookie_secure = !local_http;
        if cookie_same_site == SameSite::None && !cookie_secure {
            return Err(self.invalid(
                "cookie_same_site",
                "none requires an https public_url (browsers drop SameSite=None without Secure)".into(),
            ));
        }
        Ok(AuthConfig {
            public_url,
            trusted_origins,
            cookie_domain,
            cookie_same_site,
            cookie_secure,
            blocked_email_domains: self
                .parse("blocked_email_domains", |v| Ok(list(v).into_iter().map(|d| d.to_lowercase()).collect()))?,
            service_api_key: self.optional("service_api_key", parse_secret)?,
            hash_concurrency: match self.parse("password_hash_concurrency", |v| parse_range(v, 0, 256))? {
                0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
                n => n,
            },
            hash_queue: self.parse("password_hash_queue", |v| parse_range(v, 0, 100_000))?,
            rate_per_minute: self.parse("auth_rate_per_minute", |v| parse_range(v, 1, 10_000_000))?,
            rate_burst: self.parse("auth_rate_burst", |v| parse_range(v, 1, 1_000_000))?,
        })
    }

    fn parse<T>(&self, name: &'static str, f: impl FnOnce(&str) -> Result<T, String>) -> Result<T, ConfigError> {
        let (value, _) = self.values.get(name).ok_or_else(|| self.invalid(name, "is required".into()))?;
        f(value.trim()).map_err(|reason| self.invalid(name, reason))
    }

    fn optional<T>(
        &self,
        name: &'static str,
        f: impl FnOnce(&str) -> Result<T, String>,
    ) -> Result<Option<T>, ConfigError> {
        match self.values.get(name) {
            None => Ok(None),
            Some((value, _)) if value.is_empty() => Ok(None),
            Some((value, _)) => f(value).map(Some).map_err(|reason| self.invalid(name, reason)),
        }
    }

    /// An error naming the key as its source spells it; secret values never appear.
    fn invalid(&self, name: &'static str, reason: String) -> ConfigError {
        let key = KEYS.iter().find(|k| k.file == name);
        let label = match (key, self.values.get(name).map(|(_, s)| s)) {
            (Some(k), Some(Source::Env)) => format!("{} (environment)", k.env),
            (_, Some(Source::File(path))) => format!("{name} ({})", path.display()),
            (Some(k), _) => format!("{} / {name}", k.env),
            (None, _) => name.to_owned(),
        };
        ConfigError::Invalid { key: label, reason }
    }
}

fn parse_range<T: TryFrom<u64>>(v: &str, min: u64, max: u64) -> Result<T, String> {
    let n: u64 = v.parse().map_err(|_| format!("expected a whole number from {min} to {max}"))?;
    if !(min..=max).contains(&n) {
        return Err(format!("{n} is outside {min}..={max}"));
    }
    T::try_from(n).map_err(|_| format!("{n} is too large"))
}

fn parse_secret(v: &str) -> Result<SecretString, String> {
    // Length only: the reason must never contain the value.
    if v.len() < 32 {
        return Err("must be at least 32 characters (generate one with `openssl rand -hex 32`)".to_owned());
    }
    Ok(SecretString::from(v.to_owned()))
}

fn parse_services(v: &str) -> Result<Vec<ServiceName>, String> {
    if v == "all" {
        return Ok(ServiceName::ALL.to_vec());
    }
    if v == "none" {
        // A gateway-only process: every service is reached through `service_urls`.
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for part in v.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let service = ServiceName::parse(part).ok_or_else(|| {
            let known: Vec<&str> = ServiceName::ALL.iter().map(|s| s.as_str()).collect();
            format!("unknown service `{part}`; known: all, {}", known.join(", "))
        })?;
        if !out.contains(&service) {
            out.push(service);
        }
    }
    if out.is_empty() {
        return Err("name at least one service, `all`, or `none` (gateway only)".to_owned());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn defaults_are_the_laptop_setup() {
        let c = Layers::load(None, env(&[])).unwrap().resolve().unwrap();
        assert_eq!(c.listen, "127.0.0.1:8080".parse().unwrap());
        assert_eq!(c.data_dir, PathBuf::from("./crow-data"));
        assert_eq!(c.environment, Environment::Local);
        assert_eq!(c.services, ServiceName::ALL);
        assert!(c.internal_gateway_key.is_none());
    }

    #[test]
    fn env_overrides_file_overrides_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("crow.toml");
        std::fs::write(&file, "listen = \"127.0.0.1:9000\"\nservices = [\"auth\", \"users\"]\nmax_body_bytes = 2048\n")
            .unwrap();
        let c = Layers::load(Some(&file), env(&[("CROW_LISTEN", "0.0.0.0:7000")])).unwrap().resolve().unwrap();
        assert_eq!(c.listen, "0.0.0.0:7000".parse().unwrap());
        assert_eq!(c.services, vec![ServiceName::Auth, ServiceName::Users]);
        assert_eq!(c.max_body_bytes, 2048);
    }

    #[test]
    fn errors_name_the_key_and_source() {
        let err = Layers::load(None, env(&[("CROW_LISTEN", "not-an-address")])).unwrap().resolve().unwrap_err();
        assert!(err.to_string().contains("CROW_LISTEN (environment)"), "{err}");

        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("crow.toml");
        std::fs::write(&file, "queue_max_attempts = 0\n").unwrap();
        let err = Layers::load(Some(&file), env(&[])).unwrap().resolve().unwrap_err();
        assert!(err.to_string().contains("queue_max_attempts ("), "{err}");

        std::fs::write(&file, "lisen = \"x\"\n").unwrap();
        let err = Layers::load(Some(&file), env(&[])).unwrap_err();
        assert!(matches!(err, ConfigError::UnknownKey { ref key, .. } if key == "lisen"), "{err}");

        let err = Layers::load(None, env(&[("CROW_SERVICES", "auth,nope")])).unwrap().resolve().unwrap_err();
        assert!(err.to_string().contains("unknown service `nope`"), "{err}");
    }

    #[test]
    fn gateway_upstreams_and_anonymous_services_are_checked() {
        let resolve = |pairs: &[(&str, &str)]| Layers::load(None, env(pairs)).unwrap().resolve();
        let c = resolve(&[("CROW_GATEWAY_ANONYMOUS_SERVICES", "qna, products")]).unwrap();
        assert_eq!(c.gateway.anonymous_services, vec![ServiceName::Qna, ServiceName::Products]);
        assert!(resolve(&[]).unwrap().gateway.anonymous_services.is_empty(), "none by default");
        for (key, value, reason) in [
            ("CROW_GATEWAY_ANONYMOUS_SERVICES", "auth", "auth takes no anonymous tokens"),
            ("CROW_GATEWAY_ANONYMOUS_SERVICES", "qna,nope", "unknown service `nope`"),
            ("CROW_SERVICE_URLS", "qna=https://q.internal", "not an http:// URL"),
            ("CROW_SERVICE_URLS", "qna=http://bad host", "not a base URL"),
            ("CROW_SERVICE_URLS", "qna=http://q.internal:9000/?x=1", "not a base URL"),
        ] {
            let err = resolve(&[(key, value)]).unwrap_err().to_string();
            assert!(err.contains(reason) && err.contains(key), "{value}: {err}");
        }
    }

    #[test]
    fn short_secrets_are_refused_without_echoing_them() {
        let err = Layers::load(None, env(&[("CROW_AUTH_SECRET", "hunter2")])).unwrap().resolve().unwrap_err();
        let text = err.to_string();
        assert!(text.contains("CROW_AUTH_SECRET"), "{text}");
        assert!(!text.contains("hunter2"), "{text}");
    }

    #[test]
    fn prod_requires_explicit_secrets() {
        let err = Layers::load(None, env(&[("CROW_ENVIRONMENT", "prod")])).unwrap().resolve().unwrap_err();
        assert!(err.to_string().contains("must be set when environment is prod"), "{err}");
    }

    #[test]
    fn debug_output_hides_secrets() {
        let secret = "s".repeat(40);
        let c = Layers::load(None, env(&[("CROW_INTERNAL_GATEWAY_KEY", &secret)])).unwrap().resolve().unwrap();
        assert!(!format!("{c:?}").contains(&secret));
    }
}
