//! Opening a socket: `pusher:connection_established`, keep-alive pings both ways, the
//! refusals (unknown key, connection quota, origins), malformed frames and the message size
//! limit, and the client address behind a trusted proxy.

mod support;

use reverb_engine::EngineEvent;
use serde_json::{json, Value};
use support::{app, decode_data, events_until, start_one, start_with, stats_until, Client, KEY};
use tokio_tungstenite::tungstenite::Message;

/// Whether `id` looks like a Pusher socket id: two runs of digits joined by a dot.
fn is_socket_id(id: &str) -> bool {
    let Some((a, b)) = id.split_once('.') else {
        return false;
    };
    [a, b]
        .iter()
        .all(|part| !part.is_empty() && part.bytes().all(|c| c.is_ascii_digit()))
}

#[tokio::test]
async fn connection_established_carries_socket_id_and_the_apps_activity_timeout() {
    let server = start_one(json!({"activity_timeout": 45}));
    let mut client = Client::open(server.local_addr(), "key-1").await;

    let frame = client.expect_event("pusher:connection_established").await;
    assert!(
        frame["data"].is_string(),
        "data must be a JSON string: {frame}"
    );
    assert!(
        frame.get("channel").is_none(),
        "no channel expected: {frame}"
    );
    let data = decode_data(&frame);
    let socket_id = data["socket_id"].as_str().expect("socket_id is a string");
    assert!(is_socket_id(socket_id), "bad socket id {socket_id:?}");
    assert_eq!(data["activity_timeout"], 45);
}

#[tokio::test]
async fn every_socket_gets_its_own_socket_id() {
    let server = start_one(json!({}));
    let (_a, id_a) = Client::connect(server.local_addr(), "key-1").await;
    let (_b, id_b) = Client::connect(server.local_addr(), "key-1").await;
    assert_ne!(id_a, id_b);
}

#[tokio::test]
async fn pusher_ping_is_answered_with_pusher_pong() {
    let server = start_one(json!({}));
    let (mut client, _) = Client::connect(server.local_addr(), "key-1").await;
    client
        .send_json(json!({"event": "pusher:ping", "data": {}}))
        .await;
    let frame = client.next_json().await;
    assert_eq!(frame, json!({"event": "pusher:pong"}));
}

#[tokio::test]
async fn websocket_ping_control_frame_is_answered_with_pong() {
    let server = start_one(json!({}));
    let (mut client, _) = Client::connect(server.local_addr(), "key-1").await;
    client
        .send_message(Message::Ping(b"are you there".to_vec().into()))
        .await;
    match client.next_message().await {
        Some(Message::Pong(payload)) => assert_eq!(&payload[..], b"are you there"),
        other => panic!("expected a pong, got {other:?}"),
    }
    // The socket keeps working after control frames.
    client.ping_pong().await;
}

/// A socket the server refuses right after the handshake.
struct RefusalCase {
    name: &'static str,
    app: Value,
    key: &'static str,
    origin: Option<&'static str>,
    code: u64,
    /// The `pusher:error` message, where the test pins it.
    message: Option<&'static str>,
}

#[tokio::test]
async fn refused_sockets_get_an_error_then_a_close_with_the_same_code() {
    let restricted = || json!({"allowed_origins": ["example.com"]});
    let cases = [
        RefusalCase {
            name: "an unknown app key gets 4001",
            app: json!({}),
            key: "no-such-key",
            origin: None,
            code: 4001,
            message: Some("Application does not exist"),
        },
        RefusalCase {
            name: "another origin gets 4009",
            app: restricted(),
            key: KEY,
            origin: Some("https://evil.test"),
            code: 4009,
            message: Some("Origin not allowed"),
        },
        RefusalCase {
            name: "a missing origin gets 4009 when origins are restricted",
            app: restricted(),
            key: KEY,
            origin: None,
            code: 4009,
            message: None,
        },
    ];
    for case in cases {
        let _case = support::case(case.name);
        let server = start_one(case.app);
        let mut client = Client::open_with_origin(server.local_addr(), case.key, case.origin).await;
        let error = client.expect_error(case.code).await;
        if let Some(message) = case.message {
            assert_eq!(error["message"], message);
        }
        assert_eq!(u64::from(client.expect_close().await.0), case.code);
    }
}

