//! Arbitrary bytes split into two directions and chunks, with gaps and ends, through one
//! TlsSession that has keys for an all-zero and an all-0x11 client random (so key setup and
//! the decryption paths are reached): never a panic, memory bounded by the record,
//! handshake and held-records caps.
#![no_main]

use std::sync::{Arc, OnceLock};

use libfuzzer_sys::fuzz_target;
use pcap_tls::{Direction, KeyLog, KeyLookup, TlsConfig, TlsEvent, TlsSession};

fn keys() -> Arc<dyn KeyLookup> {
    static KEYS: OnceLock<Arc<dyn KeyLookup>> = OnceLock::new();
    KEYS.get_or_init(|| {
        let mut log = KeyLog::new();
        for random in ["00".repeat(32), "11".repeat(32)] {
            let mut text = format!("CLIENT_RANDOM {random} {}\n", "33".repeat(48));
            for label in [
                "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
                "SERVER_HANDSHAKE_TRAFFIC_SECRET",
                "CLIENT_TRAFFIC_SECRET_0",
                "SERVER_TRAFFIC_SECRET_0",
                "CLIENT_EARLY_TRAFFIC_SECRET",
            ] {
                text.push_str(&format!("{label} {random} {}\n", "44".repeat(32)));
            }
            log.add(text.as_bytes());
        }
        Arc::new(log)
    })
    .clone()
}

fuzz_target!(|data: &[u8]| {
    // Half of the inputs hold encrypted records while waiting for keys (never found for a
    // client random other than the two logged).
    let held = if data.len() % 2 == 0 { 8192 } else { 0 };
    let config = TlsConfig::default()
        .with_max_handshake_message(4096)
        .with_max_held_for_keys(held);
    let mut session = TlsSession::new(config, Some(keys()));
    let mut sum = 0usize;
    let mut sink = |ev: TlsEvent<'_>| {
        sum = sum.wrapping_add(match ev {
            TlsEvent::ClientHello { hello, .. } => hello.ja3().len() + hello.ja4(true).len(),
            TlsEvent::ServerHello { hello, .. } => hello.ja3s().len(),
            TlsEvent::Certificate { chain, .. } => chain.len(),
            TlsEvent::Plaintext { data, .. } => data.len(),
            TlsEvent::Error { error, .. } => error.to_string().len(),
            TlsEvent::Summary(s) => s.sni.as_ref().map_or(0, String::len),
            _ => 1,
        });
    };
    // Control byte per chunk: bit 7 = direction, bits 0..5 = chunk length, 0x40 = gap/end.
    let mut rest = data;
    while let Some((&ctl, tail)) = rest.split_first() {
        let dir = if ctl & 0x80 == 0 {
            Direction::ClientToServer
        } else {
            Direction::ServerToClient
        };
        let n = usize::from(ctl & 0x3f).min(tail.len());
        let (chunk, next) = tail.split_at(n);
        if ctl & 0x40 != 0 {
            if n % 2 == 0 {
                session.gap(dir, 0, n as u64, &mut sink);
            } else {
                session.end(Some(dir), 0, &mut sink);
            }
        } else {
            session.data(dir, 0, chunk, &mut sink);
        }
        rest = next;
        assert!(session.memory() < 256 * 1024);
    }
    session.end(None, 0, &mut sink);
    let _ = session.is_tls();
});
