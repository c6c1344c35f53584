//! `floor`: what this machine's kernel costs with no server in the way, to read the servers'
//! figures against. Both measurements run between this process and a peer process pinned to
//! another core, as the generator and a server are:
//! - a TCP ping-pong over loopback: wall time and this process's CPU per round trip, the
//!   least a kept-alive request and its answer can cost across cores;
//! - the peer writing one small frame to each of N idle sockets, rounds at a rate: its CPU
//!   per write, the least one delivery costs a server that writes each frame with one
//!   `send(2)`.

use crate::proc_stats::cpu_seconds;
use crate::workers::{reply, Worker};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};
use tokio::io::AsyncReadExt;

/// Bytes each way in one ping-pong round trip.
const PING_BYTES: usize = 16;

/// Options of the `floor` scenario.
#[derive(clap::Args)]
pub struct FloorArgs {
    /// Round trips of the ping-pong.
    #[arg(long, default_value_t = 20_000)]
    round_trips: u32,
    /// The core the peer runs on.
    #[arg(long, default_value_t = 1)]
    peer_cpu: usize,
    #[command(flatten)]
    writes: WriteArgs,
}

/// How the peer writes: to how many sockets, how often, how long, how much.
#[derive(clap::Args, Clone)]
pub struct WriteArgs {
    /// Idle sockets the peer writes to.
    #[arg(long, default_value_t = 1_000)]
    sockets: usize,
    /// Rounds per second; one round writes one frame to every socket.
    #[arg(long, default_value_t = 100)]
    rate: u64,
    /// Seconds of writing.
    #[arg(long, default_value_t = 8)]
    duration: u64,
    /// Bytes per frame.
    #[arg(long, default_value_t = 120)]
    frame_bytes: usize,
}

impl WriteArgs {
    fn to_args(&self) -> Vec<String> {
        [
            ("--sockets", self.sockets.to_string()),
            ("--rate", self.rate.to_string()),
            ("--duration", self.duration.to_string()),
            ("--frame-bytes", self.frame_bytes.to_string()),
        ]
        .into_iter()
        .flat_map(|(name, value)| [name.to_string(), value])
        .collect()
    }
}

/// Options of the peer process.
#[derive(clap::Args)]
pub struct FloorPeerArgs {
    /// The core to run on.
    #[arg(long)]
    cpu: usize,
    #[command(flatten)]
    writes: WriteArgs,
}

/// Runs both measurements and prints one JSON line.
pub async fn run(args: FloorArgs) -> Result<(), String> {
    let mut command = vec![
        "floor-peer".to_string(),
        "--cpu".into(),
        args.peer_cpu.to_string(),
    ];
    command.extend(args.writes.to_args());
    let mut peer = Worker::spawn(&command)?;
    let port: u16 = peer
        .receive()
        .await?
        .parse()
        .map_err(|_| "the peer sent no port")?;

    let round_trips = args.round_trips;
    let (wall, cpu) = tokio::task::spawn_blocking(move || ping_pong(port, round_trips))
        .await
        .map_err(|e| e.to_string())??;

    let mut readers = Vec::new();
    for _ in 0..args.writes.sockets {
        let mut socket = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .map_err(|e| format!("cannot connect to the peer: {e}"))?;
        readers.push(tokio::spawn(async move {
            let mut buffer = vec![0; 4096];
            while matches!(socket.read(&mut buffer).await, Ok(n) if n > 0) {}
        }));
    }
    let write_cpu_us: f64 = peer
        .receive()
        .await?
        .parse()
        .map_err(|_| "the peer sent no CPU time")?;
    readers.iter().for_each(|reader| reader.abort());
    peer.finish().await;

    let per_trip = |seconds: f64| seconds * 1e6 / f64::from(round_trips);
    println!(
        "{}",
        serde_json::json!({
            "scenario": "floor",
            "round_trips": round_trips,
            "round_trip_us": per_trip(wall),
            "round_trip_cpu_us": per_trip(cpu),
            "sockets": args.writes.sockets,
            "rate": args.writes.rate,
            "write_cpu_us": write_cpu_us,
        })
    );
    Ok(())
}

/// `round_trips` ping-pongs with the peer: the wall and CPU seconds they took.
fn ping_pong(port: u16, round_trips: u32) -> Result<(f64, f64), String> {
    let mut socket = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    socket.set_nodelay(true).map_err(|e| e.to_string())?;
    let mut buffer = [0; PING_BYTES];
    let (started, cpu_before) = (Instant::now(), cpu_seconds(std::process::id())?);
    for _ in 0..round_trips {
        socket.write_all(&buffer).map_err(|e| e.to_string())?;
        socket.read_exact(&mut buffer).map_err(|e| e.to_string())?;
    }
    let cpu = cpu_seconds(std::process::id())? - cpu_before;
    Ok((started.elapsed().as_secs_f64(), cpu))
}

/// The peer: echoes one ping-pong connection, then writes rounds of frames to the sockets
/// that connect next, and replies with its CPU microseconds per write.
pub async fn work(args: FloorPeerArgs) -> Result<(), String> {
    pin_to_cpu(args.cpu)?;
    tokio::task::spawn_blocking(move || serve(args.writes))
        .await
        .map_err(|e| e.to_string())?
}

fn serve(args: WriteArgs) -> Result<(), String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    reply(
        &listener
            .local_addr()
            .map_err(|e| e.to_string())?
            .port()
            .to_string(),
    );

    let (mut echo, _) = listener.accept().map_err(|e| e.to_string())?;
    echo.set_nodelay(true).map_err(|e| e.to_string())?;
    let mut buffer = [0; PING_BYTES];
    while echo.read_exact(&mut buffer).is_ok() {
        echo.write_all(&buffer).map_err(|e| e.to_string())?;
    }

    let mut sockets = Vec::with_capacity(args.sockets);
    for _ in 0..args.sockets {
        let (socket, _) = listener.accept().map_err(|e| e.to_string())?;
        socket.set_nodelay(true).map_err(|e| e.to_string())?;
        sockets.push(socket);
    }
    let frame = vec![b'x'; args.frame_bytes];
    let rounds = args.rate * args.duration;
    let (started, cpu_before) = (Instant::now(), cpu_seconds(std::process::id())?);
    for round in 0..rounds {
        let due = started + Duration::from_micros(round * 1_000_000 / args.rate);
        std::thread::sleep(due.saturating_duration_since(Instant::now()));
        for socket in &mut sockets {
            socket.write_all(&frame).map_err(|e| e.to_string())?;
        }
    }
    let cpu = cpu_seconds(std::process::id())? - cpu_before;
    let writes = rounds as f64 * args.sockets as f64;
    reply(&(cpu * 1e6 / writes).to_string());
    Ok(())
}

/// Keeps this process on one core.
fn pin_to_cpu(cpu: usize) -> Result<(), String> {
    // SAFETY: the set is zeroed before use and only passed by pointer with its own size.
    let pinned = unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set)
    };
    if pinned == 0 {
        Ok(())
    } else {
        Err(format!("cannot pin the peer to core {cpu}"))
    }
}
