//! `capture -e` (MAC addresses) and `capture -v` (IP fields, TCP options, checksum status)
//! end to end, on frames built here with known fields and checksums, and on a corpus
//! capture against what `tcpdump -v` 4.99.3 prints for it; IGMP lines on hand-built messages.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use pcap_capture::{LinkType, Packet, PcapWriter};
use pcap_cli::render::write_summary;
use pcap_decode::build::{self, EthSpec, FrameSpec, IpSpec, Ipv4Spec, TcpSpec, UdpSpec};
use pcap_decode::decode_packet;

const BIN: &str = env!("CARGO_BIN_EXE_pcap-cli");

fn capture(path: &Path, extra: &[&str]) -> Vec<String> {
    let o: Output = Command::new(BIN)
        .args(["capture", "-q", "-r"])
        .arg(path)
        .args(extra)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

fn tmp(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join("capture_verbose");
    std::fs::create_dir_all(&d).unwrap();
    d.join(name)
}

/// Writes a pcap of `frames`, each cut to `caplen` bytes when given (its wire length kept).
fn write_pcap(name: &str, frames: &[(Vec<u8>, Option<usize>)]) -> PathBuf {
    let path = tmp(name);
    let mut w = PcapWriter::new(Vec::new(), LinkType::ETHERNET, 65535).unwrap();
    for (i, (data, cut)) in frames.iter().enumerate() {
        let kept = &data[..cut.unwrap_or(data.len())];
        w.write_packet(&Packet {
            ts_ns: 1_700_000_000_000_000_000 + i as i64 * 1000,
            caplen: kept.len() as u32,
            orig_len: data.len() as u32,
            link_type: LinkType::ETHERNET,
            interface: 0,
            fcs_len: 0,
            data: kept,
        })
        .unwrap();
    }
    std::fs::write(&path, w.into_inner().unwrap()).unwrap();
    path
}

fn frame() -> FrameSpec {
    FrameSpec {
        eth: EthSpec {
            src: [0x02, 0xaa, 0, 0, 0, 1],
            dst: [0x02, 0xbb, 0, 0, 0, 2],
        },
        ip: IpSpec::V4(Ipv4Spec {
            ttl: 61,
            id: 0x1234,
            ..Ipv4Spec::default()
        }),
    }
}

/// A SYN with the options a Linux client sends, 14-byte Ethernet header first.
fn syn() -> Vec<u8> {
    let options = vec![
        2, 4, 0x05, 0xb4, // mss 1460
        4, 2, // sackOK
        8, 10, 0, 0, 0, 10, 0, 0, 0, 20, // TS val 10 ecr 20
        1,  // nop
        3, 3, 7, // wscale 7
    ];
    let tcp = TcpSpec {
        flags: 0x002,
        options,
        ..TcpSpec::default()
    };
    build::tcp_frame(&frame(), &tcp, b"")
}

/// Offsets in an Ethernet + IPv4 (no options) frame.
const IP_CKSUM: usize = 14 + 10;
const TCP_CKSUM: usize = 14 + 20 + 16;
const UDP_CKSUM: usize = 14 + 20 + 6;

fn field(f: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([f[at], f[at + 1]])
}

fn set_field(mut f: Vec<u8>, at: usize, v: u16) -> Vec<u8> {
    f[at..at + 2].copy_from_slice(&v.to_be_bytes());
    f
}

/// The folded one's complement sum of the IPv4 pseudo-header for a TCP segment of `len`
/// bytes from 10.0.0.1 to 10.0.0.2: what a sender with checksum offload leaves in the field.
fn pseudo_sum(len: u16) -> u16 {
    let words = [0x0a00u32, 0x0001, 0x0a00, 0x0002, 6, u32::from(len)];
    let mut s: u32 = words.iter().sum();
    while s > 0xffff {
        s = (s & 0xffff) + (s >> 16);
    }
    s as u16
}

#[test]
fn mac_addresses_only_with_e() {
    let path = write_pcap("e.pcap", &[(syn(), None)]);
    let plain = capture(&path, &["--utc"]);
    assert_eq!(plain.len(), 1);
    assert!(!plain[0].contains("02:aa"), "{}", plain[0]);
    // The line goes from the time straight to the network layer.
    let after_time = plain[0].split_once(' ').unwrap().1;
    assert!(
        after_time.starts_with("10.0.0.1:40000 -> 10.0.0.2:80 TCP [S]"),
        "{after_time}"
    );

    let with_e = capture(&path, &["--utc", "-e"]);
    let after_time = with_e[0].split_once(' ').unwrap().1;
    assert!(
        after_time.starts_with("02:aa:00:00:00:01 -> 02:bb:00:00:00:02 10.0.0.1:40000 -> "),
        "{after_time}"
    );
    let long = capture(&path, &["--utc", "--link-header"]);
    assert_eq!(long, with_e);
}

#[test]
fn verbose_shows_ip_fields_options_and_good_checksums() {
    let f = syn();
    let (ip_sum, tcp_sum) = (field(&f, IP_CKSUM), field(&f, TCP_CKSUM));
    let path = write_pcap("v.pcap", &[(f.clone(), None)]);
    let line = &capture(&path, &["-v"])[0];
    // 20 bytes of IP, 20 of TCP, 20 of options.
    let want_ip = format!(
        "(tos 0x0, ttl 61, id 4660, offset 0, flags [DF], proto TCP (6), length 60, cksum {ip_sum:#06x} (correct)) 10.0.0.1:40000 -> 10.0.0.2:80 TCP [S]"
    );
    assert!(line.contains(&want_ip), "{line}");
    let want_tcp = format!(
        "win 65535 options [mss 1460,sackOK,TS val 10 ecr 20,nop,wscale 7] cksum {tcp_sum:#06x} (correct) len 0"
    );
    assert!(line.ends_with(&want_tcp), "{line}");
    // Without -v, none of it.
    let plain = &capture(&path, &[])[0];
    assert!(
        !plain.contains("ttl") && !plain.contains("cksum"),
        "{plain}"
    );
}

#[test]
fn verbose_checksum_bad_offloaded_and_cut() {
    let f = syn();
    let (ip_sum, tcp_sum) = (field(&f, IP_CKSUM), field(&f, TCP_CKSUM));
    let bad_ip = set_field(f.clone(), IP_CKSUM, 0);
    let bad_tcp = set_field(f.clone(), TCP_CKSUM, tcp_sum ^ 0x0101);
    let offloaded = set_field(f.clone(), TCP_CKSUM, pseudo_sum(40));
    // A segment with payload, cut 10 bytes into it by the snapshot length.
    let tcp = TcpSpec::default();
    let data = build::tcp_frame(&frame(), &tcp, &[b'x'; 100]);
    let cut_at = 14 + 20 + 20 + 10;
    let path = write_pcap(
        "bad.pcap",
        &[
            (bad_ip, None),
            (bad_tcp, None),
            (offloaded, None),
            (data, Some(cut_at)),
        ],
    );
    let lines = capture(&path, &["-v"]);
    assert!(
        lines[0].contains(&format!(", cksum 0x0000 (incorrect -> {ip_sum:#06x}))")),
        "{}",
        lines[0]
    );
    // The IP header's status is in the parentheses; no second "[bad ip checksum]".
    assert!(!lines[0].contains("bad ip checksum"), "{}", lines[0]);
    assert!(
        lines[1].contains(&format!(
            "cksum {:#06x} (incorrect -> {tcp_sum:#06x}) len 0",
            tcp_sum ^ 0x0101
        )),
        "{}",
        lines[1]
    );
    assert!(
        lines[2].contains(&format!(
            "cksum {:#06x} (unverified, offloaded) len 0",
            pseudo_sum(40)
        )),
        "{}",
        lines[2]
    );
    assert!(
        lines[3].contains("(unverified, cut) len 100 (captured 10)"),
        "{}",
        lines[3]
    );
    // Without -v a bad IP checksum is still flagged.
    let plain = capture(&path, &[]);
    assert!(plain[0].ends_with(" [bad ip checksum]"), "{}", plain[0]);
}

#[test]
fn verbose_udp_checksums() {
    let udp = UdpSpec {
        src_port: 40001,
        dst_port: 9999,
    };
    let f = build::udp_frame(&frame(), &udp, b"hello");
    let sum = field(&f, UDP_CKSUM);
    let none = set_field(f.clone(), UDP_CKSUM, 0);
    let path = write_pcap("udp.pcap", &[(f, None), (none, None)]);
    let lines = capture(&path, &["-v"]);
    assert!(
        lines[0].ends_with(&format!(
            "10.0.0.1:40001 -> 10.0.0.2:9999 UDP cksum {sum:#06x} (correct) len 5"
        )),
        "{}",
        lines[0]
    );
    assert!(lines[1].ends_with("UDP no cksum len 5"), "{}", lines[1]);
}

/// `tcpdump -nn -v -r http-one-stream-fin.pcap -c 2` (4.99.3) prints, for the SYN and the
/// SYN-ACK (whose IP checksum field is 0, as the sender's NIC left it):
/// `IP (tos 0x0, ttl 128, id 21637, offset 0, flags [DF], proto TCP (6), length 52)`
/// `... Flags [S], cksum 0x0c49 (correct), seq 4007155348, win 8192, options [mss 1460,nop,wscale 8,nop,nop,sackOK], length 0`
/// `IP (tos 0x0, ttl 238, id 45372, offset 0, flags [DF], proto TCP (6), length 52, bad cksum 0 (->9fcb)!)`
/// `... Flags [S.], cksum 0x4095 (correct), ..., options [mss 1380,nop,wscale 0,sackOK,eol], length 0`
#[test]
fn verbose_agrees_with_tcpdump_on_a_corpus_capture() {
    let Some(corpus) = pcap_testkit::corpus("verbose_agrees_with_tcpdump_on_a_corpus_capture")
    else {
        return;
    };
    let path = corpus.capture_path("http-one-stream-fin.pcap");
    let lines = capture(&path, &["-v", "-c", "2"]);
    let syn = &lines[0];
    assert!(
        syn.contains("(tos 0x0, ttl 128, id 21637, offset 0, flags [DF], proto TCP (6), length 52, cksum 0x6a83 (correct))"),
        "{syn}"
    );
    assert!(
        syn.contains("options [mss 1460,nop,wscale 8,nop,nop,sackOK] cksum 0x0c49 (correct)"),
        "{syn}"
    );
    let syn_ack = &lines[1];
    assert!(
        syn_ack.contains("ttl 238, id 45372, offset 0, flags [DF], proto TCP (6), length 52, cksum 0x0000 (incorrect -> 0x9fcb))"),
        "{syn_ack}"
    );
    assert!(
        syn_ack.contains("options [mss 1380,nop,wscale 0,sackOK,eol] cksum 0x4095 (correct)"),
        "{syn_ack}"
    );
}

fn igmp_line(msg: &[u8]) -> String {
    let ip = IpSpec::V4(Ipv4Spec {
        dst: [224, 0, 0, 1],
        ..Ipv4Spec::default()
    });
    let f = build::ethernet_frame(&EthSpec::default(), 0x0800, &build::ip_packet(&ip, 2, msg));
    let mut s = String::new();
    write_summary(&mut s, &decode_packet(LinkType::ETHERNET, &f)).unwrap();
    s
}

/// IGMP messages (RFC 2236, RFC 3376) in print-igmp.c's words.
#[test]
fn igmp_as_tcpdump_words_it() {
    let group = [239, 1, 1, 1];
    let msg = |t: u8, mrc: u8, g: [u8; 4]| [t, mrc, 0, 0, g[0], g[1], g[2], g[3]];
    let cases: [(&[u8], &str); 7] = [
        (
            &msg(0x16, 0, group),
            "10.0.0.1 -> 224.0.0.1 igmp v2 report 239.1.1.1",
        ),
        (&msg(0x12, 0, group), "igmp v1 report 239.1.1.1"),
        (&msg(0x17, 0, group), "igmp leave 239.1.1.1"),
        (&msg(0x11, 100, [0; 4]), "igmp query v2"),
        (
            &msg(0x11, 50, group),
            "igmp query v2 [max resp time 50] [gaddr 239.1.1.1]",
        ),
        (&msg(0x11, 0, [0; 4]), "igmp query v1"),
        (
            &[0x22, 0, 0, 0, 0, 0, 0, 3],
            "igmp v3 report, 3 group record(s)",
        ),
    ];
    for (bytes, want) in cases {
        let line = igmp_line(bytes);
        assert!(line.ends_with(want), "{line}\nwanted: {want}");
    }
    // A message cut after its type says so rather than inventing a group.
    assert!(igmp_line(&[0x16]).ends_with("igmp v2 report [|igmp]"));
}

/// `tcpdump -nn -r linux-sll2-suricata.pcap -c 2` (4.99.3) starts its lines with the
/// interface and direction: `ifb0  Out IP 192.168.1.253.56478 > ...` then `ifb0  In  IP
/// 192.168.1.21.80 > ...`, the name being this machine's for the index (2), as ours is.
#[test]
fn cooked_v2_lines_start_with_interface_and_direction() {
    let Some(corpus) = pcap_testkit::corpus("cooked_v2_lines_start_with_interface_and_direction")
    else {
        return;
    };
    let path = corpus.capture_path("linux-sll2-suricata.pcap");
    let name = std::fs::read_dir("/sys/class/net")
        .unwrap()
        .flatten()
        .find(|e| std::fs::read_to_string(e.path().join("ifindex")).is_ok_and(|i| i.trim() == "2"))
        .map_or("?".to_owned(), |e| e.file_name().into_string().unwrap());
    let lines = capture(&path, &["-c", "2"]);
    let rest = |l: &str| l.split_once(' ').unwrap().1.to_owned();
    assert_eq!(
        rest(&lines[0]),
        format!(
            "{name:<5} Out 192.168.1.253:56478 -> 192.168.1.21:80 TCP [S] seq 2332771219 win 64240 len 0"
        )
    );
    assert!(
        rest(&lines[1]).starts_with(&format!("{name:<5} In  192.168.1.21:80 -> ")),
        "{}",
        lines[1]
    );
}

/// A pcapng file with several named interfaces: each line starts with its packet's, as
/// `tshark -T fields -e frame.interface_name` (4.0.17) lists them per frame.
#[test]
fn pcapng_lines_start_with_the_interface_name() {
    let Some(corpus) = pcap_testkit::corpus("pcapng_lines_start_with_the_interface_name") else {
        return;
    };
    for (name, want) in [
        (
            "pcapng-suite-le-101.pcapng",
            &["eth0  ", "silly ethernet interface 2 ", "eth0  ", "null1 "][..],
        ),
        (
            "pcapng-many-interfaces.pcapng",
            &["en0   ", "en0   ", "lo0   "][..],
        ),
    ] {
        let lines = capture(&corpus.capture_path(name), &["-c", &want.len().to_string()]);
        for (n, (line, prefix)) in lines.iter().zip(want).enumerate() {
            let rest = line.split_once(' ').unwrap().1;
            assert!(rest.starts_with(prefix), "{name} frame {}: {line}", n + 1);
        }
    }
    // One interface, or none named: no prefix.
    let lines = capture(
        &corpus.capture_path("pcapng-two-interfaces-own.pcapng"),
        &["-c", "1"],
    );
    assert!(
        lines[0]
            .split_once(' ')
            .unwrap()
            .1
            .starts_with("192.0.2.10 ARP"),
        "{}",
        lines[0]
    );
}
