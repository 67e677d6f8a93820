//! One TCP session's TLS: record framing per direction, handshake reassembly, the key
//! schedule driven by the handshake, and decryption. Fed in order per direction, like
//! `pcap_http_ws::HttpSession`.

use std::sync::Arc;

use crate::cert::parse_certificate_body;
use crate::cipher::{OpenError, RecordCipher, SuiteInfo, suite_info};
use crate::handshake::hello::{
    parse_client_hello_body, parse_encrypted_extensions, parse_server_hello_body,
};
use crate::handshake::msg;
use crate::keyschedule::{Prf, expand_label, prf};
use crate::record::{HEADER_LEN, Header, MAX_RECORD, content};
use crate::{
    CertInfo, ClientHello, Direction, KeyLookup, SecretLabel, ServerHello, TlsError, TlsEvent,
    TlsSummary,
};

/// Limits of one session.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TlsConfig {
    /// The largest handshake message reassembled (a certificate chain is the usual large
    /// one); a larger one is an error that stops that direction's handshake parsing.
    pub max_handshake_message: usize,
}

impl Default for TlsConfig {
    fn default() -> TlsConfig {
        TlsConfig {
            max_handshake_message: 64 * 1024,
        }
    }
}

impl TlsConfig {
    /// Sets [`TlsConfig::max_handshake_message`].
    pub fn with_max_handshake_message(mut self, n: usize) -> TlsConfig {
        self.max_handshake_message = n;
        self
    }
}

/// How many unreadable records a 0-RTT client may send before failures count as errors.
const MAX_SKIPPED_EARLY: u8 = 64;

/// Bytes of records (headers included) a session holds while its secrets are not in a key
/// log that may still grow ([`KeyLookup::may_grow`]); past it, or past
/// [`MAX_WAIT_RECORDS`], the session stops waiting and goes on without keys.
pub const MAX_WAIT_BYTES: usize = 64 * 1024;

/// Records a session holds while it waits for its secrets (see [`MAX_WAIT_BYTES`]): each
/// one that arrives asks the key lookup again, so this also bounds the lookups of a session
/// that has no key at all.
pub const MAX_WAIT_RECORDS: usize = 32;

const CLIENT: usize = 0;
const SERVER: usize = 1;

fn side(role: usize) -> &'static str {
    if role == CLIENT { "client" } else { "server" }
}

fn role_dir(role: usize) -> Direction {
    if role == CLIENT {
        Direction::ClientToServer
    } else {
        Direction::ServerToClient
    }
}

/// State of one direction (TLS role).
#[derive(Debug, Default)]
struct Dir {
    /// A record split across `data` calls (header included).
    pending: Vec<u8>,
    /// Handshake bytes not yet forming a whole message.
    hs: Vec<u8>,
    /// The decrypted record, reused.
    plain: Vec<u8>,
    /// Decrypts this direction's records once they are encrypted.
    cipher: Option<RecordCipher>,
    /// Keys to switch to: at ChangeCipherSpec (TLS 1.2), at EndOfEarlyData (TLS 1.3 0-RTT).
    next_cipher: Option<RecordCipher>,
    /// TLS 1.3: the current application traffic secret (for KeyUpdate).
    secret: Vec<u8>,
    /// Records are encrypted from now on (with or without a cipher to read them).
    encrypted: bool,
    /// The current cipher is the 0-RTT one.
    early: bool,
    /// 0-RTT: candidate ciphers (one per offered TLS 1.3 suite) until the first early record
    /// picks the one that opens it.
    early_candidates: Vec<RecordCipher>,
    /// Records that may still fail to decrypt and be skipped: 0-RTT data that we cannot read
    /// (no early secret, or data the server rejected). Bounded, so a wrong key is still
    /// reported.
    skip_failures: u8,
    /// Records seen (the 1-based number of the last one).
    records: u64,
    /// Nothing more is decoded in this direction.
    stopped: bool,
    /// Bytes were lost in clear: look for the next record header.
    resync: bool,
    /// Finished seen.
    finished: bool,
    /// Handshake parsing stopped (over-size or malformed message).
    hs_stopped: bool,
    /// A ServerHelloDone or Certificate was seen (a TLS 1.2 full handshake).
    full_handshake: bool,
}

