//! Socket-level tests of the engine: a real server on 127.0.0.1, real WebSocket clients.
//!
//! Negative checks ("X does not reach socket S") never sleep: after the thing that must not be
//! delivered, a marker is published to S through the same ordered send queue, and the next
//! frame S sees must be that marker.

mod api_support;
mod support;

use api_support::Api;
use reverb_engine::EngineEvent;
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::{
    app, decode_data, events_until, http_get, start, start_one, start_with, stats_until, within,
    Client,
};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;

fn channels(names: &[&str]) -> Vec<String> {
    names.iter().map(|name| name.to_string()).collect()
}

fn is_socket_id(id: &str) -> bool {
    let Some((a, b)) = id.split_once('.') else {
        return false;
    };
    [a, b]
        .iter()
        .all(|part| !part.is_empty() && part.bytes().all(|c| c.is_ascii_digit()))
}

/// Publishes a marker event to `channel` and asserts it is the next frame `client` sees, which
/// proves nothing else was queued for that client before it.
async fn assert_next_is_marker(
    server: &reverb_engine::Server,
    client: &mut Client,
    channel: &str,
    marker: &str,
) {
    server
        .publish("app-1", &channels(&[channel]), "marker", marker, None)
        .expect("app-1 exists");
    let frame = client.next_json().await;
    assert_eq!(
        frame,
        json!({"event": "marker", "data": marker, "channel": channel}),
        "expected only the marker, got an earlier frame"
    );
}

// ---------------------------------------------------------------------------------------------
// Handshake and keep-alive
// ---------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------
// Public channels and publishing
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn subscribing_to_a_public_channel_succeeds_with_empty_data() {
    let server = start_one(json!({}));
    let (mut client, _) = Client::connect(server.local_addr(), "key-1").await;
    client
        .send_json(json!({"event": "pusher:subscribe", "data": {"channel": "news"}}))
        .await;
    let frame = client.next_json().await;
    assert_eq!(
        frame,
        json!({
            "event": "pusher_internal:subscription_succeeded",
            "data": "{}",
            "channel": "news",
        })
    );
}

#[tokio::test]
async fn publish_delivers_the_event_with_its_data_string_unchanged_to_every_subscriber() {
    let server = start_one(json!({}));
    let addr = server.local_addr();
    let (mut a, _) = Client::connect(addr, "key-1").await;
    let (mut b, _) = Client::connect(addr, "key-1").await;
    a.subscribe("news").await;
    b.subscribe("news").await;

    // Odd spacing and non-ASCII: the data string must arrive byte for byte.
    let data = r#"{ "n":1,  "text": "héllo \"world\"" }"#;
    let queued = server
        .publish("app-1", &channels(&["news"]), "update", data, None)
        .expect("app-1 exists");
    assert_eq!(queued, 2);

    for client in [&mut a, &mut b] {
        let frame = client.next_json().await;
        assert_eq!(
            frame,
            json!({"event": "update", "data": data, "channel": "news"})
        );
    }
}

#[tokio::test]
async fn publish_to_several_channels_reaches_the_subscribers_of_each() {
    let server = start_one(json!({}));
    let addr = server.local_addr();
    let (mut a, _) = Client::connect(addr, "key-1").await;
    let (mut b, _) = Client::connect(addr, "key-1").await;
    a.subscribe("one").await;
    b.subscribe("two").await;

    let queued = server
        .publish(
            "app-1",
            &channels(&["one", "two", "nobody"]),
            "e",
            "{}",
            None,
        )
        .unwrap();
    assert_eq!(queued, 2);
    assert_eq!(a.next_json().await["channel"], "one");
    assert_eq!(b.next_json().await["channel"], "two");
}

#[tokio::test]
async fn publish_with_except_socket_id_skips_that_socket() {
    let server = start_one(json!({}));
    let addr = server.local_addr();
    let (mut a, id_a) = Client::connect(addr, "key-1").await;
    let (mut b, _) = Client::connect(addr, "key-1").await;
    a.subscribe("news").await;
    b.subscribe("news").await;

    let queued = server
        .publish(
            "app-1",
            &channels(&["news"]),
            "update",
            r#"{"secret":true}"#,
            Some(&id_a),
        )
        .unwrap();
    assert_eq!(queued, 1);
    assert_eq!(b.next_json().await["event"], "update");
    assert_next_is_marker(&server, &mut a, "news", "after-except").await;
}

