//! reverb-bench: measures Pusher-protocol servers from the outside, over real WebSockets.
//!
//! Scenarios:
//! - `idle`: opens sockets in steps, subscribes each to a channel, and reports the server's
//!   RSS after each step and per socket (read from `/proc/{pid}/status`).
//! - `fanout`: N subscribers on one channel, signed HTTP publishes at one or more rates:
//!   delivery ratio, latency percentiles, deliveries per second, server CPU per delivery.
//! - `publish`: HTTP API requests per second and per server CPU-second.
//! - `churn`: connect/subscribe/disconnect cycles and the server's RSS drift.
//! - `floor`: the kernel's own cost, with no server: a loopback round trip across cores and
//!   one small write to each of many sockets.
//! - `flood`: hostile clients whisper large client events to subscribers that never read:
//!   the server's RSS at its peak and after a rest.
//! - `webhook-sink`: not a scenario but its receiver: answers webhooks with 200 at once and
//!   counts them.
//!
//! `idle`, `fanout` and `churn` spread their sockets over worker processes (copies of this
//! binary run with a hidden `*-worker` subcommand), each connecting from its own address.
//! Every process runs on one thread: the generator is meant to be pinned to one core.

mod churn;
mod fanout;
mod flood;
mod floor;
mod idle;
mod latency;
mod proc_stats;
mod publish;
mod publisher;
mod pusher;
mod sink;
mod target;
mod workers;

use clap::{Parser, Subcommand};

/// Command-line interface.
#[derive(Parser)]
#[command(version, about = "Load generator for Pusher-protocol servers")]
struct Cli {
    #[command(subcommand)]
    scenario: Scenario,
}

/// The measurements the generator can run, and the worker processes they start.
#[derive(Subcommand)]
enum Scenario {
    /// N subscribed idle sockets: server RSS per socket.
    Idle(idle::IdleArgs),
    /// N subscribers, publishes at a rate: delivery, latency, server CPU per delivery.
    Fanout(fanout::FanoutArgs),
    /// HTTP API throughput and server CPU.
    Publish(publish::PublishArgs),
    /// Connect/subscribe/disconnect cycles: server RSS drift.
    Churn(churn::ChurnArgs),
    /// The kernel's cost with no server: a round trip across cores, a write per socket.
    Floor(floor::FloorArgs),
    /// Large client events to subscribers that never read: peak and resting server RSS.
    Flood(flood::FloodArgs),
    /// A webhook endpoint that answers 200 at once and counts what it receives.
    WebhookSink(sink::SinkArgs),
    /// The peer process of `floor`, on its own core.
    #[command(hide = true)]
    FloorPeer(floor::FloorPeerArgs),
    /// A process holding idle sockets for `idle`.
    #[command(hide = true)]
    IdleWorker(idle::IdleWorkerArgs),
    /// A process holding subscribers for `fanout`.
    #[command(hide = true)]
    FanoutWorker(fanout::FanoutWorkerArgs),
    /// A process running cycles for `churn`.
    #[command(hide = true)]
    ChurnWorker(churn::ChurnWorkerArgs),
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let cli = Cli::parse();
    let outcome = match cli.scenario {
        Scenario::Idle(args) => idle::run(args).await,
        Scenario::Fanout(args) => fanout::run(args).await,
        Scenario::Publish(args) => publish::run(args).await,
        Scenario::Churn(args) => churn::run(args).await,
        Scenario::Floor(args) => floor::run(args).await,
        Scenario::Flood(args) => flood::run(args).await,
        Scenario::WebhookSink(args) => sink::run(args).await,
        Scenario::FloorPeer(args) => floor::work(args).await,
        Scenario::IdleWorker(args) => idle::work(args).await,
        Scenario::FanoutWorker(args) => fanout::work(args).await,
        Scenario::ChurnWorker(args) => churn::work(args).await,
    };
    if let Err(error) = outcome {
        eprintln!("reverb-bench: {error}");
        std::process::exit(1);
    }
}
