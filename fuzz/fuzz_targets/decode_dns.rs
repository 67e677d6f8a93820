//! Arbitrary bytes as a DNS message: parse, iterate everything, read every name label by
//! label and every rdata field, type names included. Also as a DNS-over-TCP stream.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pcap_decode::dns::{self, DnsMessage};
use std::fmt::Write;

fuzz_target!(|data: &[u8]| {
    let mut text = String::new();
    if let Ok(msg) = DnsMessage::parse(data) {
        for q in msg.questions().flatten() {
            let _ = write!(text, "{}", dns::type_name(q.qtype));
        }
        let _ = pcap_rs_fuzz::walk_dns(&msg);
    }
    let mut rest = data;
    while let Ok(dns::TcpFrame::Complete { consumed, .. }) = dns::parse_tcp(rest) {
        rest = &rest[consumed..];
    }
});
