//! Classic pcap reading over arbitrary bytes: never panic, memory bounded.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Give the reader a valid header half of the time so the fuzzer spends time on records.
    let mut input = Vec::with_capacity(data.len() + 24);
    if data.first().is_some_and(|b| b & 1 == 1) {
        input.extend_from_slice(&[
            0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 1, 0, 0,
            0,
        ]);
        input.extend_from_slice(data.get(1..).unwrap_or_default());
    } else {
        input.extend_from_slice(data);
    }
    if let Ok(mut reader) = pcap_capture::FileReader::from_reader(std::io::Cursor::new(input)) {
        let _ = reader.format();
        while let Ok(Some(p)) = reader.next_packet() {
            assert_eq!(p.caplen as usize, p.data.len());
        }
    }
});
