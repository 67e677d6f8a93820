//! Record protection: which suites we can decrypt (read from their IANA names), and the
//! per-direction decryptor for TLS 1.3 AEAD, TLS 1.2 AEAD (explicit-nonce GCM/CCM and RFC 7905
//! ChaCha20-Poly1305) and TLS 1.0-1.2 CBC with HMAC (MAC-then-encrypt, RFC 7366
//! encrypt-then-MAC, TLS 1.0 IV chaining). AES-GCM and ChaCha20-Poly1305 come from `ring`
//! (its assembly runs at 3-4x the speed of the portable RustCrypto code, and these suites
//! are nearly all real traffic); CCM, CBC and HMAC, which `ring` lacks, from RustCrypto.

use std::ops::Range;

use aes::{Aes128, Aes256};
use cbc::cipher::{BlockDecryptMut, KeyIvInit, block_padding::NoPadding};
use ccm::Ccm;
use ccm::aead::generic_array::GenericArray;
use ccm::aead::{AeadInPlace, KeyInit, consts::U8, consts::U12, consts::U16};
use hmac::{Hmac, Mac as _};
use ring::aead as ring_aead;
use sha1::Sha1;
use sha2::{Sha256, Sha384};

use crate::keyschedule::HashAlg;

/// The bulk cipher of a suite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Bulk {
    Aes128Gcm,
    Aes256Gcm,
    ChaCha20Poly1305,
    Aes128Ccm,
    Aes128Ccm8,
    Aes256Ccm,
    Aes256Ccm8,
    Aes128Cbc,
    Aes256Cbc,
}

impl Bulk {
    pub(crate) fn key_len(self) -> usize {
        match self {
            Bulk::Aes128Gcm | Bulk::Aes128Ccm | Bulk::Aes128Ccm8 | Bulk::Aes128Cbc => 16,
            _ => 32,
        }
    }

    fn is_cbc(self) -> bool {
        matches!(self, Bulk::Aes128Cbc | Bulk::Aes256Cbc)
    }
}

/// The HMAC of a CBC suite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MacAlg {
    Sha1,
    Sha256,
    Sha384,
}

impl MacAlg {
    pub(crate) fn len(self) -> usize {
        match self {
            MacAlg::Sha1 => 20,
            MacAlg::Sha256 => 32,
            MacAlg::Sha384 => 48,
        }
    }
}

/// How a suite protects records and which hash its PRF/HKDF uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SuiteInfo {
    pub bulk: Bulk,
    /// `Some` for CBC suites.
    pub mac: Option<MacAlg>,
    pub hash: HashAlg,
}

/// What we know about decrypting `suite`, from its IANA name; `None` for suites we cannot
/// decrypt (NULL, RC4, 3DES, CAMELLIA, export, unknown).
pub(crate) fn suite_info(suite: u16) -> Option<SuiteInfo> {
    let name = crate::cipher_name(suite)?;
    let tail = match name.split_once("_WITH_") {
        Some((_, t)) => t,
        None => name.strip_prefix("TLS_")?,
    };
    const BULKS: [(&str, Bulk); 9] = [
        ("AES_128_GCM", Bulk::Aes128Gcm),
        ("AES_256_GCM", Bulk::Aes256Gcm),
        ("CHACHA20_POLY1305", Bulk::ChaCha20Poly1305),
        ("AES_128_CCM_8", Bulk::Aes128Ccm8),
        ("AES_256_CCM_8", Bulk::Aes256Ccm8),
        ("AES_128_CCM", Bulk::Aes128Ccm),
        ("AES_256_CCM", Bulk::Aes256Ccm),
        ("AES_128_CBC", Bulk::Aes128Cbc),
        ("AES_256_CBC", Bulk::Aes256Cbc),
    ];
    let bulk = BULKS.iter().find(|(p, _)| tail.starts_with(p))?.1;
    let hash = if name.ends_with("SHA384") {
        HashAlg::Sha384
    } else {
        HashAlg::Sha256
    };
    let mac = if bulk.is_cbc() {
        Some(if name.ends_with("_SHA384") {
            MacAlg::Sha384
        } else if name.ends_with("_SHA256") {
            MacAlg::Sha256
        } else if name.ends_with("_SHA") {
            MacAlg::Sha1
        } else {
            return None;
        })
    } else {
        None
    };
    Some(SuiteInfo { bulk, mac, hash })
}

