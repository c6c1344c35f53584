//! HTTP API parameters an attacker controls: a repeated authentication parameter is refused
//! whichever copy is valid, and channel names in paths follow the rules (and the error text)
//! of subscriptions.

mod api_support;
mod support;

use api_support::Api;
use serde_json::json;
use support::{decode_data, start_one, Client};

/// The error a socket gets for subscribing to `channel`: the text the HTTP API must match.
async fn subscription_error(client: &mut Client, channel: &str) -> String {
    client
        .send_json(json!({"event": "pusher:subscribe", "data": {"channel": channel}}))
        .await;
    let frame = client.expect_event("pusher:error").await;
    let data = decode_data(&frame);
    assert_eq!(data["code"], 4200, "{frame}");
    data["message"].as_str().expect("a message").to_string()
}

#[tokio::test]
async fn a_repeated_auth_parameter_is_refused_with_401_naming_it() {
    let server = start_one(json!({}));
    let api = Api::new(server.local_addr());
    let body = json!({"name": "e", "channel": "news", "data": "{}"})
        .to_string()
        .into_bytes();
    let signed = api.signed_uri("POST", &api.path("/events"), &[], &body);
    for (name, value) in [
        ("auth_signature", "0000"),
        ("auth_key", "key-1"),
        ("auth_timestamp", "1"),
        ("auth_version", "1.0"),
        ("body_md5", "d41d8cd98f00b204e9800998ecf8427e"),
    ] {
        let response = api
            .send("POST", &format!("{signed}&{name}={value}"), body.clone())
            .await;
        response.assert_error(401, &[name, "more than once"]);
    }
    api.send("POST", &signed, body).await.assert_ok(&json!({}));
}

#[tokio::test]
async fn a_bogus_signature_before_the_valid_one_is_refused_too() {
    let server = start_one(json!({}));
    let api = Api::new(server.local_addr());
    let signed = api.signed_uri("GET", &api.path("/channels"), &[], b"");
    let (path, query) = signed.split_once('?').expect("a query");
    let uri = format!("{path}?auth_signature=0000&{query}");
    api.send("GET", &uri, Vec::new())
        .await
        .assert_error(401, &["auth_signature", "more than once"]);
}

#[tokio::test]
async fn invalid_channel_names_in_the_path_get_400_with_the_subscription_error() {
    let server = start_one(json!({}));
    let api = Api::new(server.local_addr());
    let (mut client, _) = Client::connect(server.local_addr(), "key-1").await;
    let long = "a".repeat(5_000);
    for (encoded, name) in [
        ("..%2f", "../"),
        ("%00", "\0"),
        ("a%20b", "a b"),
        (long.as_str(), long.as_str()),
    ] {
        let expected = subscription_error(&mut client, name).await;
        let response = api.get(&format!("/channels/{encoded}"), &[]).await;
        assert_eq!(response.status, 400, "{encoded:.40}: {:?}", response.body);
        assert_eq!(response.error(), expected, "{encoded:.40}");
        let presence = format!("presence-{encoded}");
        let expected = subscription_error(&mut client, &format!("presence-{name}")).await;
        let response = api.get(&format!("/channels/{presence}/users"), &[]).await;
        assert_eq!(response.status, 400, "{presence:.40}: {:?}", response.body);
        assert_eq!(response.error(), expected, "{presence:.40}");
    }
}
