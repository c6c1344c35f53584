//! The WebSocket handshake on `/app/{key}`: validate it, answer 101, hand the socket to `ws`.

use super::response::{self, Reply};
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
use hyper::{Method, Request, Response, StatusCode, Version};
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
) -> Reply {
    if request.method() != Method::GET {
        return response::error(
            StatusCode::METHOD_NOT_ALLOWED,
            "Method not allowed: /app/{key} only accepts GET WebSocket handshakes.",
        );
    }
    let accept = match accept_key(request.version(), request.headers()) {
        Ok(accept) => accept,
        Err(refusal) => return refusal.reply(),
    };
    let origin = request
        .headers()
        .get(ORIGIN)
        .and_then(|value| value.to_str().ok())
        .map(str::to_string);
    let on_upgrade = hyper::upgrade::on(&mut request);
    let tasks = state.tasks.clone();
    let key = key.to_string();
    tasks.spawn(async move {
        if let Ok(upgraded) = on_upgrade.await {
            let app = state.app_by_key(&key).await.filter(|app| !app.is_closed());
            let config = ws::socket_config(app.as_deref());
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

/// Why a handshake is refused.
enum Refusal {
    /// Not HTTP/1.1 or later.
    OldHttp,
    /// No `Upgrade: websocket` and `Connection: Upgrade`.
    NotAnUpgrade,
    /// A `Sec-WebSocket-Version` other than 13, or none.
    WrongVersion,
    /// A `Sec-WebSocket-Key` that is not one base64 encoding of 16 bytes.
    BadKey,
}

impl Refusal {
    /// The response that says what was wrong.
    fn reply(self) -> Reply {
        match self {
            // §4.2.1 asks for "an HTTP/1.1 or higher GET request" and §4.2.2 answers a request
            // that is not a valid handshake with 400. Not 505: this server speaks HTTP/1.0 on
            // its other routes, so the version is not unsupported, only too old for an upgrade.
            Refusal::OldHttp => response::error(
                StatusCode::BAD_REQUEST,
                "Bad request: a WebSocket handshake needs HTTP/1.1.",
            ),
            Refusal::NotAnUpgrade => response::error(
                StatusCode::BAD_REQUEST,
                "Bad request: expected a WebSocket handshake (Upgrade: websocket, Connection: \
                 Upgrade, Sec-WebSocket-Version: 13, Sec-WebSocket-Key).",
            ),
            // §4.4: a version the server does not speak gets 426 and the one it speaks.
            Refusal::WrongVersion => {
                let mut reply = response::error(
                    StatusCode::UPGRADE_REQUIRED,
                    "Upgrade required: this server speaks WebSocket version 13 only \
                     (Sec-WebSocket-Version: 13).",
                );
                reply
                    .headers_mut()
                    .insert(SEC_WEBSOCKET_VERSION, HeaderValue::from_static("13"));
                reply
            }
            Refusal::BadKey => response::error(
                StatusCode::BAD_REQUEST,
                "Bad request: Sec-WebSocket-Key must be sent once, the base64 encoding of 16 \
                 bytes.",
            ),
        }
    }
}

/// The `Sec-WebSocket-Accept` value, or why RFC 6455 §4.2.1 does not allow the handshake.
fn accept_key(version: Version, headers: &HeaderMap) -> Result<HeaderValue, Refusal> {
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
    if version < Version::HTTP_11 {
        return Err(Refusal::OldHttp);
    }
    if !has_token(UPGRADE, "websocket") || !has_token(CONNECTION, "upgrade") {
        return Err(Refusal::NotAnUpgrade);
    }
    if headers.get(SEC_WEBSOCKET_VERSION).is_none_or(|v| v != "13") {
        return Err(Refusal::WrongVersion);
    }
    let mut keys = headers.get_all(SEC_WEBSOCKET_KEY).iter();
    let key = match (keys.next(), keys.next()) {
        (Some(key), None) if is_websocket_key(key.as_bytes()) => key,
        _ => return Err(Refusal::BadKey),
    };
    HeaderValue::from_str(&derive_accept_key(key.as_bytes())).map_err(|_| Refusal::BadKey)
}

/// Whether `key` is the base64 of exactly 16 bytes, as §4.1 makes every client send it: 22
/// characters of the base64 alphabet and `==`, written canonically (the last character
/// carries 2 bits of data and 4 zero bits, so it is one of `A`, `Q`, `g`, `w`).
fn is_websocket_key(key: &[u8]) -> bool {
    let is_base64 = |c: &u8| c.is_ascii_alphanumeric() || *c == b'+' || *c == b'/';
    match key {
        [data @ .., last, b'=', b'='] if data.len() == 21 => {
            data.iter().all(is_base64) && matches!(last, b'A' | b'Q' | b'g' | b'w')
        }
        _ => false,
    }
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