/// An AEAD with its key schedule done.
enum Aead {
    /// AES-128-GCM, AES-256-GCM or ChaCha20-Poly1305 (16-byte tags).
    Ring(Box<ring_aead::LessSafeKey>),
    Aes128Ccm(Box<Ccm<Aes128, U16, U12>>),
    Aes128Ccm8(Box<Ccm<Aes128, U8, U12>>),
    Aes256Ccm(Box<Ccm<Aes256, U16, U12>>),
    Aes256Ccm8(Box<Ccm<Aes256, U8, U12>>),
}

impl std::fmt::Debug for Aead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Aead")
    }
}

impl Aead {
    fn new(bulk: Bulk, key: &[u8]) -> Option<Aead> {
        Some(match bulk {
            Bulk::Aes128Gcm => Aead::ring(&ring_aead::AES_128_GCM, key)?,
            Bulk::Aes256Gcm => Aead::ring(&ring_aead::AES_256_GCM, key)?,
            Bulk::ChaCha20Poly1305 => Aead::ring(&ring_aead::CHACHA20_POLY1305, key)?,
            Bulk::Aes128Ccm => Aead::Aes128Ccm(Box::new(Ccm::new_from_slice(key).ok()?)),
            Bulk::Aes128Ccm8 => Aead::Aes128Ccm8(Box::new(Ccm::new_from_slice(key).ok()?)),
            Bulk::Aes256Ccm => Aead::Aes256Ccm(Box::new(Ccm::new_from_slice(key).ok()?)),
            Bulk::Aes256Ccm8 => Aead::Aes256Ccm8(Box::new(Ccm::new_from_slice(key).ok()?)),
            Bulk::Aes128Cbc | Bulk::Aes256Cbc => return None,
        })
    }

    fn ring(alg: &'static ring_aead::Algorithm, key: &[u8]) -> Option<Aead> {
        let key = ring_aead::UnboundKey::new(alg, key).ok()?;
        Some(Aead::Ring(Box::new(ring_aead::LessSafeKey::new(key))))
    }

    fn tag_len(&self) -> usize {
        match self {
            Aead::Aes128Ccm8(_) | Aead::Aes256Ccm8(_) => 8,
            _ => 16,
        }
    }

    /// Decrypts `buf` in place; `tag` must be `tag_len()` bytes.
    fn open(&self, nonce: [u8; 12], aad: &[u8], buf: &mut [u8], tag: &[u8]) -> bool {
        if let Aead::Ring(key) = self {
            let Ok(tag) = ring_aead::Tag::try_from(tag) else {
                return false;
            };
            return key
                .open_in_place_separate_tag(
                    ring_aead::Nonce::assume_unique_for_key(nonce),
                    ring_aead::Aad::from(aad),
                    tag,
                    buf,
                    0..,
                )
                .is_ok();
        }
        let nonce = GenericArray::from(nonce);
        macro_rules! go {
            ($c:expr) => {
                tag.len() == self.tag_len()
                    && $c
                        .decrypt_in_place_detached(&nonce, aad, buf, GenericArray::from_slice(tag))
                        .is_ok()
            };
        }
        match self {
            Aead::Ring(_) => false,
            Aead::Aes128Ccm(c) => go!(c),
            Aead::Aes128Ccm8(c) => go!(c),
            Aead::Aes256Ccm(c) => go!(c),
            Aead::Aes256Ccm8(c) => go!(c),
        }
    }
}

/// Why a record could not be opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OpenError {
    BadMac,
    BadPadding,
    /// TLS 1.3 inner plaintext of only zeros (no content type).
    NoContentType,
}

