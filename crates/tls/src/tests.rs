//! Whole sessions written here with the same RustCrypto primitives (encrypting side) and
//! secrets of our choosing: what the corpus does not hold (KeyUpdate, 0-RTT, TLS 1.2 and 1.0
//! MAC-then-encrypt CBC, damaged records, gaps), and the property that any split of the
//! same bytes into `data` calls gives the same events.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use aes::Aes128;
use aes_gcm::Aes128Gcm;
use aes_gcm::aead::generic_array::GenericArray;
use aes_gcm::aead::{AeadInPlace, KeyInit};
use cbc::cipher::{BlockEncryptMut, KeyIvInit, block_padding::NoPadding};
use hmac::{Hmac, Mac};
use proptest::prelude::*;

use crate::keyschedule::{HashAlg, Prf, expand_label, prf};
use crate::session::{MAX_WAIT_BYTES, MAX_WAIT_RECORDS};
use crate::{Direction, KeyLog, KeyLookup, SecretLabel, TlsConfig, TlsEvent, TlsSession};

const C: Direction = Direction::ClientToServer;
const S: Direction = Direction::ServerToClient;
const CR: [u8; 32] = [0x11; 32];
const SR: [u8; 32] = [0x22; 32];

fn u16b(v: u16) -> [u8; 2] {
    v.to_be_bytes()
}

fn record(ty: u8, version: u16, body: &[u8]) -> Vec<u8> {
    let mut r = vec![ty];
    r.extend_from_slice(&u16b(version));
    r.extend_from_slice(&u16b(body.len() as u16));
    r.extend_from_slice(body);
    r
}

fn hs(ty: u8, body: &[u8]) -> Vec<u8> {
    let len = body.len() as u32;
    let mut m = vec![ty, (len >> 16) as u8, (len >> 8) as u8, len as u8];
    m.extend_from_slice(body);
    m
}

fn ext(ty: u16, body: &[u8]) -> Vec<u8> {
    let mut e = u16b(ty).to_vec();
    e.extend_from_slice(&u16b(body.len() as u16));
    e.extend_from_slice(body);
    e
}

fn with_len16(body: &[u8]) -> Vec<u8> {
    let mut v = u16b(body.len() as u16).to_vec();
    v.extend_from_slice(body);
    v
}

fn client_hello(ciphers: &[u16], exts: &[Vec<u8>]) -> Vec<u8> {
    let mut b = u16b(0x0303).to_vec();
    b.extend_from_slice(&CR);
    b.push(0);
    let cs: Vec<u8> = ciphers.iter().flat_map(|c| u16b(*c)).collect();
    b.extend_from_slice(&with_len16(&cs));
    b.extend_from_slice(&[1, 0]);
    b.extend_from_slice(&with_len16(&exts.concat()));
    hs(1, &b)
}

fn server_hello(cipher: u16, exts: &[Vec<u8>]) -> Vec<u8> {
    server_hello_v(0x0303, cipher, exts)
}

fn server_hello_v(version: u16, cipher: u16, exts: &[Vec<u8>]) -> Vec<u8> {
    let mut b = u16b(version).to_vec();
    b.extend_from_slice(&SR);
    b.push(0);
    b.extend_from_slice(&u16b(cipher));
    b.push(0);
    b.extend_from_slice(&with_len16(&exts.concat()));
    hs(2, &b)
}

fn sni(name: &str) -> Vec<u8> {
    let mut entry = vec![0];
    entry.extend_from_slice(&with_len16(name.as_bytes()));
    ext(0, &with_len16(&entry))
}

fn alpn(p: &str) -> Vec<u8> {
    let mut entry = vec![p.len() as u8];
    entry.extend_from_slice(p.as_bytes());
    ext(16, &with_len16(&entry))
}

fn secret(b: u8) -> Vec<u8> {
    vec![b; 32]
}

fn hex(b: &[u8]) -> String {
    crate::keylog::hex(b)
}

/// TLS 1.3 AES-128-GCM record sealing from a traffic secret.
struct Seal13 {
    aead: Aes128Gcm,
    iv: [u8; 12],
    seq: u64,
    secret: Vec<u8>,
}

