//! What a [`crate::TlsSession`] reports: events borrowing the session's state, and the
//! per-session summary the CLI prints as one `tls` record.

use crate::{CertInfo, ClientHello, Direction, ServerHello, TlsError};

/// One thing a TLS session saw. Directions are TLS roles (client to server), which differ
/// from the TCP roles after [`TlsEvent::RolesSwapped`].
#[derive(Debug)]
#[non_exhaustive]
pub enum TlsEvent<'a> {
    /// A ClientHello (a second one follows a HelloRetryRequest).
    ClientHello {
        /// Time of the data that completed it.
        ts_ns: i64,
        /// The parsed hello.
        hello: &'a ClientHello,
    },
    /// A ServerHello or HelloRetryRequest (`hello.hello_retry`).
    ServerHello {
        /// Time of the data that completed it.
        ts_ns: i64,
        /// The parsed hello.
        hello: &'a ServerHello,
    },
    /// A certificate chain, leaf first: the server's (or the client's with mutual TLS), when
    /// visible: TLS 1.2 and older in clear, TLS 1.3 once decrypted.
    Certificate {
        /// Who sent it.
        dir: Direction,
        /// Time of the data that completed it.
        ts_ns: i64,
        /// The chain, leaf first.
        chain: &'a [CertInfo],
    },
    /// An alert, in clear or decrypted (`encrypted` tells which).
    Alert {
        /// Who sent it.
        dir: Direction,
        /// Time of its record.
        ts_ns: i64,
        /// 1 warning, 2 fatal.
        level: u8,
        /// The description ([`crate::alert_name`]).
        description: u8,
        /// The alert was inside an encrypted record.
        encrypted: bool,
    },
    /// Once per session: when the handshake is done (both Finished decrypted, or
    /// application data decrypted after one Finished, such as a TLS 1.3 server's half-RTT
    /// data, so the summary precedes the first Plaintext but 0-RTT data); without keys as soon as
    /// nothing more can be learned (after a TLS 1.3 ServerHello, at a TLS 1.2
    /// ChangeCipherSpec); at a fatal error; or at `end(None)` if the session ended first.
    /// Only for sessions that were TLS ([`crate::TlsSession::is_tls`]). Errors after it
    /// (a gap, a damaged record) come as [`TlsEvent::Error`] only.
    Summary(&'a TlsSummary),
    /// Decrypted application data, in order, per direction.
    Plaintext {
        /// Who sent it.
        dir: Direction,
        /// Time of its record.
        ts_ns: i64,
        /// The bytes (one record's worth).
        data: &'a [u8],
    },
    /// Something could not be decoded or decrypted. A decryption failure is fatal: nothing
    /// more is reported for the session but the Summary. A gap in encrypted data stops that
    /// direction only.
    Error {
        /// The direction concerned, if one.
        dir: Option<Direction>,
        /// Time of the data that showed it.
        ts_ns: i64,
        /// What went wrong and where.
        error: TlsError,
    },
    /// The first handshake seen showed the TCP client acting as the TLS server (session
    /// picked up mid-stream, or roles reversed): later directions are TLS roles.
    RolesSwapped {
        /// Time of the record that showed it.
        ts_ns: i64,
    },
}

/// What a session was, for one `tls` output record.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TlsSummary {
    /// Time of the first ClientHello, else of the first record.
    pub ts_ns: i64,
    /// The negotiated version (supported_versions when present).
    pub version: Option<u16>,
    /// The chosen cipher suite.
    pub cipher: Option<u16>,
    /// server_name of the first ClientHello.
    pub sni: Option<String>,
    /// The chosen ALPN protocol (ServerHello in TLS 1.2, EncryptedExtensions in 1.3 once
    /// decrypted).
    pub alpn: Option<String>,
    /// The ALPN protocols offered by the first ClientHello.
    pub alpn_offered: Vec<String>,
    /// JA3 of the first ClientHello.
    pub ja3: Option<String>,
    /// JA3S of the ServerHello.
    pub ja3s: Option<String>,
    /// JA4 of the first ClientHello.
    pub ja4: Option<String>,
    /// The server's leaf certificate, when visible.
    pub cert: Option<CertInfo>,
    /// The session resumed an earlier one (TLS 1.2 session id or ticket, TLS 1.3 PSK).
    pub resumed: bool,
    /// At least one encrypted record was decrypted.
    pub decrypted: bool,
    /// Why decryption failed or is impossible (`None` with `decrypted: false` means no key).
    pub error: Option<String>,
    /// The client random (the key log key).
    pub client_random: Option<[u8; 32]>,
}
