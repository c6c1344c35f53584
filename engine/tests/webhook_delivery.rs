//! Webhooks over HTTP from a running server: what sockets do reaches the app's endpoint as
//! signed Pusher requests, filtered by `event_types` and channel name, with the endpoint's
//! own headers; and the app's stats count what was delivered.

mod support;

use http_body_util::BodyExt;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use parking_lot::Mutex;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use support::{app, sign, start_with, stats_until, within, Client, APP_ID, KEY, SECRET};

/// One request the endpoint received: its headers of interest and its body.
#[derive(Debug, Clone)]
struct Received {
    key: String,
    signature: String,
    token: Option<String>,
    body: String,
}

/// An HTTP endpoint on a free loopback port that answers 200 and keeps every request.
async fn endpoint() -> (String, Arc<Mutex<Vec<Received>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/pusher/webhooks", listener.local_addr().unwrap());
    let received = Arc::new(Mutex::new(Vec::new()));
    let kept = received.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let kept = kept.clone();
            tokio::spawn(async move {
                let service = service_fn(move |request: Request<hyper::body::Incoming>| {
                    let kept = kept.clone();
                    async move {
                        let header = |name: &str| {
                            request
                                .headers()
                                .get(name)
                                .and_then(|v| v.to_str().ok())
                                .map(String::from)
                        };
                        let (key, signature) =
                            (header("x-pusher-key"), header("x-pusher-signature"));
                        let token = header("x-webhook-token");
                        let body = request.into_body().collect().await?.to_bytes();
                        kept.lock().push(Received {
                            key: key.unwrap_or_default(),
                            signature: signature.unwrap_or_default(),
                            token,
                            body: String::from_utf8_lossy(&body).into_owned(),
                        });
                        Ok::<_, hyper::Error>(Response::new(String::new()))
                    }
                });
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    (url, received)
}

/// The events of every request received, in order.
fn events(received: &Mutex<Vec<Received>>) -> Vec<Value> {
    received
        .lock()
        .iter()
        .flat_map(|r| {
            let body: Value = serde_json::from_str(&r.body).unwrap();
            body["events"].as_array().unwrap().clone()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn what_sockets_do_reaches_the_endpoint_signed_filtered_and_counted() {
    let (url, received) = endpoint().await;
    let webhooks = json!([{
        "url": url,
        "event_types": ["channel_occupied", "channel_vacated"],
        "filter": {"channel_name_starts_with": "orders-"},
        "headers": {"X-Webhook-Token": "t0ken"},
    }]);
    let server = start_with(
        json!({"webhooks": {"delay_ms": 100, "batch_ms": 200}}),
        vec![app(APP_ID, KEY, json!({"webhooks": webhooks}))],
    );
    let (mut client, _) = Client::connect(server.local_addr(), KEY).await;
    for channel in ["orders-1", "news", "orders-2"] {
        client.subscribe(channel).await;
    }
    client.close().await;

    within("four webhook events", async {
        while events(&received).len() < 4 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    let names: Vec<(String, String)> = events(&received)
        .iter()
        .map(|e| {
            (
                e["name"].as_str().unwrap().into(),
                e["channel"].as_str().unwrap().into(),
            )
        })
        .collect();
    let pair = |name: &str, channel: &str| (name.to_string(), channel.to_string());
    assert_eq!(
        &names[..2],
        &[
            pair("channel_occupied", "orders-1"),
            pair("channel_occupied", "orders-2")
        ]
    );
    let mut vacated = names[2..].to_vec();
    vacated.sort();
    assert_eq!(
        vacated,
        vec![
            pair("channel_vacated", "orders-1"),
            pair("channel_vacated", "orders-2")
        ]
    );

    let requests = received.lock().clone();
    assert!(requests.len() < 4, "the events were batched: {requests:?}");
    for request in &requests {
        assert_eq!(request.key, KEY);
        assert_eq!(request.signature, sign(SECRET, &request.body));
        assert_eq!(request.token.as_deref(), Some("t0ken"));
        let body: Value = serde_json::from_str(&request.body).unwrap();
        assert!(body["time_ms"].as_u64().is_some(), "{body}");
    }
    stats_until(&server, APP_ID, |stats| stats.webhooks.sent == 4).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_changed_webhook_url_and_secret_take_effect_without_a_restart() {
    let (old_url, old_received) = endpoint().await;
    let (new_url, new_received) = endpoint().await;
    let server = start_with(
        json!({"webhooks": {"delay_ms": 0, "batch_ms": 0}}),
        vec![app(APP_ID, KEY, json!({"webhooks": [{"url": old_url}]}))],
    );
    let (mut client, _) = Client::connect(server.local_addr(), KEY).await;
    client.subscribe("before").await;
    within("the first webhook", async {
        while old_received.lock().is_empty() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;

    let rotated =
        json!({"app_id": APP_ID, "key": KEY, "secret": "rotated", "webhooks": [{"url": new_url}]});
    assert!(server.set_apps(&[rotated]).1.is_empty());
    client.subscribe("after").await;
    within("the webhook at the new endpoint", async {
        while new_received.lock().is_empty() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    let request = new_received.lock()[0].clone();
    assert_eq!(request.signature, sign("rotated", &request.body));
    assert!(request.body.contains("\"after\""), "{}", request.body);
    assert!(old_received
        .lock()
        .iter()
        .all(|r| !r.body.contains("\"after\"")));
}