impl Seal13 {
    fn new(secret: &[u8]) -> Seal13 {
        let key = expand_label(HashAlg::Sha256, secret, "key", b"", 16).unwrap();
        let iv = expand_label(HashAlg::Sha256, secret, "iv", b"", 12).unwrap();
        Seal13 {
            aead: Aes128Gcm::new_from_slice(&key).unwrap(),
            iv: iv.try_into().unwrap(),
            seq: 0,
            secret: secret.to_vec(),
        }
    }

    fn seal(&mut self, ty: u8, data: &[u8]) -> Vec<u8> {
        let mut buf = data.to_vec();
        buf.push(ty);
        buf.extend_from_slice(&[0, 0, 0]); // padding
        let header = [23, 3, 3, 0, 0];
        let len = (buf.len() + 16) as u16;
        let header = [header[0], header[1], header[2], (len >> 8) as u8, len as u8];
        let mut nonce = self.iv;
        for (n, s) in nonce.iter_mut().skip(4).zip(self.seq.to_be_bytes()) {
            *n ^= s;
        }
        self.seq += 1;
        let tag = self
            .aead
            .encrypt_in_place_detached(GenericArray::from_slice(&nonce), &header, &mut buf)
            .unwrap();
        let mut r = header.to_vec();
        r.extend_from_slice(&buf);
        r.extend_from_slice(&tag);
        r
    }

    fn key_update(&mut self) {
        let next = expand_label(HashAlg::Sha256, &self.secret, "traffic upd", b"", 32).unwrap();
        *self = Seal13::new(&next);
    }
}

/// Events as text lines (Plaintext with its bytes escaped).
fn line(ev: &TlsEvent<'_>) -> String {
    match ev {
        TlsEvent::ClientHello { hello, .. } => format!("client_hello sni={:?}", hello.sni),
        TlsEvent::ServerHello { hello, .. } => {
            format!(
                "server_hello {:#06x} retry={}",
                hello.version, hello.hello_retry
            )
        }
        TlsEvent::Certificate { dir, chain, .. } => format!("certificate {dir:?} {}", chain.len()),
        TlsEvent::Alert {
            dir,
            level,
            description,
            encrypted,
            ..
        } => format!("alert {dir:?} {level} {description} encrypted={encrypted}"),
        TlsEvent::Summary(s) => format!(
            "summary version={:?} alpn={:?} resumed={} decrypted={} error={:?}",
            s.version, s.alpn, s.resumed, s.decrypted, s.error
        ),
        TlsEvent::Plaintext { dir, data, .. } => {
            format!("plaintext {dir:?} {}", data.escape_ascii())
        }
        TlsEvent::Error { dir, error, .. } => format!("error {dir:?} {error}"),
        TlsEvent::RolesSwapped { .. } => "roles swapped".to_owned(),
    }
}

type Steps = Vec<(Direction, Vec<u8>)>;

fn run(keys: &KeyLog, steps: &Steps) -> Vec<String> {
    run_split(keys, steps, &[])
}

/// Runs `steps`, each cut at the (wrapped) offsets in `cuts` into several `data` calls.
fn run_split(keys: &KeyLog, steps: &Steps, cuts: &[usize]) -> Vec<String> {
    let mut s = TlsSession::new(TlsConfig::default(), Some(Arc::new(keys.clone())));
    let mut out = Vec::new();
    let mut sink = |ev: TlsEvent<'_>| out.push(line(&ev));
    for (i, (dir, bytes)) in steps.iter().enumerate() {
        let mut points: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
        points.push(0);
        points.push(bytes.len());
        points.sort_unstable();
        points.dedup();
        for w in points.windows(2) {
            s.data(*dir, i as i64, &bytes[w[0]..w[1]], &mut sink);
        }
    }
    s.end(None, steps.len() as i64, &mut sink);
    out
}

