//! Differential test against tshark: every TCP session's two directions, reassembled, match
//! `oracle/NAME/streams.tsv` (client, server, byte counts and sha256 of `follow,tcp,raw`).
//!
//! The `capture` and `decode` crates are written in parallel, so this test carries a small
//! stand-in (`mini`): a pcap/pcapng reader and an Ethernet/SLL/raw/IPv4/IPv6/TCP decoder
//! just good enough to make [`Segment`]s. At integration it is replaced by the real crates;
//! the comparison ([`reassemble`] and [`compare`]) stays as it is.
//! Mismatches not listed with a reason in `corpus_allow.tsv` fail the test.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use pcap_tcp_reassembly::{Direction, Event, EventKind, Reassembler, Segment};
use sha2::{Digest, Sha256};

/// One session as we reassembled it.
#[derive(Debug, Default)]
struct Stream {
    client: String,
    server: String,
    bytes: [Vec<u8>; 2],
    /// Bytes delivered before the first gap, per direction (None: no gap).
    before_gap: [Option<usize>; 2],
}

/// Reassembles segments (in capture order) into per-session streams, gaps skipped as
/// tshark's `follow,tcp,raw` skips missing bytes.
fn reassemble<'a>(segments: impl IntoIterator<Item = Segment<'a>>) -> BTreeMap<u64, Stream> {
    let mut out: BTreeMap<u64, Stream> = BTreeMap::new();
    let mut sink = |e: Event<'_>| match e.kind {
        EventKind::Start { client, server, .. } => {
            let s = out.entry(e.session).or_default();
            s.client = client.to_string();
            s.server = server.to_string();
        }
        EventKind::Data { dir, bytes, .. } => {
            let i = usize::from(dir == Direction::ServerToClient);
            out.entry(e.session).or_default().bytes[i].extend_from_slice(bytes);
        }
        EventKind::Gap { dir, .. } => {
            let i = usize::from(dir == Direction::ServerToClient);
            let s = out.entry(e.session).or_default();
            s.before_gap[i].get_or_insert(s.bytes[i].len());
        }
        _ => {}
    };
    let mut r = Reassembler::default();
    for seg in segments {
        r.push(&seg, &mut sink);
    }
    r.finish(&mut sink);
    out
}

fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut s = String::with_capacity(64);
    for b in digest {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Compares our streams with the oracle rows; returns (streams compared, mismatch lines).
fn compare(
    name: &str,
    ours: &BTreeMap<u64, Stream>,
    oracle: &pcap_testkit::Tsv,
) -> (usize, Vec<String>) {
    let mut bad = Vec::new();
    let mut n = 0;
    for row in oracle.rows() {
        n += 1;
        let id: u64 = row.get("tcp.stream").parse().unwrap_or(u64::MAX);
        let Some(s) = ours.get(&id) else {
            bad.push(format!("{name}\t{id}\tmissing session"));
            continue;
        };
        let mut what = Vec::new();
        if s.client != row.get("client") || s.server != row.get("server") {
            what.push(format!(
                "endpoints {} -> {} (tshark {} -> {})",
                s.client,
                s.server,
                row.get("client"),
                row.get("server")
            ));
        }
        let mut stops_at_gap = false;
        for (i, dir) in ["c2s", "s2c"].iter().enumerate() {
            let want_len = row.get(&format!("{dir}_bytes"));
            let want_sha = row.get(&format!("{dir}_sha256"));
            let len = s.bytes[i].len().to_string();
            if len == want_len && sha256_hex(&s.bytes[i]) == want_sha {
                continue;
            }
            // tshark's follow stops at the first hole when out-of-order reassembly is off
            // (decode_as.tsv): then its bytes must be exactly ours before our first gap.
            let prefix = s.before_gap[i].and_then(|p| s.bytes[i].get(..p));
            if prefix.is_some_and(|p| p.len().to_string() == want_len && sha256_hex(p) == want_sha)
            {
                stops_at_gap = true;
                continue;
            }
            what.push(format!("{dir} {len} bytes (tshark {want_len})"));
        }
        if !what.is_empty() {
            bad.push(format!("{name}\t{id}\t{}", what.join("; ")));
        } else if stops_at_gap {
            bad.push(format!("{name}\tstops-at-gap\tsession {id}"));
        }
    }
    let extra = ours.len().saturating_sub(oracle.len());
    if extra > 0 {
        bad.push(format!(
            "{name}\t-\t{extra} more sessions than tshark ({} vs {})",
            ours.len(),
            oracle.len()
        ));
    }
    (n, bad)
}

/// `capture\tstream\treason` lines: known, explained disagreements.
fn allow_list() -> HashMap<(String, String), String> {
    let text = include_str!("corpus_allow.tsv");
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| {
            let mut f = l.splitn(3, '\t');
            Some((
                (f.next()?.to_owned(), f.next()?.to_owned()),
                f.next()?.to_owned(),
            ))
        })
        .collect()
}

