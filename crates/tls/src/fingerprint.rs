//! JA3/JA3S (Salesforce) and JA4 (FoxIO) fingerprints of the hellos. GREASE values are left
//! out of every list, as both specifications say.

use std::fmt::Write as _;

use md5::{Digest as _, Md5};
use sha2::Sha256;

use crate::handshake::hello::{ClientHello, ServerHello, ext, is_grease};

fn join<T: std::fmt::Display>(items: impl Iterator<Item = T>, sep: &str) -> String {
    let mut s = String::new();
    for (i, x) in items.enumerate() {
        if i > 0 {
            s.push_str(sep);
        }
        let _ = write!(s, "{x}");
    }
    s
}

fn md5_hex(s: &str) -> String {
    crate::keylog::hex(&Md5::digest(s.as_bytes()))
}

fn no_grease(v: &[u16]) -> impl Iterator<Item = u16> + '_ {
    v.iter().copied().filter(|&x| !is_grease(x))
}

impl ClientHello {
    /// The JA3 string: `version,ciphers,extensions,groups,point_formats`, decimal values
    /// joined by `-`, GREASE removed.
    pub fn ja3_string(&self) -> String {
        format!(
            "{},{},{},{},{}",
            self.legacy_version,
            join(no_grease(&self.ciphers), "-"),
            join(no_grease(&self.extensions), "-"),
            join(no_grease(&self.groups), "-"),
            join(self.ec_point_formats.iter(), "-"),
        )
    }

    /// The JA3 fingerprint: MD5 of [`ClientHello::ja3_string`], lowercase hex.
    pub fn ja3(&self) -> String {
        md5_hex(&self.ja3_string())
    }

    /// The JA4 fingerprint (`t13d1516h2_8daaf6152771_e5627efa2ab1`); `transport_tcp` false
    /// gives the QUIC form (`q...`).
    pub fn ja4(&self, transport_tcp: bool) -> String {
        let proto = if transport_tcp { 't' } else { 'q' };
        let version = no_grease(&self.supported_versions)
            .max()
            .unwrap_or(self.legacy_version);
        let version = match version {
            0x0304 => "13",
            0x0303 => "12",
            0x0302 => "11",
            0x0301 => "10",
            0x0300 => "s3",
            0x0002 => "s2",
            0xfeff => "d1",
            0xfefd => "d2",
            0xfefc => "d3",
            _ => "00",
        };
        let sni = if self.sni.is_some() { 'd' } else { 'i' };
        let ciphers: Vec<u16> = no_grease(&self.ciphers).collect();
        let exts: Vec<u16> = no_grease(&self.extensions).collect();
        let alpn = match self.alpn.first().map(String::as_bytes) {
            Some([first, .., last]) | Some([first @ last]) => {
                if first.is_ascii_alphanumeric() && last.is_ascii_alphanumeric() {
                    format!("{}{}", char::from(*first), char::from(*last))
                } else {
                    let h = crate::keylog::hex(&[*first, *last]);
                    let (a, b) = (h.get(..1).unwrap_or("0"), h.get(3..).unwrap_or("0"));
                    format!("{a}{b}")
                }
            }
            _ => "00".to_owned(),
        };
        let mut sorted_ciphers = ciphers.clone();
        sorted_ciphers.sort_unstable();
        let b = hash12(&join(
            sorted_ciphers.iter().map(|c| format!("{c:04x}")),
            ",",
        ));
        let mut sorted_exts: Vec<u16> = exts
            .iter()
            .copied()
            .filter(|&e| e != ext::SERVER_NAME && e != ext::ALPN)
            .collect();
        sorted_exts.sort_unstable();
        let mut c_text = join(sorted_exts.iter().map(|e| format!("{e:04x}")), ",");
        if !self.signature_algorithms.is_empty() {
            c_text.push('_');
            c_text.push_str(&join(
                no_grease(&self.signature_algorithms).map(|s| format!("{s:04x}")),
                ",",
            ));
        }
        let c = if sorted_exts.is_empty() {
            "000000000000".to_owned()
        } else {
            hash12(&c_text)
        };
        format!(
            "{proto}{version}{sni}{:02}{:02}{alpn}_{b}_{c}",
            ciphers.len().min(99),
            exts.len().min(99)
        )
    }
}

fn hash12(s: &str) -> String {
    if s.is_empty() {
        return "000000000000".to_owned();
    }
    let mut h = crate::keylog::hex(&Sha256::digest(s.as_bytes()));
    h.truncate(12);
    h
}

impl ServerHello {
    /// The JA3S string: `version,cipher,extensions`.
    pub fn ja3s_string(&self) -> String {
        format!(
            "{},{},{}",
            self.legacy_version,
            self.cipher,
            join(no_grease(&self.extensions), "-")
        )
    }

    /// The JA3S fingerprint: MD5 of [`ServerHello::ja3s_string`], lowercase hex.
    pub fn ja3s(&self) -> String {
        md5_hex(&self.ja3s_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The worked example of the JA4 specification (FoxIO's JA4 technical details):
    /// `t13d1516h2_8daaf6152771_e5627efa2ab1`, built from its raw lists (in wire order,
    /// with GREASE values that must be dropped).
    #[test]
    fn ja4_spec_example() {
        let ch = ClientHello {
            legacy_version: 0x0303,
            ciphers: vec![
                0x1a1a, 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8,
                0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035,
            ],
            extensions: vec![
                0x2a2a, 0x0000, 0x0017, 0xff01, 0x000a, 0x000b, 0x0023, 0x0010, 0x0005, 0x000d,
                0x0012, 0x0033, 0x002d, 0x002b, 0x001b, 0x0015, 0x4469, 0x3a3a,
            ],
            sni: Some("example.com".into()),
            alpn: vec!["h2".into(), "http/1.1".into()],
            supported_versions: vec![0x5a5a, 0x0304, 0x0303],
            signature_algorithms: vec![
                0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601,
            ],
            ..ClientHello::default()
        };
        assert_eq!(ch.ja4(true), "t13d1516h2_8daaf6152771_e5627efa2ab1");
        assert!(ch.ja4(false).starts_with("q13d1516h2_"));
        let bare = ClientHello {
            legacy_version: 0x0301,
            ..ClientHello::default()
        };
        assert_eq!(bare.ja4(true), "t10i000000_000000000000_000000000000");
        assert_eq!(bare.ja3_string(), "769,,,,");
    }
}
