//! The client address: the TCP peer, unless the peer is a configured trusted proxy, in which case
//! the rightmost address in the proxy's header that is not itself a trusted proxy. A header from
//! an untrusted peer is ignored — anyone can send `X-Forwarded-For`.
//!
//! Only the right end of the header is the proxies' own writing; everything to the left of
//! the first address they did not add came from the client. So the walk from the right stops
//! at an entry it cannot read (the peer is then taken, failing closed) instead of skipping it:
//! skipped, a proxy's entry written as `address:port` would hand the choice of address — and
//! of rate-limit bucket — to whatever the client put before it.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};

use axum::http::HeaderMap;

/// An address block: `10.0.0.0/8`, `2001:db8::/32`, or one address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// Parses `addr` or `addr/prefix`.
    pub fn parse(text: &str) -> Option<Self> {
        let (addr, prefix) = match text.split_once('/') {
            Some((a, p)) => (a, Some(p.parse::<u8>().ok()?)),
            None => (text, None),
        };
        let network: IpAddr = addr.trim().parse().ok()?;
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(max);
        (prefix <= max).then_some(Self { network, prefix })
    }

    /// Whether `ip` is inside the block.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.network, ip) {
            (IpAddr::V4(n), IpAddr::V4(i)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.prefix)).unwrap_or(0);
                u32::from(n) & mask == u32::from(i) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(i)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(self.prefix)).unwrap_or(0);
                u128::from(n) & mask == u128::from(i) & mask
            }
            _ => false,
        }
    }
}

/// The client address of a request from `peer`.
pub fn client_ip(peer: SocketAddr, headers: &HeaderMap, header: &str, trusted: &[Cidr]) -> IpAddr {
    let is_trusted = |ip: IpAddr| trusted.iter().any(|c| c.contains(ip));
    if !is_trusted(peer.ip()) {
        return peer.ip();
    }
    let values: Vec<&[u8]> = headers.get_all(header).iter().map(|v| v.as_bytes()).collect();
    // The leftmost proxy seen, for a chain made only of trusted proxies.
    let mut innermost = None;
    for hop in values.iter().rev().flat_map(|v| v.rsplit(|b| *b == b',')) {
        match address(hop) {
            Some(ip) if is_trusted(ip) => innermost = Some(ip),
            Some(ip) => return ip,
            None => return peer.ip(),
        }
    }
    innermost.unwrap_or(peer.ip())
}

/// One entry of a forwarding header: an address, alone or with a port (`192.0.2.1:4711`,
/// `[2001:db8::1]:4711`, as some proxies write them), or a bracketed IPv6 address.
fn address(hop: &[u8]) -> Option<IpAddr> {
    let hop = std::str::from_utf8(hop.trim_ascii()).ok()?;
    let with_port = || {
        // A scope id (`[fe80::1%4]:80`) names an interface of the proxy, not a client.
        hop.parse::<SocketAddr>()
            .ok()
            .filter(|a| !matches!(a, SocketAddr::V6(v6) if v6.scope_id() != 0))
            .map(|a| a.ip())
    };
    let bracketed = || hop.strip_prefix('[')?.strip_suffix(']')?.parse::<Ipv6Addr>().ok().map(IpAddr::V6);
    hop.parse::<IpAddr>().ok().or_else(with_port).or_else(bracketed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(xff: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", HeaderValue::from_str(xff).unwrap());
        h
    }

    #[test]
    fn header_is_believed_only_from_trusted_proxies() {
        let trusted = [Cidr::parse("10.0.0.0/8").unwrap()];
        let spoof = headers("1.2.3.4");
        assert_eq!(
            client_ip("203.0.113.9:5000".parse().unwrap(), &spoof, "x-forwarded-for", &trusted),
            "203.0.113.9".parse::<IpAddr>().unwrap()
        );
        let via_proxy = headers("1.2.3.4, 198.51.100.7, 10.0.0.2");
        assert_eq!(
            client_ip("10.0.0.1:5000".parse().unwrap(), &via_proxy, "x-forwarded-for", &trusted),
            "198.51.100.7".parse::<IpAddr>().unwrap()
        );
    }

    #[test]
    fn entries_with_ports_are_read_and_unreadable_ones_stop_the_walk() {
        let trusted = [Cidr::parse("10.0.0.0/8").unwrap()];
        let proxy: SocketAddr = "10.0.0.1:5000".parse().unwrap();
        let of = |xff: &str| client_ip(proxy, &headers(xff), "x-forwarded-for", &trusted);
        // A proxy that writes the port: its entry is the client, not what the client sent.
        assert_eq!(of("6.6.6.6, 203.0.113.9:5000"), "203.0.113.9".parse::<IpAddr>().unwrap());
        assert_eq!(of("6.6.6.6, [2001:db8::1]:443"), "2001:db8::1".parse::<IpAddr>().unwrap());
        assert_eq!(of("6.6.6.6,[2001:db8::2]"), "2001:db8::2".parse::<IpAddr>().unwrap());
        // What cannot be read is not skipped to reach an address the client chose.
        for unreadable in [
            "6.6.6.6, unknown",
            "6.6.6.6, 203.0.113.9:99999",
            "6.6.6.6, , 10.0.0.3",
            "6.6.6.6, 2001:db8::1:80x",
            "6.6.6.6, [fe80::1%4]:80",
        ] {
            assert_eq!(of(unreadable), proxy.ip(), "{unreadable}");
        }
        // Only proxies: the innermost one.
        assert_eq!(of("10.0.0.7, 10.0.0.8"), "10.0.0.7".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn cidr_matching() {
        let c = Cidr::parse("2001:db8::/32").unwrap();
        assert!(c.contains("2001:db8:1::1".parse().unwrap()));
        assert!(!c.contains("2001:db9::1".parse().unwrap()));
        assert!(Cidr::parse("10.0.0.0/33").is_none());
        assert!(Cidr::parse("0.0.0.0/0").unwrap().contains("8.8.8.8".parse().unwrap()));
    }
}