fn tls13_keys(with_early: bool) -> KeyLog {
    let mut text = String::new();
    for (label, b) in [
        ("CLIENT_HANDSHAKE_TRAFFIC_SECRET", 1),
        ("SERVER_HANDSHAKE_TRAFFIC_SECRET", 2),
        ("CLIENT_TRAFFIC_SECRET_0", 3),
        ("SERVER_TRAFFIC_SECRET_0", 4),
    ] {
        text.push_str(&format!("{label} {} {}\n", hex(&CR), hex(&secret(b))));
    }
    if with_early {
        text.push_str(&format!(
            "CLIENT_EARLY_TRAFFIC_SECRET {} {}\n",
            hex(&CR),
            hex(&secret(5))
        ));
    }
    let mut log = KeyLog::new();
    assert!(log.add(text.as_bytes()).is_empty());
    log
}

/// A TLS 1.3 session: HelloRetry-free 1-RTT handshake with middlebox ChangeCipherSpecs,
/// application data both ways, a client KeyUpdate, data under the new key, an alert.
fn tls13_session() -> Steps {
    let sv_c = ext(43, &[2, 3, 4]);
    let sv_s = ext(43, &u16b(0x0304));
    let mut chs = Seal13::new(&secret(1));
    let mut shs = Seal13::new(&secret(2));
    let mut cap = Seal13::new(&secret(3));
    let mut sap = Seal13::new(&secret(4));
    let ee = hs(8, &with_len16(&alpn("h2")));
    let cert = hs(11, &[0, 0, 0, 0]);
    let fin = hs(20, &[0xaa; 32]);
    let mut server = record(22, 0x0303, &server_hello(0x1301, &[sv_s]));
    server.extend_from_slice(&record(20, 0x0303, &[1]));
    server.extend_from_slice(&shs.seal(22, &[ee, cert, fin.clone()].concat()));
    server.extend_from_slice(&sap.seal(23, b"half-rtt"));
    let mut client_fin = record(20, 0x0303, &[1]);
    client_fin.extend_from_slice(&chs.seal(22, &fin));
    let mut client_app = cap.seal(23, b"GET / HTTP/1.1\r\n\r\n");
    client_app.extend_from_slice(&cap.seal(22, &hs(24, &[0])));
    cap.key_update();
    client_app.extend_from_slice(&cap.seal(23, b"after update"));
    vec![
        (
            C,
            record(
                22,
                0x0301,
                &client_hello(&[0x1301], &[sni("example.com"), sv_c]),
            ),
        ),
        (S, server),
        (C, client_fin),
        (C, client_app),
        (S, sap.seal(23, b"HTTP/1.1 200 OK\r\n\r\n")),
        (S, sap.seal(21, &[1, 0])),
    ]
}

#[test]
fn tls13_session_with_key_update() {
    let got = run(&tls13_keys(false), &tls13_session());
    assert_eq!(
        got,
        [
            "client_hello sni=Some(\"example.com\")",
            "server_hello 0x0304 retry=false",
            "certificate ServerToClient 0",
            // Data after the server's Finished: the handshake is done as far as it matters.
            "summary version=Some(772) alpn=Some(\"h2\") resumed=false decrypted=true error=None",
            "plaintext ServerToClient half-rtt",
            "plaintext ClientToServer GET / HTTP/1.1\\r\\n\\r\\n",
            "plaintext ClientToServer after update",
            "plaintext ServerToClient HTTP/1.1 200 OK\\r\\n\\r\\n",
            "alert ServerToClient 1 0 encrypted=true",
        ]
    );
}

#[test]
fn tls13_without_keys_sums_up_after_server_hello() {
    let got = run(&KeyLog::new(), &tls13_session());
    assert_eq!(
        got,
        [
            "client_hello sni=Some(\"example.com\")",
            "server_hello 0x0304 retry=false",
            "summary version=Some(772) alpn=None resumed=false decrypted=false error=None",
        ]
    );
}

