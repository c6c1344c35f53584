//! The limits a public server has without any configuration, each proven on a real socket:
//! client events per second per socket (10, Pusher's), channels per socket (100), members per
//! presence channel (100) and bytes of a member's `user_info` (2 KB). Each is also shown to
//! lift when the app sets it to 0, Reverb's unlimited behaviour.

mod support;

use serde_json::{json, Value};
use support::{
    expect_subscribed, join_presence, join_presence_as, message_of, presence_auth, publish_marker,
    start_one, subscribe_frame, Client, APP_ID, KEY,
};

/// Client events sent in one burst: far more than 10, so that some are over the limit
/// however the burst falls across the limiter's one-second windows.
const BURST: usize = 50;

/// How a burst of client events fared.
struct Burst {
    /// Events the other subscriber received.
    delivered: usize,
    /// `pusher:error` 4301 answers the sender got.
    refused: usize,
}

/// Sends [`BURST`] client events from one subscriber of `room` to another and counts what
/// was relayed and what was refused. Both sockets stay open throughout.
async fn whisper_burst(overrides: Value) -> Burst {
    let server = start_one(overrides);
    let addr = server.local_addr();
    let (mut sender, _) = Client::subscribed(addr, "room").await;
    let (mut other, _) = Client::subscribed(addr, "room").await;

    for n in 0..BURST {
        sender
            .send_json(json!({"event": "client-typing", "channel": "room", "data": {"n": n}}))
            .await;
    }
    let answers = sender.frames_until_pong().await;
    for answer in &answers {
        assert_eq!(answer["event"], "pusher:error", "unexpected frame {answer}");
        let error = support::decode_data(answer);
        assert_eq!(error["code"], 4301, "{error}");
        assert!(
            message_of(&error).contains("max_client_events_per_second"),
            "{error}"
        );
    }

    publish_marker(&server, "room", "after-burst");
    let mut delivered = 0;
    loop {
        let frame = other.next_json().await;
        if frame["event"] == "marker" {
            break;
        }
        assert_eq!(frame["event"], "client-typing", "unexpected frame {frame}");
        assert_eq!(frame["data"]["n"], delivered, "events arrive in order");
        delivered += 1;
    }
    sender.expect_event("marker").await;
    sender.ping_pong().await;
    assert_eq!(server.stats()[APP_ID].connections, 2);
    Burst {
        delivered,
        refused: answers.len(),
    }
}

#[tokio::test]
async fn client_events_past_10_a_second_get_4301_and_the_socket_stays_open() {
    let burst = whisper_burst(json!({})).await;
    assert!(burst.refused > 0, "no client event of {BURST} was refused");
    assert!(
        burst.delivered >= 10,
        "only {} were delivered",
        burst.delivered
    );
    assert_eq!(burst.delivered + burst.refused, BURST);
}

#[tokio::test]
async fn max_client_events_per_second_0_relays_every_client_event() {
    let burst = whisper_burst(json!({"max_client_events_per_second": 0})).await;
    assert_eq!(burst.refused, 0);
    assert_eq!(burst.delivered, BURST);
}

/// Subscribes `client` to the public channels `c-0` .. `c-{count - 1}`.
async fn subscribe_to_many(client: &mut Client, count: usize) {
    for n in 0..count {
        client.subscribe(&format!("c-{n}")).await;
    }
}

#[tokio::test]
async fn a_socket_in_100_channels_gets_4100_for_another_and_stays_open() {
    let server = start_one(json!({}));
    let (mut client, _) = Client::connect(server.local_addr(), KEY).await;
    subscribe_to_many(&mut client, 100).await;

    client.send_json(subscribe_frame("c-100", None, None)).await;
    let error = client.expect_error(4100).await;
    assert!(
        message_of(&error).contains("max_channels_per_connection"),
        "{error}"
    );
    client.ping_pong().await;
    assert!(!server.channel(APP_ID, "c-100").unwrap().occupied);

    // A channel it is already in is confirmed again, and leaving one makes room.
    client.subscribe("c-0").await;
    client.unsubscribe("c-0").await;
    client.subscribe("c-100").await;
    assert_eq!(server.stats()[APP_ID].channels, 100);
}

