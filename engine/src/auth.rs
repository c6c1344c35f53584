//! HMAC-SHA256 signatures: channel authorization, user sign-in, and HTTP API requests.
//!
//! An auth value is `key:hex(HMAC-SHA256(secret, string_to_sign))`. Verification checks the
//! key and compares the signature in constant time. HTTP API requests sign
//! `METHOD\npath\nsorted query` and carry the signature in `auth_signature`.

use crate::config::AppConfig;
use hmac::{Hmac, Mac};
use md5::{Digest, Md5};
use sha2::Sha256;
use std::time::Duration;

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

/// The hex MD5 of an HTTP request body, as `body_md5` carries it.
pub fn body_md5(body: &[u8]) -> String {
    hex::encode(Md5::digest(body))
}

/// What an HTTP API request signs: `METHOD\npath\nk=v&...` with every query parameter except
/// `auth_signature`, keys lower-cased and sorted, values not escaped.
pub fn request_string(method: &str, path: &str, params: &[(String, String)]) -> String {
    let mut pairs: Vec<(String, &str)> = params
        .iter()
        .filter(|(key, _)| key != "auth_signature")
        .map(|(key, value)| (key.to_ascii_lowercase(), value.as_str()))
        .collect();
    pairs.sort();
    let query: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!(
        "{}\n{path}\n{}",
        method.to_ascii_uppercase(),
        query.join("&")
    )
}

