//! TLS session details as people read them: version and cipher suite names, the short
//! description `http-trace` prints for a session (`TLS 1.3 example.com h2 (no key)`), and
//! the hello a single packet carries (`capture`'s `TLS ClientHello sni=example.com`).

use std::fmt::{self, Write};

use pcap_tls::{ClientHello, ServerHello, TlsSummary};

use crate::render::escape::Escaped;
use crate::render::json::Obj;

/// Handshake message types of the hellos (RFC 8446 section 4).
const CLIENT_HELLO: u8 = 1;
const SERVER_HELLO: u8 = 2;
/// Bytes of a TLS record header.
const RECORD_HEADER: usize = 5;

/// The hello that starts one TCP payload, found by content on any port.
#[derive(Debug)]
pub enum PacketHello {
    /// A whole ClientHello record.
    Client(ClientHello),
    /// A whole ServerHello (or HelloRetryRequest) record.
    Server(ServerHello),
    /// The payload starts a hello record that goes on in later segments (a large
    /// ClientHello, post-quantum key shares): `have` of its `len` bytes are here.
    Partial {
        /// The handshake message type (1 ClientHello, 2 ServerHello).
        ty: u8,
        /// Record bytes (header included) in this payload.
        have: usize,
        /// The record's length, header included.
        len: usize,
    },
}

/// The hello `payload` starts with, if it starts with one. A payload that does not look
/// like a TLS handshake record costs a few byte comparisons and no allocation.
pub fn packet_hello(payload: &[u8]) -> Option<PacketHello> {
    if !pcap_tls::looks_like_tls(payload) {
        return None;
    }
    let (&ty, &l0, &l1) = (payload.get(5)?, payload.get(3)?, payload.get(4)?);
    let len = RECORD_HEADER + usize::from(u16::from_be_bytes([l0, l1]));
    if payload.len() < len {
        return Some(PacketHello::Partial {
            ty,
            have: payload.len(),
            len,
        });
    }
    match ty {
        CLIENT_HELLO => pcap_tls::parse_client_hello(payload)
            .ok()
            .map(PacketHello::Client),
        SERVER_HELLO => pcap_tls::parse_server_hello(payload)
            .ok()
            .map(PacketHello::Server),
        _ => None,
    }
}

/// The name of a hello message.
fn hello_name(ty: u8, retry: bool) -> &'static str {
    match (ty, retry) {
        (CLIENT_HELLO, _) => "ClientHello",
        (_, true) => "HelloRetryRequest",
        _ => "ServerHello",
    }
}

/// Versions offered by a ClientHello: supported_versions without GREASE, else its
/// legacy version.
fn offered_versions(h: &ClientHello) -> impl Iterator<Item = u16> + '_ {
    let listed = h
        .supported_versions
        .iter()
        .copied()
        .filter(|&v| !pcap_tls::is_grease(v));
    let legacy = h.supported_versions.is_empty().then_some(h.legacy_version);
    listed.chain(legacy)
}

/// Appends the text of a packet's hello: `TLS ClientHello sni=example.com
/// alpn=h2,http/1.1`, `TLS ServerHello TLS 1.3 TLS_AES_128_GCM_SHA256 alpn=h2`, or
/// `TLS ClientHello (partial record: 1448 of 1834 bytes)`. SNI and ALPN are escaped.
pub fn write_packet_hello<W: Write>(w: &mut W, hello: &PacketHello) -> fmt::Result {
    match hello {
        PacketHello::Client(h) => {
            w.write_str("TLS ClientHello")?;
            if let Some(sni) = &h.sni {
                w.write_str(" sni=")?;
                write!(w, "{}", Escaped::plain(sni))?;
            }
            if !h.alpn.is_empty() {
                w.write_str(" alpn=")?;
                for (i, a) in h.alpn.iter().enumerate() {
                    if i > 0 {
                        w.write_char(',')?;
                    }
                    write!(w, "{}", Escaped::plain(a))?;
                }
            }
            Ok(())
        }
        PacketHello::Server(h) => {
            write!(
                w,
                "TLS {} {} {}",
                hello_name(SERVER_HELLO, h.hello_retry),
                version_text(h.version),
                cipher_text(h.cipher)
            )?;
            if let Some(alpn) = &h.alpn {
                w.write_str(" alpn=")?;
                write!(w, "{}", Escaped::plain(alpn))?;
            }
            Ok(())
        }
        PacketHello::Partial { ty, have, len } => write!(
            w,
            "TLS {} (partial record: {have} of {len} bytes)",
            hello_name(*ty, false)
        ),
    }
}

