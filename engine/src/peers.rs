//! The seam between this node and the other nodes of a cluster.
//!
//! An app tells its peers what they must know (frames to deliver, users to terminate, the
//! last events of cache channels, presence members that join and leave) and asks them for
//! their census, through [`Peers`]. `scaling` implements it over Redis; a server without
//! scaling has [`NoPeers`], which knows nobody and answers at once. What the peers send back
//! reaches this node through [`LocalNode`], which the server's apps implement. Neither side
//! names the other, so the app state and the cluster do not depend on each other.

use crate::channels::census::{Census, Filter};
use crate::channels::presence::MemberData;
use crate::socket::Frame;
use futures_util::future::BoxFuture;
use serde::Serialize;
use std::time::Duration;

/// This node's view of the cluster, as `/up` and `stats()` report it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScalingStatus {
    /// This node's id.
    pub node: String,
    /// `connected` or `disconnected`.
    pub redis: &'static str,
    /// Nodes alive in the cluster, this one included, at the last heartbeat.
    pub nodes: usize,
    /// Messages for other nodes dropped because Redis was away or too slow.
    pub dropped_messages: u64,
    /// Messages this node published to the other nodes.
    pub sent_messages: u64,
    /// Messages this node received from the other nodes.
    pub received_messages: u64,
}

/// How the cluster counted a presence socket that joined a channel. A user new to the
/// channel is announced by the peers themselves, numbered among the channel's changes, and
/// reaches this node through [`LocalNode::deliver_presence`] like any other change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Joined {
    /// Counted: the `channel_data` of every member in the cluster, and the number of the
    /// channel's last change they include.
    Counted {
        /// The channel's changes up to this one are in `members`.
        version: u64,
        /// Every member's `channel_data`.
        members: Vec<String>,
    },
    /// The peers could not be reached: only this node's members are known.
    Uncounted,
}

/// How the cluster counted a presence socket that left a channel. A user gone from the
/// channel is announced by the peers themselves, as a joining one is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Left {
    /// Counted, and announced if it was the user's last socket in the channel anywhere.
    Counted,
    /// The peers could not be reached: only this node's members are known.
    Uncounted,
}

/// How the cluster counted this node in or out for a subject that webhooks track (a channel,
/// or one user in a presence channel, as [`crate::webhooks::occupancy::Subject::key`]
/// writes it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tally {
    /// The cluster as a whole changed: no node had the subject before this one came in, or
    /// none has it since this one went out.
    Changed,
    /// Other nodes have it too, so the cluster as a whole did not change.
    Unchanged,
    /// The peers could not be reached: only this node's view is known.
    Uncounted,
}

/// One presence member of this node, as a resynchronisation reports it to the peers.
#[derive(Debug, Clone, PartialEq)]
pub struct LocalMember {
    /// The app id.
    pub app_id: String,
    /// The presence channel.
    pub channel: String,
    /// The member.
    pub member: MemberData,
    /// How many of the member's sockets are in the channel on this node.
    pub sockets: usize,
}

/// The other nodes of a cluster, as one app sees them. Every call returns without waiting
/// for the network unless it returns a future; nothing here may block a socket task.
pub trait Peers: Send + Sync {
    /// Whether the peers count presence members with this node. When they do, presence
    /// changes are announced once per cluster, not by this node's channel registry.
    fn shares_presence(&self) -> bool;

    /// Asks the other nodes to hand each `(channel, frame)` to their subscribers, except the
    /// socket `except`.
    fn deliver(&self, app_id: &str, items: &[(&str, Frame)], except: Option<&str>);

    /// Asks the other nodes to close the sockets of a user.
    fn terminate(&self, app_id: &str, user_id: &str);

    /// Keeps a cache channel's last event for `ttl` where nodes that did not see it find it.
    fn store_cached(&self, app_id: &str, channel: &str, frame: &Frame, ttl: Duration);

