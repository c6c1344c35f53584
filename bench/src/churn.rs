//! The `churn` scenario: sockets connect, subscribe and disconnect in a loop, run by several
//! generator processes; the server's RSS is sampled as the cycles add up, to show whether
//! memory drifts once the server has warmed up.

use crate::proc_stats::rss_bytes;
use crate::pusher;
use crate::target::{ServerArgs, SpreadArgs, TargetArgs};
use crate::workers::{self, Worker};
use clap::Args;
use futures_util::stream::{self, StreamExt};
use std::num::NonZeroUsize;
use std::time::{Duration, Instant};

/// Options of the `churn` scenario.
#[derive(Args)]
pub struct ChurnArgs {
    #[command(flatten)]
    server: ServerArgs,
    #[command(flatten)]
    spread: SpreadArgs,
    /// Connect/subscribe/disconnect cycles, over all processes.
    #[arg(long, default_value_t = 1_000_000)]
    cycles: usize,
    /// Cycles running at once, over all processes.
    #[arg(long, default_value_t = 100)]
    concurrency: usize,
    /// Stop after this many seconds even if cycles remain.
    #[arg(long, default_value_t = 300)]
    max_seconds: u64,
    /// The drift is measured from the RSS after this many cycles (or after the first tenth
    /// of the cycles done, when fewer were done in the time allowed).
    #[arg(long, default_value_t = 100_000)]
    baseline_cycles: usize,
    /// Read the server's RSS every this many cycles.
    #[arg(long, default_value_t = 10_000)]
    sample_every: usize,
    /// Subscribe each cycle to a channel of its own, so that every cycle occupies a new
    /// channel and vacates it (a webhook pair each), instead of reusing 1,000 channels.
    #[arg(long)]
    unique_channels: bool,
    /// Take `--key` as a prefix and spread the cycles over N apps: cycle i connects with
    /// key `{key}{i % N}`, so the first N cycles each name a key for the first time.
    #[arg(long)]
    keys: Option<NonZeroUsize>,
}

/// Options of one process running cycles.
#[derive(Args)]
pub struct ChurnWorkerArgs {
    #[command(flatten)]
    target: TargetArgs,
    /// The local address to connect from.
    #[arg(long)]
    source: String,
    /// Cycles this process runs.
    #[arg(long)]
    cycles: usize,
    /// Cycles running at once in this process.
    #[arg(long)]
    concurrency: usize,
    /// Stop after this many seconds even if cycles remain.
    #[arg(long)]
    max_seconds: u64,
    /// A channel of its own for each cycle.
    #[arg(long)]
    unique_channels: bool,
    /// `--key` is a prefix: cycle i (counted over all processes) uses key `{key}{i % N}`.
    #[arg(long)]
    keys: Option<NonZeroUsize>,
    /// The number, over all processes, of this process's first cycle.
    #[arg(long, default_value_t = 0)]
    first_cycle: usize,
}

/// Cycles a worker runs between two progress lines.
const PROGRESS_EVERY: usize = 1_000;

