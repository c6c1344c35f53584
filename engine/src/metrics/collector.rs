//! The figures a running server already keeps, read at each scrape: each app's sockets,
//! channels, presence members, messages, bytes and webhooks, the sockets closed as too slow,
//! the bytes waiting in send queues, the host's dropped events and, with scaling, this node's
//! link to the cluster. Every figure is this node's own, whether or not it is in a cluster.

use crate::app::AppStats;
use crate::channels::ChannelTally;
use crate::state::ServerState;
use crate::traffic::TrafficStats;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::MetricType;
use std::fmt;
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// The labels of a per-app sample, `app_id` first.
type AppLabels<'a, const N: usize> = [(&'static str, &'a str); N];

/// Reads the server at each scrape.
pub struct ServerFigures {
    state: Arc<ServerState>,
}

impl ServerFigures {
    /// Figures of the server whose state is `state`.
    pub fn new(state: Arc<ServerState>) -> ServerFigures {
        ServerFigures { state }
    }
}

impl fmt::Debug for ServerFigures {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("ServerFigures")
    }
}

/// One app as a scrape found it, read once so that its samples agree with each other.
struct AppFigures<'a> {
    app_id: &'a str,
    stats: AppStats,
    traffic: TrafficStats,
    channels: ChannelTally,
}

impl Collector for ServerFigures {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> fmt::Result {
        let running = self.state.apps.all();
        let mut apps: Vec<AppFigures<'_>> = running
            .iter()
            .map(|app| AppFigures {
                app_id: app.id(),
                stats: app.stats(),
                traffic: app.traffic(),
                channels: app.channels.tally(),
            })
            .collect();
        apps.sort_by(|a, b| a.app_id.cmp(b.app_id));
        encode_apps(&mut encoder, &apps)?;
        self.encode_server(&mut encoder)?;
        self.encode_cluster(&mut encoder)
    }
}

/// Each app's samples, one metric after the other.
fn encode_apps(encoder: &mut DescriptorEncoder<'_>, apps: &[AppFigures<'_>]) -> fmt::Result {
    let each = |value: fn(&AppFigures<'_>) -> u64| {
        apps.iter()
            .map(move |app| ([("app_id", app.app_id)], value(app)))
    };
    // Each app's samples of a figure split by one more label, `name`: its values and counts.
    let split = |name: &'static str, values: fn(&AppFigures<'_>) -> Vec<(&'static str, u64)>| {
        apps.iter().flat_map(move |app| {
            values(app).into_iter().map(move |(value, count)| {
                let labels: AppLabels<'_, 2> = [("app_id", app.app_id), (name, value)];
                (labels, count)
            })
        })
    };
    gauges(
        encoder,
        "connections",
        "Open WebSocket connections.",
        each(|app| app.stats.connections as u64),
    )?;
    counters(
        encoder,
        "connections_opened",
        "WebSocket connections accepted (past the origin check and the connection quota).",
        each(|app| app.traffic.opened),
    )?;
    let refused = split("reason", |app| {
        let refused = app.traffic.refused.iter();
        refused
            .map(|(reason, count)| (reason.label(), *count))
            .collect()
    });
    counters(
        encoder,
        "connections_refused",
        "WebSocket connections refused before they began: an origin the app does not allow, \
         or the app at max_connections.",
        refused,
    )?;
    let closed = split("reason", |app| {
        let closed = app.traffic.closed.iter();
        closed
            .map(|(reason, count)| (reason.label(), *count))
            .collect()
    });
    counters(
        encoder,
        "connections_closed",
        "WebSocket connections closed, by why they closed.",
        closed,
    )?;
    let channels = split("type", |app| {
        let by_type = app.channels.by_type.iter();
        by_type
            .map(|(kind, count)| (kind.label(), *count as u64))
            .collect()
    });
    gauges(
        encoder,
        "channels",
        "Channels with at least one subscriber, by type.",
        channels,
    )?;
    gauges(
        encoder,
        "presence_members",
        "Users in presence channels, each counted once per channel.",
        each(|app| app.channels.presence_members as u64),
    )?;
    counters(
        encoder,
        "messages_received",
        "Messages received from clients.",
        each(|app| app.traffic.messages_in),
    )?;
    counters(
        encoder,
        "messages_sent",
        "Messages sent to clients, one per receiving socket.",
        each(|app| app.traffic.messages_out),
    )?;
    counters(
        encoder,
        "bytes_received",
        "Bytes of the messages received from clients, without WebSocket framing.",
        each(|app| app.traffic.bytes_in),
    )?;
    counters(
        encoder,
        "bytes_sent",
        "Bytes of the messages sent to clients, without WebSocket framing.",
        each(|app| app.traffic.bytes_out),
    )?;
    counters(
        encoder,
        "webhook_events_sent",
        "Webhook events delivered (answered with a 2xx).",
        each(|app| app.stats.webhooks.sent),
    )?;
    counters(
        encoder,
        "webhook_requests_failed",
        "Webhook requests that failed (not a 2xx, an error, a timeout).",
        each(|app| app.stats.webhooks.failed),
    )?;
    counters(
        encoder,
        "webhook_requests_retried",
        "Webhook requests sent again after a failure.",
        each(|app| app.stats.webhooks.retried),
    )?;
    counters(
        encoder,
        "webhook_events_dropped",
        "Webhook events given up: retries ran out, the queue was full, or the server stopped.",
        each(|app| app.stats.webhooks.dropped),
    )
}

