//! Reading a large pcap through `FileReader` (touching every packet) against a bare walk over
//! the record headers of the same file, and libpcap's own reader, in the same run.
//!
//! The input is generated on first use:
//! `python3 ../shared/bench/gen_http_pcap.py --profile small -o target/bench-small.pcap`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs::File;
use std::hint::black_box;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use pcap_capture::FileReader;

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The bench input, generated if missing; `None` (with a message) if it cannot be.
fn input() -> Option<PathBuf> {
    let root = workspace_root();
    let path = root.join("target/bench-small.pcap");
    if path.exists() {
        return Some(path);
    }
    let generator = root.join("../shared/bench/gen_http_pcap.py");
    if !generator.exists() {
        eprintln!(
            "SKIPPED read bench: generator {} not found",
            generator.display()
        );
        return None;
    }
    let status = Command::new("python3")
        .arg(&generator)
        .args(["--profile", "small", "-o"])
        .arg(&path)
        .status();
    match status {
        Ok(s) if s.success() && path.exists() => Some(path),
        Ok(s) => {
            eprintln!("SKIPPED read bench: generator failed ({s})");
            None
        }
        Err(e) => {
            eprintln!("SKIPPED read bench: cannot run python3: {e}");
            None
        }
    }
}

/// Our reader: every packet, touching its length, timestamp and first and last byte.
fn read_with_reader(path: &Path) -> u64 {
    let mut reader = FileReader::open(path).unwrap();
    let mut acc = 0u64;
    while let Some(p) = reader.next_packet().unwrap() {
        acc = acc
            .wrapping_add(u64::from(p.caplen))
            .wrapping_add(p.ts_ns as u64)
            .wrapping_add(u64::from(*p.data.first().unwrap_or(&0)))
            .wrapping_add(u64::from(*p.data.last().unwrap_or(&0)));
    }
    acc
}

/// The floor: the same 1 MiB reads, then hop from record header to record header (touching
/// the header and the first data byte), carrying a split header over to the next read.
fn walk_headers(path: &Path) -> u64 {
    let mut file = File::open(path).unwrap();
    let mut buf = vec![0u8; 1 << 20];
    let (mut have, mut skip, mut acc) = (0usize, 24usize, 0u64);
    loop {
        let n = file.read(&mut buf[have..]).unwrap();
        if n == 0 {
            return acc;
        }
        have += n;
        let mut at = skip.min(have);
        skip -= at;
        while skip == 0 && at + 16 <= have {
            let caplen = u32::from_le_bytes(buf[at + 8..at + 12].try_into().unwrap()) as usize;
            acc = acc
                .wrapping_add(caplen as u64)
                .wrapping_add(u64::from(buf[at]));
            at += 16;
            let here = caplen.min(have - at);
            if here > 0 {
                acc = acc.wrapping_add(u64::from(buf[at]));
            }
            at += here;
            skip = caplen - here;
        }
        buf.copy_within(at..have, 0);
        have -= at;
    }
}

/// libpcap reading the same file (`pcap_next_ex`).
fn read_with_libpcap(path: &Path) -> u64 {
    let mut cap = pcap::Capture::from_file(path).unwrap();
    let mut acc = 0u64;
    while let Ok(p) = cap.next_packet() {
        acc = acc
            .wrapping_add(u64::from(p.header.caplen))
            .wrapping_add(u64::from(*p.data.first().unwrap_or(&0)));
    }
    acc
}

fn bench(c: &mut Criterion) {
    let Some(path) = input() else {
        return;
    };
    let size = std::fs::metadata(&path).unwrap().len();
    let mut group = c.benchmark_group("read");
    group.throughput(Throughput::Bytes(size));
    group.sample_size(20);
    group.bench_function("file_reader_touch_every_packet", |b| {
        b.iter(|| black_box(read_with_reader(&path)))
    });
    group.bench_function("bare_header_walk", |b| {
        b.iter(|| black_box(walk_headers(&path)))
    });
    group.bench_function("libpcap_next_packet", |b| {
        b.iter(|| black_box(read_with_libpcap(&path)))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
