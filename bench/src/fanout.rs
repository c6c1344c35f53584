//! The `fanout` scenario: N subscribers on one channel, held by several generator processes,
//! and events published through the HTTP API at one or more fixed rates, each event carrying
//! its send time. For each rate: the delivery ratio, latency percentiles, deliveries per
//! second, the server's CPU time per delivery, and whether the rate was sustained; with
//! `--cpu-of`, the CPU time other processes (a Redis, another node) used in each step too.

use crate::latency::Histogram;
use crate::proc_stats::cpu_seconds;
use crate::publisher::Publisher;
use crate::pusher;
use crate::target::{ApiArgs, ServerArgs, SpreadArgs, TargetArgs};
use crate::workers::{self, Worker};
use clap::Args;
use futures_util::stream::{self, StreamExt};
use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

/// Options of the `fanout` scenario.
#[derive(Args)]
pub struct FanoutArgs {
    #[command(flatten)]
    server: ServerArgs,
    #[command(flatten)]
    api: ApiArgs,
    #[command(flatten)]
    spread: SpreadArgs,
    /// Subscribers on the channel.
    #[arg(long, default_value_t = 1_000)]
    subscribers: usize,
    /// Publishes per second, one step per rate, in order.
    #[arg(long, value_delimiter = ',', default_value = "100")]
    rates: Vec<u32>,
    /// Seconds of publishing at each rate.
    #[arg(long, default_value_t = 10)]
    duration: u64,
    /// Seconds to wait after each step for the last events.
    #[arg(long, default_value_t = 2)]
    drain: u64,
    /// Bytes of padding in each event's data.
    #[arg(long, default_value_t = 100)]
    payload: usize,
    /// A step is sustained when the publisher kept up (at least 95 % of the rate asked),
    /// at least this share of deliveries arrived...
    #[arg(long, default_value_t = 0.99)]
    min_delivered: f64,
    /// ...and the 99th latency percentile is at most this many milliseconds.
    #[arg(long, default_value_t = 100.0)]
    max_p99_ms: f64,
    /// Another process whose CPU time each step reports, as NAME=PID; repeatable.
    #[arg(long = "cpu-of", value_name = "NAME=PID", value_parser = named_pid)]
    cpu_of: Vec<(String, u32)>,
}

/// Reads `NAME=PID`.
fn named_pid(value: &str) -> Result<(String, u32), String> {
    let (name, pid) = value.split_once('=').ok_or("expected NAME=PID")?;
    let pid = pid.parse().map_err(|_| format!("not a pid: {pid}"))?;
    Ok((name.to_string(), pid))
}

/// The CPU seconds each of `processes` has used so far.
fn cpu_of(processes: &[(String, u32)]) -> Result<Vec<f64>, String> {
    processes.iter().map(|(_, pid)| cpu_seconds(*pid)).collect()
}

/// Options of one process holding subscribers.
#[derive(Args)]
pub struct FanoutWorkerArgs {
    #[command(flatten)]
    target: TargetArgs,
    /// The local address to connect from.
    #[arg(long)]
    source: String,
    /// Subscribers this process holds.
    #[arg(long)]
    subscribers: usize,
    /// Steps (rates) the parent runs; each ends with a `bench-end` event.
    #[arg(long)]
    steps: usize,
}

const CHANNEL: &str = "fanout";

/// Microseconds since the Unix epoch: the clock every generator process shares.
fn now_micros() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}

