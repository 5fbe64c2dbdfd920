//! The binary's start-up contract: bad configuration exits 2 naming the key; an unusable data
//! directory exits 1 with a clear message.

use std::process::Command;

fn crow_server() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_crow-server"));
    // A clean environment: only what each test sets.
    cmd.env_clear().env("PATH", std::env::var_os("PATH").unwrap_or_default());
    cmd
}

#[test]
fn malformed_config_value_exits_non_zero_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let out =
        crow_server().env("CROW_DATA_DIR", dir.path()).env("CROW_LISTEN", "localhost-ish:99999").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("CROW_LISTEN"), "{stderr}");

    let out = crow_server().env("CROW_QUEUE_MAX_ATTEMPTS", "many").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("CROW_QUEUE_MAX_ATTEMPTS"));
}

#[test]
fn bad_config_file_key_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("crow.toml");
    std::fs::write(&file, "max_body_bytes = \"lots\"\n").unwrap();
    let out = crow_server().arg("--config").arg(&file).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("max_body_bytes") && stderr.contains("crow.toml"), "{stderr}");
}

#[test]
fn unknown_flag_exits_2() {
    let out = crow_server().arg("--frobnicate").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--frobnicate"));
}

#[test]
fn unusable_data_directory_is_a_clear_error() {
    // A regular file where a directory should be: fails even for root, unlike permission bits.
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("not-a-dir");
    std::fs::write(&blocker, b"file").unwrap();
    let data_dir = blocker.join("crow-data");
    let out = crow_server().env("CROW_DATA_DIR", &data_dir).env("CROW_LISTEN", "127.0.0.1:0").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("data directory") && stderr.contains("not usable"), "{stderr}");
    assert!(stderr.contains(&data_dir.display().to_string()), "{stderr}");
}

#[test]
fn sigterm_drains_and_exits_cleanly() {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::TcpStream;
    use std::process::Stdio;

    let dir = tempfile::tempdir().unwrap();
    let mut child = crow_server()
        .env("CROW_DATA_DIR", dir.path())
        .env("CROW_LISTEN", "127.0.0.1:0")
        .env("CROW_LOG_FORMAT", "json")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    // The listening line carries the bound address.
    let addr = loop {
        let line = lines.next().expect("server exited before listening").unwrap();
        let event: serde_json::Value = serde_json::from_str(&line).unwrap_or_default();
        if event["message"] == "crow-server listening" {
            break event["addr"].as_str().unwrap().to_owned();
        }
    };
    let mut stream = TcpStream::connect(&addr).unwrap();
    stream.write_all(b"GET /ready HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");

    let status = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status().unwrap();
    assert!(status.success());
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let exit = child.wait().unwrap();
    assert_eq!(exit.code(), Some(0), "{rest:?}");
    assert!(rest.iter().any(|l| l.contains("crow-server stopped")), "{rest:?}");
}

#[test]
fn rotate_signing_key_command_adds_a_key() {
    let dir = tempfile::tempdir().unwrap();
    let run = || crow_server().env("CROW_DATA_DIR", dir.path()).arg("rotate-signing-key").output().unwrap();
    let first = run();
    assert_eq!(first.status.code(), Some(0), "{}", String::from_utf8_lossy(&first.stderr));
    let second = run();
    let a = String::from_utf8_lossy(&first.stdout).to_string();
    let b = String::from_utf8_lossy(&second.stdout).to_string();
    assert!(a.starts_with("new signing key ") && b.starts_with("new signing key "), "{a} {b}");
    assert_ne!(a, b, "each rotation makes a new key");
}
