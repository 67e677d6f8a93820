//! Fuzz target: pcap_decode::decode_packet on the less common link types (PPP, PPP in HDLC
//! framing, Cisco HDLC, NFLOG, 802.11, radiotap, BSD raw IP), picked by the first input byte,
//! plus the summary and JSON writers over whatever was decoded. Tunnels are reached from
//! every link type, `decode_ethernet` and `decode_raw` included.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pcap_capture::LinkType;

fuzz_target!(|input: &[u8]| {
    let Some((&pick, data)) = input.split_first() else {
        return;
    };
    let links = [
        LinkType::PPP,
        LinkType::PPP_HDLC,
        LinkType::C_HDLC,
        LinkType::NFLOG,
        LinkType::IEEE802_11,
        LinkType::IEEE802_11_RADIOTAP,
        LinkType::RAW_BSD,
    ];
    let link = links[usize::from(pick) % links.len()];
    pcap_rs_fuzz::decode_frame(link, data);
});
