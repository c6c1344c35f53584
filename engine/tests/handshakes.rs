//! Strict WebSocket handshakes and the cap on a request's header section, with raw requests
//! over a `TcpStream` so that every byte of the handshake is the test's own.

mod api_support;
mod raw_support;
mod support;

use api_support::{raw_exchange, RawResp};
use raw_support::{status_of, VALID_KEY};
use serde_json::json;
use std::net::SocketAddr;
use support::start_one;

/// A handshake for `/app/key-1` with `version` as the HTTP version and `headers` after the
/// `Host` line.
fn handshake(addr: SocketAddr, version: &str, headers: &[(&str, &str)]) -> String {
    let mut request = format!("GET /app/key-1?protocol=7 {version}\r\nHost: {addr}\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request
}

/// The headers of a valid handshake with `key` and `ws_version` in place of the usual ones;
/// `None` leaves the header out.
fn upgrade_headers<'a>(
    key: Option<&'a str>,
    ws_version: Option<&'a str>,
) -> Vec<(&'a str, &'a str)> {
    let mut headers = vec![("Upgrade", "websocket"), ("Connection", "Upgrade")];
    headers.extend(key.map(|key| ("Sec-WebSocket-Key", key)));
    headers.extend(ws_version.map(|version| ("Sec-WebSocket-Version", version)));
    headers
}

async fn answer(addr: SocketAddr, request: &str) -> RawResp {
    let (mut responses, _stream) = raw_exchange(addr, request.as_bytes(), 1).await;
    responses.remove(0)
}

/// Asserts a JSON error body that contains `part`.
fn assert_error(response: &RawResp, status: u16, part: &str) {
    assert_eq!(response.status, status, "body {:?}", response.body);
    let message = response.json()["error"]
        .as_str()
        .unwrap_or_else(|| panic!("no error message in {:?}", response.body))
        .to_string();
    assert!(
        message.contains(part),
        "{message:?} does not mention {part:?}"
    );
}

#[tokio::test]
async fn key_that_is_not_the_base64_of_16_bytes_gets_400() {
    let server = start_one(json!({}));
    let addr = server.local_addr();
    for key in [
        "abc",
        "!!!!",
        "",
        "dGhlIHNhbXBsZSBub25jZQ",
        "dGhlIHNhbXBsZSBub25jZ===",
        "AAAAAAAAAAAAAAAAAAAAAA=",
        "AAAAAAAAAAAAAAAAAAAAAAAA",
        "AAAAAAAAAAAAAAAAAAAAAB==",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "AAAAAAAAAAAAAAAAAAAA",
        "AAAAAAAAAAAA AAAAAAAAA==",
    ] {
        let request = handshake(addr, "HTTP/1.1", &upgrade_headers(Some(key), Some("13")));
        let response = answer(addr, &request).await;
        assert_eq!(response.status, 400, "key {key:?}: {:?}", response.body);
        assert_error(&response, 400, "Sec-WebSocket-Key");
    }
    let request = handshake(
        addr,
        "HTTP/1.1",
        &upgrade_headers(Some(VALID_KEY), Some("13")),
    );
    assert_eq!(status_of(addr, request.as_bytes()).await, Some(101));
}

#[tokio::test]
async fn http_1_0_upgrade_gets_400() {
    let server = start_one(json!({}));
    let addr = server.local_addr();
    let request = handshake(
        addr,
        "HTTP/1.0",
        &upgrade_headers(Some(VALID_KEY), Some("13")),
    );
    let response = answer(addr, &request).await;
    assert_error(&response, 400, "HTTP/1.1");
}

#[tokio::test]
async fn wrong_websocket_version_gets_426_naming_version_13() {
    let server = start_one(json!({}));
    let addr = server.local_addr();
    for version in [Some("8"), Some("12"), Some("14"), Some("13, 8"), None] {
        let request = handshake(addr, "HTTP/1.1", &upgrade_headers(Some(VALID_KEY), version));
        let response = answer(addr, &request).await;
        assert_error(&response, 426, "Sec-WebSocket-Version: 13");
        assert_eq!(
            response.header("sec-websocket-version"),
            Some("13"),
            "version {version:?}: headers {:?}",
            response.headers
        );
    }
}

#[tokio::test]
async fn header_section_over_16_kib_gets_431() {
    let server = start_one(json!({}));
    let addr = server.local_addr();
    let request = |padding: usize| {
        format!(
            "GET /up HTTP/1.1\r\nHost: {addr}\r\nX-Padding: {}\r\nConnection: close\r\n\r\n",
            "a".repeat(padding)
        )
    };
    assert_eq!(
        status_of(addr, request(12 * 1024).as_bytes()).await,
        Some(200)
    );
    assert_eq!(
        status_of(addr, request(64 * 1024).as_bytes()).await,
        Some(431)
    );
    assert_eq!(
        status_of(addr, request(17 * 1024).as_bytes()).await,
        Some(431)
    );
    let upgrade = handshake(
        addr,
        "HTTP/1.1",
        &[
            ("Upgrade", "websocket"),
            ("Connection", "Upgrade"),
            ("Sec-WebSocket-Key", VALID_KEY),
            ("Sec-WebSocket-Version", "13"),
            ("X-Padding", &"a".repeat(64 * 1024)),
        ],
    );
    assert_eq!(status_of(addr, upgrade.as_bytes()).await, Some(431));
}
