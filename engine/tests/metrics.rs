//! Prometheus metrics: off unless enabled, served on a listener of their own and never on the
//! public port, every metric present before any traffic and moved by real traffic (WebSocket
//! clients, HTTP API publishes, a slow consumer closed, undrained engine events, a failing
//! webhook), each node of a cluster reporting its own link to Redis, and a `metrics` block
//! with a wrong key refused by name.

mod api_support;
mod redis_support;
mod support;

use api_support::{raw_exchange, Api};
use futures_util::SinkExt;
use redis_support::Redis;
use reverb_engine::{Config, Server, StartError};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;
use support::{
    app, http_get, join_presence_as, start, start_with, subscribe_private, within, Client, KEY,
};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

/// Every metric a server without scaling reports from the start, with its type, as Prometheus
/// names them.
const METRICS: [(&str, &str); 18] = [
    ("reverb_connections", "gauge"),
    ("reverb_connections_opened_total", "counter"),
    ("reverb_connections_refused_total", "counter"),
    ("reverb_connections_closed_total", "counter"),
    ("reverb_channels", "gauge"),
    ("reverb_presence_members", "gauge"),
    ("reverb_messages_received_total", "counter"),
    ("reverb_messages_sent_total", "counter"),
    ("reverb_bytes_received_total", "counter"),
    ("reverb_bytes_sent_total", "counter"),
    ("reverb_webhook_events_sent_total", "counter"),
    ("reverb_webhook_requests_failed_total", "counter"),
    ("reverb_webhook_requests_retried_total", "counter"),
    ("reverb_webhook_events_dropped_total", "counter"),
    ("reverb_slow_consumers_closed_total", "counter"),
    ("reverb_send_queue_bytes", "gauge"),
    ("reverb_unknown_app_connections_total", "counter"),
    ("reverb_events_dropped_total", "counter"),
];

/// The metrics of the public port's HTTP requests, there from its first request on.
const HTTP_METRICS: [(&str, &str); 2] = [
    ("reverb_http_requests_total", "counter"),
    ("reverb_http_request_duration_seconds", "histogram"),
];

/// The metrics only a node of a cluster reports.
const SCALING_METRICS: [(&str, &str); 5] = [
    ("reverb_redis_connected", "gauge"),
    ("reverb_scaling_nodes", "gauge"),
    ("reverb_scaling_messages_sent_total", "counter"),
    ("reverb_scaling_messages_received_total", "counter"),
    ("reverb_scaling_messages_dropped_total", "counter"),
];

/// One sample of a scrape.
#[derive(Debug)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// One scrape in the Prometheus text format, read line by line.
#[derive(Debug)]
struct Scrape {
    types: BTreeMap<String, String>,
    samples: Vec<Sample>,
}

impl Scrape {
    /// Reads the exposition `text`.
    fn parse(text: &str) -> Scrape {
        let mut types = BTreeMap::new();
        let mut samples = Vec::new();
        for line in text.lines().filter(|line| !line.is_empty()) {
            if let Some(declared) = line.strip_prefix("# TYPE ") {
                let (name, kind) = declared.split_once(' ').expect("a TYPE line names a type");
                types.insert(name.to_string(), kind.to_string());
            } else if !line.starts_with('#') {
                samples.push(parse_sample(line));
            }
        }
        Scrape { types, samples }
    }

    /// The samples of `name` whose labels include `labels`.
    fn matching<'a>(
        &'a self,
        name: &'a str,
        labels: &'a [(&str, &str)],
    ) -> impl Iterator<Item = &'a Sample> {
        self.samples.iter().filter(move |sample| {
            sample.name == name
                && labels
                    .iter()
                    .all(|(key, value)| sample.labels.get(*key).map(String::as_str) == Some(value))
        })
    }

    /// The one sample of `name` with `labels`.
    fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        let found: Vec<&Sample> = self.matching(name, labels).collect();
        assert_eq!(
            found.len(),
            1,
            "{name}{labels:?}: expected one sample, got {found:?}"
        );
        found[0].value
    }

    /// The sum of the samples of `name` whose labels include `labels`.
    fn sum(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.matching(name, labels).map(|sample| sample.value).sum()
    }
}

