//! The delivery of one endpoint against a real HTTP receiver: signatures, batching, order,
//! retries, timeouts, a full queue and shutdown.

use super::*;
use crate::webhooks::WebhookEvent;
use hmac::{Hmac, Mac};
use http_body_util::{BodyExt, Full};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use std::sync::atomic::AtomicUsize;
use tokio::io::AsyncReadExt;
use tokio::net::TcpListener;

/// The test app's key.
const KEY: &str = "app-key";
/// The test app's secret, which must never show in an error.
const SECRET: &str = "app-secret";

/// How long a test waits for something that should happen well before.
const DEADLINE: Duration = Duration::from_secs(20);

/// How the receiver answers one request.
#[derive(Clone, Copy)]
enum Answer {
    /// At once, with this status.
    Status(u16),
    /// With this status once [`Receiver::release`] is cancelled; never if it is not.
    Held(u16),
}

/// A request as the receiver got it: method, path and query, headers, raw body.
struct Received {
    method: Method,
    path: String,
    headers: HeaderMap,
    body: Bytes,
}

impl Received {
    /// The body as JSON.
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("the body is JSON")
    }

    /// The `channel` of each event in the body, in order.
    fn channels(&self) -> Vec<String> {
        self.json()["events"]
            .as_array()
            .expect("events is an array")
            .iter()
            .map(|event| event["channel"].as_str().expect("a channel").to_string())
            .collect()
    }
}

/// A webhook endpoint on 127.0.0.1 that records every request and answers as told.
struct Receiver {
    /// Where the receiver listens.
    url: String,
    /// Every request, in the order they arrived.
    requests: Arc<Mutex<Vec<Received>>>,
    /// How many connections were accepted.
    connections: Arc<AtomicUsize>,
    /// Lets [`Answer::Held`] requests answer.
    release: CancellationToken,
}

impl Receiver {
    /// Starts a receiver at `path` that answers the nth request (from 0) with `answer(n)`.
    async fn start(path: &str, answer: fn(usize) -> Answer) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}{path}", listener.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let connections = Arc::new(AtomicUsize::new(0));
        let release = CancellationToken::new();
        let receiver = Receiver {
            url,
            requests: requests.clone(),
            connections: connections.clone(),
            release: release.clone(),
        };
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                connections.fetch_add(1, Ordering::SeqCst);
                let requests = requests.clone();
                let release = release.clone();
                let service = service_fn(move |request: Request<hyper::body::Incoming>| {
                    let requests = requests.clone();
                    let release = release.clone();
                    async move {
                        let (parts, body) = request.into_parts();
                        let body = body.collect().await?.to_bytes();
                        let n = {
                            let mut requests = requests.lock();
                            requests.push(Received {
                                method: parts.method,
                                path: parts.uri.to_string(),
                                headers: parts.headers,
                                body,
                            });
                            requests.len() - 1
                        };
                        let status = match answer(n) {
                            Answer::Status(status) => status,
                            Answer::Held(status) => {
                                release.cancelled().await;
                                status
                            }
                        };
                        let mut response = Response::new(Full::new(Bytes::new()));
                        *response.status_mut() = StatusCode::from_u16(status).unwrap();
                        Ok::<_, hyper::Error>(response)
                    }
                });
                tokio::spawn(http1::Builder::new().serve_connection(TokioIo::new(stream), service));
            }
        });
        receiver
    }

    /// How many requests arrived.
    fn count(&self) -> usize {
        self.requests.lock().len()
    }

    /// The channels of each request's events, request by request.
    fn batches(&self) -> Vec<Vec<String>> {
        self.requests
            .lock()
            .iter()
            .map(Received::channels)
            .collect()
    }
}

