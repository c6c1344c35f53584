//! Webhook events as the host hears them (`webhooks.dispatch_events`): occupied and vacated
//! channels, presence members counted per user, a departure and a quick return absorbed by
//! the delay, client events, cache misses and subscription counts; and the configuration's
//! errors, which name the key.

mod support;

use reverb_engine::{Config, EngineEvent, Server, WebhookEvent};
use serde_json::{json, Value};
use std::time::Duration;
use support::{
    app, decode_data, events_until, join_presence_as, start_with, subscribe_private, within,
    Client, APP_ID, KEY,
};

/// How long a departure waits for a return in these tests.
const DELAY_MS: u64 = 300;

/// A server that reports every webhook event to the host, with app overrides.
fn server(overrides: Value) -> Server {
    let webhooks = json!({"dispatch_events": true, "delay_ms": DELAY_MS});
    start_with(
        json!({"webhooks": webhooks}),
        vec![app(APP_ID, KEY, overrides)],
    )
}

/// The webhook events among `events`, in order.
fn webhooks(events: &[EngineEvent]) -> Vec<WebhookEvent> {
    events
        .iter()
        .filter_map(|event| match event {
            EngineEvent::Webhook { event, .. } => Some(event.clone()),
            _ => None,
        })
        .collect()
}

/// The occupancy and member events among `events`, in order.
fn arrivals_and_departures(events: &[EngineEvent]) -> Vec<WebhookEvent> {
    webhooks(events)
        .into_iter()
        .filter(|e| !matches!(e, WebhookEvent::SubscriptionCount { .. }))
        .collect()
}

/// Drains until `count` occupancy and member events arrived, then for twice the delay
/// more, so that an event that should not come has had its chance.
async fn webhooks_settled(server: &Server, count: usize) -> Vec<WebhookEvent> {
    let mut events =
        events_until(server, |seen| arrivals_and_departures(seen).len() >= count).await;
    tokio::time::sleep(Duration::from_millis(2 * DELAY_MS)).await;
    events.extend(server.drain());
    arrivals_and_departures(&events)
}

fn occupied(channel: &str) -> WebhookEvent {
    WebhookEvent::ChannelOccupied {
        channel: channel.into(),
    }
}

fn vacated(channel: &str) -> WebhookEvent {
    WebhookEvent::ChannelVacated {
        channel: channel.into(),
    }
}

fn added(channel: &str, user_id: &str) -> WebhookEvent {
    WebhookEvent::MemberAdded {
        channel: channel.into(),
        user_id: user_id.into(),
    }
}

fn removed(channel: &str, user_id: &str) -> WebhookEvent {
    WebhookEvent::MemberRemoved {
        channel: channel.into(),
        user_id: user_id.into(),
    }
}

#[tokio::test]
async fn a_channel_is_occupied_by_its_first_socket_and_vacated_after_its_last_left() {
    let server = server(json!({}));
    let (mut first, _) = Client::subscribed(server.local_addr(), "news").await;
    let (second, _) = Client::subscribed(server.local_addr(), "news").await;
    second.close().await;
    first.unsubscribe("news").await;
    let events = webhooks_settled(&server, 2).await;
    assert_eq!(events, vec![occupied("news"), vacated("news")]);
}

#[tokio::test]
async fn a_return_within_the_delay_sends_neither_the_departure_nor_the_return() {
    let server = server(json!({}));
    let (mut client, socket_id) = Client::connect(server.local_addr(), KEY).await;
    client.subscribe("news").await;
    client.unsubscribe("news").await;
    client.subscribe("news").await;
    let presence = "presence-room";
    join_presence_as(&mut client, &socket_id, presence, json!(7)).await;
    client.unsubscribe(presence).await;
    join_presence_as(&mut client, &socket_id, presence, json!(7)).await;
    let events = webhooks_settled(&server, 3).await;
    assert_eq!(
        events,
        vec![occupied("news"), occupied(presence), added(presence, "7")]
    );
}