#[tokio::test]
async fn unsubscribing_stops_delivery() {
    let server = start_one(json!({}));
    let addr = server.local_addr();
    let (mut a, _) = Client::connect(addr, "key-1").await;
    let (mut b, _) = Client::connect(addr, "key-1").await;
    a.subscribe("news").await;
    a.subscribe("other").await;
    b.subscribe("news").await;

    a.unsubscribe("news").await;
    let queued = server
        .publish("app-1", &channels(&["news"]), "update", "{}", None)
        .unwrap();
    assert_eq!(queued, 1);
    assert_eq!(b.next_json().await["event"], "update");
    assert_next_is_marker(&server, &mut a, "other", "after-unsubscribe").await;
}

#[tokio::test]
async fn apps_on_one_server_are_isolated() {
    let server = start(vec![
        app("app-1", "key-1", json!({})),
        app("app-2", "key-2", json!({})),
    ]);
    let addr = server.local_addr();
    let (mut on_app_1, _) = Client::connect(addr, "key-1").await;
    let (mut on_app_2, _) = Client::connect(addr, "key-2").await;
    on_app_1.subscribe("news").await;
    on_app_2.subscribe("news").await;

    let queued = server
        .publish("app-1", &channels(&["news"]), "for-app-1", "{}", None)
        .unwrap();
    assert_eq!(queued, 1);
    assert_eq!(on_app_1.next_json().await["event"], "for-app-1");

    let queued = server
        .publish("app-2", &channels(&["news"]), "for-app-2", "{}", None)
        .unwrap();
    assert_eq!(queued, 1);
    let frame = on_app_2.next_json().await;
    assert_eq!(
        frame["event"], "for-app-2",
        "app-2 must not see app-1's event"
    );

    assert!(server
        .publish("app-3", &channels(&["news"]), "e", "{}", None)
        .is_err());
}

