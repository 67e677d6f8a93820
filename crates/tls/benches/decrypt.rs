//! TLS 1.3 decryption throughput of a whole session (record framing, AEAD, events), fed in
//! 1448-byte (MSS) chunks, next to the AEADs alone on the same 16 KiB records: `ring_*` is
//! what `pcap-tls` uses (the difference is what the session layer costs), `crate_*` the
//! RustCrypto crates it used before.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::large_enum_variant
)]

use std::hint::black_box;
use std::sync::Arc;

use aes_gcm::aead::generic_array::GenericArray;
use aes_gcm::aead::{AeadInPlace, KeyInit};
use aes_gcm::{Aes128Gcm, Aes256Gcm};
use chacha20poly1305::ChaCha20Poly1305;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use pcap_tls::{Direction, KeyLog, TlsConfig, TlsEvent, TlsSession};

const RECORD: usize = 16 * 1024;
const RECORDS: usize = 256;
const CR: [u8; 32] = [0x11; 32];

fn expand_label(sha384: bool, secret: &[u8], label: &str, len: usize) -> Vec<u8> {
    let mut info = (len as u16).to_be_bytes().to_vec();
    info.push(6 + label.len() as u8);
    info.extend_from_slice(b"tls13 ");
    info.extend_from_slice(label.as_bytes());
    info.push(0);
    let mut out = vec![0; len];
    if sha384 {
        hkdf::Hkdf::<sha2::Sha384>::from_prk(secret)
            .unwrap()
            .expand(&info, &mut out)
            .unwrap();
    } else {
        hkdf::Hkdf::<sha2::Sha256>::from_prk(secret)
            .unwrap()
            .expand(&info, &mut out)
            .unwrap();
    }
    out
}

#[derive(Clone, Copy)]
enum Suite {
    Aes128Gcm,
    Aes256Gcm,
    ChaCha20,
}

impl Suite {
    fn id(self) -> u16 {
        match self {
            Suite::Aes128Gcm => 0x1301,
            Suite::Aes256Gcm => 0x1302,
            Suite::ChaCha20 => 0x1303,
        }
    }
    fn sha384(self) -> bool {
        matches!(self, Suite::Aes256Gcm)
    }
    fn key_len(self) -> usize {
        match self {
            Suite::Aes128Gcm => 16,
            _ => 32,
        }
    }
    fn name(self) -> &'static str {
        match self {
            Suite::Aes128Gcm => "aes128gcm",
            Suite::Aes256Gcm => "aes256gcm",
            Suite::ChaCha20 => "chacha20",
        }
    }
    fn cipher(self, key: &[u8]) -> Aead {
        match self {
            Suite::Aes128Gcm => Aead::A128(Aes128Gcm::new_from_slice(key).unwrap()),
            Suite::Aes256Gcm => Aead::A256(Aes256Gcm::new_from_slice(key).unwrap()),
            Suite::ChaCha20 => Aead::ChaCha(ChaCha20Poly1305::new_from_slice(key).unwrap()),
        }
    }
}

enum Aead {
    A128(Aes128Gcm),
    A256(Aes256Gcm),
    ChaCha(ChaCha20Poly1305),
}

impl Aead {
    /// Encrypts `buf` in place, returning the tag: the same work as decrypting (CTR or
    /// ChaCha20 over the data, GHASH or Poly1305 over it), which a wrong tag would cut short.
    fn seal(&self, nonce: &[u8; 12], aad: &[u8], buf: &mut [u8]) -> [u8; 16] {
        let n = GenericArray::from_slice(nonce);
        let tag = match self {
            Aead::A128(c) => c.encrypt_in_place_detached(n, aad, buf),
            Aead::A256(c) => c.encrypt_in_place_detached(n, aad, buf),
            Aead::ChaCha(c) => c.encrypt_in_place_detached(n, aad, buf),
        };
        tag.unwrap().into()
    }
}

struct Sealer {
    suite: Suite,
    key: Vec<u8>,
    iv: [u8; 12],
    seq: u64,
}

impl Sealer {
    fn new(suite: Suite, secret: &[u8]) -> Sealer {
        Sealer {
            suite,
            key: expand_label(suite.sha384(), secret, "key", suite.key_len()),
            iv: expand_label(suite.sha384(), secret, "iv", 12)
                .try_into()
                .unwrap(),
            seq: 0,
        }
    }

    fn record(&mut self, ty: u8, data: &[u8]) -> Vec<u8> {
        let mut buf = data.to_vec();
        buf.push(ty);
        let len = (buf.len() + 16) as u16;
        let header = [23, 3, 3, (len >> 8) as u8, len as u8];
        let mut nonce = self.iv;
        for (n, s) in nonce.iter_mut().skip(4).zip(self.seq.to_be_bytes()) {
            *n ^= s;
        }
        self.seq += 1;
        let tag = self.suite.cipher(&self.key).seal(&nonce, &header, &mut buf);
        let mut r = header.to_vec();
        r.extend_from_slice(&buf);
        r.extend_from_slice(&tag);
        r
    }
}

fn plain(ty: u8, body: &[u8]) -> Vec<u8> {
    let mut r = vec![ty, 3, 3];
    r.extend_from_slice(&(body.len() as u16).to_be_bytes());
    r.extend_from_slice(body);
    r
}

