//! The numbers `capture` shows beside the one-line summary: the wire length of a TCP or
//! UDP payload (not what the snapshot length kept), and TCP sequence and acknowledgment
//! numbers relative to each direction's first one, as tcpdump does.

use std::collections::HashMap;
use std::net::IpAddr;

use pcap_capture::Packet;
use pcap_decode::Decoded;

/// What [`super::summary::write_summary_with`] shows instead of the raw header values.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Shown {
    /// The TCP sequence and acknowledgment numbers to show (`None`: the header's).
    pub seq_ack: Option<(u32, u32)>,
    /// The payload's length on the wire (`None`: the captured payload's length). When it
    /// is larger than what was captured, the summary shows both.
    pub wire_len: Option<usize>,
    /// Link-layer addresses (MAC addresses) are shown (`capture -e`).
    pub link: bool,
    /// The IP header's fields, TCP options and checksum status are shown (`capture -v`).
    pub verbose: bool,
}

/// The length of `d`'s TCP or UDP payload on the wire, as its headers give it: from the
/// IPv4 total length for TCP, from the UDP length field for UDP. An IPv6 TCP segment cut by
/// the snapshot length counts the bytes the frame lost (`orig_len - caplen`): the cut is at
/// the end of the frame, in the payload. A length field smaller than what was captured, or
/// 0 (TSO captures), gives the captured length.
pub fn wire_len(packet: &Packet<'_>, d: &Decoded<'_>) -> usize {
    let captured = d.payload.len();
    let claimed = if let Some(u) = d.udp() {
        usize::from(u.length()).checked_sub(8)
    } else if let Some(t) = d.tcp() {
        match d.ipv4() {
            Some(ip) if ip.total_len() != 0 => usize::from(ip.total_len())
                .checked_sub(ip.header_len())
                .and_then(|n| n.checked_sub(t.header_len())),
            Some(_) => None,
            None if d.truncated => {
                let lost = packet.orig_len.saturating_sub(packet.caplen);
                Some(captured.saturating_add(lost as usize))
            }
            None => None,
        }
    } else {
        None
    };
    claimed.map_or(captured, |n| n.max(captured))
}

/// One direction of a TCP conversation.
type DirKey = (IpAddr, u16, IpAddr, u16);

/// The first sequence number seen in each direction of each TCP conversation, so that
/// sequence and acknowledgment numbers can be shown relative to it (tcpdump's default).
///
/// Bounded: at most [`RelativeSeq::CAP`] directions are remembered. The table is two
/// generations (the current one and the one before it); when the current one holds half
/// the cap it becomes the old one and the older one is dropped, and a direction found in
/// the old one moves back to the current one. So a direction seen within the last
/// `CAP / 2` new directions is never forgotten; one forgotten and seen again starts from
/// the number of that packet.
#[derive(Debug, Default)]
pub struct RelativeSeq {
    current: HashMap<DirKey, u32>,
    old: HashMap<DirKey, u32>,
}

impl RelativeSeq {
    /// The most directions remembered.
    pub const CAP: usize = 131_072;

    /// The numbers to show for `d`'s TCP segment (`None` when it has none): absolute on a
    /// SYN (which starts its direction again), else relative to the first sequence number
    /// of the segment's direction and, for the acknowledgment number, of the other one (the
    /// first acknowledgment number seen stands for it until that direction is seen).
    pub fn numbers(&mut self, d: &Decoded<'_>) -> Option<(u32, u32)> {
        let t = d.tcp()?;
        let (src, dst) = (d.src_ip()?, d.dst_ip()?);
        let key = (src, t.src_port(), dst, t.dst_port());
        let rev = (dst, t.dst_port(), src, t.src_port());
        let (seq, ack) = (t.seq(), t.ack());
        let flags = t.flags();
        if flags.syn() {
            self.insert(key, seq);
            if flags.ack() {
                self.insert(rev, ack.wrapping_sub(1));
            }
            return Some((seq, ack));
        }
        let base = self.base(key, seq);
        let ack_base = if flags.ack() { self.base(rev, ack) } else { 0 };
        Some((seq.wrapping_sub(base), ack.wrapping_sub(ack_base)))
    }

    /// The base of `key`, set to `first` when it has none.
    fn base(&mut self, key: DirKey, first: u32) -> u32 {
        if let Some(&b) = self.current.get(&key) {
            return b;
        }
        let b = self.old.remove(&key).unwrap_or(first);
        self.insert(key, b);
        b
    }

    fn insert(&mut self, key: DirKey, base: u32) {
        if self.current.len() >= Self::CAP / 2 && !self.current.contains_key(&key) {
            self.old = std::mem::take(&mut self.current);
        }
        self.old.remove(&key);
        self.current.insert(key, base);
    }

    /// Directions remembered.
    pub fn len(&self) -> usize {
        self.current.len() + self.old.len()
    }

    /// True when no direction is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_stays_under_its_cap_and_keeps_recent_directions() {
        let mut t = RelativeSeq::default();
        let ip = IpAddr::from([10, 0, 0, 1]);
        let key = |i: u32| (ip, (i >> 16) as u16, ip, i as u16);
        t.insert(key(0), 7);
        for i in 0..(RelativeSeq::CAP as u32 * 3) {
            // Direction 0 is seen again every 1000 new ones: never forgotten.
            if i % 1000 == 0 {
                assert_eq!(t.base(key(0), 99), 7, "at {i}");
            }
            t.base(key(i + 1), i);
            assert!(t.len() <= RelativeSeq::CAP);
        }
        // One not seen for more than CAP / 2 new directions is forgotten.
        assert_eq!(t.base(key(1), 42), 42);
    }
}
