//! Webhooks: telling an app's endpoints (and, when asked, the host) that channels became
//! occupied or vacated, that presence members came and went, and what clients whispered.
//!
//! - [`event`]: the events, in Pusher's format.
//! - [`sender`]: one endpoint's delivery: a bounded queue, signed batches, retries in order.
//! - [`connection`]: the kept-alive HTTP/1.1 connection a sender posts over.

mod connection;
pub(crate) mod event;
#[cfg_attr(
    not(test),
    expect(dead_code, reason = "the dispatcher that feeds senders comes next")
)]
pub(crate) mod sender;

pub use event::WebhookEvent;
