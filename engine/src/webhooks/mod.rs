//! Webhooks: telling an app's endpoints (and, when asked, the host) that channels became
//! occupied or vacated, that presence members came and went, and what clients whispered.
//!
//! - [`event`]: the events, in Pusher's format.

pub(crate) mod event;

pub use event::WebhookEvent;
