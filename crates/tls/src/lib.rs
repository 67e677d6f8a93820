//! TLS over reassembled TCP sessions: record layer, handshake details, JA3/JA4
//! fingerprints, and decryption with NSS key logs.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![doc = include_str!("../README.md")]

mod cert;
mod cipher;
mod error;
mod event;
mod fingerprint;
mod handshake;
mod keylog;
mod keyschedule;
mod names;
mod record;
mod session;

pub use cert::CertInfo;
pub use error::TlsError;
pub use event::{TlsEvent, TlsSummary};
pub use handshake::hello::is_grease;
pub use handshake::{ClientHello, ServerHello, parse_client_hello};
pub use keylog::{KeyLog, KeyLogWarning, KeyLookup, SecretLabel};
pub use names::{alert_name, cipher_name, version_name};
pub use pcap_tcp_reassembly::Direction;
pub use record::{MAX_RECORD, looks_like_tls};
pub use session::{MAX_WAIT_BYTES, MAX_WAIT_RECORDS, TlsConfig, TlsSession};

#[cfg(test)]
mod tests;
