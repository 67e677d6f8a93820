//! What can go wrong in a TLS session, each error naming what failed and where: the
//! direction (TLS roles) and the 1-based number of the record in that direction.

use thiserror::Error;

/// An error of the record layer, the handshake parser or decryption.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum TlsError {
    /// A record failed authentication: wrong key, or damaged bytes.
    #[error("bad record MAC at {side} record {record}")]
    BadRecordMac {
        /// "client" or "server".
        side: &'static str,
        /// 1-based record number in that direction.
        record: u64,
    },
    /// A CBC record whose padding or length is impossible.
    #[error("bad padding at {side} record {record}")]
    BadPadding {
        /// "client" or "server".
        side: &'static str,
        /// 1-based record number in that direction.
        record: u64,
    },
    /// A record longer than TLS allows (2^14 + 2048 bytes of ciphertext).
    #[error("record too large ({len} bytes) at {side} record {record}")]
    RecordTooLarge {
        /// "client" or "server".
        side: &'static str,
        /// 1-based record number in that direction.
        record: u64,
        /// The length in the record header.
        len: usize,
    },
    /// Bytes that are not a TLS record header where one was expected.
    #[error("not a TLS record header at {side} record {record}")]
    NotARecord {
        /// "client" or "server".
        side: &'static str,
        /// 1-based record number in that direction.
        record: u64,
    },
    /// A handshake message longer than the configured cap.
    #[error("handshake message of {len} bytes over the {max}-byte cap ({side})")]
    HandshakeTooLarge {
        /// "client" or "server".
        side: &'static str,
        /// The length in the message header.
        len: usize,
        /// `TlsConfig::max_handshake_message`.
        max: usize,
    },
    /// A handshake message that could not be parsed.
    #[error("malformed {what} at byte {offset}")]
    Malformed {
        /// Which message or field.
        what: &'static str,
        /// Offset within the message where parsing stopped.
        offset: usize,
    },
    /// The negotiated cipher suite is one we cannot decrypt (NULL, RC4, 3DES, export, unknown).
    #[error("cipher suite 0x{cipher:04x} ({}) cannot be decrypted", crate::cipher_name(*cipher).unwrap_or("unknown"))]
    UnsupportedCipher {
        /// The suite id.
        cipher: u16,
    },
    /// The negotiated protocol version is one we cannot decrypt (SSL 3.0, unknown).
    #[error("version 0x{version:04x} cannot be decrypted")]
    UnsupportedVersion {
        /// The version.
        version: u16,
    },
    /// A key log secret of the wrong length for the cipher suite.
    #[error("key log secret {label} has the wrong length for the cipher suite")]
    BadSecret {
        /// The key log label.
        label: crate::SecretLabel,
    },
    /// Bytes of encrypted data were never captured: the direction cannot be decrypted further.
    #[error("{len} bytes lost in encrypted data after {side} record {record}")]
    Gap {
        /// "client" or "server".
        side: &'static str,
        /// The last record decoded before the gap.
        record: u64,
        /// Bytes lost.
        len: u64,
    },
    /// A session's secrets were still not in the key log when the records held for them
    /// reached the cap: they are handled without keys from then on (the summary says no key).
    #[error("no key logged while {records} records ({bytes} bytes) were held for it")]
    KeyNotLogged {
        /// Records held.
        records: usize,
        /// Bytes held (record headers included).
        bytes: usize,
    },
    /// The session ended in the middle of a record or handshake message.
    #[error("{side} stream ended inside a record ({held} bytes held)")]
    Truncated {
        /// "client" or "server".
        side: &'static str,
        /// Bytes of the unfinished record.
        held: usize,
    },
}
