//! Arbitrary header blocks through one HPACK decoder (the table carried from block to
//! block, as on a connection): never a panic, the table within its limit. The first byte
//! picks the SETTINGS limit and whether the decoder starts mid-stream.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pcap_http2::hpack::{Decoder, HeaderList};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, data)) = data.split_first() else {
        return;
    };
    let cap = 4096;
    let mut d = if mode & 1 == 0 {
        Decoder::new(cap)
    } else {
        Decoder::midstream(cap)
    };
    d.set_limit(usize::from(mode) * 32);
    let mut list = HeaderList::new();
    // Blocks separated by 0xfe 0xfe (a sequence HPACK never needs at a block's start).
    for block in data.split(|&b| b == 0xfe) {
        list.clear();
        if d.decode(block, &mut list, 16 * 1024).is_ok() {
            for (n, v) in list.iter() {
                let _ = (n.len(), v.len());
            }
        }
        assert!(d.table_size() <= cap);
    }
});
