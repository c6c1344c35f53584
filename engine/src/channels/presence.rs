//! Presence membership: who is in a presence channel, counted per user, not per socket.
//!
//! A user with several sockets (tabs) is one member: `member_added` goes out when the user's
//! first socket joins, `member_removed` when the last one leaves.

use crate::protocol::PusherError;
use serde_json::{Map, Value};
use std::collections::HashMap;

/// The member a socket declared in its presence `channel_data`.
#[derive(Debug, Clone, PartialEq)]
pub struct MemberData {
    /// The user id as a string, the key members are counted by.
    pub key: String,
    /// The user id with its JSON type kept (`1` stays a number, `"1"` a string).
    pub user_id: Value,
    /// The user's info object, or `null`.
    pub user_info: Value,
    /// The `channel_data` JSON exactly as the client sent it (and the signature covered).
    pub channel_data: String,
}

impl MemberData {
    /// Reads `channel_data`; `max_info_bytes` limits the size of `user_info`.
    pub fn parse(
        channel_data: Option<&str>,
        max_info_bytes: Option<usize>,
    ) -> Result<MemberData, PusherError> {
        let invalid = |detail: &str| {
            PusherError::InvalidMessage(format!("Invalid presence channel_data: {detail}"))
        };
        let raw = channel_data.ok_or_else(|| invalid("it is required on presence channels"))?;
        let Ok(Value::Object(mut data)) = serde_json::from_str::<Value>(raw) else {
            return Err(invalid("it must be a JSON object"));
        };
        let user_id = data.remove("user_id").unwrap_or(Value::Null);
        let Some(key) = member_key(&user_id) else {
            return Err(invalid(
                "\"user_id\" must be a non-empty string or a number",
            ));
        };
        let user_info = data.remove("user_info").unwrap_or(Value::Null);
        if let Some(limit) = max_info_bytes {
            let size = user_info.to_string().len();
            if size > limit {
                return Err(invalid(&format!(
                    "\"user_info\" is {size} bytes, over the app's max_presence_user_info_bytes of {limit}"
                )));
            }
        }
        Ok(MemberData {
            key,
            user_id,
            user_info,
            channel_data: raw.to_string(),
        })
    }
}

