//! The outbound guard: deliveries go only to public addresses. Host names are resolved
//! here (reqwest's resolver hook) and the connection is made only to the addresses checked,
//! so DNS cannot answer differently between the check and the connect; IP-literal URLs never
//! reach a resolver and are checked on their own. `--allow-private-targets` is the only
//! exemption.

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;

use ipnet::IpNet;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use super::special_purpose::non_public;

/// A destination that is not a public address.
#[derive(Debug, Clone, thiserror::Error)]
#[error(
    "{address} is {reason} ({defined_in}), not a public address; deliveries go only to public \
     addresses unless --allow-private-targets includes it"
)]
pub struct Blocked {
    pub address: IpAddr,
    pub reason: &'static str,
    /// Where the block is defined, e.g. "RFC 1918".
    pub defined_in: &'static str,
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
            Some(special) => Err(Blocked {
                address,
                reason: special.what,
                defined_in: special.source,
            }),
            None => Ok(()),
        }
    }
}

/// Resolves host names and hands reqwest only addresses the guard allows; one refused
/// address refuses the host, so a name cannot mix a public and a private answer.
#[derive(Clone)]
pub struct GuardedResolver {
    guard: TargetGuard,
    lookup: Lookup,
}

/// A host name's addresses: the system's resolver, or a test's answer.
type Lookup = Arc<dyn Fn(String) -> BoxFuture<std::io::Result<Vec<SocketAddr>>> + Send + Sync>;
type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl GuardedResolver {
    pub fn new(guard: TargetGuard) -> Self {
        Self::with_lookup(guard, |host| {
            Box::pin(
                async move { Ok(tokio::net::lookup_host((host.as_str(), 0)).await?.collect()) },
            )
        })
    }

    /// With another resolver in the system's place: how tests make a name answer any
    /// address without ever connecting to it.
    pub fn with_lookup(
        guard: TargetGuard,
        lookup: impl Fn(String) -> BoxFuture<std::io::Result<Vec<SocketAddr>>> + Send + Sync + 'static,
    ) -> Self {
        Self {
            guard,
            lookup: Arc::new(lookup),
        }
    }
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let guard = self.guard.clone();
        let host = name.as_str().to_owned();
        let lookup = (self.lookup)(host.clone());
        Box::pin(async move {
            let found = lookup
                .await
                .map_err(|source| NotResolved { host, source })?;
            for address in &found {
                guard.check(address.ip())?;
            }
            let addrs: Addrs = Box::new(found.into_iter());
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::special_purpose::SPECIAL_PURPOSE;
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
            "0.1.2.3",
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "169.254.1.1",
            "100.64.0.1",
            "192.0.0.9",
            "192.0.0.171",
            "192.0.2.1",
            "192.31.196.1",
            "192.52.193.1",
            "192.88.99.2",
            "192.175.48.1",
            "198.51.100.7",
            "203.0.113.9",
            "198.18.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "fc00::1",
            "fd00::1",
            "fd00:ec2::254",
            "fe80::1",
            "fec0::1",
            "ff02::1",
            "100::1",
            "100:0:0:1::1",
            "2001::1",
            "2001:1::3",
            "2001:2::1",
            "2001:3::1",
            "2001:4:112::1",
            "2001:10::1",
            "2001:20::1",
            "2001:30::1",
            "2001:db8::1",
            "2620:4f:8000::1",
            "3fff::1",
            "3fff:fff:ffff::1",
            "5f00::1",
            "4000::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::127.0.0.1",
            "2002:7f00:1::",
            "64:ff9b::a00:1",
            "64:ff9b:1::101:101",
            "64:ff9b:1:ffff::1",
        ] {
            assert!(refused(address), "{address}");
        }
    }

    #[test]
    fn public_addresses_pass() {
        for address in [
            "93.184.215.14",
            "1.1.1.1",
            "192.0.1.1",
            "2606:4700::1111",
            "2a00:1450:4001::200e",
            "::ffff:1.1.1.1",
            "64:ff9b::101:101",
            "2002:101:101::1",
            "2001:200::1",
            "3ffe::1",
        ] {
            assert!(!refused(address), "{address}");
        }
    }

    #[test]
    fn the_reason_names_the_most_specific_block_and_keeps_the_address_as_written() {
        let blocked = TargetGuard::default()
            .check("2001:1::1".parse().unwrap())
            .unwrap_err();
        assert_eq!(blocked.reason, "a PCP anycast address");
        let blocked = TargetGuard::default()
            .check("fd00::1".parse().unwrap())
            .unwrap_err();
        assert!(
            blocked
                .to_string()
                .starts_with("fd00::1 is a unique-local address (RFC 4193)"),
            "{blocked}"
        );
    }

    #[test]
    fn allowed_ranges_are_the_only_exemption() {
        let guard = TargetGuard::new(vec!["127.0.0.0/8".parse().unwrap()]);
        assert!(guard.check("127.0.0.1".parse().unwrap()).is_ok());
        assert!(guard.check("10.0.0.1".parse().unwrap()).is_err());
    }

    /// A resolver hook that answers every name with `address`: nothing is ever sent there.
    fn answering(address: &'static str) -> GuardedResolver {
        GuardedResolver::with_lookup(TargetGuard::default(), move |_| {
            Box::pin(async move { Ok(vec![SocketAddr::new(address.parse().unwrap(), 443)]) })
        })
    }

    #[tokio::test]
    async fn a_name_that_resolves_to_any_special_purpose_block_is_refused() {
        for special in SPECIAL_PURPOSE {
            let net: IpNet = special.block.parse().unwrap();
            let address: &'static str = net.network().to_string().leak();
            let resolved = answering(address)
                .resolve("receiver.example.com".parse().unwrap())
                .await;
            let error = resolved.err().unwrap_or_else(|| panic!("{address} passed"));
            let blocked = error
                .downcast_ref::<Blocked>()
                .expect("refused by the guard");
            assert_eq!(blocked.address.to_string(), address);
        }
    }

    #[tokio::test]
    async fn a_request_to_such_a_name_fails_before_any_connection() {
        let client = reqwest::Client::builder()
            .dns_resolver(Arc::new(answering("3fff::1")))
            .build()
            .unwrap();

        let error = client
            .post("http://receiver.example.com/hook")
            .send()
            .await
            .unwrap_err();

        let mut source = std::error::Error::source(&error);
        let mut found = None;
        while let Some(cause) = source {
            if let Some(blocked) = cause.downcast_ref::<Blocked>() {
                found = Some(blocked.clone());
            }
            source = cause.source();
        }
        let blocked = found.expect("the guard refused it");
        assert_eq!(blocked.reason, "a documentation address");
        assert!(error.is_connect());
    }
}
