//! The Pusher protocol v7: what clients send, what the server answers, and the error codes.
//!
//! [`ClientMessage::parse`] turns one text frame into a typed message or a [`PusherError`]
//! that says exactly what was wrong; [`frames`] builds every frame the server sends;
//! [`close`] picks the WebSocket close code for a client that breaks RFC 6455.

pub mod close;
mod error;
pub mod frames;

pub use error::PusherError;
use serde_json::{Map, Value};

/// One message from a client, parsed and validated.
#[derive(Debug, Clone, PartialEq)]
pub enum ClientMessage {
    /// `pusher:ping`: answered with `pusher:pong`.
    Ping,
    /// `pusher:pong`: the answer to a server ping; only refreshes activity.
    Pong,
    /// `pusher:subscribe` to a channel, with the auth fields private and presence channels need.
    Subscribe {
        /// The channel name.
        channel: String,
        /// `key:signature` for private and presence channels.
        auth: Option<String>,
        /// The presence member's JSON (`{"user_id":..,"user_info":..}`), signed with `auth`.
        channel_data: Option<String>,
    },
    /// `pusher:signin`: authenticate the socket as a user.
    Signin {
        /// `key:signature` over `socket_id::user::user_data`.
        auth: Option<String>,
        /// The user's JSON (`{"id":"..","user_info":..,"watchlist":[..]}`), as signed.
        user_data: String,
    },
    /// `pusher:unsubscribe` from a channel.
    Unsubscribe {
        /// The channel name.
        channel: String,
    },
    /// A client event (whisper): an event named `client-*` sent to a channel's other members.
    ClientEvent {
        /// The event name, starting with `client-`.
        event: String,
        /// The channel it is sent to.
        channel: String,
        /// The payload object, or `null` when none was sent.
        data: Value,
    },
    /// A message the server accepts and ignores, like Reverb ignores events that are neither
    /// `pusher:*` nor `client-*`.
    Ignored {
        /// The event name.
        event: String,
        /// The channel it named.
        channel: String,
    },
}

fn invalid(detail: &str) -> PusherError {
    PusherError::InvalidMessage(format!("Invalid message format: {detail}"))
}

impl ClientMessage {
    /// The `event` field the message arrived with.
    pub fn event(&self) -> &str {
        match self {
            ClientMessage::Ping => "pusher:ping",
            ClientMessage::Pong => "pusher:pong",
            ClientMessage::Subscribe { .. } => "pusher:subscribe",
            ClientMessage::Unsubscribe { .. } => "pusher:unsubscribe",
            ClientMessage::Signin { .. } => "pusher:signin",
            ClientMessage::ClientEvent { event, .. } | ClientMessage::Ignored { event, .. } => {
                event
            }
        }
    }

    /// The channel the message is about, when it names one.
    pub fn channel(&self) -> Option<&str> {
        match self {
            ClientMessage::Ping | ClientMessage::Pong | ClientMessage::Signin { .. } => None,
            ClientMessage::Subscribe { channel, .. }
            | ClientMessage::Unsubscribe { channel }
            | ClientMessage::ClientEvent { channel, .. }
            | ClientMessage::Ignored { channel, .. } => Some(channel),
        }
    }

    /// Parses one text frame.
    pub fn parse(text: &str) -> Result<ClientMessage, PusherError> {
        let value: Value =
            serde_json::from_str(text).map_err(|_| invalid("the message is not valid JSON"))?;
        let Value::Object(mut message) = value else {
            return Err(invalid("the message must be a JSON object"));
        };
        let event = match message.remove("event") {
            Some(Value::String(event)) => event,
            _ => return Err(invalid("\"event\" must be a string")),
        };
        let data = decode_nested_json(message.remove("data").unwrap_or(Value::Null));

        match event.as_str() {
            "pusher:ping" => Ok(ClientMessage::Ping),
            "pusher:pong" => Ok(ClientMessage::Pong),
            "pusher:subscribe" => {
                let mut data = object(data, "pusher:subscribe")?;
                Ok(ClientMessage::Subscribe {
                    channel: required_string(&mut data, "channel")?,
                    auth: optional_string(&mut data, "auth")?,
                    channel_data: optional_string(&mut data, "channel_data")?,
                })
            }
            "pusher:signin" => {
                let mut data = object(data, "pusher:signin")?;
                Ok(ClientMessage::Signin {
                    auth: optional_string(&mut data, "auth")?,
                    user_data: required_string(&mut data, "user_data")?,
                })
            }
            "pusher:unsubscribe" => {
                let mut data = object(data, "pusher:unsubscribe")?;
                Ok(ClientMessage::Unsubscribe {
                    channel: required_string(&mut data, "channel")?,
                })
            }
            other if other.starts_with("pusher:") => {
                Err(invalid(&format!("unknown event \"{other}\"")))
            }
            _ => {
                let channel = match message.remove("channel") {
                    Some(Value::String(channel)) => channel,
                    _ => return Err(invalid("\"channel\" must be a string")),
                };
                if !matches!(data, Value::Null | Value::Object(_) | Value::Array(_)) {
                    return Err(invalid("client event \"data\" must be an object"));
                }
                if event.starts_with("client-") {
                    Ok(ClientMessage::ClientEvent {
                        event,
                        channel,
                        data,
                    })
                } else {
                    Ok(ClientMessage::Ignored { event, channel })
                }
            }
        }
    }
}

