//! One socket as the rest of the server reaches it: the ground floor every layer builds on.
//!
//! Channels, users, the HTTP API, scaling and the host API all hand frames to sockets; only
//! the socket's own task (`ws`) reads from it. What they share lives here:
//!
//! - [`frame`]: a text frame encoded once and shared by every socket it is sent to.
//! - [`connection`]: the handle of one socket: its bounded send queue, direct writes, and
//!   the request to close.
//! - [`budget`]: the server-wide budget for bytes waiting in send queues.

mod budget;
mod connection;
mod frame;

pub use budget::{return_free_memory, SendBudget};
pub use connection::{
    mark_engine_thread, new_socket_id, Connection, QueueLimits, QueueSettings, SocketId,
};
pub use frame::Frame;