/// Runs the scenario and prints one line of results.
pub async fn run(args: FanoutArgs) -> Result<(), String> {
    let pid = args.server.pid;
    let processes = args.spread.processes.max(1);
    let mut pool = Vec::with_capacity(processes);
    for index in 0..processes {
        let mut command = workers::command_line(
            "fanout-worker",
            &args.server.target,
            &args.spread.sources,
            index,
        );
        command.extend([
            "--subscribers".into(),
            workers::share(args.subscribers, processes, index).to_string(),
            "--steps".into(),
            args.rates.len().to_string(),
        ]);
        pool.push(Worker::spawn(&command)?);
    }
    for worker in &mut pool {
        let line = worker.receive().await?;
        if !line.starts_with("ready") {
            return Err(format!("a worker could not subscribe: {line}"));
        }
    }

    let credentials = args.api.credentials(&args.server);
    let target = &args.server.target;
    let publish_port = args.api.publish_port.unwrap_or(target.port);
    let mut publisher = Publisher::connect(&target.host, publish_port, credentials).await?;
    let padding = "x".repeat(args.payload);
    let mut measured = Vec::new();
    for &rate in &args.rates {
        let cpu_before = cpu_seconds(pid)?;
        let others_before = cpu_of(&args.cpu_of)?;
        let started = Instant::now();
        let total = rate as u64 * args.duration;
        let mut ticks = tokio::time::interval(Duration::from_secs_f64(1.0 / rate.max(1) as f64));
        let mut failed = 0u64;
        for seq in 0..total {
            ticks.tick().await;
            // The data is not JSON: subscribers find the send time with a substring search.
            let data = format!("seq={seq} ts={} pad={padding}", now_micros());
            if publisher.publish(CHANNEL, "bench", &data).await? != 200 {
                failed += 1;
            }
        }
        let seconds = started.elapsed().as_secs_f64();
        tokio::time::sleep(Duration::from_secs(args.drain)).await;
        let cpu = cpu_seconds(pid)? - cpu_before;
        let others: serde_json::Map<_, _> = args
            .cpu_of
            .iter()
            .zip(cpu_of(&args.cpu_of)?.into_iter().zip(others_before))
            .map(|((name, _), (after, before))| (name.clone(), (after - before).into()))
            .collect();
        publisher.publish(CHANNEL, "bench-end", "end").await?;
        measured.push((rate, total, failed, seconds, cpu, others));
    }

    // Each worker answers with one histogram per step once every socket saw the last
    // `bench-end`, or when told to stop (a socket the server closed never sees it).
    let mut histograms = vec![Histogram::default(); args.rates.len()];
    for worker in &mut pool {
        let line = match tokio::time::timeout(Duration::from_secs(10), worker.receive()).await {
            Ok(line) => line?,
            Err(_) => {
                worker.send("stop").await?;
                worker.receive().await?
            }
        };
        let steps: serde_json::Value = serde_json::from_str(&line).map_err(|e| e.to_string())?;
        for (merged, step) in histograms
            .iter_mut()
            .zip(steps.as_array().into_iter().flatten())
        {
            merged.merge(&Histogram::from_json(step)?);
        }
    }
    for worker in pool {
        worker.finish().await;
    }

    let mut steps = Vec::new();
    let mut highest_sustained = None;
    for ((rate, total, failed, seconds, cpu, others), histogram) in
        measured.into_iter().zip(&histograms)
    {
        let expected = total * args.subscribers as u64;
        let delivered = histogram.count();
        let ratio = delivered as f64 / expected.max(1) as f64;
        let p99 = histogram.percentile_ms(0.99);
        let achieved = total as f64 / seconds;
        let sustained =
            achieved >= 0.95 * rate as f64 && ratio >= args.min_delivered && p99 <= args.max_p99_ms;
        if sustained {
            highest_sustained = Some(highest_sustained.unwrap_or(0).max(rate));
        }
        steps.push(serde_json::json!({
            "rate": rate,
            "publishes": total,
            "failed_publishes": failed,
            "achieved_rate": achieved.round(),
            "expected_deliveries": expected,
            "delivered": delivered,
            "delivery_ratio": ratio,
            "deliveries_per_second": (delivered as f64 / seconds).round(),
            "latency_ms": {
                "p50": histogram.percentile_ms(0.50),
                "p95": histogram.percentile_ms(0.95),
                "p99": p99,
                "max": histogram.percentile_ms(1.0),
            },
            "server_cpu_seconds": cpu,
            "server_cpu_us_per_delivery": cpu * 1e6 / delivered.max(1) as f64,
            "cpu_seconds_of": others,
            "sustained": sustained,
        }));
    }
    println!(
        "{}",
        serde_json::json!({
            "scenario": "fanout",
            "subscribers": args.subscribers,
            "processes": processes,
            "duration": args.duration,
            "steps": steps,
            "highest_sustained_rate": highest_sustained,
        })
    );
    Ok(())
}

/// Holds subscribers: answers `ready` once all are subscribed, then records each event's
/// latency per step and prints the step histograms as one JSON line.
pub async fn work(args: FanoutWorkerArgs) -> Result<(), String> {
    let target = args.target.target();
    let sockets: Vec<pusher::Socket> = stream::iter(0..args.subscribers)
        .map(|_| {
            let (target, source) = (target.clone(), args.source.clone());
            async move {
                let mut ws = pusher::connect(&target, &source).await?;
                pusher::subscribe(&mut ws, CHANNEL).await?;
                Ok::<_, String>(ws)
            }
        })
        .buffer_unordered(100)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<_, _>>()?;
    workers::reply(&format!("ready {}", sockets.len()));

    let histograms = Rc::new(RefCell::new(vec![Histogram::default(); args.steps]));
    let local = tokio::task::LocalSet::new();
    let readers: Vec<_> = sockets
        .into_iter()
        .map(|ws| local.spawn_local(receive(ws, histograms.clone(), args.steps)))
        .collect();
    let mut commands = workers::commands();
    local
        .run_until(async {
            tokio::select! {
                _ = futures_util::future::join_all(readers) => {}
                _ = commands.next_line() => {}
            }
        })
        .await;
    let steps: Vec<_> = histograms.borrow().iter().map(Histogram::to_json).collect();
    workers::reply(&serde_json::Value::Array(steps).to_string());
    Ok(())
}

/// Reads one socket's events until the last step's `bench-end`, recording latencies.
async fn receive(mut ws: pusher::Socket, histograms: Rc<RefCell<Vec<Histogram>>>, steps: usize) {
    let mut step = 0;
    while step < steps {
        let Some(Ok(message)) = ws.next().await else {
            return;
        };
        let Message::Text(text) = message else {
            continue;
        };
        if let Some(sent) = text
            .find("ts=")
            .map(|at| &text[at + 3..])
            .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
            .and_then(|digits| digits.parse::<u64>().ok())
        {
            histograms.borrow_mut()[step].record(now_micros().saturating_sub(sent));
        } else if text.contains("\"bench-end\"") {
            step += 1;
        }
    }
}