/// pusher-js sends `data` as an object, some clients as a JSON string: accept both.
fn decode_nested_json(data: Value) -> Value {
    match data {
        Value::String(text) => serde_json::from_str(&text).unwrap_or(Value::String(text)),
        other => other,
    }
}

fn object(data: Value, event: &str) -> Result<Map<String, Value>, PusherError> {
    match data {
        Value::Object(map) => Ok(map),
        _ => Err(invalid(&format!("{event} needs a \"data\" object"))),
    }
}

fn required_string(data: &mut Map<String, Value>, key: &str) -> Result<String, PusherError> {
    match data.remove(key) {
        Some(Value::String(s)) => Ok(s),
        _ => Err(invalid(&format!("\"data.{key}\" must be a string"))),
    }
}

fn optional_string(
    data: &mut Map<String, Value>,
    key: &str,
) -> Result<Option<String>, PusherError> {
    match data.remove(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(invalid(&format!("\"data.{key}\" must be a string"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_subscribe_with_auth() {
        let message = ClientMessage::parse(
            r#"{"event":"pusher:subscribe","data":{"channel":"private-a","auth":"k:sig"}}"#,
        )
        .unwrap();
        assert_eq!(
            message,
            ClientMessage::Subscribe {
                channel: "private-a".into(),
                auth: Some("k:sig".into()),
                channel_data: None
            }
        );
    }

    #[test]
    fn accepts_data_sent_as_a_json_string() {
        let message =
            ClientMessage::parse(r#"{"event":"pusher:unsubscribe","data":"{\"channel\":\"a\"}"}"#)
                .unwrap();
        assert_eq!(
            message,
            ClientMessage::Unsubscribe {
                channel: "a".into()
            }
        );
    }

    #[test]
    fn rejects_malformed_frames_with_4200() {
        for bad in [
            "Hi",
            "[]",
            r#"{"event":1}"#,
            r#"{"event":"pusher:subscribe","data":"x"}"#,
            r#"{"event":"pusher:subscribe","data":{"channel":["a"]}}"#,
            r#"{"event":"pusher:subscribe","data":{"channel":"a","auth":[]}}"#,
            r#"{"event":"pusher:signon"}"#,
            r#"{"event":"client-x","channel":"a","data":"not json"}"#,
        ] {
            let err = ClientMessage::parse(bad).unwrap_err();
            assert_eq!(err.code(), 4200, "{bad}");
        }
    }

    #[test]
    fn client_events_need_the_client_prefix() {
        let message =
            ClientMessage::parse(r#"{"event":"client-typing","channel":"a","data":{"id":1}}"#)
                .unwrap();
        assert_eq!(
            message,
            ClientMessage::ClientEvent {
                event: "client-typing".into(),
                channel: "a".into(),
                data: json!({"id": 1})
            }
        );
        assert_eq!(
            ClientMessage::parse(r#"{"event":"typing","channel":"a"}"#).unwrap(),
            ClientMessage::Ignored {
                event: "typing".into(),
                channel: "a".into()
            }
        );
    }
}

/// Property-based fuzzing of [`ClientMessage::parse`]: arbitrary text, and arbitrary JSON
/// shaped like the messages clients send, never panic it, and what it accepts is what was
/// sent.
#[cfg(test)]
mod fuzz {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    /// Arbitrary JSON values, nested a few levels deep.
    fn json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            any::<String>().prop_map(Value::String),
            "[a-z:-]{0,12}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 32, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::vec(("[a-z_]{0,12}", inner), 0..6)
                    .prop_map(|fields| Value::Object(fields.into_iter().collect())),
            ]
        })
    }

    /// Event names: every one the parser knows, near misses, and anything.
    fn event() -> impl Strategy<Value = String> {
        prop_oneof![
            prop::sample::select(vec![
                "pusher:ping",
                "pusher:pong",
                "pusher:subscribe",
                "pusher:unsubscribe",
                "pusher:signin",
                "pusher:bogus",
                "client-typing",
                "client-",
                "typing",
            ])
            .prop_map(String::from),
            any::<String>(),
        ]
    }

    /// A `data` object with the fields the messages read, each of any JSON type or absent.
    fn data_object() -> impl Strategy<Value = Map<String, Value>> {
        let field = |name: &'static str| {
            prop::option::of(prop_oneof![any::<String>().prop_map(Value::String), json()])
                .prop_map(move |value| value.map(|value| (name.to_string(), value)))
        };
        (
            field("channel"),
            field("auth"),
            field("channel_data"),
            field("user_data"),
        )
            .prop_map(|(a, b, c, d)| [a, b, c, d].into_iter().flatten().collect())
    }

    /// A message shaped like a client's: an `event`, maybe a `channel`, and `data` as an
    /// object, as the JSON string of one, or as any other value.
    fn message() -> impl Strategy<Value = Map<String, Value>> {
        let data = prop_oneof![
            data_object().prop_map(Value::Object),
            data_object().prop_map(|data| Value::String(Value::Object(data).to_string())),
            json(),
        ];
        (
            prop::option::of(prop_oneof![event().prop_map(Value::String), json()]),
            prop::option::of(prop_oneof![any::<String>().prop_map(Value::String), json()]),
            prop::option::of(data),
        )
            .prop_map(|(event, channel, data)| {
                [("event", event), ("channel", channel), ("data", data)]
                    .into_iter()
                    .filter_map(|(name, value)| value.map(|value| (name.to_string(), value)))
                    .collect()
            })
    }

    proptest! {
        #[test]
        fn arbitrary_text_is_parsed_or_refused_with_4200(text in any::<String>()) {
            if let Err(error) = ClientMessage::parse(&text) {
                prop_assert_eq!(error.code(), 4200);
                prop_assert!(!error.closes_connection());
            }
        }

        #[test]
        fn an_accepted_message_is_the_one_sent(message in message()) {
            let text = Value::Object(message.clone()).to_string();
            let parsed = match ClientMessage::parse(&text) {
                Ok(parsed) => parsed,
                Err(error) => {
                    prop_assert_eq!(error.code(), 4200);
                    return Ok(());
                }
            };
            prop_assert_eq!(Some(&Value::String(parsed.event().to_string())), message.get("event"));
            let data = decode_nested_json(message.get("data").cloned().unwrap_or(Value::Null));
            match &parsed {
                ClientMessage::Subscribe { channel, .. } | ClientMessage::Unsubscribe { channel } => {
                    prop_assert_eq!(Some(&Value::String(channel.clone())), data.get("channel"));
                }
                ClientMessage::ClientEvent { channel, data: sent, .. } => {
                    prop_assert!(parsed.event().starts_with("client-"));
                    prop_assert_eq!(Some(&Value::String(channel.clone())), message.get("channel"));
                    prop_assert_eq!(sent, &data);
                }
                ClientMessage::Ignored { event, channel } => {
                    prop_assert!(!event.starts_with("client-") && !event.starts_with("pusher:"));
                    prop_assert_eq!(Some(&Value::String(channel.clone())), message.get("channel"));
                }
                ClientMessage::Ping | ClientMessage::Pong | ClientMessage::Signin { .. } => {}
            }
        }

        #[test]
        fn data_as_an_object_or_as_its_json_string_is_the_same_message(
            event in event(),
            channel in any::<String>(),
            data in data_object(),
        ) {
            let as_object = json!({"event": event, "channel": channel, "data": data});
            let as_string = json!({"event": event, "channel": channel, "data": Value::Object(data).to_string()});
            prop_assert_eq!(
                ClientMessage::parse(&as_object.to_string()),
                ClientMessage::parse(&as_string.to_string())
            );
        }
    }
}
