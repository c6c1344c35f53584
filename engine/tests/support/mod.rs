//! Helpers for the socket-level tests: start a server on a free port, connect a real
//! WebSocket client, sign auth strings the way a backend does, and wait for frames, closes,
//! engine events and stats with bounded timeouts.
//!
//! Submodules: [`client`] (the WebSocket client), [`signing`] (HMAC signatures and auth
//! strings), [`frames`] (protocol frames the tests send and expect), [`flows`] (subscribing,
//! joining presence, signing in), [`checks`] (markers and assertions on server state) and
//! [`fuzzing`] (case counts and engine panics for the fuzzing tests).

#![allow(dead_code, unused_imports)]

pub mod checks;
pub mod client;
pub mod flows;
pub mod frames;
pub mod fuzzing;
pub mod signing;

pub use checks::{
    assert_next_is_marker, assert_presence_counts, assert_terminated, case, created_channels,
    expect_each_refused, expect_marker, message_of, occupied_channels, publish, publish_marker,
    Refusal,
};
pub use client::Client;
pub use flows::{
    expect_subscribed, join_presence, join_presence_as, sign_in, sign_in_as, subscribe_private,
};
pub use frames::{event_frame, names, signin_frame, subscribe_frame, subscribed_frame};
pub use signing::{channel_auth, presence_auth, private_auth, sign, signin_auth, user_auth};

use reverb_engine::{Config, EngineEvent, Server};
use serde_json::{json, Value};
use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The id of the default test app (see [`app`] and [`start_one`]).
pub const APP_ID: &str = "app-1";
/// The key of the default test app.
pub const KEY: &str = "key-1";
/// The secret of the default test app: [`app`] derives it as `{key}-secret`.
pub const SECRET: &str = "key-1-secret";

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
    start(vec![app(APP_ID, KEY, overrides)])
}

/// Starts a server with the default app `app-1` / `key-1` and a second app `app-2` /
/// `key-2`, both with default settings.
pub fn start_two_apps() -> Server {
    start(vec![
        app(APP_ID, KEY, json!({})),
        app("app-2", "key-2", json!({})),
    ])
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
