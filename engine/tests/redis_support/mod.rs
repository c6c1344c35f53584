//! A throwaway `redis-server` per test, for the tests of servers that scale over Redis.

#![allow(dead_code)]

use reverb_engine::Server;
use serde_json::{json, Value};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// How long Redis may take to start.
const TIMEOUT: Duration = Duration::from_secs(5);

/// A throwaway `redis-server` on a free loopback port, killed when dropped.
pub struct Redis {
    /// The port it listens on.
    pub port: u16,
    child: Child,
}

/// Ports for test Redis servers come from below the kernel's ephemeral range, so a server
/// or client socket another test opens on port 0 never takes a port a stopped Redis
/// is about to come back on.
const REDIS_PORTS: std::ops::Range<u16> = 20_000..32_000;

impl Redis {
    /// Starts a Redis on a free port of [`REDIS_PORTS`].
    pub fn start() -> Redis {
        for _ in 0..20 {
            let port = rand::random_range(REDIS_PORTS);
            if std::net::TcpListener::bind(("127.0.0.1", port)).is_err() {
                continue;
            }
            if let Some(redis) = Redis::try_start_on(port) {
                return redis;
            }
        }
        panic!("no free port for redis-server in {REDIS_PORTS:?}");
    }

    /// Starts Redis again on a port it was stopped on.
    pub fn start_on(port: u16) -> Redis {
        Redis::try_start_on(port)
            .unwrap_or_else(|| panic!("port {port} was taken while its Redis was stopped"))
    }

    /// A Redis on `port`, or `None` when another process listens there: the server that
    /// answers must be the one this call started.
    fn try_start_on(port: u16) -> Option<Redis> {
        let mut child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server is installed (apt-get install redis-server)");
        let deadline = std::time::Instant::now() + TIMEOUT;
        loop {
            if let Some(pid) = answering_pid(port) {
                if pid == child.id() {
                    return Some(Redis { port, child });
                }
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
            if child.try_wait().ok().flatten().is_some() {
                return None;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "redis-server did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The `scaling` block of a node that shares this Redis: a short node timeout, so a
    /// dead node is noticed within a test's waits.
    pub fn scaling(&self) -> Value {
        json!({
            "enabled": true,
            "prefix": "test_",
            "node_timeout": 3,
            "server": {"host": "127.0.0.1", "port": self.port, "timeout": 2},
        })
    }

    /// Kills the server and waits for it to exit.
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The process id of the Redis answering on `port`, if one does.
fn answering_pid(port: u16) -> Option<u32> {
    let mut connection = redis::Client::open(format!("redis://127.0.0.1:{port}"))
        .ok()?
        .get_connection()
        .ok()?;
    let info: String = redis::cmd("INFO")
        .arg("server")
        .query(&mut connection)
        .ok()?;
    info.lines()
        .find_map(|line| line.strip_prefix("process_id:"))
        .and_then(|pid| pid.trim().parse().ok())
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Waits until every node has reached Redis (so none misses what is published next).
pub async fn connected(nodes: &[&Server]) {
    let all_connected = || {
        nodes.iter().all(|server| {
            server.stats()["app-1"]
                .scaling
                .as_ref()
                .is_some_and(|s| s.redis == "connected")
        })
    };
    let deadline = std::time::Instant::now() + TIMEOUT;
    while !all_connected() {
        assert!(
            std::time::Instant::now() < deadline,
            "not every node reached Redis within {TIMEOUT:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
