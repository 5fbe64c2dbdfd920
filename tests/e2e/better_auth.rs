//! The official Better Auth client (npm `better-auth` 1.7.5 with its organization, jwt and
//! api-key client plugins) drives the auth service under Node. `scripts/test.sh` installs the
//! pinned packages into `tests/better-auth/node_modules` (`npm ci`).

use std::path::PathBuf;
use std::process::Command;

use crate::support::{SERVICE_KEY, start};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn official_client_works_unchanged() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("better-auth");
    assert!(
        dir.join("node_modules/better-auth").is_dir(),
        "Better Auth is not installed: run `bash scripts/test.sh` (it runs `npm ci` in {})",
        dir.display()
    );
    let app = start(&[]).await;
    let url = format!("http://{}", app.server.local_addr());
    let output = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg("--test")
            .arg("client.test.mjs")
            .current_dir(&dir)
            .env("CROW_URL", url)
            .env("CROW_SERVICE_API_KEY", SERVICE_KEY)
            .output()
    })
    .await
    .unwrap()
    .expect("node runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "Better Auth client test failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("# pass 1") && stdout.contains("# fail 0"), "{stdout}");
    app.server.stop().await;
}
