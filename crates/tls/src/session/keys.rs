//! Keys: looked up in the key log when the handshake says which are needed, installed per
//! direction, changed at ChangeCipherSpec (TLS 1.2), Finished, EndOfEarlyData and KeyUpdate
//! (TLS 1.3).

use super::{CLIENT, MAX_SKIPPED_EARLY, SERVER, TlsSession};
use crate::cipher::{RecordCipher, suite_info};
use crate::keyschedule::{Prf, expand_label, prf};
use crate::record::{HEADER_LEN, Header};
use crate::{SecretLabel, TlsError, TlsEvent};

impl TlsSession {
    pub(super) fn secret(&self, label: SecretLabel) -> Option<Vec<u8>> {
        let random = self.client_hello.as_ref()?.random;
        self.keys.as_ref()?.secret(&random, label)
    }

    /// 0-RTT: the client's records after its ClientHello are protected with the early
    /// traffic secret, under the suite of the PSK, which the ServerHello has not told yet:
    /// a cipher is prepared for each offered TLS 1.3 suite whose hash fits the secret, and
    /// the first early record picks the one that opens it. Without the secret, early
    /// records are skipped.
    pub(super) fn start_early_data(&mut self, offered: &[u16]) {
        let secret = self.secret(SecretLabel::ClientEarly);
        let d = &mut self.dirs[CLIENT];
        d.encrypted = true;
        d.skip_failures = MAX_SKIPPED_EARLY;
        let Some(secret) = secret else {
            return;
        };
        d.early_candidates = offered
            .iter()
            .filter(|s| (0x1301..=0x1305).contains(*s))
            .filter_map(|&s| RecordCipher::tls13(suite_info(s)?, &secret))
            .collect();
    }

