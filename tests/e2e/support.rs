//! Starting a server for a test.

use crow_client::Client;
use crow_server::{Layers, Server};
use tempfile::TempDir;

pub const KEY: &str = "test-internal-key-0123456789abcdef0123456789";
pub const SERVICE_KEY: &str = "test-service-key-0123456789abcdef0123456789";
/// A trusted browser origin (localhost is trusted in the local environment).
pub const ORIGIN: &str = "http://localhost:3000";

pub struct Running {
    /// The server clients talk to (the gateway).
    pub server: Server,
    /// Service processes behind it, in a split deployment.
    pub behind: Vec<Server>,
    pub _dir: TempDir,
}

/// How the services are deployed for a test.
#[derive(Clone, Copy, Debug)]
pub enum Mode {
    /// One process: gateway and every service.
    OneProcess,
    /// Three processes: auth + users + organizations; every other service; the gateway.
    Split,
}

impl Running {
    /// Stops every process of the deployment.
    pub async fn stop(self) {
        self.server.stop().await;
        for s in self.behind {
            s.stop().await;
        }
    }

    pub fn client(&self) -> Client {
        Client::new(&format!("http://{}", self.server.local_addr())).unwrap()
    }

    /// A browser-like client on a trusted origin.
    pub fn browser(&self) -> Client {
        self.client().with_origin(ORIGIN)
    }
}

fn base_env(dir: &std::path::Path) -> Vec<(String, String)> {
    vec![
        ("CROW_LISTEN".to_owned(), "127.0.0.1:0".to_owned()),
        ("CROW_DATA_DIR".to_owned(), dir.display().to_string()),
        ("CROW_INTERNAL_GATEWAY_KEY".to_owned(), KEY.to_owned()),
        ("CROW_SERVICE_API_KEY".to_owned(), SERVICE_KEY.to_owned()),
        ("CROW_SHUTDOWN_GRACE_SECS".to_owned(), "2".to_owned()),
        ("CROW_AUTH_RATE_PER_MINUTE".to_owned(), "100000".to_owned()),
        ("CROW_AUTH_RATE_BURST".to_owned(), "100000".to_owned()),
        ("CROW_GATEWAY_RATE_PER_MINUTE".to_owned(), "1000000".to_owned()),
        ("CROW_GATEWAY_RATE_BURST".to_owned(), "1000000".to_owned()),
        ("CROW_GATEWAY_AUTH_RATE_PER_MINUTE".to_owned(), "1000000".to_owned()),
        ("CROW_GATEWAY_AUTH_RATE_BURST".to_owned(), "1000000".to_owned()),
    ]
}

async fn server(dir: &TempDir, layers: &[(&str, &str)], extra: &[(&str, &str)]) -> Server {
    server_at(dir.path(), layers, extra).await
}

/// A one-process server on `dir` (reused across restarts); `extra` may fix `CROW_LISTEN`.
pub async fn server_at(dir: &std::path::Path, layers: &[(&str, &str)], extra: &[(&str, &str)]) -> Server {
    let mut env = base_env(dir);
    env.extend(layers.iter().chain(extra).map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
    Server::start(Layers::load(None, env).unwrap().resolve().unwrap()).await.unwrap()
}

/// One process with every service.
pub async fn start(extra: &[(&str, &str)]) -> Running {
    start_in(Mode::OneProcess, extra).await
}

/// A deployment in `mode`; `extra` configures every process.
pub async fn start_in(mode: Mode, extra: &[(&str, &str)]) -> Running {
    let dir = tempfile::tempdir().unwrap();
    match mode {
        Mode::OneProcess => Running { server: server(&dir, &[], extra).await, behind: Vec::new(), _dir: dir },
        Mode::Split => {
            let core =
                server(&dir, &[("CROW_GATEWAY", "off"), ("CROW_SERVICES", "auth,users,organizations")], extra).await;
            let rest: Vec<&str> = crow_server::services::ServiceName::ALL
                .iter()
                .map(|s| s.as_str())
                .filter(|s| !["auth", "users", "organizations"].contains(s))
                .collect();
            let rest_services = rest.join(",");
            let others =
                server(&dir, &[("CROW_GATEWAY", "off"), ("CROW_SERVICES", rest_services.as_str())], extra).await;
            let urls: Vec<String> = crow_server::services::ServiceName::ALL
                .iter()
                .map(|s| {
                    let addr = if ["auth", "users", "organizations"].contains(&s.as_str()) {
                        core.local_addr()
                    } else {
                        others.local_addr()
                    };
                    format!("{}=http://{addr}", s.as_str())
                })
                .collect();
            let urls = urls.join(",");
            let gateway = server(&dir, &[("CROW_SERVICES", "none"), ("CROW_SERVICE_URLS", urls.as_str())], extra).await;
            Running { server: gateway, behind: vec![core, others], _dir: dir }
        }
    }
}

/// A signed-up user who created an organization, once the organizations service has its record
/// (the sync runs through the outbox): the user's browser client and the organization's id.
pub async fn tenant(app: &Running, name: &str, email: &str, slug: &str) -> (Client, crow_core::OrganizationId) {
    let token = app.browser().sign_up(name, email, "correct horse battery").await.unwrap().token;
    let browser = app.browser().with_session(token);
    let org = browser.create_organization(name, slug).await.unwrap().organization.id;
    let service = app.client().with_internal_key(KEY);
    for _ in 0..100 {
        if service.organization_by_auth_id(&org.to_string()).await.is_ok() {
            return (browser, org);
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("organization {org} was not synced");
}
