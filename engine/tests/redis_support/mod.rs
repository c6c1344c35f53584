//! A throwaway `redis-server` per test, for the tests of servers that scale over Redis.

#![allow(dead_code)]

use reverb_engine::Server;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// How long Redis may take to start.
const TIMEOUT: Duration = Duration::from_secs(5);

/// A throwaway `redis-server` on a free loopback port, killed when dropped.
pub struct Redis {
    /// The port it listens on (its TLS port, when it speaks TLS).
    pub port: u16,
    child: Child,
    /// What `redis-server` was started with besides the port, to start it again the same way.
    options: Options,
}

/// How a test Redis is started and reached.
#[derive(Clone, Default)]
struct Options {
    /// Arguments besides the port and the bind address.
    args: Vec<String>,
    /// Listen with TLS only, with the files of [`TlsFiles`] in this directory.
    tls: Option<PathBuf>,
    /// `user:password@` for the probe that checks the server answers.
    credentials: String,
}

/// Ports for test Redis servers come from below the kernel's ephemeral range, so a server
/// or client socket another test opens on port 0 never takes a port a stopped Redis
/// is about to come back on.
const REDIS_PORTS: std::ops::Range<u16> = 20_000..32_000;

impl Redis {
    /// Starts a Redis on a free port of [`REDIS_PORTS`].
    pub fn start() -> Redis {
        Redis::start_with(Options::default())
    }

    fn start_with(options: Options) -> Redis {
        for _ in 0..20 {
            let port = rand::random_range(REDIS_PORTS);
            if std::net::TcpListener::bind(("127.0.0.1", port)).is_err() {
                continue;
            }
            if let Some(redis) = Redis::try_start_on(port, options.clone()) {
                return redis;
            }
        }
        panic!("no free port for redis-server in {REDIS_PORTS:?}");
    }

    /// Starts Redis again on a port it was stopped on.
    pub fn start_on(port: u16) -> Redis {
        Redis::try_start_on(port, Options::default())
            .unwrap_or_else(|| panic!("port {port} was taken while its Redis was stopped"))
    }

    /// Starts this Redis again, the same way and on the same port, after [`Redis::stop`].
    pub fn restart(&mut self) {
        *self = Redis::try_start_on(self.port, self.options.clone())
            .unwrap_or_else(|| panic!("port {} was taken while its Redis was stopped", self.port));
    }