#[derive(Debug)]
enum Kind {
    /// TLS 1.3: nonce = iv XOR seq, AAD = the record header.
    Tls13 { aead: Aead, iv: [u8; 12] },
    /// TLS 1.2 GCM/CCM: nonce = 4-byte salt || 8-byte explicit nonce from the record.
    Tls12Explicit { aead: Aead, salt: [u8; 4] },
    /// TLS 1.2 ChaCha20-Poly1305 (RFC 7905): nonce = iv XOR seq.
    Tls12ChaCha { aead: Aead, iv: [u8; 12] },
    /// TLS 1.0-1.2 CBC + HMAC.
    Cbc {
        bulk: Bulk,
        key: Vec<u8>,
        mac: MacAlg,
        mac_key: Vec<u8>,
        etm: bool,
        /// TLS 1.0: the IV for the next record (the last ciphertext block of the previous one).
        chained_iv: Option<[u8; 16]>,
    },
}

/// Decryption state of one direction: keys and the record sequence number.
#[derive(Debug)]
pub(crate) struct RecordCipher {
    kind: Kind,
    seq: u64,
}

fn xor_seq(iv: [u8; 12], seq: u64) -> [u8; 12] {
    let mut n = iv;
    for (b, s) in n.iter_mut().skip(4).zip(seq.to_be_bytes()) {
        *b ^= s;
    }
    n
}

impl RecordCipher {
    /// TLS 1.3 record protection from a traffic secret.
    pub(crate) fn tls13(suite: SuiteInfo, secret: &[u8]) -> Option<RecordCipher> {
        if secret.len() != suite.hash.len() {
            return None;
        }
        let key =
            crate::keyschedule::expand_label(suite.hash, secret, "key", b"", suite.bulk.key_len())?;
        let iv = crate::keyschedule::expand_label(suite.hash, secret, "iv", b"", 12)?;
        Some(RecordCipher {
            kind: Kind::Tls13 {
                aead: Aead::new(suite.bulk, &key)?,
                iv: iv.try_into().ok()?,
            },
            seq: 0,
        })
    }

    /// TLS 1.0-1.2 record protection from one side's slice of the key block.
    pub(crate) fn tls12(
        suite: SuiteInfo,
        mac_key: &[u8],
        key: &[u8],
        iv: &[u8],
        etm: bool,
    ) -> Option<RecordCipher> {
        let kind = match (suite.bulk, suite.mac) {
            (Bulk::ChaCha20Poly1305, _) => Kind::Tls12ChaCha {
                aead: Aead::new(suite.bulk, key)?,
                iv: iv.try_into().ok()?,
            },
            (bulk, Some(mac)) if bulk.is_cbc() => Kind::Cbc {
                bulk,
                key: key.to_vec(),
                mac,
                mac_key: mac_key.to_vec(),
                etm,
                chained_iv: iv.try_into().ok(),
            },
            (bulk, _) => Kind::Tls12Explicit {
                aead: Aead::new(bulk, key)?,
                salt: iv.try_into().ok()?,
            },
        };
        Some(RecordCipher { kind, seq: 0 })
    }

    /// Lengths of the key block slices (MAC key, key, fixed IV) for TLS 1.0-1.2;
    /// `implicit_iv` is true for TLS 1.0, whose CBC IVs come from the key block.
    pub(crate) fn tls12_lengths(suite: SuiteInfo, implicit_iv: bool) -> (usize, usize, usize) {
        let mac = suite.mac.map_or(0, MacAlg::len);
        let iv = match suite.bulk {
            Bulk::ChaCha20Poly1305 => 12,
            Bulk::Aes128Cbc | Bulk::Aes256Cbc => {
                if implicit_iv {
                    16
                } else {
                    0
                }
            }
            _ => 4,
        };
        (mac, suite.bulk.key_len(), iv)
    }

    /// Starts the record sequence again (after a trial decryption).
    pub(crate) fn reset_seq(&mut self) {
        self.seq = 0;
    }

    /// Opens the record with header `header` whose body is `buf`, in place. Returns the
    /// content type (the inner one for TLS 1.3, the header's otherwise) and where the
    /// plaintext is within `buf`. A record that does not open leaves `buf` in an unspecified
    /// state and does not advance the sequence number (it may be 0-RTT data for other keys,
    /// skipped by the caller).
    pub(crate) fn open_in_place(
        &mut self,
        header: [u8; 5],
        buf: &mut [u8],
    ) -> Result<(u8, Range<usize>), OpenError> {
        let seq = self.seq;
        let result = self.open_at(seq, header, buf);
        if result.is_ok() {
            self.seq = seq.wrapping_add(1);
        }
        result
    }

