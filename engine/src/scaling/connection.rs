//! How a node reaches Redis: one server or a Redis Cluster, over TCP, TLS or a Unix socket.
//!
//! Commands go through [`Commands`], which is a reconnecting connection to one server or a
//! cluster connection that follows the slot map (every key reverb-rs writes carries one hash
//! tag, so scripts find all their keys on one slot). Pub/sub needs no routing: a message
//! published on any node of a cluster reaches subscribers on every node, so the subscriber
//! connects to the configured server whatever the mode.
//!
//! [`check`] makes a first attempt before the server starts, so settings that can never work
//! (a password Redis refuses, a certificate its CA does not vouch for, cluster mode set the
//! wrong way) stop the start with an error that names the key, while a Redis that is merely
//! away does not: the node serves its own sockets and retries.

use crate::config::{RedisAddress, RedisServer, RedisTls};
use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::cluster::{ClusterClient, ClusterClientBuilder};
use redis::cluster_async::ClusterConnection;
use redis::{
    ClientTlsConfig, Cmd, ConnectionAddr, ErrorKind, IntoConnectionInfo, Pipeline,
    RedisConnectionInfo, RedisError, RedisFuture, RedisResult, TlsCertificates, Value,
};
use std::time::Duration;

/// The clients a node connects with.
pub(super) struct Endpoints {
    /// The configured server: every connection in single-server mode, and the subscriber's
    /// in cluster mode.
    pub server: redis::Client,
    /// The cluster client, in cluster mode.
    cluster: Option<ClusterClient>,
}

/// The command connection: publishing, scripts, heartbeats.
#[derive(Clone)]
pub(super) enum Commands {
    /// One server, reconnecting by itself.
    Server(ConnectionManager),
    /// A Redis Cluster, routed by slot and following redirections.
    Cluster(ClusterConnection),
}

/// Settings Redis refused: the key to change and what Redis said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    /// The dotted path of the key to change.
    pub key: String,
    /// What is wrong, phrased to follow the key.
    pub problem: String,
}

impl Endpoints {
    /// The clients for `server`; nothing connects yet.
    pub fn new(server: &RedisServer, timeout: Duration) -> RedisResult<Endpoints> {
        let info = connection_info(server)?;
        let certificates = server.tls.as_ref().and_then(certificates);
        let single = match &certificates {
            Some(certificates) => {
                redis::Client::build_with_tls(info.clone(), certificates.clone())?
            }
            None => redis::Client::open(info.clone())?,
        };
        let cluster = match server.cluster {
            false => None,
            true => {
                let mut builder = ClusterClientBuilder::new(vec![info])
                    .connection_timeout(timeout)
                    .response_timeout(timeout)
                    .retries(2);
                if let Some(certificates) = certificates {
                    builder = builder.certs(certificates);
                }
                Some(builder.build()?)
            }
        };
        Ok(Endpoints {
            server: single,
            cluster,
        })
    }

    /// Opens the command connection. One server's connects lazily and so never fails here;
    /// a cluster's reads the slot map first.
    pub async fn commands(&self, timeout: Duration) -> RedisResult<Commands> {
        match &self.cluster {
            Some(cluster) => Ok(Commands::Cluster(cluster.get_async_connection().await?)),
            None => {
                let config = ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(timeout))
                    .set_response_timeout(Some(timeout))
                    .set_number_of_retries(1);
                Ok(Commands::Server(
                    self.server.get_connection_manager_lazy(config)?,
                ))
            }
        }
    }
}

impl ConnectionLike for Commands {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Commands::Server(connection) => connection.req_packed_command(cmd),
            Commands::Cluster(connection) => connection.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Commands::Server(connection) => connection.req_packed_commands(pipeline, offset, count),
            Commands::Cluster(connection) => {
                connection.req_packed_commands(pipeline, offset, count)
            }
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Commands::Server(connection) => connection.get_db(),
            Commands::Cluster(connection) => connection.get_db(),
        }
    }
}