    /// A Redis on `port`, or `None` when another process listens there: the server that
    /// answers must be the one this call started.
    fn try_start_on(port: u16, options: Options) -> Option<Redis> {
        let port_args = match &options.tls {
            None => vec!["--port".to_string(), port.to_string()],
            Some(dir) => tls_server_args(dir, port),
        };
        let mut child = Command::new("redis-server")
            .args(&port_args)
            .args(["--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .args(&options.args)
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server is installed (apt-get install redis-server)");
        let deadline = std::time::Instant::now() + TIMEOUT;
        loop {
            if let Some(pid) = answering_pid(port, &options) {
                if pid == child.id() {
                    return Some(Redis {
                        port,
                        child,
                        options,
                    });
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
fn answering_pid(port: u16, options: &Options) -> Option<u32> {
    let scheme = if options.tls.is_some() {
        "rediss"
    } else {
        "redis"
    };
    let url = format!(
        "{scheme}://{}127.0.0.1:{port}/#insecure",
        options.credentials
    );
    let mut connection = redis::Client::open(url).ok()?.get_connection().ok()?;
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

/// The ACL user a secured Redis lets in, and its password.
pub const ACL_USER: (&str, &str) = ("reverb", "s3cret-pass");

/// Certificates made for one test: an authority, and a server certificate it signed for
/// 127.0.0.1 and localhost, in a directory removed when dropped.
pub struct TlsFiles {
    /// Where the files are.
    pub dir: PathBuf,
}

impl TlsFiles {
    /// Makes a new authority and server certificate.
    pub fn create() -> TlsFiles {
        let dir = scratch_dir("tls");
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).unwrap();
        let server_key = rcgen::KeyPair::generate().unwrap();
        let names = vec!["127.0.0.1".to_string(), "localhost".to_string()];
        let server = rcgen::CertificateParams::new(names)
            .unwrap()
            .signed_by(&server_key, &ca)
            .unwrap();
        std::fs::write(dir.join("ca.pem"), ca.pem()).unwrap();
        std::fs::write(dir.join("server.pem"), server.pem()).unwrap();
        std::fs::write(dir.join("server.key"), server_key.serialize_pem()).unwrap();
        TlsFiles { dir }
    }

    /// The authority's certificate, as `tls.cafile` names it.
    pub fn ca_file(&self) -> String {
        self.dir.join("ca.pem").display().to_string()
    }
}

/// `redis-server` arguments to listen with TLS only on `port`, with the files in `dir`.
fn tls_server_args(dir: &std::path::Path, port: u16) -> Vec<String> {
    let file = |name: &str| dir.join(name).display().to_string();
    [
        "--port",
        "0",
        "--tls-port",
        &port.to_string(),
        "--tls-cert-file",
        &file("server.pem"),
        "--tls-key-file",
        &file("server.key"),
        "--tls-ca-cert-file",
        &file("ca.pem"),
        "--tls-auth-clients",
        "no",
    ]
    .map(String::from)
    .to_vec()
}

/// A fresh directory under the system's temporary one.
fn scratch_dir(what: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "reverb-rs-test-{what}-{}-{:x}",
        std::process::id(),
        rand::random::<u64>()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

impl Redis {
    /// A Redis as managed services run it: TLS only, with a certificate from `tls`, and the
    /// ACL user [`ACL_USER`] (the default user is off).
    pub fn secured(tls: &TlsFiles) -> Redis {
        let (user, password) = ACL_USER;
        Redis::start_with(Options {
            args: [
                "--user",
                "default",
                "off",
                "--user",
                user,
                "on",
                &format!(">{password}"),
                "~*",
                "&*",
                "+@all",
            ]
            .map(String::from)
            .to_vec(),
            tls: Some(tls.dir.clone()),
            credentials: format!("{user}:{password}@"),
        })
    }

    /// The `scaling` block of a node that reaches this secured Redis with a URL, as
    /// `REDIS_URL` gives it, and the test authority as `tls.cafile`.
    pub fn secured_scaling(&self, tls: &TlsFiles) -> Value {
        let (user, password) = ACL_USER;
        let mut scaling = self.scaling();
        scaling["server"] = json!({
            "url": format!("rediss://{user}:{password}@127.0.0.1:{}/0", self.port),
            "tls": {"cafile": tls.ca_file()},
            "timeout": 2,
        });
        scaling
    }
}

/// A Redis Cluster of three masters on free ports, made with `redis-cli --cluster create`.
pub struct RedisCluster {
    /// The masters.
    pub masters: Vec<Redis>,
    dir: PathBuf,
}

impl RedisCluster {
    /// Starts three masters and joins them into one cluster, waiting until it serves.
    pub fn start() -> RedisCluster {
        let dir = scratch_dir("cluster");
        let masters: Vec<Redis> = (0..3)
            .map(|i| {
                Redis::start_with(Options {
                    args: [
                        "--cluster-enabled",
                        "yes",
                        "--cluster-node-timeout",
                        "2000",
                        "--cluster-config-file",
                        &format!("nodes-{i}-{:x}.conf", rand::random::<u32>()),
                        "--dir",
                        &dir.display().to_string(),
                    ]
                    .map(String::from)
                    .to_vec(),
                    ..Options::default()
                })
            })
            .collect();
        let addresses: Vec<String> = masters
            .iter()
            .map(|redis| format!("127.0.0.1:{}", redis.port))
            .collect();
        let created = Command::new("redis-cli")
            .args(["--cluster", "create"])
            .args(&addresses)
            .args(["--cluster-replicas", "0", "--cluster-yes"])
            .stdout(Stdio::null())
            .status()
            .expect("redis-cli is installed");
        assert!(created.success(), "redis-cli --cluster create failed");
        let cluster = RedisCluster { masters, dir };
        cluster.wait_until_serving();
        cluster
    }

    /// Waits until every master reports the cluster as serving every slot.
    pub fn wait_until_serving(&self) {
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while !self.masters.iter().all(|redis| cluster_ok(redis.port)) {
            assert!(
                std::time::Instant::now() < deadline,
                "the Redis Cluster did not come up"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The `scaling` block of a node that reaches the cluster through its first master.
    pub fn scaling(&self) -> Value {
        let mut scaling = self.masters[0].scaling();
        scaling["server"]["cluster"] = json!(true);
        scaling
    }

    /// The master that holds the slot of every key reverb-rs writes: the only one that
    /// answers a command on such a key instead of redirecting it.
    pub fn master_of_keys(&mut self) -> &mut Redis {
        let index = self
            .masters
            .iter()
            .position(|redis| {
                redis::Client::open(format!("redis://127.0.0.1:{}", redis.port))
                    .and_then(|client| client.get_connection())
                    .and_then(|mut connection| {
                        redis::cmd("EXISTS")
                            .arg("{reverb-rs}:nodes")
                            .query::<i64>(&mut connection)
                    })
                    .is_ok()
            })
            .expect("a master holds the slot");
        &mut self.masters[index]
    }
}

impl Drop for RedisCluster {
    fn drop(&mut self) {
        for redis in &mut self.masters {
            redis.stop();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Drop for TlsFiles {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Whether the master on `port` reports `cluster_state:ok`.
fn cluster_ok(port: u16) -> bool {
    let info = redis::Client::open(format!("redis://127.0.0.1:{port}"))
        .and_then(|client| client.get_connection())
        .and_then(|mut connection| {
            redis::cmd("CLUSTER")
                .arg("INFO")
                .query::<String>(&mut connection)
        });
    info.is_ok_and(|info| info.contains("cluster_state:ok"))
}
