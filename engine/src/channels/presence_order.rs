//! The order in which a presence channel's subscribers on this node hear of its changes, when
//! a cluster counts the members.
//!
//! Redis numbers every change of a channel's members (its version) in the script that makes
//! it, and the script publishes it, so every node receives a channel's changes in version
//! order. A subscriber's `subscription_succeeded` lists the members at one version, its
//! snapshot, and the changes on either side of it may reach this node before or after the
//! list: the subscriber must hear of exactly the changes after its snapshot, and only once
//! it has the list. While its join is in flight it is pending and changes wait for it; when
//! its list goes out, those newer than the snapshot follow it in order and the others are
//! dropped; from then on a change reaches it only if it is newer than the snapshot. The
//! snapshot is forgotten as soon as a change at least as new went by, since every later one
//! is newer, so only subscribers that have not caught up with the stream are kept here.

use crate::socket::{Frame, SocketId};
use std::collections::HashMap;

/// Where a subscriber that does not hear of every change stands.
#[derive(Debug)]
enum Place {
    /// Its join is in flight: the changes that came meanwhile, with their versions.
    Pending(Vec<(u64, Frame)>),
    /// Its member list showed the channel at this version: changes up to it are in the list.
    Since(u64),
}

/// The subscribers of one presence channel that do not hear of every change yet.
#[derive(Debug, Default)]
pub struct PresenceOrder {
    places: HashMap<SocketId, Place>,
}

impl PresenceOrder {
    /// A subscriber's join is in flight: its changes wait until [`PresenceOrder::confirm`].
    pub fn hold(&mut self, socket_id: &SocketId) {
        self.places
            .insert(socket_id.clone(), Place::Pending(Vec::new()));
    }

    /// Change number `version` of the channel, for the subscriber `socket_id`: whether it
    /// hears of it now. A pending subscriber keeps `frame` for later.
    pub fn admit(&mut self, socket_id: &str, version: u64, frame: &Frame) -> bool {
        let Some(place) = self.places.get_mut(socket_id) else {
            return true;
        };
        match place {
            Place::Pending(waiting) => {
                waiting.push((version, frame.clone()));
                false
            }
            Place::Since(snapshot) => {
                let snapshot = *snapshot;
                if version >= snapshot {
                    self.places.remove(socket_id);
                }
                version > snapshot
            }
        }
    }

    /// The subscriber's member list went out, showing the channel at `version` (`None`: the
    /// cluster did not count it, and its list is only this node's members). Returns the
    /// changes it must hear of right after the list, in order; from then on it hears of the
    /// changes newer than its list.
    pub fn confirm(&mut self, socket_id: &str, version: Option<u64>) -> Vec<Frame> {
        let waiting = match self.places.remove(socket_id) {
            Some(Place::Pending(waiting)) => waiting,
            _ => Vec::new(),
        };
        let Some(snapshot) = version else {
            return Vec::new();
        };
        if !waiting.iter().any(|(version, _)| *version >= snapshot) {
            self.places.insert(socket_id.into(), Place::Since(snapshot));
        }
        waiting
            .into_iter()
            .filter(|(version, _)| *version > snapshot)
            .map(|(_, frame)| frame)
            .collect()
    }

    /// The subscriber left the channel.
    pub fn forget(&mut self, socket_id: &str) {
        self.places.remove(socket_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(version: u64) -> Frame {
        Frame::from(format!("change {version}"))
    }

    fn texts(frames: &[Frame]) -> Vec<&str> {
        frames.iter().map(Frame::as_str).collect()
    }

    #[test]
    fn a_pending_subscriber_hears_only_the_changes_after_its_list_and_after_it() {
        let mut order = PresenceOrder::default();
        let socket: SocketId = "1.1".into();
        order.hold(&socket);
        for version in 4..=7 {
            assert!(!order.admit(&socket, version, &change(version)));
        }
        assert!(order.admit("2.2", 7, &change(7)), "others hear at once");
        let after = order.confirm(&socket, Some(5));
        assert_eq!(texts(&after), vec!["change 6", "change 7"]);
        // The stream passed its list: it hears of everything from now on, and is forgotten.
        assert!(order.admit(&socket, 8, &change(8)));
        assert!(order.places.is_empty());
    }

    #[test]
    fn a_list_ahead_of_the_stream_skips_the_changes_it_already_shows() {
        let mut order = PresenceOrder::default();
        let socket: SocketId = "1.1".into();
        order.hold(&socket);
        assert!(!order.admit(&socket, 2, &change(2)));
        assert!(order.confirm(&socket, Some(4)).is_empty());
        assert!(!order.admit(&socket, 3, &change(3)));
        assert!(!order.admit(&socket, 4, &change(4)));
        assert!(
            order.places.is_empty(),
            "forgotten once the stream reached its list"
        );
        assert!(order.admit(&socket, 5, &change(5)));
    }

    #[test]
    fn an_uncounted_subscriber_drops_what_waited_and_hears_everything_after() {
        let mut order = PresenceOrder::default();
        let socket: SocketId = "1.1".into();
        order.hold(&socket);
        assert!(!order.admit(&socket, 2, &change(2)));
        assert!(order.confirm(&socket, None).is_empty());
        assert!(order.admit(&socket, 1, &change(1)));
    }

    #[test]
    fn a_subscriber_that_leaves_is_forgotten() {
        let mut order = PresenceOrder::default();
        let socket: SocketId = "1.1".into();
        order.hold(&socket);
        order.forget(&socket);
        assert!(order.places.is_empty());
        assert!(order.admit(&socket, 1, &change(1)));
    }
}
