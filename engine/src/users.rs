//! Signed-in users of one app (`pusher:signin`): their sockets, and who watches them.
//!
//! A user is online while at least one socket is signed in as them. Sockets that listed the
//! user in their watchlist get `online`/`offline` watchlist events when that changes.

use crate::protocol::{frames, PusherError};
use crate::socket::{Connection, Frame, SocketId};
use dashmap::DashMap;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;

/// The most user ids one watchlist may hold, as on Pusher.
pub const MAX_WATCHLIST: usize = 100;

type Sockets = HashMap<SocketId, Arc<Connection>>;

/// Reads a sign-in's `user_data`: a JSON object with a non-empty string `id` and an optional
/// `watchlist` of user ids.
pub fn parse_user_data(user_data: &str) -> Result<(String, Vec<String>), PusherError> {
    let invalid =
        |detail: &str| PusherError::InvalidMessage(format!("Invalid user_data: {detail}"));
    let Ok(Value::Object(data)) = serde_json::from_str::<Value>(user_data) else {
        return Err(invalid("it must be a JSON object"));
    };
    let id = match data.get("id") {
        Some(Value::String(id)) if !id.is_empty() => id.clone(),
        _ => return Err(invalid("\"id\" must be a non-empty string")),
    };
    let watchlist = match data.get("watchlist") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(ids)) => ids
            .iter()
            .map(|id| match id {
                Value::String(s) => Ok(s.clone()),
                Value::Number(n) => Ok(n.to_string()),
                _ => Err(invalid("\"watchlist\" must list user ids")),
            })
            .collect::<Result<_, _>>()?,
        Some(_) => return Err(invalid("\"watchlist\" must be an array")),
    };
    Ok((id, watchlist))
}

/// The signed-in users of one app.
#[derive(Default)]
pub struct Users {
    signed_in: DashMap<String, Sockets>,
    watchers: DashMap<String, Sockets>,
}

impl Users {
    /// Records `connection` as signed in as `user_id`; tells watchers if the user came online.
    pub fn sign_in(&self, user_id: &str, connection: &Arc<Connection>) {
        let came_online = {
            let mut sockets = self.signed_in.entry(user_id.to_string()).or_default();
            sockets.insert(connection.socket_id().clone(), connection.clone());
            sockets.len() == 1
        };
        if came_online {
            self.notify_watchers(user_id, true);
        }
    }

    /// Forgets a signed-in socket; tells watchers if the user went offline.
    pub fn sign_out(&self, user_id: &str, socket_id: &str) {
        let went_offline = {
            let Some(mut sockets) = self.signed_in.get_mut(user_id) else {
                return;
            };
            sockets.remove(socket_id).is_some() && sockets.is_empty()
        };
        if went_offline
            && self
                .signed_in
                .remove_if(user_id, |_, sockets| sockets.is_empty())
                .is_some()
        {
            self.notify_watchers(user_id, false);
        }
    }

    /// Starts watching `user_ids` for `connection`; returns which are online and offline now.
    pub fn watch(
        &self,
        connection: &Arc<Connection>,
        user_ids: &[String],
    ) -> (Vec<String>, Vec<String>) {
        for user_id in user_ids {
            self.watchers
                .entry(user_id.clone())
                .or_default()
                .insert(connection.socket_id().clone(), connection.clone());
        }
        user_ids
            .iter()
            .cloned()
            .partition(|user_id| self.signed_in.contains_key(user_id))
    }

    /// Stops watching `user_ids` for a socket that is going away.
    pub fn unwatch(&self, socket_id: &str, user_ids: &[String]) {
        for user_id in user_ids {
            let now_empty = self.watchers.get_mut(user_id).is_some_and(|mut watchers| {
                watchers.remove(socket_id);
                watchers.is_empty()
            });
            if now_empty {
                self.watchers
                    .remove_if(user_id, |_, watchers| watchers.is_empty());
            }
        }
    }

    /// Every socket signed in as `user_id`.
    pub fn sockets_of(&self, user_id: &str) -> Vec<Arc<Connection>> {
        self.signed_in
            .get(user_id)
            .map(|sockets| sockets.values().cloned().collect())
            .unwrap_or_default()
    }

    fn notify_watchers(&self, user_id: &str, online: bool) {
        let Some(watchers) = self.watchers.get(user_id) else {
            return;
        };
        let ids = [user_id.to_string()];
        let (online_ids, offline_ids): (&[String], &[String]) =
            if online { (&ids, &[]) } else { (&[], &ids) };
        if let Some(frame) = frames::watchlist_events(online_ids, offline_ids) {
            let frame = Frame::from(frame);
            for connection in watchers.values() {
                connection.send(frame.clone());
            }
        }
    }
}
