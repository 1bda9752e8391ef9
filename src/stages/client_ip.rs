//! The client address: the peer, unless the peer is a trusted proxy; then the right-most
//! `X-Forwarded-For` entry that is not itself a trusted proxy (as nginx's real-IP module with
//! recursion and Envoy's trusted hops do). A forged header from an untrusted peer changes nothing.

use std::net::IpAddr;

use http::HeaderMap;
use ipnet::IpNet;

pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let hops = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect::<Vec<_>>();
    let mut client = peer;
    for hop in hops.iter().rev() {
        match hop.parse::<IpAddr>() {
            Ok(ip) if is_trusted(&ip) => client = ip,
            Ok(ip) => return ip,
            // An unparsable hop ends the chain we can trust.
            Err(_) => return client,
        }
    }
    client
}

/// `ip` as text. IPv4 is written octet by octet: `Ipv4Addr`'s `Display` goes through the
/// padding-aware formatter, and this runs twice for every request.
pub fn ip_text(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => {
            let mut text = String::with_capacity(15);
            for (i, octet) in v4.octets().into_iter().enumerate() {
                if i > 0 {
                    text.push('.');
                }
                text.push_str(itoa::Buffer::new().format(octet));
            }
            text
        }
        IpAddr::V6(_) => ip.to_string(),
    }
}

/// The client's network as text: IPv4 addresses as they are, IPv6 addresses as their /64 (one
/// subscriber usually holds a whole /64, so per-address budgets would be 2^64 budgets).
pub fn net_text(ip: IpAddr, ip_text: &str) -> std::borrow::Cow<'_, str> {
    match ip {
        IpAddr::V4(_) => std::borrow::Cow::Borrowed(ip_text),
        IpAddr::V6(v6) => {
            let net = ipnet::Ipv6Net::new(v6, 64).map(|n| n.trunc());
            std::borrow::Cow::Owned(net.map_or_else(|_| ip_text.to_owned(), |n| n.to_string()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_clients_are_grouped_per_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let other: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        let net = |ip: IpAddr| net_text(ip, &ip_text(ip)).into_owned();
        assert_eq!(net(a), "2001:db8:1:2::/64");
        assert_eq!(net(a), net(b));
        assert_ne!(net(a), net(other));
        let v4: IpAddr = "10.1.2.3".parse().unwrap();
        assert_eq!(net(v4), "10.1.2.3");
    }

    #[test]
    fn ip_text_matches_display() {
        for ip in [
            "0.0.0.0",
            "10.1.2.3",
            "255.255.255.255",
            "127.0.0.1",
            "::1",
            "2001:db8::7",
        ] {
            let ip: IpAddr = ip.parse().unwrap();
            assert_eq!(ip_text(ip), ip.to_string());
        }
    }

    fn headers(xff: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in xff {
            h.append("x-forwarded-for", v.parse().unwrap());
        }
        h
    }

    #[test]
    fn untrusted_peer_is_the_client() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        let peer: IpAddr = "203.0.113.9".parse().unwrap();
        assert_eq!(client_ip(peer, &headers(&["1.2.3.4"]), &trusted), peer);
    }

    #[test]
    fn rightmost_untrusted_hop_through_trusted_proxies() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        let peer: IpAddr = "10.0.0.2".parse().unwrap();
        let h = headers(&["6.6.6.6, 198.51.100.7", "10.0.0.5"]);
        assert_eq!(
            client_ip(peer, &h, &trusted),
            "198.51.100.7".parse::<IpAddr>().unwrap()
        );
        assert_eq!(client_ip(peer, &headers(&[]), &trusted), peer);
        assert_eq!(client_ip(peer, &headers(&["garbage"]), &trusted), peer);
    }
}
