//! ClientHello and ServerHello (RFC 8446 section 4.1, RFC 5246 section 7.4.1): everything the
//! summary, the fingerprints and the key schedule need, owned so events can outlive the
//! record buffers they came from.

use super::reader::Reader;
use crate::TlsError;

/// Extension type numbers we read.
pub(crate) mod ext {
    pub const SERVER_NAME: u16 = 0;
    pub const SUPPORTED_GROUPS: u16 = 10;
    pub const EC_POINT_FORMATS: u16 = 11;
    pub const SIGNATURE_ALGORITHMS: u16 = 13;
    pub const ALPN: u16 = 16;
    pub const ENCRYPT_THEN_MAC: u16 = 22;
    pub const EXTENDED_MASTER_SECRET: u16 = 23;
    pub const SESSION_TICKET: u16 = 35;
    pub const PRE_SHARED_KEY: u16 = 41;
    pub const EARLY_DATA: u16 = 42;
    pub const SUPPORTED_VERSIONS: u16 = 43;
    pub const KEY_SHARE: u16 = 51;
    pub const ENCRYPTED_CLIENT_HELLO: u16 = 0xfe0d;
}

/// The ServerHello random that marks a HelloRetryRequest (RFC 8446 section 4.1.3).
const HELLO_RETRY_RANDOM: [u8; 32] = [
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
];

/// True for the reserved GREASE values (RFC 8701): `0x?a?a` with both bytes equal.
pub fn is_grease(v: u16) -> bool {
    v & 0x0f0f == 0x0a0a && v >> 8 == v & 0xff
}

/// A parsed ClientHello. Lists keep the wire order and GREASE values (fingerprints drop them).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClientHello {
    /// `legacy_version` (`client_version` before TLS 1.3).
    pub legacy_version: u16,
    /// The client random, the key of every key log line.
    pub random: [u8; 32],
    /// The legacy session id.
    pub session_id: Vec<u8>,
    /// Offered cipher suites.
    pub ciphers: Vec<u16>,
    /// Compression methods.
    pub compression: Vec<u8>,
    /// Extension types, in order.
    pub extensions: Vec<u16>,
    /// server_name (the first host_name entry), lossily decoded.
    pub sni: Option<String>,
    /// Offered ALPN protocols.
    pub alpn: Vec<String>,
    /// supported_versions.
    pub supported_versions: Vec<u16>,
    /// supported_groups.
    pub groups: Vec<u16>,
    /// ec_point_formats.
    pub ec_point_formats: Vec<u8>,
    /// signature_algorithms.
    pub signature_algorithms: Vec<u16>,
    /// A pre_shared_key extension is present (TLS 1.3 resumption offered).
    pub psk: bool,
    /// The early_data extension is present (0-RTT data may follow).
    pub early_data: bool,
    /// Groups of the key_share entries.
    pub key_share_groups: Vec<u16>,
    /// A non-empty session_ticket extension (TLS 1.2 ticket resumption offered).
    pub session_ticket: bool,
    /// encrypt_then_mac offered.
    pub encrypt_then_mac: bool,
    /// extended_master_secret offered.
    pub extended_master_secret: bool,
    /// An encrypted_client_hello extension (the SNI seen is the outer one).
    pub ech: bool,
}

/// A parsed ServerHello, or a HelloRetryRequest (`hello_retry`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServerHello {
    /// `legacy_version` (`server_version` before TLS 1.3).
    pub legacy_version: u16,
    /// The negotiated version: supported_versions when present, else `legacy_version`.
    pub version: u16,
    /// The server random.
    pub random: [u8; 32],
    /// The session id (echoed by TLS 1.2 session resumption, and by TLS 1.3 compatibility mode).
    pub session_id: Vec<u8>,
    /// The chosen cipher suite.
    pub cipher: u16,
    /// The chosen compression method.
    pub compression: u8,
    /// Extension types, in order.
    pub extensions: Vec<u16>,
    /// ALPN chosen, when the ServerHello carries it (TLS 1.2; TLS 1.3 puts it in
    /// EncryptedExtensions, see [`crate::TlsSummary::alpn`]).
    pub alpn: Option<String>,
    /// This is a HelloRetryRequest.
    pub hello_retry: bool,
    /// The server accepted a pre-shared key (TLS 1.3 resumption).
    pub psk_accepted: bool,
    /// encrypt_then_mac negotiated.
    pub encrypt_then_mac: bool,
    /// extended_master_secret negotiated.
    pub extended_master_secret: bool,
    /// The key_share group (the requested one in a HelloRetryRequest).
    pub key_share_group: Option<u16>,
}

fn alpn_list(r: &mut Reader<'_>) -> Result<Vec<String>, TlsError> {
    let mut list = r.vec(2)?;
    let mut out = Vec::new();
    while !list.is_empty() {
        let name = list.vec(1)?.rest();
        out.push(String::from_utf8_lossy(name).into_owned());
    }
    Ok(out)
}

