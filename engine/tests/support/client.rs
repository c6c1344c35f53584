//! The WebSocket client the tests drive: open a socket to `/app/{key}`, send frames, and wait
//! for frames and closes, each wait bounded by [`super::TIMEOUT`].

use super::{decode_data, within};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::net::SocketAddr;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::{HeaderName, HeaderValue};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

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

    /// Connects to the default app and subscribes to the public `channel`; returns the client
    /// and its socket id.
    pub async fn subscribed(addr: SocketAddr, channel: &str) -> (Client, String) {
        let (mut client, socket_id) = Client::connect(addr, super::KEY).await;
        client.subscribe(channel).await;
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

    /// The next text frame as the exact string the server wrote (control frames skipped).
    pub async fn next_text(&mut self) -> String {
        loop {
            match self.next_message().await {
                Some(Message::Text(text)) => return text.as_str().to_string(),
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

    /// Sends `pusher:ping` and reads frames until `pusher:pong`; returns what came before it.
    pub async fn frames_until_pong(&mut self) -> Vec<Value> {
        self.send_json(json!({"event": "pusher:ping", "data": {}}))
            .await;
        let mut before = Vec::new();
        loop {
            let frame = self.next_json().await;
            if frame["event"] == "pusher:pong" {
                return before;
            }
            before.push(frame);
        }
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
