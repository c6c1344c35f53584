//! reverb-bench: measures Pusher-protocol servers from the outside, over real WebSockets.
//!
//! Scenarios:
//! - `idle`: opens N sockets, subscribes each to a channel, and reports the server's RSS
//!   growth per socket (read from `/proc/{pid}/status`).
//! - `fanout`: N subscribers on one channel, signed HTTP publishes at a rate: delivery ratio,
//!   latency percentiles, deliveries per second, server CPU per delivery.
//! - `publish`: HTTP API requests per second and per server CPU-second.
//! - `churn`: connect/subscribe/disconnect cycles and the server's RSS drift.

mod churn;
mod fanout;
mod idle;
mod proc_stats;
mod publish;
mod publisher;
mod pusher;
mod target;

use clap::{Parser, Subcommand};

/// Command-line interface.
#[derive(Parser)]
#[command(version, about = "Load generator for Pusher-protocol servers")]
struct Cli {
    #[command(subcommand)]
    scenario: Scenario,
}

/// The measurements the generator can run.
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
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    let outcome = match cli.scenario {
        Scenario::Idle(args) => idle::run(args).await,
        Scenario::Fanout(args) => fanout::run(args).await,
        Scenario::Publish(args) => publish::run(args).await,
        Scenario::Churn(args) => churn::run(args).await,
    };
    if let Err(error) = outcome {
        eprintln!("reverb-bench: {error}");
        std::process::exit(1);
    }
}
