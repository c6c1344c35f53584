//! Private and private-encrypted channels: a subscription needs a channel auth signed with
//! the app's secret over the socket id, the channel and any `channel_data`; a refused
//! subscription leaves nothing behind, and encrypted payloads pass through untouched.

mod support;

use reverb_engine::EngineEvent;
use serde_json::json;
use support::{
    channel_auth, created_channels, decode_data, expect_each_refused, expect_subscribed,
    occupied_channels, presence_auth, private_auth, publish, sign, start_one, start_two_apps,
    subscribe_frame, subscribe_private, subscribed_frame, Client, Refusal, KEY, SECRET,
};

#[tokio::test]
async fn private_channel_with_a_valid_signature_gets_subscription_succeeded() {
    let server = start_one(json!({}));
    let (mut client, socket_id) = Client::connect(server.local_addr(), KEY).await;
    let auth = private_auth(&socket_id, "private-orders");
    client
        .send_json(subscribe_frame("private-orders", Some(&auth), None))
        .await;
    assert_eq!(client.next_json().await, subscribed_frame("private-orders"));
    support::assert_next_is_marker(&server, &mut client, "private-orders", "delivered").await;
}

#[tokio::test]
async fn private_channel_with_a_wrong_signature_gets_4009_and_the_socket_stays_usable() {
    let server = start_one(json!({}));
    let (mut client, socket_id) = Client::connect(server.local_addr(), KEY).await;
    let channel = "private-orders";
    let wrong = [
        // Signed with another secret.
        channel_auth(KEY, "not-the-secret", &socket_id, channel, None),
        // Signed for another channel.
        private_auth(&socket_id, "private-other"),
        // Signed for another socket.
        private_auth("1.1", channel),
        // Not hex, truncated, no key, empty signature.
        format!("{KEY}:not-hex"),
        format!("{KEY}:abcd"),
        sign(SECRET, &format!("{socket_id}:{channel}")),
        format!("{KEY}:"),
    ];
    expect_each_refused(
        &mut client,
        wrong.map(|auth| subscribe_frame(channel, Some(&auth), None)),
        4009,
        Refusal::Exactly("Connection is unauthorized"),
    )
    .await;
    assert_eq!(server.stats()["app-1"].channels, 0);
    client.subscribe("public").await;
    subscribe_private(&mut client, &socket_id, channel).await;
}

#[tokio::test]
async fn private_channel_signed_with_another_apps_key_gets_4009() {
    let server = start_two_apps();
    let addr = server.local_addr();
    let (mut client, socket_id) = Client::connect(addr, "key-1").await;
    let channel = "private-orders";
    let foreign = [
        // Another app's key and secret: valid on app-2, not here.
        channel_auth("key-2", "key-2-secret", &socket_id, channel, None),
        // Another app's key with this app's signature.
        channel_auth("key-2", "key-1-secret", &socket_id, channel, None),
        // This app's key with another app's signature.
        channel_auth("key-1", "key-2-secret", &socket_id, channel, None),
    ];
    expect_each_refused(
        &mut client,
        foreign.map(|auth| subscribe_frame(channel, Some(&auth), None)),
        4009,
        Refusal::AnyMessage,
    )
    .await;
    assert!(occupied_channels(&server).is_empty());

    // The same kind of auth is accepted by the app it belongs to.
    let (mut other, other_id) = Client::connect(addr, "key-2").await;
    let auth = channel_auth("key-2", "key-2-secret", &other_id, channel, None);
    other
        .send_json(subscribe_frame(channel, Some(&auth), None))
        .await;
    expect_subscribed(&mut other, channel).await;
}

#[tokio::test]
async fn private_and_presence_subscriptions_without_auth_get_4009_and_the_socket_stays_usable() {
    let server = start_one(json!({}));
    let (mut client, socket_id) = Client::connect(server.local_addr(), KEY).await;
    let channel = "private-orders";
    let frames = [
        subscribe_frame(channel, None, None),
        json!({"event": "pusher:subscribe", "data": {"channel": channel, "auth": null}}),
        subscribe_frame(channel, Some(""), None),
        subscribe_frame("presence-room", None, None),
    ];
    expect_each_refused(
        &mut client,
        frames,
        4009,
        Refusal::Exactly("Connection is unauthorized"),
    )
    .await;
    client.subscribe("public").await;
    assert_eq!(server.stats()["app-1"].channels, 1);
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
    let without = private_auth(&socket_id, channel);
    client
        .send_json(subscribe_frame(channel, Some(&without), Some(channel_data)))
        .await;
    client.expect_error(4009).await;

    // Signed over other channel_data.
    let other = channel_auth(
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
    let with = channel_auth(KEY, SECRET, &socket_id, channel, Some(channel_data));
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
            subscribe_frame("private-a", Some(&private_auth("1.1", "private-a")), None),
            4009,
        ),
        (subscribe_frame("presence-a", None, Some(member)), 4009),
        (
            subscribe_frame(
                "presence-a",
                Some(&private_auth(&socket_id, "presence-a")),
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

#[tokio::test]
async fn encrypted_channel_needs_auth_like_a_private_channel() {
    let server = start_one(json!({}));
    let (mut client, socket_id) = Client::connect(server.local_addr(), KEY).await;
    let channel = "private-encrypted-x";

    client.send_json(subscribe_frame(channel, None, None)).await;
    client.expect_error(4009).await;
    let wrong = channel_auth(KEY, "not-the-secret", &socket_id, channel, None);
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
    let queued = publish(&server, &[channel], "secret", data);
    assert_eq!(queued, 2);
    for client in [&mut a, &mut b] {
        let frame = client.next_json().await;
        assert_eq!(
            frame,
            json!({"event": "secret", "data": data, "channel": channel})
        );
    }
}
