//! Which channels, and which presence members, this node has, as webhooks count them.
//!
//! A channel is occupied while it has subscribers; a member is present while one of their
//! sockets is in the channel. When the last one leaves, the subject is *held* for the
//! configured delay before it counts as gone: if it comes back meanwhile, neither the
//! departure nor the return is reported (a page reload is not a leave and a join). The
//! cluster-wide count (first arrival anywhere, last departure anywhere) is the peers'
//! business; this tracker only decides when this node tells them.

use parking_lot::Mutex;
use std::collections::HashMap;

/// What occupancy is tracked of.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Subject {
    /// A channel, occupied while it has subscribers.
    Channel(String),
    /// A user in a presence channel, present while one of their sockets is in it.
    Member {
        /// The presence channel.
        channel: String,
        /// The user id, as a string.
        user_id: String,
    },
}

impl Subject {
    /// The subject as one string, for the peers: a channel name, or a channel name and a
    /// user id after a newline (which no channel name contains).
    pub(crate) fn key(&self) -> String {
        match self {
            Subject::Channel(channel) => channel.clone(),
            Subject::Member { channel, user_id } => format!("{channel}\n{user_id}"),
        }
    }

    /// The subject that [`Subject::key`] wrote.
    pub(crate) fn from_key(key: &str) -> Subject {
        match key.split_once('\n') {
            None => Subject::Channel(key.to_string()),
            Some((channel, user_id)) => Subject::Member {
                channel: channel.to_string(),
                user_id: user_id.to_string(),
            },
        }
    }
}

/// A subject's state on this node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Here.
    Present,
    /// Gone, but within the delay; the number tells this hold from a later one.
    Held(u64),
}

/// This node's subjects and their holds.
#[derive(Default)]
pub(crate) struct Occupancy {
    states: Mutex<HashMap<Subject, State>>,
    holds: Mutex<u64>,
}

impl Occupancy {
    /// A subject arrived on this node; returns whether it is new here (not back within a
    /// hold), so that its arrival must be counted and may be reported.
    pub(crate) fn arrive(&self, subject: Subject) -> bool {
        let previous = self.states.lock().insert(subject, State::Present);
        previous.is_none()
    }

    /// A subject left this node; returns the hold to pass to [`Occupancy::expire`] once the
    /// delay has passed.
    pub(crate) fn depart(&self, subject: Subject) -> u64 {
        let hold = {
            let mut holds = self.holds.lock();
            *holds += 1;
            *holds
        };
        self.states.lock().insert(subject, State::Held(hold));
        hold
    }

    /// The delay of `hold` has passed: returns whether the subject is still gone, in which
    /// case it is forgotten and its departure must be counted and may be reported.
    pub(crate) fn expire(&self, subject: &Subject, hold: u64) -> bool {
        let mut states = self.states.lock();
        if states.get(subject) == Some(&State::Held(hold)) {
            states.remove(subject);
            return true;
        }
        false
    }

    /// Every subject this node has or holds, as the peers must count them after an outage.
    pub(crate) fn subjects(&self) -> Vec<Subject> {
        self.states.lock().keys().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn room() -> Subject {
        Subject::Channel("room".into())
    }

    #[test]
    fn a_return_within_the_hold_is_neither_an_arrival_nor_a_departure() {
        let occupancy = Occupancy::default();
        assert!(occupancy.arrive(room()));
        let hold = occupancy.depart(room());
        assert!(!occupancy.arrive(room()));
        assert!(!occupancy.expire(&room(), hold));
        assert_eq!(occupancy.subjects(), vec![room()]);
    }

    #[test]
    fn only_the_latest_hold_expires() {
        let occupancy = Occupancy::default();
        occupancy.arrive(room());
        let first = occupancy.depart(room());
        occupancy.arrive(room());
        let second = occupancy.depart(room());
        assert!(!occupancy.expire(&room(), first));
        assert!(occupancy.expire(&room(), second));
        assert!(occupancy.subjects().is_empty());
        assert!(occupancy.arrive(room()));
    }

    #[test]
    fn member_keys_round_trip() {
        let member = Subject::Member {
            channel: "presence-room".into(),
            user_id: "a\nb".into(),
        };
        assert_eq!(Subject::from_key(&member.key()), member);
        assert_eq!(
            Subject::from_key("presence-room"),
            Subject::Channel("presence-room".into())
        );
    }
}
