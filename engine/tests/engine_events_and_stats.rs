//! What the engine reports to its host: the events of a socket's lifecycle in order, every
//! handled message (unless the host asks for none), the origin and address of a socket, and
//! per-app stats.

mod support;

use reverb_engine::EngineEvent;
use serde_json::json;
use support::{app, events_until, start_one, start_two_apps, start_with, stats_until, Client};
use tokio_tungstenite::tungstenite::Message;

#[tokio::test]
async fn engine_reports_the_lifecycle_of_a_socket() {
    let server = start_one(json!({}));
    let (mut client, socket_id) = Client::subscribed(server.local_addr(), "news").await;
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
async fn stats_count_connections_channels_and_received_messages_per_app() {
    let server = start_two_apps();
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

#[tokio::test]
async fn a_host_that_asks_for_no_received_messages_gets_the_lifecycle_without_them() {
    let server = start_with(
        json!({"report_received_messages": false}),
        vec![app("app-1", "key-1", json!({}))],
    );
    let (mut client, socket_id) = Client::subscribed(server.local_addr(), "news").await;
    client.ping_pong().await;
    client.close().await;

    let closed = EngineEvent::ConnectionClosed {
        app_id: "app-1".into(),
        socket_id,
    };
    let events = events_until(&server, |events| events.contains(&closed)).await;
    assert!(
        events
            .iter()
            .any(|e| matches!(e, EngineEvent::Subscribed { .. })),
        "{events:#?}"
    );
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, EngineEvent::MessageReceived { .. })),
        "{events:#?}"
    );
}
