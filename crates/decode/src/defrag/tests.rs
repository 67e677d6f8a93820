//! Unit and property tests of the defragmenter.
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]
use super::*;
use proptest::prelude::*;
use std::net::Ipv4Addr;

const SEC: i64 = 1_000_000_000;

fn key(id: u32) -> FragKey {
    FragKey::v4(
        Ipv4Addr::new(192, 0, 2, 1),
        Ipv4Addr::new(192, 0, 2, 2),
        17,
        id as u16,
    )
}

fn payload(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 7 + i / 251) as u8).collect()
}

/// One fragment of a table case: (offset, more fragments, byte range of the payload).
type Frag = (u32, bool, std::ops::Range<usize>);

/// Feeds fragments of `data`; returns the datagram and the index of the completing fragment.
fn run(d: &mut Defragmenter, data: &[u8], frags: &[Frag]) -> Option<(usize, Vec<u8>)> {
    let mut done = None;
    for (i, (off, mf, r)) in frags.iter().enumerate() {
        if let Some(out) = d
            .push(i as i64, key(1), *off, *mf, &data[r.clone()])
            .unwrap()
        {
            assert!(done.is_none(), "completed twice");
            done = Some((i, out.payload.to_vec()));
        }
    }
    done
}

#[test]
fn table() {
    let data = payload(40);
    let cases: &[(&str, Vec<Frag>, Option<usize>, DefragStats)] = &[
        (
            "in order",
            vec![(0, true, 0..16), (16, true, 16..32), (32, false, 32..40)],
            Some(2),
            DefragStats {
                fragments: 3,
                reassembled: 1,
                ..Default::default()
            },
        ),
        (
            "reversed",
            vec![(32, false, 32..40), (16, true, 16..32), (0, true, 0..16)],
            Some(2),
            DefragStats {
                fragments: 3,
                reassembled: 1,
                ..Default::default()
            },
        ),
        (
            "duplicate before completion",
            vec![
                (0, true, 0..16),
                (0, true, 0..16),
                (32, false, 32..40),
                (16, true, 16..32),
            ],
            Some(3),
            DefragStats {
                fragments: 4,
                reassembled: 1,
                duplicates: 1,
                ..Default::default()
            },
        ),
        (
            "consistent overlap",
            vec![(0, true, 0..24), (16, true, 16..40 - 8), (8, false, 8..40)],
            Some(2),
            DefragStats {
                fragments: 3,
                reassembled: 1,
                ..Default::default()
            },
        ),
        (
            "hole never filled",
            vec![(0, true, 0..8), (16, false, 16..40)],
            None,
            DefragStats {
                fragments: 2,
                ..Default::default()
            },
        ),
        (
            "unfragmented",
            vec![(0, false, 0..40)],
            Some(0),
            DefragStats {
                fragments: 1,
                reassembled: 1,
                ..Default::default()
            },
        ),
    ];
    for (name, frags, completes, stats) in cases {
        let mut d = Defragmenter::default();
        let got = run(&mut d, &data, frags);
        assert_eq!(got.as_ref().map(|g| g.0), *completes, "{name}");
        if let Some((_, bytes)) = got {
            assert_eq!(bytes, data, "{name}");
            assert_eq!(d.buffered_bytes(), 0, "{name}");
            assert_eq!(d.pending_datagrams(), 0, "{name}");
        }
        assert_eq!(d.stats(), *stats, "{name}");
    }
}

#[test]
fn conflicting_overlap_first_wins() {
    let mut d = Defragmenter::default();
    assert!(d.push(0, key(1), 0, true, &[1; 16]).unwrap().is_none());
    assert!(d.push(1, key(1), 8, true, &[2; 16]).unwrap().is_none());
    let out = d.push(2, key(1), 24, false, &[3; 8]).unwrap().unwrap();
    let mut want = vec![1; 16];
    want.extend([2; 8]);
    want.extend([3; 8]);
    assert_eq!(out.payload, want);
    assert!(out.conflicting_overlap);
    assert_eq!(out.fragments, 3);
    assert_eq!(d.stats().overlaps, 1);
    assert_eq!(
        d.take_events().collect::<Vec<_>>(),
        [DefragEvent::ConflictingOverlap {
            key: key(1),
            offset: 8
        }]
    );
}

