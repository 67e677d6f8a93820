//! Fuzz target: pcap_decode::decode_packet on BSD NULL or OpenBSD LOOP frames (picked by the
//! first input byte), plus the summary and JSON writers over whatever was decoded.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pcap_capture::LinkType;

fuzz_target!(|input: &[u8]| {
    let Some((&pick, data)) = input.split_first() else {
        return;
    };
    let link = if pick & 1 == 0 {
        LinkType::NULL
    } else {
        LinkType::LOOP
    };
    pcap_rs_fuzz::decode_frame(link, data);
});
