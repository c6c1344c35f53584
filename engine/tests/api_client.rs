//! The engine's blocking HTTP API client (`reverb_engine::Client`) against a real server:
//! each call's answer, delivery to real WebSocket subscribers, and how errors come back.

mod api_support;
mod support;

use api_support::Api;
use reverb_engine::{BatchEvent, Client as ApiClient, ClientConfig, ClientError};
use serde_json::json;
use std::net::SocketAddr;
use std::time::Duration;
use support::{
    app, assert_terminated, event_frame, join_presence_as, names, sign_in_as, start_one,
    start_with, within, Client, APP_ID, KEY, SECRET,
};

/// A client configuration for the default app on `addr`.
fn client_config(addr: SocketAddr) -> ClientConfig {
    ClientConfig {
        key: KEY.into(),
        secret: SECRET.into(),
        app_id: APP_ID.into(),
        scheme: "http".into(),
        host: addr.ip().to_string(),
        port: addr.port(),
        path: String::new(),
        timeout: Duration::from_secs(3),
        verify: reverb_engine::Verification::WebPki,
    }
}

/// Runs a blocking client call on the blocking pool, bounded by the test timeout.
async fn blocking<T: Send + 'static>(what: &str, call: impl FnOnce() -> T + Send + 'static) -> T {
    within(what, tokio::task::spawn_blocking(call))
        .await
        .expect("the blocking call did not panic")
}

/// Builds a client of the default app on `addr` and runs `calls` with it on the blocking
/// pool, bounded by the test timeout.
async fn with_client<T: Send + 'static>(
    addr: SocketAddr,
    what: &str,
    calls: impl FnOnce(ApiClient) -> T + Send + 'static,
) -> T {
    let config = client_config(addr);
    blocking(what, move || {
        calls(ApiClient::new(config).expect("a valid client"))
    })
    .await
}