#[tokio::test]
async fn members_are_counted_per_user_not_per_socket_and_leave_before_their_channel() {
    let server = server(json!({}));
    let channel = "presence-room";
    let (mut tab1, id1) = Client::connect(server.local_addr(), KEY).await;
    let (mut tab2, id2) = Client::connect(server.local_addr(), KEY).await;
    join_presence_as(&mut tab1, &id1, channel, json!("alice")).await;
    join_presence_as(&mut tab2, &id2, channel, json!("alice")).await;
    tab1.close().await;
    let events = webhooks_settled(&server, 2).await;
    assert_eq!(events, vec![occupied(channel), added(channel, "alice")]);

    tab2.close().await;
    let events = webhooks_settled(&server, 2).await;
    assert_eq!(events, vec![removed(channel, "alice"), vacated(channel)]);
}

#[tokio::test]
async fn client_events_carry_their_data_as_a_string_and_the_sender_on_presence_channels() {
    let server = server(json!({"accept_client_events_from": "members"}));
    let addr = server.local_addr();
    let (mut sender, sender_id) = Client::connect(addr, KEY).await;
    subscribe_private(&mut sender, &sender_id, "private-chat").await;
    join_presence_as(&mut sender, &sender_id, "presence-room", json!(42)).await;
    let whisper =
        |channel: &str| json!({"event": "client-typing", "channel": channel, "data": {"on": true}});
    sender.send_json(whisper("private-chat")).await;
    sender.send_json(whisper("presence-room")).await;

    let events = events_until(&server, |seen| {
        webhooks(seen)
            .iter()
            .filter(|e| matches!(e, WebhookEvent::ClientEvent { .. }))
            .count()
            == 2
    })
    .await;
    let whispers: Vec<WebhookEvent> = webhooks(&events)
        .into_iter()
        .filter(|e| matches!(e, WebhookEvent::ClientEvent { .. }))
        .collect();
    let expected = |channel: &str, user_id: Option<&str>| WebhookEvent::ClientEvent {
        channel: channel.into(),
        event: "client-typing".into(),
        data: "{\"on\":true}".into(),
        socket_id: sender_id.clone(),
        user_id: user_id.map(String::from),
    };
    assert_eq!(
        whispers,
        vec![
            expected("private-chat", None),
            expected("presence-room", Some("42"))
        ]
    );
}

#[tokio::test]
async fn a_subscription_to_an_empty_cache_channel_is_a_cache_miss() {
    let server = server(json!({}));
    let (mut client, _) = Client::connect(server.local_addr(), KEY).await;
    client.subscribe("cache-prices").await;
    client.expect_event("pusher:cache_miss").await;
    let events = events_until(&server, |seen| {
        webhooks(seen)
            .iter()
            .any(|e| matches!(e, WebhookEvent::CacheMiss { .. }))
    })
    .await;
    assert!(webhooks(&events).contains(&WebhookEvent::CacheMiss {
        channel: "cache-prices".into()
    }));
}

#[tokio::test]
async fn subscribers_hear_their_count_after_their_confirmation_when_the_app_counts_them() {
    let server = server(json!({"subscription_count": true}));
    let addr = server.local_addr();
    let (mut first, _) = Client::connect(addr, KEY).await;
    first.subscribe("news").await;
    let count = first
        .expect_event("pusher_internal:subscription_count")
        .await;
    assert_eq!(count["channel"], "news");
    assert_eq!(decode_data(&count), json!({"subscription_count": 1}));

    let (mut second, _) = Client::connect(addr, KEY).await;
    second.subscribe("news").await;
    for client in [&mut first, &mut second] {
        let count = client
            .expect_event("pusher_internal:subscription_count")
            .await;
        assert_eq!(decode_data(&count), json!({"subscription_count": 2}));
    }
    let events = events_until(&server, |seen| {
        webhooks(seen).contains(&WebhookEvent::SubscriptionCount {
            channel: "news".into(),
            subscription_count: 2,
        })
    })
    .await;
    assert!(
        webhooks(&events).contains(&WebhookEvent::SubscriptionCount {
            channel: "news".into(),
            subscription_count: 1,
        })
    );
}

