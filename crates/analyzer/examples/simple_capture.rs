//! One summary line per packet, like node_pcap's `simple_capture`: frame number, timestamp,
//! then Ethernet addresses, IP endpoints and ports, TCP flags, sequence numbers and lengths.
//!
//! Shows the two bottom crates on their own: [`Source`] yields packets from a file or a live
//! device, [`decode_packet`] decodes them without copying, and `summary` below reads the
//! layers it wants from the [`Decoded`] views. (Inside the pipeline, `Handler::packet` gets
//! the same [`Decoded`]; `pcap-cli capture` prints a fuller line of the same kind.)
//!
//! ```text
//! $ cargo run -p pcap-analyzer --example simple_capture -- tests/data/sample-http-ws.pcap
//! 1 1700000000.000025 02:00:00:00:fe:01 -> 02:00:00:00:00:01 [2001:db8:1::1]:36510 -> [2001:db8:ffff::82]:80 TCP [S] seq 328182931 win 65535 len 0
//! $ sudo target/debug/examples/simple_capture -i lo    # live; Ctrl-C stops
//! ```
//!
//! [`Decoded`]: pcap_decode::Decoded

use std::fmt::{self, Write as _};
use std::io::Write;
use std::net::IpAddr;

use pcap_capture::Source;
use pcap_capture::live::LiveOptions;
use pcap_decode::{Decoded, Link, Transport, decode_packet};

/// An address and port, IPv6 in brackets.
fn endpoint(ip: Option<IpAddr>, port: u16) -> String {
    match ip {
        Some(IpAddr::V6(a)) => format!("[{a}]:{port}"),
        Some(IpAddr::V4(a)) => format!("{a}:{port}"),
        None => format!("?:{port}"),
    }
}

/// An address, `?` when there is none.
fn addr(ip: Option<IpAddr>) -> String {
    ip.map_or_else(|| "?".to_owned(), |a| a.to_string())
}

/// Ethernet addresses, then IP endpoints and the TCP, UDP or ICMP header, as tcpdump shows them.
fn summary(line: &mut String, d: &Decoded<'_>) -> fmt::Result {
    if let Some(Link::Ethernet(e)) = &d.link {
        write!(line, "{} -> {} ", e.src(), e.dst())?;
    }
    let (src, dst, len) = (d.src_ip(), d.dst_ip(), d.payload.len());
    match &d.transport {
        Some(Transport::Tcp(t)) => {
            let (sp, dp) = (endpoint(src, t.src_port()), endpoint(dst, t.dst_port()));
            write!(line, "{sp} -> {dp} TCP [{}] seq {}", t.flags(), t.seq())?;
            if t.flags().ack() {
                write!(line, " ack {}", t.ack())?;
            }
            write!(line, " win {} len {len}", t.window())?;
        }
        Some(Transport::Udp(u)) => {
            let (sp, dp) = (endpoint(src, u.src_port()), endpoint(dst, u.dst_port()));
            write!(line, "{sp} -> {dp} UDP len {len}")?;
        }
        Some(Transport::Icmp(i) | Transport::Icmpv6(i)) => {
            let (s, d) = (addr(src), addr(dst));
            write!(
                line,
                "{s} -> {d} ICMP type {} code {}",
                i.icmp_type(),
                i.code()
            )?;
        }
        _ if src.is_some() => write!(line, "{} -> {} len {len}", addr(src), addr(dst))?,
        _ => match d.arp() {
            Some(a) => {
                let (s, t) = (a.sender_ip().map(IpAddr::V4), a.target_ip().map(IpAddr::V4));
                write!(line, "ARP op {} {} -> {}", a.op(), addr(s), addr(t))?
            }
            None => line.push_str("(not IP or ARP)"),
        },
    }
    if let Some(e) = &d.stop {
        write!(line, " [{e}]")?;
    }
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut source = match args.as_slice() {
        [flag, device] if flag == "-i" => Source::open_live(device, &LiveOptions::default())?,
        [path] => Source::open_file(path)?,
        _ => return Err("usage: simple_capture FILE | simple_capture -i IFACE".into()),
    };
    // Written through a lock with `?`, so `| head` ends the program quietly.
    let mut out = std::io::stdout().lock();
    let mut frame = 0u64;
    let mut line = String::new();
    while let Some(packet) = source.next_packet()? {
        frame += 1;
        let decoded = decode_packet(packet.link_type, packet.data);
        line.clear();
        summary(&mut line, &decoded)?;
        let (secs, ns) = (
            packet.ts_ns.div_euclid(1_000_000_000),
            packet.ts_ns.rem_euclid(1_000_000_000),
        );
        writeln!(out, "{frame} {secs}.{:06} {line}", ns / 1000)?;
    }
    Ok(())
}
