//! Property: any byte stream, cut into segments, shuffled, duplicated and overlapped, with
//! any initial sequence numbers (wraparound included), reassembles exactly in both
//! directions; and under tiny caps, what is delivered is never wrong, only gapped.

#![allow(clippy::needless_range_loop)] // pairs of per-direction arrays are indexed together
use std::net::{IpAddr, Ipv4Addr};

use pcap_tcp_reassembly::{
    Config, Direction, Event, EventKind, OverlapPolicy, Reassembler, Segment, TcpFlags,
};
use proptest::prelude::*;

/// A segment description: direction index, start offset, length, flags.
#[derive(Debug, Clone, Copy)]
struct Cut {
    dir: usize,
    start: usize,
    len: usize,
    fin: bool,
    /// Re-sent with different bytes: each byte XORed with this (0 = same bytes).
    flip: u8,
}

fn segment(dir: usize, seq: u32, flags: TcpFlags, payload: &[u8]) -> Segment<'_> {
    let a = IpAddr::V4(Ipv4Addr::new(192, 168, 0, 1));
    let b = IpAddr::V4(Ipv4Addr::new(192, 168, 0, 2));
    let (src, dst, sp, dp) = if dir == 0 {
        (a, b, 50000, 443)
    } else {
        (b, a, 443, 50000)
    };
    Segment {
        ts_ns: 0,
        src,
        dst,
        src_port: sp,
        dst_port: dp,
        seq,
        ack: 0,
        flags,
        window: 1000,
        wscale: None,
        payload,
        orig_payload_len: None,
        tunnel: 0,
    }
}

/// Cuts `len` bytes into consecutive segments of 1..=max bytes.
fn cuts(dir: usize, len: usize, sizes: &[usize]) -> Vec<Cut> {
    let mut out = Vec::new();
    let mut pos = 0;
    let mut i = 0;
    while pos < len {
        let n = sizes[i % sizes.len()].min(len - pos);
        out.push(Cut {
            dir,
            start: pos,
            len: n,
            fin: false,
            flip: 0,
        });
        pos += n;
        i += 1;
    }
    out
}

/// What came out per direction: the bytes at their offsets (None = gap), and checks that
/// Data/Gap events tile the stream.
struct Collected {
    streams: [Vec<Option<u8>>; 2],
    fins: [bool; 2],
    tiled: bool,
    /// `OverlapConflict` events.
    conflicts: usize,
}

fn run(config: Config, isn: [u32; 2], data: [&[u8]; 2], order: &[Cut]) -> Collected {
    let mut r = Reassembler::new(config.clone());
    let mut got = Collected {
        streams: [Vec::new(), Vec::new()],
        fins: [false; 2],
        tiled: true,
        conflicts: 0,
    };
    let mut max_buffered = 0;
    let mut sink = |e: Event<'_>| {
        let di = |d: Direction| usize::from(d == Direction::ServerToClient);
        match e.kind {
            EventKind::Data { dir, offset, bytes } => {
                let s = &mut got.streams[di(dir)];
                got.tiled &= s.len() as u64 == offset;
                s.extend(bytes.iter().map(|&b| Some(b)));
            }
            EventKind::Gap { dir, offset, len } => {
                let s = &mut got.streams[di(dir)];
                got.tiled &= s.len() as u64 == offset;
                s.extend(std::iter::repeat_n(None, len as usize));
            }
            EventKind::Fin { dir, .. } => got.fins[di(dir)] = true,
            EventKind::OverlapConflict { .. } => got.conflicts += 1,
            _ => {}
        }
    };
    r.push(&segment(0, isn[0], TcpFlags::SYN, b""), &mut sink);
    let mut syn_ack = segment(1, isn[1], TcpFlags::SYN | TcpFlags::ACK, b"");
    syn_ack.ack = isn[0].wrapping_add(1);
    r.push(&syn_ack, &mut sink);
    for c in order {
        let seq = isn[c.dir].wrapping_add(1).wrapping_add(c.start as u32);
        let flags = if c.fin { TcpFlags::FIN } else { TcpFlags::PSH };
        let payload: Vec<u8> = data[c.dir][c.start..c.start + c.len]
            .iter()
            .map(|b| b ^ c.flip)
            .collect();
        r.push(&segment(c.dir, seq, flags, &payload), &mut sink);
        max_buffered = max_buffered.max(r.buffered_bytes());
        assert!(r.buffered_bytes() <= config.max_buffered_total);
    }
    r.finish(&mut sink);
    assert_eq!(r.buffered_bytes(), 0);
    got
}

fn isn_strategy() -> impl Strategy<Value = u32> {
    prop_oneof![any::<u32>(), (0u32..5000).prop_map(|d| u32::MAX - d)]
}

