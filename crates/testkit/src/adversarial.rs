//! Hostile captures: one writer per attack on a memory cap or a parser loop, for
//! `scripts/adversarial.sh` (full scale, through the binary, peak RSS measured) and for the
//! library-level tests in `tests/adversarial.rs` (small scale, caps and events asserted).
//!
//! Every writer takes a size `n` (its unit is [`Case::unit`]) so the same attack runs at
//! test scale and at the scale that overflows the default caps.
//!
//! ```
//! let mut file = Vec::new();
//! pcap_testkit::adversarial::syn_flood(&mut file, 10).unwrap();
//! assert_eq!(file.len(), 24 + 10 * (16 + 54));
//! ```

// Builds frames of fixed, known layout from counters: no untrusted input here.
#![allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]

use std::io::Write;

use pcap_capture::{CaptureError, LinkType, Packet, PcapWriter};
use pcap_decode::build::{FrameSpec, IpSpec, Ipv4Spec, TcpSpec, ip_packet, tcp_frame, udp_frame};
use pcap_decode::tcp::TcpFlags;

/// A writer of one hostile capture.
pub type WriteFn = fn(&mut dyn Write, u64) -> Result<(), CaptureError>;

/// One attack: its writer, the size that defeats the default caps and what it targets.
#[derive(Debug, Clone, Copy)]
pub struct Case {
    /// Short name (file stem).
    pub name: &'static str,
    /// What `n` counts.
    pub unit: &'static str,
    /// The size used by `scripts/adversarial.sh`.
    pub full: u64,
    /// The cap or loop guard the case attacks.
    pub target: &'static str,
    /// The writer.
    pub write: WriteFn,
}

/// Every case, in the order of `docs/hardening.md`.
pub const CASES: &[Case] = &[
    Case {
        name: "syn_flood",
        unit: "half-open sessions",
        full: 1_000_000,
        target: "tcp max_sessions 262144 (eviction)",
        write: syn_flood,
    },
    Case {
        name: "many_flows",
        unit: "established flows with a request, never closed",
        full: 500_000,
        target: "tcp max_sessions 262144 + per-session HTTP state",
        write: many_flows,
    },
    Case {
        name: "partial_heads",
        unit: "sessions each sending 4 KiB of a request head that never ends",
        full: 100_000,
        target: "HTTP memory budget 128 MiB (per-session head cap x sessions)",
        write: partial_heads,
    },
    Case {
        name: "hole",
        unit: "bytes after a hole that never fills",
        full: 200 << 20,
        target: "tcp max_buffered_per_direction 4 MiB (cap flush, gap)",
        write: hole,
    },
    Case {
        name: "overlap",
        unit: "segments, each sent twice with different bytes",
        full: 20_000,
        target: "tcp first-wins overlap policy, retransmission events",
        write: overlap,
    },
    Case {
        name: "ack_past_holes",
        unit: "server segments of 1 byte, each after a 4 MiB hole that the client acknowledges",
        full: 10_000,
        target: "gap on ACK past a hole; follow's MAX_HOLE (a long gap is listed, not written)",
        write: ack_past_holes,
    },
    Case {
        name: "rst_inject",
        unit: "sessions, each with two forged RSTs before its response",
        full: 100_000,
        target: "tcp RST acceptance (RFC 5961): forged RSTs ignored, sessions go on",
        write: rst_inject,
    },
    Case {
        name: "chunked_endless",
        unit: "bytes of a chunked body that never ends",
        full: 64 << 20,
        target: "http streaming bodies (nothing buffered per message)",
        write: chunked_endless,
    },
    Case {
        name: "ws_endless",
        unit: "bytes of continuation frames, never FIN",
        full: 64 << 20,
        target: "ws_max_message 16 MiB",
        write: ws_endless,
    },
    Case {
        name: "gzip_bomb",
        unit: "gzip members of 16 MiB of zeros",
        full: 256,
        target: "max_decoded_body 16 MiB (4 GiB inflated)",
        write: gzip_bomb,
    },
    Case {
        name: "brotli_windows",
        unit: "sessions each with a brotli response declaring a 16 MiB window, never finished",
        full: 200,
        target: "http max_brotli_window 4 MiB + brotli windows in the HTTP memory budget",
        write: brotli_windows,
    },
    Case {
        name: "vlan_nested",
        unit: "frames with 100 nested VLAN tags",
        full: 100_000,
        target: "decode MAX_VLANS 8",
        write: vlan_nested,
    },
    Case {
        name: "tunnel_nested",
        unit: "frames with 1000 nested tunnel layers (MPLS labels, or GRE in IPv4)",
        full: 10_000,
        target: "decode MAX_TUNNELS 8 (bounded recursion)",
        write: tunnel_nested,
    },
    Case {
        name: "dns_loop",
        unit: "DNS responses with compression-pointer loops",
        full: 300_000,
        target: "dns pointer-loop detection",
        write: dns_loop,
    },
    Case {
        name: "frag_never",
        unit: "IPv4 first fragments (1000 bytes) that never complete",
        full: 50_000,
        target: "defrag max_buffered_bytes 4 MiB / max_datagrams",
        write: frag_never,
    },
];

