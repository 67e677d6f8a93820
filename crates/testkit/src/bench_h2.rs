//! Bench captures of the same traffic as HTTP/2 (h2c, prior knowledge) and as HTTP/1.1, to
//! compare http-trace's cost per request between the two: same connections, same requests
//! (GET with a path, authority and user agent), same response bodies (100 to 1500 bytes of
//! JSON-like text, deterministic), TCP segments of at most 1400 bytes.
//!
//! HTTP/2 connections open with the preface and a SETTINGS exchange, then send their
//! requests four streams at a time (the four HEADERS in one segment, HPACK with a dynamic
//! table reference for the authority after the first request), and the server answers the
//! four interleaved (HEADERS, then the DATA frames of each stream in turn). HTTP/1.1
//! connections send the requests one after the other with keep-alive.

use std::io::Write;

use pcap_capture::CaptureError;
use pcap_decode::tcp::TcpFlags;

use crate::adversarial::{Conn, MSS, Out};

/// Streams sent at once on an HTTP/2 connection.
const CONCURRENT: u64 = 4;

fn body_len(conn: u64, req: u64) -> usize {
    // A small LCG: deterministic, spread over 100..1500.
    let x = (conn.wrapping_mul(6_364_136_223_846_793_005)
        ^ req.wrapping_mul(1_442_695_040_888_963_407))
        >> 33;
    100 + (x % 1400) as usize
}

fn body(len: usize) -> Vec<u8> {
    let pattern = b"{\"id\":12345,\"name\":\"bench item\",\"tags\":[\"a\",\"b\"],\"ok\":true},";
    pattern.iter().copied().cycle().take(len).collect()
}

fn path(conn: u64, req: u64) -> String {
    format!("/api/items/{conn}/{req}")
}

const AUTHORITY: &str = "bench.example";
const USER_AGENT: &str = "bench/1.0";

fn frame(out: &mut Vec<u8>, kind: u8, flags: u8, stream: u32, payload: &[u8]) {
    out.extend_from_slice(&(payload.len() as u32).to_be_bytes()[1..]);
    out.extend_from_slice(&[kind, flags]);
    out.extend_from_slice(&stream.to_be_bytes());
    out.extend_from_slice(payload);
}

/// A string literal (no Huffman) of fewer than 127 bytes.
fn literal(out: &mut Vec<u8>, s: &[u8]) {
    out.push(s.len() as u8);
    out.extend_from_slice(s);
}

fn request_block(first: bool, path: &str) -> Vec<u8> {
    let mut b = vec![0x82, 0x86]; // :method GET, :scheme http
    b.push(0x04); // :path, literal without indexing, static name 4
    literal(&mut b, path.as_bytes());
    if first {
        b.push(0x41); // :authority, incremental indexing (dynamic 62 from now on)
        literal(&mut b, AUTHORITY.as_bytes());
    } else {
        b.push(0xbe);
    }
    b.extend_from_slice(&[0x0f, 0x2b]); // user-agent (static 58), without indexing
    literal(&mut b, USER_AGENT.as_bytes());
    b
}

fn response_block(len: usize) -> Vec<u8> {
    let mut b = vec![0x88]; // :status 200
    b.extend_from_slice(&[0x0f, 0x10]); // content-type (static 31)
    literal(&mut b, b"application/json");
    b.extend_from_slice(&[0x0f, 0x0d]); // content-length (static 28)
    literal(&mut b, len.to_string().as_bytes());
    b
}

/// Sends `bytes` as segments of at most [`MSS`].
fn send(
    c: &mut Conn,
    out: &mut Out<'_>,
    to_server: bool,
    bytes: &[u8],
) -> Result<(), CaptureError> {
    for seg in bytes.chunks(MSS) {
        c.data(out, to_server, seg)?;
    }
    Ok(())
}

