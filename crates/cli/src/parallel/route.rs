//! Which worker a packet goes to: every packet of a TCP session to the same one.
//!
//! The key is the packet's outermost IP address pair, the same both ways round, hashed
//! with a fixed seed so that a capture is split the same way on every run. Ports are left
//! out on purpose: the fragments of a datagram carry them only in the first fragment, and
//! a session whose larger segments are fragmented (in a tunnel, often: the outer packet
//! outgrows the MTU) would have its fragmented and whole segments hashed apart. With the
//! outermost pair, every fragment meets its session's other packets at one worker, whose
//! defragmenter puts them together; the defragmenter, its caps, timeouts and notices stay
//! in the analyzer. This was chosen over defragmenting in the reading thread, which would
//! copy each datagram and move defragmentation out of the analyzer. The cost: the sessions
//! between one pair of hosts all go to one worker, so a capture of two hosts talking runs
//! on one core. Tunnels outside IP (MPLS) add the analyzer's tunnel id to the inner pair.

use std::hash::BuildHasher;
use std::net::SocketAddr;

use pcap_decode::Decoded;
use pcap_tcp_reassembly::FlowKey;

/// A fixed seed: a capture is split the same way on every run and machine.
const SEED: u64 = 0x7063_6170_2d63_6c69;

/// Where a decoded packet goes, and whether it is a TCP segment the reassembler takes as
/// it is (its time then ticks the other workers' clocks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Route {
    /// The worker, below the number of workers.
    pub(super) worker: usize,
    /// A whole TCP segment (not a fragment).
    pub(super) segment: bool,
}

/// The route of `decoded` among `workers` workers.
pub(super) fn route(decoded: &Decoded<'_>, workers: usize) -> Route {
    let hasher = foldhash::fast::FixedState::with_seed(SEED);
    let outer = decoded
        .tunnels
        .first()
        .and_then(|t| Some((t.src()?, t.dst()?, 0)));
    let inner = || Some((decoded.src_ip()?, decoded.dst_ip()?, decoded.tunnel_id()));
    let hash = match outer.or_else(inner) {
        Some((src, dst, tunnel)) => {
            let (key, _) = FlowKey::new(SocketAddr::new(src, 0), SocketAddr::new(dst, 0), tunnel);
            hasher.hash_one(key)
        }
        // ARP and other packets without IP: no session to keep together.
        None => 0,
    };
    let n = u64::try_from(workers.max(1)).unwrap_or(u64::MAX);
    Route {
        worker: usize::try_from(hash % n).unwrap_or(0),
        segment: is_segment(decoded),
    }
}

/// Whether [`Segment::from_decoded`](pcap_tcp_reassembly::Segment::from_decoded) takes `decoded` (a TCP header with both addresses,
/// not in a fragment), without building the segment: this runs for every packet on the
/// reading thread, ahead of all the workers.
fn is_segment(decoded: &Decoded<'_>) -> bool {
    !decoded.fragment().is_some_and(|f| f.more || f.offset != 0)
        && decoded.tcp().is_some()
        && decoded.src_ip().is_some()
        && decoded.dst_ip().is_some()
}

#[cfg(test)]
mod tests {
    use super::*;
    use pcap_capture::LinkType;
    use pcap_decode::build::{EthSpec, FrameSpec, IpSpec, Ipv4Spec, TcpSpec, tcp_frame};
    use pcap_decode::decode_packet;
    use pcap_tcp_reassembly::Segment;

    /// A data segment from `src`:`sport` to `dst`:`dport`.
    fn segment(src: [u8; 4], sport: u16, dst: [u8; 4], dport: u16) -> Vec<u8> {
        let frame = FrameSpec {
            eth: EthSpec {
                src: [2, 0, 0, 0, 0, 1],
                dst: [2, 0, 0, 0, 0, 2],
            },
            ip: IpSpec::V4(Ipv4Spec {
                src,
                dst,
                ttl: 64,
                id: 1,
                dont_frag: true,
            }),
        };
        let tcp = TcpSpec {
            src_port: sport,
            dst_port: dport,
            seq: 1,
            ack: 1,
            flags: 0x018,
            window: 512,
            options: Vec::new(),
        };
        tcp_frame(&frame, &tcp, b"data")
    }

    #[test]
    fn both_directions_go_to_one_worker_and_host_pairs_spread() {
        let mut hit = [false; 4];
        for host in 1..65u8 {
            let there = segment([10, 0, 0, host], 1000, [10, 0, 1, 1], 80);
            let back = segment([10, 0, 1, 1], 80, [10, 0, 0, host], 1000);
            let r1 = route(&decode_packet(LinkType::ETHERNET, &there), 4);
            let r2 = route(&decode_packet(LinkType::ETHERNET, &back), 4);
            assert_eq!(r1, r2, "host {host}");
            assert!(r1.segment);
            hit[r1.worker] = true;
            let other_port = segment([10, 0, 0, host], 1001, [10, 0, 1, 1], 80);
            let r3 = route(&decode_packet(LinkType::ETHERNET, &other_port), 4);
            assert_eq!(r1, r3, "one pair of hosts, one worker");
        }
        assert_eq!(hit, [true; 4], "64 host pairs reach every one of 4 workers");
    }

    /// `is_segment` says what building the segment would: whole TCP segments yes; the
    /// first, middle and last fragments of a datagram and UDP no.
    #[test]
    fn is_segment_agrees_with_building_the_segment() {
        let whole = segment([10, 0, 0, 1], 1000, [10, 0, 1, 1], 80);
        // IPv4 flags and fragment offset: bytes 20-21 of the frame (Ethernet + 6).
        let with_frag = |field: u16| {
            let mut f = whole.clone();
            f[20..22].copy_from_slice(&field.to_be_bytes());
            f
        };
        let udp = pcap_decode::build::udp_frame(
            &FrameSpec::default(),
            &pcap_decode::build::UdpSpec {
                src_port: 5353,
                dst_port: 53,
            },
            b"x",
        );
        let cases = [
            (whole.clone(), true),
            (with_frag(0x4000), true),  // DF only
            (with_frag(0x2000), false), // first fragment (MF)
            (with_frag(0x2010), false), // middle
            (with_frag(0x0010), false), // last
            (udp, false),
        ];
        for (i, (frame, want)) in cases.iter().enumerate() {
            let d = decode_packet(LinkType::ETHERNET, frame);
            assert_eq!(Segment::from_decoded(0, &d).is_some(), *want, "case {i}");
            assert_eq!(is_segment(&d), *want, "case {i}");
        }
    }
}
