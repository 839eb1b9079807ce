//! The outbound guard: deliveries go only to public addresses. Host names are resolved
//! here (reqwest's resolver hook) and the connection is made only to the addresses checked,
//! so DNS cannot answer differently between the check and the connect; IP-literal URLs never
//! reach a resolver and are checked on their own. `--allow-private-targets` is the only
//! exemption.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use ipnet::IpNet;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// A destination that is not a public address.
#[derive(Debug, Clone, thiserror::Error)]
#[error(
    "{address} is {reason}, not a public address; deliveries go only to public addresses \
     unless --allow-private-targets includes it"
)]
pub struct Blocked {
    pub address: IpAddr,
    pub reason: &'static str,
}

/// The host name did not resolve.
#[derive(Debug, thiserror::Error)]
#[error("{host} could not be resolved: {source}")]
pub struct NotResolved {
    host: String,
    source: std::io::Error,
}

#[derive(Debug, Clone, Default)]
pub struct TargetGuard {
    allowed: Arc<Vec<IpNet>>,
}

impl TargetGuard {
    pub fn new(allowed: Vec<IpNet>) -> Self {
        Self {
            allowed: Arc::new(allowed),
        }
    }

    pub fn check(&self, address: IpAddr) -> Result<(), Blocked> {
        if self.allowed.iter().any(|net| net.contains(&address)) {
            return Ok(());
        }
        match non_public(address) {
            Some(reason) => Err(Blocked { address, reason }),
            None => Ok(()),
        }
    }
}

/// Resolves host names and hands reqwest only addresses the guard allows; one refused
/// address refuses the host, so a name cannot mix a public and a private answer.
#[derive(Debug, Clone)]
pub struct GuardedResolver(pub TargetGuard);

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let guard = self.0.clone();
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await
                .map_err(|source| NotResolved {
                    host: host.clone(),
                    source,
                })?
                .collect();
            for address in &found {
                guard.check(address.ip())?;
            }
            let addrs: Addrs = Box::new(found.into_iter());
            Ok(addrs)
        })
    }
}

/// Why an address is not public, in words for the delivery log; `None` when it is public.
pub fn non_public(address: IpAddr) -> Option<&'static str> {
    match address {
        IpAddr::V4(v4) => non_public_v4(v4),
        IpAddr::V6(v6) => non_public_v6(v6),
    }
}

fn non_public_v4(address: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = address.octets();
    if address == Ipv4Addr::new(169, 254, 169, 254) {
        return Some("a cloud metadata address");
    }
    let reason = match (a, b, c) {
        (0, _, _) => "an unspecified address",
        (127, _, _) => "a loopback address",
        (10, _, _) | (192, 168, _) => "a private address",
        (172, 16..=31, _) => "a private address",
        (169, 254, _) => "a link-local address",
        (100, 64..=127, _) => "a shared (CGNAT) address",
        (192, 0, 0) => "an IETF protocol address",
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => "a documentation address",
        (198, 18..=19, _) => "a benchmarking address",
        (192, 88, 99) => "a 6to4 relay address",
        (224..=239, _, _) => "a multicast address",
        (240..=255, _, _) => "a reserved or broadcast address",
        _ => return None,
    };
    Some(reason)
}

fn non_public_v6(address: Ipv6Addr) -> Option<&'static str> {
    if address == Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254) {
        return Some("a cloud metadata address");
    }
    if let Some(embedded) = embedded_v4(address) {
        return non_public_v4(embedded);
    }
    let segments = address.segments();
    let reason = match segments[0] {
        _ if address.is_unspecified() => "an unspecified address",
        _ if address.is_loopback() => "a loopback address",
        0xfc00..=0xfdff => "a unique-local address",
        0xfe80..=0xfebf => "a link-local address",
        0xfec0..=0xfeff => "a site-local address",
        0xff00..=0xffff => "a multicast address",
        0x2001 if segments[1] == 0x0db8 => "a documentation address",
        0x2001 if segments[1] == 0 => "a Teredo address",
        0x0100 if segments[1..4] == [0, 0, 0] => "a discard address",
        0x0000 => "a reserved address",
        _ => return None,
    };
    Some(reason)
}

/// The IPv4 address inside an IPv4-mapped, IPv4-compatible, 6to4 or NAT64 address.
fn embedded_v4(address: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = address.segments();
    let last_32 = || Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    match s {
        [0, 0, 0, 0, 0, 0xffff, _, _] => Some(last_32()),
        [0, 0, 0, 0, 0, 0, hi, _] if hi != 0 => Some(last_32()),
        [0x64, 0xff9b, 0, 0, 0, 0, _, _] => Some(last_32()),
        [0x64, 0xff9b, 1, ..] => Some(last_32()),
        [0x2002, hi, lo, ..] => Some(Ipv4Addr::new(
            (hi >> 8) as u8,
            hi as u8,
            (lo >> 8) as u8,
            lo as u8,
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(address: &str) -> bool {
        TargetGuard::default()
            .check(address.parse().unwrap())
            .is_err()
    }

    #[test]
    fn every_class_of_non_public_address_is_refused() {
        for address in [
            "0.0.0.0",
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "169.254.1.1",
            "100.64.0.1",
            "192.0.2.1",
            "198.51.100.7",
            "203.0.113.9",
            "198.18.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "fc00::1",
            "fd00:ec2::254",
            "fe80::1",
            "ff02::1",
            "2001:db8::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::127.0.0.1",
            "2002:7f00:1::",
            "64:ff9b::a00:1",
        ] {
            assert!(refused(address), "{address}");
        }
    }

    #[test]
    fn public_addresses_pass() {
        for address in [
            "93.184.215.14",
            "1.1.1.1",
            "2606:4700::1111",
            "::ffff:1.1.1.1",
        ] {
            assert!(!refused(address), "{address}");
        }
    }

    #[test]
    fn allowed_ranges_are_the_only_exemption() {
        let guard = TargetGuard::new(vec!["127.0.0.0/8".parse().unwrap()]);
        assert!(guard.check("127.0.0.1".parse().unwrap()).is_ok());
        assert!(guard.check("10.0.0.1".parse().unwrap()).is_err());
    }
}