    /// A cache channel's last event as the peers keep it, with the time it stays cached.
    fn cached_event<'a>(
        &'a self,
        app_id: &'a str,
        channel: &'a str,
    ) -> BoxFuture<'a, Option<(Frame, Duration)>>;

    /// The other nodes' censuses of an app.
    fn ask<'a>(&'a self, app_id: &'a str, filter: Filter) -> BoxFuture<'a, Vec<Census>>;

    /// Counts one more socket, `socket_id`, of `member` in a presence channel.
    fn join<'a>(
        &'a self,
        app_id: &'a str,
        channel: &'a str,
        socket_id: &'a str,
        member: &'a MemberData,
    ) -> BoxFuture<'a, Joined>;

    /// The members of a presence channel as a join would get them, for a socket that
    /// subscribes again as the member it already is: nothing is counted.
    fn members<'a>(&'a self, app_id: &'a str, channel: &'a str) -> BoxFuture<'a, Joined>;

    /// Counts one socket less of the member keyed `member_key` in a presence channel.
    fn leave<'a>(
        &'a self,
        app_id: &'a str,
        channel: &'a str,
        member_key: &'a str,
    ) -> BoxFuture<'a, Left>;

    /// Counts this node in for a tracked subject of an app.
    fn occupy<'a>(&'a self, app_id: &'a str, subject: &'a str) -> BoxFuture<'a, Tally>;

    /// Counts this node out for a tracked subject of an app.
    fn vacate<'a>(&'a self, app_id: &'a str, subject: &'a str) -> BoxFuture<'a, Tally>;

    /// This node's view of the cluster; `None` without scaling.
    fn status(&self) -> Option<ScalingStatus>;
}

/// The peers of a server that runs alone: nobody to tell, nothing to ask.
pub struct NoPeers;

impl Peers for NoPeers {
    fn shares_presence(&self) -> bool {
        false
    }

    fn deliver(&self, _: &str, _: &[(&str, Frame)], _: Option<&str>) {}

    fn terminate(&self, _: &str, _: &str) {}

    fn store_cached(&self, _: &str, _: &str, _: &Frame, _: Duration) {}

    fn cached_event<'a>(
        &'a self,
        _: &'a str,
        _: &'a str,
    ) -> BoxFuture<'a, Option<(Frame, Duration)>> {
        Box::pin(std::future::ready(None))
    }

    fn ask<'a>(&'a self, _: &'a str, _: Filter) -> BoxFuture<'a, Vec<Census>> {
        Box::pin(std::future::ready(Vec::new()))
    }

    fn join<'a>(
        &'a self,
        _: &'a str,
        _: &'a str,
        _: &'a str,
        _: &'a MemberData,
    ) -> BoxFuture<'a, Joined> {
        Box::pin(std::future::ready(Joined::Uncounted))
    }

    fn members<'a>(&'a self, _: &'a str, _: &'a str) -> BoxFuture<'a, Joined> {
        Box::pin(std::future::ready(Joined::Uncounted))
    }

    fn leave<'a>(&'a self, _: &'a str, _: &'a str, _: &'a str) -> BoxFuture<'a, Left> {
        Box::pin(std::future::ready(Left::Uncounted))
    }

    fn occupy<'a>(&'a self, _: &'a str, _: &'a str) -> BoxFuture<'a, Tally> {
        Box::pin(std::future::ready(Tally::Uncounted))
    }

    fn vacate<'a>(&'a self, _: &'a str, _: &'a str) -> BoxFuture<'a, Tally> {
        Box::pin(std::future::ready(Tally::Uncounted))
    }

    fn status(&self) -> Option<ScalingStatus> {
        None
    }
}

/// This node, as the peers reach it: what they hand over arrives here. The server's apps
/// implement it.
pub trait LocalNode: Send + Sync {
    /// Hands `frame` to this node's subscribers of `channel` of an app, except `except`.
    fn deliver(&self, app_id: &str, channel: &str, frame: &Frame, except: Option<&str>);

    /// Hands change number `version` of a presence channel's members (`member_added` or
    /// `member_removed` as `frame`) to this node's subscribers of it, except `except`: each
    /// hears of it only after its member list, and only if the list does not show it yet.
    fn deliver_presence(
        &self,
        app_id: &str,
        channel: &str,
        version: u64,
        frame: &Frame,
        except: Option<&str>,
    );

    /// Closes this node's sockets of a user of an app.
    fn terminate(&self, app_id: &str, user_id: &str);

    /// This node's census of an app (empty for an app this node does not have).
    fn census(&self, app_id: &str, filter: &Filter) -> Census;

    /// Every presence member of every app on this node.
    fn presence_members(&self) -> Vec<LocalMember>;

    /// Every subject webhooks track on this node, as `(app id, subject)`.
    fn tracked_subjects(&self) -> Vec<(String, String)>;

    /// A tracked subject of an app is gone from the cluster because the node that had it
    /// died or stopped: its departure is reported from here.
    fn vacated(&self, app_id: &str, subject: &str);
}
