//! Client events (`client-*`): relayed to the channel's other subscribers, on every node,
//! when the app accepts them from this socket and it sends no more per second than the
//! app's `max_client_events_per_second`.

use super::session::Session;
use crate::config::ClientEventsFrom;
use crate::protocol::{frames, PusherError};
use crate::socket::Frame;
use serde_json::Value;
use tokio::io::AsyncRead;

impl<R> Session<R>
where
    R: AsyncRead + Unpin,
{
    /// Relays a client event, or says why it may not be sent. Only events the app accepts
    /// from this socket count against its rate limit.
    pub(super) fn relay_client_event(
        &mut self,
        event: &str,
        channel: &str,
        data: &Value,
    ) -> Result<(), Option<PusherError>> {
        let membership = self.subscriptions.get(channel);
        match self.app.config().accept_client_events_from {
            ClientEventsFrom::None => return Err(Some(PusherError::ClientEventsDisabled)),
            ClientEventsFrom::Members if membership.is_none() => {
                return Err(Some(PusherError::NotAMember))
            }
            ClientEventsFrom::Members | ClientEventsFrom::All => {}
        }
        let limit = self.app.config().max_client_events_per_second;
        if let (Some(limiter), Some(limit)) = (&mut self.client_event_limiter, limit) {
            if !limiter.allow() {
                return Err(Some(PusherError::ClientEventRateLimited { limit }));
            }
        }
        let user_id = membership.and_then(Option::as_ref);
        let frame = Frame::from(frames::client_event(event, channel, data, user_id));
        let socket_id = self.connection.socket_id();
        self.app.relay(channel, frame, socket_id);
        self.app
            .report_client_event(channel, event, data, socket_id, user_id);
        Ok(())
    }
}