#[test]
fn tls13_damaged_record_is_fatal() {
    let mut steps = tls13_session();
    // Flip a ciphertext byte of the client's first application record.
    let app = &mut steps[3].1;
    app[10] ^= 1;
    let got = run(&tls13_keys(false), &steps);
    assert_eq!(
        &got[3..],
        [
            "summary version=Some(772) alpn=Some(\"h2\") resumed=false decrypted=true error=None",
            "plaintext ServerToClient half-rtt",
            // ClientHello, ChangeCipherSpec, Finished, then the damaged one.
            "error Some(ClientToServer) bad record MAC at client record 4",
        ]
    );
}

#[test]
fn tls13_wrong_key_fails_at_first_record() {
    let mut keys = tls13_keys(false);
    keys.add(
        format!(
            "SERVER_HANDSHAKE_TRAFFIC_SECRET {} {}\n",
            hex(&CR),
            hex(&secret(9))
        )
        .as_bytes(),
    );
    let got = run(&keys, &tls13_session());
    assert_eq!(
        &got[2..],
        [
            "error Some(ServerToClient) bad record MAC at server record 3",
            "summary version=Some(772) alpn=None resumed=false decrypted=false \
             error=Some(\"bad record MAC at server record 3\")",
        ]
    );
}

#[test]
fn gap_in_encrypted_data_stops_that_direction() {
    let steps = tls13_session();
    let mut s = TlsSession::new(TlsConfig::default(), Some(Arc::new(tls13_keys(false))));
    let mut out = Vec::new();
    let mut sink = |ev: TlsEvent<'_>| out.push(line(&ev));
    for (i, (dir, bytes)) in steps.iter().enumerate() {
        if i == 3 {
            s.gap(*dir, 3, 100, &mut sink);
            continue;
        }
        s.data(*dir, i as i64, bytes, &mut sink);
    }
    s.end(None, 9, &mut sink);
    assert!(
        out.contains(
            &"error Some(ClientToServer) 100 bytes lost in encrypted data after client record 3"
                .to_owned()
        ),
        "{out:#?}"
    );
    // The server direction goes on.
    assert!(out.contains(&"plaintext ServerToClient HTTP/1.1 200 OK\\r\\n\\r\\n".to_owned()));
}

#[test]
fn tls13_early_data() {
    let sv_c = ext(43, &[2, 3, 4]);
    let sv_s = ext(43, &u16b(0x0304));
    let psk_c = ext(41, &[0, 0]);
    let psk_s = ext(41, &[0, 0]);
    let mut early = Seal13::new(&secret(5));
    let mut chs = Seal13::new(&secret(1));
    let mut shs = Seal13::new(&secret(2));
    let mut cap = Seal13::new(&secret(3));
    let fin = hs(20, &[0xaa; 32]);
    let mut client = record(
        22,
        0x0301,
        &client_hello(&[0x1302, 0x1301], &[sv_c, ext(42, &[]), psk_c]),
    );
    client.extend_from_slice(&record(20, 0x0303, &[1]));
    client.extend_from_slice(&early.seal(23, b"early GET"));
    let mut server = record(22, 0x0303, &server_hello(0x1301, &[sv_s, psk_s]));
    server.extend_from_slice(&shs.seal(
        22,
        &[hs(8, &with_len16(&ext(42, &[]))), fin.clone()].concat(),
    ));
    let mut client2 = early.seal(22, &hs(5, &[]));
    client2.extend_from_slice(&chs.seal(22, &fin));
    client2.extend_from_slice(&cap.seal(23, b"late GET"));
    let steps = vec![(C, client), (S, server), (C, client2)];
    let got = run(&tls13_keys(true), &steps);
    assert_eq!(
        got,
        [
            "client_hello sni=None",
            "plaintext ClientToServer early GET",
            "server_hello 0x0304 retry=false",
            "summary version=Some(772) alpn=None resumed=true decrypted=true error=None",
            "plaintext ClientToServer late GET",
        ]
    );
    // Without the early secret the 0-RTT record is skipped, the rest decrypts.
    let got = run(&tls13_keys(false), &steps);
    assert_eq!(
        got,
        [
            "client_hello sni=None",
            "server_hello 0x0304 retry=false",
            "summary version=Some(772) alpn=None resumed=true decrypted=true error=None",
            "plaintext ClientToServer late GET",
        ]
    );
}

