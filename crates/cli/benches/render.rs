//! Speed of `capture`'s writers on a typical Ethernet/IPv4/TCP packet (decode + summary,
//! decode + JSON) and of DNS as text and JSON (moved from pcap-decode's benchmarks with the
//! writers).
#![allow(clippy::unwrap_used, missing_docs)]

use std::fmt::Write as _;
use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use pcap_capture::{LinkType, Packet};
use pcap_cli::render::dns::{self as dns_render, Summary};
use pcap_cli::render::{write_json, write_summary};
use pcap_decode::build::{self, TcpSpec};
use pcap_decode::decode_packet;
use pcap_decode::dns::DnsMessage;

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

fn packet(c: &mut Criterion) {
    let f = frame();
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

/// A response for `A www.example.com`: a CNAME to `example.com` and four A records, names
/// compressed, plus an OPT record: the shape of a typical resolver answer.
fn response() -> Vec<u8> {
    let mut m = vec![0x1a, 0x2b, 0x81, 0x80, 0, 1, 0, 5, 0, 0, 0, 1];
    m.extend_from_slice(b"\x03www\x07example\x03com\x00\x00\x01\x00\x01");
    m.extend_from_slice(&[0xc0, 12, 0, 5, 0, 1, 0, 0, 1, 0x2c, 0, 2, 0xc0, 16]);
    for i in 0..4u8 {
        m.extend_from_slice(&[0xc0, 16, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 93, 184, 216, i]);
    }
    m.extend_from_slice(&[0, 0, 41, 4, 0xd0, 0, 0, 0, 0, 0, 0]);
    m
}

fn dns(c: &mut Criterion) {
    let bytes = response();
    let mut g = c.benchmark_group("dns");
    g.throughput(Throughput::Elements(1));
    let mut text = String::with_capacity(256);
    g.bench_function("summary", |b| {
        b.iter(|| {
            text.clear();
            let msg = DnsMessage::parse(black_box(&bytes)).unwrap();
            write!(text, "{}", Summary(msg)).unwrap();
            text.len()
        })
    });
    let mut json = Vec::with_capacity(1024);
    g.bench_function("json", |b| {
        b.iter(|| {
            json.clear();
            dns_render::write_json(&mut json, &DnsMessage::parse(black_box(&bytes)).unwrap());
            json.len()
        })
    });
    g.finish();
}

criterion_group!(benches, packet, dns);
criterion_main!(benches);
