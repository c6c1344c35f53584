//! HTTP API tests: every route of the Pusher HTTP API (and Reverb's extensions) against a real
//! server on 127.0.0.1, with real HTTP/1.1 clients (hyper, raw `TcpStream`, and the engine's
//! own blocking `reverb_engine::client::Client`) and real WebSocket subscribers.
//!
//! Negative delivery checks ("this event did not reach socket S") never sleep: after the
//! request that must not deliver, a marker is published to S through the same ordered send
//! queue, and the next frame S sees must be that marker.

mod api_support;
mod support;

use api_support::{
    encode_query, frames_until_pong, join_presence, now, raw_exchange, read_responses, sign_in,
    Api, HttpConn, Resp, APP_ID, KEY, SECRET,
};
use reverb_engine::{BatchEvent, Client as ApiClient, ClientConfig, ClientError};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::time::Duration;
use support::{app, start, start_one, start_with, within, Client};
use tokio::io::AsyncWriteExt;
use tokio_tungstenite::tungstenite::Message;

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|name| name.to_string()).collect()
}

/// The next text frame as the exact string the server wrote (control frames skipped).
async fn next_text(client: &mut Client) -> String {
    loop {
        match client.next_message().await {
            Some(Message::Text(text)) => return text.as_str().to_string(),
            Some(Message::Ping(_) | Message::Pong(_)) => continue,
            other => panic!("expected a text frame, got {other:?}"),
        }
    }
}

/// The frame a channel event is delivered as.
fn event_frame(event: &str, data: &str, channel: &str) -> Value {
    json!({"event": event, "data": data, "channel": channel})
}

/// Triggers a marker on `channel` over the API and asserts it is the next frame `client`
/// sees, which proves nothing else was queued for that client before it.
async fn assert_next_is_marker(api: &Api, client: &mut Client, channel: &str) {
    api.trigger(&json!({"name": "marker", "data": "m", "channels": [channel]}))
        .await
        .assert_ok(&json!({}));
    assert_eq!(
        client.next_json().await,
        event_frame("marker", "m", channel),
        "expected only the marker, got an earlier frame"
    );
}

