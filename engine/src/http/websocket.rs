//! The WebSocket handshake on `/app/{key}`: validate it, answer 101, hand the socket to `ws`.

use super::response;
use crate::state::ServerState;
use crate::ws;
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{
    HeaderMap, HeaderValue, CONNECTION, ORIGIN, SEC_WEBSOCKET_ACCEPT, SEC_WEBSOCKET_KEY,
    SEC_WEBSOCKET_VERSION, UPGRADE,
};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use std::net::IpAddr;
use std::sync::Arc;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::Role;
use tokio_tungstenite::WebSocketStream;

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
            let socket = WebSocketStream::from_raw_socket(
                TokioIo::new(upgraded),
                Role::Server,
                Some(config),
            )
            .await;
            ws::serve(socket, app, origin, client, state).await;
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
