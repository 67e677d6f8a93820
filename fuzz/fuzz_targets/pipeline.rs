//! The whole chain over arbitrary bytes read as a capture file: pcap/pcapng reading,
//! decoding (every decoded field read, as `capture` reads them), fragment and TCP reassembly,
//! HTTP and WebSocket decoding (content decoding on). Never a panic; every event is looked at.
#![no_main]

use std::convert::Infallible;
use std::fmt::Write as _;
use std::ops::ControlFlow;

use libfuzzer_sys::fuzz_target;
use pcap_analyzer::{Analyzer, AnalyzerConfig, Handler, Stream};
use pcap_capture::{FileReader, Packet};
use pcap_decode::Decoded;
use pcap_http_ws::HttpConfig;
use pcap_http_ws::HttpEvent;
use pcap_tcp_reassembly::Event;

/// Classic pcap header, little-endian, microseconds, snaplen 65535, Ethernet.
const PCAP_HEADER: [u8; 24] = [
    0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 1, 0, 0, 0,
];

#[derive(Default)]
struct TouchAll {
    text: String,
    sum: u64,
}

impl TouchAll {
    fn bytes(&mut self, b: &[u8]) {
        self.sum = b
            .iter()
            .fold(self.sum, |s, &x| s.wrapping_add(u64::from(x)));
    }
}

impl Handler for TouchAll {
    type Error = Infallible;

    fn packet(
        &mut self,
        frame: u64,
        packet: &Packet<'_>,
        decoded: &Decoded<'_>,
    ) -> ControlFlow<Infallible> {
        self.sum = self
            .sum
            .wrapping_add(frame)
            .wrapping_add(u64::from(packet.caplen))
            .wrapping_add(pcap_rs_fuzz::walk(decoded));
        ControlFlow::Continue(())
    }

    fn tcp(&mut self, event: &Event<'_>) -> ControlFlow<Infallible> {
        self.text.clear();
        let _ = write!(self.text, "{event:?}");
        ControlFlow::Continue(())
    }

    fn http(&mut self, stream: &Stream, event: &HttpEvent<'_>) -> ControlFlow<Infallible> {
        match event {
            // Large bodies: look at every byte without formatting megabytes.
            HttpEvent::Body { data, .. } | HttpEvent::Tunnel { data, .. } => self.bytes(data),
            _ => {
                self.text.clear();
                let _ = write!(self.text, "{stream:?} {event:?}");
            }
        }
        ControlFlow::Continue(())
    }
}

fuzz_target!(|data: &[u8]| {
    // Odd first byte: prepend a valid pcap header so the fuzzer spends its time on packets.
    let mut input = Vec::with_capacity(data.len() + PCAP_HEADER.len());
    if data.first().is_some_and(|b| b & 1 == 1) {
        input.extend_from_slice(&PCAP_HEADER);
        input.extend_from_slice(data.get(1..).unwrap_or_default());
    } else {
        input.extend_from_slice(data);
    }
    let Ok(mut reader) = FileReader::from_reader(std::io::Cursor::new(input)) else {
        return;
    };
    let mut config = AnalyzerConfig::with_http(HttpConfig::default().with_decode_content(true));
    // Second bit of the first byte: an HTTP memory budget small enough for a few packets to
    // exceed, so that sessions are abandoned mid-message.
    if data.first().is_some_and(|b| b & 2 == 2) {
        config.protocol_memory = 4096;
    }
    let budget = config.protocol_memory;
    let mut analyzer = Analyzer::new(config);
    let mut handler = TouchAll::default();
    while let Ok(Some(packet)) = reader.next_packet() {
        let _ = analyzer.push(&packet, &mut handler);
        // The session that takes the total over the budget is abandoned at once.
        assert!(analyzer.protocol_memory() <= budget);
    }
    let _ = analyzer.finish(&mut handler);
    assert_eq!(analyzer.protocol_memory(), 0);
    assert_eq!(analyzer.reassembler().session_count(), 0);
    assert_eq!(analyzer.reassembler().buffered_bytes(), 0);
});
