//! Fuzz target: pcap_decode::decode_packet on raw IP frames (RAW, IPV4 or IPV6, picked by the
//! first input byte), plus the summary and JSON writers over whatever was decoded.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pcap_capture::LinkType;

fuzz_target!(|input: &[u8]| {
    let Some((&pick, data)) = input.split_first() else {
        return;
    };
    let link = [LinkType::RAW, LinkType::IPV4, LinkType::IPV6][usize::from(pick % 3)];
    pcap_rs_fuzz::decode_frame(link, data);
});
