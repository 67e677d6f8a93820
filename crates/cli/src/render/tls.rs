//! TLS session details as people read them: version and cipher suite names, and the short
//! description `http-trace` prints for a session (`TLS 1.3 example.com h2 (no key)`).

use pcap_tls::TlsSummary;

use crate::render::escape::{TextStyle, write_text_bytes};

/// `TLS 1.3`, or the number in hex when it is not a known version.
pub fn version_text(v: u16) -> String {
    pcap_tls::version_name(v).map_or_else(|| format!("0x{v:04x}"), str::to_owned)
}

/// The IANA name (`TLS_AES_128_GCM_SHA256`), or the number in hex when it is not known.
pub fn cipher_text(c: u16) -> String {
    pcap_tls::cipher_name(c).map_or_else(|| format!("0x{c:04x}"), str::to_owned)
}

/// `TLS 1.3 example.com h2` (or `offers h2,http/1.1` when the choice is encrypted), then why the bytes inside are not shown when they are not:
/// `(no key)`, or the error that stopped decryption. Wire-derived text is escaped.
pub fn describe(s: &TlsSummary) -> String {
    let mut parts = vec![s.version.map_or_else(|| "TLS".to_owned(), version_text)];
    if let Some(sni) = &s.sni {
        parts.push(escaped(sni));
    }
    match &s.alpn {
        Some(alpn) => parts.push(escaped(alpn)),
        // TLS 1.3 hides the chosen one: what the client offered is all there is.
        None if !s.alpn_offered.is_empty() => {
            parts.push(format!("offers {}", escaped(&s.alpn_offered.join(","))));
        }
        None => {}
    }
    if s.resumed {
        parts.push("resumed".to_owned());
    }
    match (&s.error, s.decrypted) {
        (Some(e), _) => parts.push(format!("({e})")),
        (None, false) => parts.push("(no key)".to_owned()),
        (None, true) => {}
    }
    parts.join(" ")
}

/// Wire text made safe for a terminal.
fn escaped(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    // Writing into a String cannot fail.
    let _ = write_text_bytes(&mut out, s.as_bytes(), TextStyle::Hex);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describes_what_was_seen_and_why_nothing_inside_is() {
        let mut s = TlsSummary::default();
        s.version = Some(0x0304);
        s.sni = Some("example.com".to_owned());
        s.alpn_offered = vec!["h2".to_owned(), "http/1.1".to_owned()];
        assert_eq!(
            describe(&s),
            "TLS 1.3 example.com offers h2,http/1.1 (no key)"
        );
        s.alpn = Some("h2".to_owned());
        s.decrypted = true;
        assert_eq!(describe(&s), "TLS 1.3 example.com h2");
        s.error = Some("bad record MAC at server record 7".to_owned());
        s.sni = Some("evil\x1b[2J.com".to_owned());
        assert_eq!(
            describe(&s),
            "TLS 1.3 evil\\x1b[2J.com h2 (bad record MAC at server record 7)"
        );
        assert_eq!(version_text(0x7f1c), "0x7f1c");
        assert_eq!(cipher_text(0x1301), "TLS_AES_128_GCM_SHA256");
    }
}
