//! IP fragment limits reach the user: a datagram the defragmenter refuses is counted in a
//! warning at the end of `flows` and `http-trace`, and shown as an event by
//! `http-trace --tcp-verbose`; `capture` shows a reassembled datagram's transport on its
//! last fragment.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use pcap_decode::build::{EthSpec, ethernet_frame};

const BIN: &str = env!("CARGO_BIN_EXE_pcap-cli");

/// Runs the binary with times in UTC, whatever the machine's zone.
fn run(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env("TZ", "UTC")
        .output()
        .unwrap()
}

/// An IPv4 fragment of a TCP datagram from 10.0.0.1 to 10.0.0.2, id 0x1234: `offset` in
/// bytes (a multiple of 8), `more` fragments to come, `payload` bytes of it.
fn fragment(offset: u16, more: bool, payload: &[u8]) -> Vec<u8> {
    let total = 20 + payload.len() as u16;
    let flags_offset = (u16::from(more) << 13) | (offset / 8);
    let mut ip = vec![0x45, 0];
    ip.extend_from_slice(&total.to_be_bytes());
    ip.extend_from_slice(&0x1234u16.to_be_bytes());
    ip.extend_from_slice(&flags_offset.to_be_bytes());
    ip.extend_from_slice(&[64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]);
    ip.extend_from_slice(payload);
    ethernet_frame(&EthSpec::default(), 0x0800, &ip)
}

/// A capture whose only datagram ends past the largest IPv4 datagram (65 535 bytes).
fn too_large(test: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(test);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("too-large.pcap");
    let frames = [
        fragment(0, true, &[0u8; 24]),
        fragment(65528, false, &[0u8; 64]),
    ];
    let times = [1_700_000_000_000_000_000, 1_700_000_000_000_001_000];
    let file = pcap_testkit::ethernet_pcap(times.into_iter().zip(frames.iter().map(Vec::as_slice)));
    std::fs::write(&path, file).unwrap();
    path
}

const WARNING: &str =
    "pcap-cli: warning: IP datagrams in fragments: 1 refused (too large or inconsistent)\n";

#[test]
fn flows_warns_of_a_refused_datagram() {
    let path = too_large("flows_warns_of_a_refused_datagram");
    let out = run(&["flows", "--json", "-r", path.to_str().unwrap()]);
    assert!(out.status.success());
    // The first fragment's zeroed TCP header is a decode error of its own.
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!("{WARNING}pcap-cli: 2 packets, 0 TCP sessions, 1 decode error\n")
    );
}

#[test]
fn http_trace_shows_the_refusal_and_warns() {
    let path = too_large("http_trace_shows_the_refusal_and_warns");
    let path = path.to_str().unwrap();
    let out = run(&["http-trace", "-q", "-r", path]);
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stderr), WARNING);
    assert_eq!(out.stdout, b"");

    let out = run(&["http-trace", "--tcp-verbose", "--no-color", "-r", path]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        text.lines().collect::<Vec<_>>(),
        [
            "22:13:20.000001 10.0.0.1 -> 10.0.0.2 [ip id 0x1234 proto 6] defrag refused: \
             datagram dropped: ip fragment at offset 65528 ends at 65592, past the \
             65535-byte datagram limit"
        ]
    );

    let out = run(&["http-trace", "--tcp-verbose", "--json", "-r", path]);
    let line: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        line,
        serde_json::json!({
            "type": "defrag", "ts": 1_700_000_000.000_001_f64, "src": "10.0.0.1",
            "dst": "10.0.0.2", "id": 0x1234, "protocol": 6, "event": "defrag_refused",
            "detail": "datagram dropped: ip fragment at offset 65528 ends at 65592, past \
                       the 65535-byte datagram limit"
        })
    );
}

/// `capture`'s line for the fragment that completes a datagram shows the datagram's
/// transport, as tshark's row for that frame does (packets.tsv: the same TCP or UDP ports
/// on that frame), and says how many fragments made it; every other row is left as it was.
#[test]
fn capture_shows_the_reassembled_transport_on_the_last_fragment() {
    let Some(corpus) =
        pcap_testkit::corpus("capture_shows_the_reassembled_transport_on_the_last_fragment")
    else {
        return;
    };
    let mut reassembled = 0;
    for name in [
        "ipv4-fragments.pcap",
        "ipv4-fragmented-3.pcap",
        "ipv4-frags-suricata.pcap",
        "ipv6-fragments.pcap",
    ] {
        let Some(tsv) = corpus.oracle_tsv(name, "packets.tsv") else {
            panic!("{name}: no packets.tsv");
        };
        let out = run(&[
            "capture",
            "-q",
            "-r",
            corpus.capture_path(name).to_str().unwrap(),
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8(out.stdout).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        for row in tsv.rows() {
            let frame: usize = row.get("frame.number").parse().unwrap();
            let line = lines[frame - 1];
            let last_v4 = row.get("ip.flags.mf") == "0"
                && row
                    .get("ip.frag_offset")
                    .parse::<u32>()
                    .is_ok_and(|o| o > 0);
            let ports = [
                ("tcp.srcport", "tcp.dstport"),
                ("udp.srcport", "udp.dstport"),
            ]
            .into_iter()
            .map(|(s, d)| (row.get(s), row.get(d)))
            .find(|(s, _)| !s.is_empty() && !s.contains(','));
            if let Some(n) = line
                .split(" (reassembled from ")
                .nth(1)
                .and_then(|r| r.strip_suffix(" fragments)"))
            {
                assert!(
                    n.parse::<u32>().unwrap() >= 2,
                    "{name} frame {frame}: {line}"
                );
                reassembled += 1;
                let Some((sp, dp)) = ports else {
                    // An ICMP datagram: tshark has its type on this frame.
                    let icmp = row.get("icmp.type");
                    assert!(
                        !icmp.is_empty() && line.contains(" ICMP "),
                        "{name} frame {frame}: {line}"
                    );
                    continue;
                };
                assert!(
                    line.contains(&format!(":{sp} -> ")) && line.contains(&format!(":{dp} ")),
                    "{name} frame {frame}: tshark has ports {sp} -> {dp}: {line}"
                );
            } else {
                assert!(
                    !(last_v4 && ports.is_some()),
                    "{name} frame {frame}: tshark reassembled it: {line}"
                );
            }
        }
    }
    assert!(reassembled >= 3, "{reassembled} datagrams reassembled");
}
