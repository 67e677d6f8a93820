//! HTTP decode throughput on typical keep-alive traffic, fed in 1448-byte (MSS) chunks.
#![allow(missing_docs)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use pcap_http_ws::{Direction, HttpConfig, HttpEvent, HttpSession};
use std::hint::black_box;

/// 200 keep-alive transactions: browser-like request heads, responses with ~500-byte heads
/// and bodies from 1 KiB to 64 KiB (some chunked).
fn traffic() -> (Vec<u8>, Vec<u8>) {
    traffic_with(|i| 1024 << (i % 7))
}

/// Head-dominated traffic: the same heads with 200-byte bodies.
fn small_traffic() -> (Vec<u8>, Vec<u8>) {
    traffic_with(|_| 200)
}

fn traffic_with(body_len: impl Fn(usize) -> usize) -> (Vec<u8>, Vec<u8>) {
    let mut c2s = Vec::new();
    let mut s2c = Vec::new();
    for i in 0..200usize {
        c2s.extend_from_slice(
            format!(
                "GET /static/app/{i}.js?v=123 HTTP/1.1\r\nHost: www.example.com\r\n\
                 User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0\r\n\
                 Accept: */*\r\nAccept-Language: en-US,en;q=0.5\r\nAccept-Encoding: gzip, deflate, br\r\n\
                 Referer: https://www.example.com/\r\nCookie: session=abcdef0123456789; theme=dark\r\n\
                 Connection: keep-alive\r\n\r\n"
            )
            .as_bytes(),
        );
        let len = body_len(i);
        let body = vec![b'a' + (i % 26) as u8; len];
        let head = "HTTP/1.1 200 OK\r\nDate: Mon, 23 Nov 2026 15:00:00 GMT\r\nServer: nginx/1.24.0\r\n\
                    Content-Type: application/javascript\r\nLast-Modified: Sun, 22 Nov 2026 10:00:00 GMT\r\n\
                    ETag: \"65a1b2c3-1f40\"\r\nCache-Control: max-age=3600\r\nVary: Accept-Encoding\r\n\
                    X-Frame-Options: SAMEORIGIN\r\nConnection: keep-alive\r\n";
        if i % 5 == 0 {
            s2c.extend_from_slice(format!("{head}Transfer-Encoding: chunked\r\n\r\n").as_bytes());
            for piece in body.chunks(8192) {
                s2c.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
                s2c.extend_from_slice(piece);
                s2c.extend_from_slice(b"\r\n");
            }
            s2c.extend_from_slice(b"0\r\n\r\n");
        } else {
            s2c.extend_from_slice(format!("{head}Content-Length: {len}\r\n\r\n").as_bytes());
            s2c.extend_from_slice(&body);
        }
    }
    (c2s, s2c)
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("http");
    for (name, (c2s, s2c)) in [
        ("keepalive_200tx_1KiB-64KiB_bodies_1448B_chunks", traffic()),
        ("keepalive_200tx_200B_bodies_1448B_chunks", small_traffic()),
    ] {
        g.throughput(Throughput::Bytes((c2s.len() + s2c.len()) as u64));
        g.bench_function(name, |b| {
            b.iter(|| {
                let mut session = HttpSession::new(HttpConfig::default());
                let mut n = 0u64;
                let mut sink = |ev: HttpEvent<'_>| {
                    if let HttpEvent::Transaction(t) = ev {
                        n += t.response_body_len;
                    }
                };
                // Interleave: each request, then its response, in MSS-sized chunks.
                let mut cs = c2s.chunks(1448);
                let mut ss = s2c.chunks(1448);
                loop {
                    let a = cs.next();
                    let b2 = ss.next();
                    if let Some(a) = a {
                        session.data(Direction::ClientToServer, 0, a, &mut sink);
                    }
                    if let Some(b2) = b2 {
                        session.data(Direction::ServerToClient, 0, b2, &mut sink);
                    }
                    if a.is_none() && b2.is_none() {
                        break;
                    }
                }
                black_box(n)
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