#[test]
fn corpus_streams_match_tshark() {
    let Some(corpus) = pcap_testkit::corpus("corpus_streams_match_tshark") else {
        return;
    };
    let allow = allow_list();
    let (mut captures, mut compared, mut allowed) = (0, 0, 0);
    let mut failures = Vec::new();
    for name in corpus.captures() {
        let Some(oracle) = corpus.oracle_tsv(&name, "streams.tsv") else {
            continue;
        };
        let bytes = std::fs::read(corpus.capture_path(&name)).expect("capture readable");
        let packets = mini::packets(&bytes);
        let ours = reassemble(packets.iter().filter_map(|p| mini::segment(p)));
        let (n, bad) = compare(&name, &ours, &oracle);
        captures += 1;
        compared += n;
        for line in bad {
            let mut f = line.splitn(3, '\t');
            let key = (
                f.next().unwrap_or("").to_owned(),
                f.next().unwrap_or("").to_owned(),
            );
            if allow.contains_key(&key) {
                allowed += 1;
            } else {
                failures.push(line);
            }
        }
    }
    eprintln!(
        "corpus streams: {captures} captures, {compared} sessions compared, {} mismatches \
         ({allowed} allow-listed in corpus_allow.tsv, {} unexplained)",
        failures.len() + allowed,
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "unexplained mismatches:\n{}",
        failures.join("\n")
    );
}

/// Per-frame agreement with `tcp_events.tsv`: the session each TCP frame belongs to
/// (tshark's `tcp.stream`), and the keep-alive and retransmission flags.
#[test]
fn corpus_frames_match_tshark_tcp_events() {
    let Some(corpus) = pcap_testkit::corpus("corpus_frames_match_tshark_tcp_events") else {
        return;
    };
    let allow = allow_list();
    let (mut frames, mut allowed) = (0usize, 0usize);
    let mut failures = Vec::new();
    // Flags are compared for information: tshark's retransmission heuristics (timing,
    // window) differ from ours by design.
    let mut flag_stats = [[0usize; 4]; 2]; // [keep-alive, retransmission] x [both, only ours, only tshark, neither]
    for name in corpus.captures() {
        let Some(oracle) = corpus.oracle_tsv(&name, "tcp_events.tsv") else {
            continue;
        };
        let want: HashMap<usize, (String, bool, bool)> = oracle
            .rows()
            .map(|r| {
                let rexmit = [
                    "retransmission",
                    "fast_retransmission",
                    "spurious_retransmission",
                ]
                .iter()
                .any(|c| r.get(c) == "1");
                (
                    r.get("frame.number").parse().unwrap_or(0),
                    (
                        r.get("tcp.stream").to_owned(),
                        r.get("keep_alive") == "1",
                        rexmit,
                    ),
                )
            })
            .collect();
        let bytes = std::fs::read(corpus.capture_path(&name)).expect("capture readable");
        let mut r = Reassembler::default();
        let seen = std::cell::Cell::new((false, false));
        let mut sink = |e: Event<'_>| match e.kind {
            EventKind::KeepAlive { .. } => seen.set((true, seen.get().1)),
            EventKind::Retransmission { .. } | EventKind::SynRetry { .. } => {
                seen.set((seen.get().0, true))
            }
            _ => {}
        };
        let mut bad = 0;
        for (i, p) in mini::packets(&bytes).iter().enumerate() {
            let Some(seg) = mini::segment(p) else {
                continue;
            };
            seen.set((false, false));
            let got = r.push(&seg, &mut sink);
            let seen = seen.get();
            let Some((stream, ka, rx)) = want.get(&(i + 1)) else {
                continue;
            };
            frames += 1;
            if got.session.to_string() != *stream {
                bad += 1;
                if bad <= 3 {
                    failures.push(format!(
                        "{name}\tframe {}\tsession {} (tshark {stream})",
                        i + 1,
                        got.session
                    ));
                }
            }
            for (k, (ours, theirs)) in [(seen.0, *ka), (seen.1, *rx)].into_iter().enumerate() {
                let cell = match (ours, theirs) {
                    (true, true) => 0,
                    (true, false) => 1,
                    (false, true) => 2,
                    (false, false) => 3,
                };
                flag_stats[k][cell] += 1;
            }
        }
        r.finish(&mut sink);
        if bad > 0 && allow.contains_key(&(name.clone(), "frames".to_owned())) {
            allowed += bad;
            failures.retain(|l| !l.starts_with(&format!("{name}\t")));
        }
    }
    eprintln!(
        "corpus tcp frames: {frames} frames compared, {} session mismatches shown, {allowed} allow-listed",
        failures.len()
    );
    for (k, what) in ["keep-alive", "retransmission"].iter().enumerate() {
        let [both, ours, theirs, _] = flag_stats[k];
        eprintln!("  {what}: {both} both, {ours} only ours, {theirs} only tshark (informational)");
    }
    assert!(
        failures.is_empty(),
        "frames in another session than tshark's:\n{}",
        failures.join("\n")
    );
}

