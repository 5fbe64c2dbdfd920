//! `crow-server`: run every CROW service in one process (the default) or a subset.
//!
//! ```text
//! crow-server [--config FILE] [--services a,b] [--listen ADDR] [--data-dir DIR]
//! ```
//! Configuration precedence: defaults → file (`--config` or `CROW_CONFIG`) → `CROW_*`
//! environment → flags. Exit status 2 means bad configuration, 1 a failed start.

use std::path::PathBuf;
use std::process::ExitCode;

use crow_server::Server;
use crow_server::config::{Layers, LogFormat};
use tracing_subscriber::EnvFilter;

const USAGE: &str = "usage: crow-server [--config FILE] [--services a,b|all] [--listen ADDR] [--data-dir DIR]
Runs the CROW services (all by default) with embedded storage under ./crow-data.
Every flag has a CROW_* environment variable; see README.md for the full list.";

struct Args {
    config: Option<PathBuf>,
    flags: Vec<(String, String)>,
    rotate_signing_key: bool,
}

#[allow(clippy::print_stdout, reason = "the CLI prints --version")]
fn parse_args() -> Result<Option<Args>, String> {
    let mut args = Args {
        config: std::env::var_os("CROW_CONFIG").map(PathBuf::from),
        flags: Vec::new(),
        rotate_signing_key: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) => (n.to_owned(), Some(v.to_owned())),
            None => (arg.clone(), None),
        };
        let env = match name.as_str() {
            "-h" | "--help" => return Ok(None),
            "-V" | "--version" => {
                println!("crow-server {}", env!("CARGO_PKG_VERSION"));
                std::process::exit(0);
            }
            "rotate-signing-key" => {
                args.rotate_signing_key = true;
                continue;
            }
            "--config" => None,
            "--services" => Some("CROW_SERVICES"),
            "--listen" => Some("CROW_LISTEN"),
            "--data-dir" => Some("CROW_DATA_DIR"),
            other => return Err(format!("unknown argument `{other}`")),
        };
        let value = match inline.or_else(|| it.next()) {
            Some(v) => v,
            None => return Err(format!("{name} needs a value")),
        };
        match env {
            None => args.config = Some(PathBuf::from(value)),
            Some(env) => args.flags.push((env.to_owned(), value)),
        }
    }
    Ok(Some(args))
}

fn main() -> ExitCode {
    match runtime() {
        Ok(runtime) => runtime.block_on(run()),
        Err(e) => {
            eprintln!("crow-server: cannot start the async runtime: {e}");
            ExitCode::from(1)
        }
    }
}

/// The async runtime, with as many worker threads as tokio's `TOKIO_WORKER_THREADS` says (one
/// per core by default). With one thread it is a current-thread runtime: a work-stealing
/// scheduler with a single worker pays for cross-thread coordination it never uses — about
/// 2 µs of CPU per proxied request on the gateway benchmark (README, Performance).
fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    let threads = std::env::var("TOKIO_WORKER_THREADS")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, std::num::NonZero::get));
    let mut builder = if threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
    } else {
        tokio::runtime::Builder::new_multi_thread()
    };
    builder.enable_all().build()
}

#[allow(clippy::print_stdout, reason = "the CLI prints --help and --version")]
async fn run() -> ExitCode {
    let args = match parse_args() {
        Ok(Some(args)) => args,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("crow-server: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    // Flags are applied after the environment, so they win.
    let env = std::env::vars().chain(args.flags);
    let config = match Layers::load(args.config.as_deref(), env).and_then(|layers| layers.resolve()) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("crow-server: configuration error: {e}");
            return ExitCode::from(2);
        }
    };
    init_logging(config.log_format, &config.log_filter);
    if args.rotate_signing_key {
        return match crow_server::app::rotate_signing_key(config).await {
            Ok(kid) => {
                println!("new signing key {kid}; the previous key stays published until its tokens expire");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("crow-server: cannot rotate the signing key: {}", crow_server::http::error::chain(&e));
                ExitCode::from(1)
            }
        };
    }

    let server = match Server::start(config).await {
        Ok(server) => server,
        Err(e) => {
            tracing::error!(error = %crow_server::http::error::chain(&e), "cannot start");
            eprintln!("crow-server: cannot start: {}", crow_server::http::error::chain(&e));
            return ExitCode::from(1);
        }
    };
    let token = server.shutdown_token();
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("shutdown signal received; draining");
        token.cancel();
    });
    server.wait().await;
    ExitCode::SUCCESS
}

fn init_logging(format: LogFormat, filter: &str) {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder.json().flatten_event(true).init(),
        LogFormat::Text => builder.init(),
    }
}

async fn wait_for_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}