#[test]
fn timeout_by_packet_time() {
    let mut d = Defragmenter::default();
    d.push(0, key(1), 0, true, &[0; 8]).unwrap();
    d.push(10 * SEC, key(2), 0, true, &[0; 8]).unwrap();
    // 30 s after the first fragment the datagram is still alive; a nanosecond later it is not.
    d.expire(30 * SEC);
    assert_eq!(d.pending_datagrams(), 2);
    assert!(
        d.push(30 * SEC + 1, key(1), 8, false, &[0; 8])
            .unwrap()
            .is_none()
    );
    assert_eq!(d.stats().expired, 1);
    let ev: Vec<_> = d.take_events().collect();
    assert_eq!(
        ev,
        [DefragEvent::Expired {
            key: key(1),
            reason: DropReason::Timeout,
            buffered_bytes: 8 + PIECE_OVERHEAD
        }]
    );
    // The late last fragment started a new datagram of its own.
    assert_eq!(d.pending_datagrams(), 2);
    assert_eq!(d.buffered_bytes(), 2 * (8 + PIECE_OVERHEAD));
}

#[test]
fn datagram_cap_evicts_oldest() {
    let cfg = DefragConfig {
        max_datagrams: 2,
        ..Default::default()
    };
    let mut d = Defragmenter::new(cfg);
    for id in 1..=3 {
        d.push(i64::from(id), key(id), 0, true, &[0; 8]).unwrap();
    }
    assert_eq!(d.pending_datagrams(), 2);
    assert_eq!(d.stats().evicted, 1);
    let ev: Vec<_> = d.take_events().collect();
    assert_eq!(
        ev,
        [DefragEvent::Expired {
            key: key(1),
            reason: DropReason::DatagramCap,
            buffered_bytes: 8 + PIECE_OVERHEAD
        }]
    );
    // Datagram 2 survived and still completes.
    assert!(d.push(4, key(2), 8, false, &[0; 8]).unwrap().is_some());
}

#[test]
fn byte_cap_and_too_large() {
    let cfg = DefragConfig {
        max_buffered_bytes: 64,
        ..Default::default()
    };
    let mut d = Defragmenter::new(cfg);
    d.push(0, key(1), 0, true, &[0; 40]).unwrap();
    d.push(1, key(2), 0, true, &[0; 40]).unwrap();
    assert_eq!(d.buffered_bytes(), 40 + PIECE_OVERHEAD);
    assert_eq!(d.stats().evicted, 1);
    assert_eq!(
        d.push(2, key(3), 0, true, &[0; 72]).unwrap_err(),
        DefragError::OverCap {
            needed: 72 + PIECE_OVERHEAD,
            max: 64
        }
    );
    assert_eq!(d.stats().dropped_over_cap, 1);
    assert_eq!(
        d.push(3, key(2), 65_528, true, &[0; 16]).unwrap_err(),
        DefragError::TooLarge {
            offset: 65_528,
            end: 65_544,
            max: 65_535
        }
    );
    assert_eq!(d.pending_datagrams(), 0);
    assert_eq!(d.buffered_bytes(), 0);
}

#[test]
fn inconsistent_end_drops_datagram() {
    let mut d = Defragmenter::default();
    d.push(0, key(1), 16, false, &[0; 8]).unwrap();
    assert_eq!(
        d.push(1, key(1), 16, true, &[0; 16]).unwrap_err(),
        DefragError::Inconsistent {
            offset: 16,
            known_end: 24
        }
    );
    d.push(2, key(1), 32, true, &[0; 8]).unwrap();
    assert_eq!(
        d.push(3, key(1), 0, false, &[0; 8]).unwrap_err(),
        DefragError::Inconsistent {
            offset: 0,
            known_end: 40
        }
    );
    assert_eq!(d.stats().inconsistent, 2);
    assert_eq!(d.buffered_bytes(), 0);
}

