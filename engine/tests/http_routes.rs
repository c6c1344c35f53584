//! HTTP routing: `/up`, wrong methods and unknown routes, the configured path prefix, and
//! WebSocket upgrades where none is served or the handshake is incomplete.

mod api_support;
mod support;

use api_support::{raw_exchange, Api};
use serde_json::json;
use std::net::SocketAddr;
use support::{app, http_get, start_one, start_with, within, APP_ID, KEY};
use tokio::net::TcpStream;

/// A WebSocket upgrade request for `path` with `Sec-WebSocket-Version: {version}`, and a
/// `Sec-WebSocket-Key` if `with_key`.
fn upgrade_request(addr: SocketAddr, path: &str, version: &str, with_key: bool) -> String {
    let key = if with_key {
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    } else {
        ""
    };
    format!(
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Version: {version}\r\n{key}\r\n"
    )
}

#[tokio::test]
async fn get_up_is_200_health_ok() {
    let server = start_one(json!({}));
    let resp = Api::new(server.local_addr())
        .send("GET", "/up", Vec::new())
        .await;
    resp.assert_ok(&json!({"health": "OK"}));

    // The same over a plain request that closes the connection.
    let (status, body) = http_get(server.local_addr(), "/up").await;
    assert_eq!(status, 200);
    let body: serde_json::Value = serde_json::from_str(&body).expect("JSON body");
    assert_eq!(body, json!({"health": "OK"}));
}

#[tokio::test]
async fn get_on_events_is_405_with_an_allow_post_header() {
    let server = start_one(json!({}));
    let api = Api::new(server.local_addr());
    let resp = api.get("/events", &[]).await;
    resp.assert_error(405, &["POST"]);
    assert_eq!(resp.header("allow").as_deref(), Some("POST"));

    // And the other way round: POST on a GET route.
    let resp = api.post("/channels", &json!({})).await;
    resp.assert_error(405, &["GET"]);
    assert_eq!(resp.header("allow").as_deref(), Some("GET"));

    let resp = api.get("/batch_events", &[]).await;
    assert_eq!(resp.status, 405);
    assert_eq!(resp.header("allow").as_deref(), Some("POST"));
}

#[tokio::test]
async fn unknown_route_under_an_app_is_404() {
    let server = start_one(json!({}));
    let api = Api::new(server.local_addr());
    for route in ["/nope", "/channels/a/b/c", "/users/1"] {
        api.get(route, &[]).await.assert_error(404, &["Not found"]);
    }
}

#[tokio::test]
async fn path_prefix_serves_the_api_and_up_and_signs_without_the_prefix() {
    let server = start_with(json!({"path": "/ws"}), vec![app(APP_ID, KEY, json!({}))]);
    let addr = server.local_addr();
    let plain = Api::new(addr);
    let mut api = plain.clone();
    api.prefix = "/ws".into();

    api.send("GET", "/ws/up", Vec::new())
        .await
        .assert_ok(&json!({"health": "OK"}));
    api.get("/channels", &[])
        .await
        .assert_ok(&json!({"channels": {}}));
    api.get("/connections", &[])
        .await
        .assert_ok(&json!({"connections": 0}));
    api.trigger(&json!({"name": "e", "data": "{}", "channels": ["news"]}))
        .await
        .assert_ok(&json!({}));

    // A signature over the prefixed path is not valid.
    let uri = plain.signed_uri("GET", "/ws/apps/app-1/channels", &[], b"");
    api.send("GET", &uri, Vec::new())
        .await
        .assert_error(401, &["Authentication signature invalid"]);

    // Without the prefix nothing is served.
    plain
        .send("GET", "/up", Vec::new())
        .await
        .assert_error(404, &["Not found"]);
    plain.get("/channels", &[]).await.assert_error(404, &[]);
    plain
        .trigger(&json!({"name": "e", "data": "{}", "channels": ["news"]}))
        .await
        .assert_error(404, &[]);
}

#[tokio::test]
async fn configured_path_prefixes_every_route() {
    let server = start_with(
        json!({"path": "/ws/"}),
        vec![app("app-1", "key-1", json!({}))],
    );
    let addr = server.local_addr();
    assert_eq!(http_get(addr, "/ws/up").await.0, 200);
    assert_eq!(http_get(addr, "/up").await.0, 404);
    assert_eq!(http_get(addr, "/app/key-1").await.0, 404);

    let url = format!("ws://{addr}/ws/app/key-1");
    let stream = TcpStream::connect(addr).await.unwrap();
    let (ws, _) = within(
        "the handshake under the prefix",
        tokio_tungstenite::client_async(url, stream),
    )
    .await
    .expect("handshake under the prefix");
    drop(ws);
}

#[tokio::test]
async fn websocket_upgrade_on_a_non_app_path_is_400() {
    let server = start_one(json!({}));
    let addr = server.local_addr();
    let api = Api::new(addr);
    let channels = api.signed_uri("GET", &api.path("/channels"), &[], b"");
    for path in [
        "/up",
        channels.as_str(),
        "/apps/app-1/events",
        "/app/key-1/extra",
    ] {
        let request = upgrade_request(addr, path, "13", true);
        let (responses, _stream) = raw_exchange(addr, request.as_bytes(), 1).await;
        assert_eq!(responses[0].status, 400, "{path}: {:?}", responses[0]);
        assert!(
            responses[0].json()["error"]
                .as_str()
                .unwrap()
                .contains("/app/{key}"),
            "{:?}",
            responses[0]
        );
    }
}

#[tokio::test]
async fn app_key_without_a_valid_handshake_is_400() {
    let server = start_one(json!({}));
    let addr = server.local_addr();
    let resp = Api::new(addr).send("GET", "/app/key-1", Vec::new()).await;
    resp.assert_error(400, &["WebSocket handshake"]);
    assert_eq!(http_get(addr, "/app/key-1").await.0, 400);

    for request in [
        upgrade_request(addr, "/app/key-1", "13", false),
        format!("GET /app/key-1 HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\n\r\n"),
    ] {
        let (responses, _stream) = raw_exchange(addr, request.as_bytes(), 1).await;
        assert_eq!(responses[0].status, 400, "{request:?}: {:?}", responses[0]);
    }
}
