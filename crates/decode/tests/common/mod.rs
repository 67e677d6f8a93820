//! TEST-ONLY stand-in for the capture and decode crates, written while they were being built
//! in parallel: a minimal classic-pcap reader and an IPv4/IPv6 walker, just enough to pull
//! UDP payloads and IP fragments out of the corpus. The lead replaces it with the real
//! `pcap-capture` reader and `pcap-decode` layers at integration.
//!
//! It skips what it cannot handle (pcapng files, loudly; unknown link types; damaged records).
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
        0x0a0d0d0a => {
            eprintln!("SKIPPED {name}: pcapng is not read by this test-only reader");
            return None;
        }
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
            let et = match fam {
                2 => 0x0800,
                24 | 28 | 30 => 0x86dd,
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
