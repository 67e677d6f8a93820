//! Community ID v1 flow hashes (corelight/community-id-spec): one string per flow that
//! Zeek, Suricata, Arkime and Wireshark compute alike, so rows from different tools and
//! sensors join on it.
//!
//! The hash is SHA-1 over the seed (2 bytes), the two addresses, the IP protocol, one zero
//! byte and the two ports (all in network order), with the endpoints ordered so that both
//! directions of a flow give the same ID; the result is `1:` and the digest in base64.
//! ICMP and ICMPv6 have no ports: the type stands for the source port and, for messages
//! that have a counterpart (echo request and reply, ...), the counterpart's type for the
//! destination port; other messages use their code and are "one-way" (never reordered).

use std::net::IpAddr;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sha1::{Digest, Sha1};

use crate::ip_proto;

/// SCTP's IP protocol number: its ports are hashed like TCP's and UDP's.
const SCTP: u8 = 132;

/// The IP protocols whose ports (or ICMP port equivalents) go into the hash.
fn has_ports(proto: u8) -> bool {
    matches!(
        proto,
        ip_proto::TCP | ip_proto::UDP | ip_proto::ICMP | ip_proto::ICMPV6 | SCTP
    )
}

/// ICMP's port equivalents: `(source port, destination port, one_way)` for a message of
/// `icmp_type` and `code` (`v6`: ICMPv6), as the spec's reference implementation maps them.
pub fn icmp_ports(v6: bool, icmp_type: u8, code: u8) -> (u16, u16, bool) {
    let counterpart = if v6 {
        match icmp_type {
            // Echo, router solicitation/advertisement, neighbour solicitation/advertisement,
            // multicast listener query/report, who-are-you, home agent address discovery.
            128 => Some(129),
            129 => Some(128),
            133 => Some(134),
            134 => Some(133),
            135 => Some(136),
            136 => Some(135),
            130 => Some(131),
            131 => Some(130),
            139 => Some(140),
            140 => Some(139),
            144 => Some(145),
            145 => Some(144),
            _ => None,
        }
    } else {
        match icmp_type {
            // Echo, timestamp, information, router solicitation (to advertisement only),
            // address mask.
            8 => Some(0),
            0 => Some(8),
            13 => Some(14),
            14 => Some(13),
            15 => Some(16),
            16 => Some(15),
            10 => Some(9),
            17 => Some(18),
            18 => Some(17),
            _ => None,
        }
    };
    match counterpart {
        Some(other) => (u16::from(icmp_type), other, false),
        None => (u16::from(icmp_type), u16::from(code), true),
    }
}

/// The Community ID of a flow seen as `src:sport -> dst:dport` over IP protocol `proto`
/// with `seed` (0 unless the sensors agreed on another). `ports` are the transport ports,
/// or for ICMP the pair [`icmp_ports`] gives; they are ignored for protocols without ports.
/// `one_way` keeps the given order (one-way ICMP messages). Addresses of different
/// families (which no packet has) are hashed as given.
pub fn community_id(
    seed: u16,
    src: IpAddr,
    dst: IpAddr,
    proto: u8,
    ports: (u16, u16),
    one_way: bool,
) -> String {
    let (sport, dport) = if has_ports(proto) { ports } else { (0, 0) };
    let forward = one_way || (src, sport) < (dst, dport);
    let ((a, a_port), (b, b_port)) = if forward {
        ((src, sport), (dst, dport))
    } else {
        ((dst, dport), (src, sport))
    };
    let mut h = Sha1::new();
    h.update(seed.to_be_bytes());
    update_addr(&mut h, a);
    update_addr(&mut h, b);
    h.update([proto, 0]);
    if has_ports(proto) {
        h.update(a_port.to_be_bytes());
        h.update(b_port.to_be_bytes());
    }
    let mut id = String::with_capacity(30);
    id.push_str("1:");
    STANDARD.encode_string(h.finalize(), &mut id);
    id
}

