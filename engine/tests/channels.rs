//! Socket-level tests of the channel and auth rules: private, presence, encrypted and cache
//! channels, channel names, client events and their rate limit, user sign-in, watchlists and
//! terminating users. A real server on 127.0.0.1, real WebSocket clients, auth signatures
//! computed here the way a Laravel backend computes them.
//!
//! Negative checks ("X does not reach socket S") never sleep: after the thing that must not be
//! delivered, a marker is published to a channel S is in, through the same ordered send queue,
//! and the next frame S sees must be that marker. The only sleep is the cache TTL test.

mod support;

use hmac::{Hmac, Mac};
use reverb_engine::{EngineEvent, Server};
use serde_json::{json, Value};
use sha2::Sha256;
use std::time::Duration;
use support::{app, decode_data, start, start_one, stats_until, Client};

const KEY: &str = "key-1";
const SECRET: &str = "key-1-secret";

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// Lowercase hex HMAC-SHA256 of `message` with `secret`.
fn sign(secret: &str, message: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(message.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// A channel auth `key:hex(HMAC(secret, "socket_id:channel[:channel_data]"))`.
fn channel_auth_with(
    key: &str,
    secret: &str,
    socket_id: &str,
    channel: &str,
    channel_data: Option<&str>,
) -> String {
    let message = match channel_data {
        Some(data) => format!("{socket_id}:{channel}:{data}"),
        None => format!("{socket_id}:{channel}"),
    };
    format!("{key}:{}", sign(secret, &message))
}

/// A valid private-channel auth for app-1.
fn channel_auth(socket_id: &str, channel: &str) -> String {
    channel_auth_with(KEY, SECRET, socket_id, channel, None)
}

/// A valid presence-channel auth for app-1, covering `channel_data`.
fn presence_auth(socket_id: &str, channel: &str, channel_data: &str) -> String {
    channel_auth_with(KEY, SECRET, socket_id, channel, Some(channel_data))
}

/// A sign-in auth `key:hex(HMAC(secret, "socket_id::user::user_data"))`.
fn user_auth_with(key: &str, secret: &str, socket_id: &str, user_data: &str) -> String {
    format!(
        "{key}:{}",
        sign(secret, &format!("{socket_id}::user::{user_data}"))
    )
}

/// A valid sign-in auth for app-1.
fn user_auth(socket_id: &str, user_data: &str) -> String {
    user_auth_with(KEY, SECRET, socket_id, user_data)
}

/// A `pusher:subscribe` frame with optional `auth` and `channel_data`.
fn subscribe_frame(channel: &str, auth: Option<&str>, channel_data: Option<&str>) -> Value {
    let mut data = json!({ "channel": channel });
    if let Some(auth) = auth {
        data["auth"] = json!(auth);
    }
    if let Some(channel_data) = channel_data {
        data["channel_data"] = json!(channel_data);
    }
    json!({"event": "pusher:subscribe", "data": data})
}

/// A `pusher:signin` frame.
fn signin_frame(auth: Option<&str>, user_data: &str) -> Value {
    let mut data = json!({ "user_data": user_data });
    if let Some(auth) = auth {
        data["auth"] = json!(auth);
    }
    json!({"event": "pusher:signin", "data": data})
}

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|name| name.to_string()).collect()
}

/// The occupied channels of app-1, by name.
fn occupied_channels(server: &Server) -> Vec<String> {
    server
        .channels("app-1", None)
        .unwrap()
        .into_keys()
        .collect()
}

/// Waits for `subscription_succeeded` on `channel` and returns its decoded data.
async fn expect_subscribed(client: &mut Client, channel: &str) -> Value {
    let frame = client
        .expect_event("pusher_internal:subscription_succeeded")
        .await;
    assert_eq!(frame["channel"], channel, "unexpected frame {frame}");
    decode_data(&frame)
}

/// Subscribes to a private (or private-encrypted) channel of app-1 with a valid auth.
async fn subscribe_private(client: &mut Client, socket_id: &str, channel: &str) {
    let auth = channel_auth(socket_id, channel);
    client
        .send_json(subscribe_frame(channel, Some(&auth), None))
        .await;
    let data = expect_subscribed(client, channel).await;
    assert_eq!(data, json!({}));
}

/// Joins a presence channel of app-1 as `member`; returns the `presence` payload.
async fn join_presence(
    client: &mut Client,
    socket_id: &str,
    channel: &str,
    member: &Value,
) -> Value {
    let channel_data = member.to_string();
    let auth = presence_auth(socket_id, channel, &channel_data);
    client
        .send_json(subscribe_frame(channel, Some(&auth), Some(&channel_data)))
        .await;
    let data = expect_subscribed(client, channel).await;
    data["presence"].clone()
}

/// Signs in to app-1 as `user_data` and checks `pusher:signin_success`.
async fn sign_in(client: &mut Client, socket_id: &str, user_data: &str) {
    let auth = user_auth(socket_id, user_data);
    client.send_json(signin_frame(Some(&auth), user_data)).await;
    let frame = client.expect_event("pusher:signin_success").await;
    assert_eq!(decode_data(&frame), json!({ "user_data": user_data }));
}

/// Publishes a marker event to `channel` of app-1.
fn publish_marker(server: &Server, channel: &str, marker: &str) {
    server
        .publish("app-1", &names(&[channel]), "marker", marker, None)
        .expect("app-1 exists");
}

/// Asserts the next frame `client` sees is the marker published to `channel`, which proves
/// nothing else was queued for it before.
async fn expect_marker(client: &mut Client, channel: &str, marker: &str) {
    let frame = client.next_json().await;
    assert_eq!(
        frame,
        json!({"event": "marker", "data": marker, "channel": channel}),
        "expected only the marker, got an earlier frame"
    );
}

/// Publishes a marker to `channel` and asserts it is the next frame `client` sees.
async fn assert_next_is_marker(server: &Server, client: &mut Client, channel: &str, marker: &str) {
    publish_marker(server, channel, marker);
    expect_marker(client, channel, marker).await;
}