    fn open_at(
        &mut self,
        seq: u64,
        header: [u8; 5],
        buf: &mut [u8],
    ) -> Result<(u8, Range<usize>), OpenError> {
        let [ty, v0, v1, ..] = header;
        match &mut self.kind {
            Kind::Tls13 { aead, iv } => {
                let tag_at = buf
                    .len()
                    .checked_sub(aead.tag_len())
                    .ok_or(OpenError::BadMac)?;
                let (ct, tag) = buf.split_at_mut(tag_at);
                if !aead.open(xor_seq(*iv, seq), &header, ct, tag) {
                    return Err(OpenError::BadMac);
                }
                // Inner plaintext: content || type || zero padding.
                let end = ct
                    .iter()
                    .rposition(|&b| b != 0)
                    .ok_or(OpenError::NoContentType)?;
                let inner = ct.get(end).copied().ok_or(OpenError::NoContentType)?;
                Ok((inner, 0..end))
            }
            Kind::Tls12Explicit { aead, salt } => {
                let tag_len = aead.tag_len();
                let tag_at = buf.len().checked_sub(tag_len).ok_or(OpenError::BadMac)?;
                if tag_at < 8 {
                    return Err(OpenError::BadMac);
                }
                let (head, tag) = buf.split_at_mut(tag_at);
                let (explicit, ct) = head.split_at_mut(8);
                let mut nonce = [0u8; 12];
                for (n, b) in nonce.iter_mut().zip(salt.iter().chain(explicit.iter())) {
                    *n = *b;
                }
                let aad = aad12(seq, ty, v0, v1, ct.len());
                if aead.open(nonce, &aad, ct, tag) {
                    Ok((ty, 8..tag_at))
                } else {
                    Err(OpenError::BadMac)
                }
            }
            Kind::Tls12ChaCha { aead, iv } => {
                let tag_at = buf
                    .len()
                    .checked_sub(aead.tag_len())
                    .ok_or(OpenError::BadMac)?;
                let (ct, tag) = buf.split_at_mut(tag_at);
                let aad = aad12(seq, ty, v0, v1, ct.len());
                if aead.open(xor_seq(*iv, seq), &aad, ct, tag) {
                    Ok((ty, 0..tag_at))
                } else {
                    Err(OpenError::BadMac)
                }
            }
            Kind::Cbc {
                bulk,
                key,
                mac,
                mac_key,
                etm,
                chained_iv,
            } => {
                let mac_len = mac.len();
                if *etm {
                    let tag_at = buf.len().checked_sub(mac_len).ok_or(OpenError::BadMac)?;
                    let (enc, tag) = buf.split_at_mut(tag_at);
                    let aad = aad12(seq, ty, v0, v1, enc.len());
                    if !verify_mac(*mac, mac_key, &aad, enc, tag) {
                        return Err(OpenError::BadMac);
                    }
                    let (iv, at) = split_iv(enc, chained_iv)?;
                    let ct = enc.get_mut(at..).ok_or(OpenError::BadPadding)?;
                    cbc_decrypt(*bulk, key, &iv, ct)?;
                    let unpadded = check_padding(ct)?;
                    Ok((ty, at..at.saturating_add(unpadded)))
                } else {
                    let (iv, at) = split_iv(buf, chained_iv)?;
                    let ct = buf.get_mut(at..).ok_or(OpenError::BadPadding)?;
                    cbc_decrypt(*bulk, key, &iv, ct)?;
                    let unpadded = check_padding(ct)?;
                    let content_len = unpadded.checked_sub(mac_len).ok_or(OpenError::BadPadding)?;
                    let (content, tag) = ct.split_at(content_len);
                    let tag = tag.get(..mac_len).ok_or(OpenError::BadPadding)?;
                    let aad = aad12(seq, ty, v0, v1, content_len);
                    if !verify_mac(*mac, mac_key, &aad, content, tag) {
                        return Err(OpenError::BadMac);
                    }
                    Ok((ty, at..at.saturating_add(content_len)))
                }
            }
        }
    }
}

