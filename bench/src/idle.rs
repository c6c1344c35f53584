//! The `idle` scenario: how much server memory one subscribed, idle socket costs. Sockets are
//! opened in steps (e.g. 1,000, 5,000, 10,000, 19,000) by several generator processes, and the
//! server's RSS is read after each step, which gives the RSS-versus-sockets curve.

use crate::proc_stats::rss_bytes;
use crate::pusher;
use crate::target::{ServerArgs, SpreadArgs, TargetArgs};
use crate::workers::{self, Worker};
use clap::Args;
use futures_util::stream::{self, StreamExt};
use std::time::{Duration, Instant};

/// Options of the `idle` scenario.
#[derive(Args)]
pub struct IdleArgs {
    #[command(flatten)]
    server: ServerArgs,
    #[command(flatten)]
    spread: SpreadArgs,
    /// Sockets held after each step; the last one is the headline figure.
    #[arg(long, value_delimiter = ',', default_value = "10000")]
    steps: Vec<usize>,
    /// How many handshakes run at once in each process.
    #[arg(long, default_value_t = 100)]
    concurrency: usize,
    /// Seconds to let the server settle before each RSS reading.
    #[arg(long, default_value_t = 2)]
    settle: u64,
}

/// Options of one process holding idle sockets.
#[derive(Args)]
pub struct IdleWorkerArgs {
    #[command(flatten)]
    target: TargetArgs,
    /// The local address to connect from.
    #[arg(long)]
    source: String,
    /// How many handshakes run at once.
    #[arg(long)]
    concurrency: usize,
}

/// Runs the scenario and prints one line of results.
pub async fn run(args: IdleArgs) -> Result<(), String> {
    let pid = args.server.pid;
    let processes = args.spread.processes.max(1);
    let mut pool = Vec::with_capacity(processes);
    for index in 0..processes {
        let mut command = workers::command_line(
            "idle-worker",
            &args.server.target,
            &args.spread.sources,
            index,
        );
        command.extend(["--concurrency".into(), args.concurrency.to_string()]);
        pool.push(Worker::spawn(&command)?);
    }
    let before = rss_bytes(pid)?;
    let mut curve = Vec::new();
    let mut connecting = Duration::ZERO;
    let (mut held, mut failed) = (0, 0);
    for &step in &args.steps {
        let started = Instant::now();
        for (index, worker) in pool.iter_mut().enumerate() {
            worker
                .send(&format!("hold {}", workers::share(step, processes, index)))
                .await?;
        }
        (held, failed) = (0, 0);
        for worker in &mut pool {
            let line = worker.receive().await?;
            let mut numbers = line
                .split_whitespace()
                .filter_map(|w| w.parse::<usize>().ok());
            held += numbers.next().unwrap_or(0);
            failed += numbers.next().unwrap_or(0);
        }
        connecting += started.elapsed();
        tokio::time::sleep(Duration::from_secs(args.settle)).await;
        curve.push(serde_json::json!({"sockets": held, "rss": rss_bytes(pid)?}));
    }
    let after = rss_bytes(pid)?;
    for worker in pool {
        worker.finish().await;
    }
    println!(
        "{}",
        serde_json::json!({
            "scenario": "idle",
            "processes": processes,
            "sockets": held,
            "failed": failed,
            "rss_before": before,
            "rss_after": after,
            "bytes_per_socket": (after.saturating_sub(before) as f64 / held.max(1) as f64).round(),
            "connect_per_second": (held as f64 / connecting.as_secs_f64()).round(),
            "curve": curve,
        })
    );
    Ok(())
}

/// Holds sockets: each `hold N` line from the parent opens sockets until N are held and
/// answers `held N failed F` (handshakes or subscriptions that failed in this step).
pub async fn work(args: IdleWorkerArgs) -> Result<(), String> {
    let target = args.target.target();
    let mut sockets: Vec<pusher::Socket> = Vec::new();
    let mut commands = workers::commands();
    while let Ok(Some(line)) = commands.next_line().await {
        let Some(wanted) = line
            .strip_prefix("hold ")
            .and_then(|n| n.trim().parse::<usize>().ok())
        else {
            return Err(format!("unexpected command {line:?}"));
        };
        let first = sockets.len();
        let opened: Vec<Result<pusher::Socket, String>> = stream::iter(first..wanted.max(first))
            .map(|i| {
                let (target, source) = (target.clone(), args.source.clone());
                async move {
                    let mut ws = pusher::connect(&target, &source).await?;
                    pusher::subscribe(&mut ws, &format!("idle-{}", i % 100)).await?;
                    Ok(ws)
                }
            })
            .buffer_unordered(args.concurrency)
            .collect()
            .await;
        let mut failed = 0;
        for result in opened {
            match result {
                Ok(ws) => sockets.push(ws),
                Err(error) => {
                    if failed == 0 {
                        eprintln!("idle-worker: {error}");
                    }
                    failed += 1;
                }
            }
        }
        workers::reply(&format!("held {} failed {failed}", sockets.len()));
    }
    Ok(())
}
