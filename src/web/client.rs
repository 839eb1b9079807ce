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
        let peer = peer?;
        if !self.trust(peer) {
            return Some(peer);
        }
        let mut client = peer;
        for hop in forwarded_for
            .iter()
            .flat_map(|value| value.split(','))
            .rev()
        {
            let Ok(address) = hop.trim().parse::<IpAddr>() else {
                // A hop that is no address ends what can be believed.
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
}
