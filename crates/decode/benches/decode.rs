//! Decoding speed of a typical Ethernet/IPv4/TCP packet (target: under 30 ns). The summary
//! and JSON writers are benchmarked in pcap-cli (`benches/render.rs`).
#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use pcap_capture::LinkType;
use pcap_decode::decode_packet;
use pcap_testkit::frames::data_segment;

fn bench(c: &mut Criterion) {
    let f = data_segment();
    c.bench_function("decode eth/ipv4/tcp", |b| {
        b.iter(|| {
            let d = decode_packet(LinkType::ETHERNET, black_box(&f));
            let t = d.tcp().map(|t| (t.seq(), t.ack(), t.flags().0));
            black_box((t, d.payload.len()))
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