#[tokio::test]
async fn without_subscription_counting_subscribers_hear_no_count() {
    let server = server(json!({}));
    let (mut client, _) = Client::subscribed(server.local_addr(), "news").await;
    client.ping_pong().await;
    let frames = within("a pong", client.frames_until_pong()).await;
    assert!(frames.is_empty(), "unexpected frames: {frames:?}");
}

#[tokio::test]
async fn without_dispatch_events_the_host_hears_no_webhook_event() {
    let server = start_with(json!({}), vec![app(APP_ID, KEY, json!({}))]);
    let (client, _) = Client::subscribed(server.local_addr(), "news").await;
    client.close().await;
    let events = events_until(&server, |seen| {
        seen.iter()
            .any(|e| matches!(e, EngineEvent::ConnectionClosed { .. }))
    })
    .await;
    assert!(webhooks(&events).is_empty());
}

#[test]
fn webhook_configuration_errors_name_the_key() {
    let error = |webhooks: Value, server: Value| {
        let config = json!({
            "servers": {"reverb": server},
            "apps": {"apps": [app(APP_ID, KEY, json!({"webhooks": webhooks}))]},
        });
        Config::from_value(&config).unwrap_err().to_string()
    };
    let cases = [
        (
            json!([{"url": "ftp://x"}]),
            json!({}),
            "apps.apps.0.webhooks.0.url must be an http:// or https:// URL",
        ),
        (
            json!([{}]),
            json!({}),
            "apps.apps.0.webhooks.0.url must be an http:// or https:// URL",
        ),
        (
            json!([{"url": "http://a.test", "event_type": ["member_added"]}]),
            json!({}),
            "apps.apps.0.webhooks.0.event_type is not a known key",
        ),
        (
            json!([{"url": "http://a.test", "event_types": ["member_joined"]}]),
            json!({}),
            "apps.apps.0.webhooks.0.event_types.0 must be one of channel_occupied",
        ),
        (
            json!([{"url": "http://a.test", "filter": {"prefix": "x"}}]),
            json!({}),
            "apps.apps.0.webhooks.0.filter.prefix is not a known key",
        ),
        (
            json!([{"url": "http://a.test", "headers": {"X-A": []}}]),
            json!({}),
            "apps.apps.0.webhooks.0.headers.X-A must be a string",
        ),
        (
            json!("http://a.test"),
            json!({}),
            "apps.apps.0.webhooks must be a list",
        ),
        (
            json!([]),
            json!({"webhooks": {"delay": 3}}),
            "servers.reverb.webhooks.delay is not a known key",
        ),
        (
            json!([]),
            json!({"webhooks": {"batch_size": 0}}),
            "servers.reverb.webhooks.batch_size must be greater than 0",
        ),
    ];
    for (webhooks, server, expected) in cases {
        let message = error(webhooks.clone(), server);
        assert!(message.starts_with(expected), "{webhooks}: got {message}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn members_leaving_together_are_all_removed_before_their_channel_is_vacated() {
    let server = server(json!({}));
    let channels: Vec<String> = (0..8).map(|n| format!("presence-together-{n}")).collect();
    let mut members = Vec::new();
    for channel in &channels {
        for user in ["u1", "u2", "u3"] {
            let (mut client, socket_id) = Client::connect(server.local_addr(), KEY).await;
            join_presence_as(&mut client, &socket_id, channel, json!(user)).await;
            members.push(client);
        }
    }
    futures_util::future::join_all(members.into_iter().map(Client::close)).await;

    let events = webhooks_settled(&server, channels.len() * 8).await;
    for channel in &channels {
        let departures: Vec<&WebhookEvent> = events
            .iter()
            .filter(|e| e.channel() == channel)
            .filter(|e| {
                matches!(
                    e,
                    WebhookEvent::MemberRemoved { .. } | WebhookEvent::ChannelVacated { .. }
                )
            })
            .collect();
        assert_eq!(departures.len(), 4, "{channel}: {departures:?}");
        assert_eq!(
            departures[3],
            &vacated(channel),
            "{channel}: {departures:?}"
        );
    }
}
