//! The `idle` scenario: how much server memory one subscribed, idle socket costs.

use crate::proc_stats::rss_bytes;
use crate::pusher;
use crate::target::ServerArgs;
use clap::Args;
use futures_util::stream::{self, StreamExt};
use std::time::{Duration, Instant};

/// Options of the `idle` scenario.
#[derive(Args)]
pub struct IdleArgs {
    #[command(flatten)]
    server: ServerArgs,
    /// How many sockets to open.
    #[arg(long, default_value_t = 10_000)]
    connections: usize,
    /// How many handshakes run at once.
    #[arg(long, default_value_t = 200)]
    concurrency: usize,
    /// Local addresses to connect from, round-robin (e.g. 127.0.0.2,127.0.0.3).
    #[arg(long, value_delimiter = ',', default_value = "127.0.0.1")]
    sources: Vec<String>,
    /// Seconds to let the server settle before the last RSS reading.
    #[arg(long, default_value_t = 2)]
    settle: u64,
}

/// Runs the scenario and prints one line of results.
pub async fn run(args: IdleArgs) -> Result<(), String> {
    let target = args.server.target();
    let before = rss_bytes(args.server.pid)?;
    let started = Instant::now();
    let results: Vec<Result<pusher::Socket, String>> = stream::iter(0..args.connections)
        .map(|i| {
            let target = target.clone();
            let source = args.sources[i % args.sources.len()].clone();
            async move {
                let mut ws = pusher::connect(&target, &source).await?;
                pusher::subscribe(&mut ws, &format!("idle-{}", i % 100)).await?;
                Ok(ws)
            }
        })
        .buffer_unordered(args.concurrency)
        .collect()
        .await;
    let elapsed = started.elapsed();
    let (sockets, errors): (Vec<_>, Vec<_>) = results.into_iter().partition(Result::is_ok);
    if let Some(Err(first)) = errors.first() {
        eprintln!("{} sockets failed; first error: {first}", errors.len());
    }
    tokio::time::sleep(Duration::from_secs(args.settle)).await;
    let after = rss_bytes(args.server.pid)?;
    let held = sockets.len();
    let per_socket = after.saturating_sub(before) as f64 / held.max(1) as f64;
    println!(
        "{{\"scenario\":\"idle\",\"sockets\":{held},\"failed\":{},\"rss_before\":{before},\"rss_after\":{after},\"bytes_per_socket\":{per_socket:.0},\"connect_per_second\":{:.0}}}",
        errors.len(),
        held as f64 / elapsed.as_secs_f64()
    );
    drop(sockets);
    Ok(())
}
