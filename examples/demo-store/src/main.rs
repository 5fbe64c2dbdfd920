//! `cargo run -p crow-demo-store`: serves Rogue Store beside a running crow-server.
//!
//! Environment: `CROW_URL` (default `http://localhost:8080`), `STORE_LISTEN` (default
//! `127.0.0.1:4000`), `CROW_KEY` (a publishable key; without one the store signs up
//! `demo@rogue.store` and creates one).

use std::net::SocketAddr;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let crow_url = std::env::var("CROW_URL").unwrap_or_else(|_| "http://localhost:8080".to_owned());
    let listen: SocketAddr = std::env::var("STORE_LISTEN").unwrap_or_else(|_| "127.0.0.1:4000".to_owned()).parse()?;
    let store_origin = format!("http://localhost:{}", listen.port());
    let key = match std::env::var("CROW_KEY") {
        Ok(k) => k,
        Err(_) => {
            let password = std::env::var("DEMO_PASSWORD").unwrap_or_else(|_| "rogue-store-demo-password".to_owned());
            crow_demo_store::setup::shop(&crow_url, &store_origin, "demo@rogue.store", &password, &store_origin)
                .await?
                .key
        }
    };
    let listener = tokio::net::TcpListener::bind(listen).await?;
    eprintln!("Rogue Store on {store_origin} (tracker from {crow_url})");
    axum::serve(listener, crow_demo_store::router(crow_demo_store::Tracker { crow_url, key })).await?;
    Ok(())
}
