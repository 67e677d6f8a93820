//! Property tests for `capture`'s writers: for any input, on every link type, the summary
//! is written (with `-v` and `-e` too) and the JSON line is one valid JSON object naming the decoding error if any
//! (moved from pcap-decode's `tests/props.rs` with the writers).
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use pcap_capture::{LinkType, Packet};
use pcap_cli::render::numbers::Shown;
use pcap_cli::render::{write_json, write_summary, write_summary_with};
use pcap_decode::build::{self, FrameSpec, TcpSpec, UdpSpec};
use pcap_decode::decode_packet;
use proptest::prelude::*;

use pcap_testkit::frames::LINKS;

fn exercise(link: LinkType, data: &[u8]) {
    let d = decode_packet(link, data);
    let mut s = String::new();
    write_summary(&mut s, &d).unwrap();
    // capture -v -e: IP fields, options and checksums over whatever the bytes hold.
    let shown = Shown {
        verbose: true,
        link: true,
        wire_len: Some(usize::from(data.first().copied().unwrap_or(0))),
        ..Shown::default()
    };
    let mut v = String::new();
    write_summary_with(&mut v, &d, shown).unwrap();
    let pkt = Packet {
        ts_ns: -1_500_000_000,
        caplen: 0,
        orig_len: 0,
        link_type: link,
        interface: 0,
        fcs_len: 0,
        data,
    };
    let mut out = Vec::new();
    write_json(&mut out, 7, &pkt, &d);
    assert_eq!(out.iter().filter(|&&b| b == b'\n').count(), 1, "one line");
    let v: serde_json::Value = serde_json::from_slice(&out)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out)));
    assert_eq!(v["frame"], 7);
    assert_eq!(v["ts"].as_f64(), Some(-1.5));
    assert_eq!(v.get("error").is_some(), d.stop.is_some());
}

proptest! {
    #[test]
    fn arbitrary_bytes_render(link_idx in 0usize..LINKS.len(), data in proptest::collection::vec(any::<u8>(), 0..200)) {
        exercise(LINKS[link_idx], &data);
    }

    /// Valid frames (DNS over UDP, TCP with options) with a few bytes changed reach deeper
    /// layers than random bytes do.
    #[test]
    fn mutated_frames_render(
        udp in any::<bool>(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut f = if udp {
            let dns = build::dns_every_type_response();
            build::udp_frame(&FrameSpec::default(), &UdpSpec { src_port: 53, dst_port: 5353 }, &dns)
        } else {
            let tcp = TcpSpec { options: vec![2, 4, 5, 0xb4, 1, 3, 3, 7, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2], ..Default::default() };
            build::tcp_frame(&FrameSpec::default(), &tcp, b"data")
        };
        for (at, b) in edits {
            let i = at.index(f.len());
            f[i] = b;
        }
        let n = cut.index(f.len() + 1);
        exercise(LinkType::ETHERNET, &f[..n]);
    }
}