impl Dir {
    fn memory(&self) -> usize {
        let cipher = std::mem::size_of::<RecordCipher>().saturating_mul(2);
        self.pending
            .capacity()
            .saturating_add(self.hs.capacity())
            .saturating_add(self.plain.capacity())
            .saturating_add(self.secret.capacity())
            .saturating_add(cipher)
    }
}

/// Which lookup a waiting session repeats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Awaiting {
    /// The secrets asked for at the ServerHello: TLS 1.3 handshake traffic secrets, the TLS
    /// 1.2 master secret.
    Handshake,
    /// TLS 1.3: the application traffic secret of this role, asked for at its Finished.
    Traffic(usize),
}

/// A record held while the session waits: where it came from, and its length (header
/// included) in [`Waiting::bytes`].
#[derive(Debug, Clone, Copy)]
struct Held {
    dir: Direction,
    role: usize,
    ts_ns: i64,
    len: usize,
}

/// Secrets not found yet in a key log that may still grow: the records that arrive (either
/// direction, in order) are held until they are, or until the caps.
#[derive(Debug)]
struct Waiting {
    awaiting: Awaiting,
    /// Held records, header and body, one after the other.
    bytes: Vec<u8>,
    held: Vec<Held>,
}

/// One TCP session's TLS. See the crate documentation for an example.
#[derive(Debug)]
pub struct TlsSession {
    config: TlsConfig,
    keys: Option<Arc<dyn KeyLookup>>,
    /// TCP roles are reversed (first record showed it).
    swapped: bool,
    is_tls: Option<bool>,
    /// Valid record headers seen before a decision (a mid-stream pickup has no handshake).
    headers_seen: u8,
    dirs: [Dir; 2],
    client_hello: Option<ClientHello>,
    server_hello: Option<ServerHello>,
    chain: Vec<CertInfo>,
    summary: TlsSummary,
    summary_sent: bool,
    first_ts: Option<i64>,
    /// The negotiated version is TLS 1.3.
    tls13: bool,
    suite: Option<SuiteInfo>,
    /// A fatal error: nothing more is decoded.
    dead: bool,
    /// Keys were found and the suite is supported: decryption is under way.
    decrypting: bool,
    /// The server accepted 0-RTT data (EncryptedExtensions).
    early_accepted: bool,
    /// Secrets not found yet, and the records held meanwhile.
    waiting: Option<Box<Waiting>>,
    /// A wait ended without the secrets: later misses are final.
    waited: bool,
    /// Held records are being handled: they are not asked about again one by one.
    replaying: bool,
}

impl TlsSession {
    /// A session that looks its secrets up in `keys` (none: handshake details only).
    pub fn new(config: TlsConfig, keys: Option<Arc<dyn KeyLookup>>) -> TlsSession {
        TlsSession {
            config,
            keys,
            swapped: false,
            is_tls: None,
            headers_seen: 0,
            dirs: [Dir::default(), Dir::default()],
            client_hello: None,
            server_hello: None,
            chain: Vec::new(),
            summary: TlsSummary::default(),
            summary_sent: false,
            first_ts: None,
            tls13: false,
            suite: None,
            dead: false,
            decrypting: false,
            early_accepted: false,
            waiting: None,
            waited: false,
            replaying: false,
        }
    }

    /// Some(true) once the bytes are known to be TLS (a valid record header carrying a
    /// handshake, or two valid headers in a row for a session picked up mid-stream),
    /// Some(false) once known not to be, None while undecided.
    pub fn is_tls(&self) -> Option<bool> {
        self.is_tls
    }

    /// The summary as it stands (complete once [`TlsEvent::Summary`] was sent).
    pub fn summary(&self) -> &TlsSummary {
        &self.summary
    }

    /// Bytes held (record buffers, handshake reassembly, cipher state), for a memory budget.
    pub fn memory(&self) -> usize {
        let [c, s] = &self.dirs;
        let waiting = self.waiting.as_ref().map_or(0, |w| {
            w.bytes
                .capacity()
                .saturating_add(w.held.capacity() * std::mem::size_of::<Held>())
                .saturating_add(std::mem::size_of::<Waiting>())
        });
        c.memory()
            .saturating_add(s.memory())
            .saturating_add(waiting)
            .saturating_add(std::mem::size_of::<TlsSession>())
    }

