//! TCP and UDP conversations and IP endpoints, as `tshark -z conv,tcp`, `-z conv,udp` and
//! `-z endpoints,ip`: every packet counts, by its frame length on the wire.
//!
//! Both tables are keyed by what came off the wire, so each has a cap on its entries; a
//! packet of a conversation or endpoint that no longer fits is counted in an overflow row
//! and a warning says so. With tunnels, conversations are the innermost TCP or UDP (as
//! `flows` has them), and the caller adds each tunnel's outer IP header as an endpoint
//! pair too, since tshark counts every IP layer.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::net::{IpAddr, SocketAddr};

/// Most conversations kept (TCP and UDP together), about 100 bytes each.
pub const MAX_CONVERSATIONS: usize = 200_000;

/// Most endpoints kept, about 80 bytes each.
pub const MAX_ENDPOINTS: usize = 200_000;

/// Packets and bytes in one direction.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Packets.
    pub packets: u64,
    /// Bytes on the wire.
    pub bytes: u64,
}

impl Tally {
    fn add(&mut self, bytes: u64) {
        self.packets += 1;
        self.bytes = self.bytes.saturating_add(bytes);
    }

    /// The sum of two tallies.
    pub fn plus(self, other: Tally) -> Tally {
        Tally {
            packets: self.packets + other.packets,
            bytes: self.bytes.saturating_add(other.bytes),
        }
    }
}

/// The transport of a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Proto {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
}

/// One conversation: A is the source of its first packet, as tshark has it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conversation {
    /// TCP or UDP.
    pub proto: Proto,
    /// The first packet's source.
    pub a: SocketAddr,
    /// The first packet's destination.
    pub b: SocketAddr,
    /// From A to B.
    pub a_to_b: Tally,
    /// From B to A.
    pub b_to_a: Tally,
    /// Time of the first packet, ns.
    pub first_ts_ns: i64,
    /// Time of the last packet, ns.
    pub last_ts_ns: i64,
}

impl Conversation {
    /// Both directions.
    pub fn total(&self) -> Tally {
        self.a_to_b.plus(self.b_to_a)
    }
}

/// The key of a conversation: the same both ways (lower endpoint first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Key {
    proto: Proto,
    low: SocketAddr,
    high: SocketAddr,
}

/// Conversations being counted.
#[derive(Debug, Default)]
pub struct Conversations {
    table: HashMap<Key, Conversation>,
    /// Packets of conversations that did not fit under [`MAX_CONVERSATIONS`].
    pub overflow: Tally,
}

impl Conversations {
    /// Counts a packet of `bytes` from `src` to `dst` at `ts_ns`.
    pub fn add(&mut self, proto: Proto, src: SocketAddr, dst: SocketAddr, ts_ns: i64, bytes: u64) {
        let key = Key {
            proto,
            low: src.min(dst),
            high: src.max(dst),
        };
        let full = self.table.len() >= MAX_CONVERSATIONS;
        let conv = match self.table.entry(key) {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(_) if full => {
                self.overflow.add(bytes);
                return;
            }
            Entry::Vacant(e) => e.insert(Conversation {
                proto,
                a: src,
                b: dst,
                a_to_b: Tally::default(),
                b_to_a: Tally::default(),
                first_ts_ns: ts_ns,
                last_ts_ns: ts_ns,
            }),
        };
        // A conversation between an endpoint and itself counts as A to B.
        if src == conv.a {
            conv.a_to_b.add(bytes);
        } else {
            conv.b_to_a.add(bytes);
        }
        conv.first_ts_ns = conv.first_ts_ns.min(ts_ns);
        conv.last_ts_ns = conv.last_ts_ns.max(ts_ns);
    }

    /// The conversations of `proto`, most packets first (then most bytes, then earliest), as
    /// tshark sorts them.
    pub fn sorted(&self, proto: Proto) -> Vec<&Conversation> {
        let mut v: Vec<&Conversation> = self.table.values().filter(|c| c.proto == proto).collect();
        v.sort_by_key(|c| {
            let t = c.total();
            (
                std::cmp::Reverse(t.packets),
                std::cmp::Reverse(t.bytes),
                c.first_ts_ns,
                c.a,
                c.b,
            )
        });
        v
    }
}

/// One IP endpoint.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Endpoint {
    /// Sent by it.
    pub tx: Tally,
    /// Sent to it.
    pub rx: Tally,
}

impl Endpoint {
    /// Both ways.
    pub fn total(&self) -> Tally {
        self.tx.plus(self.rx)
    }
}

