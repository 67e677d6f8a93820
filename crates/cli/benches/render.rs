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
use pcap_decode::decode_packet;
use pcap_decode::dns::DnsMessage;
use pcap_testkit::frames::{data_segment, dns_response};

fn packet(c: &mut Criterion) {
    let f = data_segment();
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
        fcs_len: 0,
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

fn dns(c: &mut Criterion) {
    let bytes = dns_response();
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
