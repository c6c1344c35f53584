//! The one listener: HTTP/1.1 with keep-alive, the WebSocket upgrade on `/app/{key}` and `/up`,
//! all under the configured path prefix.

mod api;
mod forwarded;
mod response;
mod websocket;

pub use response::Reply;

use crate::state::ServerState;
use hyper::body::Incoming;
use hyper::header::UPGRADE;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use std::convert::Infallible;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;
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

/// Accepts connections until the server stops.
pub async fn serve(listener: TcpListener, state: Arc<ServerState>) {
    loop {
        let accepted = tokio::select! {
            _ = state.shutdown.cancelled() => return,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, peer)) => {
                let _ = stream.set_nodelay(true);
                state
                    .tasks
                    .spawn(serve_connection(stream, peer.ip(), state.clone()));
            }
            Err(_) => tokio::time::sleep(ACCEPT_ERROR_BACKOFF).await,
        }
    }
}

async fn serve_connection(stream: TcpStream, peer: IpAddr, state: Arc<ServerState>) {
    match state.tls.clone() {
        None => serve_http(stream, peer, state).await,
        Some(acceptor) => {
            let handshake = tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream));
            if let Ok(Ok(stream)) = handshake.await {
                serve_http(stream, peer, state).await;
            }
        }
    }
}

async fn serve_http<S>(stream: S, peer: IpAddr, state: Arc<ServerState>)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service_state = state.clone();
    let service = service_fn(move |request| {
        let state = service_state.clone();
        async move { Ok::<_, Infallible>(route(request, peer, state).await) }
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

async fn route(request: Request<Incoming>, peer: IpAddr, state: Arc<ServerState>) -> Reply {
    let path = request.uri().path().to_string();
    let Some(route) = path.strip_prefix(state.config.path.as_str()) else {
        return response::not_found();
    };
    if let Some(key) = route.strip_prefix("/app/").filter(|key| !key.contains('/')) {
        let client = forwarded::client_ip(peer, request.headers(), &state.config.trusted_proxies);
        return websocket::upgrade(request, key, client, state);
    }
    if request.headers().contains_key(UPGRADE) {
        return response::error(
            StatusCode::BAD_REQUEST,
            "Bad request: WebSocket upgrades are only served on /app/{key}.",
        );
    }
    if route.starts_with("/apps/") || route.starts_with("/users/") {
        return api::serve(request, route, state).await;
    }
    if route == "/up" {
        return health(&state);
    }
    response::not_found()
}

/// `/up`: `{"health":"OK"}` as Reverb answers, plus this node's view of the cluster when
/// scaling is on. A node without Redis still serves its own sockets, so it stays up (200)
/// and says `"redis":"disconnected"`.
fn health(state: &ServerState) -> Reply {
    let mut body = serde_json::json!({"health": "OK"});
    if let Some(status) = state.peers.status() {
        body["scaling"] = serde_json::to_value(status).unwrap_or_default();
    }
    response::json(StatusCode::OK, &body)
}
