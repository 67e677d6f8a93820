//! pcapng reading over arbitrary bytes (after a valid section header and interface, so the
//! fuzzer explores blocks): never panic, memory bounded.
#![no_main]

use libfuzzer_sys::fuzz_target;

/// Little-endian section header (28 bytes) and Ethernet interface with if_tsresol = 9.
const PREFIX: [u8; 60] = [
    0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a, 1, 0, 0, 0, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 28, 0, 0, 0, //
    1, 0, 0, 0, 32, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 9, 0, 1, 0, 9, 0, 0, 0, 0, 0, 0, 0, 32, 0, 0,
    0,
];

fuzz_target!(|data: &[u8]| {
    let mut input = Vec::with_capacity(data.len() + PREFIX.len());
    if data.first().is_some_and(|b| b & 1 == 1) {
        input.extend_from_slice(&PREFIX);
        input.extend_from_slice(data.get(1..).unwrap_or_default());
    } else {
        input.extend_from_slice(data);
    }
    if let Ok(mut reader) = pcap_capture::FileReader::from_reader(std::io::Cursor::new(input)) {
        let _ = reader.link_type();
        while let Ok(Some(p)) = reader.next_packet() {
            assert_eq!(p.caplen as usize, p.data.len());
            let _ = reader.packet_comment();
        }
    }
});
