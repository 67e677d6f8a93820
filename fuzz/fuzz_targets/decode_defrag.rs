//! Arbitrary bytes as a sequence of fragments for a small defragmenter; the caps must hold
//! after every push.
//!
//! Each fragment is 6 header bytes: key selector, flags (bit 0: more fragments, bit 1: IPv6),
//! offset in 8-byte units (2 bytes), payload length (1 byte), time step (1 byte); then the
//! payload.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pcap_decode::defrag::{DefragConfig, Defragmenter, FragKey};
use std::net::{Ipv4Addr, Ipv6Addr};

fuzz_target!(|data: &[u8]| {
    let mut config = DefragConfig::default();
    config.max_datagrams = 4;
    config.max_buffered_bytes = 4096;
    config.timeout_ns = 1000;
    let mut d = Defragmenter::new(config);
    let mut rest = data;
    let mut ts = 0i64;
    while let [sel, flags, o1, o2, len, step, tail @ ..] = rest {
        let n = usize::from(*len).min(tail.len());
        let (payload, next) = tail.split_at(n);
        rest = next;
        ts += i64::from(*step);
        let key = if flags & 2 != 0 {
            FragKey::v6(
                Ipv6Addr::LOCALHOST,
                Ipv6Addr::UNSPECIFIED,
                17,
                u32::from(*sel % 8),
            )
        } else {
            FragKey::v4(
                Ipv4Addr::LOCALHOST,
                Ipv4Addr::BROADCAST,
                17,
                u16::from(*sel % 8),
            )
        };
        let offset = u32::from(u16::from_be_bytes([*o1, *o2]) & 0x1fff) * 8;
        if let Ok(Some(out)) = d.push(ts, key, offset, flags & 1 != 0, payload) {
            assert!(out.payload.len() <= 65_535);
        }
        assert!(d.buffered_bytes() <= 4096);
        assert!(d.pending_datagrams() <= 4);
        let _ = d.take_events().count();
    }
});
