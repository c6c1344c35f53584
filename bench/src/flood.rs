//! The `flood` scenario: hostile clients whisper large client events to channels whose only
//! subscriber never reads, which pins in the server every frame it cannot deliver. Reports
//! the server's RSS before the attack, at its peak, right after it, and after a rest, and how
//! many of the stuck subscribers the server closed.

use crate::proc_stats::rss_bytes;
use crate::pusher::{self, Socket};
use crate::target::ServerArgs;
use clap::Args;
use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

/// How much each stuck subscriber's kernel buffers for it: little, so that the frames pile up
/// in the server rather than in the kernel.
const STUCK_RECEIVE_BUFFER: u32 = 16 * 1024;

/// How often the server's RSS is read during the attack.
const SAMPLE_EVERY: Duration = Duration::from_millis(100);

/// Options of the `flood` scenario.
#[derive(Args)]
pub struct FloodArgs {
    #[command(flatten)]
    server: ServerArgs,
    /// Subscribers that never read, one per channel.
    #[arg(long, default_value_t = 100)]
    stuck: usize,
    /// Sockets sending the client events.
    #[arg(long, default_value_t = 10)]
    attackers: usize,
    /// Bytes of data in each client event.
    #[arg(long, default_value_t = 9000)]
    event_bytes: usize,
    /// Seconds the attack lasts.
    #[arg(long, default_value_t = 20)]
    seconds: u64,
    /// Seconds after the attack before the resting RSS is read.
    #[arg(long, default_value_t = 60)]
    rest: u64,
}

/// Runs the scenario and prints one line of results.
pub async fn run(args: FloodArgs) -> Result<(), String> {
    let target = args.server.target.target();
    let pid = args.server.pid;
    let mut stuck = Vec::with_capacity(args.stuck);
    for index in 0..args.stuck {
        let mut ws =
            pusher::connect_with_buffer(&target, "127.0.0.1", Some(STUCK_RECEIVE_BUFFER)).await?;
        pusher::subscribe(&mut ws, &format!("flood-{index}")).await?;
        stuck.push(ws);
    }
    let rss_before = rss_bytes(pid)?;

    let started = Instant::now();
    let deadline = started + Duration::from_secs(args.seconds);
    let data = "x".repeat(args.event_bytes);
    let events: Vec<String> = (0..args.stuck)
        .map(|index| {
            json!({"event": "client-flood", "channel": format!("flood-{index}"), "data": {"padding": data}})
                .to_string()
        })
        .collect();
    let mut attackers = Vec::with_capacity(args.attackers);
    for first in 0..args.attackers {
        let ws = pusher::connect(&target, "127.0.0.1").await?;
        attackers.push(tokio::spawn(attack(ws, events.clone(), first, deadline)));
    }
    let mut rss_peak = rss_before;
    while Instant::now() < deadline {
        rss_peak = rss_peak.max(rss_bytes(pid)?);
        tokio::time::sleep(SAMPLE_EVERY).await;
    }
    let mut events_sent = 0;
    for attacker in attackers {
        events_sent += attacker.await.unwrap_or(0);
    }
    let rss_after_attack = rss_bytes(pid)?;
    rss_peak = rss_peak.max(rss_after_attack);

    tokio::time::sleep(Duration::from_secs(args.rest)).await;
    let rss_rest = rss_bytes(pid)?;
    let mut stuck_closed = 0;
    for ws in stuck {
        if closed_by_server(ws).await {
            stuck_closed += 1;
        }
    }
    let result = json!({
        "scenario": "flood",
        "stuck": args.stuck,
        "attackers": args.attackers,
        "event_bytes": args.event_bytes,
        "seconds": args.seconds,
        "events_sent": events_sent,
        "rss_before": rss_before,
        "rss_peak": rss_peak,
        "rss_after_attack": rss_after_attack,
        "rest_seconds": args.rest,
        "rss_rest": rss_rest,
        "stuck_closed": stuck_closed,
    });
    println!("{result}");
    Ok(())
}

/// Sends the events round-robin, from the `first`, as fast as the server takes them, until
/// `deadline`; returns how many were sent. What the server sends back is read and dropped.
async fn attack(ws: Socket, events: Vec<String>, first: usize, deadline: Instant) -> u64 {
    let (mut sink, mut stream) = ws.split();
    let reader = tokio::spawn(async move { while let Some(Ok(_)) = stream.next().await {} });
    let mut sent = 0;
    let mut index = first;
    while Instant::now() < deadline {
        let event = events[index % events.len()].clone();
        if sink.send(Message::text(event)).await.is_err() {
            break;
        }
        sent += 1;
        index += 1;
    }
    let _ = sink.close().await;
    reader.abort();
    sent
}

/// Reads what a stuck subscriber was sent; whether the server closed it (a close frame or
/// the end of the stream) rather than leaving it open.
async fn closed_by_server(mut ws: Socket) -> bool {
    loop {
        match tokio::time::timeout(Duration::from_secs(2), ws.next()).await {
            Err(_) => return false,
            Ok(None | Some(Err(_)) | Some(Ok(Message::Close(_)))) => return true,
            Ok(Some(Ok(_))) => {}
        }
    }
}
