//! Key derivation: TLS 1.3 HKDF-Expand-Label (RFC 8446 section 7.1) from the logged traffic
//! secrets, and the TLS 1.0-1.2 PRF (RFC 2246 section 5, RFC 5246 section 5) that turns a
//! logged master secret into the key block. Both only expand secrets the key log already
//! holds: no key exchange is ever computed.

use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use md5::Md5;
use sha1::Sha1;
use sha2::{Sha256, Sha384};

/// The hash of a suite's PRF / HKDF.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HashAlg {
    Sha256,
    Sha384,
}

impl HashAlg {
    pub(crate) fn len(self) -> usize {
        match self {
            HashAlg::Sha256 => 32,
            HashAlg::Sha384 => 48,
        }
    }
}

/// HKDF-Expand-Label(secret, label, context, len); `None` when `secret` is shorter than
/// the hash or `len` too long for HKDF (both impossible with secrets of the right length).
pub(crate) fn expand_label(
    hash: HashAlg,
    secret: &[u8],
    label: &str,
    context: &[u8],
    len: usize,
) -> Option<Vec<u8>> {
    let full_len = 6usize.checked_add(label.len())?;
    let mut info = Vec::with_capacity(full_len.saturating_add(context.len()).saturating_add(4));
    info.extend_from_slice(&u16::try_from(len).ok()?.to_be_bytes());
    info.push(u8::try_from(full_len).ok()?);
    info.extend_from_slice(b"tls13 ");
    info.extend_from_slice(label.as_bytes());
    info.push(u8::try_from(context.len()).ok()?);
    info.extend_from_slice(context);
    let mut out = vec![0; len];
    match hash {
        HashAlg::Sha256 => Hkdf::<Sha256>::from_prk(secret)
            .ok()?
            .expand(&info, &mut out)
            .ok()?,
        HashAlg::Sha384 => Hkdf::<Sha384>::from_prk(secret)
            .ok()?
            .expand(&info, &mut out)
            .ok()?,
    }
    Some(out)
}

/// P_hash (RFC 5246 section 5): XORs the expansion into `out` (so P_MD5 and P_SHA1 of
/// TLS 1.0 combine by calling it twice on the same buffer).
fn p_hash_xor<M: Mac + hmac::digest::KeyInit + Clone>(secret: &[u8], seed: &[u8], out: &mut [u8]) {
    let Ok(base) = <M as hmac::digest::KeyInit>::new_from_slice(secret) else {
        return;
    };
    // A(1) = HMAC(secret, seed); A(i) = HMAC(secret, A(i-1)).
    let mut a = {
        let mut m = base.clone();
        m.update(seed);
        m.finalize().into_bytes()
    };
    for chunk in out.chunks_mut(a.len()) {
        let mut m = base.clone();
        m.update(&a);
        m.update(seed);
        let block = m.finalize().into_bytes();
        for (o, b) in chunk.iter_mut().zip(block.iter()) {
            *o ^= b;
        }
        let mut m = base.clone();
        m.update(&a);
        a = m.finalize().into_bytes();
    }
}

/// Which PRF a version and suite use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Prf {
    /// TLS 1.0 and 1.1: P_MD5 XOR P_SHA1 over the two halves of the secret.
    Md5Sha1,
    /// TLS 1.2: P_SHA256 or the suite's P_SHA384.
    Tls12(HashAlg),
}

/// PRF(secret, label, seed) of `len` bytes.
pub(crate) fn prf(kind: Prf, secret: &[u8], label: &[u8], seed: &[u8], len: usize) -> Vec<u8> {
    let mut full_seed = Vec::with_capacity(label.len().saturating_add(seed.len()));
    full_seed.extend_from_slice(label);
    full_seed.extend_from_slice(seed);
    let mut out = vec![0; len];
    match kind {
        Prf::Md5Sha1 => {
            let half = secret.len().div_ceil(2);
            let s1 = secret.get(..half).unwrap_or_default();
            let s2 = secret
                .get(secret.len().saturating_sub(half)..)
                .unwrap_or_default();
            p_hash_xor::<Hmac<Md5>>(s1, &full_seed, &mut out);
            p_hash_xor::<Hmac<Sha1>>(s2, &full_seed, &mut out);
        }
        Prf::Tls12(HashAlg::Sha256) => p_hash_xor::<Hmac<Sha256>>(secret, &full_seed, &mut out),
        Prf::Tls12(HashAlg::Sha384) => p_hash_xor::<Hmac<Sha384>>(secret, &full_seed, &mut out),
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn unhex(s: &str) -> Vec<u8> {
        let s: String = s.split_whitespace().collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// RFC 8448 section 3 (simple 1-RTT handshake): the server handshake traffic secret and
    /// the write key and IV derived from it.
    #[test]
    fn rfc8448_server_handshake_keys() {
        let secret = unhex(
            "b6 7b 7d 69 0c c1 6c 4e 75 e5 42 13 cb 2d 37 b4 e9 c9 12 bc de d9 10 5d 42 be fd 59 d3 91 ad 38",
        );
        let key = expand_label(HashAlg::Sha256, &secret, "key", b"", 16).unwrap();
        let iv = expand_label(HashAlg::Sha256, &secret, "iv", b"", 12).unwrap();
        assert_eq!(
            key,
            unhex("3f ce 51 60 09 c2 17 27 d0 f2 e4 e8 6e e4 03 bc")
        );
        assert_eq!(iv, unhex("5d 31 3e b2 67 12 76 ee 13 00 0b 30"));
    }

    /// TLS 1.2 PRF with SHA-256, the widely used test vector of the IETF TLS WG mailing
    /// list (also in Go's crypto/tls prf_test.go and OpenSSL's evp tests).
    #[test]
    fn tls12_prf_sha256_vector() {
        let secret = unhex("9b be 43 6b a9 40 f0 17 b1 76 52 84 9a 71 db 35");
        let seed = unhex("a0 ba 9f 93 6c da 31 18 27 a6 f7 96 ff d5 19 8c");
        let out = prf(
            Prf::Tls12(HashAlg::Sha256),
            &secret,
            b"test label",
            &seed,
            100,
        );
        assert_eq!(
            out[..16],
            unhex("e3 f2 29 ba 72 7b e1 7b 8d 12 26 20 55 7c d4 53")[..]
        );
    }
}
