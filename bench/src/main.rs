//! reverb-bench: measures Pusher-protocol servers from the outside, over real WebSockets.
//!
//! Scenarios:
//! - `idle`: opens N sockets, subscribes each to a channel, and reports the server's RSS
//!   growth per socket (read from `/proc/{pid}/status`).

mod idle;
mod proc_stats;
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
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    let outcome = match cli.scenario {
        Scenario::Idle(args) => idle::run(args).await,
    };
    if let Err(error) = outcome {
        eprintln!("reverb-bench: {error}");
        std::process::exit(1);
    }
}