/// The case named `name`.
pub fn case(name: &str) -> Option<&'static Case> {
    CASES.iter().find(|c| c.name == name)
}

const SERVER: [u8; 4] = [192, 0, 2, 1];
pub(crate) const MSS: usize = 1400;
/// The RFC 6455 example key and its accept value.
const WS_KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";
const WS_ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

/// A pcap writer with a packet clock (1 µs per packet, far below every timeout).
pub(crate) struct Out<'w> {
    pcap: PcapWriter<&'w mut dyn Write>,
    ts_ns: i64,
}

impl<'w> Out<'w> {
    pub(crate) fn new(w: &'w mut dyn Write) -> Result<Self, CaptureError> {
        Ok(Out {
            pcap: PcapWriter::new(w, LinkType::ETHERNET, 262_144)?,
            ts_ns: 1_700_000_000_000_000_000,
        })
    }

    fn frame(&mut self, data: &[u8]) -> Result<(), CaptureError> {
        self.ts_ns += 1_000;
        let len = data.len() as u32;
        self.pcap.write_packet(&Packet {
            ts_ns: self.ts_ns,
            caplen: len,
            orig_len: len,
            link_type: LinkType::ETHERNET,
            interface: 0,
            fcs_len: 0,
            data,
        })
    }

    pub(crate) fn finish(mut self) -> Result<(), CaptureError> {
        self.pcap.flush()
    }
}

/// Client address number `i` (10.0.0.1 on, distinct for 16M clients).
fn client_ip(i: u64) -> [u8; 4] {
    let i = i + 1;
    [10, (i >> 16) as u8, (i >> 8) as u8, i as u8]
}

/// One TCP connection between a client and the server, tracking both sequence numbers.
pub(crate) struct Conn {
    client: [u8; 4],
    client_port: u16,
    server_port: u16,
    /// Next sequence number of the client, then of the server.
    seq: [u32; 2],
}

impl Conn {
    pub(crate) fn new(i: u64, server_port: u16) -> Conn {
        Conn {
            client: client_ip(i),
            client_port: 1024 + (i % 60_000) as u16,
            server_port,
            seq: [1_000, 50_000],
        }
    }

    /// A frame from the client (`to_server`) or the server, at sequence offset `seq`.
    fn frame_at(&self, to_server: bool, flags: TcpFlags, seq: u32, payload: &[u8]) -> Vec<u8> {
        let (src, dst, sp, dp, ack) = if to_server {
            (
                self.client,
                SERVER,
                self.client_port,
                self.server_port,
                self.seq[1],
            )
        } else {
            (
                SERVER,
                self.client,
                self.server_port,
                self.client_port,
                self.seq[0],
            )
        };
        let frame = FrameSpec {
            ip: IpSpec::V4(Ipv4Spec {
                src,
                dst,
                ..Ipv4Spec::default()
            }),
            ..FrameSpec::default()
        };
        let tcp = TcpSpec {
            src_port: sp,
            dst_port: dp,
            seq,
            ack: if flags.ack() { ack } else { 0 },
            flags: flags.0,
            ..TcpSpec::default()
        };
        tcp_frame(&frame, &tcp, payload)
    }

    /// Sends `payload` in order (or a SYN/FIN, which take one sequence number).
    pub(crate) fn send(
        &mut self,
        out: &mut Out<'_>,
        to_server: bool,
        flags: TcpFlags,
        payload: &[u8],
    ) -> Result<(), CaptureError> {
        let d = usize::from(!to_server);
        let f = self.frame_at(to_server, flags, self.seq[d], payload);
        let syn_fin = u32::from(flags.syn() || flags.fin());
        self.seq[d] = self.seq[d].wrapping_add(payload.len() as u32 + syn_fin);
        out.frame(&f)
    }

