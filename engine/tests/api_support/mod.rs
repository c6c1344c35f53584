//! Helpers for the HTTP API tests: signed requests over a real HTTP/1.1 client (hyper's
//! low-level connection API, one TCP connection per [`HttpConn`]), raw request bytes over a
//! `TcpStream` for malformed and pipelined cases, and markers triggered over the API. Every
//! wait is bounded by [`crate::support::within`].

#![allow(dead_code)]

use crate::support::{event_frame, within, Client, APP_ID, KEY, SECRET, TIMEOUT};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1;
use hyper::header::HeaderMap;
use hyper::Request;
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The server's Unix time in seconds, as the engine reads it.
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs()
}

/// One HTTP response.
#[derive(Debug)]
pub struct Resp {
    /// The status code.
    pub status: u16,
    /// The response headers.
    pub headers: HeaderMap,
    /// The body as text.
    pub body: String,
}

impl Resp {
    /// The body parsed as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| {
            panic!(
                "response body is not JSON ({e}): status {} body {:?}",
                self.status, self.body
            )
        })
    }

    /// The `error` message of an error body.
    pub fn error(&self) -> String {
        self.json()["error"]
            .as_str()
            .unwrap_or_else(|| panic!("no error message in {:?}", self.body))
            .to_string()
    }

    /// A header as a string.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_string)
    }

    /// Asserts status 200 and a JSON body equal to `expected`.
    pub fn assert_ok(&self, expected: &Value) {
        assert_eq!(self.status, 200, "unexpected status, body {:?}", self.body);
        assert_eq!(&self.json(), expected, "unexpected body");
        assert_eq!(
            self.header("content-type").as_deref(),
            Some("application/json")
        );
    }

    /// Asserts `status` and an error message that contains every one of `parts`.
    pub fn assert_error(&self, status: u16, parts: &[&str]) {
        assert_eq!(
            self.status, status,
            "unexpected status, body {:?}",
            self.body
        );
        let message = self.error();
        for part in parts {
            assert!(
                message.contains(part),
                "error message {message:?} does not mention {part:?}"
            );
        }
    }
}

/// One kept-alive HTTP/1.1 connection driven by hyper's client.
pub struct HttpConn {
    addr: SocketAddr,
    sender: http1::SendRequest<Full<Bytes>>,
}

impl HttpConn {
    /// Connects to `addr` and completes the (HTTP/1.1, nothing to negotiate) handshake.
    pub async fn open(addr: SocketAddr) -> HttpConn {
        within("an HTTP connection", async {
            let stream = TcpStream::connect(addr).await.expect("tcp connect");
            let (sender, connection) = http1::handshake(TokioIo::new(stream))
                .await
                .expect("http1 handshake");
            tokio::spawn(async move {
                let _ = connection.await;
            });
            HttpConn { addr, sender }
        })
        .await
    }

    /// Sends a request with `method`, `uri` (path and query) and `body`; reads the response.
    pub async fn send(&mut self, method: &str, uri: &str, body: Vec<u8>) -> Resp {
        let mut builder = Request::builder()
            .method(method)
            .uri(uri)
            .header("Host", self.addr.to_string());
        if !body.is_empty() {
            builder = builder.header("Content-Type", "application/json");
        }
        let request = builder
            .body(Full::new(Bytes::from(body)))
            .expect("valid request");
        within(&format!("the response to {method} {uri}"), async {
            self.sender
                .ready()
                .await
                .expect("the connection is still open");
            let response = self.sender.send_request(request).await.expect("a response");
            let (parts, body) = response.into_parts();
            let bytes = body.collect().await.expect("the body").to_bytes();
            Resp {
                status: parts.status.as_u16(),
                headers: parts.headers,
                body: String::from_utf8(bytes.to_vec()).expect("UTF-8 body"),
            }
        })
        .await
    }

    /// Whether the server still keeps this connection open.
    pub fn is_open(&self) -> bool {
        !self.sender.is_closed()
    }
}

/// Signs API requests for one app and sends them, each on a fresh connection.
#[derive(Debug, Clone)]
pub struct Api {
    /// The server's address.
    pub addr: SocketAddr,
    /// The app id in `/apps/{id}`.
    pub app_id: String,
    /// The `auth_key` sent.
    pub key: String,
    /// The secret requests are signed with.
    pub secret: String,
    /// The server's path prefix (`/ws`), sent but not signed.
    pub prefix: String,
}

impl Api {
    /// The default test app (`app-1` / `key-1`) on `addr`.
    pub fn new(addr: SocketAddr) -> Api {
        Api {
            addr,
            app_id: APP_ID.into(),
            key: KEY.into(),
            secret: SECRET.into(),
            prefix: String::new(),
        }
    }

    /// `/apps/{id}{route}`.
    pub fn path(&self, route: &str) -> String {
        format!("/apps/{}{route}", self.app_id)
    }

    /// The path and query of a request signed over `path` (no prefix) at `timestamp`.
    pub fn signed_uri_at(
        &self,
        method: &str,
        path: &str,
        params: &[(&str, &str)],
        body: &[u8],
        timestamp: u64,
    ) -> String {
        let params: Vec<(String, String)> = params
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let signed = reverb_engine::sign_request(
            &self.key,
            &self.secret,
            method,
            path,
            &params,
            body,
            timestamp,
        );
        format!("{}{path}?{}", self.prefix, encode_query(&signed))
    }

