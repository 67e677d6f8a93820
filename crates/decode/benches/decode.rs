//! Decoding speed of a typical Ethernet/IPv4/TCP packet (target: under 30 ns). The summary
//! and JSON writers are benchmarked in pcap-cli (`benches/render.rs`).
#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use pcap_capture::LinkType;
use pcap_decode::build::{self, TcpSpec};
use pcap_decode::decode_packet;

fn frame() -> Vec<u8> {
    // A data segment with timestamps, as most TCP traffic carries.
    let mut options = vec![1, 1, 8, 10];
    options.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 2]);
    let tcp = TcpSpec {
        seq: 1000,
        ack: 2000,
        flags: 0x018,
        options,
        ..Default::default()
    };
    build::ipv4_tcp(&tcp, &[b'x'; 512])
}

fn bench(c: &mut Criterion) {
    let f = frame();
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