/// Parses a ClientHello body (after the 4-byte handshake header).
pub(crate) fn parse_client_hello_body(body: &[u8]) -> Result<ClientHello, TlsError> {
    let mut r = Reader::new(body, "ClientHello");
    let mut ch = ClientHello {
        legacy_version: r.u16()?,
        ..ClientHello::default()
    };
    ch.random.copy_from_slice(r.bytes(32)?);
    ch.session_id = r.vec(1)?.rest().to_vec();
    ch.ciphers = r.vec(2)?.u16s()?;
    ch.compression = r.vec(1)?.rest().to_vec();
    if r.is_empty() {
        return Ok(ch);
    }
    let mut exts = r.vec(2)?;
    while !exts.is_empty() {
        let ty = exts.u16()?;
        let mut data = exts.vec(2)?;
        ch.extensions.push(ty);
        match ty {
            ext::SERVER_NAME => {
                let mut list = data.vec(2)?;
                while !list.is_empty() {
                    let kind = list.u8()?;
                    let name = list.vec(2)?.rest();
                    if kind == 0 && ch.sni.is_none() {
                        ch.sni = Some(String::from_utf8_lossy(name).into_owned());
                    }
                }
            }
            ext::ALPN => ch.alpn = alpn_list(&mut data)?,
            ext::SUPPORTED_VERSIONS => ch.supported_versions = data.vec(1)?.u16s()?,
            ext::SUPPORTED_GROUPS => ch.groups = data.vec(2)?.u16s()?,
            ext::EC_POINT_FORMATS => ch.ec_point_formats = data.vec(1)?.rest().to_vec(),
            ext::SIGNATURE_ALGORITHMS => ch.signature_algorithms = data.vec(2)?.u16s()?,
            ext::PRE_SHARED_KEY => ch.psk = true,
            ext::EARLY_DATA => ch.early_data = true,
            ext::KEY_SHARE => {
                let mut list = data.vec(2)?;
                while !list.is_empty() {
                    ch.key_share_groups.push(list.u16()?);
                    list.vec(2)?;
                }
            }
            ext::SESSION_TICKET => ch.session_ticket = !data.is_empty(),
            ext::ENCRYPT_THEN_MAC => ch.encrypt_then_mac = true,
            ext::EXTENDED_MASTER_SECRET => ch.extended_master_secret = true,
            ext::ENCRYPTED_CLIENT_HELLO => ch.ech = true,
            _ => {}
        }
    }
    Ok(ch)
}

/// Parses a ServerHello body (after the 4-byte handshake header).
pub(crate) fn parse_server_hello_body(body: &[u8]) -> Result<ServerHello, TlsError> {
    let mut r = Reader::new(body, "ServerHello");
    let legacy_version = r.u16()?;
    let mut sh = ServerHello {
        legacy_version,
        version: legacy_version,
        ..ServerHello::default()
    };
    sh.random.copy_from_slice(r.bytes(32)?);
    sh.hello_retry = sh.random == HELLO_RETRY_RANDOM;
    sh.session_id = r.vec(1)?.rest().to_vec();
    sh.cipher = r.u16()?;
    sh.compression = r.u8()?;
    if r.is_empty() {
        return Ok(sh);
    }
    let mut exts = r.vec(2)?;
    while !exts.is_empty() {
        let ty = exts.u16()?;
        let mut data = exts.vec(2)?;
        sh.extensions.push(ty);
        match ty {
            ext::SUPPORTED_VERSIONS => sh.version = data.u16()?,
            ext::ALPN => sh.alpn = alpn_list(&mut data)?.into_iter().next(),
            ext::PRE_SHARED_KEY => sh.psk_accepted = true,
            ext::KEY_SHARE => sh.key_share_group = Some(data.u16()?),
            ext::ENCRYPT_THEN_MAC => sh.encrypt_then_mac = true,
            ext::EXTENDED_MASTER_SECRET => sh.extended_master_secret = true,
            _ => {}
        }
    }
    Ok(sh)
}

/// The ALPN protocol chosen in an EncryptedExtensions body (TLS 1.3), if any; also whether
/// the server accepted early data.
pub(crate) fn parse_encrypted_extensions(body: &[u8]) -> Result<(Option<String>, bool), TlsError> {
    let mut r = Reader::new(body, "EncryptedExtensions");
    let mut exts = r.vec(2)?;
    let (mut alpn, mut early) = (None, false);
    while !exts.is_empty() {
        let ty = exts.u16()?;
        let mut data = exts.vec(2)?;
        match ty {
            ext::ALPN => alpn = alpn_list(&mut data)?.into_iter().next(),
            ext::EARLY_DATA => early = true,
            _ => {}
        }
    }
    Ok((alpn, early))
}