/// Polls `GET /apps/{id}{route}` until its JSON body is `expected`, bounded by the timeout.
async fn get_until(api: &Api, route: &str, params: &[(&str, &str)], expected: &Value) {
    let deadline = tokio::time::Instant::now() + support::TIMEOUT;
    loop {
        let resp = api.get(route, params).await;
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

// ---------------------------------------------------------------------------------------------
// POST /apps/{id}/events
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn trigger_to_one_channel_returns_an_empty_object_and_delivers_the_frame() {
    let server = start_one(json!({}));
    let addr = server.local_addr();
    let (mut subscriber, _) = Client::connect(addr, KEY).await;
    subscriber.subscribe("news").await;

    let data = r#"{ "price": 1.5, "text": "héllo \"world\"" }"#;
    let resp = Api::new(addr)
        .trigger(&json!({"name": "update", "data": data, "channels": ["news"]}))
        .await;
    resp.assert_ok(&json!({}));
    assert_eq!(resp.body, "{}");

    // The frame is {"event","data","channel"} in that order, data as the publisher sent it.
    let expected = format!(
        r#"{{"event":"update","data":{},"channel":"news"}}"#,
        serde_json::to_string(data).unwrap()
    );
    assert_eq!(next_text(&mut subscriber).await, expected);
}

#[tokio::test]
async fn trigger_to_several_channels_returns_an_empty_object_and_reaches_each_channel() {
    let server = start_one(json!({}));
    let addr = server.local_addr();
    let (mut one, _) = Client::connect(addr, KEY).await;
    let (mut two, _) = Client::connect(addr, KEY).await;
    one.subscribe("one").await;
    two.subscribe("two").await;

    let api = Api::new(addr);
    api.trigger(&json!({"name": "e", "data": "{}", "channels": ["one", "two", "nobody"]}))
        .await
        .assert_ok(&json!({}));
    assert_eq!(one.next_json().await, event_frame("e", "{}", "one"));
    assert_eq!(two.next_json().await, event_frame("e", "{}", "two"));

    // The single-channel form (`channel` instead of `channels`) is accepted too.
    api.trigger(&json!({"name": "single", "data": "x", "channel": "two"}))
        .await
        .assert_ok(&json!({}));
    assert_eq!(two.next_json().await, event_frame("single", "x", "two"));
}

#[tokio::test]
async fn trigger_with_socket_id_excludes_that_socket() {
    let server = start_one(json!({}));
    let addr = server.local_addr();
    let (mut a, id_a) = Client::connect(addr, KEY).await;
    let (mut b, _) = Client::connect(addr, KEY).await;
    a.subscribe("news").await;
    b.subscribe("news").await;

    let api = Api::new(addr);
    api.trigger(&json!({"name": "update", "data": "{}", "channels": ["news"], "socket_id": id_a}))
        .await
        .assert_ok(&json!({}));
    assert_eq!(b.next_json().await, event_frame("update", "{}", "news"));
    assert_next_is_marker(&api, &mut a, "news").await;
}

#[tokio::test]
async fn trigger_info_returns_user_count_for_presence_and_subscription_count_for_others() {
    let server = start_one(json!({}));
    let addr = server.local_addr();
    let (mut member, member_id) = Client::connect(addr, KEY).await;
    join_presence(&mut member, &member_id, "presence-a", json!(1)).await;
    let (mut subscriber, _) = Client::connect(addr, KEY).await;
    subscriber.subscribe("b").await;

    let api = Api::new(addr);
    let body = |info: &str| json!({"name": "e", "data": "{}", "channels": ["presence-a", "b"], "info": info});
    api.trigger(&body("subscription_count,user_count"))
        .await
        .assert_ok(&json!({"channels": {
            "presence-a": {"user_count": 1},
            "b": {"subscription_count": 1},
        }}));
    api.trigger(&body("user_count"))
        .await
        .assert_ok(&json!({"channels": {
            "presence-a": {"user_count": 1},
            "b": {},
        }}));
    api.trigger(&body("subscription_count"))
        .await
        .assert_ok(&json!({"channels": {
            "presence-a": {},
            "b": {"subscription_count": 1},
        }}));

    // With info the event is still delivered.
    for _ in 0..3 {
        assert_eq!(subscriber.next_json().await, event_frame("e", "{}", "b"));
        assert_eq!(
            member.next_json().await,
            event_frame("e", "{}", "presence-a")
        );
    }
}

#[tokio::test]
async fn trigger_without_name_is_422_naming_the_field() {
    let server = start_one(json!({}));
    Api::new(server.local_addr())
        .trigger(&json!({"data": "{}", "channels": ["news"]}))
        .await
        .assert_error(422, &["name field"]);
}

#[tokio::test]
async fn trigger_with_non_string_data_is_422_naming_the_field() {
    let server = start_one(json!({}));
    let api = Api::new(server.local_addr());
    api.trigger(&json!({"name": "e", "data": {"a": 1}, "channels": ["news"]}))
        .await
        .assert_error(422, &["data field", "string"]);
    api.trigger(&json!({"name": "e", "channels": ["news"]}))
        .await
        .assert_error(422, &["data field"]);
}

#[tokio::test]
async fn trigger_without_channels_is_422_naming_the_field() {
    let server = start_one(json!({}));
    let api = Api::new(server.local_addr());
    api.trigger(&json!({"name": "e", "data": "{}"}))
        .await
        .assert_error(422, &["channels field"]);
    api.trigger(&json!({"name": "e", "data": "{}", "channels": []}))
        .await
        .assert_error(422, &["channels field"]);
    api.trigger(&json!({"name": "e", "data": "{}", "channels": "news"}))
        .await
        .assert_error(422, &["channels field", "array"]);
}

#[tokio::test]
async fn trigger_with_non_string_socket_id_is_422_naming_the_field_and_delivers_nothing() {
    let server = start_one(json!({}));
    let addr = server.local_addr();
    let (mut subscriber, _) = Client::connect(addr, KEY).await;
    subscriber.subscribe("news").await;
    let api = Api::new(addr);
    api.trigger(&json!({"name": "e", "data": "{}", "channels": ["news"], "socket_id": 123}))
        .await
        .assert_error(422, &["socket_id field", "string"]);
    assert_next_is_marker(&api, &mut subscriber, "news").await;
}

#[tokio::test]
async fn trigger_with_an_invalid_channel_name_is_422_naming_the_channel() {
    let server = start_one(json!({}));
    let addr = server.local_addr();
    let (mut subscriber, _) = Client::connect(addr, KEY).await;
    subscriber.subscribe("news").await;
    let api = Api::new(addr);
    api.trigger(&json!({"name": "e", "data": "{}", "channels": ["news", "has space"]}))
        .await
        .assert_error(422, &["channels", "Invalid channel name", "has space"]);
    api.trigger(&json!({"name": "e", "data": "{}", "channels": ["news", 7]}))
        .await
        .assert_error(422, &["channels.1 field"]);
    // A rejected event reaches none of its channels.
    assert_next_is_marker(&api, &mut subscriber, "news").await;
}

#[tokio::test]
async fn trigger_over_max_channels_per_event_is_422() {
    let server = start_one(json!({"max_channels_per_event": 2}));
    let addr = server.local_addr();
    let (mut subscriber, _) = Client::connect(addr, KEY).await;
    subscriber.subscribe("a").await;
    let api = Api::new(addr);
    api.trigger(&json!({"name": "e", "data": "{}", "channels": ["a", "b", "c"]}))
        .await
        .assert_error(422, &["channels field", "max_channels_per_event", "(2)"]);
    api.trigger(&json!({"name": "ok", "data": "{}", "channels": ["a", "b"]}))
        .await
        .assert_ok(&json!({}));
    assert_eq!(subscriber.next_json().await, event_frame("ok", "{}", "a"));
}

#[tokio::test]
async fn trigger_with_a_body_that_is_not_json_is_400() {
    let server = start_one(json!({}));
    let api = Api::new(server.local_addr());
    api.post_bytes("/events", b"name=e&data=x".to_vec())
        .await
        .assert_error(400, &["not valid JSON"]);
    api.post_bytes("/events", b"[1,2]".to_vec())
        .await
        .assert_error(400, &["JSON object"]);
}

#[tokio::test]
async fn trigger_over_max_request_size_is_413() {
    let server = start_one(json!({}));
    let addr = server.local_addr();
    let api = Api::new(addr);

    // A real body over the default 10 000 bytes, with its Content-Length.
    let big = "x".repeat(20_000);
    api.trigger(&json!({"name": "e", "data": big, "channels": ["news"]}))
        .await
        .assert_error(413, &["max_request_size", "10000"]);

    // A declared Content-Length over the limit is refused before the body is read.
    let uri = api.signed_uri("POST", &api.path("/events"), &[], b"{}");
    let request = format!(
        "POST {uri} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Content-Length: 50000\r\n\r\n"
    );
    let (responses, _stream) = raw_exchange(addr, request.as_bytes(), 1).await;
    assert_eq!(responses[0].status, 413, "{:?}", responses[0]);
    assert!(responses[0].json()["error"]
        .as_str()
        .unwrap()
        .contains("max_request_size"));

    // A chunked body without Content-Length is cut off at the limit too.
    let chunk = "y".repeat(12_000);
    let request = format!(
        "POST {uri} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Transfer-Encoding: chunked\r\n\r\n{:x}\r\n{chunk}\r\n0\r\n\r\n",
        chunk.len()
    );
    let (responses, _stream) = raw_exchange(addr, request.as_bytes(), 1).await;
    assert_eq!(responses[0].status, 413, "{:?}", responses[0]);
}

#[tokio::test]
async fn trigger_with_a_raised_max_request_size_accepts_a_150_kb_body() {
    let server = start_with(
        json!({"max_request_size": 200_000}),
        vec![app(APP_ID, KEY, json!({}))],
    );
    let addr = server.local_addr();
    let (mut subscriber, _) = Client::connect(addr, KEY).await;
    subscriber.subscribe("news").await;

    let data = "z".repeat(150_000);
    let body = json!({"name": "big", "data": data, "channels": ["news"]});
    assert!(body.to_string().len() > 150_000);
    Api::new(addr).trigger(&body).await.assert_ok(&json!({}));
    let frame = subscriber.next_json().await;
    assert_eq!(frame["event"], "big");
    assert_eq!(frame["data"].as_str().map(str::len), Some(150_000));
}

#[tokio::test]
async fn trigger_with_a_bad_signature_is_401() {
    let server = start_one(json!({}));
    let api = Api::new(server.local_addr());
    let body = br#"{"name":"e","data":"{}","channels":["news"]}"#.to_vec();
    let uri = api.signed_uri("POST", &api.path("/events"), &[], &body);
    // Flip the last hex digit of the signature (the last parameter).
    let last = uri.chars().last().unwrap();
    let flipped = if last == '0' { '1' } else { '0' };
    let forged = format!("{}{flipped}", &uri[..uri.len() - 1]);
    api.send("POST", &forged, body.clone())
        .await
        .assert_error(401, &["Authentication signature invalid"]);

    // A signature by another secret is refused too.
    let mut other = api.clone();
    other.secret = "not-the-secret".into();
    let uri = other.signed_uri("POST", &api.path("/events"), &[], &body);
    let resp = api.send("POST", &uri, body).await;
    assert_eq!(resp.status, 401);
    assert_eq!(resp.error(), "Authentication signature invalid.");
}

#[tokio::test]
async fn trigger_with_a_wrong_auth_key_is_401() {
    let server = start_one(json!({}));
    let mut api = Api::new(server.local_addr());
    api.key = "other-key".into();
    api.trigger(&json!({"name": "e", "data": "{}", "channels": ["news"]}))
        .await
        .assert_error(401, &["auth_key"]);
}

#[tokio::test]
async fn trigger_with_a_stale_auth_timestamp_is_401() {
    let server = start_one(json!({}));
    let api = Api::new(server.local_addr());
    let body = br#"{"name":"e","data":"{}","channels":["news"]}"#.to_vec();
    for timestamp in [now() - 700, now() + 700] {
        let uri = api.signed_uri_at("POST", &api.path("/events"), &[], &body, timestamp);
        api.send("POST", &uri, body.clone()).await.assert_error(
            401,
            &["auth_timestamp", &timestamp.to_string(), "600 seconds"],
        );
    }
    // Inside the window is fine.
    let uri = api.signed_uri_at("POST", &api.path("/events"), &[], &body, now() - 300);
    api.send("POST", &uri, body).await.assert_ok(&json!({}));
}

#[tokio::test]
async fn trigger_with_any_auth_timestamp_is_accepted_when_timestamp_window_is_0() {
    let server = start_with(
        json!({"timestamp_window": 0}),
        vec![app(APP_ID, KEY, json!({}))],
    );
    let api = Api::new(server.local_addr());
    let body = br#"{"name":"e","data":"{}","channels":["news"]}"#.to_vec();
    for timestamp in [1, now() - 100_000, now() + 100_000] {
        let uri = api.signed_uri_at("POST", &api.path("/events"), &[], &body, timestamp);
        api.send("POST", &uri, body.clone())
            .await
            .assert_ok(&json!({}));
    }
}

#[tokio::test]
async fn trigger_with_a_body_md5_mismatch_is_401() {
    let server = start_one(json!({}));
    let addr = server.local_addr();
    let (mut subscriber, _) = Client::connect(addr, KEY).await;
    subscriber.subscribe("news").await;
    let api = Api::new(addr);
    let signed_body = br#"{"name":"e","data":"signed","channels":["news"]}"#;
    let sent_body = br#"{"name":"e","data":"tampered","channels":["news"]}"#.to_vec();
    let uri = api.signed_uri("POST", &api.path("/events"), &[], signed_body);
    api.send("POST", &uri, sent_body)
        .await
        .assert_error(401, &["body_md5"]);
    assert_next_is_marker(&api, &mut subscriber, "news").await;
}

#[tokio::test]
async fn trigger_without_auth_signature_is_401() {
    let server = start_one(json!({}));
    let api = Api::new(server.local_addr());
    let body = br#"{"name":"e","data":"{}","channels":["news"]}"#.to_vec();
    let path = api.path("/events");
    let signed = reverb_engine::sign_request(KEY, SECRET, "POST", &path, &[], &body, now());
    let unsigned: Vec<(String, String)> = signed
        .into_iter()
        .filter(|(key, _)| key != "auth_signature")
        .collect();
    let uri = format!("{path}?{}", encode_query(&unsigned));
    api.send("POST", &uri, body.clone())
        .await
        .assert_error(401, &["auth_signature", "missing"]);
    // No query at all.
    api.send("POST", &path, body)
        .await
        .assert_error(401, &["auth_signature", "missing"]);
}

#[tokio::test]
async fn trigger_for_an_unknown_app_is_404_naming_the_id() {
    let server = start_one(json!({}));
    let mut api = Api::new(server.local_addr());
    api.app_id = "no-such-app".into();
    let resp = api
        .trigger(&json!({"name": "e", "data": "{}", "channels": ["news"]}))
        .await;
    resp.assert_error(404, &["no-such-app"]);
    assert_eq!(
        resp.error(),
        "No matching application for ID [no-such-app]."
    );
    // Any route of an unknown app.
    api.get("/channels", &[])
        .await
        .assert_error(404, &["no-such-app"]);
}

#[tokio::test]
async fn get_on_events_is_405_with_an_allow_post_header() {
    let server = start_one(json!({}));
    let api = Api::new(server.local_addr());
    let resp = api.get("/events", &[]).await;
    resp.assert_error(405, &["POST"]);
    assert_eq!(resp.header("allow").as_deref(), Some("POST"));

    // And the other way round: POST on a GET route.
    let resp = api.post("/channels", &json!({})).await;
    resp.assert_error(405, &["GET"]);
    assert_eq!(resp.header("allow").as_deref(), Some("GET"));

    let resp = api.get("/batch_events", &[]).await;
    assert_eq!(resp.status, 405);
    assert_eq!(resp.header("allow").as_deref(), Some("POST"));
}

#[tokio::test]
async fn unknown_route_under_an_app_is_404() {
    let server = start_one(json!({}));
    let api = Api::new(server.local_addr());
    for route in ["/nope", "/channels/a/b/c", "/users/1"] {
        api.get(route, &[]).await.assert_error(404, &["Not found"]);
    }
}

// ---------------------------------------------------------------------------------------------
// POST /apps/{id}/batch_events
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn batch_without_info_returns_an_empty_batch_object() {
    let server = start_one(json!({}));
    let resp = Api::new(server.local_addr())
        .post(
            "/batch_events",
            &json!({"batch": [
                {"channel": "a", "name": "e1", "data": "1"},
                {"channel": "b", "name": "e2", "data": "2"},
            ]}),
        )
        .await;
    resp.assert_ok(&json!({"batch": {}}));
    assert_eq!(resp.body, r#"{"batch":{}}"#);
}

#[tokio::test]
async fn batch_with_info_on_some_items_returns_one_entry_per_item() {
    let server = start_one(json!({}));
    let addr = server.local_addr();
    let (mut member, member_id) = Client::connect(addr, KEY).await;
    join_presence(&mut member, &member_id, "presence-a", json!("u1")).await;
    let (mut subscriber, _) = Client::connect(addr, KEY).await;
    subscriber.subscribe("b").await;

    Api::new(addr)
        .post(
            "/batch_events",
            &json!({"batch": [
                {"channel": "presence-a", "name": "e", "data": "1", "info": "user_count,subscription_count"},
                {"channel": "b", "name": "e", "data": "2", "info": "subscription_count,user_count"},
                {"channel": "c", "name": "e", "data": "3"},
            ]}),
        )
        .await
        .assert_ok(&json!({"batch": [
            {"user_count": 1},
            {"subscription_count": 1},
            {},
        ]}));
}

#[tokio::test]
async fn batch_over_max_events_per_batch_is_422_and_delivers_nothing() {
    let server = start_one(json!({"max_events_per_batch": 2}));
    let addr = server.local_addr();
    let (mut subscriber, _) = Client::connect(addr, KEY).await;
    subscriber.subscribe("a").await;
    let api = Api::new(addr);
    let item = json!({"channel": "a", "name": "e", "data": "{}"});
    api.post("/batch_events", &json!({"batch": [item, item, item]}))
        .await
        .assert_error(422, &["max_events_per_batch", "(2)"]);
    assert_next_is_marker(&api, &mut subscriber, "a").await;
    api.post("/batch_events", &json!({"batch": [item, item]}))
        .await
        .assert_ok(&json!({"batch": {}}));
}

#[tokio::test]
async fn batch_item_errors_are_422_naming_the_item() {
    let server = start_one(json!({}));
    let api = Api::new(server.local_addr());
    api.post(
        "/batch_events",
        &json!({"batch": [
            {"channel": "a", "name": "e", "data": "{}"},
            {"channel": "a", "data": "{}"},
        ]}),
    )
    .await
    .assert_error(422, &["batch.1.name"]);
    api.post("/batch_events", &json!({"events": []}))
        .await
        .assert_error(422, &["batch field"]);
}

#[tokio::test]
async fn batch_items_are_delivered_to_their_channels() {
    let server = start_one(json!({}));
    let addr = server.local_addr();
    let (mut a, id_a) = Client::connect(addr, KEY).await;
    let (mut b, _) = Client::connect(addr, KEY).await;
    a.subscribe("a").await;
    b.subscribe("b").await;
    b.subscribe("a").await;

    let api = Api::new(addr);
    api.post(
        "/batch_events",
        &json!({"batch": [
            {"channel": "a", "name": "first", "data": "1"},
            {"channel": "b", "name": "second", "data": "2"},
            {"channel": "a", "name": "third", "data": "3", "socket_id": id_a},
        ]}),
    )
    .await
    .assert_ok(&json!({"batch": {}}));

    assert_eq!(a.next_json().await, event_frame("first", "1", "a"));
    assert_eq!(b.next_json().await, event_frame("first", "1", "a"));
    assert_eq!(b.next_json().await, event_frame("second", "2", "b"));
    assert_eq!(b.next_json().await, event_frame("third", "3", "a"));
    // `third` excluded socket a.
    assert_next_is_marker(&api, &mut a, "a").await;
}

// ---------------------------------------------------------------------------------------------
// GET /apps/{id}/channels
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn channels_lists_only_occupied_channels() {
    let server = start_one(json!({}));
    let addr = server.local_addr();
    let api = Api::new(addr);
    api.get("/channels", &[])
        .await
        .assert_ok(&json!({"channels": {}}));

    let (mut client, socket_id) = Client::connect(addr, KEY).await;
    client.subscribe("news").await;
    client.subscribe("left").await;
    client.unsubscribe("left").await;
    join_presence(&mut client, &socket_id, "presence-room", json!(1)).await;
    // Publishing to a channel nobody is subscribed to does not create it.
    api.trigger(&json!({"name": "e", "data": "{}", "channels": ["empty", "cache-empty"]}))
        .await
        .assert_ok(&json!({}));

    api.get("/channels", &[])
        .await
        .assert_ok(&json!({"channels": {"news": {}, "presence-room": {}}}));
}

#[tokio::test]
async fn channels_filter_by_prefix() {
    let server = start_one(json!({}));
    let addr = server.local_addr();
    let (mut client, socket_id) = Client::connect(addr, KEY).await;
    client.subscribe("news").await;
    client.subscribe("privately-public").await;
    join_presence(&mut client, &socket_id, "presence-room", json!(1)).await;
    join_presence(&mut client, &socket_id, "presence-lobby", json!(1)).await;

    let api = Api::new(addr);
    api.get("/channels", &[("filter_by_prefix", "presence-")])
        .await
        .assert_ok(&json!({"channels": {"presence-lobby": {}, "presence-room": {}}}));
    api.get("/channels", &[("filter_by_prefix", "news")])
        .await
        .assert_ok(&json!({"channels": {"news": {}}}));
    api.get("/channels", &[("filter_by_prefix", "zzz")])
        .await
        .assert_ok(&json!({"channels": {}}));
}

#[tokio::test]
async fn channels_info_user_count_for_presence_channels() {
    let server = start_one(json!({}));
    let addr = server.local_addr();
    // Three sockets, two users: user 1 twice, user 2 once.
    let (mut a, id_a) = Client::connect(addr, KEY).await;
    let (mut b, id_b) = Client::connect(addr, KEY).await;
    let (mut c, id_c) = Client::connect(addr, KEY).await;
    a.subscribe("news").await;
    join_presence(&mut a, &id_a, "presence-room", json!(1)).await;
    join_presence(&mut b, &id_b, "presence-room", json!(1)).await;
    join_presence(&mut c, &id_c, "presence-room", json!(2)).await;

    let api = Api::new(addr);
    api.get(
        "/channels",
        &[("filter_by_prefix", "presence-"), ("info", "user_count")],
    )
    .await
    .assert_ok(&json!({"channels": {"presence-room": {"user_count": 2}}}));
    // Without the prefix filter, non-presence channels carry no user_count.
    api.get("/channels", &[("info", "user_count")])
        .await
        .assert_ok(&json!({"channels": {
            "news": {},
            "presence-room": {"user_count": 2},
        }}));
}

// ---------------------------------------------------------------------------------------------
// GET /apps/{id}/channels/{name}
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn channel_unknown_is_not_occupied() {
    let server = start_one(json!({}));
    let resp = Api::new(server.local_addr())
        .get("/channels/nobody-here", &[])
        .await;
    resp.assert_ok(&json!({"occupied": false}));
    assert_eq!(resp.body, r#"{"occupied":false}"#);
}

#[tokio::test]
async fn channel_occupied_returns_only_the_requested_attributes() {
    let server = start_one(json!({}));
    let addr = server.local_addr();
    let (mut a, id_a) = Client::connect(addr, KEY).await;
    let (mut b, _) = Client::connect(addr, KEY).await;
    a.subscribe("news").await;
    b.subscribe("news").await;
    join_presence(&mut a, &id_a, "presence-room", json!(7)).await;

    let api = Api::new(addr);
    api.get("/channels/news", &[])
        .await
        .assert_ok(&json!({"occupied": true}));
    api.get("/channels/news", &[("info", "subscription_count")])
        .await
        .assert_ok(&json!({"occupied": true, "subscription_count": 2}));
    api.get("/channels/news", &[("info", "user_count")])
        .await
        .assert_ok(&json!({"occupied": true}));
    api.get("/channels/presence-room", &[])
        .await
        .assert_ok(&json!({"occupied": true}));
    api.get(
        "/channels/presence-room",
        &[("info", "user_count,subscription_count")],
    )
    .await
    .assert_ok(&json!({"occupied": true, "user_count": 1}));
    api.get("/channels/news", &[("info", "cache")])
        .await
        .assert_ok(&json!({"occupied": true}));
}

#[tokio::test]
async fn channel_info_cache_returns_the_last_event_frame_of_a_cache_channel() {
    let server = start_one(json!({}));
    let addr = server.local_addr();
    let (mut client, _) = Client::connect(addr, KEY).await;
    client.subscribe("cache-prices").await;
    client.expect_event("pusher:cache_miss").await;

    let api = Api::new(addr);
    api.get("/channels/cache-prices", &[("info", "cache")])
        .await
        .assert_ok(&json!({"occupied": true}));
    for price in ["1", "2"] {
        api.trigger(&json!({"name": "price", "data": price, "channels": ["cache-prices"]}))
            .await
            .assert_ok(&json!({}));
        assert_eq!(
            client.next_json().await,
            event_frame("price", price, "cache-prices")
        );
    }
    api.get(
        "/channels/cache-prices",
        &[("info", "cache,subscription_count")],
    )
    .await
    .assert_ok(&json!({
        "occupied": true,
        "subscription_count": 1,
        "cache": event_frame("price", "2", "cache-prices"),
    }));
    api.get("/channels/cache-prices", &[])
        .await
        .assert_ok(&json!({"occupied": true}));
}

/// As in Reverb, an unoccupied channel reports no attributes, and a batch whose events have
/// none answers `{"batch":{}}`.
#[tokio::test]
async fn info_on_an_unoccupied_channel_has_no_attributes_as_in_reverb() {
    let server = start_one(json!({}));
    let api = Api::new(server.local_addr());
    api.trigger(
        &json!({"name": "e", "data": "{}", "channels": ["nobody"], "info": "subscription_count"}),
    )
    .await
    .assert_ok(&json!({"channels": {"nobody": {}}}));
    api.get("/channels/nobody", &[("info", "subscription_count")])
        .await
        .assert_ok(&json!({"occupied": false}));
    api.post(
        "/batch_events",
        &json!({"batch": [{"channel": "nobody", "name": "e", "data": "{}", "info": "subscription_count"}]}),
    )
    .await
    .assert_ok(&json!({"batch": {}}));
    api.post(
        "/batch_events",
        &json!({"batch": [{"channel": "news", "name": "e", "data": "{}", "info": "user_count"}]}),
    )
    .await
    .assert_ok(&json!({"batch": {}}));
}

// ---------------------------------------------------------------------------------------------
// GET /apps/{id}/channels/{name}/users
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn users_lists_each_presence_user_once_with_its_id_type_kept() {
    let server = start_one(json!({}));
    let addr = server.local_addr();
    let (mut a, id_a) = Client::connect(addr, KEY).await;
    let (mut b, id_b) = Client::connect(addr, KEY).await;
    join_presence(&mut a, &id_a, "presence-room", json!(1)).await;
    join_presence(&mut b, &id_b, "presence-room", json!(1)).await;

    let api = Api::new(addr);
    api.get("/channels/presence-room/users", &[])
        .await
        .assert_ok(&json!({"users": [{"id": 1}]}));

    let (mut c, id_c) = Client::connect(addr, KEY).await;
    join_presence(&mut c, &id_c, "presence-room", json!("2")).await;
    let resp = api.get("/channels/presence-room/users", &[]).await;
    assert_eq!(resp.status, 200);
    let users = resp.json()["users"]
        .as_array()
        .cloned()
        .expect("users list");
    assert_eq!(users.len(), 2, "{users:?}");
    assert!(users.contains(&json!({"id": 1})), "{users:?}");
    assert!(users.contains(&json!({"id": "2"})), "{users:?}");
}

#[tokio::test]
async fn users_of_a_non_presence_channel_is_400() {
    let server = start_one(json!({}));
    let addr = server.local_addr();
    let (mut client, _) = Client::connect(addr, KEY).await;
    client.subscribe("news").await;
    Api::new(addr)
        .get("/channels/news/users", &[])
        .await
        .assert_error(400, &["news", "presence"]);
}

#[tokio::test]
async fn users_of_an_empty_presence_channel_is_404() {
    let server = start_one(json!({}));
    Api::new(server.local_addr())
        .get("/channels/presence-empty/users", &[])
        .await
        .assert_error(404, &["presence-empty"]);
}

// ---------------------------------------------------------------------------------------------
// GET /apps/{id}/connections
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn connections_counts_the_apps_sockets() {
    let server = start(vec![
        app(APP_ID, KEY, json!({})),
        app("app-2", "key-2", json!({})),
    ]);
    let addr = server.local_addr();
    let api = Api::new(addr);
    let resp = api.get("/connections", &[]).await;
    resp.assert_ok(&json!({"connections": 0}));
    assert_eq!(resp.body, r#"{"connections":0}"#);

    let (_a, _) = Client::connect(addr, KEY).await;
    let (b, _) = Client::connect(addr, KEY).await;
    let (_other, _) = Client::connect(addr, "key-2").await;
    api.get("/connections", &[])
        .await
        .assert_ok(&json!({"connections": 2}));

    b.close().await;
    get_until(&api, "/connections", &[], &json!({"connections": 1})).await;
}

// ---------------------------------------------------------------------------------------------
// POST /apps/{id}/users/{uid}/terminate_connections
// ---------------------------------------------------------------------------------------------

/// Asserts `client` gets `pusher:error` 4009 and a close with 4009.
async fn assert_terminated(client: &mut Client) {
    let error = client.expect_error(4009).await;
    assert!(error["message"].is_string(), "{error}");
    assert_eq!(client.expect_close().await.0, 4009);
}

/// Asserts the next frames of a presence member include `member_removed` for `user_id`,
/// then that the socket still answers pings.
async fn assert_sees_member_removed(client: &mut Client, channel: &str, user_id: Value) {
    let expected = json!({
        "event": "pusher_internal:member_removed",
        "data": json!({"user_id": user_id}).to_string(),
        "channel": channel,
    });
    let mut seen = frames_until_pong(client).await;
    if !seen.contains(&expected) {
        seen.push(client.next_json().await);
    }
    assert!(seen.contains(&expected), "no {expected} in {seen:?}");
    client.ping_pong().await;
}

#[tokio::test]
async fn terminate_connections_closes_the_users_sockets_with_4009_and_keeps_the_others() {
    let server = start_one(json!({}));
    let addr = server.local_addr();
    let (mut target, id_target) = Client::connect(addr, KEY).await;
    let (mut other, id_other) = Client::connect(addr, KEY).await;
    let (mut signed_in, id_signed_in) = Client::connect(addr, KEY).await;
    let (mut bystander, _) = Client::connect(addr, KEY).await;
    join_presence(&mut other, &id_other, "presence-room", json!("43")).await;
    join_presence(&mut target, &id_target, "presence-room", json!("42")).await;
    other.expect_event("pusher_internal:member_added").await;
    sign_in(&mut signed_in, &id_signed_in, "42").await;
    bystander.subscribe("news").await;

    let api = Api::new(addr);
    let resp = api
        .post("/users/42/terminate_connections", &json!({}))
        .await;
    resp.assert_ok(&json!({}));
    assert_eq!(resp.body, "{}");

    assert_terminated(&mut target).await;
    assert_terminated(&mut signed_in).await;
    assert_sees_member_removed(&mut other, "presence-room", json!("42")).await;
    bystander.ping_pong().await;
    get_until(
        &api,
        "/channels/presence-room/users",
        &[],
        &json!({"users": [{"id": "43"}]}),
    )
    .await;

    // A user with no sockets: still `{}`.
    api.post("/users/nobody/terminate_connections", &json!({}))
        .await
        .assert_ok(&json!({}));
}

#[tokio::test]
async fn terminate_connections_without_the_app_in_the_path_finds_the_app_by_auth_key() {
    let server = start_one(json!({}));
    let addr = server.local_addr();
    let (mut target, id_target) = Client::connect(addr, KEY).await;
    let (mut other, id_other) = Client::connect(addr, KEY).await;
    join_presence(&mut other, &id_other, "presence-room", json!(8)).await;
    join_presence(&mut target, &id_target, "presence-room", json!(7)).await;
    other.expect_event("pusher_internal:member_added").await;

    // The official Python SDK's form: POST /users/{id}/terminate_connections, signed over
    // that path, the app named only by auth_key.
    let api = Api::new(addr);
    let body = b"{}".to_vec();
    let uri = api.signed_uri("POST", "/users/7/terminate_connections", &[], &body);
    api.send("POST", &uri, body.clone())
        .await
        .assert_ok(&json!({}));
    assert_terminated(&mut target).await;
    assert_sees_member_removed(&mut other, "presence-room", json!(7)).await;

    // An auth_key of no app is 404.
    let mut stranger = api.clone();
    stranger.key = "no-such-key".into();
    let uri = stranger.signed_uri("POST", "/users/7/terminate_connections", &[], &body);
    api.send("POST", &uri, body)
        .await
        .assert_error(404, &["no-such-key"]);
}

// ---------------------------------------------------------------------------------------------
// /up and the path prefix
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn get_up_is_200_health_ok() {
    let server = start_one(json!({}));
    let resp = Api::new(server.local_addr())
        .send("GET", "/up", Vec::new())
        .await;
    resp.assert_ok(&json!({"health": "OK"}));
}

#[tokio::test]
async fn path_prefix_serves_the_api_and_up_and_signs_without_the_prefix() {
    let server = start_with(json!({"path": "/ws"}), vec![app(APP_ID, KEY, json!({}))]);
    let addr = server.local_addr();
    let plain = Api::new(addr);
    let mut api = plain.clone();
    api.prefix = "/ws".into();

    api.send("GET", "/ws/up", Vec::new())
        .await
        .assert_ok(&json!({"health": "OK"}));
    api.get("/channels", &[])
        .await
        .assert_ok(&json!({"channels": {}}));
    api.get("/connections", &[])
        .await
        .assert_ok(&json!({"connections": 0}));
    api.trigger(&json!({"name": "e", "data": "{}", "channels": ["news"]}))
        .await
        .assert_ok(&json!({}));

    // A signature over the prefixed path is not valid.
    let uri = plain.signed_uri("GET", "/ws/apps/app-1/channels", &[], b"");
    api.send("GET", &uri, Vec::new())
        .await
        .assert_error(401, &["Authentication signature invalid"]);

    // Without the prefix nothing is served.
    plain
        .send("GET", "/up", Vec::new())
        .await
        .assert_error(404, &["Not found"]);
    plain.get("/channels", &[]).await.assert_error(404, &[]);
    plain
        .trigger(&json!({"name": "e", "data": "{}", "channels": ["news"]}))
        .await
        .assert_error(404, &[]);
}

// ---------------------------------------------------------------------------------------------
// HTTP/1.1 keep-alive and pipelining
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn several_requests_on_one_connection_are_all_answered() {
    let server = start_one(json!({}));
    let addr = server.local_addr();
    let api = Api::new(addr);
    let mut conn = HttpConn::open(addr).await;

    let check = |resp: &Resp| {
        assert_ne!(
            resp.header("connection").as_deref(),
            Some("close"),
            "the server asked to close: {resp:?}"
        );
    };
    let resp = conn.send("GET", "/up", Vec::new()).await;
    resp.assert_ok(&json!({"health": "OK"}));
    check(&resp);

    for _ in 0..3 {
        let body = br#"{"name":"e","data":"{}","channels":["news"]}"#.to_vec();
        let uri = api.signed_uri("POST", &api.path("/events"), &[], &body);
        let resp = conn.send("POST", &uri, body).await;
        resp.assert_ok(&json!({}));
        check(&resp);
        assert!(conn.is_open());
    }

    let uri = api.signed_uri("GET", &api.path("/channels"), &[], b"");
    conn.send("GET", &uri, Vec::new())
        .await
        .assert_ok(&json!({"channels": {}}));
    // Error answers keep the connection too.
    let resp = conn.send("GET", "/apps/app-1/channels", Vec::new()).await;
    resp.assert_error(401, &["auth_signature"]);
    check(&resp);
    conn.send("GET", "/nothing-here", Vec::new())
        .await
        .assert_error(404, &[]);
    let uri = api.signed_uri("GET", &api.path("/connections"), &[], b"");
    conn.send("GET", &uri, Vec::new())
        .await
        .assert_ok(&json!({"connections": 0}));
    assert!(conn.is_open());
}

#[tokio::test]
async fn pipelined_requests_are_answered_in_order() {
    let server = start_one(json!({}));
    let addr = server.local_addr();
    let api = Api::new(addr);
    let body = r#"{"name":"e","data":"{}","channels":["news"]}"#;
    let events = api.signed_uri("POST", &api.path("/events"), &[], body.as_bytes());
    let connections = api.signed_uri("GET", &api.path("/connections"), &[], b"");
    let requests = format!(
        "GET /up HTTP/1.1\r\nHost: {addr}\r\n\r\n\
         POST {events} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n{body}\
         GET {connections} HTTP/1.1\r\nHost: {addr}\r\n\r\n",
        body.len()
    );
    let (responses, mut stream) = raw_exchange(addr, requests.as_bytes(), 3).await;
    assert_eq!(responses[0].status, 200);
    assert_eq!(responses[0].json(), json!({"health": "OK"}));
    assert_eq!(responses[1].status, 200);
    assert_eq!(responses[1].json(), json!({}));
    assert_eq!(responses[2].status, 200);
    assert_eq!(responses[2].json(), json!({"connections": 0}));

    // Two more written at once on the same, still open, connection.
    let more =
        format!("GET /up HTTP/1.1\r\nHost: {addr}\r\n\r\nGET /up HTTP/1.1\r\nHost: {addr}\r\n\r\n");
    let responses = within("two more pipelined responses", async {
        stream.write_all(more.as_bytes()).await.expect("write");
        read_responses(&mut stream, 2).await
    })
    .await;
    assert!(responses.iter().all(|r| r.status == 200));
}

/// curl (and so Guzzle, under pusher-http-php) sends `Expect: 100-continue` before a larger
/// body and waits for the interim response.
#[tokio::test]
async fn expect_100_continue_gets_an_interim_response_before_the_body() {
    let server = start_one(json!({}));
    let addr = server.local_addr();
    let (mut subscriber, _) = Client::connect(addr, KEY).await;
    subscriber.subscribe("news").await;
    let api = Api::new(addr);
    let body = json!({"name": "e", "data": "x".repeat(2_000), "channels": ["news"]}).to_string();
    let uri = api.signed_uri("POST", &api.path("/events"), &[], body.as_bytes());
    let head = format!(
        "POST {uri} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nExpect: 100-continue\r\n\r\n",
        body.len()
    );
    let (interim, mut stream) = raw_exchange(addr, head.as_bytes(), 1).await;
    assert_eq!(interim[0].status, 100, "{:?}", interim[0]);
    let responses = within("the response after the body", async {
        stream.write_all(body.as_bytes()).await.expect("write body");
        read_responses(&mut stream, 1).await
    })
    .await;
    assert_eq!(responses[0].status, 200, "{:?}", responses[0]);
    assert_eq!(responses[0].json(), json!({}));
    assert_eq!(subscriber.next_json().await["event"], "e");
}

// ---------------------------------------------------------------------------------------------
// WebSocket upgrades where none is served
// ---------------------------------------------------------------------------------------------

fn upgrade_request(addr: SocketAddr, path: &str, version: &str, with_key: bool) -> String {
    let key = if with_key {
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    } else {
        ""
    };
    format!(
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Version: {version}\r\n{key}\r\n"
    )
}

#[tokio::test]
async fn websocket_upgrade_on_a_non_app_path_is_400() {
    let server = start_one(json!({}));
    let addr = server.local_addr();
    let api = Api::new(addr);
    let channels = api.signed_uri("GET", &api.path("/channels"), &[], b"");
    for path in [
        "/up",
        channels.as_str(),
        "/apps/app-1/events",
        "/app/key-1/extra",
    ] {
        let request = upgrade_request(addr, path, "13", true);
        let (responses, _stream) = raw_exchange(addr, request.as_bytes(), 1).await;
        assert_eq!(responses[0].status, 400, "{path}: {:?}", responses[0]);
        assert!(
            responses[0].json()["error"]
                .as_str()
                .unwrap()
                .contains("/app/{key}"),
            "{:?}",
            responses[0]
        );
    }
}

#[tokio::test]
async fn app_key_without_a_valid_handshake_is_400() {
    let server = start_one(json!({}));
    let addr = server.local_addr();
    let resp = Api::new(addr).send("GET", "/app/key-1", Vec::new()).await;
    resp.assert_error(400, &["WebSocket handshake"]);

    for request in [
        upgrade_request(addr, "/app/key-1", "13", false),
        format!("GET /app/key-1 HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\n\r\n"),
    ] {
        let (responses, _stream) = raw_exchange(addr, request.as_bytes(), 1).await;
        assert_eq!(responses[0].status, 400, "{request:?}: {:?}", responses[0]);
    }
}

// ---------------------------------------------------------------------------------------------
// The blocking reverb_engine::client::Client against the server
// ---------------------------------------------------------------------------------------------

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

#[tokio::test]
async fn client_trigger_delivers_and_returns_channel_info() {
    let server = start_one(json!({}));
    let addr = server.local_addr();
    let (mut a, id_a) = Client::connect(addr, KEY).await;
    let (mut b, _) = Client::connect(addr, KEY).await;
    a.subscribe("news").await;
    b.subscribe("news").await;

    let config = client_config(addr);
    let answer = blocking("client.trigger", move || {
        let client = ApiClient::new(config).expect("a valid client");
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
    assert_next_is_marker(&Api::new(addr), &mut a, "news").await;
}

#[tokio::test]
async fn client_trigger_batch_delivers_and_returns_batch_info() {
    let server = start_one(json!({}));
    let addr = server.local_addr();
    let (mut a, _) = Client::connect(addr, KEY).await;
    a.subscribe("a").await;

    let config = client_config(addr);
    let answer = blocking("client.trigger_batch", move || {
        let client = ApiClient::new(config).expect("a valid client");
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
    let (mut a, id_a) = Client::connect(addr, KEY).await;
    a.subscribe("news").await;
    join_presence(&mut a, &id_a, "presence-room", json!(1)).await;

    let config = client_config(addr);
    let answers = blocking("client.channels / client.channel", move || {
        let client = ApiClient::new(config).expect("a valid client");
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
    join_presence(&mut a, &id_a, "presence-room", json!(1)).await;
    a.subscribe("news").await;

    let config = client_config(addr);
    let answers = blocking("client.users", move || {
        let client = ApiClient::new(config).expect("a valid client");
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
    join_presence(&mut target, &id_target, "presence-room", json!(42)).await;
    bystander.subscribe("news").await;

    let config = client_config(addr);
    let answer = blocking("client.terminate_user_connections", move || {
        ApiClient::new(config)
            .expect("a valid client")
            .terminate_user_connections("42")
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
    sign_in(&mut user, &id_user, "42").await;
    user.subscribe("#server-to-user-42").await;
    sign_in(&mut other, &id_other, "43").await;
    other.subscribe("#server-to-user-43").await;

    let config = client_config(addr);
    let answers = blocking("client.send_to_user", move || {
        let client = ApiClient::new(config).expect("a valid client");
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
    let before = frames_until_pong(&mut other).await;
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
    let config = client_config(addr);
    let answer = blocking("a call to a closed port", move || {
        ApiClient::new(config).expect("a valid client").trigger(
            &names(&["news"]),
            "e",
            "{}",
            None,
            &[],
        )
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
