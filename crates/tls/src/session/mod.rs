//! One TCP session's TLS: record framing per direction, handshake reassembly, the key
//! schedule driven by the handshake, and decryption. Fed in order per direction, like
//! `pcap_http_ws::HttpSession`. Framing and the public API here; handshake messages in
//! `handshake.rs`, keys and their changes in `keys.rs`.

mod handshake;
mod keys;

use std::sync::Arc;

use crate::cipher::{OpenError, RecordCipher, SuiteInfo};
use crate::handshake::msg;
use crate::record::{HEADER_LEN, Header, MAX_RECORD, content};
use crate::{
    CertInfo, ClientHello, Direction, KeyLookup, ServerHello, TlsError, TlsEvent, TlsSummary,
};

/// Limits of one session.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TlsConfig {
    /// The largest handshake message reassembled (a certificate chain is the usual large
    /// one); a larger one is an error that stops that direction's handshake parsing.
    pub max_handshake_message: usize,
    /// Encrypted bytes held per direction while the key log has no secret for the session
    /// yet, looked up again at every later `data` call and at the end; 0 (the default) gives
    /// up at once. For a key log that a live program is still appending to: the client logs
    /// its secrets only after it has read the ServerHello, which a live capture may see
    /// first.
    pub max_held_for_keys: usize,
}

impl Default for TlsConfig {
    fn default() -> TlsConfig {
        TlsConfig {
            max_handshake_message: 64 * 1024,
            max_held_for_keys: 0,
        }
    }
}

impl TlsConfig {
    /// Sets [`TlsConfig::max_held_for_keys`].
    pub fn with_max_held_for_keys(mut self, n: usize) -> TlsConfig {
        self.max_held_for_keys = n;
        self
    }

    /// Sets [`TlsConfig::max_handshake_message`].
    pub fn with_max_handshake_message(mut self, n: usize) -> TlsConfig {
        self.max_handshake_message = n;
        self
    }
}

/// How many unreadable records a 0-RTT client may send before failures count as errors.
const MAX_SKIPPED_EARLY: u8 = 64;

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

