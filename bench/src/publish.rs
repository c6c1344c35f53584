//! The `publish` scenario: HTTP API throughput over kept-alive connections (a server that
//! closes every connection gets a new one per request), with the server's CPU time.

use crate::proc_stats::cpu_seconds;
use crate::publisher::Publisher;
use crate::target::{ApiArgs, ServerArgs};
use clap::Args;
use std::time::{Duration, Instant};

/// Options of the `publish` scenario.
#[derive(Args)]
pub struct PublishArgs {
    #[command(flatten)]
    server: ServerArgs,
    #[command(flatten)]
    api: ApiArgs,
    /// Concurrent connections, each publishing one request after the other.
    #[arg(long, default_value_t = 8)]
    connections: usize,
    /// Seconds of publishing.
    #[arg(long, default_value_t = 10)]
    duration: u64,
}

/// Runs the scenario and prints one line of results.
pub async fn run(args: PublishArgs) -> Result<(), String> {
    let credentials = args.api.credentials(&args.server);
    let deadline = Instant::now() + Duration::from_secs(args.duration);
    let cpu_before = cpu_seconds(args.server.pid)?;
    let started = Instant::now();
    let workers: Vec<_> = (0..args.connections)
        .map(|_| {
            let (host, port, credentials) = (
                args.server.target.host.clone(),
                args.server.target.port,
                credentials.clone(),
            );
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut publisher = Publisher::connect(&host, port, credentials).await?;
                while Instant::now() < deadline {
                    let sent = Instant::now();
                    match publisher
                        .publish("publish-bench", "bench", "{\"n\":1}")
                        .await?
                    {
                        200 => latencies.push(sent.elapsed().as_micros() as u64),
                        status => return Err(format!("the server answered {status}")),
                    }
                }
                Ok::<_, String>((latencies, publisher.reconnects))
            })
        })
        .collect();
    let mut latencies = Vec::new();
    let mut reconnects = 0;
    for worker in workers {
        let (mine, closed) = worker.await.map_err(|e| e.to_string())??;
        latencies.extend(mine);
        reconnects += closed;
    }
    let seconds = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds(args.server.pid)? - cpu_before;
    latencies.sort_unstable();
    let percentile = |p: f64| {
        latencies
            .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
            .map_or(0.0, |micros| *micros as f64 / 1000.0)
    };
    let requests = latencies.len() as f64;
    println!(
        "{}",
        serde_json::json!({
            "scenario": "publish",
            "connections": args.connections,
            "requests": latencies.len(),
            "requests_per_second": (requests / seconds).round(),
            "reconnects": reconnects,
            "latency_ms": {"p50": percentile(0.50), "p99": percentile(0.99)},
            "server_cpu_seconds": cpu,
            "requests_per_server_cpu_second": (requests / cpu.max(0.001)).round(),
        })
    );
    Ok(())
}
