//! Apps change while the server runs: the host replaces the app set (an app added, its
//! secret rotated, its limits changed, disabled, removed) and answers lookups for apps
//! clients name, without a restart.

mod api_support;
mod support;

use api_support::Api;
use reverb_engine::{EngineEvent, Server};
use serde_json::{json, Value};
use std::time::Duration;
use support::{
    app, channel_auth, events_until, expect_subscribed, start, subscribe_frame, Client, KEY, SECRET,
};

/// The HTTP API of app `app_id` on `server`, signed with `key` and `secret`.
fn api(server: &Server, app_id: &str, key: &str, secret: &str) -> Api {
    let mut api = Api::new(server.local_addr());
    api.app_id = app_id.into();
    api.key = key.into();
    api.secret = secret.into();
    api
}

/// Replaces the app set from a thread of the host's own, outside any runtime, as PHP does.
fn from_host_thread(server: &Server, entries: &[Value]) -> Vec<reverb_engine::RefusedApp> {
    std::thread::scope(|scope| {
        scope
            .spawn(|| server.set_apps(entries).1)
            .join()
            .expect("set_apps does not panic")
    })
}

/// Subscribes `client` to a private channel with an auth signed by `secret`; returns the
/// next frame (the confirmation, or the refusal).
async fn subscribe_signed(client: &mut Client, socket_id: &str, secret: &str) -> Value {
    let auth = channel_auth(KEY, secret, socket_id, "private-orders", None);
    client
        .send_json(subscribe_frame("private-orders", Some(&auth), None))
        .await;
    client.next_json().await
}

