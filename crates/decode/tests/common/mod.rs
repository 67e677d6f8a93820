//! TEST-ONLY stand-in for the capture and decode crates, written while they were being built
//! in parallel: a minimal classic-pcap reader and an IPv4/IPv6 walker, just enough to pull
//! UDP payloads and IP fragments out of the corpus. The lead replaces it with the real
//! `pcap-capture` reader and `pcap-decode` layers at integration.
//!
//! It skips what it cannot handle (unknown link types, damaged records; unreadable files loudly).
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// One captured frame, reduced to its IP packet.
pub struct Frame {
    /// 1-based frame number, as tshark counts.
    pub number: usize,
    pub ts_ns: i64,
    /// The IP packet (IPv4 or IPv6 header first).
    pub ip: Vec<u8>,
}

/// Reads a classic pcap file; `None` (after a loud message) for pcapng or unreadable files.
pub fn read_pcap(name: &str, data: &[u8]) -> Option<Vec<Frame>> {
    if data.len() < 24 {
        eprintln!("SKIPPED {name}: too short for a pcap header");
        return None;
    }
    let magic = u32::from_le_bytes(data[0..4].try_into().unwrap());
    let (be, nano) = match magic {
        0xa1b2c3d4 => (false, false),
        0xa1b23c4d => (false, true),
        0xd4c3b2a1 => (true, false),
        0x4d3cb2a1 => (true, true),
        0x0a0d0d0a => return read_pcapng(name, data),
        _ => {
            eprintln!("SKIPPED {name}: not a pcap file");
            return None;
        }
    };
    let u32_at = |at: usize| -> Option<u32> {
        let b: [u8; 4] = data.get(at..at + 4)?.try_into().ok()?;
        Some(if be {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        })
    };
    let linktype = u32_at(20)? & 0x0fff_ffff;
    let mut frames = Vec::new();
    let mut at = 24;
    let mut number = 0;
    while let (Some(sec), Some(frac), Some(incl)) = (u32_at(at), u32_at(at + 4), u32_at(at + 8)) {
        number += 1;
        let start = at + 16;
        let Some(bytes) = data.get(start..start + incl as usize) else {
            break;
        };
        at = start + incl as usize;
        let ts_ns = i64::from(sec) * 1_000_000_000 + i64::from(frac) * if nano { 1 } else { 1000 };
        if let Some(ip) = link_to_ip(linktype, bytes, be) {
            frames.push(Frame {
                number,
                ts_ns,
                ip: ip.to_vec(),
            });
        }
    }
    Some(frames)
}

