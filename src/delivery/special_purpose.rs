//! Which addresses are not public destinations, from the IANA special-purpose registries:
//! the table the outbound guard ([`super::target_guard`]) checks every address against.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::LazyLock;

use ipnet::IpNet;

/// One block of addresses that is not a public destination, with where that is written.
#[derive(Debug)]
pub struct Special {
    pub block: &'static str,
    /// In words, for the delivery log: "a private address".
    pub what: &'static str,
    /// Where the block is defined: "RFC 1918".
    pub source: &'static str,
}

const fn special(block: &'static str, what: &'static str, source: &'static str) -> Special {
    Special {
        block,
        what,
        source,
    }
}

/// Every block of the IANA IPv4 and IPv6 Special-Purpose Address Registries
/// (<https://www.iana.org/assignments/iana-ipv4-special-registry>,
/// <https://www.iana.org/assignments/iana-ipv6-special-registry>, as updated 2025), the
/// multicast blocks, and the cloud metadata addresses. Blocks the registries mark
/// "globally reachable" (anycast services such as PCP, TURN or AS112, ORCHIDv2
/// identifiers) are refused too: no webhook receiver lives there. The most specific block
/// names the reason. Beside the table, [`non_public`] reads the IPv4 address inside
/// IPv4-mapped, IPv4-compatible, 6to4 and well-known NAT64 (64:ff9b::/96) addresses, and
/// refuses IPv6 outside the global unicast space 2000::/3.
pub(super) const SPECIAL_PURPOSE: &[Special] = &[
    special(
        "169.254.169.254/32",
        "a cloud metadata address",
        "AWS, GCP, Azure",
    ),
    special("fd00:ec2::254/128", "a cloud metadata address", "AWS"),
    special("0.0.0.0/8", "a “this network” address", "RFC 791"),
    special("0.0.0.0/32", "an unspecified address", "RFC 1122"),
    special("10.0.0.0/8", "a private address", "RFC 1918"),
    special("100.64.0.0/10", "a shared (CGNAT) address", "RFC 6598"),
    special("127.0.0.0/8", "a loopback address", "RFC 1122"),
    special("169.254.0.0/16", "a link-local address", "RFC 3927"),
    special("172.16.0.0/12", "a private address", "RFC 1918"),
    special("192.0.0.0/24", "an IETF protocol address", "RFC 6890"),
    special(
        "192.0.0.0/29",
        "an IPv4 service continuity address",
        "RFC 7335",
    ),
    special("192.0.0.8/32", "the IPv4 dummy address", "RFC 7600"),
    special("192.0.0.9/32", "a PCP anycast address", "RFC 7723"),
    special("192.0.0.10/32", "a TURN anycast address", "RFC 8155"),
    special(
        "192.0.0.170/31",
        "a NAT64/DNS64 discovery address",
        "RFC 8880",
    ),
    special("192.0.2.0/24", "a documentation address", "RFC 5737"),
    special("192.31.196.0/24", "an AS112 address", "RFC 7535"),
    special("192.52.193.0/24", "an AMT address", "RFC 7450"),
    special("192.88.99.0/24", "a 6to4 relay address", "RFC 7526"),
    special("192.88.99.2/32", "a 6a44 relay address", "RFC 6751"),
    special("192.168.0.0/16", "a private address", "RFC 1918"),
    special("192.175.48.0/24", "an AS112 address", "RFC 7534"),
    special("198.18.0.0/15", "a benchmarking address", "RFC 2544"),
    special("198.51.100.0/24", "a documentation address", "RFC 5737"),
    special("203.0.113.0/24", "a documentation address", "RFC 5737"),
    special("224.0.0.0/4", "a multicast address", "RFC 5771"),
    special("240.0.0.0/4", "a reserved address", "RFC 1112"),
    special("255.255.255.255/32", "the broadcast address", "RFC 919"),
    special("::/128", "an unspecified address", "RFC 4291"),
    special("::1/128", "a loopback address", "RFC 4291"),
    special("::ffff:0:0/96", "an IPv4-mapped address", "RFC 4291"),
    special("64:ff9b:1::/48", "a local-use NAT64 address", "RFC 8215"),
    special("100::/64", "a discard address", "RFC 6666"),
    special("100:0:0:1::/64", "a dummy IPv6 address", "RFC 9780"),
    special("2001::/23", "an IETF protocol address", "RFC 2928"),
    special("2001::/32", "a Teredo address", "RFC 4380"),
    special("2001:1::1/128", "a PCP anycast address", "RFC 7723"),
    special("2001:1::2/128", "a TURN anycast address", "RFC 8155"),
    special(
        "2001:1::3/128",
        "a DNS-SD service registration address",
        "RFC 9665",
    ),
    special("2001:2::/48", "a benchmarking address", "RFC 5180"),
    special("2001:3::/32", "an AMT address", "RFC 7450"),
    special("2001:4:112::/48", "an AS112 address", "RFC 7535"),
    special("2001:10::/28", "an ORCHID address", "RFC 4843"),
    special("2001:20::/28", "an ORCHIDv2 address", "RFC 7343"),
    special("2001:30::/28", "a drone remote ID address", "RFC 9374"),
    special("2001:db8::/32", "a documentation address", "RFC 3849"),
    special("2620:4f:8000::/48", "an AS112 address", "RFC 7534"),
    special("3fff::/20", "a documentation address", "RFC 9637"),
    special("5f00::/16", "a segment routing (SRv6) address", "RFC 9602"),
    special("fc00::/7", "a unique-local address", "RFC 4193"),
    special("fe80::/10", "a link-local address", "RFC 4291"),
    special("fec0::/10", "a site-local address", "RFC 3879"),
    special("ff00::/8", "a multicast address", "RFC 4291"),
];