    /// One data segment (ACK, PSH) from the client (`to_server`) or the server.
    pub(crate) fn data(
        &mut self,
        out: &mut Out<'_>,
        to_server: bool,
        payload: &[u8],
    ) -> Result<(), CaptureError> {
        self.send(out, to_server, TcpFlags::ACK | TcpFlags::PSH, payload)
    }

    pub(crate) fn handshake(&mut self, out: &mut Out<'_>) -> Result<(), CaptureError> {
        self.send(out, true, TcpFlags::SYN, &[])?;
        self.send(out, false, TcpFlags::SYN | TcpFlags::ACK, &[])?;
        self.send(out, true, TcpFlags::ACK, &[])
    }

    /// Sends `total` bytes in segments of at most [`MSS`], each made by `fill(offset, buf)`.
    fn stream(
        &mut self,
        out: &mut Out<'_>,
        to_server: bool,
        total: u64,
        mut fill: impl FnMut(u64, &mut Vec<u8>),
    ) -> Result<(), CaptureError> {
        let mut sent = 0u64;
        let mut buf = Vec::with_capacity(MSS + 16);
        while sent < total {
            buf.clear();
            fill(sent, &mut buf);
            if buf.is_empty() {
                break;
            }
            sent += buf.len() as u64;
            let data = std::mem::take(&mut buf);
            self.data(out, to_server, &data)?;
            buf = data;
        }
        Ok(())
    }
}

/// `n` SYNs from `n` different clients to port 80, never answered: every one is a new
/// half-open session.
pub fn syn_flood(w: &mut dyn Write, n: u64) -> Result<(), CaptureError> {
    let mut out = Out::new(w)?;
    for i in 0..n {
        Conn::new(i, 80).send(&mut out, true, TcpFlags::SYN, &[])?;
    }
    out.finish()
}

/// `n` sessions, each with a handshake and a GET request, none ever closed or answered.
pub fn many_flows(w: &mut dyn Write, n: u64) -> Result<(), CaptureError> {
    let mut out = Out::new(w)?;
    for i in 0..n {
        let mut c = Conn::new(i, 80);
        c.handshake(&mut out)?;
        let req = format!("GET /flow/{i} HTTP/1.1\r\nHost: example.com\r\n\r\n");
        c.data(&mut out, true, req.as_bytes())?;
    }
    out.finish()
}

/// `n` sessions, each sending 4 KiB of a request head (a request line and one long header
/// line) without the blank line that ends it, never closed: each alone is within the head
/// cap, but together they are many times the HTTP memory budget.
pub fn partial_heads(w: &mut dyn Write, n: u64) -> Result<(), CaptureError> {
    const HEAD: usize = 4096;
    let mut out = Out::new(w)?;
    for i in 0..n {
        let mut c = Conn::new(i, 80);
        c.handshake(&mut out)?;
        let line = format!("GET /partial/{i} HTTP/1.1\r\nX-Pad: ");
        c.stream(&mut out, true, HEAD as u64, |off, b| {
            let off = off as usize;
            b.clear();
            let end = (off + MSS).min(HEAD);
            for j in off..end {
                b.push(line.as_bytes().get(j).copied().unwrap_or(b'p'));
            }
        })?;
    }
    out.finish()
}

/// One session whose first data segment (`MSS` bytes) is never seen, followed by `n`
/// bytes: the reassembler must give up on the hole at its per-direction cap.
pub fn hole(w: &mut dyn Write, n: u64) -> Result<(), CaptureError> {
    let mut out = Out::new(w)?;
    let mut c = Conn::new(0, 8000);
    c.handshake(&mut out)?;
    c.seq[0] = c.seq[0].wrapping_add(MSS as u32); // the lost segment
    c.stream(&mut out, true, n, |off, b| {
        b.resize(MSS.min((n - off) as usize), b'h');
    })?;
    out.finish()
}

/// `n` data segments in pairs sent out of order (second first), where the early segment is
/// sent twice with different bytes before the hole fills, and each delivered segment is
/// retransmitted once more with other bytes.
pub fn overlap(w: &mut dyn Write, n: u64) -> Result<(), CaptureError> {
    let mut out = Out::new(w)?;
    let mut c = Conn::new(0, 8000);
    c.handshake(&mut out)?;
    let a = [b'a'; MSS];
    let b = [b'b'; MSS];
    for _ in 0..n / 2 {
        let base = c.seq[0];
        let next = base.wrapping_add(MSS as u32);
        let flags = TcpFlags::ACK | TcpFlags::PSH;
        out.frame(&c.frame_at(true, flags, next, &a))?;
        out.frame(&c.frame_at(true, flags, next, &b))?;
        out.frame(&c.frame_at(true, flags, base, &a))?;
        out.frame(&c.frame_at(true, flags, base, &b))?;
        c.seq[0] = next.wrapping_add(MSS as u32);
    }
    out.finish()
}

