//! The `churn` scenario: sockets connect, subscribe and disconnect in a loop; the server's
//! RSS is sampled as it goes, to show whether memory drifts.

use crate::proc_stats::rss_bytes;
use crate::pusher;
use crate::target::ServerArgs;
use clap::Args;
use futures_util::stream::{self, StreamExt};
use std::time::{Duration, Instant};

/// Options of the `churn` scenario.
#[derive(Args)]
pub struct ChurnArgs {
    #[command(flatten)]
    server: ServerArgs,
    /// Connect/subscribe/disconnect cycles.
    #[arg(long, default_value_t = 100_000)]
    cycles: usize,
    /// Cycles running at once.
    #[arg(long, default_value_t = 100)]
    concurrency: usize,
    /// Stop after this many seconds even if cycles remain.
    #[arg(long, default_value_t = 300)]
    max_seconds: u64,
    /// Local addresses to connect from, round-robin.
    #[arg(long, value_delimiter = ',', default_value = "127.0.0.1")]
    sources: Vec<String>,
}

/// Runs the scenario and prints one line of results.
pub async fn run(args: ChurnArgs) -> Result<(), String> {
    let target = args.server.target();
    let rss_start = rss_bytes(args.server.pid)?;
    let started = Instant::now();
    let deadline = started + Duration::from_secs(args.max_seconds);
    let baseline_after = (args.cycles / 10).max(1);
    let mut done = 0usize;
    let mut failed = 0usize;
    let mut rss_baseline = None;
    let mut cycles = stream::iter(0..args.cycles)
        .map(|i| {
            let target = target.clone();
            let source = args.sources[i % args.sources.len()].clone();
            async move {
                let mut ws = pusher::connect(&target, &source).await?;
                pusher::subscribe(&mut ws, &format!("churn-{}", i % 1000)).await?;
                ws.close(None).await.map_err(|e| e.to_string())
            }
        })
        .buffer_unordered(args.concurrency);
    while let Some(result) = cycles.next().await {
        done += 1;
        if result.is_err() {
            failed += 1;
        }
        if done == baseline_after {
            rss_baseline = Some(rss_bytes(args.server.pid)?);
        }
        if Instant::now() > deadline {
            break;
        }
    }
    drop(cycles);
    let seconds = started.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_end = rss_bytes(args.server.pid)?;
    let baseline = rss_baseline.unwrap_or(rss_start);
    println!(
        "{}",
        serde_json::json!({
            "scenario": "churn",
            "cycles": done,
            "failed": failed,
            "cycles_per_second": (done as f64 / seconds).round(),
            "rss_start": rss_start,
            "rss_after_first_tenth": baseline,
            "rss_end": rss_end,
            "drift_after_first_tenth_percent": (rss_end as f64 - baseline as f64) * 100.0 / baseline as f64,
        })
    );
    Ok(())
}
