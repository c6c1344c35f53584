//! The WebSocket handshake on `/app/{key}`: validate it, answer 101, hand the socket to `ws`.

use super::response;
use crate::app::App;
use crate::state::ServerState;
use crate::ws;
use crate::ws::transport::{Transport, WriteSide};
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{
    HeaderMap, HeaderValue, CONNECTION, ORIGIN, SEC_WEBSOCKET_ACCEPT, SEC_WEBSOCKET_KEY,
    SEC_WEBSOCKET_VERSION, UPGRADE,
};
use hyper::upgrade::{Parts, Upgraded};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use std::net::IpAddr;
use std::sync::Arc;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

/// Answers a handshake for the app with public key `key` and spawns the socket task.
///
/// An unknown key still gets a socket: it receives `pusher:error` 4001 and a close, which
/// tells pusher-js to stop reconnecting.
pub fn upgrade(
    mut request: Request<Incoming>,
    key: &str,
    client: IpAddr,
    state: Arc<ServerState>,
) -> Response<Full<Bytes>> {
    if request.method() != Method::GET {
        return response::error(
            StatusCode::METHOD_NOT_ALLOWED,
            "Method not allowed: /app/{key} only accepts GET WebSocket handshakes.",
        );
    }
    let Some(accept) = accept_key(request.headers()) else {
        return response::error(
            StatusCode::BAD_REQUEST,
            "Bad request: expected a WebSocket handshake (Upgrade: websocket, Connection: Upgrade, \
             Sec-WebSocket-Version: 13, Sec-WebSocket-Key).",
        );
    };
    let app = state.apps.by_key(key).cloned();
    let origin = request
        .headers()
        .get(ORIGIN)
        .and_then(|value| value.to_str().ok())
        .map(str::to_string);
    let config = ws::socket_config(app.as_deref());
    let on_upgrade = hyper::upgrade::on(&mut request);
    let tasks = state.tasks.clone();
    tasks.spawn(async move {
        if let Ok(upgraded) = on_upgrade.await {
            serve_upgraded(upgraded, config, app, origin, client, state).await;
        }
    });

    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let headers = response.headers_mut();
    headers.insert(UPGRADE, HeaderValue::from_static("websocket"));
    headers.insert(CONNECTION, HeaderValue::from_static("Upgrade"));
    headers.insert(SEC_WEBSOCKET_ACCEPT, accept);
    headers.insert("X-Powered-By", HeaderValue::from_static("reverb-rs"));
    response
}

/// The `Sec-WebSocket-Accept` value, or `None` when the request is not a valid handshake.
fn accept_key(headers: &HeaderMap) -> Option<HeaderValue> {
    let has_token = |name, token: &str| {
        headers.get_all(name).iter().any(|value| {
            value
                .to_str()
                .map(|v| {
                    v.split(',')
                        .any(|part| part.trim().eq_ignore_ascii_case(token))
                })
                .unwrap_or(false)
        })
    };
    if !has_token(UPGRADE, "websocket")
        || !has_token(CONNECTION, "upgrade")
        || headers.get(SEC_WEBSOCKET_VERSION)? != "13"
    {
        return None;
    }
    let key = headers.get(SEC_WEBSOCKET_KEY)?;
    HeaderValue::from_str(&derive_accept_key(key.as_bytes())).ok()
}

/// Runs the WebSocket session on an upgraded connection. A plain TCP socket is split so that
/// senders can write to it directly; a TLS one is written by its own task.
async fn serve_upgraded(
    upgraded: Upgraded,
    config: WebSocketConfig,
    app: Option<Arc<App>>,
    origin: Option<String>,
    client: IpAddr,
    state: Arc<ServerState>,
) {
    let settings = &state.queues;
    match upgraded.downcast::<TokioIo<TcpStream>>() {
        Ok(Parts { io, read_buf, .. }) => {
            // Copied and let go: `read_buf` shares the HTTP server's whole read buffer.
            let already_read = read_buf.to_vec();
            drop(read_buf);
            let (read, write) = io.into_inner().into_split();
            let write = WriteSide::Tcp(write);
            let transport = Transport::new(read, already_read, write, config, settings).await;
            ws::serve(transport, app, origin, client, state).await;
        }
        Err(upgraded) => {
            let (read, write) = tokio::io::split(TokioIo::new(upgraded));
            let write = WriteSide::Stream(Box::new(write));
            let transport = Transport::new(read, Vec::new(), write, config, settings).await;
            ws::serve(transport, app, origin, client, state).await;
        }
    }
}