#[tokio::test]
async fn client_trigger_delivers_and_returns_channel_info() {
    let server = start_one(json!({}));
    let addr = server.local_addr();
    let (mut a, id_a) = Client::subscribed(addr, "news").await;
    let (mut b, _) = Client::subscribed(addr, "news").await;

    let answer = with_client(addr, "client.trigger", move |client| {
        let plain = client.trigger(&names(&["news"]), "update", r#"{"v":1}"#, None, &[]);
        let info = client.trigger(
            &names(&["news"]),
            "update",
            r#"{"v":2}"#,
            Some(&id_a),
            &names(&["subscription_count"]),
        );
        (plain, info)
    })
    .await;
    assert_eq!(answer.0, Ok(json!({})));
    assert_eq!(
        answer.1,
        Ok(json!({"channels": {"news": {"subscription_count": 2}}}))
    );
    assert_eq!(
        a.next_json().await,
        event_frame("update", r#"{"v":1}"#, "news")
    );
    assert_eq!(
        b.next_json().await,
        event_frame("update", r#"{"v":1}"#, "news")
    );
    assert_eq!(
        b.next_json().await,
        event_frame("update", r#"{"v":2}"#, "news")
    );
    Api::new(addr).assert_next_is_marker(&mut a, "news").await;
}

#[tokio::test]
async fn client_trigger_batch_delivers_and_returns_batch_info() {
    let server = start_one(json!({}));
    let addr = server.local_addr();
    let (mut a, _) = Client::subscribed(addr, "a").await;

    let answer = with_client(addr, "client.trigger_batch", move |client| {
        let event = |channel: &str, name: &str, info: &[&str]| BatchEvent {
            channel: channel.into(),
            name: name.into(),
            data: "{}".into(),
            socket_id: None,
            info: names(info),
        };
        let plain = client.trigger_batch(&[event("a", "one", &[]), event("b", "two", &[])]);
        let info = client.trigger_batch(&[
            event("a", "three", &["subscription_count"]),
            event("b", "four", &[]),
        ]);
        (plain, info)
    })
    .await;
    assert_eq!(answer.0, Ok(json!({"batch": {}})));
    assert_eq!(
        answer.1,
        Ok(json!({"batch": [{"subscription_count": 1}, {}]}))
    );
    assert_eq!(a.next_json().await, event_frame("one", "{}", "a"));
    assert_eq!(a.next_json().await, event_frame("three", "{}", "a"));
}

#[tokio::test]
async fn client_channels_and_channel_report_occupied_channels() {
    let server = start_one(json!({}));
    let addr = server.local_addr();
    let (mut a, id_a) = Client::subscribed(addr, "news").await;
    join_presence_as(&mut a, &id_a, "presence-room", json!(1)).await;

    let answers = with_client(addr, "client.channels / client.channel", move |client| {
        vec![
            client.channels(None, &[]),
            client.channels(Some("presence-"), &names(&["user_count"])),
            client.channel("news", &names(&["subscription_count"])),
            client.channel("presence-room", &names(&["user_count"])),
            client.channel("nobody", &[]),
        ]
    })
    .await;
    assert_eq!(
        answers,
        vec![
            Ok(json!({"channels": {"news": {}, "presence-room": {}}})),
            Ok(json!({"channels": {"presence-room": {"user_count": 1}}})),
            Ok(json!({"occupied": true, "subscription_count": 1})),
            Ok(json!({"occupied": true, "user_count": 1})),
            Ok(json!({"occupied": false})),
        ]
    );
}

#[tokio::test]
async fn client_users_lists_presence_users() {
    let server = start_one(json!({}));
    let addr = server.local_addr();
    let (mut a, id_a) = Client::connect(addr, KEY).await;
    join_presence_as(&mut a, &id_a, "presence-room", json!(1)).await;
    a.subscribe("news").await;

    let answers = with_client(addr, "client.users", move |client| {
        (
            client.users("presence-room"),
            client.users("news"),
            client.users("presence-empty"),
        )
    })
    .await;
    assert_eq!(answers.0, Ok(json!({"users": [{"id": 1}]})));
    assert_eq!(answers.1.as_ref().map_err(|e| e.status), Err(Some(400)));
    assert_eq!(answers.2.as_ref().map_err(|e| e.status), Err(Some(404)));
}

#[tokio::test]
async fn client_terminate_user_connections_closes_the_users_sockets() {
    let server = start_one(json!({}));
    let addr = server.local_addr();
    let (mut target, id_target) = Client::connect(addr, KEY).await;
    let (mut bystander, _) = Client::connect(addr, KEY).await;
    join_presence_as(&mut target, &id_target, "presence-room", json!(42)).await;
    bystander.subscribe("news").await;

    let answer = with_client(addr, "client.terminate_user_connections", |client| {
        client.terminate_user_connections("42")
    })
    .await;
    assert_eq!(answer, Ok(json!({})));
    assert_terminated(&mut target).await;
    bystander.ping_pong().await;
}

#[tokio::test]
async fn client_send_to_user_reaches_the_signed_in_user() {
    let server = start_one(json!({}));
    let addr = server.local_addr();
    let (mut user, id_user) = Client::connect(addr, KEY).await;
    let (mut other, id_other) = Client::connect(addr, KEY).await;
    sign_in_as(&mut user, &id_user, "42").await;
    user.subscribe("#server-to-user-42").await;
    sign_in_as(&mut other, &id_other, "43").await;
    other.subscribe("#server-to-user-43").await;

    let answers = with_client(addr, "client.send_to_user", move |client| {
        (
            client.send_to_user("42", "greeting", r#"{"hello":"you"}"#),
            // The channel name needs escaping in the path; the signature covers it as sent.
            client.channel("#server-to-user-42", &names(&["subscription_count"])),
        )
    })
    .await;
    assert_eq!(answers.0, Ok(json!({})));
    assert_eq!(
        user.next_json().await,
        event_frame("greeting", r#"{"hello":"you"}"#, "#server-to-user-42")
    );
    assert_eq!(
        answers.1,
        Ok(json!({"occupied": true, "subscription_count": 1}))
    );
    let before = other.frames_until_pong().await;
    assert!(before.is_empty(), "user 43 got {before:?}");
}

#[tokio::test]
async fn client_error_status_comes_back_in_client_error() {
    let server = start_one(json!({}));
    let addr = server.local_addr();
    let mut wrong_secret = client_config(addr);
    wrong_secret.secret = "wrong".into();
    let mut unknown_app = client_config(addr);
    unknown_app.app_id = "no-such-app".into();
    let answers = blocking("failing client calls", move || {
        (
            ApiClient::new(wrong_secret)
                .expect("a valid client")
                .channels(None, &[]),
            ApiClient::new(unknown_app)
                .expect("a valid client")
                .trigger(&names(&["news"]), "e", "{}", None, &[]),
        )
    })
    .await;
    let error = answers.0.expect_err("a wrong secret is refused");
    assert_eq!(error.status, Some(401));
    assert!(
        error.message.contains("Authentication signature invalid"),
        "{error:?}"
    );
    let error = answers.1.expect_err("an unknown app is refused");
    assert_eq!(error.status, Some(404));
    assert!(error.message.contains("no-such-app"), "{error:?}");
}

#[tokio::test]
async fn client_against_an_unreachable_port_has_no_status() {
    // A port that was free a moment ago and has nothing listening now.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().unwrap().port()
    };
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let answer = with_client(addr, "a call to a closed port", |client| {
        client.trigger(&names(&["news"]), "e", "{}", None, &[])
    })
    .await;
    match answer {
        Err(ClientError {
            status: None,
            message,
        }) => {
            assert!(message.contains("Could not reach"), "{message}")
        }
        other => panic!("expected a transport error, got {other:?}"),
    }
}

#[tokio::test]
async fn client_with_a_path_prefix_reaches_a_prefixed_server() {
    let server = start_with(json!({"path": "/ws"}), vec![app(APP_ID, KEY, json!({}))]);
    let addr = server.local_addr();
    let mut prefixed = client_config(addr);
    prefixed.path = "/ws".into();
    let unprefixed = client_config(addr);
    let answers = blocking("prefixed client calls", move || {
        (
            ApiClient::new(prefixed.clone())
                .expect("a valid client")
                .channels(None, &[]),
            ApiClient::new(prefixed).expect("a valid client").trigger(
                &names(&["news"]),
                "e",
                "{}",
                None,
                &[],
            ),
            ApiClient::new(unprefixed)
                .expect("a valid client")
                .channels(None, &[]),
        )
    })
    .await;
    assert_eq!(answers.0, Ok(json!({"channels": {}})));
    assert_eq!(answers.1, Ok(json!({})));
    assert_eq!(answers.2.map_err(|e| e.status), Err(Some(404)));
}
