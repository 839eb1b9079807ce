//! Who is asking: the client's address, for the sign-in throttle and the audit log. Behind
//! a reverse proxy every request comes from the proxy, so `X-Forwarded-For` is read, but
//! only from peers in `--trusted-proxies`: anyone else could write any address there.

use std::convert::Infallible;
use std::future::{Ready, ready};
use std::net::IpAddr;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use ipnet::IpNet;

/// The proxies whose `X-Forwarded-For` is believed.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(pub Vec<IpNet>);

impl TrustedProxies {
    fn trust(&self, address: IpAddr) -> bool {
        self.0.iter().any(|net| net.contains(&address))
    }

    /// The peer, or, when the peer is a trusted proxy, the last address in
    /// `X-Forwarded-For` that is not one (each proxy appends the address it was reached
    /// from; only the part our proxies wrote is true).
    pub fn client_of(&self, peer: Option<IpAddr>, forwarded_for: &[&str]) -> Option<IpAddr> {
        let peer = peer?.to_canonical();
        if !self.trust(peer) {
            return Some(peer);
        }
        let mut client = peer;
        for hop in forwarded_for
            .iter()
            .flat_map(|value| value.split(','))
            .rev()
        {
            let Some(address) = address_of(hop) else {
                // A hop that is no address ends what can be believed: the request counts as
                // the last proxy's, which is worth knowing when many share it.
                tracing::warn!(
                    "X-Forwarded-For has an entry that is no address ({:?}); the client is taken to be {client}",
                    hop.trim().chars().take(60).collect::<String>()
                );
                break;
            };
            client = address;
            if !self.trust(address) {
                break;
            }
        }
        Some(client)
    }
}

/// The address of one `X-Forwarded-For` entry as proxies write it: `1.2.3.4`,
/// `1.2.3.4:5678`, `2001:db8::1`, `[2001:db8::1]:443`, `fe80::1%eth0`; an IPv4-mapped IPv6
/// address is its IPv4 address, so one client is one address however it is written.
fn address_of(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    let host = match entry.strip_prefix('[') {
        Some(bracketed) => bracketed.split_once(']')?.0,
        None => match entry.rsplit_once(':') {
            // One colon: IPv4 with a port. More: IPv6 without brackets, so without a port.
            Some((host, port)) if !host.contains(':') && port.parse::<u16>().is_ok() => host,
            _ => entry,
        },
    };
    let without_zone = host.split_once('%').map_or(host, |(address, _)| address);
    without_zone
        .parse::<IpAddr>()
        .ok()
        .map(|address| address.to_canonical())
}

/// The client's address as text ("" when unknown).
pub struct ClientAddress(pub String);

impl FromRequest for ClientAddress {
    type Error = Infallible;
    type Future = Ready<Result<Self, Infallible>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let trusted = request
            .app_data::<web::Data<TrustedProxies>>()
            .map(|data| data.get_ref().clone())
            .unwrap_or_default();
        let forwarded: Vec<&str> = request
            .headers()
            .get_all("x-forwarded-for")
            .filter_map(|value| value.to_str().ok())
            .collect();
        let peer = request.peer_addr().map(|address| address.ip());
        let client = trusted.client_of(peer, &forwarded);
        ready(Ok(Self(
            client.map(|ip| ip.to_string()).unwrap_or_default(),
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn forwarded_addresses_count_only_from_a_trusted_proxy() {
        let proxies = TrustedProxies(vec!["10.0.0.0/8".parse().unwrap()]);
        let forwarded = ["203.0.113.9, 198.51.100.7", "10.0.0.2"];
        assert_eq!(
            proxies.client_of(Some(ip("10.0.0.1")), &forwarded),
            Some(ip("198.51.100.7")),
            "the last address our proxies did not write"
        );
        assert_eq!(
            proxies.client_of(Some(ip("192.0.2.1")), &forwarded),
            Some(ip("192.0.2.1")),
            "an untrusted peer's header is ignored"
        );
        assert_eq!(
            proxies.client_of(Some(ip("10.0.0.1")), &["not an address"]),
            Some(ip("10.0.0.1"))
        );
        assert_eq!(
            TrustedProxies::default().client_of(Some(ip("127.0.0.1")), &forwarded),
            Some(ip("127.0.0.1"))
        );
    }

    #[test]
    fn forwarded_entries_with_ports_brackets_zones_and_mapped_addresses_name_the_client() {
        let proxies = TrustedProxies(vec!["10.0.0.0/8".parse().unwrap()]);
        let proxy = Some(ip("10.0.0.1"));
        for (entry, client) in [
            ("1.2.3.4:4444", "1.2.3.4"),
            ("[2001:db8::1]:443", "2001:db8::1"),
            ("[2001:db8::1]", "2001:db8::1"),
            ("2001:db8::1", "2001:db8::1"),
            ("fe80::1%eth0", "fe80::1"),
            ("::ffff:192.0.2.7", "192.0.2.7"),
            ("[::ffff:192.0.2.7]:80", "192.0.2.7"),
            (" 198.51.100.2 ", "198.51.100.2"),
        ] {
            assert_eq!(
                proxies.client_of(proxy, &[entry]),
                Some(ip(client)),
                "{entry}"
            );
        }
        for unreadable in ["unknown", "_hidden", "1.2.3.4:99999", ""] {
            assert_eq!(
                proxies.client_of(proxy, &[unreadable]),
                proxy,
                "{unreadable}"
            );
        }
        assert_eq!(
            proxies.client_of(Some(ip("::ffff:10.0.0.1")), &["1.2.3.4:1"]),
            Some(ip("1.2.3.4")),
            "a mapped peer is the proxy too"
        );
    }
}