/// TLS 1.0-1.2 CBC + HMAC sealing, MAC-then-encrypt.
struct SealCbc {
    key: Vec<u8>,
    mac_key: Vec<u8>,
    version: u16,
    /// TLS 1.0: the chained IV.
    chained: Option<[u8; 16]>,
    seq: u64,
}

impl SealCbc {
    fn seal(&mut self, ty: u8, data: &[u8]) -> Vec<u8> {
        let mut header = self.seq.to_be_bytes().to_vec();
        header.push(ty);
        header.extend_from_slice(&u16b(self.version));
        header.extend_from_slice(&u16b(data.len() as u16));
        self.seq += 1;
        let mac = if self.mac_key.len() == 20 {
            let mut m = <Hmac<sha1::Sha1> as Mac>::new_from_slice(&self.mac_key).unwrap();
            m.update(&header);
            m.update(data);
            m.finalize().into_bytes().to_vec()
        } else {
            let mut m = <Hmac<sha2::Sha256> as Mac>::new_from_slice(&self.mac_key).unwrap();
            m.update(&header);
            m.update(data);
            m.finalize().into_bytes().to_vec()
        };
        let mut p = data.to_vec();
        p.extend_from_slice(&mac);
        let pad = 15 - (p.len() % 16);
        p.extend(std::iter::repeat_n(pad as u8, pad + 1));
        let iv = self.chained.unwrap_or([0x5a; 16]);
        let n = p.len();
        cbc::Encryptor::<Aes128>::new_from_slices(&self.key, &iv)
            .unwrap()
            .encrypt_padded_mut::<NoPadding>(&mut p, n)
            .unwrap();
        let mut body = Vec::new();
        match &mut self.chained {
            Some(c) => *c = p[p.len() - 16..].try_into().unwrap(),
            None => body.extend_from_slice(&iv),
        }
        body.extend_from_slice(&p);
        record(ty, self.version, &body)
    }
}

/// A TLS 1.2 (or 1.0) full handshake with a CBC suite, MAC-then-encrypt.
fn tls12_cbc_session(version: u16, suite: u16, mac_len: usize) -> (KeyLog, Steps) {
    let master = [0x33u8; 48];
    let kind = if version == 0x0303 {
        Prf::Tls12(HashAlg::Sha256)
    } else {
        Prf::Md5Sha1
    };
    let iv_len = if version == 0x0301 { 16 } else { 0 };
    let seed = [SR, CR].concat();
    let block = prf(
        kind,
        &master,
        b"key expansion",
        &seed,
        2 * (mac_len + 16 + iv_len),
    );
    let part = |i: usize, n: usize| block[i..i + n].to_vec();
    let (cm, sm) = (part(0, mac_len), part(mac_len, mac_len));
    let (ck, sk) = (part(2 * mac_len, 16), part(2 * mac_len + 16, 16));
    let chained = |at: usize| (iv_len > 0).then(|| block[at..at + 16].try_into().unwrap());
    let mut cw = SealCbc {
        key: ck,
        mac_key: cm,
        version,
        chained: chained(2 * mac_len + 32),
        seq: 0,
    };
    let mut sw = SealCbc {
        key: sk,
        mac_key: sm,
        version,
        chained: chained(2 * mac_len + 32 + iv_len),
        seq: 0,
    };
    let mut keys = KeyLog::new();
    keys.add(format!("CLIENT_RANDOM {} {}\n", hex(&CR), hex(&master)).as_bytes());
    let fin = hs(20, &[0xbb; 12]);
    let mut server = record(22, version, &server_hello_v(version, suite, &[]));
    server.extend_from_slice(&record(
        22,
        version,
        &[hs(11, &[0, 0, 0]), hs(14, &[])].concat(),
    ));
    let mut client = record(22, version, &hs(16, &[0, 2, 9, 9]));
    client.extend_from_slice(&record(20, version, &[1]));
    client.extend_from_slice(&cw.seal(22, &fin));
    let mut server2 = record(20, version, &[1]);
    server2.extend_from_slice(&sw.seal(22, &fin));
    let mut client2 = cw.seal(23, b"GET /a HTTP/1.1\r\n\r\n");
    client2.extend_from_slice(&cw.seal(23, b"GET /b HTTP/1.1\r\n\r\n"));
    let steps = vec![
        (
            C,
            record(22, version, &client_hello(&[suite], &[sni("old.example")])),
        ),
        (S, server),
        (C, client),
        (S, server2),
        (C, client2),
        (S, sw.seal(23, b"HTTP/1.1 204 No Content\r\n\r\n")),
    ];
    (keys, steps)
}

