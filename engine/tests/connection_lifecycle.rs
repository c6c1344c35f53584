//! How sockets end: server pings and pruning of silent sockets (`ping_interval` = 1 s),
//! leaving every channel on disconnect, `Server::stop` (and `/up` while it drains), and slow
//! consumers whose send queue overflows or who read late.

mod api_support;
mod support;

use api_support::Api;
use reverb_engine::EngineEvent;
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::{
    app, decode_data, events_until, http_get, publish, start_one, start_with, stats_until, within,
    Client, TIMEOUT,
};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;

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

#[tokio::test]
async fn disconnecting_leaves_every_channel() {
    let server = start_one(json!({}));
    let (mut client, socket_id) = Client::subscribed(server.local_addr(), "a").await;
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

/// Polls `/up` until it answers 503, as a load balancer's health check would see it.
async fn up_turns_unavailable(addr: std::net::SocketAddr) -> serde_json::Value {
    within("/up to answer 503", async {
        loop {
            let (status, body) = http_get(addr, "/up").await;
            if status == 503 {
                return serde_json::from_str(&body).expect("a JSON body");
            }
            assert_eq!(status, 200, "{body}");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
}

#[tokio::test]
async fn up_answers_503_while_a_stop_still_serves_open_sockets_which_then_close_with_4200() {
    let server = Arc::new(start_one(json!({})));
    let addr = server.local_addr();
    let (mut client, _) = Client::subscribed(addr, "news").await;
    assert_eq!(http_get(addr, "/up").await.0, 200);

    // A 3 s grace: the open socket is served for 2 s, then gets the last second to close.
    let stopper = {
        let server = server.clone();
        tokio::task::spawn_blocking(move || server.stop(Duration::from_secs(3)))
    };
    assert_eq!(
        up_turns_unavailable(addr).await,
        json!({"health": "stopping"})
    );

    publish(&server, &["news"], "still-served", "1");
    client.expect_event("still-served").await;
    let url = format!("ws://{addr}/app/key-1?protocol=7&client=js&version=8.4.0");
    let stream = TcpStream::connect(addr).await.expect("tcp connect");
    match within("the refusal", tokio_tungstenite::client_async(url, stream)).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 503)
        }
        other => panic!("a new socket was not refused: {other:?}"),
    }

    assert_eq!(
        client.expect_error(4200).await["message"],
        "Server is shutting down"
    );
    assert_eq!(client.expect_close().await.0, 4200);
    within("stop to return", stopper).await.unwrap();
    assert!(within("a connect after stop", TcpStream::connect(addr))
        .await
        .is_err());
}

#[tokio::test]
async fn a_stop_drains_only_while_sockets_are_open() {
    let server = Arc::new(start_one(json!({})));
    let addr = server.local_addr();
    let (client, _) = Client::connect(addr, "key-1").await;

    // Far longer than the test may take: the stop can only end by itself once the last
    // socket has gone.
    let grace = TIMEOUT * 10;
    let stopper = {
        let server = server.clone();
        tokio::task::spawn_blocking(move || server.stop(grace))
    };
    up_turns_unavailable(addr).await;
    client.close().await;
    within("stop to return once no socket is open", stopper)
        .await
        .unwrap();
    assert!(!server.is_running());
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

/// A client that stops reading fills the TCP buffers and then its send queue; the socket is
/// then dropped with its subscriptions and connection slot, even though its task is stuck in
/// a write.
#[tokio::test]
async fn client_that_stops_reading_is_disconnected_once_its_send_queue_overflows() {
    let server = start_with(
        json!({"send_queue_size": 4}),
        vec![app("app-1", "key-1", json!({}))],
    );
    let (stalled, socket_id) = Client::subscribed(server.local_addr(), "news").await;
    // From here on the client reads nothing.

    let payload = "x".repeat(64 * 1024);
    let overflowed = within("the send queue to overflow", async {
        for _ in 0..10_000 {
            let queued = publish(&server, &["news"], "big", &payload);
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
    let (mut late, _) = Client::subscribed(server.local_addr(), "news").await;

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
            let queued = publish(&server, &["news"], "big", &data);
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