/// A first connection to `server`: `Err` when Redis answered and refused the settings, `Ok`
/// when they work or Redis could not be reached at all (that is an outage, not a setting).
pub async fn check(
    endpoints: &Endpoints,
    server: &RedisServer,
    timeout: Duration,
) -> Result<(), Refused> {
    let attempt = async {
        let mut connection = endpoints.server.get_multiplexed_async_connection().await?;
        redis::cmd("INFO")
            .arg("cluster")
            .query_async::<String>(&mut connection)
            .await
    };
    let info = match tokio::time::timeout(timeout, attempt).await {
        Err(_) => return Ok(()),
        Ok(Err(error)) => return refusal(server, &error).map_or(Ok(()), Err),
        Ok(Ok(info)) => info,
    };
    let is_cluster = info.lines().any(|line| line.trim() == "cluster_enabled:1");
    let cluster_key = format!("{}.cluster", server.key);
    match (server.cluster, is_cluster) {
        (false, true) => Err(Refused {
            key: cluster_key,
            problem: "must be true: this Redis runs in cluster mode \
                      (REVERB_SCALING_CLUSTER=true)"
                .into(),
        }),
        (true, false) => Err(Refused {
            key: cluster_key,
            problem: "must be false: this Redis does not run in cluster mode".into(),
        }),
        _ => Ok(()),
    }
}

/// The setting to blame for `error`, when it is one.
fn refusal(server: &RedisServer, error: &RedisError) -> Option<Refused> {
    let said = error.to_string();
    let refused = |name: &str, problem: String| {
        Some(Refused {
            key: format!("{}.{name}", server.key),
            problem,
        })
    };
    let code = error.code().unwrap_or_default();
    if error.kind() == ErrorKind::AuthenticationFailed
        || matches!(code, "WRONGPASS" | "NOAUTH" | "NOPERM")
    {
        let whose = if server.username.is_some() {
            "(with username) was refused"
        } else {
            "was refused"
        };
        return refused("password", format!("{whose}: {said}"));
    }
    if server.tls.is_some() && is_certificate_error(&said) {
        return refused(
            "tls.cafile",
            format!("does not vouch for the certificate Redis showed: {said}"),
        );
    }
    if server.tls.is_some() && said.contains("corrupt message") {
        return refused(
            "scheme",
            format!("is tls but Redis did not answer with TLS on that port: {said}"),
        );
    }
    None
}

/// Whether rustls refused the server's certificate.
fn is_certificate_error(said: &str) -> bool {
    [
        "invalid peer certificate",
        "UnknownIssuer",
        "NotValidForName",
    ]
    .iter()
    .any(|sign| said.contains(sign))
}

/// The redis crate's description of `server`.
fn connection_info(server: &RedisServer) -> RedisResult<redis::ConnectionInfo> {
    let mut settings = RedisConnectionInfo::default().set_db(server.database);
    if let Some(username) = &server.username {
        settings = settings.set_username(username);
    }
    if let Some(password) = &server.password {
        settings = settings.set_password(password);
    }
    let address = match (&server.address, &server.tls) {
        (RedisAddress::Unix(path), _) => ConnectionAddr::Unix(path.into()),
        (RedisAddress::Tcp { host, port }, None) => ConnectionAddr::Tcp(host.clone(), *port),
        (RedisAddress::Tcp { host, port }, Some(tls)) => ConnectionAddr::TcpTls {
            host: host.clone(),
            port: *port,
            insecure: !tls.verify_peer,
            tls_params: None,
        },
    };
    Ok(address.into_connection_info()?.set_redis_settings(settings))
}

/// The certificates to use instead of the system's, when `tls` names any.
fn certificates(tls: &RedisTls) -> Option<TlsCertificates> {
    if tls.ca.is_none() && tls.client.is_none() {
        return None;
    }
    Some(TlsCertificates {
        client_tls: tls.client.as_ref().map(|(cert, key)| ClientTlsConfig {
            client_cert: cert.clone(),
            client_key: key.clone(),
        }),
        root_cert: tls.ca.clone(),
    })
}
