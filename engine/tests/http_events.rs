//! `POST /apps/{id}/events` and `POST /apps/{id}/batch_events`: what a trigger delivers and
//! answers (with and without `info`), how invalid or oversized bodies are refused, and that
//! a refused request delivers nothing.

mod api_support;
mod support;

use api_support::{raw_exchange, Api};
use serde_json::{json, Value};
use support::{app, event_frame, join_presence_as, start_one, start_with, Client, APP_ID, KEY};

#[tokio::test]
async fn trigger_to_one_channel_returns_an_empty_object_and_delivers_the_frame() {
    let server = start_one(json!({}));
    let addr = server.local_addr();
    let (mut subscriber, _) = Client::subscribed(addr, "news").await;

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
    assert_eq!(subscriber.next_text().await, expected);
}

#[tokio::test]
async fn trigger_to_several_channels_returns_an_empty_object_and_reaches_each_channel() {
    let server = start_one(json!({}));
    let addr = server.local_addr();
    let (mut one, _) = Client::subscribed(addr, "one").await;
    let (mut two, _) = Client::subscribed(addr, "two").await;

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
    let (mut a, id_a) = Client::subscribed(addr, "news").await;
    let (mut b, _) = Client::subscribed(addr, "news").await;

    let api = Api::new(addr);
    api.trigger(&json!({"name": "update", "data": "{}", "channels": ["news"], "socket_id": id_a}))
        .await
        .assert_ok(&json!({}));
    assert_eq!(b.next_json().await, event_frame("update", "{}", "news"));
    api.assert_next_is_marker(&mut a, "news").await;
}

#[tokio::test]
async fn trigger_info_returns_user_count_for_presence_and_subscription_count_for_others() {
    let server = start_one(json!({}));
    let addr = server.local_addr();
    let (mut member, member_id) = Client::connect(addr, KEY).await;
    join_presence_as(&mut member, &member_id, "presence-a", json!(1)).await;
    let (mut subscriber, _) = Client::subscribed(addr, "b").await;

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
async fn trigger_with_an_invalid_field_is_422_naming_it_and_delivers_nothing() {
    let server = start_one(json!({}));
    let addr = server.local_addr();
    let (mut subscriber, _) = Client::subscribed(addr, "news").await;
    let api = Api::new(addr);
    let cases: [(&str, Value, &[&str]); 9] = [
        (
            "no name",
            json!({"data": "{}", "channels": ["news"]}),
            &["name field"],
        ),
        (
            "data that is not a string",
            json!({"name": "e", "data": {"a": 1}, "channels": ["news"]}),
            &["data field", "string"],
        ),
        (
            "no data",
            json!({"name": "e", "channels": ["news"]}),
            &["data field"],
        ),
        (
            "no channels",
            json!({"name": "e", "data": "{}"}),
            &["channels field"],
        ),
        (
            "an empty channel list",
            json!({"name": "e", "data": "{}", "channels": []}),
            &["channels field"],
        ),
        (
            "channels that are not a list",
            json!({"name": "e", "data": "{}", "channels": "news"}),
            &["channels field", "array"],
        ),
        (
            "a socket_id that is not a string",
            json!({"name": "e", "data": "{}", "channels": ["news"], "socket_id": 123}),
            &["socket_id field", "string"],
        ),
        (
            "an invalid channel name",
            json!({"name": "e", "data": "{}", "channels": ["news", "has space"]}),
            &["channels", "Invalid channel name", "has space"],
        ),
        (
            "a channel name that is not a string",
            json!({"name": "e", "data": "{}", "channels": ["news", 7]}),
            &["channels.1 field"],
        ),
    ];
    for (name, body, parts) in cases {
        let _case = support::case(name);
        api.trigger(&body).await.assert_error(422, parts);
        // A rejected event reaches none of its channels.
        api.assert_next_is_marker(&mut subscriber, "news").await;
    }
}

#[tokio::test]
async fn trigger_over_max_channels_per_event_is_422() {
    let server = start_one(json!({"max_channels_per_event": 2}));
    let addr = server.local_addr();
    let (mut subscriber, _) = Client::subscribed(addr, "a").await;
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
    let (mut subscriber, _) = Client::subscribed(addr, "news").await;

    let data = "z".repeat(150_000);
    let body = json!({"name": "big", "data": data, "channels": ["news"]});
    assert!(body.to_string().len() > 150_000);
    Api::new(addr).trigger(&body).await.assert_ok(&json!({}));
    let frame = subscriber.next_json().await;
    assert_eq!(frame["event"], "big");
    assert_eq!(frame["data"].as_str().map(str::len), Some(150_000));
}

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
    join_presence_as(&mut member, &member_id, "presence-a", json!("u1")).await;
    let (_subscriber, _) = Client::subscribed(addr, "b").await;

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
    let (mut subscriber, _) = Client::subscribed(addr, "a").await;
    let api = Api::new(addr);
    let item = json!({"channel": "a", "name": "e", "data": "{}"});
    api.post("/batch_events", &json!({"batch": [item, item, item]}))
        .await
        .assert_error(422, &["max_events_per_batch", "(2)"]);
    api.assert_next_is_marker(&mut subscriber, "a").await;
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
    let (mut a, id_a) = Client::subscribed(addr, "a").await;
    let (mut b, _) = Client::subscribed(addr, "b").await;
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
    api.assert_next_is_marker(&mut a, "a").await;
}
