//! Client events (`client-*` frames a socket sends to a channel): who may send them under
//! `accept_client_events_from`, that they never echo to the sender, the `user_id` they carry
//! on presence channels, and the per-socket rate limit.

mod support;

use serde_json::{json, Value};
use support::{
    assert_next_is_marker, expect_marker, join_presence, publish_marker, start_one, stats_until,
    subscribe_private, Client, KEY,
};

/// One way a `client-typing` event fares under an app's `accept_client_events_from`.
struct ClientEventCase {
    name: &'static str,
    accept_client_events_from: &'static str,
    sender_subscribed: bool,
    /// The `pusher:error` code and message the sender gets, or `None` if the event is
    /// delivered to the channel's other subscriber.
    refused: Option<(u64, &'static str)>,
}

#[tokio::test]
async fn client_events_reach_other_subscribers_only_when_the_app_accepts_the_sender() {
    let cases = [
        ClientEventCase {
            name: "a member's event reaches other members but not the sender",
            accept_client_events_from: "members",
            sender_subscribed: true,
            refused: None,
        },
        ClientEventCase {
            name: "a non-member gets 4009 when only members may send",
            accept_client_events_from: "members",
            sender_subscribed: false,
            refused: Some((4009, "The client is not a member of the specified channel.")),
        },
        ClientEventCase {
            name: "any sender gets 4301 when the app accepts none",
            accept_client_events_from: "none",
            sender_subscribed: true,
            refused: Some((4301, "The app does not have client messaging enabled.")),
        },
        ClientEventCase {
            name: "a non-member's event is delivered when the app accepts all",
            accept_client_events_from: "all",
            sender_subscribed: false,
            refused: None,
        },
    ];
    for case in cases {
        let _case = support::case(case.name);
        let server = start_one(json!({
            "accept_client_events_from": case.accept_client_events_from,
        }));
        let addr = server.local_addr();
        let (mut sender, _) = Client::connect(addr, KEY).await;
        let (mut other, _) = Client::connect(addr, KEY).await;
        if case.sender_subscribed {
            sender.subscribe("room").await;
        }
        other.subscribe("room").await;

        let data = json!({"case": case.name});
        sender
            .send_json(json!({"event": "client-typing", "channel": "room", "data": data}))
            .await;
        match case.refused {
            None => {
                let frame: Value = other.next_json().await;
                assert_eq!(frame["event"], "client-typing");
                assert_eq!(frame["channel"], "room");
                assert_eq!(frame["data"], data);
                if case.sender_subscribed {
                    // Not echoed to the sender.
                    assert_next_is_marker(&server, &mut sender, "room", "after-event").await;
                } else {
                    // No error for the sender: the pong is the next thing it sees.
                    sender.ping_pong().await;
                }
            }
            Some((code, message)) => {
                let error = sender.expect_error(code).await;
                assert_eq!(error["message"], message);
                sender.ping_pong().await;
                assert_next_is_marker(&server, &mut other, "room", "after-refused").await;
            }
        }
    }
}

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

/// Found by fuzzing the message parser: the server parses a client event's data and writes
/// it out again, and serde_json's fast float parsing changed the last digit of some numbers
/// (`-7.151059126547005e-118` arrived as `-7.1510591265470045e-118`). Numbers now arrive as
/// they were sent (these are written as the server writes numbers, so the text is the same).
#[tokio::test]
async fn regression_numbers_in_a_client_event_arrive_unchanged() {
    let server = start_one(json!({}));
    let addr = server.local_addr();
    let (mut sender, _) = Client::subscribed(addr, "room").await;
    let (mut other, _) = Client::subscribed(addr, "room").await;
    let numbers = "[-7.151059126547005e-118,0.1,1.7976931348623157e+308,5e-324]";
    sender
        .send_text(&format!(
            r#"{{"event":"client-n","channel":"room","data":{{"n":{numbers}}}}}"#
        ))
        .await;
    let relayed = other.next_text().await;
    assert!(
        relayed.contains(&format!(r#""data":{{"n":{numbers}}}"#)),
        "{relayed}"
    );
}

/// App settings allowing 3 messages a minute per socket, closing the socket past the limit
/// if `terminate_on_limit`.
fn rate_limited(terminate_on_limit: bool) -> Value {
    json!({"rate_limiting": {
        "enabled": true, "max_attempts": 3, "decay_seconds": 60,
        "terminate_on_limit": terminate_on_limit,
    }})
}

/// Subscribes `sender` to `room` (message 1), sends client events 2 to 4 there, and checks
/// the 4th gets `pusher:error` 4301.
async fn exceed_the_rate_limit(sender: &mut Client) {
    sender.subscribe("room").await; // 1
    for n in 2..=4 {
        sender
            .send_json(json!({"event": "client-msg", "channel": "room", "data": {"n": n}}))
            .await;
    }
    let error = sender.expect_error(4301).await;
    assert_eq!(error["message"], "Rate limit exceeded");
}

#[tokio::test]
async fn client_messages_over_the_rate_limit_get_4301_and_the_socket_stays_open() {
    let server = start_one(rate_limited(false));
    let addr = server.local_addr();
    let (mut sender, _) = Client::connect(addr, KEY).await;
    let (mut other, _) = Client::subscribed(addr, "room").await;

    exceed_the_rate_limit(&mut sender).await;

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
    let server = start_one(rate_limited(true));
    let (mut sender, _) = Client::connect(server.local_addr(), KEY).await;
    exceed_the_rate_limit(&mut sender).await;
    let (code, reason) = sender.expect_close().await;
    assert_eq!(code, 4301);
    assert_eq!(reason, "Rate limit exceeded");
    stats_until(&server, "app-1", |stats| {
        stats.connections == 0 && stats.channels == 0
    })
    .await;
}
