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
    /// Frame number of the first packet: which of two parts (`--threads`) came first.
    pub first_frame: u64,
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
    /// Counts frame `frame`, a packet of `bytes` from `src` to `dst` at `ts_ns`.
    pub fn add(
        &mut self,
        frame: u64,
        proto: Proto,
        src: SocketAddr,
        dst: SocketAddr,
        ts_ns: i64,
        bytes: u64,
    ) {
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
                first_frame: frame,
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

    /// Adds the conversations of `other`, another worker's (`--threads`). A conversation in
    /// both (tunnelled ones can be) keeps the direction of its earlier first packet.
    pub fn merge(&mut self, other: Conversations) {
        for (key, theirs) in other.table {
            match self.table.entry(key) {
                Entry::Vacant(e) => {
                    e.insert(theirs);
                }
                Entry::Occupied(mut e) => {
                    let mine = e.get_mut();
                    if theirs.first_frame < mine.first_frame {
                        if theirs.a != mine.a {
                            (mine.a, mine.b) = (theirs.a, theirs.b);
                            std::mem::swap(&mut mine.a_to_b, &mut mine.b_to_a);
                        }
                        mine.first_frame = theirs.first_frame;
                    }
                    let (a_to_b, b_to_a) = if theirs.a == mine.a {
                        (theirs.a_to_b, theirs.b_to_a)
                    } else {
                        (theirs.b_to_a, theirs.a_to_b)
                    };
                    mine.a_to_b = mine.a_to_b.plus(a_to_b);
                    mine.b_to_a = mine.b_to_a.plus(b_to_a);
                    mine.first_ts_ns = mine.first_ts_ns.min(theirs.first_ts_ns);
                    mine.last_ts_ns = mine.last_ts_ns.max(theirs.last_ts_ns);
                }
            }
        }
        self.overflow = self.overflow.plus(other.overflow);
    }

    /// After [`Conversations::merge`]: keeps the [`MAX_CONVERSATIONS`] that began first and
    /// counts the others as overflow. Each worker kept its own first ones, so these are
    /// the conversations one thread would have kept, and the overflow is the same too.
    pub fn cap(&mut self) {
        if self.table.len() <= MAX_CONVERSATIONS {
            return;
        }
        let mut order: Vec<(u64, Key)> = self
            .table
            .iter()
            .map(|(k, c)| (c.first_frame, *k))
            .collect();
        order.sort_unstable_by_key(|(frame, _)| *frame);
        for (_, key) in order.get(MAX_CONVERSATIONS..).unwrap_or_default() {
            if let Some(c) = self.table.remove(key) {
                self.overflow = self.overflow.plus(c.total());
            }
        }
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
    /// Frame number of its first packet.
    pub first_frame: u64,
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
    /// Counts frame `frame`, an IP packet of `bytes` from `src` to `dst`: sent by one,
    /// received by the other (both, for a packet to itself, as tshark counts it).
    pub fn add(&mut self, frame: u64, src: IpAddr, dst: IpAddr, bytes: u64) {
        if let Some(e) = self.entry(frame, src, bytes) {
            e.tx.add(bytes);
        }
        if let Some(e) = self.entry(frame, dst, bytes) {
            e.rx.add(bytes);
        }
    }

    /// The endpoint `addr`, or `None` (counted as overflow) when it does not fit.
    fn entry(&mut self, frame: u64, addr: IpAddr, bytes: u64) -> Option<&mut Endpoint> {
        let full = self.table.len() >= MAX_ENDPOINTS;
        match self.table.entry(addr) {
            Entry::Occupied(e) => Some(e.into_mut()),
            Entry::Vacant(_) if full => {
                self.overflow.add(bytes);
                None
            }
            Entry::Vacant(e) => Some(e.insert(Endpoint {
                first_frame: frame,
                ..Endpoint::default()
            })),
        }
    }

    /// Adds the endpoints of `other`, another worker's (`--threads`).
    pub fn merge(&mut self, other: Endpoints) {
        for (addr, theirs) in other.table {
            let mine = self.table.entry(addr).or_insert(Endpoint {
                first_frame: theirs.first_frame,
                ..Endpoint::default()
            });
            mine.tx = mine.tx.plus(theirs.tx);
            mine.rx = mine.rx.plus(theirs.rx);
            mine.first_frame = mine.first_frame.min(theirs.first_frame);
        }
        self.overflow = self.overflow.plus(other.overflow);
    }

    /// After [`Endpoints::merge`]: keeps the [`MAX_ENDPOINTS`] seen first and counts the
    /// others as overflow. Unlike conversations, an endpoint talks through several
    /// workers, one of which may have been full when it first came: past the cap, which
    /// endpoints are kept can differ from one thread (the totals do not).
    pub fn cap(&mut self) {
        if self.table.len() <= MAX_ENDPOINTS {
            return;
        }
        let mut order: Vec<(u64, IpAddr)> = self
            .table
            .iter()
            .map(|(a, e)| (e.first_frame, *a))
            .collect();
        order.sort_unstable();
        for (_, addr) in order.get(MAX_ENDPOINTS..).unwrap_or_default() {
            if let Some(e) = self.table.remove(addr) {
                self.overflow = self.overflow.plus(e.total());
            }
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
        c.add(1, Proto::Tcp, client, server, 2_000, 60);
        c.add(2, Proto::Tcp, server, client, 1_000, 1500);
        c.add(3, Proto::Tcp, client, server, 3_000, 54);
        c.add(4, Proto::Udp, client, server, 4_000, 90);
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
            c.add(u64::from(i), Proto::Tcp, client, server, 0, 60);
            e.add(u64::from(i), client.ip(), server.ip(), 60);
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
        e.add(1, a, b, 100);
        e.add(2, b, a, 40);
        e.add(3, a, b, 10);
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

    /// Packets of many conversations dealt to three parts (as `--threads 3` deals host
    /// pairs, here by packet, which also splits conversations) and merged: the tables and
    /// overflow of one pass, with the caps reached.
    #[test]
    fn merged_parts_are_the_tables_of_one_pass() {
        let server = addr("10.0.0.1:80");
        let (mut whole_c, mut whole_e) = (Conversations::default(), Endpoints::default());
        let mut parts: Vec<(Conversations, Endpoints)> =
            (0..3).map(|_| Default::default()).collect();
        let n = u32::try_from(MAX_CONVERSATIONS).unwrap() + 50;
        for i in 0..n {
            let frame = u64::from(i) + 1;
            let client = SocketAddr::new(
                std::net::Ipv4Addr::from(0x0b00_0000 + i % (n - 7)).into(),
                1,
            );
            // Every seventh packet is the server's answer, so directions cross parts.
            let (src, dst) = if i % 7 == 0 {
                (server, client)
            } else {
                (client, server)
            };
            let bytes = u64::from(i % 1500);
            whole_c.add(frame, Proto::Tcp, src, dst, i64::from(i), bytes);
            whole_e.add(frame, src.ip(), dst.ip(), bytes);
            let (c, e) = &mut parts[(i % 3) as usize];
            c.add(frame, Proto::Tcp, src, dst, i64::from(i), bytes);
            e.add(frame, src.ip(), dst.ip(), bytes);
        }
        let mut parts = parts.into_iter();
        let (mut c, mut e) = parts.next().unwrap();
        for (pc, pe) in parts {
            c.merge(pc);
            e.merge(pe);
        }
        c.cap();
        e.cap();
        assert_eq!(c.sorted(Proto::Tcp), whole_c.sorted(Proto::Tcp));
        assert_eq!(c.overflow, whole_c.overflow);
        assert!(c.overflow.packets > 0);
        assert_eq!(e.sorted(), whole_e.sorted());
        assert_eq!(e.overflow, whole_e.overflow);
    }
}