/// `name{key="value",...} value`.
fn parse_sample(line: &str) -> Sample {
    let (series, value) = line.rsplit_once(' ').expect("a sample has a value");
    let value = value
        .parse()
        .unwrap_or_else(|_| panic!("bad value in {line:?}"));
    let Some((name, labels)) = series.split_once('{') else {
        return Sample {
            name: series.to_string(),
            labels: BTreeMap::new(),
            value,
        };
    };
    let mut parsed = BTreeMap::new();
    let mut rest = labels.strip_suffix('}').expect("labels end with }");
    while !rest.is_empty() {
        let (key, after) = rest.split_once("=\"").expect("a label is key=\"value\"");
        let mut text = String::new();
        let mut chars = after.char_indices();
        let end = loop {
            match chars.next().expect("a label value ends with a quote") {
                (i, '"') => break i,
                (_, '\\') => match chars.next().map(|(_, c)| c) {
                    Some('n') => text.push('\n'),
                    Some(other) => text.push(other),
                    None => panic!("dangling escape in {line:?}"),
                },
                (_, c) => text.push(c),
            }
        };
        parsed.insert(key.to_string(), text);
        rest = after[end + 1..].trim_start_matches(',');
    }
    Sample {
        name: name.to_string(),
        labels: parsed,
        value,
    }
}

/// `GET /metrics` at `addr` with an `Accept` header; the response's media type and body.
async fn get_metrics(addr: SocketAddr, accept: &str) -> (u16, String, String) {
    let request = format!(
        "GET /metrics HTTP/1.1\r\nHost: {addr}\r\nAccept: {accept}\r\nConnection: close\r\n\r\n"
    );
    let (mut responses, _) = raw_exchange(addr, request.as_bytes(), 1).await;
    let response = responses.remove(0);
    let media_type = response
        .header("content-type")
        .unwrap_or_default()
        .to_string();
    (response.status, media_type, response.body)
}

/// Scrapes `server`'s metrics as Prometheus does, in the Prometheus text format.
async fn scrape(server: &Server) -> Scrape {
    let addr = server.metrics_addr().expect("metrics are on");
    let (status, media_type, body) = get_metrics(addr, "text/plain").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(media_type, "text/plain; version=0.0.4; charset=utf-8");
    Scrape::parse(&body)
}

