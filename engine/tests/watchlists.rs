//! Watchlists: a signed-in user's `watchlist` gets `online` and `offline` events for the
//! users on it, once per user whatever the number of their sockets, and at most 100 ids.

mod support;

use serde_json::{json, Value};
use support::{
    assert_next_is_marker, decode_data, message_of, sign_in, start_one, stats_until, Client, KEY,
};

/// One entry of a `watchlist_events` payload.
fn watchlist_event(name: &str, ids: &[&str]) -> Value {
    json!({"name": name, "user_ids": ids})
}

/// Waits for `pusher_internal:watchlist_events` (a frame without a channel) and checks it
/// carries exactly `events`.
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
    let (mut a, a_id) = Client::subscribed(addr, "a-inbox").await;
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
