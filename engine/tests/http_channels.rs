//! The HTTP API's reads: `GET /apps/{id}/channels`, `/channels/{name}`,
//! `/channels/{name}/users` and `/connections`, with their `info` attributes and filters.

mod api_support;
mod support;

use api_support::Api;
use serde_json::json;
use support::{event_frame, join_presence_as, start_one, start_two_apps, Client, KEY};

#[tokio::test]
async fn channels_lists_only_occupied_channels() {
    let server = start_one(json!({}));
    let addr = server.local_addr();
    let api = Api::new(addr);
    api.get("/channels", &[])
        .await
        .assert_ok(&json!({"channels": {}}));

    let (mut client, socket_id) = Client::subscribed(addr, "news").await;
    client.subscribe("left").await;
    client.unsubscribe("left").await;
    join_presence_as(&mut client, &socket_id, "presence-room", json!(1)).await;
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
    let (mut client, socket_id) = Client::subscribed(addr, "news").await;
    client.subscribe("privately-public").await;
    join_presence_as(&mut client, &socket_id, "presence-room", json!(1)).await;
    join_presence_as(&mut client, &socket_id, "presence-lobby", json!(1)).await;

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
    let (mut a, id_a) = Client::subscribed(addr, "news").await;
    let (mut b, id_b) = Client::connect(addr, KEY).await;
    let (mut c, id_c) = Client::connect(addr, KEY).await;
    join_presence_as(&mut a, &id_a, "presence-room", json!(1)).await;
    join_presence_as(&mut b, &id_b, "presence-room", json!(1)).await;
    join_presence_as(&mut c, &id_c, "presence-room", json!(2)).await;

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
    let (mut a, id_a) = Client::subscribed(addr, "news").await;
    let (_b, _) = Client::subscribed(addr, "news").await;
    join_presence_as(&mut a, &id_a, "presence-room", json!(7)).await;

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
    let (mut client, _) = Client::subscribed(addr, "cache-prices").await;
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

#[tokio::test]
async fn users_lists_each_presence_user_once_with_its_id_type_kept() {
    let server = start_one(json!({}));
    let addr = server.local_addr();
    let (mut a, id_a) = Client::connect(addr, KEY).await;
    let (mut b, id_b) = Client::connect(addr, KEY).await;
    join_presence_as(&mut a, &id_a, "presence-room", json!(1)).await;
    join_presence_as(&mut b, &id_b, "presence-room", json!(1)).await;

    let api = Api::new(addr);
    api.get("/channels/presence-room/users", &[])
        .await
        .assert_ok(&json!({"users": [{"id": 1}]}));

    let (mut c, id_c) = Client::connect(addr, KEY).await;
    join_presence_as(&mut c, &id_c, "presence-room", json!("2")).await;
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
    let (_client, _) = Client::subscribed(addr, "news").await;
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

#[tokio::test]
async fn connections_counts_the_apps_sockets() {
    let server = start_two_apps();
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
    api.get_until("/connections", &[], &json!({"connections": 1}))
        .await;
}
