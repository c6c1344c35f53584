//! Terminating a user: `Server::terminate_user` and the HTTP API's
//! `terminate_connections` close every socket of the user (signed in, or a presence member
//! as that user) with 4009, tell the other members, and leave everyone else connected.

mod api_support;
mod support;

use api_support::Api;
use serde_json::{json, Value};
use support::{
    assert_presence_counts, assert_terminated, decode_data, join_presence, join_presence_as,
    sign_in, sign_in_as, start_one, stats_until, Client, KEY,
};

/// Asserts the next frames of a presence member include `member_removed` for `user_id`,
/// then that the socket still answers pings.
async fn assert_sees_member_removed(client: &mut Client, channel: &str, user_id: Value) {
    let expected = json!({
        "event": "pusher_internal:member_removed",
        "data": json!({"user_id": user_id}).to_string(),
        "channel": channel,
    });
    let mut seen = client.frames_until_pong().await;
    if !seen.contains(&expected) {
        seen.push(client.next_json().await);
    }
    assert!(seen.contains(&expected), "no {expected} in {seen:?}");
    client.ping_pong().await;
}

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
    let (mut bystander, _) = Client::subscribed(addr, "news").await;

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

#[tokio::test]
async fn terminate_connections_closes_the_users_sockets_with_4009_and_keeps_the_others() {
    let server = start_one(json!({}));
    let addr = server.local_addr();
    let (mut target, id_target) = Client::connect(addr, KEY).await;
    let (mut other, id_other) = Client::connect(addr, KEY).await;
    let (mut signed_in, id_signed_in) = Client::connect(addr, KEY).await;
    let (mut bystander, _) = Client::connect(addr, KEY).await;
    join_presence_as(&mut other, &id_other, "presence-room", json!("43")).await;
    join_presence_as(&mut target, &id_target, "presence-room", json!("42")).await;
    other.expect_event("pusher_internal:member_added").await;
    sign_in_as(&mut signed_in, &id_signed_in, "42").await;
    bystander.subscribe("news").await;

    let api = Api::new(addr);
    let resp = api
        .post("/users/42/terminate_connections", &json!({}))
        .await;
    resp.assert_ok(&json!({}));
    assert_eq!(resp.body, "{}");

    assert_terminated(&mut target).await;
    assert_terminated(&mut signed_in).await;
    assert_sees_member_removed(&mut other, "presence-room", json!("42")).await;
    bystander.ping_pong().await;
    api.get_until(
        "/channels/presence-room/users",
        &[],
        &json!({"users": [{"id": "43"}]}),
    )
    .await;

    // A user with no sockets: still `{}`.
    api.post("/users/nobody/terminate_connections", &json!({}))
        .await
        .assert_ok(&json!({}));
}

#[tokio::test]
async fn terminate_connections_without_the_app_in_the_path_finds_the_app_by_auth_key() {
    let server = start_one(json!({}));
    let addr = server.local_addr();
    let (mut target, id_target) = Client::connect(addr, KEY).await;
    let (mut other, id_other) = Client::connect(addr, KEY).await;
    join_presence_as(&mut other, &id_other, "presence-room", json!(8)).await;
    join_presence_as(&mut target, &id_target, "presence-room", json!(7)).await;
    other.expect_event("pusher_internal:member_added").await;

    // The official Python SDK's form: POST /users/{id}/terminate_connections, signed over
    // that path, the app named only by auth_key.
    let api = Api::new(addr);
    let body = b"{}".to_vec();
    let uri = api.signed_uri("POST", "/users/7/terminate_connections", &[], &body);
    api.send("POST", &uri, body.clone())
        .await
        .assert_ok(&json!({}));
    assert_terminated(&mut target).await;
    assert_sees_member_removed(&mut other, "presence-room", json!(7)).await;

    // An auth_key of no app is 404.
    let mut stranger = api.clone();
    stranger.key = "no-such-key".into();
    let uri = stranger.signed_uri("POST", "/users/7/terminate_connections", &[], &body);
    api.send("POST", &uri, body)
        .await
        .assert_error(404, &["no-such-key"]);
}
