//! Decoding speed of a typical Ethernet/IPv4/TCP packet (target: under 30 ns), plus the
//! summary and JSON writers.
#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use pcap_capture::{LinkType, Packet};
use pcap_decode::build::{self, TcpSpec};
use pcap_decode::{decode_packet, write_json, write_summary};

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
    let mut line = String::with_capacity(256);
    c.bench_function("decode + summary", |b| {
        b.iter(|| {
            line.clear();
            let d = decode_packet(LinkType::ETHERNET, black_box(&f));
            let _ = write_summary(&mut line, &d);
            black_box(line.len())
        })
    });
    let mut out = Vec::with_capacity(1024);
    let pkt = Packet {
        ts_ns: 1_700_000_000_123_456_789,
        caplen: f.len() as u32,
        orig_len: f.len() as u32,
        link_type: LinkType::ETHERNET,
        interface: 0,
        data: &f,
    };
    c.bench_function("decode + json", |b| {
        b.iter(|| {
            out.clear();
            let d = decode_packet(LinkType::ETHERNET, black_box(&f));
            write_json(&mut out, 1, &pkt, &d);
            black_box(out.len())
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