/// Why an HTTP API request's signature was refused; the text says which part was wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestAuthError {
    /// A required parameter is absent.
    #[error("Authentication signature invalid: the {0} parameter is missing.")]
    Missing(&'static str),
    /// An authentication parameter appears more than once: which copy counts would be a
    /// guess, and a proxy or SDK could pick another one than the server.
    #[error("Authentication signature invalid: the {0} parameter is given more than once.")]
    Repeated(&'static str),
    /// `auth_key` is not the app's key.
    #[error("Authentication signature invalid: auth_key is not this app's key.")]
    WrongKey,
    /// `auth_timestamp` is not a number or too far from the server's clock.
    #[error("Authentication signature invalid: auth_timestamp is {0}, allowed are {1} seconds either side of the server's clock.")]
    Timestamp(String, u64),
    /// `body_md5` does not match the body received.
    #[error("Authentication signature invalid: body_md5 does not match the request body.")]
    BodyMismatch,
    /// The signature does not match.
    #[error("Authentication signature invalid.")]
    Signature,
}

/// The query parameters that authenticate an HTTP API request; each may appear once.
const AUTH_PARAMETERS: [&str; 5] = [
    "auth_key",
    "auth_signature",
    "auth_timestamp",
    "auth_version",
    "body_md5",
];

/// Checks an HTTP API request: no authentication parameter repeated, key, timestamp window
/// (`None` skips it), body digest, then the signature in constant time. `now` is the
/// server's Unix time in seconds.
pub fn verify_request(
    app: &AppConfig,
    method: &str,
    path: &str,
    params: &[(String, String)],
    body: &[u8],
    now: u64,
    timestamp_window: Option<Duration>,
) -> Result<(), RequestAuthError> {
    let param = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    for name in AUTH_PARAMETERS {
        if params.iter().filter(|(k, _)| k == name).nth(1).is_some() {
            return Err(RequestAuthError::Repeated(name));
        }
    }
    let signature = param("auth_signature").ok_or(RequestAuthError::Missing("auth_signature"))?;
    let key = param("auth_key").ok_or(RequestAuthError::Missing("auth_key"))?;
    if key != app.key {
        return Err(RequestAuthError::WrongKey);
    }
    if let Some(window) = timestamp_window {
        let timestamp =
            param("auth_timestamp").ok_or(RequestAuthError::Missing("auth_timestamp"))?;
        let fresh = timestamp
            .parse::<u64>()
            .is_ok_and(|t| t.abs_diff(now) <= window.as_secs());
        if !fresh {
            return Err(RequestAuthError::Timestamp(
                timestamp.to_string(),
                window.as_secs(),
            ));
        }
    }
    match param("body_md5") {
        Some(md5) if md5 != body_md5(body) => return Err(RequestAuthError::BodyMismatch),
        None if !body.is_empty() => return Err(RequestAuthError::Missing("body_md5")),
        _ => {}
    }
    let expected = hex::decode(signature).map_err(|_| RequestAuthError::Signature)?;
    mac(&app.secret, &request_string(method, path, params))
        .verify_slice(&expected)
        .map_err(|_| RequestAuthError::Signature)
}

/// The query parameters that sign a request: `auth_key`, `auth_timestamp`, `auth_version`,
/// `body_md5` (for a body), then `auth_signature` over them and `params`.
pub fn sign_request(
    key: &str,
    secret: &str,
    method: &str,
    path: &str,
    params: &[(String, String)],
    body: &[u8],
    timestamp: u64,
) -> Vec<(String, String)> {
    let mut signed: Vec<(String, String)> = params.to_vec();
    signed.push(("auth_key".into(), key.to_string()));
    signed.push(("auth_timestamp".into(), timestamp.to_string()));
    signed.push(("auth_version".into(), "1.0".into()));
    if !body.is_empty() {
        signed.push(("body_md5".into(), body_md5(body)));
    }
    let signature = sign(secret, &request_string(method, path, &signed));
    signed.push(("auth_signature".into(), signature));
    signed
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

    /// The worked example in Pusher's REST API documentation (app 3, key 278d…, 2012).
    #[test]
    fn http_request_matches_the_pusher_docs_example() {
        let body = br#"{"name":"foo","channels":["project-3"],"data":"{\"some\":\"data\"}"}"#;
        assert_eq!(body_md5(body), "ec365a775a4cd0599faeb73354201b6f");
        let signed = sign_request(
            "278d425bdf160c739803",
            "7ad3773142a6692b25b8",
            "POST",
            "/apps/3/events",
            &[],
            body,
            1353088179,
        );
        let signature = &signed.last().unwrap().1;
        assert_eq!(
            signature,
            "da454824c97ba181a32ccc17a72625ba02771f50b50e1e7430e47a1f3f457e6c"
        );
        let app = pusher_docs_app();
        let window = Some(Duration::from_secs(600));
        assert_eq!(
            verify_request(
                &app,
                "POST",
                "/apps/3/events",
                &signed,
                body,
                1353088179,
                window
            ),
            Ok(())
        );
        assert_eq!(
            verify_request(
                &app,
                "POST",
                "/apps/3/events",
                &signed,
                body,
                1353088179 + 601,
                window
            ),
            Err(RequestAuthError::Timestamp("1353088179".into(), 600))
        );
        assert_eq!(
            verify_request(
                &app,
                "POST",
                "/apps/3/events",
                &signed,
                b"{}",
                1353088179,
                None
            ),
            Err(RequestAuthError::BodyMismatch)
        );
        assert_eq!(
            verify_request(
                &app,
                "POST",
                "/apps/4/events",
                &signed,
                body,
                1353088179,
                None
            ),
            Err(RequestAuthError::Signature)
        );
    }

    #[test]
    fn a_signed_empty_body_md5_on_get_is_accepted() {
        let app = pusher_docs_app();
        let mut params = vec![("body_md5".to_string(), body_md5(b""))];
        params = sign_request(
            &app.key,
            &app.secret,
            "GET",
            "/apps/1/channels",
            &params,
            b"",
            100,
        );
        assert_eq!(
            verify_request(&app, "GET", "/apps/1/channels", &params, b"", 100, None),
            Ok(())
        );
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

/// Property-based fuzzing of [`verify_request`]: arbitrary parameters and bodies never
/// panic it, a request signed by [`sign_request`] always verifies within the timestamp window,
/// and one whose body or timestamp changed does not.
#[cfg(test)]
mod fuzz {
    use super::*;
    use crate::config::Config;
    use proptest::prelude::*;

    /// An app with `key` and `secret`.
    fn app(key: &str, secret: &str) -> AppConfig {
        let value =
            serde_json::json!({"apps": {"apps": [{"app_id": "1", "key": key, "secret": secret}]}});
        Config::from_value(&value).unwrap().apps.remove(0)
    }

    /// Parameter names: the authentication ones (in any case), plausible ones, and anything.
    fn name() -> impl Strategy<Value = String> {
        prop_oneof![
            prop::sample::select(AUTH_PARAMETERS.to_vec()).prop_map(String::from),
            prop::sample::select(AUTH_PARAMETERS.to_vec()).prop_map(str::to_ascii_uppercase),
            "[a-z_]{1,12}",
            any::<String>(),
        ]
    }

    /// Query parameters a client might send, the authentication ones among them.
    fn params() -> impl Strategy<Value = Vec<(String, String)>> {
        prop::collection::vec((name(), any::<String>()), 0..8)
    }

    /// Query parameters a request carries besides the authentication ones: the same kinds
    /// of names as [`params`] but the exact authentication names.
    fn other_params() -> impl Strategy<Value = Vec<(String, String)>> {
        let name = prop_oneof![
            prop::sample::select(AUTH_PARAMETERS.to_vec()).prop_map(str::to_ascii_uppercase),
            "[a-z_]{1,12}",
            any::<String>(),
        ]
        .prop_filter("not an auth parameter", |n| {
            !AUTH_PARAMETERS.contains(&n.as_str())
        });
        prop::collection::vec((name, any::<String>()), 0..8)
    }

    /// Non-empty credentials.
    fn credential() -> impl Strategy<Value = String> {
        (any::<char>(), any::<String>()).prop_map(|(first, rest)| format!("{first}{rest}"))
    }

    proptest! {
        #[test]
        fn arbitrary_requests_are_judged_without_panicking(
            method in any::<String>(),
            path in any::<String>(),
            params in params(),
            body in prop::collection::vec(any::<u8>(), 0..256),
            now in any::<u64>(),
            window in prop::option::of(any::<u64>()),
        ) {
            let app = app("key", "secret");
            let window = window.map(Duration::from_secs);
            let _ = verify_request(&app, &method, &path, &params, &body, now, window);
        }

        #[test]
        fn a_signed_request_verifies_within_the_window_and_not_once_changed(
            (key, secret) in (credential(), credential()),
            method in any::<String>(),
            path in any::<String>(),
            params in other_params(),
            body in prop::collection::vec(any::<u8>(), 0..256),
            timestamp in any::<u64>(),
            skew in 0u64..=600,
            late in any::<bool>(),
            other_body in prop::collection::vec(any::<u8>(), 1..64),
        ) {
            let app = app(&key, &secret);
            let signed = sign_request(&key, &secret, &method, &path, &params, &body, timestamp);
            let now = if late { timestamp.saturating_add(skew) } else { timestamp.saturating_sub(skew) };
            let window = Some(Duration::from_secs(600));
            prop_assert_eq!(verify_request(&app, &method, &path, &signed, &body, now, window), Ok(()));
            prop_assert_eq!(verify_request(&app, &method, &path, &signed, &body, u64::MAX - now, None), Ok(()));

            if other_body != body {
                prop_assert!(verify_request(&app, &method, &path, &signed, &other_body, now, window).is_err());
            }
            if let Some(stale) = timestamp.checked_add(601) {
                prop_assert_eq!(
                    verify_request(&app, &method, &path, &signed, &body, stale, window),
                    Err(RequestAuthError::Timestamp(timestamp.to_string(), 600))
                );
            }
        }
    }
}
