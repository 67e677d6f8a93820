//! One TCP payload as `parse_client_hello` and `looks_like_tls` see it (the per-packet
//! display path): never a panic; every fingerprint of a parsed hello can be computed.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = pcap_tls::looks_like_tls(data);
    if let Ok(hello) = pcap_tls::parse_client_hello(data) {
        let _ = (
            hello.ja3(),
            hello.ja4(true),
            hello.ja4(false),
            hello.ja3_string(),
        );
    }
});