/// Bytes the capture misses before each segment of [`ack_past_holes`].
pub const ACK_HOLE: u32 = 4 << 20;

/// One session whose server sends `n` segments of one byte, each [`ACK_HOLE`] bytes past the
/// previous one, and whose client acknowledges each right away: the bytes in between reached
/// the client but not the capture. Each hole is a gap the moment it is acknowledged; written
/// out as zeros they would make a file of `n` x 4 MiB.
pub fn ack_past_holes(w: &mut dyn Write, n: u64) -> Result<(), CaptureError> {
    let mut out = Out::new(w)?;
    let mut c = Conn::new(0, 8000);
    c.handshake(&mut out)?;
    let flags = TcpFlags::ACK | TcpFlags::PSH;
    for _ in 0..n {
        let at = c.seq[1].wrapping_add(ACK_HOLE);
        out.frame(&c.frame_at(false, flags, at, b"x"))?;
        c.seq[1] = at.wrapping_add(1);
        out.frame(&c.frame_at(true, TcpFlags::ACK, c.seq[0], b""))?;
    }
    out.finish()
}

/// `n` sessions, each a GET answered by a 200 and closed by a FIN exchange, with two RSTs
/// forged from the server's address before the response: one far outside the client's
/// window, one in it but not at the next byte. A stack ignores both (RFC 5961 §3.2): every
/// response must still be decoded and every session end with its FINs.
pub fn rst_inject(w: &mut dyn Write, n: u64) -> Result<(), CaptureError> {
    let mut out = Out::new(w)?;
    let rst = TcpFlags::RST | TcpFlags::ACK;
    for i in 0..n {
        let mut c = Conn::new(i, 80);
        c.handshake(&mut out)?;
        let req = format!("GET /rst/{i} HTTP/1.1\r\nHost: example.com\r\n\r\n");
        c.data(&mut out, true, req.as_bytes())?;
        out.frame(&c.frame_at(false, rst, c.seq[1].wrapping_add(1 << 24), &[]))?;
        out.frame(&c.frame_at(false, rst, c.seq[1].wrapping_add(100), &[]))?;
        c.data(
            &mut out,
            false,
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
        )?;
        c.send(&mut out, true, TcpFlags::FIN | TcpFlags::ACK, &[])?;
        c.send(&mut out, false, TcpFlags::FIN | TcpFlags::ACK, &[])?;
    }
    out.finish()
}

/// A GET answered by a chunked response whose chunks go on for `n` bytes with no last chunk.
pub fn chunked_endless(w: &mut dyn Write, n: u64) -> Result<(), CaptureError> {
    let mut out = Out::new(w)?;
    let mut c = Conn::new(0, 80);
    c.handshake(&mut out)?;
    c.data(
        &mut out,
        true,
        b"GET /stream HTTP/1.1\r\nHost: example.com\r\n\r\n",
    )?;
    c.data(
        &mut out,
        false,
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\n\r\n",
    )?;
    let data = MSS - 16;
    c.stream(&mut out, false, n, |_, b| {
        b.extend_from_slice(format!("{data:x}\r\n").as_bytes());
        b.resize(b.len() + data, b'c');
        b.extend_from_slice(b"\r\n");
    })?;
    out.finish()
}

/// A WebSocket upgrade, then a server text message fragmented into continuation frames
/// (FIN never set) for `n` bytes.
pub fn ws_endless(w: &mut dyn Write, n: u64) -> Result<(), CaptureError> {
    let mut out = Out::new(w)?;
    let mut c = Conn::new(0, 80);
    c.handshake(&mut out)?;
    let req = format!(
        "GET /ws HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: {WS_KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    c.data(&mut out, true, req.as_bytes())?;
    let resp = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {WS_ACCEPT}\r\n\r\n"
    );
    c.data(&mut out, false, resp.as_bytes())?;
    let payload = MSS - 4;
    c.stream(&mut out, false, n, |off, b| {
        // Opcode text for the first frame, continuation after; FIN clear; 16-bit length.
        b.push(if off == 0 { 0x01 } else { 0x00 });
        b.push(126);
        b.extend_from_slice(&(payload as u16).to_be_bytes());
        b.resize(b.len() + payload, b'w');
    })?;
    out.finish()
}

