//! The `fanout` scenario: N subscribers on one channel, events published through the HTTP
//! API at a fixed rate, each carrying its send time. Reports the delivery ratio, latency
//! percentiles, deliveries per second and the server's CPU time per delivery.

use crate::proc_stats::cpu_seconds;
use crate::publisher::Publisher;
use crate::pusher;
use crate::target::{ApiArgs, ServerArgs};
use clap::Args;
use futures_util::stream::{self, StreamExt};
use serde_json::Value;
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

/// Options of the `fanout` scenario.
#[derive(Args)]
pub struct FanoutArgs {
    #[command(flatten)]
    server: ServerArgs,
    #[command(flatten)]
    api: ApiArgs,
    /// Subscribers on the channel.
    #[arg(long, default_value_t = 1_000)]
    subscribers: usize,
    /// Publishes per second.
    #[arg(long, default_value_t = 100)]
    rate: u32,
    /// Seconds of publishing.
    #[arg(long, default_value_t = 10)]
    duration: u64,
    /// Bytes of padding in each event's data.
    #[arg(long, default_value_t = 100)]
    payload: usize,
    /// Local addresses to connect from, round-robin.
    #[arg(long, value_delimiter = ',', default_value = "127.0.0.1")]
    sources: Vec<String>,
}

const CHANNEL: &str = "fanout";

/// Runs the scenario and prints one line of results.
pub async fn run(args: FanoutArgs) -> Result<(), String> {
    let target = args.server.target();
    let sockets: Vec<pusher::Socket> = stream::iter(0..args.subscribers)
        .map(|i| {
            let target = target.clone();
            let source = args.sources[i % args.sources.len()].clone();
            async move {
                let mut ws = pusher::connect(&target, &source).await?;
                pusher::subscribe(&mut ws, CHANNEL).await?;
                Ok::<_, String>(ws)
            }
        })
        .buffer_unordered(200)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<_, _>>()?;

    let start = Instant::now();
    let readers: Vec<_> = sockets
        .into_iter()
        .map(|ws| tokio::spawn(receive(ws, start)))
        .collect();

    let credentials = args.api.credentials(&args.server);
    let mut publisher =
        Publisher::connect(&args.server.host, args.server.port, credentials).await?;
    let padding = "x".repeat(args.payload);
    let cpu_before = cpu_seconds(args.server.pid)?;
    let publishing = Instant::now();
    let total = args.rate as u64 * args.duration;
    let mut ticks = tokio::time::interval(Duration::from_secs_f64(1.0 / args.rate as f64));
    let mut failed = 0u64;
    for seq in 0..total {
        ticks.tick().await;
        let sent_at = start.elapsed().as_micros() as u64;
        let data = serde_json::json!({"seq": seq, "t": sent_at, "pad": padding}).to_string();
        if publisher.publish(CHANNEL, "bench", &data).await? != 200 {
            failed += 1;
        }
    }
    let publish_seconds = publishing.elapsed().as_secs_f64();
    // Let the last events arrive before counting, then tell the readers to stop.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let cpu_after = cpu_seconds(args.server.pid)?;
    publisher.publish(CHANNEL, "bench-end", "{}").await?;

    let mut latencies: Vec<u64> = Vec::new();
    for reader in readers {
        if let Ok(Ok(received)) = tokio::time::timeout(Duration::from_secs(10), reader).await {
            latencies.extend(received);
        }
    }
    latencies.sort_unstable();
    let expected = total * args.subscribers as u64;
    let delivered = latencies.len() as u64;
    let percentile = |p: f64| {
        latencies
            .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
            .map_or(0.0, |micros| *micros as f64 / 1000.0)
    };
    let cpu = cpu_after - cpu_before;
    println!(
        "{}",
        serde_json::json!({
            "scenario": "fanout",
            "subscribers": args.subscribers,
            "rate": args.rate,
            "publishes": total,
            "failed_publishes": failed,
            "achieved_rate": (total as f64 / publish_seconds).round(),
            "expected_deliveries": expected,
            "delivered": delivered,
            "delivery_ratio": delivered as f64 / expected.max(1) as f64,
            "deliveries_per_second": (delivered as f64 / publish_seconds).round(),
            "latency_ms": {"p50": percentile(0.50), "p95": percentile(0.95), "p99": percentile(0.99), "max": percentile(1.0)},
            "server_cpu_seconds": cpu,
            "server_cpu_us_per_delivery": cpu * 1e6 / delivered.max(1) as f64,
        })
    );
    Ok(())
}

/// Reads events until `bench-end`; returns each event's latency in microseconds.
async fn receive(mut ws: pusher::Socket, start: Instant) -> Vec<u64> {
    let mut latencies = Vec::new();
    while let Some(Ok(message)) = ws.next().await {
        let Message::Text(text) = message else {
            continue;
        };
        let Ok(frame) = serde_json::from_str::<Value>(&text) else {
            continue;
        };
        match frame["event"].as_str() {
            Some("bench") => {
                let data: Value = frame["data"]
                    .as_str()
                    .and_then(|d| serde_json::from_str(d).ok())
                    .unwrap_or_default();
                if let Some(sent) = data["t"].as_u64() {
                    latencies.push((start.elapsed().as_micros() as u64).saturating_sub(sent));
                }
            }
            Some("bench-end") => break,
            _ => {}
        }
    }
    latencies
}