    /// The path and query of a request signed over `path` now.
    pub fn signed_uri(
        &self,
        method: &str,
        path: &str,
        params: &[(&str, &str)],
        body: &[u8],
    ) -> String {
        self.signed_uri_at(method, path, params, body, now())
    }

    /// A signed GET of `/apps/{id}{route}`.
    pub async fn get(&self, route: &str, params: &[(&str, &str)]) -> Resp {
        let uri = self.signed_uri("GET", &self.path(route), params, b"");
        self.send("GET", &uri, Vec::new()).await
    }

    /// A signed POST of `body` to `/apps/{id}{route}`.
    pub async fn post(&self, route: &str, body: &Value) -> Resp {
        self.post_bytes(route, body.to_string().into_bytes()).await
    }

    /// A signed POST of raw bytes to `/apps/{id}{route}`.
    pub async fn post_bytes(&self, route: &str, body: Vec<u8>) -> Resp {
        let uri = self.signed_uri("POST", &self.path(route), &[], &body);
        self.send("POST", &uri, body).await
    }

    /// `POST /apps/{id}/events`.
    pub async fn trigger(&self, body: &Value) -> Resp {
        self.post("/events", body).await
    }

    /// Triggers a marker on `channel` and asserts it is the next frame `client` sees, which
    /// proves nothing else was queued for that client before it.
    pub async fn assert_next_is_marker(&self, client: &mut Client, channel: &str) {
        self.trigger(&json!({"name": "marker", "data": "m", "channels": [channel]}))
            .await
            .assert_ok(&json!({}));
        assert_eq!(
            client.next_json().await,
            event_frame("marker", "m", channel),
            "expected only the marker, got an earlier frame"
        );
    }

    /// Polls a signed `GET /apps/{id}{route}` until its JSON body is `expected`, bounded by
    /// the timeout.
    pub async fn get_until(&self, route: &str, params: &[(&str, &str)], expected: &Value) {
        let deadline = tokio::time::Instant::now() + TIMEOUT;
        loop {
            let resp = self.get(route, params).await;
            if resp.status == 200 && &resp.json() == expected {
                return;
            }
            if tokio::time::Instant::now() >= deadline {
                panic!(
                    "GET {route} never answered {expected}; last {} {}",
                    resp.status, resp.body
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Sends a request exactly as given (already signed or deliberately not).
    pub async fn send(&self, method: &str, uri: &str, body: Vec<u8>) -> Resp {
        HttpConn::open(self.addr)
            .await
            .send(method, uri, body)
            .await
    }
}

/// Encodes query parameters as `application/x-www-form-urlencoded`.
pub fn encode_query(params: &[(String, String)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish()
}

/// A response read off a raw TCP stream.
#[derive(Debug)]
pub struct RawResp {
    /// The status code.
    pub status: u16,
    /// Header lines, names lower-cased.
    pub headers: Vec<(String, String)>,
    /// The body, `Content-Length` bytes of it.
    pub body: String,
}

impl RawResp {
    /// The body parsed as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("raw body is not JSON ({e}): {:?}", self.body))
    }

    /// A header by its lower-case name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }
}

/// Writes `request` in one go and reads `count` responses (framed by `Content-Length`) off
/// the same connection, in order. Returns them and the stream, still open.
pub async fn raw_exchange(
    addr: SocketAddr,
    request: &[u8],
    count: usize,
) -> (Vec<RawResp>, TcpStream) {
    within("raw HTTP responses", async {
        let mut stream = TcpStream::connect(addr).await.expect("tcp connect");
        stream.write_all(request).await.expect("write request");
        let responses = read_responses(&mut stream, count).await;
        (responses, stream)
    })
    .await
}

/// Reads `count` responses framed by `Content-Length` from `stream`.
pub async fn read_responses(stream: &mut TcpStream, count: usize) -> Vec<RawResp> {
    let mut buffer: Vec<u8> = Vec::new();
    let mut responses = Vec::new();
    while responses.len() < count {
        if let Some((response, used)) = parse_response(&buffer) {
            buffer.drain(..used);
            responses.push(response);
            continue;
        }
        let mut chunk = [0u8; 8192];
        let read = stream.read(&mut chunk).await.expect("read response");
        assert!(
            read > 0,
            "connection closed after {} of {count} responses; pending {:?}",
            responses.len(),
            String::from_utf8_lossy(&buffer)
        );
        buffer.extend_from_slice(&chunk[..read]);
    }
    assert!(
        buffer.is_empty(),
        "unexpected bytes after the responses: {:?}",
        String::from_utf8_lossy(&buffer)
    );
    responses
}

/// One complete response at the start of `buffer` and how many bytes it takes.
fn parse_response(buffer: &[u8]) -> Option<(RawResp, usize)> {
    let head_end = buffer.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&buffer[..head_end]).expect("UTF-8 head");
    let mut lines = head.split("\r\n");
    let status_line = lines.next().expect("a status line");
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no status in {status_line:?}"));
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .map(|(_, v)| v.parse().expect("numeric content-length"))
        .unwrap_or(0);
    let body_start = head_end + 4;
    if buffer.len() < body_start + length {
        return None;
    }
    let body =
        String::from_utf8(buffer[body_start..body_start + length].to_vec()).expect("UTF-8 body");
    Some((
        RawResp {
            status,
            headers,
            body,
        },
        body_start + length,
    ))
}