/// Waits until `done` holds, failing the test after [`DEADLINE`].
async fn wait_until(what: &str, done: impl Fn() -> bool) {
    let deadline = Instant::now() + DEADLINE;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Settings that send what is queued at once, one event per request being allowed up
/// to 50, with `tweak` applied.
fn settings(tweak: impl FnOnce(&mut WebhookSettings)) -> WebhookSettings {
    let mut settings = WebhookSettings {
        batch_window: Duration::ZERO,
        ..WebhookSettings::default()
    };
    tweak(&mut settings);
    settings
}

/// A sender to `url` and what the test watches it through.
struct Harness {
    /// The sender under test.
    sender: Sender,
    counters: Arc<WebhookCounters>,
    events: Arc<EventQueue>,
    shutdown: CancellationToken,
}

impl Harness {
    /// Spawns a sender for app `app-1` to `url`.
    fn start(url: &str, headers: Vec<(String, String)>, settings: &WebhookSettings) -> Self {
        let counters = Arc::new(WebhookCounters::default());
        let events = Arc::new(EventQueue::new(100).unwrap());
        let shutdown = CancellationToken::new();
        let endpoint = Endpoint {
            app_id: "app-1".into(),
            key: KEY.into(),
            secret: SECRET.into(),
            url: url.into(),
            headers,
        };
        let sender = Sender::spawn(
            endpoint,
            settings,
            counters.clone(),
            events.clone(),
            shutdown.clone(),
            &TaskTracker::new(),
        );
        Harness {
            sender,
            counters,
            events,
            shutdown,
        }
    }

    /// Pushes a `channel_occupied` event for each channel.
    fn push(&self, channels: &[&str]) {
        for channel in channels {
            let event = WebhookEvent::ChannelOccupied {
                channel: channel.to_string(),
            };
            self.sender.push(serde_json::to_string(&event).unwrap());
        }
    }

    /// The app's counters now.
    fn stats(&self) -> WebhookStats {
        self.counters.snapshot()
    }

    /// The errors of the `WebhookFailing` events queued for the host so far.
    fn failing(&self) -> Vec<String> {
        self.events
            .drain()
            .into_iter()
            .filter_map(|event| match event {
                EngineEvent::WebhookFailing { app_id, url, error } => {
                    assert_eq!(app_id, "app-1");
                    assert!(!url.is_empty());
                    assert!(!error.contains(SECRET), "the secret leaked: {error}");
                    Some(error)
                }
                _ => None,
            })
            .collect()
    }

    /// Whether the delivery task has ended (it holds the only other queue handle).
    fn ended(&self) -> bool {
        Arc::strong_count(&self.sender.queue) == 1
    }
}

/// Counters with these values.
fn stats(sent: u64, failed: u64, retried: u64, dropped: u64) -> WebhookStats {
    WebhookStats {
        sent,
        failed,
        retried,
        dropped,
    }
}

/// Channel names as the receiver reports them.
fn names(channels: &[&str]) -> Vec<String> {
    channels.iter().map(|c| c.to_string()).collect()
}

#[tokio::test]
async fn the_request_is_signed_and_shaped_as_pusher_sends_it() {
    let receiver = Receiver::start("/hooks/pusher?token=1", |_| Answer::Status(200)).await;
    let headers = vec![("X-Token".to_string(), "abc".to_string())];
    let harness = Harness::start(&receiver.url, headers, &settings(|_| {}));
    harness.push(&["news", "sport"]);
    wait_until("the request arrives", || harness.stats().sent == 2).await;

    let requests = receiver.requests.lock();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.method, Method::POST);
    assert_eq!(request.path, "/hooks/pusher?token=1");
    let header = |name: &str| request.headers.get(name).map(|v| v.to_str().unwrap());
    assert_eq!(header("content-type"), Some("application/json"));
    assert_eq!(header("x-pusher-key"), Some(KEY));
    assert_eq!(header("x-token"), Some("abc"));
    let host = receiver.url.trim_start_matches("http://");
    assert_eq!(Some(&host[..host.find('/').unwrap()]), header("host"));

    let signature = hex::decode(header("x-pusher-signature").unwrap()).unwrap();
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(&request.body);
    assert!(
        mac.verify_slice(&signature).is_ok(),
        "the signature is wrong"
    );

    let json = request.json();
    let time_ms = json["time_ms"].as_u64().expect("time_ms is an integer");
    let now = unix_millis() as u64;
    assert!(
        time_ms.abs_diff(now) < 60_000,
        "time_ms {time_ms} is not now ({now})"
    );
    assert_eq!(
        std::str::from_utf8(&request.body).unwrap(),
        format!(
            "{{\"time_ms\":{time_ms},\"events\":[{},{}]}}",
            r#"{"name":"channel_occupied","channel":"news"}"#,
            r#"{"name":"channel_occupied","channel":"sport"}"#
        )
    );
    assert_eq!(harness.stats(), stats(2, 0, 0, 0));
    assert!(harness.failing().is_empty());
}

#[tokio::test]
async fn header_names_go_out_in_the_case_the_php_sdk_looks_up() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    let harness = Harness::start(&url, vec![], &settings(|_| {}));
    harness.push(&["news"]);
    let (mut stream, _) = tokio::time::timeout(DEADLINE, listener.accept())
        .await
        .expect("the sender connects")
        .unwrap();
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8];
        let read = tokio::time::timeout(DEADLINE, stream.read(&mut byte)).await;
        assert_eq!(read.expect("the request head arrives").unwrap(), 1);
        head.push(byte[0]);
    }
    let head = String::from_utf8(head).unwrap();
    for name in ["Content-Type: ", "X-Pusher-Key: ", "X-Pusher-Signature: "] {
        assert!(
            head.contains(&format!("\r\n{name}")),
            "no {name:?} in {head}"
        );
    }
}

