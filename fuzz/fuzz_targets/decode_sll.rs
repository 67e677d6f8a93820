//! Fuzz target: pcap_decode::decode_packet on LinkType::LINUX_SLL frames, plus the summary and
//! JSON writers over whatever was decoded.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pcap_capture::LinkType;

fuzz_target!(|data: &[u8]| pcap_rs_fuzz::decode_frame(LinkType::LINUX_SLL, data));