/// Asserts that `channel` of app-1 is occupied by `sockets` sockets of `users` users.
fn assert_presence_counts(server: &Server, channel: &str, sockets: usize, users: usize) {
    let state = server.channel("app-1", channel).unwrap();
    assert!(state.occupied, "{channel} is not occupied");
    assert_eq!(state.subscription_count, sockets, "sockets in {channel}");
    assert_eq!(state.user_count, Some(users), "users in {channel}");
}

/// The channels `events` reports as created.
fn created_channels(events: &[EngineEvent]) -> Vec<String> {
    events
        .iter()
        .filter_map(|event| match event {
            EngineEvent::ChannelCreated { channel, .. } => Some(channel.clone()),
            _ => None,
        })
        .collect()
}

fn message_of(error: &Value) -> &str {
    error["message"]
        .as_str()
        .expect("error message is a string")
}

// ---------------------------------------------------------------------------------------------
// Private channels
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn private_channel_with_a_valid_signature_gets_subscription_succeeded() {
    let server = start_one(json!({}));
    let (mut client, socket_id) = Client::connect(server.local_addr(), KEY).await;
    let auth = channel_auth(&socket_id, "private-orders");
    client
        .send_json(subscribe_frame("private-orders", Some(&auth), None))
        .await;
    assert_eq!(
        client.next_json().await,
        json!({
            "event": "pusher_internal:subscription_succeeded",
            "data": "{}",
            "channel": "private-orders",
        })
    );
    assert_next_is_marker(&server, &mut client, "private-orders", "delivered").await;
}

#[tokio::test]
async fn private_channel_with_a_wrong_signature_gets_4009_and_the_socket_stays_usable() {
    let server = start_one(json!({}));
    let (mut client, socket_id) = Client::connect(server.local_addr(), KEY).await;
    let channel = "private-orders";
    let wrong = [
        // Signed with another secret.
        channel_auth_with(KEY, "not-the-secret", &socket_id, channel, None),
        // Signed for another channel.
        channel_auth(&socket_id, "private-other"),
        // Signed for another socket.
        channel_auth("1.1", channel),
        // Not hex, truncated, no key, empty signature.
        format!("{KEY}:not-hex"),
        format!("{KEY}:abcd"),
        sign(SECRET, &format!("{socket_id}:{channel}")),
        format!("{KEY}:"),
    ];
    for auth in wrong {
        client
            .send_json(subscribe_frame(channel, Some(&auth), None))
            .await;
        let error = client.expect_error(4009).await;
        assert_eq!(
            error["message"], "Connection is unauthorized",
            "auth {auth}"
        );
    }
    client.ping_pong().await;
    client.subscribe("public").await;
    subscribe_private(&mut client, &socket_id, channel).await;
}

#[tokio::test]
async fn private_channel_signed_with_another_apps_key_gets_4009() {
    let server = start(vec![
        app("app-1", "key-1", json!({})),
        app("app-2", "key-2", json!({})),
    ]);
    let addr = server.local_addr();
    let (mut client, socket_id) = Client::connect(addr, "key-1").await;
    let channel = "private-orders";
    let foreign = [
        // Another app's key and secret: valid on app-2, not here.
        channel_auth_with("key-2", "key-2-secret", &socket_id, channel, None),
        // Another app's key with this app's signature.
        channel_auth_with("key-2", "key-1-secret", &socket_id, channel, None),
        // This app's key with another app's signature.
        channel_auth_with("key-1", "key-2-secret", &socket_id, channel, None),
    ];
    for auth in foreign {
        client
            .send_json(subscribe_frame(channel, Some(&auth), None))
            .await;
        client.expect_error(4009).await;
    }
    client.ping_pong().await;
    assert!(occupied_channels(&server).is_empty());

    // The same kind of auth is accepted by the app it belongs to.
    let (mut other, other_id) = Client::connect(addr, "key-2").await;
    let auth = channel_auth_with("key-2", "key-2-secret", &other_id, channel, None);
    other
        .send_json(subscribe_frame(channel, Some(&auth), None))
        .await;
    expect_subscribed(&mut other, channel).await;
}

#[tokio::test]
async fn private_channel_without_auth_gets_4009_and_the_socket_stays_usable() {
    let server = start_one(json!({}));
    let (mut client, socket_id) = Client::connect(server.local_addr(), KEY).await;
    let channel = "private-orders";
    let frames = [
        subscribe_frame(channel, None, None),
        json!({"event": "pusher:subscribe", "data": {"channel": channel, "auth": null}}),
        subscribe_frame(channel, Some(""), None),
    ];
    for frame in frames {
        client.send_json(frame.clone()).await;
        let error = client.expect_error(4009).await;
        assert_eq!(error["message"], "Connection is unauthorized", "{frame}");
    }
    client.ping_pong().await;
    subscribe_private(&mut client, &socket_id, channel).await;
}

