//! HMAC-SHA256 signatures: channel authorization and user sign-in.
//!
//! An auth value is `key:hex(HMAC-SHA256(secret, string_to_sign))`. Verification checks the
//! key and compares the signature in constant time.

use crate::config::AppConfig;
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// The lowercase hex HMAC-SHA256 of `message` with `secret`.
pub fn sign(secret: &str, message: &str) -> String {
    hex::encode(mac(secret, message).finalize().into_bytes())
}

fn mac(secret: &str, message: &str) -> HmacSha256 {
    let mut mac =
        HmacSha256::new_from_slice(secret.as_bytes()).expect("HMAC accepts keys of any length");
    mac.update(message.as_bytes());
    mac
}

/// Whether `auth` (`key:signature`) signs `message` for `app`, compared in constant time.
fn verify(app: &AppConfig, message: &str, auth: Option<&str>) -> bool {
    let Some((key, signature)) = auth.and_then(|auth| auth.split_once(':')) else {
        return false;
    };
    let Ok(signature) = hex::decode(signature) else {
        return false;
    };
    key == app.key && mac(&app.secret, message).verify_slice(&signature).is_ok()
}

/// What a private or presence channel's auth signs: `socket_id:channel[:channel_data]`.
pub fn channel_string(socket_id: &str, channel: &str, channel_data: Option<&str>) -> String {
    match channel_data {
        Some(data) => format!("{socket_id}:{channel}:{data}"),
        None => format!("{socket_id}:{channel}"),
    }
}

/// Checks a `pusher:subscribe` auth for a private or presence channel.
pub fn verify_channel(
    app: &AppConfig,
    socket_id: &str,
    channel: &str,
    channel_data: Option<&str>,
    auth: Option<&str>,
) -> bool {
    verify(app, &channel_string(socket_id, channel, channel_data), auth)
}

/// What a user sign-in's auth signs: `socket_id::user::user_data`.
pub fn user_string(socket_id: &str, user_data: &str) -> String {
    format!("{socket_id}::user::{user_data}")
}

/// Checks a `pusher:signin` auth.
pub fn verify_user(app: &AppConfig, socket_id: &str, user_data: &str, auth: Option<&str>) -> bool {
    verify(app, &user_string(socket_id, user_data), auth)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    /// The credentials of the worked examples in Pusher's "auth signatures" documentation.
    fn pusher_docs_app() -> AppConfig {
        let value = serde_json::json!({"apps": {"apps": [{
            "app_id": "1", "key": "278d425bdf160c739803", "secret": "7ad3773142a6692b25b8"
        }]}});
        Config::from_value(&value).unwrap().apps.remove(0)
    }

    #[test]
    fn private_channel_matches_the_pusher_docs_example() {
        let app = pusher_docs_app();
        let expected = "58df8b0c36d6982b82c3ecf6b4662e34fe8c25bba48f5369f135bf843651c3a4";
        assert_eq!(sign(&app.secret, "1234.1234:private-foobar"), expected);
        let auth = format!("278d425bdf160c739803:{expected}");
        assert!(verify_channel(
            &app,
            "1234.1234",
            "private-foobar",
            None,
            Some(&auth)
        ));
        assert!(!verify_channel(
            &app,
            "1234.1235",
            "private-foobar",
            None,
            Some(&auth)
        ));
    }

    /// The documented signature was computed when the example user was named "Mr. Pusher";
    /// the page now shows "Mr. Channels" next to the old signature.
    #[test]
    fn presence_channel_matches_the_pusher_docs_example() {
        let app = pusher_docs_app();
        let data = r#"{"user_id":10,"user_info":{"name":"Mr. Pusher"}}"#;
        let auth =
            "278d425bdf160c739803:afaed3695da2ffd16931f457e338e6c9f2921fa133ce7dac49f529792be6304c";
        assert!(verify_channel(
            &app,
            "1234.1234",
            "presence-foobar",
            Some(data),
            Some(auth)
        ));
        let forged = r#"{"user_id":11,"user_info":{"name":"Mr. Pusher"}}"#;
        assert!(!verify_channel(
            &app,
            "1234.1234",
            "presence-foobar",
            Some(forged),
            Some(auth)
        ));
    }

    #[test]
    fn user_signin_matches_the_pusher_docs_example() {
        let app = pusher_docs_app();
        let auth =
            "278d425bdf160c739803:4708d583dada6a56435fb8bc611c77c359a31eebde13337c16ab43aa6de336ba";
        assert!(verify_user(
            &app,
            "1234.1234",
            r#"{"id":"12345"}"#,
            Some(auth)
        ));
        assert!(!verify_user(
            &app,
            "1234.1234",
            r#"{"id":"12346"}"#,
            Some(auth)
        ));
    }

    #[test]
    fn a_wrong_key_missing_or_malformed_auth_is_rejected() {
        let app = pusher_docs_app();
        let signature = sign(&app.secret, "1234.1234:private-foobar");
        for auth in [
            None,
            Some(String::new()),
            Some(signature.clone()),
            Some(format!("other-key:{signature}")),
            Some("278d425bdf160c739803:not-hex".to_string()),
            Some("278d425bdf160c739803:abcd".to_string()),
        ] {
            assert!(!verify_channel(
                &app,
                "1234.1234",
                "private-foobar",
                None,
                auth.as_deref()
            ));
        }
    }
}