// ---------------------------------------------------------------------------------------------
// Connection refusals
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn unknown_app_key_gets_4001_and_close() {
    let server = start_one(json!({}));
    let mut client = Client::open(server.local_addr(), "no-such-key").await;
    let error = client.expect_error(4001).await;
    assert_eq!(error["message"], "Application does not exist");
    assert_eq!(client.expect_close().await.0, 4001);
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
async fn other_origin_gets_4009_and_close() {
    let server = start_one(json!({"allowed_origins": ["example.com"]}));
    let mut client =
        Client::open_with_origin(server.local_addr(), "key-1", Some("https://evil.test")).await;
    let error = client.expect_error(4009).await;
    assert_eq!(error["message"], "Origin not allowed");
    assert_eq!(client.expect_close().await.0, 4009);
}

#[tokio::test]
async fn missing_origin_gets_4009_when_origins_are_restricted() {
    let server = start_one(json!({"allowed_origins": ["example.com"]}));
    let mut client = Client::open_with_origin(server.local_addr(), "key-1", None).await;
    client.expect_error(4009).await;
    assert_eq!(client.expect_close().await.0, 4009);
}

// ---------------------------------------------------------------------------------------------
// Bad input
// ---------------------------------------------------------------------------------------------

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

#[tokio::test]
async fn private_and_presence_subscriptions_without_auth_get_4009_and_the_socket_stays_usable() {
    let server = start_one(json!({}));
    let (mut client, _) = Client::connect(server.local_addr(), "key-1").await;
    for channel in ["private-orders", "presence-room"] {
        client
            .send_json(json!({"event": "pusher:subscribe", "data": {"channel": channel}}))
            .await;
        let error = client.expect_error(4009).await;
        assert_eq!(error["message"], "Connection is unauthorized", "{channel}");
    }
    client.ping_pong().await;
    client.subscribe("public").await;
    assert_eq!(server.stats()["app-1"].channels, 1);
}

// ---------------------------------------------------------------------------------------------
// Client events
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn client_event_from_a_member_reaches_other_members_but_not_the_sender() {
    let server = start_one(json!({"accept_client_events_from": "members"}));
    let addr = server.local_addr();
    let (mut sender, _) = Client::connect(addr, "key-1").await;
    let (mut other, _) = Client::connect(addr, "key-1").await;
    sender.subscribe("room").await;
    other.subscribe("room").await;

    sender
        .send_json(json!({"event": "client-typing", "channel": "room", "data": {"user": "a"}}))
        .await;
    let frame = other.next_json().await;
    assert_eq!(frame["event"], "client-typing");
    assert_eq!(frame["channel"], "room");
    assert_eq!(frame["data"], json!({"user": "a"}));

    assert_next_is_marker(&server, &mut sender, "room", "after-whisper").await;
}

#[tokio::test]
async fn client_event_from_a_non_member_gets_4009_when_only_members_may_send() {
    let server = start_one(json!({"accept_client_events_from": "members"}));
    let addr = server.local_addr();
    let (mut member, _) = Client::connect(addr, "key-1").await;
    let (mut outsider, _) = Client::connect(addr, "key-1").await;
    member.subscribe("room").await;

    outsider
        .send_json(json!({"event": "client-typing", "channel": "room", "data": {}}))
        .await;
    let error = outsider.expect_error(4009).await;
    assert_eq!(
        error["message"],
        "The client is not a member of the specified channel."
    );
    outsider.ping_pong().await;
    assert_next_is_marker(&server, &mut member, "room", "after-outsider").await;
}

#[tokio::test]
async fn client_events_get_4301_when_the_app_accepts_none() {
    let server = start_one(json!({"accept_client_events_from": "none"}));
    let addr = server.local_addr();
    let (mut sender, _) = Client::connect(addr, "key-1").await;
    let (mut other, _) = Client::connect(addr, "key-1").await;
    sender.subscribe("room").await;
    other.subscribe("room").await;

    sender
        .send_json(json!({"event": "client-typing", "channel": "room", "data": {}}))
        .await;
    let error = sender.expect_error(4301).await;
    assert_eq!(
        error["message"],
        "The app does not have client messaging enabled."
    );
    sender.ping_pong().await;
    assert_next_is_marker(&server, &mut other, "room", "after-rejected").await;
}

#[tokio::test]
async fn client_event_from_a_non_member_is_delivered_when_the_app_accepts_all() {
    let server = start_one(json!({"accept_client_events_from": "all"}));
    let addr = server.local_addr();
    let (mut member, _) = Client::connect(addr, "key-1").await;
    let (mut outsider, _) = Client::connect(addr, "key-1").await;
    member.subscribe("room").await;

    outsider
        .send_json(json!({"event": "client-wave", "channel": "room", "data": {"hi": 1}}))
        .await;
    let frame = member.next_json().await;
    assert_eq!(frame["event"], "client-wave");
    assert_eq!(frame["channel"], "room");
    assert_eq!(frame["data"], json!({"hi": 1}));
    // No error for the outsider: the pong is the next thing it sees.
    outsider.ping_pong().await;
}

// ---------------------------------------------------------------------------------------------
// Server pings and pruning (ping_interval = 1 s)
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn silent_socket_is_pinged_then_pruned_with_4201() {
    let server = start_one(json!({"ping_interval": 1}));
    let (mut client, socket_id) = Client::connect(server.local_addr(), "key-1").await;
    let connected_at = Instant::now();

    let ping = client.next_json().await;
    assert_eq!(ping, json!({"event": "pusher:ping"}));
    assert!(
        connected_at.elapsed() >= Duration::from_millis(800),
        "pinged after {:?}, before ping_interval passed",
        connected_at.elapsed()
    );

    let error = client.expect_error(4201).await;
    assert_eq!(error["message"], "Pong reply not received in time");
    assert_eq!(client.expect_close().await.0, 4201);

    let pruned = EngineEvent::ConnectionPruned {
        app_id: "app-1".into(),
        socket_id: socket_id.clone(),
    };
    events_until(&server, |events| events.contains(&pruned)).await;
}

/// A pinged socket has one whole `ping_interval` to answer before the prune check runs.
#[tokio::test]
async fn silent_socket_gets_a_full_ping_interval_to_answer_before_it_is_pruned() {
    let server = start_one(json!({"ping_interval": 1}));
    let (mut client, _) = Client::connect(server.local_addr(), "key-1").await;

    client.expect_event("pusher:ping").await;
    let pinged_at = Instant::now();
    client.expect_error(4201).await;
    let grace = pinged_at.elapsed();
    assert!(
        grace >= Duration::from_millis(800),
        "pruned {grace:?} after the ping; expected about one ping_interval (1 s)"
    );
}

/// A client whose `pusher:pong` arrives 200 ms after the ping, as over a real network, is
/// kept.
#[tokio::test]
async fn socket_answering_pings_with_pusher_pong_is_not_pruned() {
    let server = start_one(json!({"ping_interval": 1}));
    let (mut client, _) = Client::connect(server.local_addr(), "key-1").await;

    // Three ping rounds span more than the time after which a silent socket is pruned.
    for round in 0..3 {
        let ping = client.next_json().await;
        assert_eq!(ping, json!({"event": "pusher:ping"}), "round {round}");
        tokio::time::sleep(Duration::from_millis(200)).await; // network latency
        client
            .send_json(json!({"event": "pusher:pong", "data": {}}))
            .await;
    }
    client.ping_pong().await;
    assert_eq!(server.stats()["app-1"].connections, 1);
}

// ---------------------------------------------------------------------------------------------
// Engine events
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn engine_reports_the_lifecycle_of_a_socket() {
    let server = start_one(json!({}));
    let (mut client, socket_id) = Client::connect(server.local_addr(), "key-1").await;
    client.subscribe("news").await;
    client
        .send_json(json!({"event": "some-event", "channel": "news", "data": {}}))
        .await;
    client.unsubscribe("news").await;
    client.close().await;

    let app_id = || "app-1".to_string();
    let sid = || socket_id.clone();
    let expected = [
        EngineEvent::ConnectionOpened {
            app_id: app_id(),
            socket_id: sid(),
            origin: None,
            ip: "127.0.0.1".into(),
        },
        EngineEvent::ChannelCreated {
            app_id: app_id(),
            channel: "news".into(),
        },
        EngineEvent::Subscribed {
            app_id: app_id(),
            socket_id: sid(),
            channel: "news".into(),
        },
        EngineEvent::Unsubscribed {
            app_id: app_id(),
            socket_id: sid(),
            channel: "news".into(),
        },
        EngineEvent::ChannelRemoved {
            app_id: app_id(),
            channel: "news".into(),
        },
        EngineEvent::ConnectionClosed {
            app_id: app_id(),
            socket_id: sid(),
        },
    ];
    let closed = expected.last().unwrap().clone();
    let events = events_until(&server, |events| events.contains(&closed)).await;

    // The lifecycle events arrive in this order.
    let positions: Vec<usize> = expected
        .iter()
        .map(|wanted| {
            events
                .iter()
                .position(|event| event == wanted)
                .unwrap_or_else(|| panic!("missing {wanted:?} in {events:#?}"))
        })
        .collect();
    assert!(
        positions.windows(2).all(|pair| pair[0] < pair[1]),
        "out of order: {events:#?}"
    );

    // Every handled message is reported with its event and channel.
    let received: Vec<(String, Option<String>)> = events
        .iter()
        .filter_map(|event| match event {
            EngineEvent::MessageReceived {
                socket_id: id,
                event,
                channel,
                message,
                ..
            } if *id == socket_id => {
                assert!(message.contains(event.as_str()), "raw frame {message}");
                Some((event.clone(), channel.clone()))
            }
            _ => None,
        })
        .collect();
    let news = Some("news".to_string());
    assert_eq!(
        received,
        vec![
            ("pusher:subscribe".to_string(), news.clone()),
            ("some-event".to_string(), news.clone()),
            ("pusher:unsubscribe".to_string(), news),
            ("pusher:ping".to_string(), None),
        ]
    );
}

#[tokio::test]
async fn engine_reports_the_origin_of_a_socket() {
    let server = start_one(json!({}));
    let mut client =
        Client::open_with_origin(server.local_addr(), "key-1", Some("https://example.com")).await;
    let socket_id = client.established().await;
    let opened = EngineEvent::ConnectionOpened {
        app_id: "app-1".into(),
        socket_id,
        origin: Some("https://example.com".into()),
        ip: "127.0.0.1".into(),
    };
    events_until(&server, |events| events.contains(&opened)).await;
}

#[tokio::test]
async fn disconnecting_leaves_every_channel() {
    let server = start_one(json!({}));
    let (mut client, socket_id) = Client::connect(server.local_addr(), "key-1").await;
    client.subscribe("a").await;
    client.subscribe("b").await;
    drop(client);

    let left = |channel: &str| EngineEvent::Unsubscribed {
        app_id: "app-1".into(),
        socket_id: socket_id.clone(),
        channel: channel.into(),
    };
    let (left_a, left_b) = (left("a"), left("b"));
    events_until(&server, |events| {
        events.contains(&left_a) && events.contains(&left_b)
    })
    .await;
    stats_until(&server, "app-1", |stats| {
        stats.channels == 0 && stats.connections == 0
    })
    .await;
}

// ---------------------------------------------------------------------------------------------
// Stop
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn stop_closes_sockets_with_4200_and_frees_the_port_and_is_idempotent() {
    let server = Arc::new(start_one(json!({})));
    let addr = server.local_addr();
    let (mut client, _) = Client::connect(addr, "key-1").await;
    assert!(server.is_running());

    let started = Instant::now();
    let stopper = {
        let server = server.clone();
        tokio::task::spawn_blocking(move || server.stop(Duration::from_secs(2)))
    };
    let error = client.expect_error(4200).await;
    assert_eq!(error["message"], "Server is shutting down");
    assert_eq!(client.expect_close().await.0, 4200);
    within("stop to return", stopper)
        .await
        .expect("stop did not panic");
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "stop took {:?}",
        started.elapsed()
    );
    assert!(!server.is_running());

    let refused = within("a connect after stop", TcpStream::connect(addr)).await;
    assert!(
        refused.is_err(),
        "the port still accepts connections after stop"
    );

    // A second stop returns at once.
    let again = {
        let server = server.clone();
        tokio::task::spawn_blocking(move || server.stop(Duration::from_secs(2)))
    };
    within("the second stop", again).await.unwrap();
}

