//! Which worker a packet goes to: every packet of a TCP session to the same one.
//!
//! The key is the reassembler's own ([`FlowKey`]: both directions alike, and the tunnel id
//! of tunnelled packets, inner 5-tuple included), hashed with a fixed seed so that a
//! capture is split the same way on every run.
//!
//! IP fragments other than a datagram's first carry no ports, so every fragment (first
//! included) goes by its IP pair and tunnel alone: the fragments of a datagram meet at one
//! worker, whose defragmenter puts them together. This was chosen over defragmenting in
//! the reading thread, which would copy each reassembled datagram and move the
//! defragmenter's caps, timeouts and notices out of the analyzer. The cost: a TCP session
//! that is fragmented only at times has its whole and fragmented segments hashed apart.

use std::hash::BuildHasher;
use std::net::SocketAddr;

use pcap_decode::Decoded;
use pcap_tcp_reassembly::{FlowKey, Segment};

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
pub(super) fn route(ts_ns: i64, decoded: &Decoded<'_>, workers: usize) -> Route {
    let hasher = foldhash::fast::FixedState::with_seed(SEED);
    let (hash, segment) = match Segment::from_decoded(ts_ns, decoded) {
        Some(seg) => {
            let (key, _) = FlowKey::new(seg.src_addr(), seg.dst_addr(), seg.tunnel);
            (hasher.hash_one(key), true)
        }
        None => match (decoded.src_ip(), decoded.dst_ip()) {
            (Some(src), Some(dst)) => {
                let pair = FlowKey::new(
                    SocketAddr::new(src, 0),
                    SocketAddr::new(dst, 0),
                    decoded.tunnel_id(),
                );
                (hasher.hash_one(pair.0), false)
            }
            // ARP and other packets without IP: no session to keep together.
            _ => (0, false),
        },
    };
    let n = u64::try_from(workers.max(1)).unwrap_or(u64::MAX);
    Route {
        worker: usize::try_from(hash % n).unwrap_or(0),
        segment,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pcap_capture::LinkType;
    use pcap_decode::build::{EthSpec, FrameSpec, IpSpec, Ipv4Spec, TcpSpec, tcp_frame};
    use pcap_decode::decode_packet;

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
    fn both_directions_go_to_one_worker_and_flows_spread() {
        let mut hit = [false; 4];
        for port in 1000..1064u16 {
            let there = segment([10, 0, 0, 1], port, [10, 0, 0, 2], 80);
            let back = segment([10, 0, 0, 2], 80, [10, 0, 0, 1], port);
            let r1 = route(0, &decode_packet(LinkType::ETHERNET, &there), 4);
            let r2 = route(0, &decode_packet(LinkType::ETHERNET, &back), 4);
            assert_eq!(r1, r2, "port {port}");
            assert!(r1.segment);
            hit[r1.worker] = true;
        }
        assert_eq!(hit, [true; 4], "64 flows reach every one of 4 workers");
    }
}
