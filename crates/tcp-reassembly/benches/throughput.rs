//! In-order reassembly throughput: one session, full-size segments in order, payload
//! delivered zero-copy to a sink that touches every delivered slice's length.

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use pcap_tcp_reassembly::{Event, EventKind, Reassembler, Segment, TcpFlags};

const SEGMENTS_PER_ITER: u32 = 1000;

fn seg(seq: u32, flags: TcpFlags, payload: &[u8]) -> Segment<'_> {
    Segment {
        ts_ns: 1,
        src: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
        dst: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)),
        src_port: 40000,
        dst_port: 80,
        seq,
        ack: 1,
        flags,
        window: 65535,
        wscale: None,
        payload,
        orig_payload_len: None,
        tunnel: 0,
    }
}

fn in_order(c: &mut Criterion) {
    let mut group = c.benchmark_group("in_order");
    for size in [1448usize, 8960] {
        let payload = vec![0xabu8; size];
        group.throughput(Throughput::Bytes(
            size as u64 * u64::from(SEGMENTS_PER_ITER),
        ));
        group.bench_function(format!("{size}B_segments"), |b| {
            let mut r = Reassembler::default();
            let mut total = 0usize;
            let mut sink = |e: Event<'_>| {
                if let EventKind::Data { bytes, .. } = e.kind {
                    total += black_box(bytes).len();
                }
            };
            r.push(&seg(0, TcpFlags::SYN, b""), &mut sink);
            let mut seq = 1u32;
            b.iter(|| {
                for _ in 0..SEGMENTS_PER_ITER {
                    r.push(
                        &seg(seq, TcpFlags::ACK | TcpFlags::PSH, &payload),
                        &mut sink,
                    );
                    seq = seq.wrapping_add(size as u32);
                }
            });
            black_box(total);
        });
    }
    group.finish();
}

/// Every pair of segments swapped: half the payload is copied into the out-of-order buffer.
fn swapped_pairs(c: &mut Criterion) {
    let mut group = c.benchmark_group("swapped_pairs");
    let size = 1448usize;
    let payload = vec![0xcdu8; size];
    group.throughput(Throughput::Bytes(
        size as u64 * u64::from(SEGMENTS_PER_ITER),
    ));
    group.bench_function("1448B_segments", |b| {
        let mut r = Reassembler::default();
        let mut total = 0usize;
        let mut sink = |e: Event<'_>| {
            if let EventKind::Data { bytes, .. } = e.kind {
                total += black_box(bytes).len();
            }
        };
        r.push(&seg(0, TcpFlags::SYN, b""), &mut sink);
        let mut seq = 1u32;
        let step = size as u32;
        b.iter(|| {
            for _ in 0..SEGMENTS_PER_ITER / 2 {
                r.push(
                    &seg(seq.wrapping_add(step), TcpFlags::ACK, &payload),
                    &mut sink,
                );
                r.push(&seg(seq, TcpFlags::ACK, &payload), &mut sink);
                seq = seq.wrapping_add(2 * step);
            }
        });
        black_box(total);
    });
    group.finish();
}

criterion_group!(benches, in_order, swapped_pairs);
criterion_main!(benches);
