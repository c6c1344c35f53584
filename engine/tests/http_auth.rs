//! HTTP API request authentication: the signature, `auth_key`, `auth_timestamp` and its
//! window, `body_md5`, and the app id in the path.

mod api_support;
mod support;

use api_support::{encode_query, now, Api};
use serde_json::json;
use support::{app, start_one, start_with, Client, APP_ID, KEY, SECRET};

#[tokio::test]
async fn trigger_with_a_bad_signature_is_401() {
    let server = start_one(json!({}));
    let api = Api::new(server.local_addr());
    let body = br#"{"name":"e","data":"{}","channels":["news"]}"#.to_vec();
    let uri = api.signed_uri("POST", &api.path("/events"), &[], &body);
    // Flip the last hex digit of the signature (the last parameter).
    let last = uri.chars().last().unwrap();
    let flipped = if last == '0' { '1' } else { '0' };
    let forged = format!("{}{flipped}", &uri[..uri.len() - 1]);
    api.send("POST", &forged, body.clone())
        .await
        .assert_error(401, &["Authentication signature invalid"]);

    // A signature by another secret is refused too.
    let mut other = api.clone();
    other.secret = "not-the-secret".into();
    let uri = other.signed_uri("POST", &api.path("/events"), &[], &body);
    let resp = api.send("POST", &uri, body).await;
    assert_eq!(resp.status, 401);
    assert_eq!(resp.error(), "Authentication signature invalid.");
}

#[tokio::test]
async fn trigger_with_a_wrong_auth_key_is_401() {
    let server = start_one(json!({}));
    let mut api = Api::new(server.local_addr());
    api.key = "other-key".into();
    api.trigger(&json!({"name": "e", "data": "{}", "channels": ["news"]}))
        .await
        .assert_error(401, &["auth_key"]);
}

#[tokio::test]
async fn trigger_with_a_stale_auth_timestamp_is_401() {
    let server = start_one(json!({}));
    let api = Api::new(server.local_addr());
    let body = br#"{"name":"e","data":"{}","channels":["news"]}"#.to_vec();
    for timestamp in [now() - 700, now() + 700] {
        let uri = api.signed_uri_at("POST", &api.path("/events"), &[], &body, timestamp);
        api.send("POST", &uri, body.clone()).await.assert_error(
            401,
            &["auth_timestamp", &timestamp.to_string(), "600 seconds"],
        );
    }
    // Inside the window is fine.
    let uri = api.signed_uri_at("POST", &api.path("/events"), &[], &body, now() - 300);
    api.send("POST", &uri, body).await.assert_ok(&json!({}));
}

#[tokio::test]
async fn trigger_with_any_auth_timestamp_is_accepted_when_timestamp_window_is_0() {
    let server = start_with(
        json!({"timestamp_window": 0}),
        vec![app(APP_ID, KEY, json!({}))],
    );
    let api = Api::new(server.local_addr());
    let body = br#"{"name":"e","data":"{}","channels":["news"]}"#.to_vec();
    for timestamp in [1, now() - 100_000, now() + 100_000] {
        let uri = api.signed_uri_at("POST", &api.path("/events"), &[], &body, timestamp);
        api.send("POST", &uri, body.clone())
            .await
            .assert_ok(&json!({}));
    }
}

#[tokio::test]
async fn trigger_with_a_body_md5_mismatch_is_401() {
    let server = start_one(json!({}));
    let addr = server.local_addr();
    let (mut subscriber, _) = Client::subscribed(addr, "news").await;
    let api = Api::new(addr);
    let signed_body = br#"{"name":"e","data":"signed","channels":["news"]}"#;
    let sent_body = br#"{"name":"e","data":"tampered","channels":["news"]}"#.to_vec();
    let uri = api.signed_uri("POST", &api.path("/events"), &[], signed_body);
    api.send("POST", &uri, sent_body)
        .await
        .assert_error(401, &["body_md5"]);
    api.assert_next_is_marker(&mut subscriber, "news").await;
}

#[tokio::test]
async fn trigger_without_auth_signature_is_401() {
    let server = start_one(json!({}));
    let api = Api::new(server.local_addr());
    let body = br#"{"name":"e","data":"{}","channels":["news"]}"#.to_vec();
    let path = api.path("/events");
    let signed = reverb_engine::sign_request(KEY, SECRET, "POST", &path, &[], &body, now());
    let unsigned: Vec<(String, String)> = signed
        .into_iter()
        .filter(|(key, _)| key != "auth_signature")
        .collect();
    let uri = format!("{path}?{}", encode_query(&unsigned));
    api.send("POST", &uri, body.clone())
        .await
        .assert_error(401, &["auth_signature", "missing"]);
    // No query at all.
    api.send("POST", &path, body)
        .await
        .assert_error(401, &["auth_signature", "missing"]);
}

#[tokio::test]
async fn trigger_for_an_unknown_app_is_404_naming_the_id() {
    let server = start_one(json!({}));
    let mut api = Api::new(server.local_addr());
    api.app_id = "no-such-app".into();
    let resp = api
        .trigger(&json!({"name": "e", "data": "{}", "channels": ["news"]}))
        .await;
    resp.assert_error(404, &["no-such-app"]);
    assert_eq!(
        resp.error(),
        "No matching application for ID [no-such-app]."
    );
    // Any route of an unknown app.
    api.get("/channels", &[])
        .await
        .assert_error(404, &["no-such-app"]);
}
