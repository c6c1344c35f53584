//! Channel names: what is allowed, and which kind of channel a name denotes.
//!
//! Names follow Pusher: at most 164 characters from `A-Z a-z 0-9 _ - = @ , . ;`, with `#`
//! reserved for `#server-to-user-{id}`. The prefix decides the kind, with the hyphen, as
//! pusher-js decides it.

use crate::protocol::PusherError;

/// The longest channel name Pusher allows, prefix included.
pub const MAX_LENGTH: usize = 164;

/// The prefix of the channel a signed-in user's server-to-user events arrive on.
pub const SERVER_TO_USER_PREFIX: &str = "#server-to-user-";

/// Who may subscribe to a channel and what subscribing involves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    /// Anyone.
    Public,
    /// A socket with a valid auth signature (`private-`, `private-encrypted-`).
    Private,
    /// A socket with a valid auth signature over its member data (`presence-`).
    Presence,
    /// Only sockets signed in as this user (`#server-to-user-{id}`).
    ServerToUser(String),
}

/// A validated channel name's kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelKind {
    /// Who may subscribe.
    pub access: Access,
    /// Whether the channel keeps its last event for new subscribers.
    pub cached: bool,
}

impl ChannelKind {
    /// Validates `name` and tells its kind; an invalid name is a 4200 error that says why.
    pub fn of(name: &str) -> Result<ChannelKind, PusherError> {
        if name.is_empty() {
            return Err(invalid(name, "must not be empty"));
        }
        if name.chars().count() > MAX_LENGTH {
            return Err(invalid(name, "is longer than 164 characters"));
        }
        if let Some(user_id) = name.strip_prefix(SERVER_TO_USER_PREFIX) {
            if user_id.is_empty() {
                return Err(invalid(name, "names no user"));
            }
            return Ok(ChannelKind {
                access: Access::ServerToUser(user_id.to_string()),
                cached: false,
            });
        }
        if let Some(bad) = name.chars().find(|c| !is_allowed(*c)) {
            return Err(invalid(
                name,
                &format!("contains '{bad}'; allowed are A-Z a-z 0-9 _ - = @ , . ;"),
            ));
        }
        let access = if is_presence(name) {
            Access::Presence
        } else if name.starts_with("private-") {
            Access::Private
        } else {
            Access::Public
        };
        Ok(ChannelKind {
            access,
            cached: is_cached(name),
        })
    }
}

/// A channel's type as the metrics break channels down; cache channels count under the
/// type their prefix names (`private-cache-` is private).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelType {
    /// Anyone may subscribe.
    Public,
    /// `private-`, but not `private-encrypted-`.
    Private,
    /// `private-encrypted-`: end-to-end encrypted payloads.
    PrivateEncrypted,
    /// `presence-`.
    Presence,
    /// `#server-to-user-{id}`: a signed-in user's own channel.
    ServerToUser,
}

impl ChannelType {
    /// Every type, in the order the metrics list them.
    pub const ALL: [ChannelType; 5] = [
        ChannelType::Public,
        ChannelType::Private,
        ChannelType::PrivateEncrypted,
        ChannelType::Presence,
        ChannelType::ServerToUser,
    ];

    /// The type of the channel named `name`, a name already validated.
    pub fn of(name: &str) -> ChannelType {
        if name.starts_with(SERVER_TO_USER_PREFIX) {
            ChannelType::ServerToUser
        } else if is_presence(name) {
            ChannelType::Presence
        } else if name.starts_with("private-encrypted-") {
            ChannelType::PrivateEncrypted
        } else if name.starts_with("private-") {
            ChannelType::Private
        } else {
            ChannelType::Public
        }
    }

    /// The value of the metrics' `type` label.
    pub fn label(self) -> &'static str {
        match self {
            ChannelType::Public => "public",
            ChannelType::Private => "private",
            ChannelType::PrivateEncrypted => "private-encrypted",
            ChannelType::Presence => "presence",
            ChannelType::ServerToUser => "server-to-user",
        }
    }
}

/// Whether a channel is a presence channel (`presence-`, `presence-cache-`).
pub fn is_presence(name: &str) -> bool {
    name.starts_with("presence-")
}

/// Whether a channel keeps its last event (`cache-`, `private-cache-`,
/// `private-encrypted-cache-`, `presence-cache-`); cheap enough for every publish.
pub fn is_cached(name: &str) -> bool {
    let rest = name
        .strip_prefix("presence-")
        .or_else(|| name.strip_prefix("private-encrypted-"))
        .or_else(|| name.strip_prefix("private-"))
        .unwrap_or(name);
    rest.starts_with("cache-")
}

fn is_allowed(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_-=@,.;".contains(c)
}