#[test]
fn tls12_cbc_mac_then_encrypt() {
    let (keys, steps) = tls12_cbc_session(0x0303, 0x003c, 32);
    assert_eq!(
        run(&keys, &steps)[3..],
        [
            "summary version=Some(771) alpn=None resumed=false decrypted=true error=None",
            "plaintext ClientToServer GET /a HTTP/1.1\\r\\n\\r\\n",
            "plaintext ClientToServer GET /b HTTP/1.1\\r\\n\\r\\n",
            "plaintext ServerToClient HTTP/1.1 204 No Content\\r\\n\\r\\n",
        ]
    );
}

#[test]
fn tls10_cbc_chained_iv() {
    let (keys, steps) = tls12_cbc_session(0x0301, 0x002f, 20);
    assert_eq!(
        run(&keys, &steps)[3..],
        [
            "summary version=Some(769) alpn=None resumed=false decrypted=true error=None",
            "plaintext ClientToServer GET /a HTTP/1.1\\r\\n\\r\\n",
            "plaintext ClientToServer GET /b HTTP/1.1\\r\\n\\r\\n",
            "plaintext ServerToClient HTTP/1.1 204 No Content\\r\\n\\r\\n",
        ]
    );
}

#[test]
fn tls12_without_keys_sums_up_at_change_cipher_spec() {
    let (_, steps) = tls12_cbc_session(0x0303, 0x003c, 32);
    assert_eq!(
        run(&KeyLog::new(), &steps),
        [
            "client_hello sni=Some(\"old.example\")",
            "server_hello 0x0303 retry=false",
            "certificate ServerToClient 0",
            "summary version=Some(771) alpn=None resumed=false decrypted=false error=None",
        ]
    );
}

#[test]
fn unsupported_suite_says_why() {
    let (keys, mut steps) = tls12_cbc_session(0x0303, 0x003c, 32);
    // Same session, but the server picks RC4.
    steps[1].1 = record(22, 0x0303, &server_hello(0x0005, &[]));
    let got = run(&keys, &steps);
    assert!(
        got.contains(
            &"error None cipher suite 0x0005 (TLS_RSA_WITH_RC4_128_SHA) cannot be decrypted"
                .to_owned()
        ),
        "{got:#?}"
    );
}

#[test]
fn not_tls_and_oversize_records() {
    let mut s = TlsSession::new(TlsConfig::default(), None);
    let mut n = 0;
    s.data(C, 0, b"GET / HTTP/1.1\r\n\r\n", &mut |_| n += 1);
    assert_eq!((s.is_tls(), n), (Some(false), 0));
    s.end(None, 1, &mut |_| n += 1);
    assert_eq!(n, 0);

    let mut s = TlsSession::new(TlsConfig::default(), None);
    let mut out = Vec::new();
    let mut sink = |ev: TlsEvent<'_>| out.push(line(&ev));
    s.data(
        C,
        0,
        &record(22, 0x0301, &client_hello(&[0x1301], &[])),
        &mut sink,
    );
    s.data(C, 1, &[23, 3, 3, 0xff, 0xff], &mut sink);
    s.end(None, 2, &mut sink);
    assert_eq!(
        out[1..],
        [
            "error Some(ClientToServer) record too large (65535 bytes) at client record 2",
            "summary version=None alpn=None resumed=false decrypted=false error=None",
        ]
    );
}