fn close(c: &mut Conn, out: &mut Out<'_>) -> Result<(), CaptureError> {
    c.send(out, true, TcpFlags::FIN | TcpFlags::ACK, &[])?;
    c.send(out, false, TcpFlags::FIN | TcpFlags::ACK, &[])?;
    c.send(out, true, TcpFlags::ACK, &[])
}

/// `connections` h2c connections of `requests` requests each.
pub fn h2c(w: &mut dyn Write, connections: u64, requests: u64) -> Result<(), CaptureError> {
    let mut out = Out::new(w)?;
    let mut buf = Vec::new();
    for i in 0..connections {
        let mut c = Conn::new(i, 80);
        c.handshake(&mut out)?;
        buf.clear();
        buf.extend_from_slice(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
        frame(&mut buf, 4, 0, 0, b"\0\x03\0\0\0\x64");
        send(&mut c, &mut out, true, &buf)?;
        buf.clear();
        frame(&mut buf, 4, 0, 0, b"\0\x03\0\0\0\x64");
        frame(&mut buf, 4, 1, 0, b"");
        send(&mut c, &mut out, false, &buf)?;
        buf.clear();
        frame(&mut buf, 4, 1, 0, b"");
        send(&mut c, &mut out, true, &buf)?;
        let mut r = 0;
        while r < requests {
            let batch = CONCURRENT.min(requests - r);
            buf.clear();
            for k in r..r + batch {
                let id = (2 * k + 1) as u32;
                frame(&mut buf, 1, 0x5, id, &request_block(k == 0, &path(i, k)));
            }
            send(&mut c, &mut out, true, &buf)?;
            buf.clear();
            let bodies: Vec<Vec<u8>> = (r..r + batch).map(|k| body(body_len(i, k))).collect();
            for (k, b) in (r..r + batch).zip(&bodies) {
                frame(
                    &mut buf,
                    1,
                    0x4,
                    (2 * k + 1) as u32,
                    &response_block(b.len()),
                );
            }
            // Interleaved DATA: 512-byte frames of each stream in turn.
            let mut offsets = vec![0usize; bodies.len()];
            loop {
                let mut any = false;
                for (j, b) in bodies.iter().enumerate() {
                    let off = offsets[j];
                    if off >= b.len() {
                        continue;
                    }
                    any = true;
                    let end = (off + 512).min(b.len());
                    let last = end == b.len();
                    let id = (2 * (r + j as u64) + 1) as u32;
                    frame(&mut buf, 0, u8::from(last), id, &b[off..end]);
                    offsets[j] = end;
                }
                if !any {
                    break;
                }
            }
            send(&mut c, &mut out, false, &buf)?;
            r += batch;
        }
        buf.clear();
        frame(&mut buf, 7, 0, 0, &[0, 0, 0, 0, 0, 0, 0, 0]);
        send(&mut c, &mut out, true, &buf)?;
        close(&mut c, &mut out)?;
    }
    out.finish()
}

/// The same connections, requests and bodies as [`h2c`], in HTTP/1.1 with keep-alive.
pub fn http1(w: &mut dyn Write, connections: u64, requests: u64) -> Result<(), CaptureError> {
    let mut out = Out::new(w)?;
    let mut buf = Vec::new();
    for i in 0..connections {
        let mut c = Conn::new(i, 80);
        c.handshake(&mut out)?;
        for k in 0..requests {
            let req = format!(
                "GET {} HTTP/1.1\r\nHost: {AUTHORITY}\r\nUser-Agent: {USER_AGENT}\r\n\r\n",
                path(i, k)
            );
            c.data(&mut out, true, req.as_bytes())?;
            let b = body(body_len(i, k));
            buf.clear();
            buf.extend_from_slice(
                format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                    b.len()
                )
                .as_bytes(),
            );
            buf.extend_from_slice(&b);
            send(&mut c, &mut out, false, &buf)?;
        }
        close(&mut c, &mut out)?;
    }
    out.finish()
}
