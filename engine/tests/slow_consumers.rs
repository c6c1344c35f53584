//! Sockets that fall behind: each send queue is capped in bytes, all queues share one budget,
//! a socket past either is closed with 4100 and a real close frame, its memory is given back
//! at once, and an honest reader that falls behind briefly keeps its connection.

mod support;

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::net::SocketAddr;
use support::{app, start_with, within, TIMEOUT};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

/// How much the test client's kernel may buffer for it: small, so that a client that stops
/// reading backs up into the server's queue quickly.
const CLIENT_RECEIVE_BUFFER: u32 = 16 * 1024;

/// A subscriber whose reading the test controls, with a small receive buffer.
struct Subscriber {
    ws: WebSocketStream<TcpStream>,
}

impl Subscriber {
    /// Connects to app `key-1` and subscribes to the public `channel`.
    async fn subscribe(addr: SocketAddr, channel: &str) -> Subscriber {
        let socket = TcpSocket::new_v4().expect("a socket");
        socket
            .set_recv_buffer_size(CLIENT_RECEIVE_BUFFER)
            .expect("a receive buffer size");
        let stream = socket.connect(addr).await.expect("tcp connect");
        let url = format!("ws://{addr}/app/key-1?protocol=7&client=js&version=8.4.0");
        let (ws, _) = tokio_tungstenite::client_async(url, stream)
            .await
            .expect("websocket handshake");
        let mut subscriber = Subscriber { ws };
        subscriber.expect("pusher:connection_established").await;
        let subscribe = json!({"event": "pusher:subscribe", "data": {"channel": channel}});
        subscriber
            .ws
            .send(Message::text(subscribe.to_string()))
            .await
            .expect("send");
        subscriber
            .expect("pusher_internal:subscription_succeeded")
            .await;
        subscriber
    }

    /// The next message, or `None` once the stream ended.
    async fn next(&mut self) -> Option<Message> {
        match within("the next message", self.ws.next()).await {
            Some(Ok(message)) => Some(message),
            Some(Err(error)) => panic!("WebSocket error while reading: {error}"),
            None => None,
        }
    }

    /// The next text frame as JSON, asserted to carry `event`.
    async fn expect(&mut self, event: &str) -> Value {
        match self.next().await {
            Some(Message::Text(text)) => {
                let frame: Value = serde_json::from_str(text.as_str()).expect("JSON");
                assert_eq!(frame["event"], event, "unexpected frame {frame}");
                frame
            }
            other => panic!("expected {event}, got {other:?}"),
        }
    }

    /// Reads past the events sent before, expecting `pusher:error` 4100 and then a close
    /// frame with 4100; returns how many events came first.
    async fn expect_closed_as_too_slow(&mut self) -> usize {
        let mut events = 0;
        loop {
            match self.next().await {
                Some(Message::Text(text)) => {
                    let frame: Value = serde_json::from_str(text.as_str()).expect("whole JSON");
                    if frame["event"] == "pusher:error" {
                        let data: Value =
                            serde_json::from_str(frame["data"].as_str().unwrap()).unwrap();
                        assert_eq!(data["code"], 4100, "unexpected error {frame}");
                        break;
                    }
                    assert_eq!(frame["event"], "big", "unexpected frame {frame}");
                    events += 1;
                }
                other => panic!("expected events then pusher:error 4100, got {other:?}"),
            }
        }
        match self.next().await {
            Some(Message::Close(Some(close))) => assert_eq!(u16::from(close.code), 4100),
            other => panic!("expected a close frame with 4100, got {other:?}"),
        }
        events
    }
}

fn channel(name: &str) -> Vec<String> {
    vec![name.to_string()]
}

/// Publishes `payload` to `channel` until the server has closed `closed` sockets as too slow.
async fn publish_until_closed(server: &reverb_engine::Server, channel_name: &str, closed: u64) {
    let payload = "x".repeat(4 * 1024);
    within("a socket to be closed as too slow", async {
        let channels = channel(channel_name);
        while server.slow_consumers_closed() < closed {
            server
                .publish("app-1", &channels, "big", &payload, None)
                .unwrap();
            // Lets the socket task write, so the kernel's buffers fill before the queue does.
            tokio::time::sleep(std::time::Duration::from_micros(200)).await;
        }
    })
    .await;
}

/// Waits until no byte is queued for any socket.
async fn queues_emptied(server: &reverb_engine::Server) {
    within("the queues to be freed", async {
        while server.queued_bytes() > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    })
    .await;
}

#[tokio::test]
async fn a_socket_past_its_byte_cap_gets_4100_and_a_close_frame_and_its_memory_back() {
    let server = start_with(
        json!({"send_queue_bytes": 256 * 1024}),
        vec![app("app-1", "key-1", json!({}))],
    );
    let mut stalled = Subscriber::subscribe(server.local_addr(), "news").await;

    publish_until_closed(&server, "news", 1).await;
    let delivered = stalled.expect_closed_as_too_slow().await;

    assert!(delivered > 0, "the events before the close arrive whole");
    queues_emptied(&server).await;
}

#[tokio::test]
async fn an_overdrawn_budget_closes_the_heaviest_socket_and_spares_an_honest_reader() {
    let server = start_with(
        json!({"send_queue_budget": 2 * 1024 * 1024, "send_queue_bytes": 64 * 1024 * 1024}),
        vec![app("app-1", "key-1", json!({}))],
    );
    let mut stalled = Subscriber::subscribe(server.local_addr(), "stuck").await;
    let mut reader = Subscriber::subscribe(server.local_addr(), "live").await;

    let sent = 200;
    let reading = tokio::spawn(async move {
        for _ in 0..sent {
            reader.expect("live-event").await;
        }
        reader
    });
    for sequence in 0..sent {
        let data = json!({"sequence": sequence}).to_string();
        server
            .publish("app-1", &channel("live"), "live-event", &data, None)
            .unwrap();
    }
    publish_until_closed(&server, "stuck", 1).await;
    stalled.expect_closed_as_too_slow().await;

    let mut reader = within("the reader to get every event", reading)
        .await
        .expect("the reader task");
    let ping = json!({"event": "pusher:ping", "data": {}});
    reader
        .ws
        .send(Message::text(ping.to_string()))
        .await
        .unwrap();
    reader.expect("pusher:pong").await;
    assert_eq!(server.slow_consumers_closed(), 1);
    queues_emptied(&server).await;
}

#[tokio::test]
async fn an_honest_reader_that_falls_behind_during_a_burst_keeps_its_connection() {
    let server = start_with(json!({}), vec![app("app-1", "key-1", json!({}))]);
    let mut late = Subscriber::subscribe(server.local_addr(), "news").await;

    let burst = 20_000;
    for sequence in 0..burst {
        let data = json!({"sequence": sequence}).to_string();
        server
            .publish("app-1", &channel("news"), "burst", &data, None)
            .unwrap();
    }
    let received = tokio::time::timeout(TIMEOUT * 4, async {
        for sequence in 0..burst {
            let frame = late.expect("burst").await;
            let data: Value = serde_json::from_str(frame["data"].as_str().unwrap()).unwrap();
            assert_eq!(data["sequence"], sequence);
        }
    })
    .await;
    assert!(received.is_ok(), "the burst did not arrive in time");
    assert_eq!(server.slow_consumers_closed(), 0);
}
