//! Pusher error codes and the close codes that go with them.
//!
//! Every error a client can see is one variant here, so the code, the message and whether the
//! socket is closed are decided in one place. Messages follow Reverb's wording where Reverb has
//! one, because Laravel apps and their logs already know them.

/// An error reported to a client as `pusher:error`, sometimes followed by a close.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PusherError {
    /// 4001: the key in `/app/{key}` belongs to no app (or the app was removed).
    ApplicationDoesNotExist,
    /// 4003: the app exists but is disabled.
    ApplicationDisabled,
    /// 4004: the app already holds `max_connections` sockets.
    OverConnectionQuota,
    /// 4009: the `Origin` header matches none of the app's `allowed_origins`.
    OriginNotAllowed,
    /// 4009: a subscription's auth signature is missing or wrong.
    Unauthorized,
    /// 4009: a client event on a channel the sender is not subscribed to.
    NotAMember,
    /// 4009: the server terminated the user's connections.
    Terminated,
    /// 4100: the socket could not keep up with the frames sent to it.
    OverCapacity,
    /// 4100: a presence channel already has the app's `max_presence_members` users.
    PresenceChannelFull {
        /// The configured limit.
        limit: usize,
    },
    /// 4100: the socket is already subscribed to the app's `max_channels_per_connection`
    /// channels.
    TooManyChannels {
        /// The configured limit.
        limit: usize,
    },
    /// 4200: a frame that is not a valid Pusher message; the text says what was wrong.
    InvalidMessage(String),
    /// 4200: the server is shutting down; clients reconnect at once.
    ServerShuttingDown,
    /// 4201: the socket stayed silent after a ping.
    PongNotReceived,
    /// 4301: the app does not accept client events.
    ClientEventsDisabled,
    /// 4301: the socket sent more messages than the app's `rate_limiting` allows.
    RateLimited {
        /// Whether the socket is closed (`terminate_on_limit`).
        terminate: bool,
    },
    /// 4301: the socket sent more client events in a second than the app's
    /// `max_client_events_per_second`.
    ClientEventRateLimited {
        /// The configured limit.
        limit: u32,
    },
    /// 4302: a sign-in's watchlist has more than 100 user ids; only the first 100 count.
    WatchlistTooLong,
}

impl PusherError {
    /// The Pusher error code.
    pub fn code(&self) -> u16 {
        match self {
            PusherError::ApplicationDoesNotExist => 4001,
            PusherError::ApplicationDisabled => 4003,
            PusherError::OverConnectionQuota => 4004,
            PusherError::OriginNotAllowed
            | PusherError::Unauthorized
            | PusherError::NotAMember
            | PusherError::Terminated => 4009,
            PusherError::OverCapacity
            | PusherError::PresenceChannelFull { .. }
            | PusherError::TooManyChannels { .. } => 4100,
            PusherError::InvalidMessage(_) | PusherError::ServerShuttingDown => 4200,
            PusherError::PongNotReceived => 4201,
            PusherError::ClientEventsDisabled
            | PusherError::RateLimited { .. }
            | PusherError::ClientEventRateLimited { .. } => 4301,
            PusherError::WatchlistTooLong => 4302,
        }
    }

    /// The human-readable message sent with the code.
    pub fn message(&self) -> String {
        match self {
            PusherError::PresenceChannelFull { limit } => format!(
                "The presence channel is full: it already has {limit} members (max_presence_members)"
            ),
            PusherError::TooManyChannels { limit } => format!(
                "Too many channels: a connection may be subscribed to {limit} at once (max_channels_per_connection)"
            ),
            PusherError::ClientEventRateLimited { limit } => format!(
                "Client event rejected due to rate limit: at most {limit} per second (max_client_events_per_second)"
            ),
            other => other.static_message().to_string(),
        }
    }

    fn static_message(&self) -> &str {
        match self {
            PusherError::ApplicationDoesNotExist => "Application does not exist",
            PusherError::ApplicationDisabled => "Application disabled",
            PusherError::OverConnectionQuota => "Application is over connection quota",
            PusherError::OriginNotAllowed => "Origin not allowed",
            PusherError::Unauthorized => "Connection is unauthorized",
            PusherError::NotAMember => "The client is not a member of the specified channel.",
            PusherError::Terminated => "Connection terminated by the server",
            PusherError::OverCapacity => "Connection closed: the client could not keep up",
            PusherError::PresenceChannelFull { .. } => "The presence channel is full",
            PusherError::TooManyChannels { .. } => "Too many channels",
            PusherError::InvalidMessage(detail) => detail,
            PusherError::ServerShuttingDown => "Server is shutting down",
            PusherError::PongNotReceived => "Pong reply not received in time",
            PusherError::ClientEventsDisabled => "The app does not have client messaging enabled.",
            PusherError::RateLimited { .. } => "Rate limit exceeded",
            PusherError::ClientEventRateLimited { .. } => "Client event rejected due to rate limit",
            PusherError::WatchlistTooLong => {
                "Watchlist limit exceeded: only the first 100 user ids are watched"
            }
        }
    }

    /// Whether the socket is closed after the error, with the error's code as close code.
    pub fn closes_connection(&self) -> bool {
        matches!(
            self,
            PusherError::ApplicationDoesNotExist
                | PusherError::ApplicationDisabled
                | PusherError::OverConnectionQuota
                | PusherError::OriginNotAllowed
                | PusherError::OverCapacity
                | PusherError::ServerShuttingDown
                | PusherError::PongNotReceived
                | PusherError::Terminated
                | PusherError::RateLimited { terminate: true }
        )
    }
}