    /// After the ServerHello: the suite is known, so the keys can be prepared.
    pub(super) fn setup_keys(&mut self, ts_ns: i64, sink: &mut impl FnMut(TlsEvent<'_>)) {
        let Some(sh) = &self.server_hello else {
            return;
        };
        let (version, cipher) = (sh.version, sh.cipher);
        if self.tls13 {
            // Everything after the ServerHello is encrypted (ChangeCipherSpec aside).
            self.dirs[SERVER].encrypted = true;
            self.dirs[CLIENT].encrypted = true;
        }
        let has_keys = self.keys.is_some() && self.client_hello.is_some();
        let Some(suite) = suite_info(cipher) else {
            if has_keys {
                self.no_decryption(ts_ns, TlsError::UnsupportedCipher { cipher }, sink);
            }
            return;
        };
        self.suite = Some(suite);
        if self.tls13 {
            let server = self.secret(SecretLabel::ServerHandshake);
            let client = self.secret(SecretLabel::ClientHandshake);
            let (Some(server), Some(client)) = (server, client) else {
                if !self.wait_for_keys() {
                    // No key: nothing more can be learned.
                    self.send_summary(sink);
                }
                return;
            };
            let (Some(sc), Some(cc)) = (
                RecordCipher::tls13(suite, &server),
                RecordCipher::tls13(suite, &client),
            ) else {
                let label = SecretLabel::ServerHandshake;
                self.no_decryption(ts_ns, TlsError::BadSecret { label }, sink);
                return;
            };
            self.decrypting = true;
            self.dirs[SERVER].cipher = Some(sc);
            let c = &mut self.dirs[CLIENT];
            if c.early {
                c.next_cipher = Some(cc);
            } else {
                // Early records we could not read may still come before the Finished.
                c.early_candidates.clear();
                c.cipher = Some(cc);
            }
            return;
        }
        if !(0x0301..=0x0303).contains(&version) {
            if has_keys {
                self.no_decryption(ts_ns, TlsError::UnsupportedVersion { version }, sink);
            }
            return;
        }
        let Some(master) = self.secret(SecretLabel::ClientRandom) else {
            self.wait_for_keys();
            return;
        };
        let (Some(ch), Some(sh)) = (&self.client_hello, &self.server_hello) else {
            return;
        };
        let kind = if version == 0x0303 {
            Prf::Tls12(suite.hash)
        } else {
            Prf::Md5Sha1
        };
        let implicit_iv = version == 0x0301;
        let etm = sh.encrypt_then_mac && suite.mac.is_some();
        let (mac_len, key_len, iv_len) = RecordCipher::tls12_lengths(suite, implicit_iv);
        let mut seed = Vec::with_capacity(64);
        seed.extend_from_slice(&sh.random);
        seed.extend_from_slice(&ch.random);
        let total = (mac_len + key_len + iv_len) * 2;
        let block = prf(kind, &master, b"key expansion", &seed, total);
        let mut parts = Vec::with_capacity(6);
        let mut at = 0usize;
        for n in [mac_len, mac_len, key_len, key_len, iv_len, iv_len] {
            parts.push(block.get(at..at + n).unwrap_or_default());
            at += n;
        }
        let (Some(cm), Some(sm), Some(ck), Some(sk), Some(ci), Some(si)) = (
            parts.first(),
            parts.get(1),
            parts.get(2),
            parts.get(3),
            parts.get(4),
            parts.get(5),
        ) else {
            return;
        };
        let client = RecordCipher::tls12(suite, cm, ck, ci, etm);
        let server = RecordCipher::tls12(suite, sm, sk, si, etm);
        let (Some(client), Some(server)) = (client, server) else {
            let label = SecretLabel::ClientRandom;
            self.no_decryption(ts_ns, TlsError::BadSecret { label }, sink);
            return;
        };
        self.decrypting = true;
        self.dirs[CLIENT].next_cipher = Some(client);
        self.dirs[SERVER].next_cipher = Some(server);
    }

    /// Keys exist but cannot be used: reported once, in the summary too.
    pub(super) fn no_decryption(
        &mut self,
        ts_ns: i64,
        error: TlsError,
        sink: &mut impl FnMut(TlsEvent<'_>),
    ) {
        self.summary.error = Some(error.to_string());
        self.error(None, ts_ns, error, sink);
    }

    pub(super) fn finished(
        &mut self,
        role: usize,
        ts_ns: i64,
        sink: &mut impl FnMut(TlsEvent<'_>),
    ) {
        self.dirs[role].finished = true;
        if self.tls13 {
            let label = if role == SERVER {
                SecretLabel::ServerTraffic0
            } else {
                SecretLabel::ClientTraffic0
            };
            let secret = self.secret(label);
            let d = &mut self.dirs[role];
            let cipher = match (&secret, self.suite) {
                (Some(secret), Some(suite)) => RecordCipher::tls13(suite, secret),
                _ => None,
            };
            let installed = cipher.is_some();
            d.cipher = cipher;
            d.secret = secret.clone().unwrap_or_default();
            if !installed && self.decrypting {
                // The handshake keys were logged, the application ones not (or wrong).
                let error = if secret.is_some() {
                    TlsError::BadSecret { label }
                } else {
                    TlsError::MissingSecret { label }
                };
                if self.summary.error.is_none() {
                    self.summary.error = Some(error.to_string());
                }
                self.error(Some(role), ts_ns, error, sink);
            }
        }
        if self.dirs[CLIENT].finished && self.dirs[SERVER].finished {
            self.send_summary(sink);
        }
    }

    /// TLS 1.3 KeyUpdate: the sender's next traffic secret (RFC 8446 section 7.2) takes
    /// effect from its next record.
    pub(super) fn key_update(&mut self, role: usize) {
        let Some(suite) = self.suite else {
            return;
        };
        let d = &mut self.dirs[role];
        if d.secret.is_empty() {
            return;
        }
        let Some(next) = expand_label(suite.hash, &d.secret, "traffic upd", b"", suite.hash.len())
        else {
            return;
        };
        d.cipher = RecordCipher::tls13(suite, &next);
        d.secret = next;
    }

    /// Whether to hold encrypted records for secrets the key log may still receive.
    fn wait_for_keys(&mut self) -> bool {
        self.awaiting_keys = self.keys.is_some() && self.config.max_held_for_keys > 0;
        self.awaiting_keys
    }

    /// Holds an encrypted record of `role` until its keys are known; over the cap, gives up.
    pub(super) fn hold(
        &mut self,
        role: usize,
        ts_ns: i64,
        h: &Header,
        body: &[u8],
        sink: &mut impl FnMut(TlsEvent<'_>),
    ) {
        let d = &mut self.dirs[role];
        let len = d
            .held
            .len()
            .saturating_add(HEADER_LEN)
            .saturating_add(body.len());
        if len > self.config.max_held_for_keys {
            self.give_up_waiting(sink);
            return;
        }
        // Counted again when replayed.
        d.records = d.records.saturating_sub(1);
        d.held.extend_from_slice(&h.raw);
        d.held.extend_from_slice(body);
        // `role` is 0 or 1.
        self.held_order.push(role as u8);
        let _ = ts_ns;
    }

    /// The key log still lacks the session's secrets: held records are dropped and the
    /// summary says so (no key).
    pub(super) fn give_up_waiting(&mut self, sink: &mut impl FnMut(TlsEvent<'_>)) {
        self.awaiting_keys = false;
        for d in &mut self.dirs {
            d.held = Vec::new();
        }
        self.held_order = Vec::new();
        self.send_summary(sink);
    }

    /// Looks the secrets up again; when found, installs them and replays the held records
    /// in the order they arrived, both directions interleaved as on the wire.
    pub(super) fn retry_keys(&mut self, ts_ns: i64, sink: &mut impl FnMut(TlsEvent<'_>)) {
        self.awaiting_keys = false;
        self.setup_keys(ts_ns, sink);
        if self.awaiting_keys || !self.decrypting {
            return;
        }
        if !self.tls13 {
            // ChangeCipherSpec already passed in these directions.
            for d in &mut self.dirs {
                if d.encrypted && d.cipher.is_none() {
                    d.cipher = d.next_cipher.take();
                }
            }
        }
        let held = [CLIENT, SERVER].map(|role| std::mem::take(&mut self.dirs[role].held));
        let mut rest = [held[CLIENT].as_slice(), held[SERVER].as_slice()];
        for role in std::mem::take(&mut self.held_order) {
            let role = usize::from(role);
            let Some(from) = rest.get_mut(role) else {
                continue;
            };
            let Some(h) = Header::read(from) else {
                continue;
            };
            let end = HEADER_LEN.saturating_add(h.len);
            let Some(body) = from.get(HEADER_LEN..end) else {
                continue;
            };
            *from = from.get(end..).unwrap_or_default();
            self.record(role, ts_ns, h, super::Body::Input(body), sink);
        }
    }
}