/// Reads a pcapng file: SHB (either byte order), IDB (link type, `if_tsresol`), EPB, SPB and
/// the obsolete PB; other blocks are skipped. Stops at the first damaged block.
fn read_pcapng(name: &str, data: &[u8]) -> Option<Vec<Frame>> {
    let mut frames = Vec::new();
    let mut be = false;
    // (link type, ticks per second) per interface of the current section.
    let mut ifaces: Vec<(u32, i64)> = Vec::new();
    let mut at = 0;
    let mut number = 0;
    while let Some(head) = data.get(at..at + 8) {
        let btype_le = u32::from_le_bytes(head[0..4].try_into().unwrap());
        if btype_le == 0x0a0d0d0a {
            let magic = data.get(at + 8..at + 12)?;
            be = magic == [0x1a, 0x2b, 0x3c, 0x4d];
            ifaces.clear();
        }
        let rd = |off: usize| -> Option<u32> {
            let b: [u8; 4] = data.get(off..off + 4)?.try_into().ok()?;
            Some(if be {
                u32::from_be_bytes(b)
            } else {
                u32::from_le_bytes(b)
            })
        };
        let btype = rd(at)?;
        let blen = rd(at + 4)? as usize;
        if blen < 12 || blen % 4 != 0 {
            eprintln!("{name}: damaged pcapng block at {at}; stopping");
            break;
        }
        let Some(body) = data.get(at + 8..at + blen - 4) else {
            eprintln!("{name}: truncated pcapng block at {at}; stopping");
            break;
        };
        let body_at = at + 8;
        match btype {
            1 => {
                let rd16 = |off: usize| -> Option<u16> {
                    let b: [u8; 2] = data.get(off..off + 2)?.try_into().ok()?;
                    Some(if be {
                        u16::from_be_bytes(b)
                    } else {
                        u16::from_le_bytes(b)
                    })
                };
                let linktype = u32::from(rd16(body_at)?);
                let mut tps = 1_000_000i64;
                let mut o = body_at + 8;
                while o + 4 <= body_at + body.len() {
                    let (code, olen) = (rd16(o)?, usize::from(rd16(o + 2)?));
                    if code == 0 {
                        break;
                    }
                    if code == 9 && olen >= 1 {
                        let r = *data.get(o + 4)?;
                        tps = if r & 0x80 != 0 {
                            1i64 << (r & 0x7f).min(62)
                        } else {
                            10i64.pow(u32::from(r).min(18))
                        };
                    }
                    o += 4 + olen.div_ceil(4) * 4;
                }
                ifaces.push((linktype, tps));
            }
            2 | 3 | 6 => {
                number += 1;
                let (iface, ts, bytes) = match btype {
                    6 => {
                        let caplen = rd(body_at + 12)? as usize;
                        let ts = (u64::from(rd(body_at + 4)?) << 32) | u64::from(rd(body_at + 8)?);
                        (rd(body_at)? as usize, ts, body.get(20..20 + caplen)?)
                    }
                    2 => {
                        let caplen = rd(body_at + 12)? as usize;
                        let ts = (u64::from(rd(body_at + 4)?) << 32) | u64::from(rd(body_at + 8)?);
                        let id = if be {
                            rd(body_at)? >> 16
                        } else {
                            rd(body_at)? & 0xffff
                        };
                        (id as usize, ts, body.get(20..20 + caplen)?)
                    }
                    _ => (0, 0, body.get(4..)?),
                };
                let Some(&(linktype, tps)) = ifaces.get(iface) else {
                    continue;
                };
                let ts_ns = (i128::from(ts) * 1_000_000_000 / i128::from(tps)) as i64;
                if let Some(ip) = link_to_ip(linktype, bytes, be) {
                    frames.push(Frame {
                        number,
                        ts_ns,
                        ip: ip.to_vec(),
                    });
                }
            }
            _ => {}
        }
        at += blen;
    }
    Some(frames)
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

/// Strips the link layer; `None` when it is not IP or not understood.
fn link_to_ip(linktype: u32, b: &[u8], file_be: bool) -> Option<&[u8]> {
    let (mut ethertype, mut rest) = match linktype {
        1 => (be16(b, 12)?, b.get(14..)?),
        113 => (be16(b, 14)?, b.get(16..)?),
        276 => (be16(b, 0)?, b.get(20..)?),
        0 => {
            let fam4: [u8; 4] = b.get(0..4)?.try_into().ok()?;
            let fam = if file_be {
                u32::from_be_bytes(fam4)
            } else {
                u32::from_le_bytes(fam4)
            };
            let fam = if fam > 0xffff { fam.swap_bytes() } else { fam };
            let et = match (fam, be16(b, 2)?) {
                (2, _) => 0x0800,
                (24 | 28 | 30, _) => 0x86dd,
                // Some loopback captures put an Ethernet type in bytes 2..4 (Wireshark's
                // null dissector accepts it too).
                (_, et @ (0x0800 | 0x86dd)) => et,
                _ => return None,
            };
            (et, b.get(4..)?)
        }
        12 | 14 | 101 => match b.first()? >> 4 {
            4 => (0x0800, b),
            6 => (0x86dd, b),
            _ => return None,
        },
        228 => (0x0800, b),
        229 => (0x86dd, b),
        _ => return None,
    };
    while ethertype == 0x8100 || ethertype == 0x88a8 {
        ethertype = be16(rest, 2)?;
        rest = rest.get(4..)?;
    }
    matches!(ethertype, 0x0800 | 0x86dd).then_some(rest)
}

/// What the IP layer says about a packet.
pub struct Ip<'a> {
    pub src: IpAddr,
    pub dst: IpAddr,
    /// Upper-layer protocol (after IPv6 extension headers).
    pub proto: u8,
    /// (offset in bytes, more fragments, identification) for a fragment.
    pub frag: Option<(u32, bool, u32)>,
    /// Upper-layer bytes (the fragment's payload for a fragment).
    pub payload: &'a [u8],
}

