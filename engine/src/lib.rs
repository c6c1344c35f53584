//! reverb-engine: a Pusher protocol v7 WebSocket server, built to run inside a host process
//! (the PHP extension `reverb_rs`) without any PHP in it.
//!
//! The host sees a small API: [`Server`] (start with a [`Config`], publish, query channels
//! and users, terminate users, read stats, wait for and drain [`EngineEvent`]s, stop) and
//! [`Client`], a Pusher HTTP API client for processes that do not host the server. The rest
//! is the crate's own, in floors where each module imports only from its floor or below:
//!
//! 1. **Sockets and the protocol.** [`socket`]: the handle every layer uses to reach one
//!    socket (its bounded send queue, direct writes, the frame encoded once); [`protocol`]:
//!    client messages, server frames and Pusher error codes; [`auth`]: HMAC signatures for
//!    channels, user sign-in and HTTP API requests; [`config`]: the typed configuration, read
//!    from the shape of Laravel's `config('reverb')`; [`events`]: what the engine reports to
//!    its host, through a bounded queue and an eventfd.
//! 2. **Each app's state.** [`channels`]: channels, presence members, the cache, fan-out,
//!    and the census (counts of channels and sockets, one node's or a cluster's);
//!    [`users`]: signed-in users and watchlists; [`peers`]: what an app tells the other
//!    nodes of a cluster and what they hand back, as traits; [`webhooks`]: what an app's
//!    endpoints hear, and their delivery; [`traffic`]: what an app counts of its sockets and
//!    messages; [`app`]: one app's state and counters; [`apps`]: the set, changed while it
//!    serves; [`lookups`]: apps the host is asked for when a client names an unknown one.
//! 3. **The seams to the outside.** [`scaling`]: the peers over Redis pub/sub; [`tls`]:
//!    `wss://` and `https://` with rustls; [`client`]: the HTTP API client.
//! 4. **Serving.** [`state`]: what every task of a running server shares; [`metrics`]: the
//!    Prometheus metrics, read from the state at each scrape; [`ws`]: one task per socket and
//!    a handler per Pusher message family; [`http`]: the two listeners, the public one
//!    (WebSocket upgrades on `/app/{key}`, the HTTP API under `/apps/{id}`, `/up`) and the
//!    metrics one (`/metrics`, on an address of its own).
//! 5. **The host API.** [`server`]: start, stop, and everything the host calls.

pub(crate) mod app;
pub(crate) mod apps;
pub(crate) mod auth;
pub(crate) mod channels;
pub(crate) mod client;
pub(crate) mod config;
pub(crate) mod events;
pub(crate) mod http;
pub(crate) mod lookups;
pub(crate) mod metrics;
pub(crate) mod peers;
pub(crate) mod protocol;
pub(crate) mod scaling;
pub(crate) mod server;
pub(crate) mod socket;
pub(crate) mod state;
pub(crate) mod tls;
pub(crate) mod traffic;
pub(crate) mod users;
pub(crate) mod webhooks;
pub(crate) mod ws;

pub use app::{AppStats, CachedEvent, ChannelState, ChannelSummary};
pub use apps::{AppChanges, RefusedApp};
pub use auth::sign_request;
pub use client::tls::Verification;
pub use client::{BatchEvent, Client, ClientConfig, ClientError};
pub use config::{Config, ConfigError};
pub use events::{EngineEvent, WaitOutcome};
pub use peers::ScalingStatus;
pub use server::{HostError, Server, StartError};
pub use webhooks::WebhookEvent;
