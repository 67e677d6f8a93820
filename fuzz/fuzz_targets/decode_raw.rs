//! Fuzz target: pcap_decode::decode_packet on raw IP frames (RAW, IPV4 or IPV6, picked by the
//! first input byte), plus the summary and
//! JSON writers over whatever was decoded.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pcap_capture::{LinkType, Packet};

fuzz_target!(|input: &[u8]| {
    let Some((&pick, data)) = input.split_first() else { return };
    let link = [LinkType::RAW, LinkType::IPV4, LinkType::IPV6][usize::from(pick % 3)];
    let d = pcap_decode::decode_packet(link, data);
    if let Some(t) = d.tcp() {
        for opt in t.options(d.transport_offset) {
            let _ = opt;
        }
    }
    let mut line = String::new();
    let _ = pcap_decode::write_summary(&mut line, &d);
    let len = data.len() as u32;
    let pkt = Packet { ts_ns: 0, caplen: len, orig_len: len, link_type: link, interface: 0, data };
    let mut out = Vec::new();
    pcap_decode::write_json(&mut out, 1, &pkt, &d);
});