/// What IPv6 outside 2000::/3 is: neither global unicast nor a block of the table.
const OUTSIDE_GLOBAL_UNICAST: Special = special(
    "::/0",
    "outside the global unicast space",
    "IANA IPv6 Address Space",
);

/// [`SPECIAL_PURPOSE`], parsed once, most specific block first.
static BLOCKS: LazyLock<Vec<(IpNet, &'static Special)>> = LazyLock::new(|| {
    let mut blocks: Vec<(IpNet, &'static Special)> = SPECIAL_PURPOSE
        .iter()
        .map(|special| {
            let net = special
                .block
                .parse()
                .unwrap_or_else(|_| panic!("{} in SPECIAL_PURPOSE is a CIDR block", special.block));
            (net, special)
        })
        .collect();
    blocks.sort_by_key(|(net, _)| std::cmp::Reverse(net.prefix_len()));
    blocks
});

/// Why an address is not public; `None` when it is public.
pub fn non_public(address: IpAddr) -> Option<&'static Special> {
    if let IpAddr::V6(v6) = address
        && let Some(embedded) = embedded_v4(v6)
    {
        return non_public(IpAddr::V4(embedded));
    }
    if let Some((_, special)) = BLOCKS.iter().find(|(net, _)| net.contains(&address)) {
        return Some(special);
    }
    match address {
        IpAddr::V6(v6) if v6.segments()[0] & 0xe000 != 0x2000 => Some(&OUTSIDE_GLOBAL_UNICAST),
        _ => None,
    }
}

/// The IPv4 address inside an IPv4-mapped, IPv4-compatible, 6to4 or well-known NAT64
/// address: where a connection to it goes.
fn embedded_v4(address: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = address.segments();
    let last_32 = || Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    match s {
        [0, 0, 0, 0, 0, 0xffff, _, _] => Some(last_32()),
        [0, 0, 0, 0, 0, 0, hi, _] if hi != 0 => Some(last_32()),
        [0x64, 0xff9b, 0, 0, 0, 0, _, _] => Some(last_32()),
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

    #[test]
    fn every_block_of_the_table_is_a_block_and_is_refused_at_both_ends() {
        for special in SPECIAL_PURPOSE {
            let net: IpNet = special.block.parse().expect(special.block);
            for address in [net.network(), net.broadcast()] {
                let found = non_public(address).unwrap_or_else(|| panic!("{address}"));
                assert!(!found.source.is_empty(), "{}", special.block);
            }
        }
    }
}
