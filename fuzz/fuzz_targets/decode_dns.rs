//! Arbitrary bytes as a DNS message: parse, iterate everything, render every name and rdata,
//! the summary and the JSON. Also as a DNS-over-TCP stream.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pcap_decode::dns::{self, DnsMessage};
use std::fmt::Write;

fuzz_target!(|data: &[u8]| {
    let mut text = String::new();
    if let Ok(msg) = DnsMessage::parse(data) {
        for q in msg.questions().flatten() {
            let _ = write!(text, "{} {}", q.name, dns::type_name(q.qtype));
            let _ = q.name.labels().count();
        }
        for r in msg.records().flatten() {
            let _ = write!(text, "{}", r.name);
            if let Ok(rd) = r.rdata() {
                let _ = write!(text, "{rd}");
            }
        }
        let _ = write!(text, "{}", msg.summary());
        let mut json = Vec::new();
        msg.write_json(&mut json);
        assert!(json.is_ascii());
    }
    let mut rest = data;
    while let Ok(dns::TcpFrame::Complete { consumed, .. }) = dns::parse_tcp(rest) {
        rest = &rest[consumed..];
    }
});