#[tokio::test]
async fn max_connections_rejects_the_extra_socket_with_4004_until_a_slot_frees() {
    let server = start_one(json!({"max_connections": 1}));
    let addr = server.local_addr();
    let (first, _) = Client::connect(addr, "key-1").await;

    let mut second = Client::open(addr, "key-1").await;
    let error = second.expect_error(4004).await;
    assert_eq!(error["message"], "Application is over connection quota");
    assert_eq!(second.expect_close().await.0, 4004);

    first.close().await;
    stats_until(&server, "app-1", |stats| stats.connections == 0).await;
    let (mut third, _) = Client::connect(addr, "key-1").await;
    third.ping_pong().await;
}

#[tokio::test]
async fn allowed_origin_may_connect() {
    let server = start_one(json!({"allowed_origins": ["example.com"]}));
    let mut client =
        Client::open_with_origin(server.local_addr(), "key-1", Some("https://example.com")).await;
    client.established().await;
    client.ping_pong().await;
}

#[tokio::test]
async fn malformed_frames_get_4200_and_the_socket_stays_usable() {
    let server = start_one(json!({}));
    let (mut client, _) = Client::connect(server.local_addr(), "key-1").await;
    for bad in [
        "Hi",
        r#"{"event":1}"#,
        r#"{"event":"pusher:subscribe","data":{}}"#,
    ] {
        client.send_text(bad).await;
        let error = client.expect_error(4200).await;
        assert!(
            error["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("Invalid message format")),
            "{bad}: {error}"
        );
    }
    client.ping_pong().await;
}

#[tokio::test]
async fn message_over_max_message_size_closes_with_1009() {
    let server = start_one(json!({"max_message_size": 100}));
    let (mut client, _) = Client::connect(server.local_addr(), "key-1").await;
    let big = json!({"event": "client-x", "channel": "a", "data": {"pad": "x".repeat(200)}});
    client.send_json(big).await;
    let (code, reason) = client.expect_close().await;
    assert_eq!(code, 1009);
    assert_eq!(reason, "Maximum message size exceeded");
}

#[tokio::test]
async fn message_at_max_message_size_is_accepted() {
    let server = start_one(json!({"max_message_size": 100}));
    let (mut client, _) = Client::connect(server.local_addr(), "key-1").await;
    let with_pad = |pad: &str| json!({"event": "pusher:ping", "data": {"pad": pad}}).to_string();
    let message = with_pad(&"x".repeat(100 - with_pad("").len()));
    assert_eq!(message.len(), 100);
    client.send_text(&message).await;
    client.expect_event("pusher:pong").await;
}

/// Behind a trusted proxy the client's address comes from `X-Forwarded-For`; anyone else's
/// header is ignored.
#[tokio::test]
async fn forwarded_for_is_believed_only_from_trusted_proxies() {
    let header = [("X-Forwarded-For", "203.0.113.9")];
    let trusting = start_with(
        json!({"trusted_proxies": ["127.0.0.0/8"]}),
        vec![app("app-1", "key-1", json!({}))],
    );
    let wary = start_one(json!({}));

    for (server, expected) in [(&trusting, "203.0.113.9"), (&wary, "127.0.0.1")] {
        let mut client = Client::open_with_headers(server.local_addr(), "key-1", &header).await;
        let socket_id = client.established().await;
        let events = events_until(server, |events| {
            events.iter().any(|event| {
                matches!(event, EngineEvent::ConnectionOpened { socket_id: id, .. } if *id == socket_id)
            })
        })
        .await;
        let ip = events.iter().find_map(|event| match event {
            EngineEvent::ConnectionOpened {
                socket_id: id, ip, ..
            } if *id == socket_id => Some(ip),
            _ => None,
        });
        assert_eq!(ip.map(String::as_str), Some(expected));
    }
}
