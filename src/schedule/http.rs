//! The daemon's HTTP endpoints: `/metrics` (Prometheus text of every series this process
//! knows) and `/healthz` (200 while the scheduling loop turns, 503 when it has stalled).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use chrono::Utc;
use http_body_util::Full;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::info;

use super::health::Health;
use crate::notify::registry;
use crate::{Error, Result};

/// The loop makes a pass every minute plus up to 20 s of jitter; three minutes without one
/// means it is stuck.
const STALL_SECONDS: i64 = 180;

fn respond(status: StatusCode, content_type: &str, body: String) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", content_type)
        .body(Full::new(Bytes::from(body)))
        .expect("valid response")
}

fn health_response(health: &Mutex<Health>) -> Response<Full<Bytes>> {
    let h = health.lock().unwrap_or_else(|e| e.into_inner());
    let now = Utc::now();
    // Before the first pass ends, the start time counts.
    let beat = h.last_pass.or(h.started_at).unwrap_or(now);
    let age = (now - beat).num_seconds();
    let ok = age <= STALL_SECONDS;
    let mut running: Vec<String> = h.running.iter().map(|p| p.display().to_string()).collect();
    running.sort();
    let body = serde_json::json!({
        "status": if ok { "ok" } else { "stalled" },
        "started_at": h.started_at,
        "last_pass": h.last_pass,
        "seconds_since_last_pass": age,
        "running": running,
    });
    respond(
        if ok {
            StatusCode::OK
        } else {
            StatusCode::SERVICE_UNAVAILABLE
        },
        "application/json",
        format!("{body}\n"),
    )
}

fn route(req: &Request<hyper::body::Incoming>, health: &Mutex<Health>) -> Response<Full<Bytes>> {
    match (req.method(), req.uri().path()) {
        (&hyper::Method::GET, "/metrics") => respond(
            StatusCode::OK,
            "text/plain; version=0.0.4; charset=utf-8",
            registry::render(),
        ),
        (&hyper::Method::GET, "/healthz") => health_response(health),
        _ => respond(
            StatusCode::NOT_FOUND,
            "text/plain",
            "not found: try /metrics or /healthz\n".into(),
        ),
    }
}

/// Binds `addr` and serves until `cancel`.
///
/// # Errors
/// When the address cannot be bound (in use, not local, no permission).
pub async fn serve(
    addr: SocketAddr,
    health: Arc<Mutex<Health>>,
    cancel: CancellationToken,
) -> Result<JoinHandle<()>> {
    let listener = TcpListener::bind(addr).await.map_err(|e| {
        Error::preflight(format!("cannot listen on {addr}: {e}"))
            .hint("choose a free address with --listen, e.g. --listen 0.0.0.0:9187")
    })?;
    let bound = listener.local_addr().unwrap_or(addr);
    info!(address = %bound, "Serving /metrics and /healthz.");
    Ok(tokio::spawn(async move {
        loop {
            let stream = tokio::select! {
                s = listener.accept() => match s {
                    Ok((s, _)) => s,
                    Err(_) => continue,
                },
                () = cancel.cancelled() => break,
            };
            let health = health.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |req| {
                    let resp = route(&req, &health);
                    async move { Ok::<_, Infallible>(resp) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    }))
}
