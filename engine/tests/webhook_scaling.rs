//! Webhook events once per cluster: two nodes sharing one Redis report a channel occupied
//! when its first socket anywhere subscribes and vacated when its last one anywhere left,
//! and a presence member once, whichever nodes their sockets are on.

mod redis_support;
mod support;

use redis_support::{connected, Redis};
use reverb_engine::{EngineEvent, Server, WebhookEvent};
use serde_json::json;
use std::time::Duration;
use support::{app, join_presence_as, start_with, within, Client, KEY};

/// How long a departure waits for a return in these tests.
const DELAY_MS: u64 = 300;

/// A node of the cluster on `redis` that reports every webhook event to the host.
fn node(redis: &Redis) -> Server {
    let webhooks = json!({"dispatch_events": true, "delay_ms": DELAY_MS});
    start_with(
        json!({"scaling": redis.scaling(), "webhooks": webhooks}),
        vec![app("app-1", KEY, json!({}))],
    )
}

/// The occupancy and member events both nodes reported, once `settled` says enough came
/// and twice the delay more has passed.
async fn reported(nodes: &[&Server], count: usize) -> Vec<WebhookEvent> {
    let mut seen = Vec::new();
    within("the webhook events", async {
        while seen.len() < count {
            for node in nodes {
                seen.extend(arrivals_and_departures(node.drain()));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    tokio::time::sleep(Duration::from_millis(2 * DELAY_MS)).await;
    for node in nodes {
        seen.extend(arrivals_and_departures(node.drain()));
    }
    seen
}

fn arrivals_and_departures(events: Vec<EngineEvent>) -> Vec<WebhookEvent> {
    events
        .into_iter()
        .filter_map(|event| match event {
            EngineEvent::Webhook { event, .. } => Some(event),
            _ => None,
        })
        .filter(|event| !matches!(event, WebhookEvent::SubscriptionCount { .. }))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_channel_on_two_nodes_is_occupied_and_vacated_once() {
    let redis = Redis::start();
    let (a, b) = (node(&redis), node(&redis));
    connected(&[&a, &b]).await;
    let (mut on_a, _) = Client::subscribed(a.local_addr(), "news").await;
    let events = reported(&[&a, &b], 1).await;
    let (on_b, _) = Client::subscribed(b.local_addr(), "news").await;
    on_a.unsubscribe("news").await;
    let quiet = reported(&[&a, &b], 0).await;
    assert_eq!(
        quiet,
        vec![],
        "the channel is still occupied on the other node"
    );
    on_b.close().await;
    let later = reported(&[&a, &b], 1).await;
    let occupied = WebhookEvent::ChannelOccupied {
        channel: "news".into(),
    };
    let vacated = WebhookEvent::ChannelVacated {
        channel: "news".into(),
    };
    assert_eq!(events, vec![occupied]);
    assert_eq!(later, vec![vacated]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_member_with_sockets_on_two_nodes_is_added_and_removed_once() {
    let redis = Redis::start();
    let (a, b) = (node(&redis), node(&redis));
    connected(&[&a, &b]).await;
    let channel = "presence-room";
    let (mut on_a, id_a) = Client::connect(a.local_addr(), KEY).await;
    join_presence_as(&mut on_a, &id_a, channel, json!(5)).await;
    let joined = reported(&[&a, &b], 2).await;
    let (mut on_b, id_b) = Client::connect(b.local_addr(), KEY).await;
    join_presence_as(&mut on_b, &id_b, channel, json!(5)).await;
    on_a.close().await;
    let quiet = reported(&[&a, &b], 0).await;
    on_b.close().await;
    let left = reported(&[&a, &b], 2).await;

    let member = |added: bool| {
        let (channel, user_id) = (channel.to_string(), "5".to_string());
        match added {
            true => WebhookEvent::MemberAdded { channel, user_id },
            false => WebhookEvent::MemberRemoved { channel, user_id },
        }
    };
    let occupied = WebhookEvent::ChannelOccupied {
        channel: channel.into(),
    };
    let vacated = WebhookEvent::ChannelVacated {
        channel: channel.into(),
    };
    assert_eq!(joined, vec![occupied, member(true)]);
    assert_eq!(quiet, vec![]);
    assert_eq!(left, vec![member(false), vacated]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_node_that_stops_reports_what_leaves_the_cluster_with_it() {
    let redis = Redis::start();
    let (a, b) = (node(&redis), node(&redis));
    connected(&[&a, &b]).await;
    let (_on_a, _) = Client::subscribed(a.local_addr(), "shared").await;
    let (_on_b, _) = Client::subscribed(b.local_addr(), "shared").await;
    let (_only_b, _) = Client::subscribed(b.local_addr(), "only-b").await;
    reported(&[&a, &b], 2).await;
    b.stop(Duration::from_millis(500));
    let events = reported(&[&a, &b], 1).await;
    let vacated = WebhookEvent::ChannelVacated {
        channel: "only-b".into(),
    };
    assert_eq!(events, vec![vacated]);
}