/// The body of `brotli_windows`: a brotli stream declaring a 16 MiB window (WBITS 24) that
/// decodes to 15 MiB (a 16 KiB pseudo-random block repeated), so a decoder fills most of
/// its ring buffer while staying under the 16 MiB decoded-body cap; about 17 KiB, flushed
/// but never closed (the stream never ends).
pub fn brotli_window_body() -> Vec<u8> {
    let mut block = vec![0u8; 16 << 10];
    let mut x: u32 = 0x2545_f491;
    for b in &mut block {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        *b = x as u8;
    }
    let mut enc = brotli::CompressorWriter::new(Vec::new(), 1 << 16, 5, 24);
    for _ in 0..(15 << 20) / block.len() {
        // Writing into a Vec cannot fail.
        let _ = enc.write_all(&block);
    }
    // Flushed, not closed: every byte so far decodes, and the stream stays open.
    let _ = enc.flush();
    enc.get_ref().clone()
}

/// `n` sessions, each a GET answered by a `Content-Encoding: br` response whose stream
/// declares a 16 MiB window ([`brotli_window_body`]) and whose Content-Length is twice what
/// is sent: every response stays unfinished, each decoder (if accepted) holding its window.
pub fn brotli_windows(w: &mut dyn Write, n: u64) -> Result<(), CaptureError> {
    let mut out = Out::new(w)?;
    let body = brotli_window_body();
    let len = body.len() as u64;
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Encoding: br\r\nContent-Length: {}\r\n\r\n",
        2 * len
    );
    for i in 0..n {
        let mut c = Conn::new(i, 80);
        c.handshake(&mut out)?;
        let req = format!("GET /br/{i} HTTP/1.1\r\nHost: example.com\r\n\r\n");
        c.data(&mut out, true, req.as_bytes())?;
        c.data(&mut out, false, head.as_bytes())?;
        c.stream(&mut out, false, len, |off, b| {
            let end = (off + MSS as u64).min(len);
            b.extend_from_slice(&body[off as usize..end as usize]);
        })?;
    }
    out.finish()
}

/// One gzip member inflating to 16 MiB of zeros (about 16 KiB).
pub fn gzip_member() -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..16 {
        // Writing into a Vec cannot fail.
        let _ = enc.write_all(&zeros);
    }
    enc.finish().unwrap_or_default()
}

/// A GET answered by a `Content-Encoding: gzip` body of `n` concatenated gzip members,
/// each inflating to 16 MiB (so 16 MiB × `n` in all).
pub fn gzip_bomb(w: &mut dyn Write, n: u64) -> Result<(), CaptureError> {
    let mut out = Out::new(w)?;
    let mut c = Conn::new(0, 80);
    c.handshake(&mut out)?;
    c.data(
        &mut out,
        true,
        b"GET /bomb HTTP/1.1\r\nHost: example.com\r\n\r\n",
    )?;
    let member = gzip_member();
    let len = member.len() as u64 * n;
    let head =
        format!("HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: {len}\r\n\r\n");
    c.data(&mut out, false, head.as_bytes())?;
    c.stream(&mut out, false, len, |off, b| {
        let end = (off + MSS as u64).min(len);
        for pos in off..end {
            b.push(member[(pos % member.len() as u64) as usize]);
        }
    })?;
    out.finish()
}

/// `n` frames each with 100 nested 802.1Q tags before an IPv4 TCP segment.
pub fn vlan_nested(w: &mut dyn Write, n: u64) -> Result<(), CaptureError> {
    let mut out = Out::new(w)?;
    let c = Conn::new(0, 80);
    let plain = c.frame_at(true, TcpFlags::ACK, 1, b"vlan");
    let mut f = Vec::with_capacity(plain.len() + 400);
    for i in 0..n {
        f.clear();
        f.extend_from_slice(&plain[..12]);
        for t in 0..100u16 {
            f.extend_from_slice(&0x8100u16.to_be_bytes());
            f.extend_from_slice(&((i as u16).wrapping_add(t) & 0x0fff).to_be_bytes());
        }
        f.extend_from_slice(&plain[12..]);
        out.frame(&f)?;
    }
    out.finish()
}

