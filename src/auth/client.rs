//! The client's address, as throttling and the audit trail see it.
//!
//! It is the TCP peer's address, unless the peer is one of the trusted proxies
//! (`KIEMKE_TRUSTED_PROXIES`): then `X-Forwarded-For` is read from the right, skipping
//! trusted proxies, and the first address that is not one of them is the client. A header
//! sent by anyone else is ignored, so a client cannot choose its own address.

use std::net::IpAddr;

/// An address or a network (`203.0.113.7`, `10.0.0.0/8`, `fd00::/8`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Network {
    addr: IpAddr,
    prefix: u8,
}

impl Network {
    /// Parses `ADDRESS` or `ADDRESS/PREFIX`.
    pub fn parse(s: &str) -> Result<Network, String> {
        let s = s.trim();
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = addr
            .parse()
            .map_err(|_| format!("«{s}» is not an IP address or network"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("«{s}»: the prefix must be 0 to {max}"))?,
            None => max,
        };
        Ok(Network { addr, prefix })
    }

    /// Whether `ip` is in this network.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        match (self.addr, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(n) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(n) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }
}

/// Parses a list of trusted proxies.
pub fn parse_networks(list: &[String]) -> Result<Vec<Network>, String> {
    list.iter()
        .filter(|s| !s.trim().is_empty())
        .map(|s| Network::parse(s))
        .collect()
}

/// The trusted proxies (`KIEMKE_TRUSTED_PROXIES`): comma-separated addresses or networks;
/// empty for none.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(pub Vec<Network>);

impl TrustedProxies {
    /// Parses `10.0.0.1, 10.1.0.0/16`; an empty text is an empty list.
    pub fn parse(s: &str) -> Result<TrustedProxies, String> {
        let items: Vec<String> = s.split(',').map(str::to_string).collect();
        parse_networks(&items).map(TrustedProxies)
    }
}

fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The client's address: `peer`, or when `peer` is a trusted proxy, the right-most address of
/// `forwarded_for` (every `X-Forwarded-For` header, in order) that is not a trusted proxy.
pub fn client_address(peer: IpAddr, forwarded_for: &[&str], trusted: &[Network]) -> IpAddr {
    let peer = canonical(peer);
    let is_trusted = |ip: IpAddr| trusted.iter().any(|n| n.contains(ip));
    if !is_trusted(peer) {
        return peer;
    }
    let mut client = peer;
    for hop in forwarded_for
        .iter()
        .flat_map(|h| h.split(','))
        .rev()
        .map(str::trim)
    {
        // A hop that is not an address (e.g. "unknown", or garbage) ends the walk: what is
        // left of it cannot be trusted.
        let Ok(ip) = hop.parse::<IpAddr>() else {
            break;
        };
        client = canonical(ip);
        if !is_trusted(client) {
            break;
        }
    }
    client
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    #[test]
    fn forwarded_for_is_ignored_unless_the_peer_is_a_trusted_proxy() {
        let trusted = parse_networks(&["10.0.0.0/8".into()]).expect("list");
        assert_eq!(
            client_address(ip("203.0.113.9"), &["198.51.100.1"], &trusted),
            ip("203.0.113.9")
        );
        assert_eq!(
            client_address(ip("10.1.2.3"), &["198.51.100.1"], &trusted),
            ip("198.51.100.1")
        );
    }

    #[test]
    fn the_right_most_untrusted_hop_is_the_client_whatever_the_client_put_before_it() {
        let trusted = parse_networks(&["10.0.0.0/8".into(), "fd00::/8".into()]).expect("list");
        assert_eq!(
            client_address(
                ip("10.0.0.1"),
                &["1.2.3.4, 198.51.100.7", "10.9.9.9"],
                &trusted
            ),
            ip("198.51.100.7")
        );
        assert_eq!(
            client_address(ip("::ffff:10.0.0.1"), &["garbage, 10.0.0.2"], &trusted),
            ip("10.0.0.2")
        );
        assert_eq!(
            client_address(ip("fd00::1"), &["2001:db8::5"], &trusted),
            ip("2001:db8::5")
        );
    }

    #[test]
    fn an_empty_setting_trusts_no_proxy() {
        assert_eq!(TrustedProxies::parse(""), Ok(TrustedProxies(vec![])));
        assert_eq!(
            TrustedProxies::parse(" 10.0.0.1 , fd00::/8").map(|t| t.0.len()),
            Ok(2)
        );
        assert!(TrustedProxies::parse("10.0.0.1,nope").is_err());
    }

    #[test]
    fn networks_are_parsed_strictly() {
        assert!(Network::parse("10.0.0.0/33").is_err());
        assert!(Network::parse("proxy.local").is_err());
        assert!(
            Network::parse("0.0.0.0/0")
                .expect("all")
                .contains(ip("8.8.8.8"))
        );
        assert!(
            Network::parse("127.0.0.1")
                .expect("one")
                .contains(ip("::ffff:127.0.0.1"))
        );
    }
}
