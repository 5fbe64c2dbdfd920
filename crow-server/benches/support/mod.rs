//! What the load benchmarks share: a real server on a loopback port over a throwaway data
//! directory, and percentiles of measured latencies.

use std::time::Duration;

/// A running server and the directory it keeps its data in (deleted when dropped).
pub struct Running {
    pub server: crow_server::Server,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    _dir: tempfile::TempDir,
}

/// Starts crow-server (every service, embedded backends, errors-only logging) with `overrides`
/// on top of the defaults — typically limits raised so the benchmark measures capacity, not
/// the rate limiter.
pub async fn start(overrides: &[(&str, &str)]) -> (Running, crow_server::Config) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut env = vec![
        ("CROW_LISTEN".to_owned(), "127.0.0.1:0".to_owned()),
        ("CROW_DATA_DIR".to_owned(), dir.path().display().to_string()),
        ("CROW_LOG".to_owned(), "error".to_owned()),
    ];
    env.extend(overrides.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
    let config = crow_server::Layers::load(None, env).expect("configuration").resolve().expect("configuration");
    let server = crow_server::Server::start(config.clone()).await.expect("the server starts");
    let base = format!("http://{}", server.local_addr());
    (Running { server, base, _dir: dir }, config)
}

/// The `p` quantile (0–1) of `sorted` latencies, in milliseconds.
pub fn percentile_ms(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1e3
}