/// The most pieces a datagram can have: 8191 eight-byte fragments, every other one first,
/// then the rest in reverse, so every insertion lands between existing pieces.
#[test]
fn eight_thousand_tiny_fragments() {
    let data = payload(8191 * 8);
    let frag = |i: usize| (i as u32 * 8, i < 8190, i * 8..i * 8 + 8);
    let order: Vec<usize> = (0..8191)
        .step_by(2)
        .chain((1..8191).step_by(2).rev())
        .collect();
    let frags: Vec<Frag> = order.into_iter().map(frag).collect();
    let mut d = Defragmenter::default();
    let (at, bytes) = run(&mut d, &data, &frags).unwrap();
    assert_eq!(at, 8190);
    assert_eq!(bytes, data);
}

/// One million fragments that never complete, each its own datagram: memory stays capped.
#[test]
fn million_never_completing_fragments_stay_bounded() {
    let cfg = DefragConfig {
        max_datagrams: 1000,
        max_buffered_bytes: 64 * 1024,
        ..Default::default()
    };
    let mut d = Defragmenter::new(cfg);
    let frag = [0xaa; 96];
    let mut peak = (0, 0);
    for i in 0..1_000_000u32 {
        let k = FragKey { id: i, ..key(0) };
        // All at the same packet time: only the caps, not the timeout, can free memory.
        d.push(0, k, 8, true, &frag).unwrap();
        peak = (
            peak.0.max(d.buffered_bytes()),
            peak.1.max(d.pending_datagrams()),
        );
        assert!(d.order.len() <= 2 * 1000 + 64 + 1);
        let _ = d.take_events();
    }
    assert!(peak.0 <= 64 * 1024, "buffered {}", peak.0);
    assert!(peak.1 <= 1000, "datagrams {}", peak.1);
    assert_eq!(d.stats().evicted, 1_000_000 - d.pending_datagrams() as u64);
    assert_eq!(d.stats().reassembled, 0);
}

proptest! {
    #[test]
    fn shuffled_duplicated_fragments_reassemble_exactly(
        len in 1usize..3000,
        cut in proptest::collection::vec(1usize..40, 1..64),
        dups in proptest::collection::vec(any::<prop::sample::Index>(), 0..8),
        seed in any::<u64>(),
    ) {
        let data = payload(len);
        // Cut at 8-byte multiples.
        let mut frags: Vec<Frag> = Vec::new();
        let mut at = 0;
        let mut sizes = cut.iter().cycle();
        while at < len {
            let end = (at + sizes.next().unwrap() * 8).min(len);
            frags.push((at as u32, end < len, at..end));
            at = end;
        }
        for d in &dups {
            frags.push(d.get(&frags).clone());
        }
        // Deterministic shuffle from the seed.
        let mut s = seed | 1;
        for i in (1..frags.len()).rev() {
            s ^= s << 13; s ^= s >> 7; s ^= s << 17;
            frags.swap(i, (s % (i as u64 + 1)) as usize);
        }
        let mut d = Defragmenter::default();
        let mut got = None;
        for (i, (off, mf, r)) in frags.iter().enumerate() {
            if let Some(out) = d.push(i as i64, key(9), *off, *mf, &data[r.clone()]).unwrap() {
                prop_assert!(!out.conflicting_overlap);
                got.get_or_insert(out.payload.to_vec());
            }
        }
        prop_assert_eq!(got, Some(data));
    }

    #[test]
    fn arbitrary_fragments_respect_caps(
        frags in proptest::collection::vec((0u32..4, 0u32..70_000, any::<bool>(), 0usize..3000), 0..200),
    ) {
        let cfg = DefragConfig { max_datagrams: 3, max_buffered_bytes: 8000, ..Default::default() };
        let mut d = Defragmenter::new(cfg);
        let bytes = payload(3000);
        for (i, (id, off, mf, n)) in frags.into_iter().enumerate() {
            let _ = d.push(i as i64 * SEC, key(id), off, mf, &bytes[..n]);
            prop_assert!(d.buffered_bytes() <= 8000);
            prop_assert!(d.pending_datagrams() <= 3);
        }
    }
}