/// The TLS 1.2 additional data / MAC header: seq || type || version || length.
fn aad12(seq: u64, ty: u8, v0: u8, v1: u8, len: usize) -> [u8; 13] {
    let mut a = [0u8; 13];
    let len = u16::try_from(len).unwrap_or(u16::MAX).to_be_bytes();
    for (d, s) in a
        .iter_mut()
        .zip(seq.to_be_bytes().into_iter().chain([ty, v0, v1]).chain(len))
    {
        *d = s;
    }
    a
}

fn verify_mac(mac: MacAlg, key: &[u8], header: &[u8], data: &[u8], tag: &[u8]) -> bool {
    macro_rules! go {
        ($h:ty) => {{
            let Ok(mut m) = <Hmac<$h> as hmac::Mac>::new_from_slice(key) else {
                return false;
            };
            m.update(header);
            m.update(data);
            m.verify_slice(tag).is_ok()
        }};
    }
    match mac {
        MacAlg::Sha1 => go!(Sha1),
        MacAlg::Sha256 => go!(Sha256),
        MacAlg::Sha384 => go!(Sha384),
    }
}

/// The IV of a CBC record and where its ciphertext starts: explicit (TLS 1.1+: the first
/// block) or chained (TLS 1.0: `chained`, which becomes the last ciphertext block of this
/// record).
fn split_iv(body: &[u8], chained: &mut Option<[u8; 16]>) -> Result<([u8; 16], usize), OpenError> {
    match chained {
        Some(iv) => {
            let this = *iv;
            let last = body
                .len()
                .checked_sub(16)
                .and_then(|at| body.get(at..))
                .ok_or(OpenError::BadPadding)?;
            *iv = last.try_into().map_err(|_| OpenError::BadPadding)?;
            Ok((this, 0))
        }
        None => {
            let iv = body.get(..16).ok_or(OpenError::BadPadding)?;
            let iv: [u8; 16] = iv.try_into().map_err(|_| OpenError::BadPadding)?;
            Ok((iv, 16))
        }
    }
}

fn cbc_decrypt(bulk: Bulk, key: &[u8], iv: &[u8; 16], ct: &mut [u8]) -> Result<(), OpenError> {
    if ct.is_empty() || ct.len() % 16 != 0 {
        return Err(OpenError::BadPadding);
    }
    let ok = match bulk {
        Bulk::Aes128Cbc => cbc::Decryptor::<Aes128>::new_from_slices(key, iv)
            .ok()
            .and_then(|d| d.decrypt_padded_mut::<NoPadding>(ct).ok())
            .is_some(),
        Bulk::Aes256Cbc => cbc::Decryptor::<Aes256>::new_from_slices(key, iv)
            .ok()
            .and_then(|d| d.decrypt_padded_mut::<NoPadding>(ct).ok())
            .is_some(),
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(OpenError::BadPadding)
    }
}

/// Checks TLS CBC padding (every padding byte equals the length byte) and returns the length
/// before it.
fn check_padding(p: &[u8]) -> Result<usize, OpenError> {
    let &n = p.last().ok_or(OpenError::BadPadding)?;
    let start = p
        .len()
        .checked_sub(usize::from(n).saturating_add(1))
        .ok_or(OpenError::BadPadding)?;
    let pad = p.get(start..).ok_or(OpenError::BadPadding)?;
    if pad.iter().all(|&b| b == n) {
        Ok(start)
    } else {
        Err(OpenError::BadPadding)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn suites_from_names() {
        let s = suite_info(0xc014).unwrap();
        assert_eq!(
            (s.bulk, s.mac, s.hash),
            (Bulk::Aes256Cbc, Some(MacAlg::Sha1), HashAlg::Sha256)
        );
        let s = suite_info(0x1302).unwrap();
        assert_eq!(
            (s.bulk, s.mac, s.hash),
            (Bulk::Aes256Gcm, None, HashAlg::Sha384)
        );
        let s = suite_info(0x1305).unwrap();
        assert_eq!(s.bulk, Bulk::Aes128Ccm8);
        let s = suite_info(0x003c).unwrap();
        assert_eq!(s.mac, Some(MacAlg::Sha256));
        assert!(suite_info(0x0005).is_none());
        assert!(suite_info(0x000a).is_none());
        assert!(suite_info(0x0041).is_none());
    }
}