/// Adds a packet's hello as the `tls` member of `capture --json` (docs/json.md).
pub fn write_packet_hello_json(o: &mut Obj<'_>, hello: &PacketHello) {
    let mut j = o.obj("tls");
    match hello {
        PacketHello::Client(h) => {
            j.str("handshake", "client_hello");
            match &h.sni {
                Some(sni) => j.str("sni", sni),
                None => j.key("sni").extend_from_slice(b"null"),
            }
            let mut a = j.arr("alpn");
            for p in &h.alpn {
                a.str(p);
            }
            a.end();
            let mut v = j.arr("versions");
            for version in offered_versions(h) {
                v.str(&version_text(version));
            }
            v.end();
        }
        PacketHello::Server(h) => {
            j.str(
                "handshake",
                if h.hello_retry {
                    "hello_retry_request"
                } else {
                    "server_hello"
                },
            );
            j.str("version", &version_text(h.version));
            j.str("cipher", &cipher_text(h.cipher));
            match &h.alpn {
                Some(alpn) => j.str("alpn", alpn),
                None => j.key("alpn").extend_from_slice(b"null"),
            }
        }
        PacketHello::Partial { ty, have, len } => {
            j.str(
                "handshake",
                if *ty == CLIENT_HELLO {
                    "client_hello"
                } else {
                    "server_hello"
                },
            );
            j.bool("partial", true);
            j.u64("record_len", *len as u64);
            j.u64("captured", *have as u64);
        }
    }
    j.end();
}

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
    Escaped::plain(s).to_string()
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

    /// A ClientHello record: TLS 1.2 legacy version, one suite, server_name `sni` and ALPN
    /// `alpn`, supported_versions TLS 1.3 and 1.2 (after a GREASE value).
    fn client_hello(sni: &[u8], alpn: &[&[u8]]) -> Vec<u8> {
        let mut ext = Vec::new();
        let mut name = vec![0];
        name.extend_from_slice(&(sni.len() as u16).to_be_bytes());
        name.extend_from_slice(sni);
        let mut list = (name.len() as u16).to_be_bytes().to_vec();
        list.extend_from_slice(&name);
        push_ext(&mut ext, 0, &list);
        let mut protos = Vec::new();
        for p in alpn {
            protos.push(p.len() as u8);
            protos.extend_from_slice(p);
        }
        let mut list = (protos.len() as u16).to_be_bytes().to_vec();
        list.extend_from_slice(&protos);
        push_ext(&mut ext, 16, &list);
        push_ext(&mut ext, 43, &[6, 0x0a, 0x0a, 3, 4, 3, 3]);
        let mut body = vec![3, 3];
        body.extend_from_slice(&[7; 32]);
        body.extend_from_slice(&[0, 0, 2, 0x13, 0x01, 1, 0]);
        body.extend_from_slice(&(ext.len() as u16).to_be_bytes());
        body.extend_from_slice(&ext);
        let mut msg = vec![CLIENT_HELLO, 0];
        msg.extend_from_slice(&(body.len() as u16).to_be_bytes());
        msg.extend_from_slice(&body);
        let mut record = vec![22, 3, 1];
        record.extend_from_slice(&(msg.len() as u16).to_be_bytes());
        record.extend_from_slice(&msg);
        record
    }

    fn push_ext(out: &mut Vec<u8>, ty: u16, data: &[u8]) {
        out.extend_from_slice(&ty.to_be_bytes());
        out.extend_from_slice(&(data.len() as u16).to_be_bytes());
        out.extend_from_slice(data);
    }

    fn text(hello: &PacketHello) -> String {
        let mut s = String::new();
        write_packet_hello(&mut s, hello).unwrap();
        s
    }

    fn json(hello: &PacketHello) -> String {
        let mut out = Vec::new();
        let mut o = Obj::new(&mut out);
        write_packet_hello_json(&mut o, hello);
        o.end();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn a_packet_hello_is_shown_escaped_and_partial_records_say_so() {
        let record = client_hello(b"evil\x1b[2J.example", &[b"h2", b"http/1.1"]);
        let hello = packet_hello(&record).unwrap();
        assert_eq!(
            text(&hello),
            "TLS ClientHello sni=evil\\x1b[2J.example alpn=h2,http/1.1"
        );
        assert_eq!(
            json(&hello),
            r#"{"tls":{"handshake":"client_hello","sni":"evil\u001b[2J.example","alpn":["h2","http/1.1"],"versions":["TLS 1.3","TLS 1.2"]}}"#
        );
        // More records after it change nothing.
        let mut two = record.clone();
        two.extend_from_slice(&[20, 3, 3, 0, 1, 1]);
        assert_eq!(text(&packet_hello(&two).unwrap()), text(&hello));
        // Every proper prefix that still holds the type byte is a partial record.
        for cut in 6..record.len() {
            let partial = packet_hello(&record[..cut]).unwrap();
            assert_eq!(
                text(&partial),
                format!(
                    "TLS ClientHello (partial record: {cut} of {} bytes)",
                    record.len()
                )
            );
        }
        // Not TLS, or a record type that is not a hello: nothing.
        for payload in [
            &b"GET / HTTP/1.1\r\n"[..],
            &[],
            &[22, 3, 1],
            &record[..5],
            &[23, 3, 3, 0, 5, 1, 2, 3, 4, 5],
        ] {
            assert!(packet_hello(payload).is_none(), "{payload:?}");
        }
    }

    proptest::proptest! {
        /// Any bytes behind a hello record header, any length field, any damage to a real
        /// hello: never a panic, and the text and JSON are written.
        #[test]
        fn any_hello_shaped_payload_is_safe(
            ty in 1u8..=2,
            len in proptest::prelude::any::<u16>(),
            body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..400),
            flips in proptest::collection::vec((0usize..200, proptest::prelude::any::<u8>()), 0..4),
        ) {
            let mut shaped = vec![22, 3, 1];
            shaped.extend_from_slice(&len.to_be_bytes());
            shaped.push(ty);
            shaped.extend_from_slice(&body);
            let mut real = client_hello(b"example.com", &[b"h2"]);
            for (at, b) in flips {
                if let Some(x) = real.get_mut(at) {
                    *x = b;
                }
            }
            for payload in [shaped, real] {
                if let Some(h) = packet_hello(&payload) {
                    text(&h);
                    let j = json(&h);
                    proptest::prop_assert!(serde_json::from_str::<serde_json::Value>(&j).is_ok(), "{}", j);
                }
            }
        }
    }
}