/// A record body: borrowed from the caller's input (copied before decryption), or held in
/// the session's own buffer (decrypted where it is).
enum Body<'a> {
    Input(&'a [u8]),
    Held(&'a mut [u8]),
}

impl Body<'_> {
    fn bytes(&self) -> &[u8] {
        match self {
            Body::Input(b) => b,
            Body::Held(b) => b,
        }
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
    /// Encrypted records (headers included) held until the key log has their secrets.
    held: Vec<u8>,
    /// Handshake parsing stopped (over-size or malformed message).
    hs_stopped: bool,
    /// A ServerHelloDone or Certificate was seen (a TLS 1.2 full handshake).
    full_handshake: bool,
}

impl Dir {
    fn memory(&self) -> usize {
        // An installed cipher holds its key schedule (AES round keys, GHASH or Poly1305
        // state): about a kilobyte, boxed.
        let ciphers = usize::from(self.cipher.is_some())
            + usize::from(self.next_cipher.is_some())
            + self.early_candidates.len();
        let cipher = ciphers.saturating_mul(1024);
        self.pending
            .capacity()
            .saturating_add(self.hs.capacity())
            .saturating_add(self.plain.capacity())
            .saturating_add(self.secret.capacity())
            .saturating_add(self.held.capacity())
            .saturating_add(cipher)
    }
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
    /// The key log had no secret yet: encrypted records are held (see
    /// [`TlsConfig::max_held_for_keys`]) and the lookup is tried again.
    awaiting_keys: bool,
    /// The role of each held record, in arrival order across both directions, so that
    /// they are replayed as they came (a request before its response).
    held_order: Vec<u8>,
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
            awaiting_keys: false,
            held_order: Vec::new(),
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
        c.memory()
            .saturating_add(s.memory())
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
        if self.awaiting_keys {
            self.retry_keys(ts_ns, sink);
        }
        let mut bytes = bytes;
        while !bytes.is_empty() && !self.dead && self.is_tls != Some(false) {
            if self.is_tls.is_none() {
                self.detect(dir, ts_ns, bytes, sink);
            }
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
                self.record(role, ts_ns, h, Body::Input(body), sink);
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
                let mut pending = std::mem::take(&mut d.pending);
                if let Some(body) = pending.get_mut(HEADER_LEN..total) {
                    self.record(role, ts_ns, h, Body::Held(body), sink);
                }
                pending.clear();
                if self.dirs[role].pending.is_empty() {
                    self.dirs[role].pending = pending;
                }
            }
        }
    }

    /// Decides whether this is TLS from the first six bytes of a record of `dir` (held ones
    /// first), without waiting for the whole record: a handshake record is TLS, and its
    /// first message type tells the roles.
    fn detect(
        &mut self,
        dir: Direction,
        ts_ns: i64,
        bytes: &[u8],
        sink: &mut impl FnMut(TlsEvent<'_>),
    ) {
        let d = &self.dirs[self.role(dir)];
        if d.resync {
            return;
        }
        let mut head = [0u8; HEADER_LEN + 1];
        let mut have = 0;
        for (slot, b) in head.iter_mut().zip(d.pending.iter().chain(bytes)) {
            *slot = *b;
            have += 1;
        }
        let Some(h) = Header::read(&head[..have]) else {
            return;
        };
        if !h.plausible() || h.len > MAX_RECORD || h.ty != content::HANDSHAKE || have <= HEADER_LEN
        {
            // Decided by check_header (not TLS) or after whole records (no handshake).
            return;
        }
        self.is_tls = Some(true);
        self.first_ts.get_or_insert(ts_ns);
        let first = head[HEADER_LEN];
        if (dir == Direction::ClientToServer && first == msg::SERVER_HELLO)
            || (dir == Direction::ServerToClient && first == msg::CLIENT_HELLO)
        {
            self.swapped = true;
            sink(TlsEvent::RolesSwapped { ts_ns });
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
        role: usize,
        ts_ns: i64,
        h: Header,
        body: Body<'_>,
        sink: &mut impl FnMut(TlsEvent<'_>),
    ) {
        if self.is_tls.is_none() {
            // Records that are not handshakes: a session picked up mid-stream is TLS once
            // two plausible records follow each other.
            self.first_ts.get_or_insert(ts_ns);
            self.headers_seen = self.headers_seen.saturating_add(1);
            if self.headers_seen >= 2 {
                self.is_tls = Some(true);
            }
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
            self.content(role, ts_ns, h.ty, body.bytes(), false, sink);
            return;
        }
        let record = d.records;
        let mut plain = std::mem::take(&mut d.plain);
        if d.cipher.is_none() && !d.early_candidates.is_empty() {
            // The first 0-RTT record: the candidate that opens it is the PSK's suite.
            let candidates = std::mem::take(&mut d.early_candidates);
            for mut c in candidates {
                plain.clear();
                plain.extend_from_slice(body.bytes());
                if c.open_in_place(h.raw, &mut plain).is_ok() {
                    // Opened again below with a fresh sequence number.
                    c.reset_seq();
                    d.cipher = Some(c);
                    d.early = true;
                    break;
                }
            }
        }
        let Some(cipher) = d.cipher.as_mut() else {
            d.plain = plain;
            if self.awaiting_keys {
                self.hold(role, ts_ns, &h, body.bytes(), sink);
            }
            return;
        };
        // 0-RTT data may end without notice (rejected early data): the ciphertext is kept
        // for a second try with the handshake keys. Rare, so a copy is fine.
        let spare = (d.early && d.next_cipher.is_some()).then(|| body.bytes().to_vec());
        // Decrypted in place: in the held record, or in the reused buffer.
        let buf: &mut [u8] = match body {
            Body::Input(b) => {
                plain.clear();
                plain.extend_from_slice(b);
                &mut plain
            }
            Body::Held(b) => b,
        };
        let mut result = cipher.open_in_place(h.raw, buf);
        let retry = if result.is_err() { spare } else { None };
        if let (Some(spare), Some(mut next)) = (retry, d.next_cipher.take_if(|_| result.is_err())) {
            buf.copy_from_slice(&spare);
            let r = next.open_in_place(h.raw, buf);
            if r.is_ok() {
                d.cipher = Some(next);
                d.early = false;
                result = r;
            } else {
                d.next_cipher = Some(next);
            }
        }
        match result {
            Ok((ty, range)) => {
                if !d.early {
                    d.skip_failures = 0;
                }
                self.summary.decrypted = true;
                let data = buf.get(range).unwrap_or_default();
                self.content(role, ts_ns, ty, data, true, sink);
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
            if self.summary.error.is_none() {
                self.summary.error = Some(
                    TlsError::Gap {
                        side: side(role),
                        record,
                        len,
                    }
                    .to_string(),
                );
            }
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
            if self.awaiting_keys {
                self.retry_keys(ts_ns, sink);
                self.give_up_waiting(sink);
            }
            self.send_summary(sink);
        }
    }
}
