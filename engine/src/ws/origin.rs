//! The `allowed_origins` check: the host of the `Origin` header against wildcard patterns.

/// Whether a socket with this `Origin` header may connect to an app with these patterns.
///
/// `*` allows everything (also a missing header). Otherwise the header's host (scheme and port
/// ignored) must match a pattern where `*` stands for any run of characters, like Laravel's
/// `Str::is`: `*.example.com` matches `a.example.com` but not `example.com`.
pub fn is_allowed(origin: Option<&str>, patterns: &[String]) -> bool {
    if patterns.iter().any(|p| p == "*") {
        return true;
    }
    let Some(host) = origin.map(host_of) else {
        return false;
    };
    patterns
        .iter()
        .any(|pattern| wildcard_match(&pattern.to_ascii_lowercase(), &host))
}

fn host_of(origin: &str) -> String {
    let without_scheme = origin.split_once("://").map_or(origin, |(_, rest)| rest);
    let authority = without_scheme.split('/').next().unwrap_or_default();
    let host = match authority.strip_prefix('[') {
        Some(ipv6) => ipv6.split(']').next().unwrap_or_default(),
        None => authority.split(':').next().unwrap_or_default(),
    };
    host.to_ascii_lowercase()
}

fn wildcard_match(pattern: &str, text: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == text,
        Some((prefix, rest)) => {
            let Some(remaining) = text.strip_prefix(prefix) else {
                return false;
            };
            (0..=remaining.len())
                .filter(|&i| remaining.is_char_boundary(i))
                .any(|i| wildcard_match(rest, &remaining[i..]))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn patterns(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn star_allows_everything_even_without_origin() {
        assert!(is_allowed(None, &patterns(&["*"])));
        assert!(is_allowed(Some("https://evil.test"), &patterns(&["*"])));
    }

    #[test]
    fn matches_reverbs_origin_matrix() {
        let laravel = patterns(&["laravel.com"]);
        assert!(!is_allowed(Some("http://localhost"), &laravel));
        assert!(!is_allowed(Some("https://sub.laravel.com"), &laravel));
        assert!(is_allowed(Some("https://laravel.com:8443"), &laravel));
        assert!(!is_allowed(
            Some("https://laravel.com"),
            &patterns(&["*.laravel.com"])
        ));
        assert!(is_allowed(
            Some("https://a.laravel.com"),
            &patterns(&["*.laravel.com"])
        ));
        let local = patterns(&["localhost", "*.localhost"]);
        assert!(is_allowed(Some("http://localhost:3000"), &local));
        assert!(is_allowed(Some("http://sub.localhost"), &local));
        assert!(!is_allowed(None, &local));
    }
}
