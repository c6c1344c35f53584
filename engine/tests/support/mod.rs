//! Helpers for the socket-level tests: start a server on a free port, connect a real
//! WebSocket client, and wait for frames, closes and engine events with bounded timeouts.

#![allow(dead_code)]

use futures_util::{SinkExt, StreamExt};
use hmac::{Hmac, Mac};
use reverb_engine::{Config, EngineEvent, Server};
use serde_json::{json, Value};
use sha2::Sha256;
use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::{HeaderName, HeaderValue};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

/// Lowercase hex HMAC-SHA256 of `message` with `secret`: how Pusher signs everything.
pub fn sign(secret: &str, message: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(message.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// How long any single wait (a frame, a close, an event) may take before the test fails.
pub const TIMEOUT: Duration = Duration::from_secs(5);

/// Awaits `future`, failing the test with `what` if it takes longer than [`TIMEOUT`].
pub async fn within<T>(what: &str, future: impl Future<Output = T>) -> T {
    match tokio::time::timeout(TIMEOUT, future).await {
        Ok(value) => value,
        Err(_) => panic!("timed out after {TIMEOUT:?} waiting for {what}"),
    }
}

/// An app entry for `apps.apps[]`, with `overrides` merged over the defaults.
pub fn app(app_id: &str, key: &str, overrides: Value) -> Value {
    let mut app = json!({
        "app_id": app_id,
        "key": key,
        "secret": format!("{key}-secret"),
        "allowed_origins": ["*"],
        "ping_interval": 60,
        "activity_timeout": 30,
        "max_message_size": 10_000,
        "accept_client_events_from": "members",
    });
    if let (Value::Object(app), Value::Object(overrides)) = (&mut app, overrides) {
        app.extend(overrides);
    }
    app
}

/// Starts a server on 127.0.0.1 with a free port serving `apps`.
pub fn start(apps: Vec<Value>) -> Server {
    start_with(json!({}), apps)
}

/// Like [`start`], with `server` merged over the `servers.reverb` defaults.
pub fn start_with(server: Value, apps: Vec<Value>) -> Server {
    let mut reverb = json!({"host": "127.0.0.1", "port": 0, "workers": 2});
    if let (Value::Object(reverb), Value::Object(server)) = (&mut reverb, server) {
        reverb.extend(server);
    }
    let value = json!({
        "servers": {"reverb": reverb},
        "apps": {"apps": apps},
    });
    let config = Config::from_value(&value).expect("test config is valid");
    Server::start(config).expect("server starts")
}

/// Starts a server with a single app `app-1` / `key-1` and the given overrides.
pub fn start_one(overrides: Value) -> Server {
    start(vec![app("app-1", "key-1", overrides)])
}

/// A WebSocket client talking to the server under test.
pub struct Client {
    ws: WebSocketStream<TcpStream>,
}

impl Client {
    /// Opens a WebSocket to `/app/{key}` without reading anything yet.
    pub async fn open(addr: SocketAddr, key: &str) -> Client {
        Client::open_with_origin(addr, key, None).await
    }

    /// Opens a WebSocket to `/app/{key}`, sending `origin` as the `Origin` header if given.
    pub async fn open_with_origin(addr: SocketAddr, key: &str, origin: Option<&str>) -> Client {
        let headers: Vec<(&str, &str)> = origin.map(|o| ("Origin", o)).into_iter().collect();
        Client::open_with_headers(addr, key, &headers).await
    }

    /// Opens a WebSocket to `/app/{key}` with extra handshake headers.
    pub async fn open_with_headers(
        addr: SocketAddr,
        key: &str,
        headers: &[(&str, &str)],
    ) -> Client {
        let url = format!("ws://{addr}/app/{key}?protocol=7&client=js&version=8.4.0");
        let mut request = url.into_client_request().expect("valid request");
        for (name, value) in headers {
            request.headers_mut().insert(
                HeaderName::from_bytes(name.as_bytes()).expect("valid header name"),
                HeaderValue::from_str(value).expect("valid header value"),
            );
        }
        let ws = within("the WebSocket handshake", async {
            let stream = TcpStream::connect(addr).await.expect("tcp connect");
            let (ws, response) = tokio_tungstenite::client_async(request, stream)
                .await
                .expect("websocket handshake");
            assert_eq!(response.status(), 101);
            ws
        })
        .await;
        Client { ws }
    }

    /// Connects to `/app/{key}` and waits for `pusher:connection_established`; returns the
    /// client and its socket id.
    pub async fn connect(addr: SocketAddr, key: &str) -> (Client, String) {
        let mut client = Client::open(addr, key).await;
        let socket_id = client.established().await;
        (client, socket_id)
    }

    /// Waits for `pusher:connection_established` and returns the socket id.
    pub async fn established(&mut self) -> String {
        let frame = self.expect_event("pusher:connection_established").await;
        let data = decode_data(&frame);
        data["socket_id"]
            .as_str()
            .expect("socket_id is a string")
            .to_string()
    }

    /// Sends a text frame.
    pub async fn send_text(&mut self, text: &str) {
        within("sending a frame", self.ws.send(Message::text(text)))
            .await
            .expect("send text");
    }

    /// Sends a JSON value as a text frame.
    pub async fn send_json(&mut self, value: Value) {
        self.send_text(&value.to_string()).await;
    }

    /// Sends a raw WebSocket message (control frames included).
    pub async fn send_message(&mut self, message: Message) {
        within("sending a message", self.ws.send(message))
            .await
            .expect("send message");
    }

    /// The next message of any kind, or `None` when the stream ended.
    pub async fn next_message(&mut self) -> Option<Message> {
        match within("the next WebSocket message", self.ws.next()).await {
            Some(Ok(message)) => Some(message),
            Some(Err(error)) => panic!("WebSocket error while reading: {error}"),
            None => None,
        }
    }

    /// The next text frame parsed as JSON, skipping control frames. Panics on close.
    pub async fn next_json(&mut self) -> Value {
        loop {
            match self.next_message().await {
                Some(Message::Text(text)) => {
                    return serde_json::from_str(text.as_str())
                        .unwrap_or_else(|e| panic!("server sent invalid JSON {text:?}: {e}"))
                }
                Some(Message::Ping(_) | Message::Pong(_)) => continue,
                other => panic!("expected a text frame, got {other:?}"),
            }
        }
    }

    /// The next text frame, asserted to carry `event`.
    pub async fn expect_event(&mut self, event: &str) -> Value {
        let frame = self.next_json().await;
        assert_eq!(frame["event"], event, "unexpected frame {frame}");
        frame
    }

    /// The next frame, asserted to be `pusher:error` with `code`; returns the decoded data.
    pub async fn expect_error(&mut self, code: u64) -> Value {
        let frame = self.expect_event("pusher:error").await;
        let data = decode_data(&frame);
        assert_eq!(data["code"], code, "unexpected error {frame}");
        data
    }

    /// Reads until a close frame arrives (skipping control frames) and returns its code and
    /// reason. Panics if a text frame or the end of the stream comes first.
    pub async fn expect_close(&mut self) -> (u16, String) {
        loop {
            match self.next_message().await {
                Some(Message::Close(Some(frame))) => {
                    return (u16::from(frame.code), frame.reason.as_str().to_string())
                }
                Some(Message::Close(None)) => panic!("close frame without a code"),
                Some(Message::Ping(_) | Message::Pong(_)) => continue,
                other => panic!("expected a close frame, got {other:?}"),
            }
        }
    }

    /// Sends `pusher:ping` and waits for `pusher:pong`: proves the socket is still served and
    /// that everything sent before was handled (frames are handled in order).
    pub async fn ping_pong(&mut self) {
        self.send_json(json!({"event": "pusher:ping", "data": {}}))
            .await;
        let frame = self.expect_event("pusher:pong").await;
        assert_eq!(frame, json!({"event": "pusher:pong"}));
    }

    /// Subscribes to a public channel and waits for the confirmation.
    pub async fn subscribe(&mut self, channel: &str) {
        self.send_json(json!({"event": "pusher:subscribe", "data": {"channel": channel}}))
            .await;
        let frame = self
            .expect_event("pusher_internal:subscription_succeeded")
            .await;
        assert_eq!(frame["channel"], channel);
    }

    /// Unsubscribes and waits until the server has handled it.
    pub async fn unsubscribe(&mut self, channel: &str) {
        self.send_json(json!({"event": "pusher:unsubscribe", "data": {"channel": channel}}))
            .await;
        self.ping_pong().await;
    }

    /// Starts the close handshake with a normal close and waits for the stream to end.
    pub async fn close(mut self) {
        let _ = within("sending a close", self.ws.close(None)).await;
        within("the end of the stream", async {
            while let Some(Ok(_)) = self.ws.next().await {}
        })
        .await;
    }
}

/// Decodes the double-encoded `data` string of a frame.
pub fn decode_data(frame: &Value) -> Value {
    let data = frame["data"]
        .as_str()
        .unwrap_or_else(|| panic!("data of {frame} is not a string"));
    serde_json::from_str(data).unwrap_or_else(|e| panic!("data of {frame} is not JSON: {e}"))
}

/// Keeps draining engine events until `done` holds for everything drained so far, or fails
/// after [`TIMEOUT`]. Returns everything drained.
pub async fn events_until(
    server: &Server,
    done: impl Fn(&[EngineEvent]) -> bool,
) -> Vec<EngineEvent> {
    let mut seen = Vec::new();
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    loop {
        seen.extend(server.drain());
        if done(&seen) {
            return seen;
        }
        if tokio::time::Instant::now() >= deadline {
            panic!("timed out waiting for engine events; got {seen:#?}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Polls `server.stats()` until `done` holds for app `app_id`, or fails after [`TIMEOUT`].
pub async fn stats_until(
    server: &Server,
    app_id: &str,
    done: impl Fn(&reverb_engine::AppStats) -> bool,
) -> reverb_engine::AppStats {
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    loop {
        let stats = server.stats()[app_id].clone();
        if done(&stats) {
            return stats;
        }
        if tokio::time::Instant::now() >= deadline {
            panic!("timed out waiting for stats of {app_id}; last {stats:?}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Sends a raw HTTP/1.1 request (the server closes after it) and returns status and body.
pub async fn http_get(addr: SocketAddr, path: &str) -> (u16, String) {
    within("an HTTP response", async {
        let mut stream = TcpStream::connect(addr).await.expect("tcp connect");
        let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
        stream
            .write_all(request.as_bytes())
            .await
            .expect("write request");
        let mut response = Vec::new();
        stream
            .read_to_end(&mut response)
            .await
            .expect("read response");
        let response = String::from_utf8(response).expect("UTF-8 response");
        let (head, body) = response
            .split_once("\r\n\r\n")
            .unwrap_or_else(|| panic!("no header end in {response:?}"));
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|code| code.parse().ok())
            .unwrap_or_else(|| panic!("no status in {head:?}"));
        (status, body.to_string())
    })
    .await
}
