//! Who is on the other end of a connection: the peer address, or, behind a trusted reverse
//! proxy, the client address it reports in `X-Forwarded-For`. Headers from anyone else are
//! ignored, so a client cannot claim another address.

use hyper::header::HeaderMap;
use ipnet::IpNet;
use std::net::IpAddr;

/// The client address of a request.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    // The rightmost address that is not one of our proxies is the client.
    let hops: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .filter_map(|hop| hop.trim().parse().ok())
        .collect();
    hops.into_iter()
        .rev()
        .find(|ip| !is_trusted(ip))
        .unwrap_or(peer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::header::HeaderValue;

    fn headers(forwarded: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", HeaderValue::from_str(forwarded).unwrap());
        headers
    }

    #[test]
    fn forwarded_for_counts_only_from_trusted_proxies() {
        let trusted: Vec<IpNet> = vec![
            "127.0.0.0/8".parse().unwrap(),
            "10.0.0.5/32".parse().unwrap(),
        ];
        let proxy: IpAddr = "127.0.0.1".parse().unwrap();
        let stranger: IpAddr = "192.0.2.7".parse().unwrap();

        assert_eq!(
            client_ip(proxy, &headers("203.0.113.9"), &trusted),
            "203.0.113.9".parse::<IpAddr>().unwrap()
        );
        assert_eq!(
            client_ip(stranger, &headers("203.0.113.9"), &trusted),
            stranger
        );
        assert_eq!(
            client_ip(
                proxy,
                &headers("198.51.100.1, 203.0.113.9, 10.0.0.5"),
                &trusted
            ),
            "203.0.113.9".parse::<IpAddr>().unwrap(),
            "the rightmost hop that is not a proxy of ours"
        );
        assert_eq!(client_ip(proxy, &HeaderMap::new(), &trusted), proxy);
        assert_eq!(client_ip(proxy, &headers("203.0.113.9"), &[]), proxy);
    }
}