fn hs(ty: u8, body: &[u8]) -> Vec<u8> {
    let n = body.len() as u32;
    let mut m = vec![ty, (n >> 16) as u8, (n >> 8) as u8, n as u8];
    m.extend_from_slice(body);
    m
}

/// Key log, client bytes and server bytes of a session carrying RECORDS full records of
/// application data from the server.
fn session(suite: Suite) -> (KeyLog, Vec<u8>, Vec<u8>) {
    let hash_len = if suite.sha384() { 48 } else { 32 };
    let secrets: Vec<Vec<u8>> = (1..=4u8).map(|b| vec![b; hash_len]).collect();
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    let mut text = String::new();
    for (label, s) in [
        "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
        "SERVER_HANDSHAKE_TRAFFIC_SECRET",
        "CLIENT_TRAFFIC_SECRET_0",
        "SERVER_TRAFFIC_SECRET_0",
    ]
    .iter()
    .zip(&secrets)
    {
        text.push_str(&format!("{label} {} {}\n", hex(&CR), hex(s)));
    }
    let mut keys = KeyLog::new();
    keys.add(text.as_bytes());

    let mut ch = vec![3, 3];
    ch.extend_from_slice(&CR);
    ch.extend_from_slice(&[0, 0, 2]);
    ch.extend_from_slice(&suite.id().to_be_bytes());
    ch.extend_from_slice(&[1, 0, 0, 7, 0, 43, 0, 3, 2, 3, 4]);
    let mut sh = vec![3, 3];
    sh.extend_from_slice(&[0x22; 32]);
    sh.push(0);
    sh.extend_from_slice(&suite.id().to_be_bytes());
    sh.extend_from_slice(&[0, 0, 6, 0, 43, 0, 2, 3, 4]);
    let fin = hs(20, &vec![0xaa; hash_len]);

    let mut client = plain(22, &hs(1, &ch));
    client.extend_from_slice(&Sealer::new(suite, &secrets[0]).record(22, &fin));
    let mut server = plain(22, &hs(2, &sh));
    server.extend_from_slice(&Sealer::new(suite, &secrets[1]).record(22, &fin));
    let mut app = Sealer::new(suite, &secrets[3]);
    let data = vec![b'x'; RECORD];
    for _ in 0..RECORDS {
        server.extend_from_slice(&app.record(23, &data));
    }
    (keys, client, server)
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("tls13_decrypt");
    g.throughput(Throughput::Bytes((RECORD * RECORDS) as u64));
    g.sample_size(20);
    for suite in [Suite::Aes128Gcm, Suite::Aes256Gcm, Suite::ChaCha20] {
        let (keys, client, server) = session(suite);
        let keys = Arc::new(keys);
        g.bench_function(format!("session_{}", suite.name()), |b| {
            b.iter(|| {
                let mut s = TlsSession::new(TlsConfig::default(), Some(keys.clone()));
                let mut plain = 0usize;
                let mut sink = |ev: TlsEvent<'_>| {
                    if let TlsEvent::Plaintext { data, .. } = ev {
                        plain += data.len();
                    }
                };
                s.data(Direction::ClientToServer, 0, &client, &mut sink);
                for chunk in server.chunks(1448) {
                    s.data(Direction::ServerToClient, 1, chunk, &mut sink);
                }
                assert_eq!(plain, RECORD * RECORDS);
                black_box(plain)
            })
        });
        // ring alone (what the session uses) on the same amount of data, 16 KiB at a time.
        let alg = match suite {
            Suite::Aes128Gcm => &ring::aead::AES_128_GCM,
            Suite::Aes256Gcm => &ring::aead::AES_256_GCM,
            Suite::ChaCha20 => &ring::aead::CHACHA20_POLY1305,
        };
        let key = ring::aead::LessSafeKey::new(
            ring::aead::UnboundKey::new(alg, &vec![7u8; suite.key_len()]).unwrap(),
        );
        let mut buf = vec![b'x'; RECORD];
        g.bench_function(format!("ring_{}", suite.name()), |b| {
            b.iter(|| {
                let mut t = None;
                for i in 0..RECORDS {
                    let mut nonce = [0u8; 12];
                    nonce[4..].copy_from_slice(&(i as u64).to_be_bytes());
                    let nonce = ring::aead::Nonce::assume_unique_for_key(nonce);
                    let aad = ring::aead::Aad::from([0u8; 5]);
                    t = Some(
                        key.seal_in_place_separate_tag(nonce, aad, &mut buf)
                            .unwrap(),
                    );
                }
                black_box(t.map(|t| t.as_ref()[0]))
            })
        });
        // The RustCrypto crate alone, the same way.
        let aead = suite.cipher(&vec![7u8; suite.key_len()]);
        let mut buf = vec![b'x'; RECORD];
        g.bench_function(format!("crate_{}", suite.name()), |b| {
            b.iter(|| {
                let mut t = [0u8; 16];
                for i in 0..RECORDS {
                    let mut nonce = [0u8; 12];
                    nonce[4..].copy_from_slice(&(i as u64).to_be_bytes());
                    t = aead.seal(&nonce, &[0; 5], &mut buf);
                }
                black_box(t)
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
