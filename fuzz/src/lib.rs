//! What the per-link-type fuzz targets share: decode one frame, then walk and render
//! everything that was decoded, as `capture` and `capture --json` would.

use pcap_capture::{LinkType, Packet};

/// Decodes `data` as a frame of `link`, iterates its TCP options, and writes its summary
/// line and JSON object. Any panic on the way is the finding.
pub fn decode_frame(link: LinkType, data: &[u8]) {
    let d = pcap_decode::decode_packet(link, data);
    if let Some(t) = d.tcp() {
        for opt in t.options(d.transport_offset) {
            let _ = opt;
        }
    }
    let mut line = String::new();
    let _ = pcap_decode::write_summary(&mut line, &d);
    let len = u32::try_from(data.len()).unwrap_or(u32::MAX);
    let pkt = Packet {
        ts_ns: 0,
        caplen: len,
        orig_len: len,
        link_type: link,
        interface: 0,
        data,
    };
    let mut out = Vec::new();
    pcap_decode::write_json(&mut out, 1, &pkt, &d);
}
