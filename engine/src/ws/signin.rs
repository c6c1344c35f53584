//! `pusher:signin`: a socket signs in as a user, and watches the users of its watchlist.

use super::session::{Session, SignedIn};
use crate::auth;
use crate::protocol::{frames, PusherError};
use crate::users::{parse_user_data, MAX_WATCHLIST};
use tokio::io::AsyncRead;

impl<R> Session<R>
where
    R: AsyncRead + Unpin,
{
    /// Signs the socket in as a user (`pusher:signin`) and starts its watchlist.
    pub(super) async fn sign_in(
        &mut self,
        auth: Option<String>,
        user_data: String,
    ) -> Result<(), Option<PusherError>> {
        let socket_id = self.connection.socket_id().clone();
        if !auth::verify_user(&self.app.config(), &socket_id, &user_data, auth.as_deref()) {
            return Err(Some(PusherError::Unauthorized));
        }
        let (id, mut watchlist) = parse_user_data(&user_data)?;
        if let Some(current) = &self.user {
            if current.id != id {
                return Err(Some(PusherError::Unauthorized));
            }
            return self
                .write(frames::signin_success(&user_data))
                .map_err(|_| None);
        }
        let watchlist_too_long = watchlist.len() > MAX_WATCHLIST;
        watchlist.truncate(MAX_WATCHLIST);
        self.app.users.sign_in(&id, &self.connection);
        let (online, offline) = self.app.users.watch(&self.connection, &watchlist);
        self.user = Some(SignedIn { id, watchlist });
        self.write(frames::signin_success(&user_data))
            .map_err(|_| None)?;
        if watchlist_too_long {
            self.write(frames::error(&PusherError::WatchlistTooLong))
                .map_err(|_| None)?;
        }
        if let Some(frame) = frames::watchlist_events(&online, &offline) {
            self.write(frame).map_err(|_| None)?;
        }
        Ok(())
    }

    /// Signs the socket out when it goes away, and stops its watchlist.
    pub(super) fn sign_out(&mut self) {
        if let Some(user) = self.user.take() {
            let socket_id = self.connection.socket_id();
            self.app.users.sign_out(&user.id, socket_id);
            self.app.users.unwatch(socket_id, &user.watchlist);
        }
    }
}