    fn role(&self, dir: Direction) -> usize {
        let client = dir == Direction::ClientToServer;
        if client != self.swapped {
            CLIENT
        } else {
            SERVER
        }
    }

    fn error(
        &mut self,
        role: Option<usize>,
        ts_ns: i64,
        error: TlsError,
        sink: &mut impl FnMut(TlsEvent<'_>),
    ) {
        sink(TlsEvent::Error {
            dir: role.map(role_dir),
            ts_ns,
            error,
        });
    }

    /// A fatal error: reported, recorded in the summary, the summary sent, nothing more decoded.
    fn fatal(
        &mut self,
        role: Option<usize>,
        ts_ns: i64,
        error: TlsError,
        sink: &mut impl FnMut(TlsEvent<'_>),
    ) {
        if self.summary.error.is_none() {
            self.summary.error = Some(error.to_string());
        }
        self.error(role, ts_ns, error, sink);
        self.dead = true;
        self.send_summary(sink);
    }

    fn send_summary(&mut self, sink: &mut impl FnMut(TlsEvent<'_>)) {
        if self.summary_sent || self.is_tls != Some(true) {
            return;
        }
        self.summary_sent = true;
        if self.summary.ts_ns == 0 {
            self.summary.ts_ns = self.first_ts.unwrap_or(0);
        }
        sink(TlsEvent::Summary(&self.summary));
    }

    /// In-order bytes of `dir` (TCP roles).
    pub fn data(
        &mut self,
        dir: Direction,
        ts_ns: i64,
        bytes: &[u8],
        sink: &mut impl FnMut(TlsEvent<'_>),
    ) {
        let mut bytes = bytes;
        while !bytes.is_empty() && !self.dead && self.is_tls != Some(false) {
            let role = self.role(dir);
            let d = &mut self.dirs[role];
            if d.stopped {
                return;
            }
            if d.resync {
                // Look for a plausible record header after lost bytes.
                let at = (0..bytes.len()).find(|&i| {
                    Header::read(bytes.get(i..).unwrap_or_default())
                        .is_some_and(|h| h.plausible() && h.len <= MAX_RECORD)
                });
                match at {
                    Some(i) => {
                        bytes = bytes.get(i..).unwrap_or_default();
                        d.resync = false;
                    }
                    None => return,
                }
            }
            if d.pending.is_empty() {
                // Whole records straight from the input, without copying.
                let Some(h) = Header::read(bytes) else {
                    d.pending.extend_from_slice(bytes);
                    return;
                };
                let total = HEADER_LEN.saturating_add(h.len);
                if h.len > MAX_RECORD || bytes.len() < total || !h.plausible() {
                    if !self.check_header(role, ts_ns, &h, sink) {
                        return;
                    }
                    let d = &mut self.dirs[role];
                    let take = total.min(bytes.len());
                    d.pending
                        .extend_from_slice(bytes.get(..take).unwrap_or_default());
                    bytes = bytes.get(take..).unwrap_or_default();
                    continue;
                }
                let body = bytes.get(HEADER_LEN..total).unwrap_or_default();
                self.record(dir, role, ts_ns, h, body, sink);
                bytes = bytes.get(total..).unwrap_or_default();
            } else {
                // Complete the held record.
                if d.pending.len() < HEADER_LEN {
                    let need = HEADER_LEN - d.pending.len();
                    let take = need.min(bytes.len());
                    d.pending
                        .extend_from_slice(bytes.get(..take).unwrap_or_default());
                    bytes = bytes.get(take..).unwrap_or_default();
                    let Some(h) = Header::read(&d.pending) else {
                        return;
                    };
                    if !self.check_header(role, ts_ns, &h, sink) {
                        self.dirs[role].pending.clear();
                        return;
                    }
                    continue;
                }
                let Some(h) = Header::read(&d.pending) else {
                    return;
                };
                let total = HEADER_LEN.saturating_add(h.len);
                let need = total.saturating_sub(d.pending.len());
                let take = need.min(bytes.len());
                d.pending
                    .extend_from_slice(bytes.get(..take).unwrap_or_default());
                bytes = bytes.get(take..).unwrap_or_default();
                if d.pending.len() < total {
                    return;
                }
                let pending = std::mem::take(&mut d.pending);
                let body = pending.get(HEADER_LEN..total).unwrap_or_default();
                self.record(dir, role, ts_ns, h, body, sink);
                let mut pending = pending;
                pending.clear();
                if self.dirs[role].pending.is_empty() {
                    self.dirs[role].pending = pending;
                }
            }
        }
    }

    /// Checks a header before its record is buffered: a non-TLS first header decides the
    /// session is not TLS; a bad or over-size header later stops the direction.
    fn check_header(
        &mut self,
        role: usize,
        ts_ns: i64,
        h: &Header,
        sink: &mut impl FnMut(TlsEvent<'_>),
    ) -> bool {
        if h.plausible() && h.len <= MAX_RECORD {
            return true;
        }
        let d = &mut self.dirs[role];
        let record = d.records.saturating_add(1);
        d.stopped = true;
        d.pending = Vec::new();
        if self.is_tls.is_none() {
            self.is_tls = Some(false);
            return false;
        }
        let error = if h.plausible() {
            TlsError::RecordTooLarge {
                side: side(role),
                record,
                len: h.len,
            }
        } else {
            TlsError::NotARecord {
                side: side(role),
                record,
            }
        };
        if d.encrypted && d.cipher.is_some() {
            self.fatal(Some(role), ts_ns, error, sink);
        } else {
            self.error(Some(role), ts_ns, error, sink);
        }
        false
    }

    /// One whole record of `role` (from TCP direction `dir`).
    fn record(
        &mut self,
        dir: Direction,
        mut role: usize,
        ts_ns: i64,
        h: Header,
        body: &[u8],
        sink: &mut impl FnMut(TlsEvent<'_>),
    ) {
        if self.is_tls.is_none() {
            self.first_ts.get_or_insert(ts_ns);
            self.headers_seen = self.headers_seen.saturating_add(1);
            if h.ty == content::HANDSHAKE {
                self.is_tls = Some(true);
                // The first handshake message says who is who.
                let first = body.first().copied();
                let server_first = first == Some(msg::SERVER_HELLO);
                let client_first = first == Some(msg::CLIENT_HELLO);
                if (dir == Direction::ClientToServer && server_first)
                    || (dir == Direction::ServerToClient && client_first)
                {
                    self.swapped = true;
                    role = self.role(dir);
                    sink(TlsEvent::RolesSwapped { ts_ns });
                }
            } else if self.headers_seen >= 2 {
                self.is_tls = Some(true);
            }
        }
        if self.waiting.is_some() {
            self.hold(dir, role, ts_ns, h, body, sink);
            return;
        }
        let d = &mut self.dirs[role];
        d.records = d.records.saturating_add(1);
        if d.stopped || self.dead {
            return;
        }
        if h.ty == content::CHANGE_CIPHER_SPEC {
            self.change_cipher_spec(role, ts_ns, sink);
            return;
        }
        if !d.encrypted {
            self.content(role, ts_ns, h.ty, body, false, sink);
            return;
        }
        let record = d.records;
        let mut plain = std::mem::take(&mut d.plain);
        if d.cipher.is_none() && !d.early_candidates.is_empty() {
            // The first 0-RTT record: the candidate that opens it is the PSK's suite.
            let candidates = std::mem::take(&mut d.early_candidates);
            for mut c in candidates {
                if c.open(h.raw, body, &mut plain).is_ok() {
                    // Re-opened below with a fresh sequence number.
                    c.reset_seq();
                    d.cipher = Some(c);
                    d.early = true;
                    break;
                }
            }
        }
        let Some(cipher) = d.cipher.as_mut() else {
            d.plain = plain;
            return;
        };
        let mut result = cipher.open(h.raw, body, &mut plain);
        if result.is_err() && d.early {
            // 0-RTT data ended (or was never accepted): the handshake keys follow.
            if let Some(mut next) = d.next_cipher.take() {
                let r = next.open(h.raw, body, &mut plain);
                if r.is_ok() {
                    d.cipher = Some(next);
                    d.early = false;
                    result = r;
                }
            }
        }
        match result {
            Ok(ty) => {
                if !d.early {
                    d.skip_failures = 0;
                }
                self.summary.decrypted = true;
                self.content(role, ts_ns, ty, &plain, true, sink);
            }
            Err(_) if d.skip_failures > 0 => d.skip_failures -= 1,
            Err(e) => {
                let error = match e {
                    OpenError::BadMac => TlsError::BadRecordMac {
                        side: side(role),
                        record,
                    },
                    OpenError::BadPadding => TlsError::BadPadding {
                        side: side(role),
                        record,
                    },
                    OpenError::NoContentType => TlsError::Malformed {
                        what: "TLS 1.3 inner plaintext",
                        offset: 0,
                    },
                };
                self.fatal(Some(role), ts_ns, error, sink);
            }
        }
        plain.clear();
        self.dirs[role].plain = plain;
    }

    fn change_cipher_spec(&mut self, role: usize, ts_ns: i64, sink: &mut impl FnMut(TlsEvent<'_>)) {
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
        if !self.decrypting {
            self.send_summary(sink);
        }
    }

    /// Content of a record, in clear or decrypted.
    fn content(
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
    fn handshake_bytes(
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
    fn messages(
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
    fn message(
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
                parse_certificate_body(body, self.tls13).map(|chain| {
                    if role == SERVER && self.summary.cert.is_none() {
                        self.summary.cert = chain.first().cloned();
                    }
                    self.chain = chain;
                    sink(TlsEvent::Certificate {
                        dir: role_dir(role),
                        ts_ns,
                        chain: &self.chain,
                    });
                })
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

    fn secret(&self, label: SecretLabel) -> Option<Vec<u8>> {
        let random = self.client_hello.as_ref()?.random;
        self.keys.as_ref()?.secret(&random, label)
    }

    fn client_hello(
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

    /// 0-RTT: the client's records after its ClientHello are protected with the early
    /// traffic secret, under the suite of the PSK, which the ServerHello has not told yet:
    /// a cipher is prepared for each offered TLS 1.3 suite whose hash fits the secret, and
    /// the first early record picks the one that opens it. Without the secret, early
    /// records are skipped.
    fn start_early_data(&mut self, offered: &[u16]) {
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

    fn server_hello(
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

    /// After the ServerHello: the suite is known, so the keys can be prepared.
    fn setup_keys(&mut self, ts_ns: i64, sink: &mut impl FnMut(TlsEvent<'_>)) {
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
        if !self.tls13 && !(0x0301..=0x0303).contains(&version) {
            if has_keys {
                self.no_decryption(ts_ns, TlsError::UnsupportedVersion { version }, sink);
            }
            return;
        }
        if !self.handshake_keys(ts_ns, sink) {
            self.missing(Awaiting::Handshake, sink);
        }
    }

    /// The keys of the ServerHello's suite, from the secrets it needs (TLS 1.3 handshake
    /// traffic secrets, the TLS 1.2 master secret). False when they are not logged (yet);
    /// true once settled, keys found or unusable (which is reported).
    fn handshake_keys(&mut self, ts_ns: i64, sink: &mut impl FnMut(TlsEvent<'_>)) -> bool {
        let (Some(suite), Some(sh)) = (self.suite, &self.server_hello) else {
            return true;
        };
        let version = sh.version;
        if self.tls13 {
            let server = self.secret(SecretLabel::ServerHandshake);
            let client = self.secret(SecretLabel::ClientHandshake);
            let (Some(server), Some(client)) = (server, client) else {
                return false;
            };
            let (Some(sc), Some(cc)) = (
                RecordCipher::tls13(suite, &server),
                RecordCipher::tls13(suite, &client),
            ) else {
                let label = SecretLabel::ServerHandshake;
                self.no_decryption(ts_ns, TlsError::BadSecret { label }, sink);
                return true;
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
            return true;
        }
        let Some(master) = self.secret(SecretLabel::ClientRandom) else {
            return false;
        };
        let (Some(ch), Some(sh)) = (&self.client_hello, &self.server_hello) else {
            return true;
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
            return true;
        };
        let client = RecordCipher::tls12(suite, cm, ck, ci, etm);
        let server = RecordCipher::tls12(suite, sm, sk, si, etm);
        let (Some(client), Some(server)) = (client, server) else {
            let label = SecretLabel::ClientRandom;
            self.no_decryption(ts_ns, TlsError::BadSecret { label }, sink);
            return true;
        };
        self.decrypting = true;
        self.dirs[CLIENT].next_cipher = Some(client);
        self.dirs[SERVER].next_cipher = Some(server);
        true
    }

    /// TLS 1.3: the application traffic keys of `role`, from its secret. False when the
    /// secret is not logged (yet).
    fn traffic_keys(&mut self, role: usize) -> bool {
        let label = if role == SERVER {
            SecretLabel::ServerTraffic0
        } else {
            SecretLabel::ClientTraffic0
        };
        let Some(suite) = self.suite else {
            self.dirs[role].cipher = None;
            return true;
        };
        let Some(secret) = self.secret(label) else {
            return false;
        };
        let d = &mut self.dirs[role];
        d.cipher = RecordCipher::tls13(suite, &secret);
        d.secret = secret;
        true
    }

    /// A lookup missed: wait for the secrets when the key log may still grow, else go on
    /// without them.
    fn missing(&mut self, awaiting: Awaiting, sink: &mut impl FnMut(TlsEvent<'_>)) {
        let may_grow = self.keys.as_ref().is_some_and(|k| k.may_grow());
        if may_grow && !self.waited && self.client_hello.is_some() && self.waiting.is_none() {
            self.waiting = Some(Box::new(Waiting {
                awaiting,
                bytes: Vec::new(),
                held: Vec::new(),
            }));
            return;
        }
        self.without_keys(awaiting, sink);
    }

    /// Goes on without the secrets `awaiting` names.
    fn without_keys(&mut self, awaiting: Awaiting, sink: &mut impl FnMut(TlsEvent<'_>)) {
        match awaiting {
            // TLS 1.3 without keys: nothing more can be learned. TLS 1.2 sums up at its
            // ChangeCipherSpec.
            Awaiting::Handshake if self.tls13 => self.send_summary(sink),
            Awaiting::Handshake => {}
            Awaiting::Traffic(role) => self.dirs[role].cipher = None,
        }
    }

    /// A record that arrived while the session waits for its secrets: the lookup is tried
    /// again first (the key lookup rate-limits reading its files); found, the held records
    /// are handled, then this one. Otherwise it is held, unless that would pass a cap: then
    /// the wait ends (one last try, an error event) and the session goes on without keys.
    fn hold(
        &mut self,
        dir: Direction,
        role: usize,
        ts_ns: i64,
        h: Header,
        body: &[u8],
        sink: &mut impl FnMut(TlsEvent<'_>),
    ) {
        if !self.replaying {
            if self.resume(ts_ns, sink) {
                self.record(dir, role, ts_ns, h, body, sink);
                return;
            }
            let Some(w) = self.waiting.as_ref() else {
                return;
            };
            let len = HEADER_LEN.saturating_add(body.len());
            if w.held.len() >= MAX_WAIT_RECORDS
                || w.bytes.len().saturating_add(len) > MAX_WAIT_BYTES
            {
                self.give_up(ts_ns, true, sink);
                self.record(dir, role, ts_ns, h, body, sink);
                return;
            }
        }
        let Some(w) = self.waiting.as_mut() else {
            return;
        };
        w.bytes.extend_from_slice(&h.raw);
        w.bytes.extend_from_slice(body);
        w.held.push(Held {
            dir,
            role,
            ts_ns,
            len: HEADER_LEN.saturating_add(body.len()),
        });
    }

    /// Asks for the awaited secrets again; found (or settled otherwise), the wait is over and
    /// the held records are handled. True when the wait is over.
    fn resume(&mut self, ts_ns: i64, sink: &mut impl FnMut(TlsEvent<'_>)) -> bool {
        let Some(awaiting) = self.waiting.as_ref().map(|w| w.awaiting) else {
            return true;
        };
        let settled = match awaiting {
            Awaiting::Handshake => self.handshake_keys(ts_ns, sink),
            Awaiting::Traffic(role) => self.traffic_keys(role),
        };
        if settled {
            self.replay(sink);
        }
        settled
    }

    /// Ends a wait: a last lookup after the key lookup caught up with its files; still
    /// missing, the session goes on without keys, and `cap` (the caps were reached) is
    /// reported as an error event (the summary says no key).
    fn give_up(&mut self, ts_ns: i64, cap: bool, sink: &mut impl FnMut(TlsEvent<'_>)) {
        if self.waiting.is_none() {
            return;
        }
        if let Some(keys) = &self.keys {
            keys.catch_up();
        }
        if self.resume(ts_ns, sink) {
            return;
        }
        let Some(w) = self.waiting.as_ref() else {
            return;
        };
        let (awaiting, records, bytes) = (w.awaiting, w.held.len(), w.bytes.len());
        self.waited = true;
        if cap {
            self.error(None, ts_ns, TlsError::KeyNotLogged { records, bytes }, sink);
        }
        self.without_keys(awaiting, sink);
        self.replay(sink);
    }

    /// Handles the held records, in the order they came. One of them may start a new wait
    /// (a TLS 1.3 traffic secret not logged yet): those after it are held again.
    fn replay(&mut self, sink: &mut impl FnMut(TlsEvent<'_>)) {
        let Some(w) = self.waiting.take() else {
            return;
        };
        let was = std::mem::replace(&mut self.replaying, true);
        let mut at = 0usize;
        for held in &w.held {
            let end = at.saturating_add(held.len);
            let bytes = w.bytes.get(at..end).unwrap_or_default();
            at = end;
            let Some(h) = Header::read(bytes) else {
                continue;
            };
            let body = bytes.get(HEADER_LEN..).unwrap_or_default();
            self.record(held.dir, held.role, held.ts_ns, h, body, sink);
        }
        self.replaying = was;
    }

    /// A gap or the end of the session while waiting: the wait ends first.
    fn settle(&mut self, ts_ns: i64, sink: &mut impl FnMut(TlsEvent<'_>)) {
        if self.waiting.is_some() && !self.replaying {
            self.give_up(ts_ns, false, sink);
        }
    }

    /// Keys exist but cannot be used: reported once, in the summary too.
    fn no_decryption(&mut self, ts_ns: i64, error: TlsError, sink: &mut impl FnMut(TlsEvent<'_>)) {
        self.summary.error = Some(error.to_string());
        self.error(None, ts_ns, error, sink);
    }

    fn finished(&mut self, role: usize, ts_ns: i64, sink: &mut impl FnMut(TlsEvent<'_>)) {
        self.dirs[role].finished = true;
        let _ = ts_ns;
        if self.tls13 && !self.traffic_keys(role) {
            if self.decrypting {
                self.missing(Awaiting::Traffic(role), sink);
            } else {
                self.dirs[role].cipher = None;
            }
        }
        if self.dirs[CLIENT].finished && self.dirs[SERVER].finished {
            self.send_summary(sink);
        }
    }

    /// TLS 1.3 KeyUpdate: the sender's next traffic secret (RFC 8446 section 7.2) takes
    /// effect from its next record.
    fn key_update(&mut self, role: usize) {
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

    /// `len` bytes of `dir` (TCP roles) were never captured.
    pub fn gap(
        &mut self,
        dir: Direction,
        ts_ns: i64,
        len: u64,
        sink: &mut impl FnMut(TlsEvent<'_>),
    ) {
        if self.dead || self.is_tls == Some(false) {
            return;
        }
        self.settle(ts_ns, sink);
        let role = self.role(dir);
        let d = &mut self.dirs[role];
        if d.stopped {
            return;
        }
        d.pending.clear();
        d.hs.clear();
        if d.encrypted && d.cipher.is_some() {
            d.stopped = true;
            let record = d.records;
            self.error(
                Some(role),
                ts_ns,
                TlsError::Gap {
                    side: side(role),
                    record,
                    len,
                },
                sink,
            );
        } else {
            d.resync = true;
        }
    }

    /// `dir` (TCP roles) ended (FIN), or the whole session (`None`). After `end(None)` the
    /// Summary has been sent (for a session that was TLS).
    pub fn end(&mut self, dir: Option<Direction>, ts_ns: i64, sink: &mut impl FnMut(TlsEvent<'_>)) {
        self.settle(ts_ns, sink);
        let roles: &[usize] = match dir {
            Some(d) => &[self.role(d)],
            None => &[CLIENT, SERVER],
        };
        for &role in roles {
            let d = &mut self.dirs[role];
            let held = d.pending.len();
            d.pending = Vec::new();
            d.hs = Vec::new();
            if held > 0 && !d.stopped && !self.dead && self.is_tls == Some(true) {
                d.stopped = true;
                self.error(
                    Some(role),
                    ts_ns,
                    TlsError::Truncated {
                        side: side(role),
                        held,
                    },
                    sink,
                );
            }
        }
        if dir.is_none() {
            self.send_summary(sink);
        }
    }
}
