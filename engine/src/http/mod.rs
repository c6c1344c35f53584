//! The two listeners, HTTP/1.1 with keep-alive. The public one serves the WebSocket upgrade on
//! `/app/{key}`, the HTTP API and `/up`, all under the configured path prefix; the metrics
//! one, when metrics are on, serves `/metrics` and nothing else, on an address of its own.
//!
//! - [`api`]: the Pusher HTTP API, a file per route family.
//! - [`websocket`]: the handshake, and the socket handed to `ws`.
//! - [`forwarded`]: the client's address behind trusted proxies.
//! - [`scrape`]: `GET /metrics` on the metrics listener.
//! - [`response`]: the JSON answers.

mod api;
mod forwarded;
mod response;
mod scrape;
mod websocket;

pub use response::Reply;

use crate::metrics::Metrics;
use crate::state::ServerState;
use hyper::body::Incoming;
use hyper::header::UPGRADE;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use std::convert::Infallible;
use std::future::Future;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};

/// How long a client may take to complete a TLS handshake.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a client may take to send a request's headers.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// The largest header section (request line and headers) a request may have. hyper answers
/// a larger one with 431 and closes the connection, as soon as that many bytes arrived
/// without the section's end, rather than buffering more until the header read timeout.
/// Browsers send well under 8 KiB, cookies included. hyper's own cap of 100 header fields
/// stays.
const MAX_HEADER_BYTES: usize = 16 * 1024;

/// How long the accept loop rests after an error such as "too many open files".
const ACCEPT_ERROR_BACKOFF: Duration = Duration::from_millis(50);

/// Serves the public listener until the server stops, counting its requests in `metrics`
/// when they are on.
pub async fn serve(listener: TcpListener, state: Arc<ServerState>, metrics: Option<Arc<Metrics>>) {
    let connection_state = state.clone();
    accept(listener, &state, move |stream, peer| {
        serve_connection(stream, peer, connection_state.clone(), metrics.clone())
    })
    .await;
}

/// Serves the metrics listener until the server stops.
pub async fn serve_metrics(listener: TcpListener, state: Arc<ServerState>, metrics: Arc<Metrics>) {
    let connection_state = state.clone();
    accept(listener, &state, move |stream, _| {
        let metrics = metrics.clone();
        let handle = move |request| std::future::ready(scrape::answer(&request, &metrics));
        serve_http(stream, connection_state.clone(), handle)
    })
    .await;
}

/// Accepts connections until the server stops, each served by `serve` on a task of its own.
async fn accept<F>(
    listener: TcpListener,
    state: &ServerState,
    mut serve: impl FnMut(TcpStream, IpAddr) -> F,
) where
    F: Future<Output = ()> + Send + 'static,
{
    loop {
        let accepted = tokio::select! {
            _ = state.shutdown.cancelled() => return,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, peer)) => {
                let _ = stream.set_nodelay(true);
                state.tasks.spawn(serve(stream, peer.ip()));
            }
            Err(_) => tokio::time::sleep(ACCEPT_ERROR_BACKOFF).await,
        }
    }
}

/// One connection to the public listener, in TLS when the server serves it.
async fn serve_connection(
    stream: TcpStream,
    peer: IpAddr,
    state: Arc<ServerState>,
    metrics: Option<Arc<Metrics>>,
) {
    let handle = {
        let state = state.clone();
        move |request| answer(request, peer, state.clone(), metrics.clone())
    };
    match state.tls.clone() {
        None => serve_http(stream, state, handle).await,
        Some(acceptor) => {
            let handshake = tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream));
            if let Ok(Ok(stream)) = handshake.await {
                serve_http(stream, state, handle).await;
            }
        }
    }
}

/// Answers one request to the public listener and counts it when the metrics are on.
async fn answer(
    request: Request<Incoming>,
    peer: IpAddr,
    state: Arc<ServerState>,
    metrics: Option<Arc<Metrics>>,
) -> Reply {
    let started = metrics.as_ref().map(|_| Instant::now());
    let (route, reply) = route(request, peer, state).await;
    if let (Some(metrics), Some(started)) = (metrics, started) {
        let requests = metrics.requests();
        requests.record(route, reply.status(), started.elapsed());
    }
    reply
}

/// Serves HTTP/1.1 on one connection, each request answered by `handle`, until the client
/// closes it or the server stops (then what is being answered is finished first).
async fn serve_http<S, F>(
    stream: S,
    state: Arc<ServerState>,
    handle: impl Fn(Request<Incoming>) -> F + Send + 'static,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    F: Future<Output = Reply> + Send + 'static,
{
    let service = service_fn(move |request| {
        let reply = handle(request);
        async move { Ok::<_, Infallible>(reply.await) }
    });
    let connection = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT)
        .max_header_size(MAX_HEADER_BYTES)
        .serve_connection(TokioIo::new(stream), service)
        .with_upgrades();
    tokio::pin!(connection);
    tokio::select! {
        _ = connection.as_mut() => {}
        _ = state.shutdown.cancelled() => {
            connection.as_mut().graceful_shutdown();
            let _ = connection.await;
        }
    }
}

/// Answers one request; returns the name of the route it asked for (the metrics' `route`
/// label) with the response.
async fn route(
    request: Request<Incoming>,
    peer: IpAddr,
    state: Arc<ServerState>,
) -> (&'static str, Reply) {
    let path = request.uri().path().to_string();
    let Some(route) = path.strip_prefix(state.config.path.as_str()) else {
        return ("not_found", response::not_found());
    };
    if let Some(key) = route.strip_prefix("/app/").filter(|key| !key.contains('/')) {
        if state.draining.is_cancelled() {
            let refused = response::error(
                StatusCode::SERVICE_UNAVAILABLE,
                "Service unavailable: the server is stopping; connect to another one.",
            );
            return ("websocket", refused);
        }
        let client = forwarded::client_ip(peer, request.headers(), &state.config.trusted_proxies);
        return ("websocket", websocket::upgrade(request, key, client, state));
    }
    if request.headers().contains_key(UPGRADE) {
        let refused = response::error(
            StatusCode::BAD_REQUEST,
            "Bad request: WebSocket upgrades are only served on /app/{key}.",
        );
        return ("not_found", refused);
    }
    if route.starts_with("/apps/") || route.starts_with("/users/") {
        return api::serve(request, route, state).await;
    }
    if route == "/up" {
        return ("up", health(&state));
    }
    ("not_found", response::not_found())
}

/// `/up`: `{"health":"OK"}` as Reverb answers, plus this node's view of the cluster when
/// scaling is on. A node without Redis still serves its own sockets, so it stays up (200)
/// and says `"redis":"disconnected"`. From the moment a stop begins it answers 503
/// `{"health":"stopping"}`, so that a load balancer sends new clients elsewhere before this
/// node closes its sockets.
fn health(state: &ServerState) -> Reply {
    let (status, health) = match state.draining.is_cancelled() {
        false => (StatusCode::OK, "OK"),
        true => (StatusCode::SERVICE_UNAVAILABLE, "stopping"),
    };
    let mut body = serde_json::json!({ "health": health });
    if let Some(cluster) = state.peers.status() {
        body["scaling"] = serde_json::to_value(cluster).unwrap_or_default();
    }
    response::json(status, &body)
}
