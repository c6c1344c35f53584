//! Two servers sharing one Redis act as one: events, client events, presence, terminations,
//! cache channels and the HTTP API's reads cross nodes, and a node without Redis keeps
//! serving its own sockets. Each test starts its own `redis-server` on a free port.

mod api_support;
mod redis_support;
mod support;

use api_support::Api;
use futures_util::StreamExt;
use redis_support::{connected, Redis};
use reverb_engine::Server;
use serde_json::{json, Value};
use std::time::Duration;
use support::{
    app, assert_next_is_marker, decode_data, http_get, join_presence, publish, start_with, within,
    Client, KEY, SECRET,
};

/// A server on a free port, a node of the cluster that shares `redis`.
fn node(redis: &Redis) -> Server {
    start_with(
        json!({"scaling": redis.scaling()}),
        vec![app(
            "app-1",
            KEY,
            json!({"accept_client_events_from": "all"}),
        )],
    )
}

/// Waits until `server` reports Redis as disconnected.
async fn redis_gone(server: &Server) {
    within("the node to notice Redis is gone", async {
        while server.stats()["app-1"].scaling.as_ref().unwrap().redis != "disconnected" {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
}

/// Waits until everything node `from` has sent over Redis reached the node `client` is on.
/// One node's messages arrive in order, so once an event published now on `from` reaches
/// `client`, all that `from` sent before (a member's arrival, say) has arrived too.
async fn caught_up(from: &Server, client: &mut Client) {
    client.subscribe("caught-up").await;
    publish(from, &["caught-up"], "caught-up", "{}");
    client.expect_event("caught-up").await;
    client.unsubscribe("caught-up").await;
}

/// The JSON of each value, sorted: ids compared whatever order a node lists them in.
fn sorted(values: &Value) -> Vec<String> {
    let mut sorted: Vec<String> = values
        .as_array()
        .expect("a list")
        .iter()
        .map(Value::to_string)
        .collect();
    sorted.sort();
    sorted
}

/// The presence payload's `ids`, sorted as by [`sorted`].
fn sorted_ids(presence: &Value) -> Vec<String> {
    sorted(&presence["ids"])
}

#[tokio::test(flavor = "multi_thread")]
async fn an_event_published_on_one_node_reaches_subscribers_on_the_others_except_socket_id() {
    let redis = Redis::start();
    let (a, b) = (node(&redis), node(&redis));
    connected(&[&a, &b]).await;
    let (mut on_b, b_id) = Client::subscribed(b.local_addr(), "orders").await;
    let (mut also_on_b, _) = Client::subscribed(b.local_addr(), "orders").await;

    Api::new(a.local_addr())
        .trigger(&json!({"name": "order.shipped", "channels": ["orders"], "data": "{\"id\":1}"}))
        .await
        .assert_ok(&json!({}));
    let frame = on_b.expect_event("order.shipped").await;
    assert_eq!(frame["data"], "{\"id\":1}");
    also_on_b.expect_event("order.shipped").await;

    a.publish("app-1", &["orders".into()], "toOthers", "{}", Some(&b_id))
        .unwrap();
    also_on_b.expect_event("toOthers").await;
    assert_next_is_marker(&b, &mut on_b, "orders", "{}").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn presence_members_are_counted_once_across_nodes() {
    let redis = Redis::start();
    let (a, b) = (node(&redis), node(&redis));
    connected(&[&a, &b]).await;
    let channel = "presence-room";
    let ada = json!({"user_id": 1, "user_info": {"name": "Ada"}});
    let bob = json!({"user_id": "2", "user_info": {"name": "Bob"}});

    let (mut ada_on_a, ada_a_id) = Client::connect(a.local_addr(), KEY).await;
    let presence = join_presence(&mut ada_on_a, &ada_a_id, channel, &ada).await;
    assert_eq!(presence["count"], 1);

    let (mut bob_on_b, bob_id) = Client::connect(b.local_addr(), KEY).await;
    caught_up(&a, &mut bob_on_b).await;
    let presence = join_presence(&mut bob_on_b, &bob_id, channel, &bob).await;
    assert_eq!(presence["count"], 2);
    assert_eq!(sorted_ids(&presence), vec!["\"2\"", "1"]);
    assert_eq!(presence["hash"]["1"], json!({"name": "Ada"}));
    let added = ada_on_a.expect_event("pusher_internal:member_added").await;
    assert_eq!(decode_data(&added)["user_id"], "2");

    // Ada's second tab, on the other node: she is already a member, nobody hears of it.
    let (mut ada_on_b, ada_b_id) = Client::connect(b.local_addr(), KEY).await;
    let presence = join_presence(&mut ada_on_b, &ada_b_id, channel, &ada).await;
    assert_eq!(presence["count"], 2);
    assert_next_is_marker(&b, &mut bob_on_b, channel, "{}").await;

    // The HTTP API of either node counts Ada once and sees three sockets.
    for server in [&a, &b] {
        let api = Api::new(server.local_addr());
        let channel_info = api
            .get(&format!("/channels/{channel}"), &[("info", "user_count")])
            .await;
        channel_info.assert_ok(&json!({"occupied": true, "user_count": 2}));
        let users = api
            .get(&format!("/channels/{channel}/users"), &[])
            .await
            .json();
        assert_eq!(users["users"].as_array().unwrap().len(), 2);
        let connections = api.get("/connections", &[]).await.json();
        assert_eq!(connections["connections"], 3);
    }

    // Ada's first tab closes: she still has one, on B.
    ada_on_a.close().await;
    assert_next_is_marker(&b, &mut bob_on_b, channel, "{}").await;
    // Her last tab closes: Bob hears she left.
    ada_on_b.close().await;
    let removed = bob_on_b
        .expect_event("pusher_internal:member_removed")
        .await;
    assert_eq!(decode_data(&removed), json!({"user_id": 1}));
}

#[tokio::test(flavor = "multi_thread")]
async fn whispers_and_terminations_cross_nodes() {
    let redis = Redis::start();
    let (a, b) = (node(&redis), node(&redis));
    connected(&[&a, &b]).await;
    let channel = "presence-chat";
    let (mut ada, ada_id) = Client::connect(a.local_addr(), KEY).await;
    join_presence(&mut ada, &ada_id, channel, &json!({"user_id": "ada"})).await;
    let (mut bob, bob_id) = Client::connect(b.local_addr(), KEY).await;
    caught_up(&a, &mut bob).await;
    join_presence(&mut bob, &bob_id, channel, &json!({"user_id": "bob"})).await;
    ada.expect_event("pusher_internal:member_added").await;

    ada.send_json(json!({"event": "client-typing", "channel": channel, "data": {"on": true}}))
        .await;
    let whisper = bob.expect_event("client-typing").await;
    assert_eq!(whisper["data"], json!({"on": true}));
    assert_eq!(whisper["user_id"], "ada");

    Api::new(a.local_addr())
        .post("/users/bob/terminate_connections", &json!({}))
        .await
        .assert_ok(&json!({}));
    bob.expect_error(4009).await;
    let (code, _) = bob.expect_close().await;
    assert_eq!(code, 4009);
    let removed = ada.expect_event("pusher_internal:member_removed").await;
    assert_eq!(decode_data(&removed), json!({"user_id": "bob"}));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cache_channel_serves_an_event_published_on_another_node() {
    let redis = Redis::start();
    let a = node(&redis);
    connected(&[&a]).await;
    publish(&a, &["cache-prices"], "price", "{\"eur\":3}");
    // A node that started after the event still serves it, from Redis.
    let b = node(&redis);
    connected(&[&b]).await;
    let (mut late, _) = Client::connect(b.local_addr(), KEY).await;
    late.send_json(json!({"event": "pusher:subscribe", "data": {"channel": "cache-prices"}}))
        .await;
    late.expect_event("pusher_internal:subscription_succeeded")
        .await;
    let cached = late.expect_event("price").await;
    assert_eq!(cached["data"], "{\"eur\":3}");
}

#[tokio::test(flavor = "multi_thread")]
async fn without_redis_a_node_serves_its_own_sockets_and_catches_up_when_redis_returns() {
    let mut redis = Redis::start();
    let port = redis.port;
    let (a, b) = (node(&redis), node(&redis));
    connected(&[&a, &b]).await;
    let (mut on_a, _) = Client::subscribed(a.local_addr(), "news").await;
    let (mut on_b, _) = Client::subscribed(b.local_addr(), "news").await;

    redis.stop();
    within("node A to notice Redis is gone", async {
        loop {
            let (_, body) = http_get(a.local_addr(), "/up").await;
            let up: Value = serde_json::from_str(&body).unwrap();
            if up["scaling"]["redis"] == "disconnected" {
                assert_eq!(up["health"], "OK");
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    publish(&a, &["news"], "local", "{}");
    on_a.expect_event("local").await;

    let _redis = Redis::start_on(port);
    connected(&[&a, &b]).await;
    publish(&a, &["news"], "again", "{}");
    on_a.expect_event("again").await;
    on_b.expect_event("again").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn presence_members_that_joined_while_redis_was_away_are_counted_once_it_returns() {
    let mut redis = Redis::start();
    let port = redis.port;
    let (a, b) = (node(&redis), node(&redis));
    connected(&[&a, &b]).await;
    redis.stop();
    redis_gone(&a).await;
    let (mut ada, ada_id) = Client::connect(a.local_addr(), KEY).await;
    let presence = join_presence(
        &mut ada,
        &ada_id,
        "presence-outage",
        &json!({"user_id": "ada"}),
    )
    .await;
    assert_eq!(presence["count"], 1);

    let _redis = Redis::start_on(port);
    connected(&[&a, &b]).await;
    // Bob, on node B, learns of Ada: in his member list, or right after it once node A has
    // counted its members again.
    let (mut bob, bob_id) = Client::connect(b.local_addr(), KEY).await;
    let presence = join_presence(
        &mut bob,
        &bob_id,
        "presence-outage",
        &json!({"user_id": "bob"}),
    )
    .await;
    if presence["count"] == 1 {
        let added = bob.expect_event("pusher_internal:member_added").await;
        assert_eq!(decode_data(&added)["user_id"], "ada");
    } else {
        assert_eq!(sorted_ids(&presence), vec!["\"ada\"", "\"bob\""]);
    }
    let users = Api::new(b.local_addr())
        .get("/channels/presence-outage/users", &[])
        .await;
    assert_eq!(
        sorted(&users.json()["users"]),
        vec![r#"{"id":"ada"}"#, r#"{"id":"bob"}"#]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn what_nodes_say_on_redis_names_apps_by_id_and_never_carries_a_secret() {
    let redis = Redis::start();
    let client = redis::Client::open(format!("redis://127.0.0.1:{}", redis.port)).unwrap();
    let mut pubsub = client.get_async_pubsub().await.unwrap();
    pubsub.subscribe("test_reverb").await.unwrap();
    let mut messages = pubsub.into_on_message();

    let (a, b) = (node(&redis), node(&redis));
    connected(&[&a, &b]).await;
    let (mut ada, ada_id) = Client::connect(a.local_addr(), KEY).await;
    join_presence(&mut ada, &ada_id, "presence-x", &json!({"user_id": "ada"})).await;
    ada.send_json(json!({"event": "client-hi", "channel": "presence-x", "data": {}}))
        .await;
    Api::new(b.local_addr())
        .trigger(&json!({"name": "e", "channels": ["presence-x"], "data": "{}"}))
        .await
        .assert_ok(&json!({}));
    ada.expect_event("e").await;
    // This test's own subscription is a listener that never answers: reads still complete.
    let read = Api::new(a.local_addr()).get("/channels", &[]).await;
    read.assert_ok(&json!({"channels": {"presence-x": {}}}));

    let mut kinds = Vec::new();
    while kinds.len() < 3 {
        let message = within("a message on the Redis channel", messages.next())
            .await
            .expect("the subscription stays open");
        let payload: String = message.get_payload().unwrap();
        assert!(!payload.contains(SECRET), "{payload}");
        let envelope: Value = serde_json::from_str(&payload).unwrap();
        assert_eq!(envelope["app"], "app-1", "{payload}");
        kinds.push(envelope["type"].as_str().unwrap().to_string());
    }
    // Ada's arrival is published by the script that counted her; the two events as deliveries.
    assert_eq!(kinds, vec!["presence", "deliver", "deliver"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_socket_that_joins_a_presence_channel_again_as_the_same_user_is_counted_once() {
    let redis = Redis::start();
    let (a, b) = (node(&redis), node(&redis));
    connected(&[&a, &b]).await;
    let channel = "presence-room";
    let ada = json!({"user_id": 1, "user_info": {"name": "Ada"}});
    let bob = json!({"user_id": 2, "user_info": {"name": "Bob"}});
    let (mut bob_on_b, bob_id) = Client::connect(b.local_addr(), KEY).await;
    join_presence(&mut bob_on_b, &bob_id, channel, &bob).await;
    let (mut ada_on_a, ada_id) = Client::connect(a.local_addr(), KEY).await;
    caught_up(&b, &mut ada_on_a).await;
    join_presence(&mut ada_on_a, &ada_id, channel, &ada).await;
    bob_on_b.expect_event("pusher_internal:member_added").await;

    // The same socket subscribes again as Ada: the cluster's list again, and nobody hears of it.
    let presence = join_presence(&mut ada_on_a, &ada_id, channel, &ada).await;
    assert_eq!(presence["count"], 2);
    assert_eq!(sorted_ids(&presence), vec!["1", "2"]);
    assert_next_is_marker(&a, &mut bob_on_b, channel, "{}").await;
    ada_on_a.expect_event("marker").await;

    // Her only socket leaves: Bob hears she left.
    ada_on_a.unsubscribe(channel).await;
    let removed = bob_on_b
        .expect_event("pusher_internal:member_removed")
        .await;
    assert_eq!(decode_data(&removed), json!({"user_id": 1}));
}