#[test]
fn handshake_message_cap() {
    let mut s = TlsSession::new(TlsConfig::default().with_max_handshake_message(100), None);
    let mut out = Vec::new();
    let hello = record(22, 0x0301, &client_hello(&[0x1301; 80], &[]));
    s.data(C, 0, &hello, &mut |ev| out.push(line(&ev)));
    assert_eq!(
        out,
        [
            "error Some(ClientToServer) handshake message of 201 bytes over the 100-byte cap (client)"
        ]
    );
    assert!(s.memory() < 4096);
}

#[test]
fn roles_swapped_when_the_tcp_client_sends_a_server_hello() {
    let mut s = TlsSession::new(TlsConfig::default(), None);
    let mut out = Vec::new();
    let sh = record(22, 0x0303, &server_hello(0xc02f, &[]));
    s.data(C, 0, &sh, &mut |ev| out.push(line(&ev)));
    assert_eq!(out, ["roles swapped", "server_hello 0x0303 retry=false"]);
}

/// A key log that a live program is still writing: it gives nothing, then the handshake
/// secrets (and the TLS 1.2 master secret), then everything, as `level` says (0, 1, 2).
#[derive(Debug)]
struct LateKeys {
    log: KeyLog,
    level: AtomicUsize,
    /// The level `catch_up` raises it to.
    caught_up: usize,
    asked: AtomicUsize,
}

impl LateKeys {
    fn new(log: KeyLog, level: usize, caught_up: usize) -> Arc<LateKeys> {
        Arc::new(LateKeys {
            log,
            level: AtomicUsize::new(level),
            caught_up,
            asked: AtomicUsize::new(0),
        })
    }
}

impl KeyLookup for LateKeys {
    fn secret(&self, client_random: &[u8; 32], label: SecretLabel) -> Option<Vec<u8>> {
        self.asked.fetch_add(1, Ordering::Relaxed);
        let level = match label {
            SecretLabel::ClientTraffic0 | SecretLabel::ServerTraffic0 => 2,
            _ => 1,
        };
        (self.level.load(Ordering::Relaxed) >= level)
            .then(|| self.log.secret(client_random, label))
            .flatten()
    }

    fn may_grow(&self) -> bool {
        true
    }

    fn catch_up(&self) {
        self.level.fetch_max(self.caught_up, Ordering::Relaxed);
    }
}

/// The records of `steps`, one `data` call each.
fn records(steps: &Steps) -> Vec<(Direction, Vec<u8>)> {
    let mut out = Vec::new();
    for (dir, bytes) in steps {
        let mut rest = &bytes[..];
        while rest.len() >= 5 {
            let len = 5 + usize::from(u16::from_be_bytes([rest[3], rest[4]]));
            out.push((*dir, rest[..len].to_vec()));
            rest = &rest[len..];
        }
    }
    out
}

/// Runs `steps` record by record; after record `k` (1-based), the key log gets to `level`.
fn run_late(keys: &Arc<LateKeys>, steps: &Steps, k: usize, level: usize) -> Vec<String> {
    let lookup: Arc<dyn KeyLookup> = keys.clone();
    let mut s = TlsSession::new(TlsConfig::default(), Some(lookup));
    let mut out = Vec::new();
    let mut sink = |ev: TlsEvent<'_>| out.push(line(&ev));
    let recs = records(steps);
    for (i, (dir, bytes)) in recs.iter().enumerate() {
        s.data(*dir, i as i64, bytes, &mut sink);
        assert!(s.memory() < MAX_WAIT_BYTES + 8192, "{}", s.memory());
        if i + 1 == k {
            keys.level.fetch_max(level, Ordering::Relaxed);
        }
    }
    s.end(None, recs.len() as i64, &mut sink);
    out
}