impl ServerFigures {
    /// The samples of the whole server.
    fn encode_server(&self, encoder: &mut DescriptorEncoder<'_>) -> fmt::Result {
        let budget = &self.state.queues.budget;
        counter(
            encoder,
            "slow_consumers_closed",
            "Sockets closed (4100) for falling too far behind what they were sent.",
            budget.slow_closed(),
        )?;
        gauge(
            encoder,
            "send_queue_bytes",
            "Bytes waiting in every socket's send queue.",
            budget.queued() as u64,
        )?;
        counter(
            encoder,
            "unknown_app_connections",
            "WebSocket connections that named a key no served app has (closed with 4001).",
            self.state.unknown_app_connections.load(Ordering::Relaxed),
        )?;
        counter(
            encoder,
            "events_dropped",
            "Engine events dropped because the host did not drain its queue in time.",
            self.state.events.dropped(),
        )
    }

    /// This node's link to the cluster, when scaling is on.
    fn encode_cluster(&self, encoder: &mut DescriptorEncoder<'_>) -> fmt::Result {
        let Some(status) = self.state.peers.status() else {
            return Ok(());
        };
        gauge(
            encoder,
            "redis_connected",
            "Whether this node reaches Redis (1) or not (0).",
            u64::from(status.redis == "connected"),
        )?;
        gauge(
            encoder,
            "scaling_nodes",
            "Nodes of the cluster alive at the last heartbeat, this one included.",
            status.nodes as u64,
        )?;
        counter(
            encoder,
            "scaling_messages_sent",
            "Messages this node published to the other nodes.",
            status.sent_messages,
        )?;
        counter(
            encoder,
            "scaling_messages_received",
            "Messages this node received from the other nodes.",
            status.received_messages,
        )?;
        counter(
            encoder,
            "scaling_messages_dropped",
            "Messages for the other nodes dropped because Redis was away or too slow.",
            status.dropped_messages,
        )
    }
}

/// Writes one counter metric with a sample per label set.
fn counters<L: EncodeLabelSet>(
    encoder: &mut DescriptorEncoder<'_>,
    name: &str,
    help: &str,
    samples: impl IntoIterator<Item = (L, u64)>,
) -> fmt::Result {
    let mut metric = encoder.encode_descriptor(name, help, None, MetricType::Counter)?;
    for (labels, value) in samples {
        ConstCounter::new(value).encode(metric.encode_family(&labels)?)?;
    }
    Ok(())
}

/// Writes one gauge metric with a sample per label set.
fn gauges<L: EncodeLabelSet>(
    encoder: &mut DescriptorEncoder<'_>,
    name: &str,
    help: &str,
    samples: impl IntoIterator<Item = (L, u64)>,
) -> fmt::Result {
    let mut metric = encoder.encode_descriptor(name, help, None, MetricType::Gauge)?;
    for (labels, value) in samples {
        ConstGauge::new(value).encode(metric.encode_family(&labels)?)?;
    }
    Ok(())
}

/// Writes one counter metric without labels.
fn counter(encoder: &mut DescriptorEncoder<'_>, name: &str, help: &str, value: u64) -> fmt::Result {
    let metric = encoder.encode_descriptor(name, help, None, MetricType::Counter)?;
    ConstCounter::new(value).encode(metric)
}

/// Writes one gauge metric without labels.
fn gauge(encoder: &mut DescriptorEncoder<'_>, name: &str, help: &str, value: u64) -> fmt::Result {
    let metric = encoder.encode_descriptor(name, help, None, MetricType::Gauge)?;
    ConstGauge::new(value).encode(metric)
}