#[tokio::test(flavor = "multi_thread")]
async fn an_added_app_serves_at_once_and_a_rotated_secret_is_valid_at_once() {
    let server = start(vec![app("app-1", KEY, json!({}))]);
    let (mut before, before_id) = Client::connect(server.local_addr(), KEY).await;

    let rotated = json!({"app_id": "app-1", "key": KEY, "secret": "rotated-secret"});
    let added = app("app-2", "key-2", json!({}));
    let refused = from_host_thread(&server, &[rotated, added]);
    assert!(refused.is_empty(), "{refused:?}");

    // The new app takes sockets and API calls.
    Client::connect(server.local_addr(), "key-2").await;
    api(&server, "app-2", "key-2", "key-2-secret")
        .get("/channels", &[])
        .await
        .assert_ok(&json!({"channels": {}}));

    // The socket opened before the rotation goes on; signatures use the new secret now.
    let refusal = subscribe_signed(&mut before, &before_id, SECRET).await;
    assert_eq!(refusal["event"], "pusher:error", "{refusal}");
    let confirmed = subscribe_signed(&mut before, &before_id, "rotated-secret").await;
    assert_eq!(confirmed["event"], "pusher_internal:subscription_succeeded");
    api(&server, "app-1", KEY, "rotated-secret")
        .trigger(&json!({"name": "shipped", "channels": ["private-orders"], "data": "{}"}))
        .await
        .assert_ok(&json!({}));
    before.expect_event("shipped").await;
    let old = api(&server, "app-1", KEY, SECRET)
        .get("/channels", &[])
        .await;
    assert_eq!(old.status, 401, "the old secret still signs: {}", old.body);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_changed_limit_applies_to_new_sockets() {
    let server = start(vec![app("app-1", KEY, json!({"max_connections": 1}))]);
    let (_first, _) = Client::connect(server.local_addr(), KEY).await;
    let mut second = Client::open(server.local_addr(), KEY).await;
    second.expect_error(4004).await;

    server.set_apps(&[app("app-1", KEY, json!({"max_connections": 2}))]);
    Client::connect(server.local_addr(), KEY).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_removed_app_closes_its_sockets_with_4001_and_a_disabled_one_with_4003() {
    let server = start(vec![
        app("app-1", KEY, json!({})),
        app("app-2", "key-2", json!({})),
    ]);
    let (mut on_one, _) = Client::connect(server.local_addr(), KEY).await;
    let (mut on_two, _) = Client::connect(server.local_addr(), "key-2").await;

    let disabled = app("app-2", "key-2", json!({"enabled": false}));
    server.set_apps(&[disabled]);
    on_one.expect_error(4001).await;
    assert_eq!(on_one.expect_close().await.0, 4001);
    on_two.expect_error(4003).await;
    assert_eq!(on_two.expect_close().await.0, 4003);

    let mut again = Client::open(server.local_addr(), KEY).await;
    again.expect_error(4001).await;
    let gone = api(&server, "app-1", KEY, SECRET)
        .get("/channels", &[])
        .await;
    assert_eq!(gone.status, 404);
    let disabled = api(&server, "app-2", "key-2", "key-2-secret")
        .get("/channels", &[])
        .await;
    assert_eq!(disabled.status, 404);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bad_entry_is_refused_by_key_and_its_app_keeps_its_running_version() {
    let server = start(vec![app("app-1", KEY, json!({}))]);
    let (mut open, _) = Client::connect(server.local_addr(), KEY).await;

    let bad = json!({"app_id": "app-1", "key": KEY, "secret": "s", "ping_interval": "often"});
    let duplicate = app("app-3", KEY, json!({}));
    let refused = server
        .set_apps(&[bad, app("app-2", "key-2", json!({})), duplicate])
        .1;
    assert_eq!(refused.len(), 2, "{refused:?}");
    assert_eq!(refused[0].app_id.as_deref(), Some("app-1"));
    assert_eq!(refused[0].key, "apps.apps.0.ping_interval");
    assert_eq!(refused[1].key, "apps.apps.2.key");

    open.ping_pong().await;
    Client::connect(server.local_addr(), KEY).await;
    Client::connect(server.local_addr(), "key-2").await;
    api(&server, "app-1", KEY, SECRET)
        .get("/channels", &[])
        .await
        .assert_ok(&json!({"channels": {}}));
}

/// A server with no apps of its own that asks the host for them.
fn looking_up(timeout: u64) -> Server {
    let config = json!({
        "servers": {"reverb": {"host": "127.0.0.1", "port": 0}},
        "apps": {"apps": [], "lookup": {"enabled": true, "timeout": timeout, "negative_ttl": 30}},
    });
    let config = reverb_engine::Config::from_value(&config).expect("lookups need no apps");
    Server::start(config).expect("server starts")
}

/// The next `app_lookup` event: its number, what it names the app by, and the name.
async fn next_lookup(server: &Server) -> (u64, String, String) {
    let events = events_until(server, |events| {
        events
            .iter()
            .any(|e| matches!(e, EngineEvent::AppLookup { .. }))
    })
    .await;
    events
        .into_iter()
        .find_map(|event| match event {
            EngineEvent::AppLookup { lookup, by, value } => Some((lookup, by.into(), value)),
            _ => None,
        })
        .expect("a lookup")
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unknown_key_is_looked_up_from_the_host_and_then_served_from_memory() {
    let server = looking_up(5);
    let addr = server.local_addr();
    let connecting = tokio::spawn(async move { Client::connect(addr, "tenant-key").await });

    let (lookup, by, value) = next_lookup(&server).await;
    assert_eq!((by.as_str(), value.as_str()), ("key", "tenant-key"));
    let tenant = app("tenant-1", "tenant-key", json!({}));
    server.answer_app_lookup(lookup, Some(&tenant)).unwrap();
    let (mut client, _) = connecting.await.unwrap();
    client
        .send_json(subscribe_frame("orders", None, None))
        .await;
    expect_subscribed(&mut client, "orders").await;

    // Known now: a second socket and the HTTP API need no lookup.
    Client::connect(addr, "tenant-key").await;
    api(&server, "tenant-1", "tenant-key", "tenant-key-secret")
        .get("/channels", &[])
        .await
        .assert_ok(&json!({"channels": {"orders": {}}}));
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(
        !server
            .drain()
            .iter()
            .any(|e| matches!(e, EngineEvent::AppLookup { .. })),
        "a known app was looked up again"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_app_the_host_does_not_know_is_refused_and_not_asked_for_again_for_a_while() {
    let server = looking_up(5);
    let addr = server.local_addr();
    let connecting = tokio::spawn(async move {
        let mut client = Client::open(addr, "nobody").await;
        client.expect_error(4001).await
    });
    let (lookup, _, _) = next_lookup(&server).await;
    server.answer_app_lookup(lookup, None).unwrap();
    connecting.await.unwrap();

    let mut again = Client::open(addr, "nobody").await;
    again.expect_error(4001).await;
    assert!(
        !server
            .drain()
            .iter()
            .any(|e| matches!(e, EngineEvent::AppLookup { .. })),
        "an unknown key was asked for again within negative_ttl"
    );

    // An id through the HTTP API is looked up the same way.
    let api_call = {
        let api = api(&server, "tenant-9", "key-9", "key-9-secret");
        tokio::spawn(async move { api.get("/channels", &[]).await })
    };
    let (lookup, by, value) = next_lookup(&server).await;
    assert_eq!((by.as_str(), value.as_str()), ("id", "tenant-9"));
    let entry = app("tenant-9", "key-9", json!({}));
    server.answer_app_lookup(lookup, Some(&entry)).unwrap();
    api_call.await.unwrap().assert_ok(&json!({"channels": {}}));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_host_that_answers_too_late_gets_the_client_refused_and_its_answer_kept_and_a_bad_answer_named(
) {
    let server = looking_up(1);
    let mut client = Client::open(server.local_addr(), "slow-key").await;
    let (lookup, _, _) = next_lookup(&server).await;
    client.expect_error(4001).await;
    // The late answer is kept: the next client of the key is served without a new lookup.
    let late = server.answer_app_lookup(lookup, Some(&app("slow", "slow-key", json!({}))));
    assert_eq!(late, Ok(()));
    Client::connect(server.local_addr(), "slow-key").await;
    assert!(!server
        .drain()
        .iter()
        .any(|e| matches!(e, EngineEvent::AppLookup { .. })));

    let addr = server.local_addr();
    let connecting = tokio::spawn(async move {
        let mut client = Client::open(addr, "bad-key").await;
        client.expect_error(4001).await
    });
    let (lookup, _, _) = next_lookup(&server).await;
    let bad = json!({"app_id": "bad", "key": "bad-key", "secret": "s", "max_message_size": "huge"});
    let error = server.answer_app_lookup(lookup, Some(&bad)).unwrap_err();
    assert!(error.contains("max_message_size"), "{error}");
    connecting.await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn after_the_host_changes_the_set_a_key_it_did_not_know_is_asked_for_again() {
    let server = looking_up(5);
    let addr = server.local_addr();
    let refused = tokio::spawn(async move {
        let mut client = Client::open(addr, "new-tenant").await;
        client.expect_error(4001).await
    });
    let (lookup, _, _) = next_lookup(&server).await;
    server.answer_app_lookup(lookup, None).unwrap();
    refused.await.unwrap();

    // The tenant was created meanwhile: a reload pushes the set, and the key is asked again.
    assert!(server.set_apps(&[]).1.is_empty());
    let connecting = tokio::spawn(async move { Client::connect(addr, "new-tenant").await });
    let (lookup, _, value) = next_lookup(&server).await;
    assert_eq!(value, "new-tenant");
    let entry = app("tenant-new", "new-tenant", json!({}));
    server.answer_app_lookup(lookup, Some(&entry)).unwrap();
    connecting.await.unwrap();
}