#[tokio::test]
async fn max_channels_per_connection_0_lets_a_socket_join_any_number_of_channels() {
    let server = start_one(json!({"max_channels_per_connection": 0}));
    let (mut client, _) = Client::connect(server.local_addr(), KEY).await;
    subscribe_to_many(&mut client, 150).await;
    assert_eq!(server.stats()[APP_ID].channels, 150);
}

/// Joins `presence-room` with `members` sockets, each as its own user; returns the sockets
/// (which must stay open to stay members).
async fn fill_presence_channel(server: &reverb_engine::Server, members: usize) -> Vec<Client> {
    let mut clients = Vec::with_capacity(members);
    for n in 0..members {
        let (mut client, socket_id) = Client::connect(server.local_addr(), KEY).await;
        join_presence_as(
            &mut client,
            &socket_id,
            "presence-room",
            json!(format!("u-{n}")),
        )
        .await;
        clients.push(client);
    }
    clients
}

#[tokio::test]
async fn a_presence_channel_with_100_members_refuses_another_user_with_4100() {
    let server = start_one(json!({}));
    let _members = fill_presence_channel(&server, 100).await;

    let (mut late, socket_id) = Client::connect(server.local_addr(), KEY).await;
    let data = json!({"user_id": "u-100"}).to_string();
    let auth = presence_auth(&socket_id, "presence-room", &data);
    late.send_json(subscribe_frame("presence-room", Some(&auth), Some(&data)))
        .await;
    let error = late.expect_error(4100).await;
    assert!(
        message_of(&error).contains("max_presence_members"),
        "{error}"
    );
    late.ping_pong().await;
    assert_eq!(
        server.channel(APP_ID, "presence-room").unwrap().user_count,
        Some(100)
    );
}

#[tokio::test]
async fn max_presence_members_0_lets_any_number_of_users_join() {
    let server = start_one(json!({"max_presence_members": 0}));
    let _members = fill_presence_channel(&server, 101).await;
    assert_eq!(
        server.channel(APP_ID, "presence-room").unwrap().user_count,
        Some(101)
    );
}

/// A member whose `user_info` is `{"bio":"xx…"}` of exactly `bytes` bytes of JSON.
fn member_with_info_of(bytes: usize) -> Value {
    let overhead = json!({"bio": ""}).to_string().len();
    let info = json!({"bio": "x".repeat(bytes - overhead)});
    assert_eq!(info.to_string().len(), bytes);
    json!({"user_id": "u", "user_info": info})
}

#[tokio::test]
async fn presence_user_info_over_2_kb_gets_4200_and_2_kb_is_accepted() {
    let server = start_one(json!({}));
    let (mut client, socket_id) = Client::connect(server.local_addr(), KEY).await;
    let channel = "presence-room";

    let data = member_with_info_of(2049).to_string();
    let auth = presence_auth(&socket_id, channel, &data);
    client
        .send_json(subscribe_frame(channel, Some(&auth), Some(&data)))
        .await;
    let error = client.expect_error(4200).await;
    assert!(
        message_of(&error).contains("max_presence_user_info_bytes"),
        "{error}"
    );
    client.ping_pong().await;
    assert!(!server.channel(APP_ID, channel).unwrap().occupied);

    let payload = join_presence(&mut client, &socket_id, channel, &member_with_info_of(2048)).await;
    assert_eq!(payload["count"], 1);
}

#[tokio::test]
async fn max_presence_user_info_bytes_0_accepts_any_size() {
    let server = start_one(json!({"max_presence_user_info_bytes": 0}));
    let (mut client, socket_id) = Client::connect(server.local_addr(), KEY).await;
    let member = member_with_info_of(5_000);
    let channel_data = member.to_string();
    let auth = presence_auth(&socket_id, "presence-room", &channel_data);
    client
        .send_json(subscribe_frame(
            "presence-room",
            Some(&auth),
            Some(&channel_data),
        ))
        .await;
    let data = expect_subscribed(&mut client, "presence-room").await;
    assert_eq!(data["presence"]["hash"]["u"], member["user_info"]);
}