/// The key members are counted by: the user id as a string, so `1` and `"1"` are one user.
/// `None` for ids that are neither a non-empty string nor a number.
pub fn member_key(user_id: &Value) -> Option<String> {
    match user_id {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The `subscription_succeeded` payload, `{"presence":{"count","ids","hash"}}`, for members
/// given as `(user_id, user_info)`; a user listed twice appears once.
pub fn snapshot_of<'a>(members: impl IntoIterator<Item = (&'a Value, &'a Value)>) -> String {
    let mut ids = Vec::new();
    let mut hash = Map::new();
    for (user_id, user_info) in members {
        if let Some(key) = member_key(user_id) {
            if hash.insert(key, user_info.clone()).is_none() {
                ids.push(user_id.clone());
            }
        }
    }
    serde_json::json!({"presence": {"count": ids.len(), "ids": ids, "hash": hash}}).to_string()
}

/// The `subscription_succeeded` payload from the `channel_data` of every member, as a
/// cluster keeps them.
pub fn snapshot_from_channel_data(members: &[String]) -> String {
    let members: Vec<MemberData> = members
        .iter()
        .filter_map(|data| MemberData::parse(Some(data), None).ok())
        .collect();
    snapshot_of(members.iter().map(|m| (&m.user_id, &m.user_info)))
}

/// One member and how many of its sockets are subscribed.
#[derive(Debug, Clone)]
struct Member {
    user_id: Value,
    user_info: Value,
    sockets: usize,
}

/// The members of one presence channel.
#[derive(Debug, Default)]
pub struct Members {
    by_key: HashMap<String, Member>,
}

impl Members {
    /// Whether `key` is already a member.
    pub fn contains(&self, key: &str) -> bool {
        self.by_key.contains_key(key)
    }

    /// How many distinct users are members.
    pub fn len(&self) -> usize {
        self.by_key.len()
    }

    /// Adds a socket of a user; returns whether it is the user's first socket here.
    pub fn join(&mut self, member: &MemberData) -> bool {
        match self.by_key.get_mut(&member.key) {
            Some(existing) => {
                existing.sockets += 1;
                existing.user_info = member.user_info.clone();
                false
            }
            None => {
                self.by_key.insert(
                    member.key.clone(),
                    Member {
                        user_id: member.user_id.clone(),
                        user_info: member.user_info.clone(),
                        sockets: 1,
                    },
                );
                true
            }
        }
    }

    /// Removes a socket of a user; returns the user id and whether it was the user's last
    /// socket here, or `None` when `key` is not a member.
    pub fn leave(&mut self, key: &str) -> Option<(Value, bool)> {
        let member = self.by_key.get_mut(key)?;
        member.sockets -= 1;
        if member.sockets > 0 {
            return Some((member.user_id.clone(), false));
        }
        self.by_key.remove(key).map(|m| (m.user_id, true))
    }

    /// The user ids, JSON types kept.
    pub fn ids(&self) -> Vec<Value> {
        self.by_key.values().map(|m| m.user_id.clone()).collect()
    }

    /// The `subscription_succeeded` payload: `{"presence":{"count","ids","hash"}}`.
    pub fn snapshot(&self) -> String {
        snapshot_of(self.by_key.values().map(|m| (&m.user_id, &m.user_info)))
    }

    /// Every member with its data and how many of its sockets are here.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value, &Value, usize)> {
        self.by_key
            .iter()
            .map(|(key, m)| (key.as_str(), &m.user_id, &m.user_info, m.sockets))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn member(data: &str) -> MemberData {
        MemberData::parse(Some(data), None).unwrap()
    }

    #[test]
    fn several_sockets_of_one_user_are_one_member() {
        let mut members = Members::default();
        let tab = member(r#"{"user_id":1,"user_info":{"name":"Ada"}}"#);
        assert!(members.join(&tab));
        assert!(!members.join(&tab));
        assert_eq!(members.len(), 1);
        assert_eq!(members.leave("1"), Some((json!(1), false)));
        assert_eq!(members.leave("1"), Some((json!(1), true)));
        assert_eq!(members.leave("1"), None);
        assert_eq!(members.len(), 0);
    }

    #[test]
    fn snapshot_keeps_id_types() {
        let mut members = Members::default();
        members.join(&member(r#"{"user_id":1,"user_info":{"name":"Ada"}}"#));
        members.join(&member(r#"{"user_id":"2"}"#));
        let snapshot: Value = serde_json::from_str(&members.snapshot()).unwrap();
        assert_eq!(snapshot["presence"]["count"], 2);
        let ids = snapshot["presence"]["ids"].as_array().unwrap();
        assert!(ids.contains(&json!(1)) && ids.contains(&json!("2")));
        assert_eq!(snapshot["presence"]["hash"]["1"], json!({"name": "Ada"}));
        assert_eq!(snapshot["presence"]["hash"]["2"], Value::Null);
    }

    #[test]
    fn channel_data_must_name_a_user_and_respect_the_info_limit() {
        for bad in [
            None,
            Some("x"),
            Some("{}"),
            Some(r#"{"user_id":""}"#),
            Some(r#"{"user_id":[1]}"#),
        ] {
            assert_eq!(MemberData::parse(bad, None).unwrap_err().code(), 4200);
        }
        let big = r#"{"user_id":1,"user_info":{"bio":"0123456789"}}"#;
        let err = MemberData::parse(Some(big), Some(10)).unwrap_err();
        assert!(err.message().contains("max_presence_user_info_bytes"));
        assert!(MemberData::parse(Some(big), Some(100)).is_ok());
    }
}