/// Stand-in for `pcap-capture` + `pcap-decode` (see the module docs): just enough of
/// pcap, pcapng, link layers, IPv4, IPv6 and TCP to build segments.
mod mini {
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

    use pcap_tcp_reassembly::{Segment, TcpFlags};

    pub struct Packet<'a> {
        pub ts_ns: i64,
        pub link: u32,
        pub data: &'a [u8],
    }

    fn u16_at(b: &[u8], i: usize, be: bool) -> Option<u16> {
        let x: [u8; 2] = b.get(i..i + 2)?.try_into().ok()?;
        Some(if be {
            u16::from_be_bytes(x)
        } else {
            u16::from_le_bytes(x)
        })
    }

    fn u32_at(b: &[u8], i: usize, be: bool) -> Option<u32> {
        let x: [u8; 4] = b.get(i..i + 4)?.try_into().ok()?;
        Some(if be {
            u32::from_be_bytes(x)
        } else {
            u32::from_le_bytes(x)
        })
    }

    /// Every readable packet of a pcap or pcapng file (stops at the first damage).
    pub fn packets(file: &[u8]) -> Vec<Packet<'_>> {
        let mut out = Vec::new();
        match u32_at(file, 0, false) {
            Some(0x0a0d_0d0a) => pcapng(file, &mut out),
            Some(_) => pcap(file, &mut out),
            None => {}
        }
        out
    }

    fn pcap<'a>(file: &'a [u8], out: &mut Vec<Packet<'a>>) {
        let Some(magic) = u32_at(file, 0, false) else {
            return;
        };
        let (be, nanos) = match magic {
            0xa1b2_c3d4 => (false, false),
            0xd4c3_b2a1 => (true, false),
            0xa1b2_3c4d => (false, true),
            0x4d3c_b2a1 => (true, true),
            _ => return,
        };
        let Some(link) = u32_at(file, 20, be) else {
            return;
        };
        let mut pos = 24;
        while let (Some(sec), Some(frac), Some(caplen)) = (
            u32_at(file, pos, be),
            u32_at(file, pos + 4, be),
            u32_at(file, pos + 8, be),
        ) {
            let start = pos + 16;
            let Some(data) = file.get(start..start + caplen as usize) else {
                return;
            };
            let frac_ns = if nanos {
                i64::from(frac)
            } else {
                i64::from(frac) * 1000
            };
            out.push(Packet {
                ts_ns: i64::from(sec) * 1_000_000_000 + frac_ns,
                link: link & 0xffff,
                data,
            });
            pos = start + caplen as usize;
        }
    }

    fn pcapng<'a>(file: &'a [u8], out: &mut Vec<Packet<'a>>) {
        let mut pos = 0;
        let mut be = false;
        // Per interface: link type and ticks per second.
        let mut ifaces: Vec<(u32, u64)> = Vec::new();
        while let Some(kind) = u32_at(file, pos, be) {
            if kind == 0x0a0d_0d0a {
                be = u32_at(file, pos + 8, false) != Some(0x1a2b_3c4d);
                ifaces.clear();
            }
            let Some(len) = u32_at(file, pos, be).and(u32_at(file, pos + 4, be)) else {
                return;
            };
            let len = len as usize;
            let Some(block) = file.get(pos..pos + len) else {
                return;
            };
            if len < 12 {
                return;
            }
            match kind {
                1 => {
                    let link = u32::from(u16_at(block, 8, be).unwrap_or(0));
                    let mut tsres = 1_000_000u64;
                    let mut o = 16;
                    while let (Some(code), Some(olen)) =
                        (u16_at(block, o, be), u16_at(block, o + 2, be))
                    {
                        if code == 0 {
                            break;
                        }
                        if code == 9 {
                            if let Some(&v) = block.get(o + 4) {
                                tsres = if v & 0x80 != 0 {
                                    1u64 << (v & 0x7f)
                                } else {
                                    10u64.pow(u32::from(v))
                                };
                            }
                        }
                        o += 4 + usize::from(olen).div_ceil(4) * 4;
                    }
                    ifaces.push((link, tsres));
                }
                6 => {
                    let (Some(ifid), Some(hi), Some(lo), Some(caplen)) = (
                        u32_at(block, 8, be),
                        u32_at(block, 12, be),
                        u32_at(block, 16, be),
                        u32_at(block, 20, be),
                    ) else {
                        return;
                    };
                    let Some(&(link, tsres)) = ifaces.get(ifid as usize) else {
                        return;
                    };
                    let Some(data) = block.get(28..28 + caplen as usize) else {
                        return;
                    };
                    let ticks = (u64::from(hi) << 32) | u64::from(lo);
                    let ts_ns = (u128::from(ticks) * 1_000_000_000 / u128::from(tsres)) as i64;
                    out.push(Packet { ts_ns, link, data });
                }
                3 => {
                    let Some(&(link, _)) = ifaces.first() else {
                        return;
                    };
                    let data = block.get(12..len - 4).unwrap_or(&[]);
                    let orig = u32_at(block, 8, be).unwrap_or(0) as usize;
                    out.push(Packet {
                        ts_ns: 0,
                        link,
                        data: data.get(..orig.min(data.len())).unwrap_or(data),
                    });
                }
                _ => {}
            }
            pos += len;
        }
    }

    /// The IP packet inside a link-layer frame.
    fn network(link: u32, d: &[u8]) -> Option<&[u8]> {
        match link {
            1 => {
                let mut et = u16_at(d, 12, true)?;
                let mut off = 14;
                while matches!(et, 0x8100 | 0x88a8 | 0x9100) {
                    et = u16_at(d, off + 2, true)?;
                    off += 4;
                }
                if et == 0x8864 {
                    // PPPoE session: 6-byte header, then the PPP protocol.
                    et = match u16_at(d, off + 6, true)? {
                        0x0021 => 0x0800,
                        0x0057 => 0x86dd,
                        _ => return None,
                    };
                    off += 8;
                }
                matches!(et, 0x0800 | 0x86dd)
                    .then(|| d.get(off..))
                    .flatten()
            }
            0 | 108 => d.get(4..),
            12 | 14 | 101 | 228 | 229 => Some(d),
            113 => d.get(16..),
            276 => d.get(20..),
            _ => None,
        }
    }

    /// A TCP segment from a captured packet, if it carries one (first fragments only).
    pub fn segment<'a>(p: &Packet<'a>) -> Option<Segment<'a>> {
        let ip = network(p.link, p.data)?;
        let (src, dst, l4, l4_wire_len) = match ip.first()? >> 4 {
            4 => {
                let ihl = usize::from(ip.first()? & 0xf) * 4;
                let total = usize::from(u16_at(ip, 2, true)?);
                let frag = u16_at(ip, 6, true)?;
                if *ip.get(9)? != 6 || frag & 0x1fff != 0 || frag & 0x2000 != 0 {
                    return None;
                }
                let src = IpAddr::V4(Ipv4Addr::from(<[u8; 4]>::try_from(ip.get(12..16)?).ok()?));
                let dst = IpAddr::V4(Ipv4Addr::from(<[u8; 4]>::try_from(ip.get(16..20)?).ok()?));
                let end = total.min(ip.len());
                (src, dst, ip.get(ihl..end)?, total.checked_sub(ihl)?)
            }
            6 => {
                let plen = usize::from(u16_at(ip, 4, true)?);
                let mut next = *ip.get(6)?;
                let src = IpAddr::V6(Ipv6Addr::from(<[u8; 16]>::try_from(ip.get(8..24)?).ok()?));
                let dst = IpAddr::V6(Ipv6Addr::from(<[u8; 16]>::try_from(ip.get(24..40)?).ok()?));
                let mut off = 40;
                while matches!(next, 0 | 43 | 60 | 44) {
                    if next == 44 {
                        return None;
                    }
                    next = *ip.get(off)?;
                    off += (usize::from(*ip.get(off + 1)?) + 1) * 8;
                }
                if next != 6 {
                    return None;
                }
                let end = (40 + plen).min(ip.len());
                (src, dst, ip.get(off..end)?, (40 + plen).checked_sub(off)?)
            }
            _ => return None,
        };
        let hlen = usize::from(l4.get(12)? >> 4) * 4;
        if hlen < 20 {
            return None;
        }
        let payload = l4.get(hlen..).unwrap_or(&[]);
        let wire = l4_wire_len.saturating_sub(hlen);
        Some(Segment {
            ts_ns: p.ts_ns,
            src,
            dst,
            src_port: u16_at(l4, 0, true)?,
            dst_port: u16_at(l4, 2, true)?,
            seq: u32_at(l4, 4, true)?,
            ack: u32_at(l4, 8, true)?,
            flags: TcpFlags(*l4.get(13)?),
            window: u16_at(l4, 14, true)?,
            payload,
            orig_payload_len: (wire > payload.len()).then_some(wire as u32),
        })
    }
}