/// Scrapes until `done` holds, bounded by the test timeout.
async fn scrape_until(server: &Server, what: &str, done: impl Fn(&Scrape) -> bool) -> Scrape {
    within(what, async {
        loop {
            let scrape = scrape(server).await;
            if done(&scrape) {
                return scrape;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
}

/// `servers.reverb` with metrics on a free port, merged with `overrides`.
fn with_metrics(overrides: Value) -> Value {
    let mut server = json!({"metrics": {"enabled": true, "port": 0}});
    if let (Value::Object(server), Value::Object(overrides)) = (&mut server, overrides) {
        server.extend(overrides);
    }
    server
}

/// A port nobody listens on: bound for a moment, then let go.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("its address").port()
}

/// A subscriber of app `key-1` that never reads after subscribing, with a small receive
/// buffer so that what it is sent backs up into the server's queue quickly.
async fn stalled_subscriber(addr: SocketAddr, channel: &str) -> WebSocketStream<TcpStream> {
    let socket = TcpSocket::new_v4().expect("a socket");
    socket
        .set_recv_buffer_size(16 * 1024)
        .expect("a receive buffer size");
    let stream = within("a TCP connection", socket.connect(addr))
        .await
        .expect("tcp connect");
    let url = format!("ws://{addr}/app/{KEY}?protocol=7&client=js&version=8.4.0");
    let (mut ws, _) = within(
        "the handshake",
        tokio_tungstenite::client_async(url, stream),
    )
    .await
    .expect("websocket handshake");
    let subscribe = json!({"event": "pusher:subscribe", "data": {"channel": channel}});
    ws.send(Message::text(subscribe.to_string()))
        .await
        .expect("send");
    ws
}

#[tokio::test]
async fn metrics_are_off_by_default_and_never_served_on_the_public_port() {
    let plain = start(vec![app("app-1", KEY, json!({}))]);
    assert_eq!(plain.metrics_addr(), None);
    assert_eq!(http_get(plain.local_addr(), "/metrics").await.0, 404);

    let server = start_with(with_metrics(json!({})), vec![app("app-1", KEY, json!({}))]);
    let metrics = server.metrics_addr().expect("metrics are on");
    assert_ne!(metrics, server.local_addr());
    assert_eq!(http_get(server.local_addr(), "/metrics").await.0, 404);
    let (status, body) = http_get(metrics, "/up").await;
    assert_eq!(
        status, 404,
        "the metrics listener serves nothing else: {body}"
    );
    let (status, _) = http_get(metrics, "/metrics").await;
    assert_eq!(status, 200);

    let request = format!("POST /metrics HTTP/1.1\r\nHost: {metrics}\r\nContent-Length: 0\r\n\r\n");
    let (responses, _) = raw_exchange(metrics, request.as_bytes(), 1).await;
    assert_eq!(responses[0].status, 405);
    assert_eq!(responses[0].header("allow"), Some("GET, HEAD"));
}

#[tokio::test]
async fn a_scraper_that_asks_for_openmetrics_gets_it() {
    let server = start_with(with_metrics(json!({})), vec![app("app-1", KEY, json!({}))]);
    let addr = server.metrics_addr().unwrap();
    let accept = "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5";
    let (status, media_type, body) = get_metrics(addr, accept).await;
    assert_eq!(status, 200);
    assert_eq!(
        media_type,
        "application/openmetrics-text; version=1.0.0; charset=utf-8"
    );
    assert!(body.ends_with("# EOF\n"), "{body}");
    assert!(
        body.contains("# TYPE reverb_messages_sent counter\n"),
        "{body}"
    );
    assert!(
        body.contains("reverb_messages_sent_total{app_id=\"app-1\"} 0\n"),
        "{body}"
    );
}

#[tokio::test]
async fn every_metric_is_there_before_any_traffic_and_moves_with_it() {
    let webhook = format!("http://127.0.0.1:{}/hooks", closed_port());
    let server = start_with(
        with_metrics(json!({"send_queue_bytes": 256 * 1024, "event_queue_size": 4})),
        vec![
            app(
                "app-1",
                KEY,
                json!({"webhooks": [{"url": webhook, "event_types": ["channel_occupied"]}]}),
            ),
            app("app-2", "key-2", json!({})),
        ],
    );
    let addr = server.local_addr();

    let before = scrape(&server).await;
    for (name, kind) in METRICS {
        assert_eq!(
            before.types.get(name).map(String::as_str),
            Some(kind),
            "{name}"
        );
    }
    for (name, _) in SCALING_METRICS.iter().chain(&HTTP_METRICS) {
        assert!(
            !before.types.contains_key(*name),
            "{name} before any request, without scaling"
        );
    }
    for app_id in ["app-1", "app-2"] {
        let app = [("app_id", app_id)];
        assert_eq!(before.value("reverb_connections", &app), 0.0);
        assert_eq!(before.value("reverb_messages_sent_total", &app), 0.0);
        assert_eq!(before.sum("reverb_connections_closed_total", &app), 0.0);
        for kind in [
            "public",
            "private",
            "private-encrypted",
            "presence",
            "server-to-user",
        ] {
            assert_eq!(
                before.value("reverb_channels", &[("app_id", app_id), ("type", kind)]),
                0.0
            );
        }
    }

    // Subscribers of a public, a private and a presence channel, and one that leaves.
    let (mut reader, reader_id) = Client::subscribed(addr, "news").await;
    subscribe_private(&mut reader, &reader_id, "private-orders").await;
    let (mut member, member_id) = Client::connect(addr, KEY).await;
    join_presence_as(&mut member, &member_id, "presence-room", json!(7)).await;
    let (leaver, _) = Client::subscribed(addr, "news").await;
    leaver.close().await;
    reader.ping_pong().await;

    // Three HTTP API publishes, each read by the subscriber that stayed.
    let api = Api::new(addr);
    for _ in 0..3 {
        api.assert_next_is_marker(&mut reader, "news").await;
    }

    // A subscriber that reads nothing is closed as too slow.
    let _stalled = stalled_subscriber(addr, "firehose").await;
    let payload = "x".repeat(4 * 1024);
    within("a slow consumer to be closed", async {
        while server.slow_consumers_closed() == 0 {
            server
                .publish("app-1", &["firehose".to_string()], "big", &payload, None)
                .unwrap();
            tokio::time::sleep(Duration::from_micros(200)).await;
        }
    })
    .await;

    // Nobody drains the engine events, and the webhook's endpoint refuses connections. A
    // socket is counted closed once its task has ended, a moment after its client saw it close.
    let after = scrape_until(&server, "both closes counted and a webhook retry", |s| {
        let closed = |reason| {
            let labels = [("app_id", "app-1"), ("reason", reason)];
            s.value("reverb_connections_closed_total", &labels)
        };
        closed("slow_consumer") == 1.0
            && closed("client_closed") == 1.0
            && s.value(
                "reverb_webhook_requests_retried_total",
                &[("app_id", "app-1")],
            ) >= 1.0
    })
    .await;

    for (name, kind) in METRICS.iter().chain(&HTTP_METRICS) {
        assert_eq!(
            after.types.get(*name).map(String::as_str),
            Some(*kind),
            "{name}"
        );
    }
    let one = [("app_id", "app-1")];
    let stats = server.stats()["app-1"].clone();
    let open = after.value("reverb_connections", &one);
    assert_eq!(open, stats.connections as f64);
    assert!(open >= 2.0, "the reader and the member are still open");
    let closed = after.sum("reverb_connections_closed_total", &one);
    assert_eq!(
        after.value("reverb_connections_opened_total", &one),
        open + closed
    );

    let channels = |kind| after.value("reverb_channels", &[("app_id", "app-1"), ("type", kind)]);
    assert_eq!(
        channels("public"),
        1.0,
        "news (firehose lost its only subscriber)"
    );
    assert_eq!(channels("private"), 1.0);
    assert_eq!(channels("presence"), 1.0);
    assert_eq!(after.value("reverb_presence_members", &one), 1.0);

    let sent = after.value("reverb_messages_sent_total", &one);
    assert!(sent >= 3.0, "the three publishes at least, got {sent}");
    let received = after.value("reverb_messages_received_total", &one);
    assert!(received >= 4.0, "subscriptions and a ping, got {received}");
    let bytes_sent = after.value("reverb_bytes_sent_total", &one);
    assert!(
        bytes_sent >= sent * 10.0,
        "{bytes_sent} bytes for {sent} messages"
    );
    let bytes_received = after.value("reverb_bytes_received_total", &one);
    assert!(
        bytes_received >= received * 10.0,
        "{bytes_received} bytes for {received} messages"
    );

    let failed = after.value("reverb_webhook_requests_failed_total", &one);
    assert!(failed >= 1.0, "the endpoint refuses connections");
    assert_eq!(after.value("reverb_webhook_events_sent_total", &one), 0.0);

    assert!(after.value("reverb_slow_consumers_closed_total", &[]) >= 1.0);
    assert!(
        after.value("reverb_events_dropped_total", &[]) > 0.0,
        "nobody drained"
    );
    assert!(after.value("reverb_send_queue_bytes", &[]) >= 0.0);

    let events = [("route", "events"), ("status", "200")];
    assert_eq!(after.value("reverb_http_requests_total", &events), 3.0);
    let upgrades = [("route", "websocket"), ("status", "101")];
    assert_eq!(after.value("reverb_http_requests_total", &upgrades), 4.0);
    let route = [("route", "events")];
    assert_eq!(
        after.value("reverb_http_request_duration_seconds_count", &route),
        3.0
    );
    let everything = [("route", "events"), ("le", "+Inf")];
    assert_eq!(
        after.value("reverb_http_request_duration_seconds_bucket", &everything),
        3.0
    );
    assert!(after.value("reverb_http_request_duration_seconds_sum", &route) > 0.0);

    let other = [("app_id", "app-2")];
    assert_eq!(after.value("reverb_connections", &other), 0.0);
    assert_eq!(after.value("reverb_messages_sent_total", &other), 0.0);
    assert_eq!(after.value("reverb_bytes_received_total", &other), 0.0);
}

#[tokio::test(flavor = "multi_thread")]
async fn sockets_refused_before_their_session_are_counted_by_app_and_reason() {
    let server = start_with(
        with_metrics(json!({})),
        vec![
            app(
                "app-1",
                KEY,
                json!({"allowed_origins": ["shop.test"], "max_connections": 1}),
            ),
            app("app-2", "key-2", json!({})),
        ],
    );
    let addr = server.local_addr();
    let refused = |scrape: &Scrape, app_id, reason| {
        let labels = [("app_id", app_id), ("reason", reason)];
        scrape.value("reverb_connections_refused_total", &labels)
    };
    let before = scrape(&server).await;
    for reason in ["origin_not_allowed", "over_connection_quota"] {
        assert_eq!(refused(&before, "app-1", reason), 0.0, "{reason}");
    }
    assert_eq!(
        before.value("reverb_unknown_app_connections_total", &[]),
        0.0
    );

    let mut elsewhere = Client::open_with_origin(addr, KEY, Some("https://evil.test")).await;
    elsewhere.expect_error(4009).await;
    let mut unknown = Client::open(addr, "no-such-key").await;
    unknown.expect_error(4001).await;
    let mut first = Client::open_with_origin(addr, KEY, Some("https://shop.test")).await;
    first.expect_event("pusher:connection_established").await;
    let mut second = Client::open_with_origin(addr, KEY, Some("https://shop.test")).await;
    second.expect_error(4004).await;

    let after = scrape(&server).await;
    assert_eq!(refused(&after, "app-1", "origin_not_allowed"), 1.0);
    assert_eq!(refused(&after, "app-1", "over_connection_quota"), 1.0);
    assert_eq!(
        after.value("reverb_unknown_app_connections_total", &[]),
        1.0
    );
    assert_eq!(
        after.sum("reverb_connections_refused_total", &[("app_id", "app-2")]),
        0.0
    );
    let one = [("app_id", "app-1")];
    assert_eq!(after.value("reverb_connections_opened_total", &one), 1.0);
}

#[tokio::test]
async fn each_node_of_a_cluster_reports_its_own_link_to_redis() {
    let mut redis = Redis::start();
    let node = || {
        let scaling = json!({
            "enabled": true,
            "prefix": "metrics_",
            "node_timeout": 3,
            "server": {"host": "127.0.0.1", "port": redis.port, "timeout": 2},
        });
        start_with(
            with_metrics(json!({"scaling": scaling})),
            vec![app("app-1", KEY, json!({}))],
        )
    };
    let (a, b) = (node(), node());
    let connected = |s: &Scrape| s.value("reverb_redis_connected", &[]) == 1.0;
    scrape_until(&a, "node a to reach Redis", connected).await;
    scrape_until(&b, "node b to reach Redis", connected).await;

    let (mut on_b, _) = Client::subscribed(b.local_addr(), "news").await;
    within("an event across nodes", async {
        loop {
            a.publish("app-1", &["news".to_string()], "hop", "1", None)
                .unwrap();
            let arrived = tokio::time::timeout(Duration::from_millis(200), on_b.next_json()).await;
            if arrived.is_ok() {
                return;
            }
        }
    })
    .await;

    // Node a counts what it published once Redis has answered, which may be after node b has
    // already delivered it.
    let published = |s: &Scrape| s.value("reverb_scaling_messages_sent_total", &[]) >= 1.0;
    let from = scrape_until(&a, "node a to count what it published", published).await;
    let to = scrape(&b).await;
    for scrape in [&from, &to] {
        for (name, kind) in SCALING_METRICS {
            assert_eq!(
                scrape.types.get(name).map(String::as_str),
                Some(kind),
                "{name}"
            );
        }
    }
    assert!(to.value("reverb_scaling_messages_received_total", &[]) >= 1.0);
    let one = [("app_id", "app-1")];
    assert_eq!(to.value("reverb_connections", &one), 1.0, "b's own socket");
    assert_eq!(
        from.value("reverb_connections", &one),
        0.0,
        "a has none of its own"
    );

    redis.stop();
    let gone = |s: &Scrape| s.value("reverb_redis_connected", &[]) == 0.0;
    scrape_until(&a, "node a to notice Redis is gone", gone).await;
}

#[test]
fn the_metrics_block_names_a_wrong_key() {
    let error = |metrics: Value| {
        let config = json!({
            "servers": {"reverb": {"metrics": metrics}},
            "apps": {"apps": [app("app-1", KEY, json!({}))]},
        });
        Config::from_value(&config).unwrap_err().to_string()
    };
    assert_eq!(
        error(json!({"enabeld": true})),
        "servers.reverb.metrics.enabeld is not a known key (known: enabled, host, port)"
    );
    assert_eq!(
        error(json!({"enabled": true, "port": 70000})),
        "servers.reverb.metrics.port must be an integer between 0 and 65535, got 70000"
    );
    assert_eq!(
        error(json!({"enabled": "sometimes"})),
        "servers.reverb.metrics.enabled must be a boolean"
    );
    assert_eq!(
        error(json!("on")),
        "servers.reverb.metrics must be an array"
    );

    let config = |metrics: Value| {
        let value = json!({
            "servers": {"reverb": {"metrics": metrics}},
            "apps": {"apps": [app("app-1", KEY, json!({}))]},
        });
        Config::from_value(&value).unwrap().metrics
    };
    assert_eq!(config(json!({"port": 9700})), None, "off unless enabled");
    let on = config(json!({"enabled": "true", "port": "9700"})).unwrap();
    assert_eq!((on.host.as_str(), on.port), ("127.0.0.1", 9700));
}

#[test]
fn a_metrics_port_in_use_is_a_start_error_naming_the_address_and_the_key() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let config = Config::from_value(&json!({
        "servers": {"reverb": {"host": "127.0.0.1", "port": 0,
            "metrics": {"enabled": true, "port": port}}},
        "apps": {"apps": [app("app-1", KEY, json!({}))]},
    }))
    .unwrap();
    let error = Server::start(config).err().expect("the port is taken");
    assert!(matches!(error, StartError::MetricsBind { .. }), "{error}");
    let message = error.to_string();
    assert!(
        message.starts_with(&format!("could not listen on 127.0.0.1:{port} for metrics")),
        "{message}"
    );
    assert!(
        message.contains("servers.reverb.metrics.host and .port"),
        "{message}"
    );
}