#[test]
fn secrets_logged_late_decrypt_the_records_held_meanwhile() {
    let tls13 = (tls13_keys(false), tls13_session());
    let tls12 = tls12_cbc_session(0x0303, 0x003c, 32);
    for (log, steps) in [tls13, tls12] {
        let want = run(&log, &steps);
        let n = records(&steps).len();
        assert!(n > 6);
        for k in 1..=n {
            // Every secret at once, after k records.
            let keys = LateKeys::new(log.clone(), 0, 0);
            assert_eq!(run_late(&keys, &steps, k, 2), want, "all after {k}");
            // The handshake secrets in time, the traffic secrets after k records.
            let keys = LateKeys::new(log.clone(), 1, 0);
            assert_eq!(run_late(&keys, &steps, k, 2), want, "traffic after {k}");
        }
        // Written before the session ended, read only by the last try.
        let keys = LateKeys::new(log.clone(), 0, 2);
        assert_eq!(run_late(&keys, &steps, 0, 0), want, "at the end");
    }
}

#[test]
fn a_session_without_key_holds_a_bounded_number_of_records() {
    let mut steps = tls13_session();
    // The server's records after the session's three (half-rtt, the answer, the alert).
    let mut sap = Seal13::new(&secret(4));
    for _ in 0..3 {
        sap.seal(23, b"");
    }
    for _ in 0..3 * MAX_WAIT_RECORDS {
        steps.push((S, sap.seal(23, &[b'x'; 100])));
    }
    // Never logged: the same events as with a key log that cannot grow, plus one error when
    // the cap is reached, and a bounded number of lookups.
    let keys = LateKeys::new(KeyLog::new(), 0, 0);
    let got = run_late(&keys, &steps, 0, 0);
    assert_eq!(
        got,
        [
            "client_hello sni=Some(\"example.com\")",
            "server_hello 0x0304 retry=false",
            "error None no key logged while 32 records (3121 bytes) were held for it",
            "summary version=Some(772) alpn=None resumed=false decrypted=false error=None",
        ]
    );
    let asked = keys.asked.load(Ordering::Relaxed);
    assert!(asked <= 2 * (MAX_WAIT_RECORDS + 3), "{asked} lookups");

    // Large records: the byte cap comes first.
    let mut steps = tls13_session();
    let mut sap = Seal13::new(&secret(4));
    for _ in 0..3 {
        sap.seal(23, b"");
    }
    for _ in 0..10 {
        steps.push((S, sap.seal(23, &[b'x'; 16 * 1024])));
    }
    let keys = LateKeys::new(KeyLog::new(), 0, 0);
    let got = run_late(&keys, &steps, 0, 0);
    assert!(
        got[2].starts_with("error None no key logged while 13 records (49598 bytes)"),
        "{got:?}"
    );
    // Logged after the cap: the records held are decrypted, those after are not lost
    // either (the last try before giving up finds the key).
    let keys = LateKeys::new(tls13_keys(false), 0, 2);
    let got = run_late(&keys, &steps, 0, 0);
    assert_eq!(
        got.iter().filter(|l| l.starts_with("plaintext")).count(),
        14,
        "{got:?}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Any split of the same bytes into `data` calls gives the same events.
    #[test]
    fn any_split_gives_the_same_events(cuts in proptest::collection::vec(0usize..2000, 0..12)) {
        let keys = tls13_keys(false);
        let steps = tls13_session();
        prop_assert_eq!(run_split(&keys, &steps, &cuts), run(&keys, &steps));
        let (keys, steps) = tls12_cbc_session(0x0301, 0x002f, 20);
        prop_assert_eq!(run_split(&keys, &steps, &cuts), run(&keys, &steps));
    }

    /// Arbitrary bytes in both directions never panic, and memory stays bounded.
    #[test]
    fn arbitrary_bytes_never_panic(chunks in proptest::collection::vec((any::<bool>(), proptest::collection::vec(any::<u8>(), 0..300)), 0..20)) {
        let mut s = TlsSession::new(TlsConfig::default(), Some(Arc::new(tls13_keys(true))));
        for (i, (client, bytes)) in chunks.iter().enumerate() {
            let dir = if *client { C } else { S };
            // Start with a plausible record header half the time.
            let mut b = if i % 2 == 0 { vec![22, 3, 3] } else { Vec::new() };
            b.extend_from_slice(bytes);
            s.data(dir, i as i64, &b, &mut |_| {});
            prop_assert!(s.memory() < 200_000);
        }
        s.end(None, 0, &mut |_| {});
    }
}
