//! Throughput of DNS decoding (parse, walk every question and record, decode rdata, read
//! every name's labels) and of IPv4 reassembly (a 1500-byte MTU split of an 8 KiB datagram).
//! Rendering DNS as text and JSON is benchmarked in pcap-cli (`benches/render.rs`).
#![allow(clippy::unwrap_used, missing_docs)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use pcap_decode::defrag::{Defragmenter, FragKey};
use pcap_decode::dns::DnsMessage;
use pcap_testkit::frames::dns_response;
use std::hint::black_box;
use std::net::Ipv4Addr;

fn dns(c: &mut Criterion) {
    let bytes = dns_response();
    let mut g = c.benchmark_group("dns");
    g.throughput(Throughput::Elements(1));
    g.bench_function("parse_walk_rdata", |b| {
        b.iter(|| {
            let msg = DnsMessage::parse(black_box(&bytes)).unwrap();
            let mut n = 0;
            for q in msg.questions() {
                n += q.unwrap().qtype as usize;
            }
            for r in msg.records() {
                n += usize::from(r.unwrap().rdata().is_ok());
            }
            n
        })
    });
    g.bench_function("parse_walk_names", |b| {
        b.iter(|| {
            let msg = DnsMessage::parse(black_box(&bytes)).unwrap();
            let mut n = 0;
            for r in msg.records() {
                n += r.unwrap().name.labels().map(<[u8]>::len).sum::<usize>();
            }
            n
        })
    });
    g.finish();
}

fn defrag(c: &mut Criterion) {
    let payload: Vec<u8> = (0..8192u32).map(|i| i as u8).collect();
    let key = |id| {
        FragKey::v4(
            Ipv4Addr::new(10, 0, 0, 1),
            Ipv4Addr::new(10, 0, 0, 2),
            17,
            id,
        )
    };
    let mut d = Defragmenter::default();
    let mut id = 0u16;
    let mut g = c.benchmark_group("defrag");
    g.throughput(Throughput::Bytes(payload.len() as u64));
    g.bench_function("ipv4_8k_in_1480_byte_fragments", |b| {
        b.iter(|| {
            id = id.wrapping_add(1);
            let mut done = 0;
            for (i, chunk) in payload.chunks(1480).enumerate() {
                let off = (i * 1480) as u32;
                let mf = off as usize + chunk.len() < payload.len();
                if let Some(r) = d.push(0, key(id), off, mf, chunk).unwrap() {
                    done = r.payload.len();
                }
            }
            done
        })
    });
    g.finish();
}

criterion_group!(benches, dns, defrag);
criterion_main!(benches);