fn invalid(name: &str, problem: &str) -> PusherError {
    let shown: String = name.chars().take(40).collect();
    PusherError::InvalidMessage(format!("Invalid channel name \"{shown}\": it {problem}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(name: &str) -> ChannelKind {
        ChannelKind::of(name).unwrap()
    }

    #[test]
    fn prefixes_decide_the_type_metrics_count_a_channel_as() {
        let cases = [
            ("news", ChannelType::Public),
            ("cache-news", ChannelType::Public),
            ("private-chat", ChannelType::Private),
            ("private-cache-chat", ChannelType::Private),
            ("private-encrypted-chat", ChannelType::PrivateEncrypted),
            (
                "private-encrypted-cache-chat",
                ChannelType::PrivateEncrypted,
            ),
            ("presence-room", ChannelType::Presence),
            ("presence-cache-room", ChannelType::Presence),
            ("#server-to-user-7", ChannelType::ServerToUser),
        ];
        for (name, expected) in cases {
            assert_eq!(ChannelType::of(name), expected, "{name}");
        }
    }

    #[test]
    fn prefixes_decide_access_and_caching() {
        assert_eq!(kind("news").access, Access::Public);
        assert_eq!(kind("private-a").access, Access::Private);
        assert_eq!(kind("private-encrypted-a").access, Access::Private);
        assert_eq!(kind("presence-a").access, Access::Presence);
        assert_eq!(kind("privatefoo").access, Access::Public);
        for cached in [
            "cache-a",
            "private-cache-a",
            "private-encrypted-cache-a",
            "presence-cache-a",
        ] {
            assert!(kind(cached).cached, "{cached}");
        }
        assert!(!kind("news-cache-a").cached);
        assert_eq!(
            kind("#server-to-user-42").access,
            Access::ServerToUser("42".into())
        );
    }

    #[test]
    fn bad_names_are_4200_with_a_reason() {
        for bad in [
            "",
            "has space",
            "#other",
            "emoji-\u{1F600}",
            &"a".repeat(165),
        ] {
            let err = ChannelKind::of(bad).unwrap_err();
            assert_eq!(err.code(), 4200, "{bad}");
            assert!(err.message().starts_with("Invalid channel name"), "{bad}");
        }
        assert!(ChannelKind::of(&"a".repeat(164)).is_ok());
        assert!(ChannelKind::of("a_b-c=d@e,f.g;h").is_ok());
    }
}

/// Property-based fuzzing of [`ChannelKind::of`]: any string is judged without panicking, by
/// Pusher's rules, and the error never carries more than a bounded part of the name.
#[cfg(test)]
mod fuzz {
    use super::*;
    use proptest::prelude::*;

    /// The prefixes that decide a channel's kind, and none.
    fn prefix() -> impl Strategy<Value = &'static str> {
        prop::sample::select(vec![
            "",
            "private-",
            "private-encrypted-",
            "presence-",
            "cache-",
            "private-cache-",
            "private-encrypted-cache-",
            "presence-cache-",
            SERVER_TO_USER_PREFIX,
        ])
    }

    proptest! {
        #[test]
        fn any_name_is_accepted_only_by_pusher_rules(prefix in prefix(), rest in any::<String>()) {
            let name = format!("{prefix}{rest}");
            match ChannelKind::of(&name) {
                Ok(kind) => {
                    prop_assert!(!name.is_empty());
                    prop_assert!(name.chars().count() <= MAX_LENGTH);
                    match name.strip_prefix(SERVER_TO_USER_PREFIX) {
                        Some(user) => prop_assert_eq!(kind.access, Access::ServerToUser(user.to_string())),
                        None => prop_assert!(name.chars().all(is_allowed)),
                    }
                }
                Err(error) => {
                    prop_assert_eq!(error.code(), 4200);
                    let message = error.message();
                    prop_assert!(message.starts_with("Invalid channel name"));
                    prop_assert!(message.chars().count() <= 160, "{}", message);
                }
            }
        }

        #[test]
        fn names_of_allowed_characters_up_to_164_are_accepted_with_their_prefix_kind(
            prefix in prefix().prop_filter("not server-to-user", |p| *p != SERVER_TO_USER_PREFIX),
            rest in "[A-Za-z0-9_=@,.;-]{1,140}",
        ) {
            let name = format!("{prefix}{rest}");
            let kind = ChannelKind::of(&name).unwrap();
            let access = if name.starts_with("presence-") {
                Access::Presence
            } else if name.starts_with("private-") {
                Access::Private
            } else {
                Access::Public
            };
            prop_assert_eq!(kind.access, access);
            if prefix.ends_with("cache-") {
                prop_assert!(kind.cached);
            }
        }

        #[test]
        fn names_over_164_characters_are_refused(name in "[a-z]{165,400}") {
            prop_assert_eq!(ChannelKind::of(&name).unwrap_err().code(), 4200);
        }
    }
}