fn update_addr(h: &mut Sha1, addr: IpAddr) {
    match addr {
        IpAddr::V4(a) => h.update(a.octets()),
        IpAddr::V6(a) => h.update(a.octets()),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// The spec's baseline (baseline/baseline_deflt.json and baseline_seed1.json in
    /// corelight/community-id-spec): protocol, source, destination, the port pair as the
    /// reference implementation derived it from the packet (ICMP: its port equivalents),
    /// then the IDs for seed 0 and seed 1.
    /// protocol, source, destination, ports, ID with seed 0, ID with seed 1.
    type Vector = (
        u8,
        &'static str,
        &'static str,
        Option<(u16, u16)>,
        &'static str,
        &'static str,
    );

    const BASELINE: [Vector; 23] = [
        (
            58,
            "fe80::200:86ff:fe05:80da",
            "fe80::260:97ff:fe07:69ea",
            Some((135, 136)),
            "1:dGHyGvjMfljg6Bppwm3bg0LO8TY=",
            "1:kHa1FhMYIT6Ym2Vm2AOtoOARDzY=",
        ),
        (
            58,
            "fe80::260:97ff:fe07:69ea",
            "fe80::200:86ff:fe05:80da",
            Some((136, 135)),
            "1:dGHyGvjMfljg6Bppwm3bg0LO8TY=",
            "1:kHa1FhMYIT6Ym2Vm2AOtoOARDzY=",
        ),
        (
            58,
            "fe80::260:97ff:fe07:69ea",
            "fe80::200:86ff:fe05:80da",
            Some((135, 136)),
            "1:zavyT/cezQr1fmImYCwYnMXbgck=",
            "1:2hSqmsDZ2kdcY9kbiUzOEBic0iM=",
        ),
        (
            58,
            "fe80::200:86ff:fe05:80da",
            "fe80::260:97ff:fe07:69ea",
            Some((136, 135)),
            "1:zavyT/cezQr1fmImYCwYnMXbgck=",
            "1:2hSqmsDZ2kdcY9kbiUzOEBic0iM=",
        ),
        (
            58,
            "3ffe:501:1800:2345::2",
            "3ffe:507:0:1:200:86ff:fe05:80da",
            Some((3, 0)),
            "1:2ObVBgIn28oZvibYZhZMBgh7WdQ=",
            "1:lVEtCZpYu84Xqaa++3lXFyuu2n4=",
        ),
        (
            58,
            "3ffe:501:410:0:2c0:dfff:fe47:33e",
            "3ffe:507:0:1:200:86ff:fe05:80da",
            Some((1, 4)),
            "1:hLZd0XGWojozrvxqE0dWB1iM6R0=",
            "1:W8MHwXpWzpoSTD+cGcaJr4u0ys8=",
        ),
        (
            58,
            "3ffe:507:0:1:200:86ff:fe05:80da",
            "3ffe:501:0:1001::2",
            Some((128, 129)),
            "1:+TW+HtLHvV1xnGhV1lv7XoJrqQg=",
            "1:GfZxjAkDk2MkegpBYHV6tadtFXQ=",
        ),
        (
            58,
            "3ffe:501:0:1001::2",
            "3ffe:507:0:1:200:86ff:fe05:80da",
            Some((129, 128)),
            "1:+TW+HtLHvV1xnGhV1lv7XoJrqQg=",
            "1:GfZxjAkDk2MkegpBYHV6tadtFXQ=",
        ),
        (
            58,
            "fe80::200:86ff:fe05:80da",
            "ff02::2",
            Some((133, 134)),
            "1:hO+sN4H+MG5MY/8hIrXPqc4ZQz0=",
            "1:L7Ka0ZMYu+J3bL4ulW2PrqyXNo8=",
        ),
        (
            58,
            "fe80::260:97ff:fe07:69ea",
            "ff02::1",
            Some((134, 133)),
            "1:pkvHqCL88/tg1k4cPigmZXUtL00=",
            "1:K/ee5UCqAMAQXDorP5nSa2CGLjc=",
        ),
        (
            1,
            "192.168.0.89",
            "192.168.0.1",
            Some((8, 0)),
            "1:X0snYXpgwiv9TZtqg64sgzUn6Dk=",
            "1:03g6IloqVBdcZlPyX8r0hgoE7kA=",
        ),
        (
            1,
            "192.168.0.1",
            "192.168.0.89",
            Some((0, 8)),
            "1:X0snYXpgwiv9TZtqg64sgzUn6Dk=",
            "1:03g6IloqVBdcZlPyX8r0hgoE7kA=",
        ),
        (
            1,
            "10.0.0.1",
            "10.0.0.2",
            Some((11, 0)),
            "1:YHxtAirCG//0OzkcVAukqKQN9xM=",
            "1:XjUibYHaafLQ3pxQeiMI8g25q20=",
        ),
        (
            6,
            "2001:470:e5bf:dead:4957:2174:e82c:4887",
            "2607:f8b0:400c:c03::1a",
            Some((63943, 25)),
            "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4=",
            "1:eJYTW6AOzFLlSUoESovMjnu7rMw=",
        ),
        (
            6,
            "2607:f8b0:400c:c03::1a",
            "2001:470:e5bf:dead:4957:2174:e82c:4887",
            Some((25, 63943)),
            "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4=",
            "1:eJYTW6AOzFLlSUoESovMjnu7rMw=",
        ),
        (
            132,
            "192.168.170.8",
            "192.168.170.56",
            Some((7, 7)),
            "1:MP2EtRCAUIZvTw6MxJHLV7N7JDs=",
            "1:5w3ZRjeKBzqT3zsaEECDGjUbYeg=",
        ),
        (
            132,
            "192.168.170.56",
            "192.168.170.8",
            Some((7, 7)),
            "1:MP2EtRCAUIZvTw6MxJHLV7N7JDs=",
            "1:5w3ZRjeKBzqT3zsaEECDGjUbYeg=",
        ),
        (
            6,
            "128.232.110.120",
            "66.35.250.204",
            Some((34855, 80)),
            "1:LQU9qZlK+B5F3KDmev6m5PMibrg=",
            "1:3V71V58M3Ksw/yuFALMcW0LAHvc=",
        ),
        (
            6,
            "66.35.250.204",
            "128.232.110.120",
            Some((80, 34855)),
            "1:LQU9qZlK+B5F3KDmev6m5PMibrg=",
            "1:3V71V58M3Ksw/yuFALMcW0LAHvc=",
        ),
        (
            17,
            "192.168.1.52",
            "8.8.8.8",
            Some((54585, 53)),
            "1:d/FP5EW3wiY1vCndhwleRRKHowQ=",
            "1:Q9We8WO3piVF8yEQBNJF4uiSVrI=",
        ),
        (
            17,
            "8.8.8.8",
            "192.168.1.52",
            Some((53, 54585)),
            "1:d/FP5EW3wiY1vCndhwleRRKHowQ=",
            "1:Q9We8WO3piVF8yEQBNJF4uiSVrI=",
        ),
        (
            46,
            "10.1.12.1",
            "10.1.12.2",
            None,
            "1:KHlLkgoJW7ifUTyTSgyVfkFHzKw=",
            "1:rYir8gphR31noO9iDRQmF/BteEI=",
        ),
        (
            46,
            "10.1.12.2",
            "10.1.12.1",
            None,
            "1:KHlLkgoJW7ifUTyTSgyVfkFHzKw=",
            "1:rYir8gphR31noO9iDRQmF/BteEI=",
        ),
    ];

    #[test]
    fn spec_baseline() {
        for (proto, src, dst, ports, seed0, seed1) in BASELINE {
            let (src, dst): (IpAddr, IpAddr) = (src.parse().unwrap(), dst.parse().unwrap());
            // The ICMP rows' pairs come from the type (and the code of one-way messages,
            // which is the second number there); the mapping must give them back.
            let (ports, one_way) = match (proto, ports) {
                (1 | 58, Some((t, second))) => {
                    let t = u8::try_from(t).unwrap();
                    let (_, _, one_way) = icmp_ports(proto == 58, t, 0);
                    let code = if one_way {
                        u8::try_from(second).unwrap()
                    } else {
                        0
                    };
                    let (a, b, one_way) = icmp_ports(proto == 58, t, code);
                    assert_eq!((a, b), (u16::from(t), second), "{src} -> {dst} type {t}");
                    ((a, b), one_way)
                }
                (_, p) => (p.unwrap_or((0, 0)), false),
            };
            for (seed, want) in [(0, seed0), (1, seed1)] {
                let got = community_id(seed, src, dst, proto, ports, one_way);
                assert_eq!(got, want, "{proto} {src} -> {dst} {ports:?} seed {seed}");
            }
        }
    }

    #[test]
    fn both_directions_agree_and_ports_matter() {
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let ab = community_id(0, a, b, ip_proto::TCP, (40000, 80), false);
        assert_eq!(ab, community_id(0, b, a, ip_proto::TCP, (80, 40000), false));
        assert_ne!(ab, community_id(0, a, b, ip_proto::TCP, (40001, 80), false));
        assert_ne!(ab, community_id(0, a, b, ip_proto::UDP, (40000, 80), false));
        // Same address on both sides: the lower port comes first.
        let same = community_id(0, a, a, ip_proto::UDP, (53, 5353), false);
        assert_eq!(
            same,
            community_id(0, a, a, ip_proto::UDP, (5353, 53), false)
        );
    }
}