fn scenario(conflicting: bool) -> impl Strategy<Value = ([u32; 2], [Vec<u8>; 2], Vec<Cut>)> {
    (
        [isn_strategy(), isn_strategy()],
        [
            proptest::collection::vec(any::<u8>(), 0..3000),
            proptest::collection::vec(any::<u8>(), 0..3000),
        ],
        proptest::collection::vec(1usize..400, 1..8),
        proptest::collection::vec((0usize..2, 0usize..3000, 1usize..600, any::<u8>()), 0..20),
        any::<u64>(),
    )
        .prop_map(move |(isn, data, sizes, extra, seed)| {
            let mut order = cuts(0, data[0].len(), &sizes);
            order.extend(cuts(
                1,
                data[1].len(),
                &sizes[1..]
                    .iter()
                    .chain(&sizes[..1])
                    .copied()
                    .collect::<Vec<_>>(),
            ));
            // Duplicates and overlapping re-sends of arbitrary ranges (same bytes).
            for (dir, start, len, flip) in extra {
                let total = data[dir].len();
                if total == 0 {
                    continue;
                }
                let start = start % total;
                order.push(Cut {
                    dir,
                    start,
                    len: len.min(total - start),
                    fin: false,
                    flip: if conflicting { flip } else { 0 },
                });
            }
            // FINs, carrying no data, at the end of each stream.
            for dir in 0..2 {
                order.push(Cut {
                    dir,
                    start: data[dir].len(),
                    len: 0,
                    fin: true,
                    flip: 0,
                });
            }
            // Deterministic shuffle from the seed (Fisher-Yates with an LCG).
            let mut x = seed | 1;
            for i in (1..order.len()).rev() {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let j = (x >> 33) as usize % (i + 1);
                order.swap(i, j);
            }
            (isn, data, order)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Whatever the overlap policy: without a conflicting overlap, it never changes the
    /// output.
    #[test]
    fn reassembles_exactly(
        (isn, data, order) in scenario(false),
        policy in proptest::sample::select(OverlapPolicy::ALL.to_vec()),
    ) {
        // Enough chunks for 3000 one-byte segments in reverse order: no cap is hit.
        let mut config = Config::default();
        config.max_chunks_per_direction = 4096;
        config.overlap_policy = policy;
        let got = run(config, isn, [&data[0], &data[1]], &order);
        prop_assert!(got.tiled);
        prop_assert_eq!(got.conflicts, 0);
        for dir in 0..2 {
            let bytes: Option<Vec<u8>> = got.streams[dir].iter().copied().collect();
            prop_assert_eq!(bytes.as_deref(), Some(&data[dir][..]), "direction {}", dir);
            prop_assert!(got.fins[dir]);
        }
    }

    #[test]
    fn tiny_caps_give_gaps_never_wrong_bytes(
        (isn, data, order) in scenario(false),
        per_dir in 1usize..600,
        total in 1usize..900,
        chunks in 1usize..6,
        policy in proptest::sample::select(OverlapPolicy::ALL.to_vec()),
    ) {
        let mut config = Config::default();
        config.overlap_policy = policy;
        config.max_buffered_per_direction = per_dir;
        config.max_buffered_total = total;
        config.max_chunks_per_direction = chunks;
        let got = run(config, isn, [&data[0], &data[1]], &order);
        prop_assert!(got.tiled);
        for dir in 0..2 {
            prop_assert_eq!(got.streams[dir].len(), data[dir].len(), "direction {}", dir);
            for (i, b) in got.streams[dir].iter().enumerate() {
                if let Some(b) = b {
                    prop_assert_eq!(*b, data[dir][i], "direction {} offset {}", dir, i);
                }
            }
            prop_assert!(got.fins[dir]);
        }
    }

    #[test]
    fn first_copy_wins_on_conflicting_resends(
        (isn, data, order) in scenario(true)
    ) {
        let mut config = Config::default();
        config.max_chunks_per_direction = 4096;
        let got = run(config, isn, [&data[0], &data[1]], &order);
        prop_assert!(got.tiled);
        // Reference: each byte is the one from the first segment, in arrival order, that
        // carried it.
        let mut want: [Vec<Option<u8>>; 2] = [vec![None; data[0].len()], vec![None; data[1].len()]];
        for c in &order {
            for i in c.start..c.start + c.len {
                want[c.dir][i].get_or_insert(data[c.dir][i] ^ c.flip);
            }
        }
        for dir in 0..2 {
            prop_assert_eq!(&got.streams[dir], &want[dir], "direction {}", dir);
        }
    }
}