#[tokio::test]
async fn queued_events_go_in_batches_of_batch_size_over_one_connection() {
    let receiver = Receiver::start("/", |_| Answer::Status(200)).await;
    let harness = Harness::start(&receiver.url, vec![], &settings(|s| s.batch_size = 3));
    harness.push(&["a", "b", "c", "d", "e", "f", "g"]);
    wait_until("every event is sent", || harness.stats().sent == 7).await;
    assert_eq!(
        receiver.batches(),
        vec![
            names(&["a", "b", "c"]),
            names(&["d", "e", "f"]),
            names(&["g"])
        ]
    );
    assert_eq!(receiver.connections.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn the_batch_window_waits_for_more_events_until_the_batch_is_full() {
    let receiver = Receiver::start("/", |_| Answer::Status(200)).await;
    let settings = settings(|s| {
        s.batch_size = 2;
        s.batch_window = Duration::from_secs(600);
    });
    let harness = Harness::start(&receiver.url, vec![], &settings);
    harness.push(&["a"]);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(receiver.count(), 0, "the first event did not wait");
    harness.push(&["b", "c", "d"]);
    wait_until("both full batches are sent", || harness.stats().sent == 4).await;
    assert_eq!(
        receiver.batches(),
        vec![names(&["a", "b"]), names(&["c", "d"])]
    );
}

#[tokio::test]
async fn a_failing_batch_is_retried_before_anything_behind_it() {
    let receiver = Receiver::start("/", |n| match n {
        0 | 1 => Answer::Status(500),
        _ => Answer::Status(200),
    })
    .await;
    let harness = Harness::start(&receiver.url, vec![], &settings(|s| s.batch_size = 2));
    harness.push(&["a", "b", "c", "d", "e"]);
    wait_until("every event is sent", || harness.stats().sent == 5).await;
    let ab = names(&["a", "b"]);
    assert_eq!(
        receiver.batches(),
        vec![
            ab.clone(),
            ab.clone(),
            ab,
            names(&["c", "d"]),
            names(&["e"])
        ]
    );
    assert_eq!(harness.stats(), stats(5, 2, 2, 0));
    assert_eq!(harness.failing(), vec!["HTTP 500"]);
}

#[tokio::test]
async fn an_endpoint_that_fails_again_after_recovering_is_reported_again() {
    let receiver = Receiver::start("/", |n| match n {
        0 | 2 => Answer::Status(503),
        _ => Answer::Status(200),
    })
    .await;
    let harness = Harness::start(&receiver.url, vec![], &settings(|s| s.batch_size = 1));
    harness.push(&["a", "b"]);
    wait_until("both events are sent", || harness.stats().sent == 2).await;
    assert_eq!(
        receiver.batches(),
        vec![names(&["a"]), names(&["a"]), names(&["b"]), names(&["b"])]
    );
    assert_eq!(harness.stats(), stats(2, 2, 2, 0));
    assert_eq!(harness.failing(), vec!["HTTP 503", "HTTP 503"]);
}

#[tokio::test]
async fn a_request_without_an_answer_times_out_and_its_events_are_dropped() {
    let receiver = Receiver::start("/", |_| Answer::Held(200)).await;
    let settings = settings(|s| {
        s.batch_size = 2;
        s.timeout = Duration::from_secs(1);
        s.retry_for = Duration::from_secs(1);
    });
    let harness = Harness::start(&receiver.url, vec![], &settings);
    harness.push(&["a", "b", "c"]);
    wait_until("every event is dropped", || harness.stats().dropped == 3).await;
    assert_eq!(harness.stats(), stats(0, 2, 0, 3));
    assert_eq!(receiver.batches(), vec![names(&["a", "b"]), names(&["c"])]);
    assert_eq!(harness.failing(), vec!["timed out after 1 s"]);
}

#[tokio::test]
async fn a_refused_connection_is_a_failure() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    drop(listener);
    let harness = Harness::start(&url, vec![], &settings(|s| s.retry_for = Duration::ZERO));
    harness.push(&["a"]);
    wait_until("the event is dropped", || harness.stats().dropped == 1).await;
    assert_eq!(harness.stats(), stats(0, 1, 0, 1));
    let errors = harness.failing();
    assert_eq!(errors.len(), 1);
    assert!(errors[0].contains("refused"), "{}", errors[0]);
}

#[tokio::test]
async fn a_full_queue_drops_its_oldest_events() {
    let receiver = Receiver::start("/", |n| match n {
        0 => Answer::Held(200),
        _ => Answer::Status(200),
    })
    .await;
    let settings = settings(|s| {
        s.batch_size = 1;
        s.queue_size = 3;
    });
    let harness = Harness::start(&receiver.url, vec![], &settings);
    harness.push(&["a"]);
    wait_until("the first request arrives", || receiver.count() == 1).await;
    harness.push(&["b", "c", "d", "e", "f"]);
    assert_eq!(harness.stats().dropped, 2);
    receiver.release.cancel();
    wait_until("the rest is sent", || harness.stats().sent == 4).await;
    assert_eq!(
        receiver.batches(),
        vec![names(&["a"]), names(&["d"]), names(&["e"]), names(&["f"])]
    );
    assert_eq!(harness.stats(), stats(4, 0, 0, 2));
}

#[tokio::test]
async fn shutdown_sends_what_is_queued_and_ends() {
    let receiver = Receiver::start("/", |_| Answer::Status(200)).await;
    let settings = settings(|s| s.batch_window = Duration::from_secs(600));
    let harness = Harness::start(&receiver.url, vec![], &settings);
    harness.push(&["a", "b", "c"]);
    harness.shutdown.cancel();
    wait_until("the delivery ends", || harness.ended()).await;
    assert_eq!(receiver.batches(), vec![names(&["a", "b", "c"])]);
    harness.push(&["late"]);
    assert_eq!(harness.stats(), stats(3, 0, 0, 1));
}

#[tokio::test]
async fn shutdown_gives_a_failing_batch_one_more_attempt_and_drops_the_rest() {
    let receiver = Receiver::start("/", |n| match n {
        0 => Answer::Held(500),
        _ => Answer::Status(500),
    })
    .await;
    let harness = Harness::start(&receiver.url, vec![], &settings(|s| s.batch_size = 2));
    harness.push(&["a", "b", "c"]);
    wait_until("the first request arrives", || receiver.count() == 1).await;
    harness.shutdown.cancel();
    receiver.release.cancel();
    wait_until("the delivery ends", || harness.ended()).await;
    assert_eq!(
        receiver.batches(),
        vec![names(&["a", "b"]), names(&["a", "b"])]
    );
    assert_eq!(harness.stats(), stats(0, 2, 1, 3));
    assert_eq!(harness.failing(), vec!["HTTP 500"]);
}

#[tokio::test]
async fn dropping_the_sender_ends_its_delivery_after_sending_what_is_queued() {
    let receiver = Receiver::start("/", |_| Answer::Status(200)).await;
    let settings = settings(|s| s.batch_window = Duration::from_secs(600));
    let harness = Harness::start(&receiver.url, vec![], &settings);
    harness.push(&["a"]);
    let queue = Arc::downgrade(&harness.sender.queue);
    let counters = harness.counters.clone();
    drop(harness);
    wait_until("the delivery ends", || queue.upgrade().is_none()).await;
    assert_eq!(receiver.batches(), vec![names(&["a"])]);
    assert_eq!(counters.snapshot(), stats(1, 0, 0, 0));
}

#[tokio::test]
async fn an_https_endpoint_that_speaks_no_tls_is_a_failure() {
    let receiver = Receiver::start("/", |_| Answer::Status(200)).await;
    let url = receiver.url.replace("http://", "https://");
    let harness = Harness::start(&url, vec![], &settings(|s| s.retry_for = Duration::ZERO));
    harness.push(&["a"]);
    wait_until("the event is dropped", || harness.stats().dropped == 1).await;
    assert_eq!(harness.stats(), stats(0, 1, 0, 1));
    let errors = harness.failing();
    assert!(
        errors[0].starts_with("TLS handshake with 127.0.0.1:"),
        "{}",
        errors[0]
    );
}

#[tokio::test]
async fn an_unusable_header_fails_every_request_without_sending() {
    let receiver = Receiver::start("/", |_| Answer::Status(200)).await;
    let headers = vec![("Bad Name".to_string(), "x".to_string())];
    let settings = settings(|s| s.retry_for = Duration::ZERO);
    let harness = Harness::start(&receiver.url, headers, &settings);
    harness.push(&["a", "b"]);
    wait_until("the events are dropped", || harness.stats().dropped == 2).await;
    assert_eq!(receiver.count(), 0);
    assert_eq!(
        harness.failing(),
        vec!["\"Bad Name\" is not a valid header name"]
    );
}
