//! Cache channels: a subscriber gets the channel's last event (or `pusher:cache_miss`) right
//! after its confirmation, an event is kept while nobody is subscribed until `cache_ttl`, and
//! the private and presence variants need auth.
//!
//! The only sleep is the cache TTL test: the TTL is whole seconds.

mod support;

use serde_json::json;
use std::time::Duration;
use support::{
    assert_next_is_marker, join_presence, occupied_channels, publish, start_one, subscribe_frame,
    subscribe_private, subscribed_frame, Client, KEY,
};

#[tokio::test]
async fn cache_channel_with_nothing_cached_sends_cache_miss_after_subscription_succeeded() {
    let server = start_one(json!({}));
    let (mut client, _) = Client::connect(server.local_addr(), KEY).await;
    client
        .send_json(subscribe_frame("cache-x", None, None))
        .await;
    assert_eq!(client.next_json().await, subscribed_frame("cache-x"));
    assert_eq!(
        client.next_json().await,
        json!({"event": "pusher:cache_miss", "channel": "cache-x"})
    );
    client.ping_pong().await;
}

#[tokio::test]
async fn cache_channel_sends_the_last_event_to_a_new_subscriber() {
    let server = start_one(json!({}));
    let addr = server.local_addr();
    let (mut first, _) = Client::subscribed(addr, "cache-x").await;
    let (mut late, _) = Client::connect(addr, KEY).await;
    first.expect_event("pusher:cache_miss").await;

    for (event, data) in [("one", r#"{"n":1}"#), ("two", r#"{"n":2}"#)] {
        publish(&server, &["cache-x"], event, data);
        let frame = first.next_json().await;
        assert_eq!(
            frame,
            json!({"event": event, "data": data, "channel": "cache-x"})
        );
    }

    late.subscribe("cache-x").await;
    assert_eq!(
        late.next_json().await,
        json!({"event": "two", "data": r#"{"n":2}"#, "channel": "cache-x"}),
        "the last event comes right after subscription_succeeded"
    );
    assert_next_is_marker(&server, &mut late, "cache-x", "after-cached").await;
}

#[tokio::test]
async fn cache_channel_keeps_an_event_published_while_nobody_was_subscribed() {
    let server = start_one(json!({}));
    let queued = publish(&server, &["cache-y"], "price", r#"{"eur":1}"#);
    assert_eq!(queued, 0);
    assert!(occupied_channels(&server).is_empty());

    let (mut client, _) = Client::subscribed(server.local_addr(), "cache-y").await;
    assert_eq!(
        client.next_json().await,
        json!({"event": "price", "data": r#"{"eur":1}"#, "channel": "cache-y"})
    );
}

#[tokio::test]
async fn cached_event_is_gone_after_cache_ttl() {
    let server = start_one(json!({"cache_ttl": 1}));
    let addr = server.local_addr();
    publish(&server, &["cache-x"], "price", "{}");

    let (mut early, _) = Client::subscribed(addr, "cache-x").await;
    early.expect_event("price").await;

    // The one sleep of this file: the TTL is whole seconds.
    tokio::time::sleep(Duration::from_millis(1_200)).await;

    let (mut late, _) = Client::subscribed(addr, "cache-x").await;
    assert_eq!(
        late.next_json().await,
        json!({"event": "pusher:cache_miss", "channel": "cache-x"})
    );
    assert!(server.channel("app-1", "cache-x").unwrap().cache.is_none());
}

#[tokio::test]
async fn private_and_presence_cache_channels_need_auth() {
    let server = start_one(json!({}));
    let addr = server.local_addr();
    let (mut client, socket_id) = Client::connect(addr, KEY).await;

    for channel in [
        "private-cache-x",
        "private-encrypted-cache-x",
        "presence-cache-x",
    ] {
        client.send_json(subscribe_frame(channel, None, None)).await;
        client.expect_error(4009).await;
    }
    client.ping_pong().await;
    assert!(occupied_channels(&server).is_empty());

    for channel in ["private-cache-x", "private-encrypted-cache-x"] {
        subscribe_private(&mut client, &socket_id, channel).await;
        assert_eq!(
            client.next_json().await,
            json!({"event": "pusher:cache_miss", "channel": channel})
        );
    }
    let presence = join_presence(
        &mut client,
        &socket_id,
        "presence-cache-x",
        &json!({"user_id": "u"}),
    )
    .await;
    assert_eq!(presence["count"], 1);
    assert_eq!(
        client.next_json().await,
        json!({"event": "pusher:cache_miss", "channel": "presence-cache-x"})
    );

    // A cached event reaches the next authorized subscriber right after its confirmation.
    for channel in ["private-cache-x", "presence-cache-x"] {
        publish(&server, &[channel], "ev", r#"{"v":1}"#);
        client.expect_event("ev").await;
    }
    let (mut next, next_id) = Client::connect(addr, KEY).await;
    next.send_json(subscribe_frame("private-cache-x", None, None))
        .await;
    next.expect_error(4009).await;
    subscribe_private(&mut next, &next_id, "private-cache-x").await;
    assert_eq!(
        next.next_json().await,
        json!({"event": "ev", "data": r#"{"v":1}"#, "channel": "private-cache-x"})
    );
    join_presence(
        &mut next,
        &next_id,
        "presence-cache-x",
        &json!({"user_id": "v"}),
    )
    .await;
    assert_eq!(
        next.next_json().await,
        json!({"event": "ev", "data": r#"{"v":1}"#, "channel": "presence-cache-x"})
    );
}
