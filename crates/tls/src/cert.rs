//! Certificate messages (TLS 1.2 and 1.3 layouts) and the few X.509 fields a user wants to
//! see: subject, SAN names, issuer, expiry. No chain validation: we describe, not verify.

use x509_parser::extensions::GeneralName;
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::TlsError;
use crate::handshake::reader::Reader;

/// What we show of one certificate.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CertInfo {
    /// The subject distinguished name, RFC 4514 style (`CN=example.com, O=Example`).
    pub subject: String,
    /// The subject's first commonName.
    pub subject_cn: Option<String>,
    /// The dNSName entries of subjectAltName, in order.
    pub san: Vec<String>,
    /// The iPAddress entries of subjectAltName, as text.
    pub san_ip: Vec<String>,
    /// The issuer distinguished name.
    pub issuer: String,
    /// notAfter as RFC 3339 UTC (`2026-01-31T23:59:59Z`).
    pub not_after: String,
}

/// Parses a Certificate handshake body; `tls13` selects the TLS 1.3 layout (request context
/// and per-entry extensions). Certificates x509-parser cannot read are described as empty
/// entries rather than failing the message.
pub(crate) fn parse_certificate_body(body: &[u8], tls13: bool) -> Result<Vec<CertInfo>, TlsError> {
    let mut r = Reader::new(body, "Certificate");
    if tls13 {
        r.vec(1)?;
    }
    let mut list = r.vec(3)?;
    let mut out = Vec::new();
    while !list.is_empty() {
        let der = list.vec(3)?.rest();
        if tls13 {
            list.vec(2)?;
        }
        out.push(describe(der));
    }
    Ok(out)
}

/// The largest brotli window accepted for a compressed certificate (as for HTTP bodies in
/// pcap-http-ws): a stream may declare up to 16 MiB, which the decoder would allocate.
const MAX_BROTLI_WINDOW_BITS: u32 = 22;

/// Decompresses a CompressedCertificate body (RFC 8879) into a TLS 1.3 Certificate body,
/// refusing more than `max` bytes.
pub(crate) fn decompress_certificate(body: &[u8], max: usize) -> Result<Vec<u8>, TlsError> {
    use std::io::Read as _;
    let mut r = Reader::new(body, "CompressedCertificate");
    let algorithm = r.u16()?;
    let len = r.u24()?;
    let data = r.vec(3)?.rest();
    let fail = |reason| TlsError::CertificateDecompression { algorithm, reason };
    if len > max {
        return Err(fail("declared length over the handshake message cap"));
    }
    let mut out = Vec::with_capacity(len);
    let limit = u64::try_from(len).unwrap_or(u64::MAX).saturating_add(1);
    let read = match algorithm {
        1 => flate2::read::ZlibDecoder::new(data)
            .take(limit)
            .read_to_end(&mut out),
        2 => {
            if brotli_window_bits(data).is_none_or(|w| w > MAX_BROTLI_WINDOW_BITS) {
                return Err(fail("brotli window over 4 MiB"));
            }
            brotli::Decompressor::new(data, 4096)
                .take(limit)
                .read_to_end(&mut out)
        }
        3 => return Err(fail("zstd is not supported")),
        _ => return Err(fail("unknown algorithm")),
    };
    if read.is_err() {
        return Err(fail("damaged data"));
    }
    if out.len() != len {
        return Err(fail("length differs from the declared one"));
    }
    Ok(out)
}

/// The window size (bits) a brotli stream declares in its first bits (RFC 7932 section 9.1);
/// `None` for the large-window extension or an empty stream.
fn brotli_window_bits(data: &[u8]) -> Option<u32> {
    let b = u32::from(*data.first()?);
    if b & 1 == 0 {
        return Some(16);
    }
    let n = (b >> 1) & 7;
    if n != 0 {
        return Some(17 + n);
    }
    match (b >> 4) & 7 {
        0 => Some(17),
        1 => None,
        m => Some(8 + m),
    }
}

/// Describes one DER certificate.
pub fn describe(der: &[u8]) -> CertInfo {
    let Ok((_, cert)) = X509Certificate::from_der(der) else {
        return CertInfo::default();
    };
    let mut info = CertInfo {
        subject: cert.subject().to_string(),
        subject_cn: cert
            .subject()
            .iter_common_name()
            .next()
            .and_then(|cn| cn.as_str().ok())
            .map(str::to_owned),
        issuer: cert.issuer().to_string(),
        not_after: rfc3339(cert.validity().not_after.timestamp()),
        ..CertInfo::default()
    };
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        for name in &san.value.general_names {
            match name {
                GeneralName::DNSName(n) => info.san.push((*n).to_owned()),
                GeneralName::IPAddress(ip) => info.san_ip.push(ip_text(ip)),
                _ => {}
            }
        }
    }
    info
}

fn ip_text(b: &[u8]) -> String {
    if let Ok(v4) = <[u8; 4]>::try_from(b) {
        std::net::Ipv4Addr::from(v4).to_string()
    } else if let Ok(v6) = <[u8; 16]>::try_from(b) {
        std::net::Ipv6Addr::from(v6).to_string()
    } else {
        crate::keylog::hex(b)
    }
}

/// Unix seconds as RFC 3339 UTC (days to civil date after Howard Hinnant's algorithm).
fn rfc3339(t: i64) -> String {
    let days = t.div_euclid(86_400);
    let secs = t.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(2_147_483_647), "2038-01-19T03:14:07Z");
        assert_eq!(rfc3339(-1), "1969-12-31T23:59:59Z");
    }
}