/// A private subscription that carries `channel_data` is signed over
/// `socket_id:channel:channel_data`, as the Pusher auth signature defines it.
#[tokio::test]
async fn private_channel_with_channel_data_must_sign_the_channel_data_too() {
    let server = start_one(json!({}));
    let (mut client, socket_id) = Client::connect(server.local_addr(), KEY).await;
    let channel = "private-orders";
    let channel_data = r#"{"user_id":"u1"}"#;

    // Signed without the channel_data.
    let without = channel_auth(&socket_id, channel);
    client
        .send_json(subscribe_frame(channel, Some(&without), Some(channel_data)))
        .await;
    client.expect_error(4009).await;

    // Signed over other channel_data.
    let other = channel_auth_with(
        KEY,
        SECRET,
        &socket_id,
        channel,
        Some(r#"{"user_id":"u2"}"#),
    );
    client
        .send_json(subscribe_frame(channel, Some(&other), Some(channel_data)))
        .await;
    client.expect_error(4009).await;

    // Signed over exactly the channel_data sent.
    let with = channel_auth_with(KEY, SECRET, &socket_id, channel, Some(channel_data));
    client
        .send_json(subscribe_frame(channel, Some(&with), Some(channel_data)))
        .await;
    assert_eq!(expect_subscribed(&mut client, channel).await, json!({}));
}

#[tokio::test]
async fn failed_subscribes_leave_no_channel_behind() {
    let server = start_one(json!({"max_presence_user_info_bytes": 16}));
    let (mut client, socket_id) = Client::connect(server.local_addr(), KEY).await;
    server.drain();

    let member = r#"{"user_id":"u1"}"#;
    let big_member = r#"{"user_id":"u1","user_info":{"bio":"0123456789abcdefghij"}}"#;
    let bad_data = "not json";
    let attempts = [
        (subscribe_frame("private-a", None, None), 4009),
        (
            subscribe_frame("private-a", Some(&channel_auth("1.1", "private-a")), None),
            4009,
        ),
        (subscribe_frame("presence-a", None, Some(member)), 4009),
        (
            subscribe_frame(
                "presence-a",
                Some(&channel_auth(&socket_id, "presence-a")),
                Some(member),
            ),
            4009,
        ),
        (
            subscribe_frame(
                "presence-a",
                Some(&presence_auth(&socket_id, "presence-a", bad_data)),
                Some(bad_data),
            ),
            4200,
        ),
        (
            subscribe_frame(
                "presence-a",
                Some(&presence_auth(&socket_id, "presence-a", big_member)),
                Some(big_member),
            ),
            4200,
        ),
        (subscribe_frame("private-encrypted-a", None, None), 4009),
        (subscribe_frame("private-cache-a", None, None), 4009),
        (subscribe_frame("#server-to-user-u1", None, None), 4009),
        (subscribe_frame("bad name", None, None), 4200),
    ];
    for (frame, code) in attempts {
        client.send_json(frame.clone()).await;
        let frame_error = client.next_json().await;
        assert_eq!(
            frame_error["event"], "pusher:error",
            "{frame} -> {frame_error}"
        );
        assert_eq!(decode_data(&frame_error)["code"], code, "{frame}");
    }
    // Everything above was handled before the pong, and its events were queued before it.
    client.ping_pong().await;

    assert!(occupied_channels(&server).is_empty());
    assert_eq!(server.stats()["app-1"].channels, 0);
    let events = server.drain();
    assert!(created_channels(&events).is_empty(), "{events:#?}");
    assert!(
        !events
            .iter()
            .any(|event| matches!(event, EngineEvent::Subscribed { .. })),
        "{events:#?}"
    );
}

// ---------------------------------------------------------------------------------------------
// Presence channels
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn presence_subscription_succeeded_lists_count_ids_and_hash_keeping_id_types() {
    let server = start_one(json!({}));
    let addr = server.local_addr();
    let (mut ada, ada_id) = Client::connect(addr, KEY).await;
    let (mut bob, bob_id) = Client::connect(addr, KEY).await;

    let first = join_presence(
        &mut ada,
        &ada_id,
        "presence-room",
        &json!({"user_id": 1, "user_info": {"name": "Ada"}}),
    )
    .await;
    assert_eq!(
        first,
        json!({"count": 1, "ids": [1], "hash": {"1": {"name": "Ada"}}})
    );

    let second = join_presence(
        &mut bob,
        &bob_id,
        "presence-room",
        &json!({"user_id": "2", "user_info": {"name": "Bob"}}),
    )
    .await;
    assert_eq!(second["count"], 2);
    let ids = second["ids"].as_array().expect("ids is an array");
    assert_eq!(ids.len(), 2, "{second}");
    assert!(
        ids.contains(&json!(1)),
        "the number id stays a number: {second}"
    );
    assert!(
        ids.contains(&json!("2")),
        "the string id stays a string: {second}"
    );
    assert_eq!(
        second["hash"],
        json!({"1": {"name": "Ada"}, "2": {"name": "Bob"}})
    );
    assert_eq!(
        second.as_object().unwrap().len(),
        3,
        "only count, ids and hash: {second}"
    );
}

#[tokio::test]
async fn presence_member_added_goes_to_others_only_on_a_users_first_socket() {
    let server = start_one(json!({}));
    let addr = server.local_addr();
    let channel = "presence-room";
    let (mut observer, observer_id) = Client::connect(addr, KEY).await;
    let (mut tab1, tab1_id) = Client::connect(addr, KEY).await;
    let (mut tab2, tab2_id) = Client::connect(addr, KEY).await;

    join_presence(
        &mut observer,
        &observer_id,
        channel,
        &json!({"user_id": "o"}),
    )
    .await;

    let user = json!({"user_id": "u", "user_info": {"name": "U"}});
    join_presence(&mut tab1, &tab1_id, channel, &user).await;
    let added = observer.expect_event("pusher_internal:member_added").await;
    assert_eq!(added["channel"], channel);
    assert_eq!(
        added["data"],
        user.to_string(),
        "member_added carries the joiner's channel_data as sent"
    );

    let payload = join_presence(&mut tab2, &tab2_id, channel, &user).await;
    assert_eq!(
        payload["count"], 2,
        "two users, whatever the sockets: {payload}"
    );

    // Neither the observer nor the user's first tab got another member_added, and the first
    // tab never saw a member_added about itself.
    publish_marker(&server, channel, "after-second-tab");
    expect_marker(&mut observer, channel, "after-second-tab").await;
    expect_marker(&mut tab1, channel, "after-second-tab").await;
    expect_marker(&mut tab2, channel, "after-second-tab").await;
    assert_presence_counts(&server, channel, 3, 2);
}

#[tokio::test]
async fn presence_member_removed_is_sent_only_after_the_users_last_socket_leaves() {
    let server = start_one(json!({}));
    let addr = server.local_addr();
    let channel = "presence-room";
    let (mut observer, observer_id) = Client::connect(addr, KEY).await;
    join_presence(
        &mut observer,
        &observer_id,
        channel,
        &json!({"user_id": "o"}),
    )
    .await;

    // Round 1: the first tab unsubscribes, the last one disconnects.
    let (mut u1, u1_id) = Client::connect(addr, KEY).await;
    let (mut u2, u2_id) = Client::connect(addr, KEY).await;
    join_presence(&mut u1, &u1_id, channel, &json!({"user_id": "u"})).await;
    join_presence(&mut u2, &u2_id, channel, &json!({"user_id": "u"})).await;
    observer.expect_event("pusher_internal:member_added").await;

    u1.unsubscribe(channel).await;
    assert_next_is_marker(&server, &mut observer, channel, "after-u1-unsubscribed").await;
    assert_presence_counts(&server, channel, 2, 2);

    drop(u2);
    let removed = observer
        .expect_event("pusher_internal:member_removed")
        .await;
    assert_eq!(removed["channel"], channel);
    assert_eq!(decode_data(&removed), json!({"user_id": "u"}));
    assert_presence_counts(&server, channel, 1, 1);

    // Round 2: the first tab disconnects, the last one unsubscribes; a number id stays one.
    let (mut v1, v1_id) = Client::connect(addr, KEY).await;
    let (mut v2, v2_id) = Client::connect(addr, KEY).await;
    join_presence(&mut v1, &v1_id, channel, &json!({"user_id": 42})).await;
    join_presence(&mut v2, &v2_id, channel, &json!({"user_id": 42})).await;
    observer.expect_event("pusher_internal:member_added").await;

    v1.close().await;
    // u1 and the observer are connected; v1 is fully gone once only three sockets remain.
    stats_until(&server, "app-1", |stats| stats.connections == 3).await;
    assert_next_is_marker(&server, &mut observer, channel, "after-v1-closed").await;
    expect_marker(&mut v2, channel, "after-v1-closed").await;

    v2.unsubscribe(channel).await;
    let removed = observer
        .expect_event("pusher_internal:member_removed")
        .await;
    assert_eq!(decode_data(&removed), json!({"user_id": 42}));
    assert_presence_counts(&server, channel, 1, 1);
    drop(u1);
}

#[tokio::test]
async fn presence_channel_full_rejects_a_new_user_with_4100_but_accepts_another_tab_of_a_member() {
    let server = start_one(json!({"max_presence_members": 1}));
    let addr = server.local_addr();
    let channel = "presence-room";
    let (mut a1, a1_id) = Client::connect(addr, KEY).await;
    let (mut a2, a2_id) = Client::connect(addr, KEY).await;
    let (mut b, b_id) = Client::connect(addr, KEY).await;

    join_presence(&mut a1, &a1_id, channel, &json!({"user_id": "a"})).await;
    server.drain();

    let b_data = json!({"user_id": "b"}).to_string();
    let auth = presence_auth(&b_id, channel, &b_data);
    b.send_json(subscribe_frame(channel, Some(&auth), Some(&b_data)))
        .await;
    let error = b.expect_error(4100).await;
    assert!(
        message_of(&error).contains("max_presence_members"),
        "{error}"
    );
    b.ping_pong().await;

    // Nothing was left behind: no member_added, b is neither subscriber nor member.
    assert_next_is_marker(&server, &mut a1, channel, "after-b-rejected").await;
    assert_presence_counts(&server, channel, 1, 1);
    assert_eq!(server.users("app-1", channel).unwrap(), vec![json!("a")]);
    let events = server.drain();
    assert!(
        !events.iter().any(|event| matches!(
            event,
            EngineEvent::Subscribed { socket_id, .. } if *socket_id == b_id
        )),
        "{events:#?}"
    );

    // Another tab of the member already in is not a new member.
    let payload = join_presence(&mut a2, &a2_id, channel, &json!({"user_id": "a"})).await;
    assert_eq!(
        payload,
        json!({"count": 1, "ids": ["a"], "hash": {"a": null}})
    );
    assert_presence_counts(&server, channel, 2, 1);

    // Once the member left, the new user fits.
    a1.unsubscribe(channel).await;
    a2.unsubscribe(channel).await;
    join_presence(&mut b, &b_id, channel, &json!({"user_id": "b"})).await;
}

#[tokio::test]
async fn presence_user_info_over_max_presence_user_info_bytes_gets_4200() {
    let server = start_one(json!({"max_presence_user_info_bytes": 32}));
    let (mut client, socket_id) = Client::connect(server.local_addr(), KEY).await;
    let channel = "presence-room";

    let big = json!({"user_id": "u", "user_info": {"bio": "x".repeat(64)}}).to_string();
    let auth = presence_auth(&socket_id, channel, &big);
    client
        .send_json(subscribe_frame(channel, Some(&auth), Some(&big)))
        .await;
    let error = client.expect_error(4200).await;
    assert!(
        message_of(&error).contains("max_presence_user_info_bytes"),
        "{error}"
    );
    client.ping_pong().await;
    assert!(occupied_channels(&server).is_empty());

    // user_info within the limit is fine.
    join_presence(
        &mut client,
        &socket_id,
        channel,
        &json!({"user_id": "u", "user_info": {"bio": "short"}}),
    )
    .await;
}

#[tokio::test]
async fn presence_invalid_channel_data_gets_4200() {
    let server = start_one(json!({}));
    let (mut client, socket_id) = Client::connect(server.local_addr(), KEY).await;
    let channel = "presence-room";

    // Each is correctly signed: the data itself is what is wrong.
    let bad: [Option<&str>; 8] = [
        None,
        Some("not json"),
        Some("[1]"),
        Some("{}"),
        Some(r#"{"user_id":""}"#),
        Some(r#"{"user_id":null}"#),
        Some(r#"{"user_id":[1]}"#),
        Some(r#"{"user_id":{"id":1}}"#),
    ];
    for channel_data in bad {
        let auth = channel_auth_with(KEY, SECRET, &socket_id, channel, channel_data);
        client
            .send_json(subscribe_frame(channel, Some(&auth), channel_data))
            .await;
        let error = client.expect_error(4200).await;
        assert!(
            message_of(&error).starts_with("Invalid presence channel_data"),
            "{channel_data:?}: {error}"
        );
    }
    client.ping_pong().await;
    assert!(occupied_channels(&server).is_empty());
}

// ---------------------------------------------------------------------------------------------
// Encrypted channels
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn encrypted_channel_needs_auth_like_a_private_channel() {
    let server = start_one(json!({}));
    let (mut client, socket_id) = Client::connect(server.local_addr(), KEY).await;
    let channel = "private-encrypted-x";

    client.send_json(subscribe_frame(channel, None, None)).await;
    client.expect_error(4009).await;
    let wrong = channel_auth_with(KEY, "not-the-secret", &socket_id, channel, None);
    client
        .send_json(subscribe_frame(channel, Some(&wrong), None))
        .await;
    client.expect_error(4009).await;
    client.ping_pong().await;
    assert!(occupied_channels(&server).is_empty());

    subscribe_private(&mut client, &socket_id, channel).await;
}

#[tokio::test]
async fn encrypted_channel_passes_published_data_through_untouched() {
    let server = start_one(json!({}));
    let addr = server.local_addr();
    let channel = "private-encrypted-x";
    let (mut a, a_id) = Client::connect(addr, KEY).await;
    let (mut b, b_id) = Client::connect(addr, KEY).await;
    subscribe_private(&mut a, &a_id, channel).await;
    subscribe_private(&mut b, &b_id, channel).await;

    // What a Laravel backend sends: nonce and ciphertext, base64 with +, / and =.
    let data = r#"{"nonce":"x+/7Qk9aZ1c2pL0=","ciphertext":"q8/+Zm9vYmFy\u00e9==","n":1.50}"#;
    let queued = server
        .publish("app-1", &names(&[channel]), "secret", data, None)
        .unwrap();
    assert_eq!(queued, 2);
    for client in [&mut a, &mut b] {
        let frame = client.next_json().await;
        assert_eq!(
            frame,
            json!({"event": "secret", "data": data, "channel": channel})
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Cache channels
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn cache_channel_with_nothing_cached_sends_cache_miss_after_subscription_succeeded() {
    let server = start_one(json!({}));
    let (mut client, _) = Client::connect(server.local_addr(), KEY).await;
    client
        .send_json(subscribe_frame("cache-x", None, None))
        .await;
    assert_eq!(
        client.next_json().await,
        json!({
            "event": "pusher_internal:subscription_succeeded",
            "data": "{}",
            "channel": "cache-x",
        })
    );
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
    let (mut first, _) = Client::connect(addr, KEY).await;
    let (mut late, _) = Client::connect(addr, KEY).await;
    first.subscribe("cache-x").await;
    first.expect_event("pusher:cache_miss").await;

    for (event, data) in [("one", r#"{"n":1}"#), ("two", r#"{"n":2}"#)] {
        server
            .publish("app-1", &names(&["cache-x"]), event, data, None)
            .unwrap();
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
    let queued = server
        .publish("app-1", &names(&["cache-y"]), "price", r#"{"eur":1}"#, None)
        .unwrap();
    assert_eq!(queued, 0);
    assert!(occupied_channels(&server).is_empty());

    let (mut client, _) = Client::connect(server.local_addr(), KEY).await;
    client.subscribe("cache-y").await;
    assert_eq!(
        client.next_json().await,
        json!({"event": "price", "data": r#"{"eur":1}"#, "channel": "cache-y"})
    );
}

#[tokio::test]
async fn cached_event_is_gone_after_cache_ttl() {
    let server = start_one(json!({"cache_ttl": 1}));
    let addr = server.local_addr();
    server
        .publish("app-1", &names(&["cache-x"]), "price", "{}", None)
        .unwrap();

    let (mut early, _) = Client::connect(addr, KEY).await;
    early.subscribe("cache-x").await;
    early.expect_event("price").await;

    // The one sleep of this file: the TTL is whole seconds.
    tokio::time::sleep(Duration::from_millis(1_200)).await;

    let (mut late, _) = Client::connect(addr, KEY).await;
    late.subscribe("cache-x").await;
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
        server
            .publish("app-1", &names(&[channel]), "ev", r#"{"v":1}"#, None)
            .unwrap();
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

// ---------------------------------------------------------------------------------------------
// Channel names
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn invalid_channel_names_get_4200_invalid_channel_name() {
    let server = start_one(json!({}));
    let (mut client, _) = Client::connect(server.local_addr(), KEY).await;
    let too_long = "a".repeat(165);
    let private_too_long = format!("private-{}", "a".repeat(157));
    let bad = [
        "has space",
        "star*",
        "slash/",
        "quote\"",
        "emoji-\u{1F600}",
        "#other",
        "#server-to-user",
        &too_long,
        &private_too_long,
    ];
    for name in bad {
        client.send_json(subscribe_frame(name, None, None)).await;
        let error = client.expect_error(4200).await;
        assert!(
            message_of(&error).starts_with("Invalid channel name"),
            "{name:?}: {error}"
        );
    }
    client.ping_pong().await;
    assert!(occupied_channels(&server).is_empty());
}

#[tokio::test]
async fn channel_name_of_164_characters_is_accepted() {
    let server = start_one(json!({}));
    let (mut client, socket_id) = Client::connect(server.local_addr(), KEY).await;
    let public = "a".repeat(164);
    client.subscribe(&public).await;
    let private = format!("private-{}", "b".repeat(156));
    assert_eq!(private.len(), 164);
    subscribe_private(&mut client, &socket_id, &private).await;
    client.subscribe("a_b-c=d@e,f.g;h").await;
    assert_eq!(occupied_channels(&server).len(), 3);
}

// ---------------------------------------------------------------------------------------------
// Client events
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn client_event_on_a_presence_channel_carries_the_senders_user_id() {
    let server = start_one(json!({}));
    let addr = server.local_addr();
    let channel = "presence-room";
    let (mut a, a_id) = Client::connect(addr, KEY).await;
    let (mut b, b_id) = Client::connect(addr, KEY).await;
    join_presence(&mut a, &a_id, channel, &json!({"user_id": "u-a"})).await;
    join_presence(&mut b, &b_id, channel, &json!({"user_id": 7})).await;
    a.expect_event("pusher_internal:member_added").await;

    a.send_json(json!({"event": "client-typing", "channel": channel, "data": {"x": 1}}))
        .await;
    assert_eq!(
        b.next_json().await,
        json!({"event": "client-typing", "channel": channel, "data": {"x": 1}, "user_id": "u-a"})
    );
    b.send_json(json!({"event": "client-typing", "channel": channel, "data": {"x": 2}}))
        .await;
    assert_eq!(
        a.next_json().await,
        json!({"event": "client-typing", "channel": channel, "data": {"x": 2}, "user_id": 7})
    );

    // Not on a private channel: there is no member to name.
    let private = "private-room";
    subscribe_private(&mut a, &a_id, private).await;
    subscribe_private(&mut b, &b_id, private).await;
    a.send_json(json!({"event": "client-typing", "channel": private, "data": {}}))
        .await;
    let frame = b.next_json().await;
    assert_eq!(frame["event"], "client-typing");
    assert!(frame.get("user_id").is_none(), "{frame}");
}

#[tokio::test]
async fn client_messages_over_the_rate_limit_get_4301_and_the_socket_stays_open() {
    let server = start_one(json!({"rate_limiting": {
        "enabled": true, "max_attempts": 3, "decay_seconds": 60,
    }}));
    let addr = server.local_addr();
    let (mut sender, _) = Client::connect(addr, KEY).await;
    let (mut other, _) = Client::connect(addr, KEY).await;
    other.subscribe("room").await;

    sender.subscribe("room").await; // 1
    for n in 2..=4 {
        sender
            .send_json(json!({"event": "client-msg", "channel": "room", "data": {"n": n}}))
            .await;
    }
    let error = sender.expect_error(4301).await;
    assert_eq!(error["message"], "Rate limit exceeded");

    // Messages 2 and 3 went through, the 4th did not.
    for n in 2..=3 {
        let frame = other.next_json().await;
        assert_eq!(frame["data"], json!({ "n": n }));
    }
    publish_marker(&server, "room", "after-limit");
    expect_marker(&mut other, "room", "after-limit").await;
    // The limited socket is still open and still receives.
    expect_marker(&mut sender, "room", "after-limit").await;
    assert_eq!(server.stats()["app-1"].connections, 2);
}

#[tokio::test]
async fn client_messages_over_the_rate_limit_close_the_socket_with_4301_when_terminating() {
    let server = start_one(json!({"rate_limiting": {
        "enabled": true, "max_attempts": 3, "decay_seconds": 60, "terminate_on_limit": true,
    }}));
    let (mut sender, _) = Client::connect(server.local_addr(), KEY).await;
    sender.subscribe("room").await; // 1
    for n in 2..=4 {
        sender
            .send_json(json!({"event": "client-msg", "channel": "room", "data": {"n": n}}))
            .await;
    }
    let error = sender.expect_error(4301).await;
    assert_eq!(error["message"], "Rate limit exceeded");
    let (code, reason) = sender.expect_close().await;
    assert_eq!(code, 4301);
    assert_eq!(reason, "Rate limit exceeded");
    stats_until(&server, "app-1", |stats| {
        stats.connections == 0 && stats.channels == 0
    })
    .await;
}

// ---------------------------------------------------------------------------------------------
// User sign-in
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn signin_with_valid_auth_gets_signin_success_with_the_user_data() {
    let server = start_one(json!({}));
    let (mut client, socket_id) = Client::connect(server.local_addr(), KEY).await;
    let user_data = r#"{"id":"u1","user_info":{"name":"Ada"}}"#;
    let auth = user_auth(&socket_id, user_data);
    client.send_json(signin_frame(Some(&auth), user_data)).await;
    let frame = client.next_json().await;
    assert_eq!(frame["event"], "pusher:signin_success");
    assert!(frame["data"].is_string(), "{frame}");
    let data = decode_data(&frame);
    assert_eq!(data, json!({ "user_data": user_data }));
    // No watchlist, so nothing follows.
    client.ping_pong().await;
}

#[tokio::test]
async fn signin_with_a_bad_signature_gets_4009() {
    let server = start(vec![
        app("app-1", "key-1", json!({})),
        app("app-2", "key-2", json!({})),
    ]);
    let (mut client, socket_id) = Client::connect(server.local_addr(), KEY).await;
    let user_data = r#"{"id":"u1"}"#;
    let bad = [
        Some(user_auth_with(KEY, "not-the-secret", &socket_id, user_data)),
        Some(user_auth_with(
            "key-2",
            "key-2-secret",
            &socket_id,
            user_data,
        )),
        Some(user_auth(&socket_id, r#"{"id":"u2"}"#)),
        Some(user_auth("1.1", user_data)),
        // The channel-auth string instead of the user one.
        Some(channel_auth(&socket_id, user_data)),
        Some(String::new()),
        None,
    ];
    for auth in bad {
        client
            .send_json(signin_frame(auth.as_deref(), user_data))
            .await;
        let error = client.expect_error(4009).await;
        assert_eq!(error["message"], "Connection is unauthorized", "{auth:?}");
    }
    client.ping_pong().await;
    // Not signed in: the user's own channel stays closed.
    client
        .send_json(subscribe_frame("#server-to-user-u1", None, None))
        .await;
    client.expect_error(4009).await;
    assert_eq!(server.signed_in_sockets("app-1", "u1").unwrap(), 0);
}

#[tokio::test]
async fn signin_user_data_without_a_string_id_gets_4200() {
    let server = start_one(json!({}));
    let (mut client, socket_id) = Client::connect(server.local_addr(), KEY).await;
    for user_data in [
        r#"{"id":5}"#,
        r#"{"id":""}"#,
        r#"{"id":null}"#,
        r#"{"name":"Ada"}"#,
        r#"["u1"]"#,
        "not json",
        r#"{"id":"u1","watchlist":"u2"}"#,
    ] {
        let auth = user_auth(&socket_id, user_data);
        client.send_json(signin_frame(Some(&auth), user_data)).await;
        let error = client.expect_error(4200).await;
        assert!(
            message_of(&error).starts_with("Invalid user_data"),
            "{user_data}: {error}"
        );
    }
    client.ping_pong().await;
    sign_in(&mut client, &socket_id, r#"{"id":"u1"}"#).await;
}

#[tokio::test]
async fn signing_in_as_a_different_user_on_the_same_socket_gets_4009() {
    let server = start_one(json!({}));
    let (mut client, socket_id) = Client::connect(server.local_addr(), KEY).await;
    sign_in(&mut client, &socket_id, r#"{"id":"u1"}"#).await;

    let other = r#"{"id":"u2"}"#;
    let auth = user_auth(&socket_id, other);
    client.send_json(signin_frame(Some(&auth), other)).await;
    client.expect_error(4009).await;

    // Signing in again as the same user is fine.
    sign_in(&mut client, &socket_id, r#"{"id":"u1"}"#).await;

    // Still u1, never u2.
    client.subscribe("#server-to-user-u1").await;
    client
        .send_json(subscribe_frame("#server-to-user-u2", None, None))
        .await;
    client.expect_error(4009).await;
    assert_eq!(server.signed_in_sockets("app-1", "u1").unwrap(), 1);
    assert_eq!(server.signed_in_sockets("app-1", "u2").unwrap(), 0);
}

#[tokio::test]
async fn server_to_user_channel_admits_only_sockets_signed_in_as_that_user() {
    let server = start_one(json!({}));
    let addr = server.local_addr();
    let (mut u1, u1_id) = Client::connect(addr, KEY).await;
    let (mut u2, u2_id) = Client::connect(addr, KEY).await;
    let (mut anonymous, _) = Client::connect(addr, KEY).await;
    sign_in(&mut u1, &u1_id, r#"{"id":"u1"}"#).await;
    sign_in(&mut u2, &u2_id, r#"{"id":"u2"}"#).await;

    let channel = "#server-to-user-u1";
    // pusher-js sends an empty auth for this channel.
    u1.send_json(subscribe_frame(channel, Some(""), None)).await;
    assert_eq!(expect_subscribed(&mut u1, channel).await, json!({}));

    for client in [&mut u2, &mut anonymous] {
        client.send_json(subscribe_frame(channel, None, None)).await;
        let error = client.expect_error(4009).await;
        assert_eq!(error["message"], "Connection is unauthorized");
        // A private-style signature does not open it either.
        let auth = channel_auth(&u2_id, channel);
        client
            .send_json(subscribe_frame(channel, Some(&auth), None))
            .await;
        client.expect_error(4009).await;
        client.ping_pong().await;
    }
    let state = server.channel("app-1", channel).unwrap();
    assert_eq!(state.subscription_count, 1);
}

#[tokio::test]
async fn publish_to_server_to_user_channel_reaches_every_socket_of_that_user() {
    let server = start_one(json!({}));
    let addr = server.local_addr();
    let channel = "#server-to-user-u1";
    let (mut tab1, tab1_id) = Client::connect(addr, KEY).await;
    let (mut tab2, tab2_id) = Client::connect(addr, KEY).await;
    let (mut someone_else, else_id) = Client::connect(addr, KEY).await;
    for (client, socket_id) in [(&mut tab1, &tab1_id), (&mut tab2, &tab2_id)] {
        sign_in(client, socket_id, r#"{"id":"u1"}"#).await;
        client.subscribe(channel).await;
    }
    sign_in(&mut someone_else, &else_id, r#"{"id":"u2"}"#).await;
    someone_else.subscribe("#server-to-user-u2").await;

    let queued = server
        .publish("app-1", &names(&[channel]), "notice", r#"{"hi":1}"#, None)
        .unwrap();
    assert_eq!(queued, 2);
    for client in [&mut tab1, &mut tab2] {
        assert_eq!(
            client.next_json().await,
            json!({"event": "notice", "data": r#"{"hi":1}"#, "channel": channel})
        );
    }
    assert_next_is_marker(&server, &mut someone_else, "#server-to-user-u2", "only-u2").await;
}

// ---------------------------------------------------------------------------------------------
// Watchlists
// ---------------------------------------------------------------------------------------------

fn watchlist_event(name: &str, ids: &[&str]) -> Value {
    json!({"name": name, "user_ids": ids})
}

async fn expect_watchlist(client: &mut Client, events: Vec<Value>) {
    let frame = client
        .expect_event("pusher_internal:watchlist_events")
        .await;
    assert!(frame.get("channel").is_none(), "{frame}");
    assert_eq!(decode_data(&frame), json!({ "events": events }));
}

#[tokio::test]
async fn watchlist_at_signin_reports_offline_users_and_no_empty_online_list() {
    let server = start_one(json!({}));
    let addr = server.local_addr();
    let (mut a, a_id) = Client::connect(addr, KEY).await;
    sign_in(&mut a, &a_id, r#"{"id":"a","watchlist":["b","c"]}"#).await;
    expect_watchlist(&mut a, vec![watchlist_event("offline", &["b", "c"])]).await;
    a.ping_pong().await;

    // With b online, a second watcher gets both lists in one frame.
    let (mut b, b_id) = Client::connect(addr, KEY).await;
    sign_in(&mut b, &b_id, r#"{"id":"b"}"#).await;
    a.expect_event("pusher_internal:watchlist_events").await;
    let (mut d, d_id) = Client::connect(addr, KEY).await;
    sign_in(&mut d, &d_id, r#"{"id":"d","watchlist":["b","c"]}"#).await;
    expect_watchlist(
        &mut d,
        vec![
            watchlist_event("online", &["b"]),
            watchlist_event("offline", &["c"]),
        ],
    )
    .await;
}

#[tokio::test]
async fn watchlist_reports_a_user_online_once_and_offline_after_their_last_socket_closes() {
    let server = start_one(json!({}));
    let addr = server.local_addr();
    let (mut a, a_id) = Client::connect(addr, KEY).await;
    a.subscribe("a-inbox").await;
    sign_in(&mut a, &a_id, r#"{"id":"a","watchlist":["b","c"]}"#).await;
    expect_watchlist(&mut a, vec![watchlist_event("offline", &["b", "c"])]).await;

    let (mut b1, b1_id) = Client::connect(addr, KEY).await;
    sign_in(&mut b1, &b1_id, r#"{"id":"b"}"#).await;
    expect_watchlist(&mut a, vec![watchlist_event("online", &["b"])]).await;

    let (mut b2, b2_id) = Client::connect(addr, KEY).await;
    sign_in(&mut b2, &b2_id, r#"{"id":"b"}"#).await;
    // b was online already: no second online event was queued for a.
    assert_next_is_marker(&server, &mut a, "a-inbox", "after-b2-signin").await;

    b1.close().await;
    stats_until(&server, "app-1", |stats| stats.connections == 2).await;
    // b is still online through b2.
    assert_next_is_marker(&server, &mut a, "a-inbox", "after-b1-closed").await;

    drop(b2);
    expect_watchlist(&mut a, vec![watchlist_event("offline", &["b"])]).await;
    stats_until(&server, "app-1", |stats| stats.connections == 1).await;
    assert_next_is_marker(&server, &mut a, "a-inbox", "after-b2-closed").await;
}

#[tokio::test]
async fn watchlist_of_101_ids_gets_4302_after_signin_success_and_signin_still_succeeds() {
    let server = start_one(json!({}));
    let (mut client, socket_id) = Client::connect(server.local_addr(), KEY).await;
    let ids: Vec<String> = (0..101).map(|n| format!("w{n}")).collect();
    let user_data = json!({"id": "a", "watchlist": ids}).to_string();
    sign_in(&mut client, &socket_id, &user_data).await;

    let error = client.expect_error(4302).await;
    assert!(message_of(&error).contains("100"), "{error}");
    let frame = client
        .expect_event("pusher_internal:watchlist_events")
        .await;
    let first_100: Vec<&str> = ids[..100].iter().map(String::as_str).collect();
    assert_eq!(
        decode_data(&frame),
        json!({"events": [watchlist_event("offline", &first_100)]})
    );

    // Signed in all the same.
    client.subscribe("#server-to-user-a").await;
    assert_eq!(server.signed_in_sockets("app-1", "a").unwrap(), 1);
}

// ---------------------------------------------------------------------------------------------
// Terminating users
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn terminate_user_closes_the_users_signed_in_and_presence_sockets_with_4009() {
    let server = start_one(json!({}));
    let addr = server.local_addr();
    let channel = "presence-room";
    // Signed in as u1.
    let (mut signed_in, signed_in_id) = Client::connect(addr, KEY).await;
    sign_in(&mut signed_in, &signed_in_id, r#"{"id":"u1"}"#).await;
    // Another user, in the presence channel.
    let (mut watcher, watcher_id) = Client::connect(addr, KEY).await;
    sign_in(&mut watcher, &watcher_id, r#"{"id":"u2"}"#).await;
    join_presence(
        &mut watcher,
        &watcher_id,
        channel,
        &json!({"user_id": "u2"}),
    )
    .await;
    // In the presence channel as u1, without signing in.
    let (mut member, member_id) = Client::connect(addr, KEY).await;
    join_presence(&mut member, &member_id, channel, &json!({"user_id": "u1"})).await;
    watcher.expect_event("pusher_internal:member_added").await;
    // Unrelated.
    let (mut bystander, _) = Client::connect(addr, KEY).await;
    bystander.subscribe("news").await;

    let closed = server.terminate_user("app-1", "u1").unwrap();
    assert_eq!(closed, 2);

    for client in [&mut signed_in, &mut member] {
        let error = client.expect_error(4009).await;
        assert_eq!(error["message"], "Connection terminated by the server");
        assert_eq!(client.expect_close().await.0, 4009);
    }

    let removed = watcher.expect_event("pusher_internal:member_removed").await;
    assert_eq!(decode_data(&removed), json!({"user_id": "u1"}));
    watcher.ping_pong().await;
    bystander.ping_pong().await;
    stats_until(&server, "app-1", |stats| stats.connections == 2).await;
    assert_presence_counts(&server, channel, 1, 1);
    assert_eq!(server.signed_in_sockets("app-1", "u1").unwrap(), 0);
    assert_eq!(server.signed_in_sockets("app-1", "u2").unwrap(), 1);
}

// ---------------------------------------------------------------------------------------------
// Re-subscribing to a presence channel
// ---------------------------------------------------------------------------------------------

/// A socket that subscribes again to a presence channel it is in, as the same user, changes
/// nothing the other members can see.
#[tokio::test]
async fn repeated_presence_subscribe_by_the_same_socket_sends_no_member_events() {
    let server = start_one(json!({}));
    let addr = server.local_addr();
    let channel = "presence-room";
    let (mut observer, observer_id) = Client::connect(addr, KEY).await;
    let (mut user, user_id) = Client::connect(addr, KEY).await;
    join_presence(
        &mut observer,
        &observer_id,
        channel,
        &json!({"user_id": "o"}),
    )
    .await;
    join_presence(&mut user, &user_id, channel, &json!({"user_id": "u"})).await;
    observer.expect_event("pusher_internal:member_added").await;

    join_presence(&mut user, &user_id, channel, &json!({"user_id": "u"})).await;
    assert_next_is_marker(&server, &mut observer, channel, "after-repeat").await;
}

/// A refused re-subscribe (another user on a full presence channel) leaves the socket's
/// existing subscription as it was.
#[tokio::test]
async fn refused_presence_resubscribe_keeps_the_existing_subscription() {
    let server = start_one(json!({"max_presence_members": 1}));
    let addr = server.local_addr();
    let channel = "presence-room";
    let (mut a1, a1_id) = Client::connect(addr, KEY).await;
    let (mut a2, a2_id) = Client::connect(addr, KEY).await;
    join_presence(&mut a1, &a1_id, channel, &json!({"user_id": "a"})).await;
    join_presence(&mut a2, &a2_id, channel, &json!({"user_id": "a"})).await;

    let as_b = json!({"user_id": "b"}).to_string();
    let auth = presence_auth(&a2_id, channel, &as_b);
    a2.send_json(subscribe_frame(channel, Some(&auth), Some(&as_b)))
        .await;
    a2.expect_error(4100).await;

    assert_presence_counts(&server, channel, 2, 1);
    publish_marker(&server, channel, "after-refused");
    expect_marker(&mut a1, channel, "after-refused").await;
    expect_marker(&mut a2, channel, "after-refused").await;
}
