//! Starting a server for a test.

use crow_client::Client;
use crow_server::{Layers, Server};
use tempfile::TempDir;

pub const KEY: &str = "test-internal-key-0123456789abcdef0123456789";
pub const SERVICE_KEY: &str = "test-service-key-0123456789abcdef0123456789";
/// A trusted browser origin (localhost is trusted in the local environment).
pub const ORIGIN: &str = "http://localhost:3000";

pub struct Running {
    pub server: Server,
    pub _dir: TempDir,
}

impl Running {
    pub fn client(&self) -> Client {
        Client::new(&format!("http://{}", self.server.local_addr())).unwrap()
    }

    /// A browser-like client on a trusted origin.
    pub fn browser(&self) -> Client {
        self.client().with_origin(ORIGIN)
    }
}

pub async fn start(extra: &[(&str, &str)]) -> Running {
    let dir = tempfile::tempdir().unwrap();
    let mut env = vec![
        ("CROW_LISTEN".to_owned(), "127.0.0.1:0".to_owned()),
        ("CROW_DATA_DIR".to_owned(), dir.path().display().to_string()),
        ("CROW_INTERNAL_GATEWAY_KEY".to_owned(), KEY.to_owned()),
        ("CROW_SERVICE_API_KEY".to_owned(), SERVICE_KEY.to_owned()),
        ("CROW_SHUTDOWN_GRACE_SECS".to_owned(), "2".to_owned()),
        ("CROW_AUTH_RATE_PER_MINUTE".to_owned(), "100000".to_owned()),
        ("CROW_AUTH_RATE_BURST".to_owned(), "100000".to_owned()),
        ("CROW_GATEWAY_RATE_PER_MINUTE".to_owned(), "1000000".to_owned()),
        ("CROW_GATEWAY_RATE_BURST".to_owned(), "1000000".to_owned()),
        ("CROW_GATEWAY_AUTH_RATE_PER_MINUTE".to_owned(), "1000000".to_owned()),
        ("CROW_GATEWAY_AUTH_RATE_BURST".to_owned(), "1000000".to_owned()),
    ];
    env.extend(extra.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
    let config = Layers::load(None, env).unwrap().resolve().unwrap();
    let server = Server::start(config).await.unwrap();
    Running { server, _dir: dir }
}
