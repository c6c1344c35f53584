//! Scaling over the Redis teams rent: TLS with a private authority, an ACL user, and Redis
//! Cluster. Each test starts its own `redis-server` processes (and certificates) on loopback.

mod redis_support;
mod support;

use api_support::Api;
use redis_support::{connected, Redis, RedisCluster, TlsFiles, ACL_USER};
use reverb_engine::{Config, Server, StartError};
use serde_json::{json, Value};
use support::{app, decode_data, join_presence, start_with, Client, KEY};

mod api_support;

/// A node of the cluster that `scaling` describes.
fn node(scaling: Value) -> Server {
    start_with(
        json!({"scaling": scaling}),
        vec![app(
            "app-1",
            KEY,
            json!({"accept_client_events_from": "all"}),
        )],
    )
}

/// What `Server::start` says for a node configured with `scaling`.
fn start_error(scaling: Value) -> String {
    let value = json!({
        "servers": {"reverb": {"host": "127.0.0.1", "port": 0, "scaling": scaling}},
        "apps": {"apps": [app("app-1", KEY, json!({}))]},
    });
    let config = Config::from_value(&value).expect("the config itself is valid");
    match Server::start(config) {
        Err(error @ StartError::RedisRefused { .. }) => error.to_string(),
        Err(other) => panic!("expected Redis to refuse the settings, got: {other}"),
        Ok(_) => panic!("the server started with settings Redis refuses"),
    }
}

/// Events, presence and whispers between a node on `a` and one on `b`.
async fn nodes_share_events_presence_and_whispers(a: &Server, b: &Server) {
    connected(&[a, b]).await;
    let (mut on_b, _) = Client::subscribed(b.local_addr(), "orders").await;
    Api::new(a.local_addr())
        .trigger(&json!({"name": "order.shipped", "channels": ["orders"], "data": "{\"id\":7}"}))
        .await
        .assert_ok(&json!({}));
    assert_eq!(
        on_b.expect_event("order.shipped").await["data"],
        "{\"id\":7}"
    );

    let channel = "presence-chat";
    let (mut ada, ada_id) = Client::connect(a.local_addr(), KEY).await;
    join_presence(&mut ada, &ada_id, channel, &json!({"user_id": "ada"})).await;
    let (mut bob, bob_id) = Client::connect(b.local_addr(), KEY).await;
    // Redis counted Ada before her join returned, so Bob's list has her.
    let presence = join_presence(&mut bob, &bob_id, channel, &json!({"user_id": "bob"})).await;
    assert_eq!(presence["count"], 2);
    let added = ada.expect_event("pusher_internal:member_added").await;
    assert_eq!(decode_data(&added)["user_id"], "bob");

    ada.send_json(json!({"event": "client-typing", "channel": channel, "data": {"on": true}}))
        .await;
    let whisper = bob.expect_event("client-typing").await;
    assert_eq!(whisper["user_id"], "ada");

    bob.close().await;
    let removed = ada.expect_event("pusher_internal:member_removed").await;
    assert_eq!(decode_data(&removed), json!({"user_id": "bob"}));
}

#[tokio::test(flavor = "multi_thread")]
async fn two_nodes_work_over_tls_with_an_acl_user_and_a_private_authority() {
    let tls = TlsFiles::create();
    let redis = Redis::secured(&tls);
    let (a, b) = (
        node(redis.secured_scaling(&tls)),
        node(redis.secured_scaling(&tls)),
    );
    nodes_share_events_presence_and_whispers(&a, &b).await;
    let status = a.stats()["app-1"].scaling.clone().unwrap();
    assert_eq!(status.redis, "connected");
}

#[tokio::test(flavor = "multi_thread")]
async fn host_port_username_and_scheme_tls_reach_the_same_redis() {
    let tls = TlsFiles::create();
    let redis = Redis::secured(&tls);
    let (user, password) = ACL_USER;
    let mut scaling = redis.scaling();
    scaling["server"] = json!({
        "host": "127.0.0.1", "port": redis.port.to_string(), "scheme": "tls",
        "username": user, "password": password, "database": "0",
        "tls": {"cafile": tls.ca_file(), "verify_peer": true},
    });
    let (a, b) = (node(scaling.clone()), node(scaling));
    nodes_share_events_presence_and_whispers(&a, &b).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn settings_redis_refuses_stop_the_start_and_name_the_key() {
    let tls = TlsFiles::create();
    let redis = Redis::secured(&tls);

    let mut wrong_password = redis.secured_scaling(&tls);
    wrong_password["server"]["url"] = json!(format!(
        "rediss://{}:not-the-password@127.0.0.1:{}",
        ACL_USER.0, redis.port
    ));
    let error = start_error(wrong_password);
    assert!(
        error.contains("servers.reverb.scaling.server.password"),
        "{error}"
    );
    assert!(!error.contains("not-the-password"), "{error}");
    assert!(error.contains(&format!("rediss://reverb@127.0.0.1:{}", redis.port)));

    let other_authority = TlsFiles::create();
    let wrong_ca = redis.secured_scaling(&other_authority);
    let error = start_error(wrong_ca);
    assert!(
        error.contains("servers.reverb.scaling.server.tls.cafile"),
        "{error}"
    );
    assert!(!error.contains(ACL_USER.1), "{error}");

    let plain = Redis::start();
    let mut not_a_cluster = plain.scaling();
    not_a_cluster["server"]["cluster"] = json!(true);
    let error = start_error(not_a_cluster);
    assert!(
        error.contains("servers.reverb.scaling.server.cluster"),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_redis_away_at_start_is_an_outage_not_an_error() {
    let mut redis = Redis::start();
    let scaling = redis.scaling();
    redis.stop();
    let server = node(scaling);
    assert!(server.is_running());
    redis.restart();
    connected(&[&server]).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn two_nodes_work_over_a_redis_cluster_and_keep_presence_when_a_master_restarts() {
    let mut cluster = RedisCluster::start();
    let mut plain = cluster.masters[0].scaling();
    plain["server"]["cluster"] = json!(false);
    let error = start_error(plain);
    assert!(error.contains("server.cluster must be true"), "{error}");

    let (a, b) = (node(cluster.scaling()), node(cluster.scaling()));
    nodes_share_events_presence_and_whispers(&a, &b).await;

    let channel = "presence-room";
    let (mut ada, ada_id) = Client::connect(a.local_addr(), KEY).await;
    join_presence(&mut ada, &ada_id, channel, &json!({"user_id": "ada"})).await;

    // The master holding every reverb-rs key restarts empty: the nodes count their members
    // again once it is back, and a newcomer on B sees Ada.
    let master = cluster.master_of_keys();
    master.stop();
    master.restart();
    cluster.wait_until_serving();
    support::within("a newcomer to see Ada after the restart", async {
        loop {
            let (mut cy, cy_id) = Client::connect(b.local_addr(), KEY).await;
            let presence = join_presence(&mut cy, &cy_id, channel, &json!({"user_id": "cy"})).await;
            if presence["count"] == 2 {
                break;
            }
            cy.close().await;
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
    })
    .await;
    let added = ada.expect_event("pusher_internal:member_added").await;
    assert_eq!(decode_data(&added)["user_id"], "cy");

    let (mut on_b, _) = Client::subscribed(b.local_addr(), "after-restart").await;
    Api::new(a.local_addr())
        .trigger(&json!({"name": "back", "channels": ["after-restart"], "data": "{}"}))
        .await
        .assert_ok(&json!({}));
    on_b.expect_event("back").await;
}
