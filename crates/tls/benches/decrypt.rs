//! The AEADs TLS decryption leans on, as the RustCrypto crates run them on this machine:
//! opening one full TLS record (16 KiB of plaintext plus the content type byte) in place,
//! the way `pcap-tls` does (ciphertext copied into a reused buffer, then opened there).
//! These are the per-core ceilings for decrypting a capture; docs/performance.md compares
//! them with `http-trace` on the TLS benchmark captures.
#![allow(clippy::unwrap_used, missing_docs)]

use std::hint::black_box;

use aes_gcm::aead::{AeadInPlace, KeyInit};
use aes_gcm::{Aes128Gcm, Aes256Gcm};
use chacha20poly1305::ChaCha20Poly1305;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const RECORD: usize = 16 * 1024 + 1;

fn open<A: AeadInPlace + KeyInit>(c: &mut Criterion, name: &str, key: &[u8]) {
    let aead = A::new_from_slice(key).unwrap();
    let nonce = aes_gcm::aead::Nonce::<A>::from_slice(&[7u8; 12]);
    let aad = [23u8, 3, 3, 0x40, 0x11];
    let mut sealed = vec![0x5au8; RECORD];
    let tag = aead
        .encrypt_in_place_detached(nonce, &aad, &mut sealed)
        .unwrap();
    sealed.extend_from_slice(&tag);
    let mut buf = Vec::with_capacity(sealed.len());
    let mut g = c.benchmark_group("open a 16 KiB record");
    g.throughput(Throughput::Bytes(RECORD as u64));
    g.bench_function(name, |b| {
        b.iter(|| {
            buf.clear();
            buf.extend_from_slice(black_box(&sealed));
            let (body, tag) = buf.split_at_mut(RECORD);
            let tag = aes_gcm::aead::Tag::<A>::from_slice(tag);
            aead.decrypt_in_place_detached(nonce, &aad, body, tag)
                .unwrap();
            black_box(body[0])
        })
    });
    g.finish();
}

fn aeads(c: &mut Criterion) {
    open::<Aes128Gcm>(c, "AES-128-GCM", &[1; 16]);
    open::<Aes256Gcm>(c, "AES-256-GCM", &[1; 32]);
    open::<ChaCha20Poly1305>(c, "ChaCha20-Poly1305", &[1; 32]);
}

criterion_group!(benches, aeads);
criterion_main!(benches);
