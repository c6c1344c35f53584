//! User sign-in (`pusher:signin`): the user auth signature, what `user_data` must hold, one
//! user per socket, and the `#server-to-user-{id}` channel that only that user's sockets may
//! join.

mod support;

use serde_json::json;
use support::{
    assert_next_is_marker, decode_data, expect_each_refused, expect_subscribed, private_auth,
    publish, sign_in, signin_auth, signin_frame, start_one, start_two_apps, subscribe_frame,
    user_auth, Client, Refusal, KEY,
};

#[tokio::test]
async fn signin_with_valid_auth_gets_signin_success_with_the_user_data() {
    let server = start_one(json!({}));
    let (mut client, socket_id) = Client::connect(server.local_addr(), KEY).await;
    let user_data = r#"{"id":"u1","user_info":{"name":"Ada"}}"#;
    let auth = signin_auth(&socket_id, user_data);
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
    let server = start_two_apps();
    let (mut client, socket_id) = Client::connect(server.local_addr(), KEY).await;
    let user_data = r#"{"id":"u1"}"#;
    let bad = [
        Some(user_auth(KEY, "not-the-secret", &socket_id, user_data)),
        Some(user_auth("key-2", "key-2-secret", &socket_id, user_data)),
        Some(signin_auth(&socket_id, r#"{"id":"u2"}"#)),
        Some(signin_auth("1.1", user_data)),
        // The channel-auth string instead of the user one.
        Some(private_auth(&socket_id, user_data)),
        Some(String::new()),
        None,
    ];
    expect_each_refused(
        &mut client,
        bad.map(|auth| signin_frame(auth.as_deref(), user_data)),
        4009,
        Refusal::Exactly("Connection is unauthorized"),
    )
    .await;
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
    let bad = [
        r#"{"id":5}"#,
        r#"{"id":""}"#,
        r#"{"id":null}"#,
        r#"{"name":"Ada"}"#,
        r#"["u1"]"#,
        "not json",
        r#"{"id":"u1","watchlist":"u2"}"#,
    ];
    expect_each_refused(
        &mut client,
        bad.map(|user_data| signin_frame(Some(&signin_auth(&socket_id, user_data)), user_data)),
        4200,
        Refusal::StartsWith("Invalid user_data"),
    )
    .await;
    sign_in(&mut client, &socket_id, r#"{"id":"u1"}"#).await;
}

#[tokio::test]
async fn signing_in_as_a_different_user_on_the_same_socket_gets_4009() {
    let server = start_one(json!({}));
    let (mut client, socket_id) = Client::connect(server.local_addr(), KEY).await;
    sign_in(&mut client, &socket_id, r#"{"id":"u1"}"#).await;

    let other = r#"{"id":"u2"}"#;
    let auth = signin_auth(&socket_id, other);
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
        let auth = private_auth(&u2_id, channel);
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

    let queued = publish(&server, &[channel], "notice", r#"{"hi":1}"#);
    assert_eq!(queued, 2);
    for client in [&mut tab1, &mut tab2] {
        assert_eq!(
            client.next_json().await,
            json!({"event": "notice", "data": r#"{"hi":1}"#, "channel": channel})
        );
    }
    assert_next_is_marker(&server, &mut someone_else, "#server-to-user-u2", "only-u2").await;
}
