//! Every frame of every corpus capture through `capture`'s writers: a summary line and one
//! valid JSON object each (moved from pcap-decode's corpus test with the writers).
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use pcap_capture::FileReader;
use pcap_cli::render::{write_json, write_summary};
use pcap_decode::decode_packet;

#[test]
fn every_corpus_frame_renders() {
    let Some(corpus) = pcap_testkit::corpus("every_corpus_frame_renders") else {
        return;
    };
    let (mut line, mut json) = (String::new(), Vec::new());
    let mut frames = 0u64;
    for name in corpus.captures() {
        // Damaged captures (some are, on purpose) end at their first read error.
        let Ok(mut reader) = FileReader::open(corpus.capture_path(&name)) else {
            continue;
        };
        let mut n = 0u64;
        while let Ok(Some(pkt)) = reader.next_packet() {
            n += 1;
            let d = decode_packet(pkt.link_type, pkt.data);
            line.clear();
            write_summary(&mut line, &d).unwrap();
            json.clear();
            write_json(&mut json, n, &pkt, &d);
            let v: serde_json::Value = serde_json::from_slice(&json).unwrap_or_else(|e| {
                panic!("{name} frame {n}: {e}: {}", String::from_utf8_lossy(&json))
            });
            assert_eq!(v["caplen"], pkt.caplen, "{name} frame {n}");
            assert_eq!(
                v.get("error").is_some(),
                d.stop.is_some(),
                "{name} frame {n}"
            );
        }
        frames += n;
    }
    assert!(frames > 0, "no frames read");
    eprintln!("{frames} frames rendered");
}