pub fn parse_ip(p: &[u8]) -> Option<Ip<'_>> {
    match p.first()? >> 4 {
        4 => {
            let ihl = usize::from(p[0] & 0x0f) * 4;
            let total = usize::from(be16(p, 2)?);
            let p = p.get(..total.min(p.len()))?;
            let id = u32::from(be16(p, 4)?);
            let ff = be16(p, 6)?;
            let (mf, off) = (ff & 0x2000 != 0, u32::from(ff & 0x1fff) * 8);
            let src: [u8; 4] = p.get(12..16)?.try_into().ok()?;
            let dst: [u8; 4] = p.get(16..20)?.try_into().ok()?;
            Some(Ip {
                src: Ipv4Addr::from(src).into(),
                dst: Ipv4Addr::from(dst).into(),
                proto: *p.get(9)?,
                frag: (mf || off > 0).then_some((off, mf, id)),
                payload: p.get(ihl..)?,
            })
        }
        6 => {
            let plen = usize::from(be16(p, 4)?);
            let src: [u8; 16] = p.get(8..24)?.try_into().ok()?;
            let dst: [u8; 16] = p.get(24..40)?.try_into().ok()?;
            let mut rest = p.get(40..(40 + plen).min(p.len()))?;
            let mut next = *p.get(6)?;
            let mut frag = None;
            loop {
                match next {
                    0 | 43 | 60 => {
                        let len = (usize::from(*rest.get(1)?) + 1) * 8;
                        next = *rest.first()?;
                        rest = rest.get(len..)?;
                    }
                    44 => {
                        let ff = be16(rest, 2)?;
                        let id = u32::from_be_bytes(rest.get(4..8)?.try_into().ok()?);
                        frag = Some((u32::from(ff & 0xfff8), ff & 1 != 0, id));
                        next = *rest.first()?;
                        rest = rest.get(8..)?;
                        break;
                    }
                    _ => break,
                }
            }
            Some(Ip {
                src: Ipv6Addr::from(src).into(),
                dst: Ipv6Addr::from(dst).into(),
                proto: next,
                frag,
                payload: rest,
            })
        }
        _ => None,
    }
}

/// (source port, destination port, payload) of a UDP datagram, trimmed to its length field.
pub fn parse_udp(b: &[u8]) -> Option<(u16, u16, &[u8])> {
    let len = usize::from(be16(b, 4)?);
    Some((be16(b, 0)?, be16(b, 2)?, b.get(8..len.max(8).min(b.len()))?))
}

/// Internet checksum (RFC 1071) over the pseudo-header (when `pseudo`) and `data`; a valid
/// packet sums to 0xffff, which this returns as 0.
pub fn checksum(src: IpAddr, dst: IpAddr, proto: u8, data: &[u8], pseudo: bool) -> u16 {
    let mut sum: u64 = 0;
    let mut add = |b: &[u8]| {
        for c in b.chunks(2) {
            sum += u64::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]));
        }
    };
    if pseudo {
        match (src, dst) {
            (IpAddr::V4(s), IpAddr::V4(d)) => {
                add(&s.octets());
                add(&d.octets());
            }
            (IpAddr::V6(s), IpAddr::V6(d)) => {
                add(&s.octets());
                add(&d.octets());
            }
            _ => {}
        }
        add(&[0, proto]);
        add(&(data.len() as u32).to_be_bytes());
    }
    add(data);
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}
