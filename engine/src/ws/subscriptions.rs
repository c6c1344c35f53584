//! `pusher:subscribe` and `pusher:unsubscribe`: who may join a channel (and how many channels
//! one socket may be in), joining it, and leaving it again.

use super::session::Session;
use crate::auth;
use crate::channels::name::{Access, ChannelKind};
use crate::channels::presence::MemberData;
use crate::events::EngineEvent;
use crate::protocol::{frames, PusherError};
use tokio::io::AsyncRead;

impl<R> Session<R>
where
    R: AsyncRead + Unpin,
{
    /// Subscribes to a channel once its auth checks out. `Err(None)` means the socket broke
    /// while answering.
    pub(super) async fn subscribe(
        &mut self,
        channel: String,
        auth: Option<String>,
        channel_data: Option<String>,
    ) -> Result<(), Option<PusherError>> {
        let kind = ChannelKind::of(&channel)?;
        if let Some(limit) = self.app.config().max_channels_per_connection {
            if self.subscriptions.len() >= limit && !self.subscriptions.contains_key(&channel) {
                return Err(Some(PusherError::TooManyChannels { limit }));
            }
        }
        let member = self.authorize(&channel, &kind, auth.as_deref(), channel_data.as_deref())?;
        let outcome = self
            .app
            .subscribe(&channel, &self.connection, member.as_ref())
            .await?;
        if outcome.channel_created {
            let name = channel.clone();
            self.report(|app_id, _| EngineEvent::ChannelCreated {
                app_id,
                channel: name,
            });
        }
        self.subscriptions
            .insert(channel.clone(), member.map(|m| m.user_id));
        let name = channel.clone();
        self.report(|app_id, socket_id| EngineEvent::Subscribed {
            app_id,
            socket_id,
            channel: name,
        });
        let confirmation = frames::subscription_succeeded(&channel, &outcome.payload);
        let confirmed = match outcome.held {
            true => self.app.confirm(
                &channel,
                self.connection.socket_id(),
                outcome.version,
                || self.write(confirmation),
            ),
            false => self.write(confirmation),
        };
        confirmed.map_err(|_| None)?;
        self.app.count_changed(&channel);
        if kind.cached {
            let sent = match self.app.cached_event(&channel).await {
                Some((frame, _)) => {
                    self.app.count_sent(&frame, 1);
                    self.send(frame)
                }
                None => {
                    self.app.report_cache_miss(&channel);
                    self.write(frames::cache_miss(&channel))
                }
            };
            sent.map_err(|_| None)?;
        }
        Ok(())
    }

    /// Checks who may subscribe to `channel`; returns the presence member to join as.
    fn authorize(
        &self,
        channel: &str,
        kind: &ChannelKind,
        auth: Option<&str>,
        channel_data: Option<&str>,
    ) -> Result<Option<MemberData>, PusherError> {
        let socket_id = self.connection.socket_id();
        let config = self.app.config();
        match &kind.access {
            Access::Public => Ok(None),
            Access::Private => {
                auth::verify_channel(&config, socket_id, channel, channel_data, auth)
                    .then_some(None)
                    .ok_or(PusherError::Unauthorized)
            }
            Access::Presence => {
                if !auth::verify_channel(&config, socket_id, channel, channel_data, auth) {
                    return Err(PusherError::Unauthorized);
                }
                MemberData::parse(channel_data, config.max_presence_user_info_bytes).map(Some)
            }
            Access::ServerToUser(user_id) => match &self.user {
                Some(user) if &user.id == user_id => Ok(None),
                _ => Err(PusherError::Unauthorized),
            },
        }
    }

    pub(super) fn unsubscribe(&mut self, channel: &str) {
        if self.subscriptions.remove(channel).is_some() {
            self.leave(channel);
        }
    }

    pub(super) fn leave_all_channels(&mut self) {
        for channel in std::mem::take(&mut self.subscriptions).into_keys() {
            self.leave(&channel);
        }
    }

    fn leave(&self, channel: &str) {
        let Some(outcome) = self.app.unsubscribe(channel, self.connection.socket_id()) else {
            return;
        };
        self.report(|app_id, socket_id| EngineEvent::Unsubscribed {
            app_id,
            socket_id,
            channel: channel.to_string(),
        });
        if outcome.channel_removed {
            self.report(|app_id, _| EngineEvent::ChannelRemoved {
                app_id,
                channel: channel.to_string(),
            });
        }
    }
}
