//! reverb-engine: a Pusher protocol v7 WebSocket server, built to run inside a host process
//! (the PHP extension `reverb_rs`) without any PHP in it.
//!
//! A map of the crate:
//!
//! - [`config`]: the typed configuration, read from the shape of Laravel's `config('reverb')`.
//! - [`server`]: [`Server::start`] binds, runs the runtime on its own thread, and stops.
//! - [`http`]: the one listener: WebSocket upgrades on `/app/{key}`, the Pusher HTTP API
//!   under `/apps/{id}`, and `/up`.
//! - [`tls`]: `wss://` and `https://` with rustls.
//! - [`auth`]: HMAC signatures for channels, user sign-in and HTTP API requests.
//! - [`users`]: signed-in users and watchlists.
//! - [`ws`]: one task per socket: read loop, bounded send queue, pings, close codes.
//! - [`protocol`]: client messages, server frames and Pusher error codes.
//! - [`channels`]: each app's channels and their subscribers; fan-out.
//! - [`app`]: each app's runtime state and counters.
//! - [`census`]: counts of channels and sockets, one node's or a cluster's.
//! - [`scaling`]: several servers sharing events and presence through Redis.
//! - [`client`]: a Pusher HTTP API client, for PHP processes that do not host the server.
//! - [`events`]: what the engine reports to its host, through a bounded queue and an eventfd.
//! - [`state`]: what every task of a running server shares.

pub mod app;
pub mod auth;
pub mod census;
pub mod channels;
pub mod client;
pub mod config;
pub mod events;
pub mod http;
pub mod protocol;
pub mod scaling;
pub mod server;
pub mod state;
pub mod tls;
pub mod users;
pub mod ws;

pub use config::{Config, ConfigError};
pub use events::{EngineEvent, WaitOutcome};
pub use server::{Server, StartError, UnknownApp};
