//! reverb-bench: measures Pusher-protocol servers from the outside, over real WebSockets.
//!
//! Scenarios:
//! - `idle`: opens N sockets, subscribes each to a channel, and reports the server's RSS
//!   growth per socket (read from `/proc/{pid}/status`).
//! - `fanout`: N subscribers on one channel, signed HTTP publishes at a rate: delivery ratio,
//!   latency percentiles, deliveries per second, server CPU per delivery.

mod fanout;
mod idle;
mod proc_stats;
mod publisher;
mod pusher;

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
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    let outcome = match cli.scenario {
        Scenario::Idle(args) => idle::run(args).await,
        Scenario::Fanout(args) => fanout::run(args).await,
    };
    if let Err(error) = outcome {
        eprintln!("reverb-bench: {error}");
        std::process::exit(1);
    }
}
