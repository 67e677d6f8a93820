//! Record contents and handshake messages: what each message tells the summary and the
//! key schedule.

use super::{CLIENT, SERVER, TlsSession, role_dir, side};
use crate::cert::{decompress_certificate, parse_certificate_body};
use crate::handshake::hello::{
    parse_client_hello_body, parse_encrypted_extensions, parse_server_hello_body,
};
use crate::handshake::msg;
use crate::record::content;
use crate::{CertInfo, TlsError, TlsEvent};

impl TlsSession {
    pub(super) fn change_cipher_spec(
        &mut self,
        role: usize,
        ts_ns: i64,
        sink: &mut impl FnMut(TlsEvent<'_>),
    ) {
        if self.tls13 || self.server_hello.is_none() {
            // Middlebox compatibility (RFC 8446 appendix D.4): not a key change. Before the
            // ServerHello only a TLS 1.3 client (sending 0-RTT data) sends one.
            return;
        }
        let d = &mut self.dirs[role];
        d.encrypted = true;
        d.cipher = d.next_cipher.take();
        if role == SERVER && !d.full_handshake && self.server_hello.is_some() {
            // The server went straight from ServerHello to ChangeCipherSpec: resumption.
            self.summary.resumed = true;
        }
        let _ = ts_ns;
        if !self.decrypting && !self.awaiting_keys {
            self.send_summary(sink);
        }
    }

    /// Content of a record, in clear or decrypted.
    pub(super) fn content(
        &mut self,
        role: usize,
        ts_ns: i64,
        ty: u8,
        data: &[u8],
        decrypted: bool,
        sink: &mut impl FnMut(TlsEvent<'_>),
    ) {
        match ty {
            content::ALERT => {
                if let (Some(&level), Some(&description)) = (data.first(), data.get(1)) {
                    sink(TlsEvent::Alert {
                        dir: role_dir(role),
                        ts_ns,
                        level,
                        description,
                        encrypted: decrypted,
                    });
                }
            }
            content::HANDSHAKE => self.handshake_bytes(role, ts_ns, data, sink),
            content::APPLICATION_DATA
                if self.client_hello.is_none() && self.server_hello.is_none() =>
            {
                // Picked up mid-stream: there is no handshake to learn from.
                self.send_summary(sink);
            }
            content::APPLICATION_DATA if decrypted => {
                if !self.summary_sent && self.dirs[role].finished {
                    // Application data before the peer's Finished was decrypted (e.g. the
                    // server's half-RTT data): the handshake is done as far as we can tell.
                    self.send_summary(sink);
                }
                if !data.is_empty() {
                    sink(TlsEvent::Plaintext {
                        dir: role_dir(role),
                        ts_ns,
                        data,
                    });
                }
            }
            _ => {}
        }
    }

    /// Handshake bytes of `role`: whole messages are handled straight from `data`, a split
    /// one is held (up to `max_handshake_message`).
    pub(super) fn handshake_bytes(
        &mut self,
        role: usize,
        ts_ns: i64,
        data: &[u8],
        sink: &mut impl FnMut(TlsEvent<'_>),
    ) {
        if self.dirs[role].hs_stopped {
            return;
        }
        let mut buf = std::mem::take(&mut self.dirs[role].hs);
        if buf.is_empty() {
            let used = self.messages(role, ts_ns, data, sink);
            buf.extend_from_slice(data.get(used..).unwrap_or_default());
        } else {
            buf.extend_from_slice(data);
            let used = self.messages(role, ts_ns, &buf, sink);
            buf.drain(..used.min(buf.len()));
        }
        if self.dead || self.dirs[role].hs_stopped {
            return;
        }
        self.dirs[role].hs = buf;
    }

    /// Handles the whole messages at the start of `input`; returns the bytes they took.
    pub(super) fn messages(
        &mut self,
        role: usize,
        ts_ns: i64,
        input: &[u8],
        sink: &mut impl FnMut(TlsEvent<'_>),
    ) -> usize {
        let mut used = 0usize;
        let mut rest = input;
        while let [ty, a, b, c, ..] = *rest {
            let len = usize::from(a) << 16 | usize::from(b) << 8 | usize::from(c);
            if len > self.config.max_handshake_message {
                let max = self.config.max_handshake_message;
                self.dirs[role].hs_stopped = true;
                self.error(
                    Some(role),
                    ts_ns,
                    TlsError::HandshakeTooLarge {
                        side: side(role),
                        len,
                        max,
                    },
                    sink,
                );
                return used;
            }
            let end = 4usize.saturating_add(len);
            let Some(body) = rest.get(4..end) else {
                break;
            };
            self.message(role, ts_ns, ty, body, sink);
            used = used.saturating_add(end);
            if self.dead || self.dirs[role].hs_stopped {
                return used;
            }
            rest = rest.get(end..).unwrap_or_default();
        }
        used
    }

    /// One whole handshake message.
    pub(super) fn message(
        &mut self,
        role: usize,
        ts_ns: i64,
        ty: u8,
        body: &[u8],
        sink: &mut impl FnMut(TlsEvent<'_>),
    ) {
        let result = match ty {
            msg::CLIENT_HELLO if role == CLIENT => self.client_hello(ts_ns, body, sink),
            msg::SERVER_HELLO if role == SERVER => self.server_hello(ts_ns, body, sink),
            msg::CERTIFICATE => {
                if role == SERVER {
                    self.dirs[SERVER].full_handshake = true;
                }
                parse_certificate_body(body, self.tls13)
                    .map(|chain| self.certificate(role, ts_ns, chain, sink))
            }
            msg::COMPRESSED_CERTIFICATE if self.tls13 => {
                let max = self.config.max_handshake_message;
                decompress_certificate(body, max)
                    .and_then(|plain| parse_certificate_body(&plain, true))
                    .map(|chain| self.certificate(role, ts_ns, chain, sink))
            }
            msg::SERVER_HELLO_DONE | msg::SERVER_KEY_EXCHANGE if role == SERVER => {
                self.dirs[SERVER].full_handshake = true;
                Ok(())
            }
            msg::ENCRYPTED_EXTENSIONS if role == SERVER => {
                parse_encrypted_extensions(body).map(|(alpn, early)| {
                    if alpn.is_some() {
                        self.summary.alpn = alpn;
                    }
                    self.early_accepted = early;
                })
            }
            msg::FINISHED => {
                self.finished(role, ts_ns, sink);
                Ok(())
            }
            msg::KEY_UPDATE if self.tls13 => {
                self.key_update(role);
                Ok(())
            }
            msg::END_OF_EARLY_DATA if role == CLIENT => {
                let d = &mut self.dirs[CLIENT];
                if let Some(next) = d.next_cipher.take() {
                    d.cipher = Some(next);
                }
                d.early = false;
                Ok(())
            }
            _ => Ok(()),
        };
        if let Err(e) = result {
            self.dirs[role].hs_stopped = true;
            self.error(Some(role), ts_ns, e, sink);
        }
    }

    pub(super) fn certificate(
        &mut self,
        role: usize,
        ts_ns: i64,
        chain: Vec<CertInfo>,
        sink: &mut impl FnMut(TlsEvent<'_>),
    ) {
        if role == SERVER && self.summary.cert.is_none() {
            self.summary.cert = chain.first().cloned();
        }
        self.chain = chain;
        sink(TlsEvent::Certificate {
            dir: role_dir(role),
            ts_ns,
            chain: &self.chain,
        });
    }

    pub(super) fn client_hello(
        &mut self,
        ts_ns: i64,
        body: &[u8],
        sink: &mut impl FnMut(TlsEvent<'_>),
    ) -> Result<(), TlsError> {
        let ch = parse_client_hello_body(body)?;
        if self.client_hello.is_none() {
            self.summary.ts_ns = ts_ns;
            self.summary.sni = ch.sni.clone();
            self.summary.alpn_offered = ch.alpn.clone();
            self.summary.ja3 = Some(ch.ja3());
            self.summary.ja4 = Some(ch.ja4(true));
            self.summary.client_random = Some(ch.random);
        }
        let early = ch.early_data && ch.psk;
        let offered: Vec<u16> = ch.ciphers.clone();
        self.client_hello = Some(ch);
        if early {
            self.start_early_data(&offered);
        }
        if let Some(ch) = &self.client_hello {
            sink(TlsEvent::ClientHello { ts_ns, hello: ch });
        }
        Ok(())
    }

    pub(super) fn server_hello(
        &mut self,
        ts_ns: i64,
        body: &[u8],
        sink: &mut impl FnMut(TlsEvent<'_>),
    ) -> Result<(), TlsError> {
        let sh = parse_server_hello_body(body)?;
        if !sh.hello_retry {
            self.summary.version = Some(sh.version);
            self.summary.cipher = Some(sh.cipher);
            self.summary.ja3s = Some(sh.ja3s());
            if sh.alpn.is_some() {
                self.summary.alpn = sh.alpn.clone();
            }
            self.tls13 = sh.version == 0x0304;
            if self.tls13 {
                self.summary.resumed = sh.psk_accepted;
            } else if !sh.session_id.is_empty()
                && self
                    .client_hello
                    .as_ref()
                    .is_some_and(|ch| ch.session_id == sh.session_id)
            {
                self.summary.resumed = true;
            }
        }
        let retry = sh.hello_retry;
        if retry {
            // Only TLS 1.3 has HelloRetryRequest: the ChangeCipherSpec records that follow
            // it are the middlebox-compatibility ones, not a key change.
            self.tls13 = true;
        }
        self.server_hello = Some(sh);
        if let Some(sh) = &self.server_hello {
            sink(TlsEvent::ServerHello { ts_ns, hello: sh });
        }
        if retry {
            return Ok(());
        }
        self.setup_keys(ts_ns, sink);
        Ok(())
    }
}
