//! Presence across nodes, in order: while users join and leave on two nodes at once, every
//! socket in the channel hears of each change exactly once and only after its member list,
//! so the members pusher-js keeps for it are always the channel's; and the version Redis
//! numbers a channel's changes with lasts while anyone may hold one. Each test starts its own
//! `redis-server` on a free port.

mod redis_support;
mod support;

use futures_util::future::join_all;
use redis_support::{connected, Redis};
use reverb_engine::Server;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::time::Duration;
use support::{app, decode_data, presence_auth, start_with, subscribe_frame, within, Client, KEY};

/// The presence channel every socket of the race joins.
const CHANNEL: &str = "presence-race";

/// What Redis keeps of the channel starts with this, under the prefix of [`Redis::scaling`].
const KEYS: &str = "test_{reverb-rs}:presence:app-1:presence-race";

/// The event that tells each socket it has heard of every change.
const SETTLED: &str = "settled";

/// How many rounds of joins and leaves race each other.
const ROUNDS: usize = 40;

/// A server on a free port, a node of the cluster that shares `redis`.
fn node(redis: &Redis) -> Server {
    start_with(
        json!({"scaling": redis.scaling()}),
        vec![app("app-1", KEY, json!({}))],
    )
}

/// One socket in the channel, joined as a user of its own, and the members it knows of: its
/// `subscription_succeeded` list, then each `member_added` and `member_removed` applied in
/// the order they came, as pusher-js applies them.
struct Watcher {
    user: String,
    client: Client,
    /// `None` until its member list came.
    members: Option<BTreeSet<String>>,
    /// What it heard that does not fit the members it knew of then.
    faults: Vec<String>,
}

impl Watcher {
    /// Connects to `server` and joins [`CHANNEL`] as `user`, hearing everything up to its
    /// member list.
    async fn join(server: &Server, user: String) -> Watcher {
        let (mut client, socket_id) = Client::connect(server.local_addr(), KEY).await;
        let channel_data = json!({"user_id": user}).to_string();
        let auth = presence_auth(&socket_id, CHANNEL, &channel_data);
        client
            .send_json(subscribe_frame(CHANNEL, Some(&auth), Some(&channel_data)))
            .await;
        let mut watcher = Watcher {
            user,
            client,
            members: None,
            faults: Vec::new(),
        };
        while watcher.members.is_none() {
            let frame = watcher.client.next_json().await;
            watcher.hear(&frame);
        }
        watcher
    }

    /// Applies one frame to the members this socket knows of.
    fn hear(&mut self, frame: &Value) {
        let event = frame["event"].as_str().unwrap_or_default();
        if event == "pusher_internal:subscription_succeeded" {
            let ids = decode_data(frame)["presence"]["ids"].clone();
            let ids = ids.as_array().expect("a list of ids").iter().map(user_of);
            self.members = Some(ids.collect());
            return;
        }
        let added = match event {
            "pusher_internal:member_added" => true,
            "pusher_internal:member_removed" => false,
            _ => return,
        };
        let user = user_of(&decode_data(frame)["user_id"]);
        let fault = match &mut self.members {
            None => Some("before the member list"),
            Some(members) if added => (!members.insert(user.clone())).then_some("already a member"),
            Some(members) => (!members.remove(&user)).then_some("not a member"),
        };
        if let Some(fault) = fault {
            let change = if added { "added" } else { "removed" };
            self.faults.push(format!("{user} {change}, {fault}"));
        }
    }

    /// Hears every frame up to the [`SETTLED`] event.
    async fn settle(&mut self) {
        loop {
            let frame = self.client.next_json().await;
            if frame["event"] == SETTLED {
                return;
            }
            self.hear(&frame);
        }
    }
}

/// A user id as the test writes it.
fn user_of(id: &Value) -> String {
    id.as_str().expect("user ids are strings").to_string()
}

/// Runs `command` on the key of [`CHANNEL`] that ends in `suffix`, on the test's Redis.
async fn ask<T: redis::FromRedisValue>(redis: &Redis, command: &str, suffix: &str) -> T {
    let client = redis::Client::open(format!("redis://127.0.0.1:{}", redis.port)).unwrap();
    let mut connection = client.get_multiplexed_async_connection().await.unwrap();
    redis::cmd(command)
        .arg(format!("{KEYS}:{suffix}"))
        .query_async(&mut connection)
        .await
        .unwrap()
}

/// The users Redis counts in [`CHANNEL`].
async fn counted_users(redis: &Redis) -> BTreeSet<String> {
    ask(redis, "HKEYS", "users").await
}

#[tokio::test(flavor = "multi_thread")]
async fn members_joining_and_leaving_on_two_nodes_at_once_reach_every_socket_once_and_in_order() {
    let redis = Redis::start();
    let (a, b) = (node(&redis), node(&redis));
    connected(&[&a, &b]).await;

    // Each round a user joins on A and two on B, all at once, while every other round the
    // oldest socket leaves.
    let mut watchers: Vec<Watcher> = Vec::new();
    for round in 0..ROUNDS {
        let leaving = (round % 2 == 1).then(|| watchers.remove(0));
        let joins = join_all([
            Watcher::join(&a, format!("a{round}")),
            Watcher::join(&b, format!("b{round}")),
            Watcher::join(&b, format!("c{round}")),
        ]);
        let leave = async {
            if let Some(watcher) = leaving {
                watcher.client.close().await;
            }
        };
        let (joined, ()) = tokio::join!(joins, leave);
        watchers.extend(joined);
    }

    // A socket that closed is counted out after it is gone: once Redis counts exactly the
    // sockets still open, nothing changes any more, and an event published now reaches
    // every socket after every change.
    let users: BTreeSet<String> = watchers.iter().map(|w| w.user.clone()).collect();
    within("Redis to count every join and leave", async {
        while counted_users(&redis).await != users {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    a.publish("app-1", &[CHANNEL.to_string()], SETTLED, "{}", None)
        .unwrap();
    for watcher in &mut watchers {
        watcher.settle().await;
    }
    let faults: Vec<String> = watchers
        .iter()
        .flat_map(|w| {
            w.faults
                .iter()
                .map(|fault| format!("{} heard {fault}", w.user))
        })
        .collect();
    assert_eq!(faults, Vec::<String>::new());
    for watcher in &watchers {
        assert_eq!(watcher.members.as_ref(), Some(&users), "{}", watcher.user);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_channel_counts_its_changes_while_it_has_users_and_for_a_day_after_the_last_left() {
    let redis = Redis::start();
    let a = node(&redis);
    connected(&[&a]).await;
    let version = || ask::<Option<u64>>(&redis, "GET", "version");
    let ttl = || ask::<i64>(&redis, "PTTL", "version");

    let ada = Watcher::join(&a, "ada".into()).await;
    assert_eq!((version().await, ttl().await), (Some(1), -1));
    ada.client.close().await;
    within("Redis to count Ada out", async {
        while !counted_users(&redis).await.is_empty() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert_eq!(version().await, Some(2));
    let left = ttl().await;
    assert!(left > 0 && left <= 24 * 60 * 60 * 1000, "{left}");

    // The next user goes on from there, and the version stays while the channel has users.
    let bob = Watcher::join(&a, "bob".into()).await;
    assert_eq!(bob.members, Some(BTreeSet::from(["bob".to_string()])));
    assert_eq!((version().await, ttl().await), (Some(3), -1));
}
