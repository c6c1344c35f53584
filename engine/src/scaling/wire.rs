//! The messages nodes exchange on the Redis pub/sub channel, as JSON.
//!
//! Every message names the node that sent it, so a node skips its own, except presence
//! changes: the Lua script that changes a channel's members publishes them, numbered, and
//! every node delivers them in that order, its own included. Apps are named by id only: no
//! key or secret ever travels through Redis.

use crate::channels::census::{Census, Filter};
use serde::{Deserialize, Serialize};

/// One message on the pub/sub channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    /// The node that sent it.
    pub node: String,
    /// What it asks the other nodes to do.
    #[serde(flatten)]
    pub message: Message,
}

/// What a node asks the others to do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Message {
    /// Deliver frames to the local subscribers of channels (events, client events, presence
    /// changes), skipping the socket `except` wherever it lives.
    Deliver {
        /// The app id.
        app: String,
        /// The frames, one per channel.
        items: Vec<Delivery>,
        /// The socket that must not receive them (`socket_id` of the HTTP API, a whisperer).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        except: Option<String>,
    },
    /// Close every local socket of a user.
    Terminate {
        /// The app id.
        app: String,
        /// The user.
        user_id: String,
    },
    /// Report this node's channels and sockets to the asking node.
    Query {
        /// The app id.
        app: String,
        /// Matches the answers to the question.
        id: u64,
        /// Which channels to report.
        filter: Filter,
    },
    /// One node's answer to a [`Message::Query`].
    Answer {
        /// The node that asked.
        to: String,
        /// The question's id.
        id: u64,
        /// The answering node's channels and sockets.
        census: Census,
    },
    /// A presence channel's members changed. Built by a Lua script (see [`super::presence`]),
    /// never by Rust: it names the node that ran the script.
    Presence(PresenceChange),
}

/// One change of a presence channel's members, as the script that made it publishes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PresenceChange {
    /// The app id.
    pub app: String,
    /// The presence channel.
    pub channel: String,
    /// The change's number: the channel's changes are numbered from 1, in the order Redis
    /// made them.
    pub version: u64,
    /// Whether the user came or went.
    pub change: Change,
    /// The user's `channel_data`, exactly as its client sent it.
    pub data: String,
    /// The socket whose join added the user: its member list shows the user already.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub except: Option<String>,
    /// Only the other nodes deliver it: the sending node's sockets heard of the change from
    /// it while Redis was away.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub others_only: bool,
}

/// What happened to a presence channel's user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// The user's first socket in the cluster joined.
    Added,
    /// The user's last socket in the cluster left.
    Removed,
}

/// One frame for the subscribers of one channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Delivery {
    /// The channel.
    pub channel: String,
    /// The frame exactly as subscribers receive it.
    pub frame: String,
}

impl Envelope {
    /// The JSON sent to Redis.
    pub fn encode(&self) -> String {
        serde_json::to_string(self).expect("an envelope of strings and numbers always serializes")
    }

    /// Reads a message from Redis; `None` for anything that is not one of ours.
    pub fn decode(payload: &[u8]) -> Option<Envelope> {
        serde_json::from_slice(payload).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelopes_round_trip_and_name_no_secret() {
        let envelope = Envelope {
            node: "n1".into(),
            message: Message::Deliver {
                app: "app-1".into(),
                items: vec![Delivery {
                    channel: "orders".into(),
                    frame: r#"{"event":"e","data":"{}","channel":"orders"}"#.into(),
                }],
                except: Some("1.2".into()),
            },
        };
        let json = envelope.encode();
        assert!(json.starts_with(r#"{"node":"n1","type":"deliver","app":"app-1""#));
        assert_eq!(Envelope::decode(json.as_bytes()), Some(envelope));
        assert_eq!(Envelope::decode(b"not json"), None);
        assert_eq!(
            Envelope::decode(br#"{"type":"message","application":"O:26"}"#),
            None
        );
    }

    #[test]
    fn a_presence_change_reads_as_lua_writes_it() {
        // cjson orders keys as it likes and escapes slashes; `channel_data` stays a string, so
        // a big integer user id is passed on untouched.
        let lua = br#"{"data":"{\"user_id\":12345678901234567890,\"user_info\":{\"url\":\"a\/b\"}}","version":42,"change":"added","type":"presence","channel":"presence-room","except":"1.2","node":"n1","app":"app-1"}"#;
        let envelope = Envelope::decode(lua).expect("a presence change");
        assert_eq!(
            envelope,
            Envelope {
                node: "n1".into(),
                message: Message::Presence(PresenceChange {
                    app: "app-1".into(),
                    channel: "presence-room".into(),
                    version: 42,
                    change: Change::Added,
                    data: r#"{"user_id":12345678901234567890,"user_info":{"url":"a/b"}}"#.into(),
                    except: Some("1.2".into()),
                    others_only: false,
                }),
            }
        );
        let resynced = br#"{"node":"n1","type":"presence","app":"a","channel":"presence-c","version":3,"change":"removed","data":"{}","others_only":true}"#;
        let Some(Envelope {
            message: Message::Presence(change),
            ..
        }) = Envelope::decode(resynced)
        else {
            panic!("a presence change");
        };
        assert!(change.others_only && change.except.is_none());
        assert_eq!(change.change, Change::Removed);
    }
}