/// Runs the scenario and prints one line of results.
pub async fn run(args: ChurnArgs) -> Result<(), String> {
    let pid = args.server.pid;
    let processes = args.spread.processes.max(1);
    let rss_start = rss_bytes(pid)?;
    let (progress, mut updates) = tokio::sync::mpsc::unbounded_channel();
    let started = Instant::now();
    for index in 0..processes {
        let mut command = workers::command_line(
            "churn-worker",
            &args.server.target,
            &args.spread.sources,
            index,
        );
        command.extend([
            "--cycles".into(),
            workers::share(args.cycles, processes, index).to_string(),
            "--concurrency".into(),
            workers::share(args.concurrency, processes, index)
                .max(1)
                .to_string(),
            "--max-seconds".into(),
            args.max_seconds.to_string(),
        ]);
        if args.unique_channels {
            command.push("--unique-channels".into());
        }
        if let Some(keys) = args.keys {
            // The shares are consecutive runs of cycles, so each process starts where the
            // previous one's share ends and one pass over the cycles names every key in turn.
            let first = args.cycles * index / processes;
            command.extend([
                "--keys".into(),
                keys.to_string(),
                "--first-cycle".into(),
                first.to_string(),
            ]);
        }
        let mut worker = Worker::spawn(&command)?;
        let progress = progress.clone();
        // Each worker's lines are `<done> <failed>`, cumulative; the last one ends with `end`.
        tokio::spawn(async move {
            while let Ok(line) = worker.receive().await {
                let mut words = line.split_whitespace();
                let mut number = || words.next().and_then(|w| w.parse::<usize>().ok());
                let (done, failed) = (number().unwrap_or(0), number().unwrap_or(0));
                let finished = line.ends_with("end");
                if progress.send((index, done, failed, finished)).is_err() || finished {
                    break;
                }
            }
            worker.finish().await;
        });
    }
    drop(progress);

    let mut done = vec![0usize; processes];
    let mut failed = vec![0usize; processes];
    let mut samples = Vec::new();
    let mut next_sample = args.sample_every;
    while let Some((index, cycles, failures, _)) = updates.recv().await {
        done[index] = cycles;
        failed[index] = failures;
        let total: usize = done.iter().sum();
        if total >= next_sample {
            samples.push((total, rss_bytes(pid)?));
            next_sample = total + args.sample_every;
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    let total: usize = done.iter().sum();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_end = rss_bytes(pid)?;
    let from = if total > args.baseline_cycles {
        args.baseline_cycles
    } else {
        total / 10
    };
    let (baseline_cycles, baseline) = samples
        .iter()
        .copied()
        .find(|(cycles, _)| *cycles >= from)
        .unwrap_or((0, rss_start));
    let samples: Vec<_> = samples
        .iter()
        .map(|(c, r)| serde_json::json!([c, r]))
        .collect();
    println!(
        "{}",
        serde_json::json!({
            "scenario": "churn",
            "processes": processes,
            "cycles": total,
            "failed": failed.iter().sum::<usize>(),
            "seconds": seconds,
            "cycles_per_second": (total as f64 / seconds).round(),
            "unique_channels": args.unique_channels,
            "keys": args.keys,
            "rss_start": rss_start,
            "baseline_cycles": baseline_cycles,
            "rss_baseline": baseline,
            "rss_end": rss_end,
            "drift_percent": (rss_end as f64 - baseline as f64) * 100.0 / baseline as f64,
            "rss_samples": samples,
        })
    );
    Ok(())
}

/// Runs this process's cycles, printing `<done> <failed>` every 1,000 cycles and
/// `<done> <failed> end` at the end.
pub async fn work(args: ChurnWorkerArgs) -> Result<(), String> {
    let target = args.target.target();
    let deadline = Instant::now() + Duration::from_secs(args.max_seconds);
    let mut cycles = stream::iter(0..args.cycles)
        .map(|i| {
            let (mut target, source) = (target.clone(), args.source.clone());
            if let Some(keys) = args.keys {
                target.key = format!("{}{}", target.key, (args.first_cycle + i) % keys.get());
            }
            let channel = match args.unique_channels {
                true => format!("churn-{source}-{i}"),
                false => format!("churn-{}", i % 1000),
            };
            async move {
                let mut ws = pusher::connect(&target, &source).await?;
                pusher::subscribe(&mut ws, &channel).await?;
                ws.close(None).await.map_err(|e| e.to_string())?;
                // Wait for the server's close frame, so that the server closes the TCP
                // connection first, as the WebSocket protocol has it.
                let closed = async { while let Some(Ok(_)) = ws.next().await {} };
                let _ = tokio::time::timeout(Duration::from_secs(5), closed).await;
                Ok::<_, String>(())
            }
        })
        .buffer_unordered(args.concurrency);
    let (mut done, mut failed) = (0, 0);
    while let Some(result) = cycles.next().await {
        done += 1;
        if let Err(error) = result {
            if failed == 0 {
                eprintln!("churn-worker: {error}");
            }
            failed += 1;
        }
        if done % PROGRESS_EVERY == 0 {
            workers::reply(&format!("{done} {failed}"));
        }
        if Instant::now() > deadline {
            break;
        }
    }
    workers::reply(&format!("{done} {failed} end"));
    Ok(())
}