/// IP endpoints being counted.
#[derive(Debug, Default)]
pub struct Endpoints {
    table: HashMap<IpAddr, Endpoint>,
    /// Packets sent or received by endpoints that did not fit under [`MAX_ENDPOINTS`]
    /// (a packet between two such endpoints counts twice, once per endpoint).
    pub overflow: Tally,
}

impl Endpoints {
    /// Counts an IP packet of `bytes` from `src` to `dst`: sent by one, received by the
    /// other (both, for a packet to itself, as tshark counts it).
    pub fn add(&mut self, src: IpAddr, dst: IpAddr, bytes: u64) {
        if let Some(e) = self.entry(src, bytes) {
            e.tx.add(bytes);
        }
        if let Some(e) = self.entry(dst, bytes) {
            e.rx.add(bytes);
        }
    }

    /// The endpoint `addr`, or `None` (counted as overflow) when it does not fit.
    fn entry(&mut self, addr: IpAddr, bytes: u64) -> Option<&mut Endpoint> {
        let full = self.table.len() >= MAX_ENDPOINTS;
        match self.table.entry(addr) {
            Entry::Occupied(e) => Some(e.into_mut()),
            Entry::Vacant(_) if full => {
                self.overflow.add(bytes);
                None
            }
            Entry::Vacant(e) => Some(e.insert(Endpoint::default())),
        }
    }

    /// The endpoints, most packets first (then most bytes, then by address).
    pub fn sorted(&self) -> Vec<(IpAddr, Endpoint)> {
        let mut v: Vec<(IpAddr, Endpoint)> = self.table.iter().map(|(a, e)| (*a, *e)).collect();
        v.sort_by_key(|(a, e)| {
            let t = e.total();
            (std::cmp::Reverse(t.packets), std::cmp::Reverse(t.bytes), *a)
        });
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn a_is_the_first_packets_source_and_directions_add_up() {
        let mut c = Conversations::default();
        let (client, server) = (addr("10.0.0.9:40000"), addr("10.0.0.1:80"));
        c.add(Proto::Tcp, client, server, 2_000, 60);
        c.add(Proto::Tcp, server, client, 1_000, 1500);
        c.add(Proto::Tcp, client, server, 3_000, 54);
        c.add(Proto::Udp, client, server, 4_000, 90);
        let tcp = c.sorted(Proto::Tcp);
        assert_eq!(tcp.len(), 1);
        let t = tcp[0];
        assert_eq!((t.a, t.b), (client, server));
        assert_eq!(
            t.a_to_b,
            Tally {
                packets: 2,
                bytes: 114
            }
        );
        assert_eq!(
            t.b_to_a,
            Tally {
                packets: 1,
                bytes: 1500
            }
        );
        assert_eq!((t.first_ts_ns, t.last_ts_ns), (1_000, 3_000));
        assert_eq!(c.sorted(Proto::Udp).len(), 1);
    }

    #[test]
    fn tables_stop_growing_at_their_caps_and_count_the_rest() {
        let (mut c, mut e) = (Conversations::default(), Endpoints::default());
        let server = addr("10.0.0.1:80");
        let extra = 10u32;
        let n = u32::try_from(MAX_CONVERSATIONS).unwrap() + extra;
        for i in 0..n {
            let client = SocketAddr::new(std::net::Ipv4Addr::from(0x0b00_0000 + i).into(), 1);
            c.add(Proto::Tcp, client, server, 0, 60);
            e.add(client.ip(), server.ip(), 60);
        }
        assert_eq!(c.sorted(Proto::Tcp).len(), MAX_CONVERSATIONS);
        assert_eq!(
            c.overflow,
            Tally {
                packets: 10,
                bytes: 600
            }
        );
        // The server and the first clients fit; the server's rx still counts every packet.
        assert_eq!(e.sorted().len(), MAX_ENDPOINTS);
        assert_eq!(e.overflow.packets, u64::from(extra) + 1);
        assert_eq!(e.sorted()[0].1.rx.packets, u64::from(n));
    }

    #[test]
    fn endpoints_count_both_ends() {
        let mut e = Endpoints::default();
        let (a, b): (IpAddr, IpAddr) = ("10.0.0.1".parse().unwrap(), "::1".parse().unwrap());
        e.add(a, b, 100);
        e.add(b, a, 40);
        e.add(a, b, 10);
        let v = e.sorted();
        assert_eq!(v.len(), 2);
        let ea = v.iter().find(|(x, _)| *x == a).unwrap().1;
        assert_eq!(
            ea.tx,
            Tally {
                packets: 2,
                bytes: 110
            }
        );
        assert_eq!(
            ea.rx,
            Tally {
                packets: 1,
                bytes: 40
            }
        );
    }
}