/// Tunnel layers in each frame of [`tunnel_nested`].
pub const TUNNEL_NESTING: usize = 1000;

/// `n` frames, alternately a stack of [`TUNNEL_NESTING`] MPLS labels and [`TUNNEL_NESTING`]
/// GRE headers each in its own IPv4 packet, around an IPv4 TCP segment: a decoder that
/// recursed once per layer without a cap would overflow its stack.
pub fn tunnel_nested(w: &mut dyn Write, n: u64) -> Result<(), CaptureError> {
    let mut out = Out::new(w)?;
    let c = Conn::new(0, 80);
    let plain = c.frame_at(true, TcpFlags::ACK, 1, b"deep");
    let (eth, inner) = plain.split_at(14);
    let mut mpls = eth[..12].to_vec();
    mpls.extend_from_slice(&0x8847u16.to_be_bytes());
    for i in 0..TUNNEL_NESTING {
        let bottom = u32::from(i + 1 == TUNNEL_NESTING) << 8;
        mpls.extend_from_slice(&(((i as u32 + 16) << 12) | bottom | 64).to_be_bytes());
    }
    mpls.extend_from_slice(inner);
    let outer = IpSpec::V4(Ipv4Spec::default());
    let mut gre = inner.to_vec();
    for _ in 0..TUNNEL_NESTING {
        let mut body = vec![0, 0, 0x08, 0x00]; // GRE without options, carrying IPv4
        body.extend_from_slice(&gre);
        gre = ip_packet(&outer, 47, &body);
    }
    let gre = pcap_decode::build::ethernet_frame(&Default::default(), 0x0800, &gre);
    for i in 0..n {
        out.frame(if i % 2 == 0 { &mpls } else { &gre })?;
    }
    out.finish()
}

/// `n` DNS responses whose names loop through compression pointers: a pointer to itself,
/// two pointers to each other, and a label list that points back to its own start.
pub fn dns_loop(w: &mut dyn Write, n: u64) -> Result<(), CaptureError> {
    let mut out = Out::new(w)?;
    let frame = FrameSpec {
        ip: IpSpec::V4(Ipv4Spec {
            src: SERVER,
            dst: client_ip(1),
            ..Ipv4Spec::default()
        }),
        ..FrameSpec::default()
    };
    let udp = pcap_decode::build::UdpSpec {
        src_port: 53,
        dst_port: 33_333,
    };
    for i in 0..n {
        let id = (i as u16).to_be_bytes();
        // Header: id, response + recursion, 1 question, 1 answer.
        let mut m = vec![id[0], id[1], 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0];
        match i % 3 {
            // Question name at 12 is a pointer to 12.
            0 => m.extend_from_slice(&[0xc0, 12]),
            // Name at 12 points to 14, which points back to 12.
            1 => m.extend_from_slice(&[0xc0, 14, 0xc0, 12]),
            // Labels, then a pointer back to the first label.
            _ => m.extend_from_slice(b"\x03www\x07example\xc0\x0c"),
        }
        m.extend_from_slice(&[0, 1, 0, 1]); // QTYPE A, QCLASS IN
        m.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 7]);
        out.frame(&udp_frame(&frame, &udp, &m))?;
    }
    out.finish()
}

/// `n` IPv4 first fragments (more-fragments set, 1000 bytes of TCP) with distinct ids and
/// sources whose other fragments never come.
pub fn frag_never(w: &mut dyn Write, n: u64) -> Result<(), CaptureError> {
    let mut out = Out::new(w)?;
    let payload = [b'f'; 1000];
    for i in 0..n {
        let ip = Ipv4Spec {
            src: client_ip(i >> 16),
            dst: SERVER,
            id: i as u16,
            dont_frag: false,
            ..Ipv4Spec::default()
        };
        let mut p = ip_packet(&IpSpec::V4(ip), 6, &payload);
        p[6] = 0x20; // more fragments, offset 0
        p[10] = 0;
        p[11] = 0;
        let sum = ipv4_checksum(&p[..20]);
        p[10..12].copy_from_slice(&sum.to_be_bytes());
        out.frame(&pcap_decode::build::ethernet_frame(
            &Default::default(),
            0x0800,
            &p,
        ))?;
    }
    out.finish()
}

fn ipv4_checksum(header: &[u8]) -> u16 {
    let mut sum: u32 = header
        .chunks(2)
        .map(|w| u32::from(u16::from_be_bytes([w[0], *w.get(1).unwrap_or(&0)])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}