#[tokio::test]
async fn stop_is_bounded_by_the_grace_period_even_if_a_client_never_answers() {
    let server = Arc::new(start_one(json!({})));
    // Connected, but never reads again: the close handshake cannot complete.
    let (_mute, _) = Client::connect(server.local_addr(), "key-1").await;

    let started = Instant::now();
    let stopper = {
        let server = server.clone();
        tokio::task::spawn_blocking(move || server.stop(Duration::from_millis(300)))
    };
    within("stop to return", stopper).await.unwrap();
    assert!(
        started.elapsed() < Duration::from_millis(900),
        "stop with a 300 ms grace took {:?}",
        started.elapsed()
    );
}

// ---------------------------------------------------------------------------------------------
// Slow consumers
// ---------------------------------------------------------------------------------------------

/// A client that stops reading fills the TCP buffers and then its send queue; the socket is
/// then dropped with its subscriptions and connection slot, even though its task is stuck in
/// a write.
#[tokio::test]
async fn client_that_stops_reading_is_disconnected_once_its_send_queue_overflows() {
    let server = start_with(
        json!({"send_queue_size": 4}),
        vec![app("app-1", "key-1", json!({}))],
    );
    let (mut stalled, socket_id) = Client::connect(server.local_addr(), "key-1").await;
    stalled.subscribe("news").await;
    // From here on the client reads nothing.

    let payload = "x".repeat(64 * 1024);
    let overflowed = within("the send queue to overflow", async {
        for _ in 0..10_000 {
            let queued = server
                .publish("app-1", &channels(&["news"]), "big", &payload, None)
                .unwrap();
            if queued == 0 {
                return true;
            }
            // Give the socket task time to write each frame, so that the TCP buffers are full
            // (and the task blocked in a write) by the time the queue overflows.
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        false
    })
    .await;
    assert!(overflowed, "the queue never overflowed");

    let closed = EngineEvent::ConnectionClosed {
        app_id: "app-1".into(),
        socket_id,
    };
    events_until(&server, |events| events.contains(&closed)).await;
    stats_until(&server, "app-1", |stats| {
        stats.connections == 0 && stats.channels == 0
    })
    .await;
    drop(stalled);
}

/// More than the kernel's buffers hold, sent while the client reads nothing, alternately
/// through the HTTP API (whose handler writes to the socket itself while nothing is queued)
/// and `Server::publish` (which only queues, for the socket's task to write): the frames the
/// kernel did not take wait in the queue, and every one arrives whole and in order, the
/// server's own answers (a pong, a control-frame pong) after the events sent before them.
/// The socket's byte cap is raised above what is sent, so that it waits instead.
#[tokio::test]
async fn a_client_that_reads_late_gets_every_frame_whole_and_in_order() {
    let server = start_with(
        json!({"max_request_size": 100_000, "send_queue_bytes": 32 * 1024 * 1024}),
        vec![app("app-1", "key-1", json!({}))],
    );
    let (mut late, _) = Client::connect(server.local_addr(), "key-1").await;
    late.subscribe("news").await;

    let events = 300;
    let padding = "x".repeat(64 * 1024);
    let api = Api::new(server.local_addr());
    for sequence in 0..events {
        let data = json!({"sequence": sequence, "padding": padding}).to_string();
        if sequence % 2 == 0 {
            api.trigger(&json!({"name": "big", "channels": ["news"], "data": data}))
                .await
                .assert_ok(&json!({}));
        } else {
            let queued = server
                .publish("app-1", &channels(&["news"]), "big", &data, None)
                .unwrap();
            assert_eq!(queued, 1);
        }
    }
    late.send_json(json!({"event": "pusher:ping", "data": {}}))
        .await;
    late.send_message(Message::Ping(b"late".to_vec().into()))
        .await;

    for sequence in 0..events {
        let frame = late.expect_event("big").await;
        let data = decode_data(&frame);
        assert_eq!(data["sequence"], sequence);
        assert_eq!(data["padding"].as_str().map(str::len), Some(padding.len()));
    }
    late.expect_event("pusher:pong").await;
    let pong = late.next_message().await;
    assert_eq!(pong, Some(Message::Pong(b"late".to_vec().into())));
}

// ---------------------------------------------------------------------------------------------
// Stats
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn stats_count_connections_channels_and_received_messages_per_app() {
    let server = start(vec![
        app("app-1", "key-1", json!({})),
        app("app-2", "key-2", json!({})),
    ]);
    let addr = server.local_addr();
    let zero = server.stats();
    assert_eq!(zero["app-1"].connections, 0);
    assert_eq!(zero["app-1"].messages_in, 0);

    let (mut a, _) = Client::connect(addr, "key-1").await;
    let (mut b, _) = Client::connect(addr, "key-1").await;
    let (mut c, _) = Client::connect(addr, "key-2").await;
    a.subscribe("x").await; // 1
    a.subscribe("y").await; // 2
    b.subscribe("x").await; // 3
    b.send_text("Hi").await; // 4, malformed frames count too
    b.expect_error(4200).await;
    a.ping_pong().await; // 5
    c.ping_pong().await; // app-2: 1
                         // Control frames are not messages.
    c.send_message(Message::Ping(Vec::new().into())).await;
    assert!(matches!(c.next_message().await, Some(Message::Pong(_))));

    let stats = server.stats();
    assert_eq!(stats["app-1"].connections, 2);
    assert_eq!(stats["app-1"].channels, 2);
    assert_eq!(stats["app-1"].messages_in, 5);
    assert_eq!(stats["app-2"].connections, 1);
    assert_eq!(stats["app-2"].channels, 0);
    assert_eq!(stats["app-2"].messages_in, 1);

    b.close().await;
    let after_b = stats_until(&server, "app-1", |s| s.connections == 1).await;
    assert_eq!(after_b.channels, 2, "a is still in x and y");

    a.close().await;
    stats_until(&server, "app-1", |s| s.connections == 0 && s.channels == 0).await;
    assert_eq!(server.stats()["app-2"].connections, 1);
}

// ---------------------------------------------------------------------------------------------
// Plain HTTP
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn get_up_returns_200_with_health_ok() {
    let server = start_one(json!({}));
    let (status, body) = http_get(server.local_addr(), "/up").await;
    assert_eq!(status, 200);
    let body: serde_json::Value = serde_json::from_str(&body).expect("JSON body");
    assert_eq!(body, json!({"health": "OK"}));
}

#[tokio::test]
async fn get_app_key_without_upgrade_headers_returns_400() {
    let server = start_one(json!({}));
    let (status, _) = http_get(server.local_addr(), "/app/key-1").await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn configured_path_prefixes_every_route() {
    let server = start_with(
        json!({"path": "/ws/"}),
        vec![app("app-1", "key-1", json!({}))],
    );
    let addr = server.local_addr();
    assert_eq!(http_get(addr, "/ws/up").await.0, 200);
    assert_eq!(http_get(addr, "/up").await.0, 404);
    assert_eq!(http_get(addr, "/app/key-1").await.0, 404);

    let url = format!("ws://{addr}/ws/app/key-1");
    let stream = TcpStream::connect(addr).await.unwrap();
    let (ws, _) = within(
        "the handshake under the prefix",
        tokio_tungstenite::client_async(url, stream),
    )
    .await
    .expect("handshake under the prefix");
    drop(ws);
}

// ---------------------------------------------------------------------------------------------
// Private channel auth
// ---------------------------------------------------------------------------------------------

/// The Pusher channel auth a Laravel backend returns: `key:hex(HMAC-SHA256(secret,
/// "socket_id:channel"))`.
fn channel_auth(key: &str, secret: &str, socket_id: &str, channel: &str) -> String {
    use hmac::{Hmac, Mac};
    use sha2::Sha256;

    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{socket_id}:{channel}").as_bytes());
    let signature: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    format!("{key}:{signature}")
}

#[tokio::test]
async fn private_channel_subscribe_with_a_valid_signature_succeeds() {
    let server = start_one(json!({}));
    let (mut client, socket_id) = Client::connect(server.local_addr(), "key-1").await;
    let auth = channel_auth("key-1", "key-1-secret", &socket_id, "private-orders");
    client
        .send_json(json!({"event": "pusher:subscribe", "data": {
            "channel": "private-orders",
            "auth": auth,
        }}))
        .await;
    let frame = client.next_json().await;
    assert_eq!(
        frame,
        json!({
            "event": "pusher_internal:subscription_succeeded",
            "data": "{}",
            "channel": "private-orders",
        })
    );
}

#[tokio::test]
async fn private_channel_subscribe_with_a_wrong_signature_gets_4009() {
    let server = start_one(json!({}));
    let (mut client, socket_id) = Client::connect(server.local_addr(), "key-1").await;
    let wrong = [
        // Signed with another secret.
        channel_auth("key-1", "not-the-secret", &socket_id, "private-orders"),
        // Signed for another channel.
        channel_auth("key-1", "key-1-secret", &socket_id, "private-other"),
        // Signed for another socket.
        channel_auth("key-1", "key-1-secret", "1.1", "private-orders"),
    ];
    for auth in wrong {
        client
            .send_json(json!({"event": "pusher:subscribe", "data": {
                "channel": "private-orders",
                "auth": auth,
            }}))
            .await;
        let error = client.expect_error(4009).await;
        assert_eq!(error["message"], "Connection is unauthorized");
    }
    client.ping_pong().await;
    assert_eq!(server.stats()["app-1"].channels, 0);
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
