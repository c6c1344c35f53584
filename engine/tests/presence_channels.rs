//! Presence channels: the member list a joiner gets, `member_added` and `member_removed`
//! once per user whatever the number of their sockets, the member and `user_info` limits,
//! invalid `channel_data`, and subscribing again to a channel a socket is in.

mod support;

use reverb_engine::{EngineEvent, Server};
use serde_json::json;
use support::{
    assert_next_is_marker, assert_presence_counts, channel_auth, decode_data, expect_each_refused,
    expect_marker, join_presence, message_of, occupied_channels, presence_auth, publish_marker,
    start_one, stats_until, subscribe_frame, Client, Refusal, KEY, SECRET,
};

/// Connects a socket that joins `channel` as the member `o`, to watch others come and go.
async fn observer(server: &Server, channel: &str) -> Client {
    let (mut observer, observer_id) = Client::connect(server.local_addr(), KEY).await;
    join_presence(
        &mut observer,
        &observer_id,
        channel,
        &json!({"user_id": "o"}),
    )
    .await;
    observer
}

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
    let mut observer = observer(&server, channel).await;
    let (mut tab1, tab1_id) = Client::connect(addr, KEY).await;
    let (mut tab2, tab2_id) = Client::connect(addr, KEY).await;

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
    let mut observer = observer(&server, channel).await;

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
    let frames = bad.map(|channel_data| {
        let auth = channel_auth(KEY, SECRET, &socket_id, channel, channel_data);
        subscribe_frame(channel, Some(&auth), channel_data)
    });
    expect_each_refused(
        &mut client,
        frames,
        4200,
        Refusal::StartsWith("Invalid presence channel_data"),
    )
    .await;
    assert!(occupied_channels(&server).is_empty());
}

/// A socket that subscribes again to a presence channel it is in, as the same user, changes
/// nothing the other members can see.
#[tokio::test]
async fn repeated_presence_subscribe_by_the_same_socket_sends_no_member_events() {
    let server = start_one(json!({}));
    let addr = server.local_addr();
    let channel = "presence-room";
    let mut observer = observer(&server, channel).await;
    let (mut user, user_id) = Client::connect(addr, KEY).await;
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
