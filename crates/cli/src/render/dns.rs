//! DNS messages as text (the end of a `capture` line) and as the `dns` object of a
//! `capture --json` line.
//!
//! Names are written label by label joined by `.` (as tshark does; a `.` inside a label is
//! not escaped), the root name as `<Root>` (tshark's spelling). In text, names and strings
//! go through the terminal policy with every non-ASCII byte as `\xNN` ([`Text::DNS`]); in JSON, every byte is read as Latin-1 and the string is ASCII
//! ([`JsonStyle::Ascii`](super::escape::JsonStyle::Ascii)).

use std::fmt::{self, Write as _};

use pcap_decode::dns::{DnsMessage, Name, Rdata, Section, type_name};

use super::escape::{JsonAscii, Text, write_text};

/// Most answers listed in a summary line before `...`.
const SUMMARY_MAX_ANSWERS: usize = 4;

/// Where rendered DNS text goes, which decides how bytes off the wire are written.
#[derive(Clone, Copy)]
enum Style {
    /// Terminal text: see [`Text::DNS`].
    Text,
    /// The inside of a JSON string: each byte as the character U+00NN, which the
    /// [`JsonAscii`] writer then escapes.
    Json,
}

/// Writes the bytes of a label or character-string; `quoted` for text between quotes.
fn write_bytes<W: fmt::Write>(w: &mut W, bytes: &[u8], style: Style, quoted: bool) -> fmt::Result {
    match style {
        Style::Text => {
            let text = if quoted { Text::DNS_QUOTED } else { Text::DNS };
            write_text(w, bytes, text)
        }
        Style::Json => {
            for &b in bytes {
                if quoted && (b == b'"' || b == b'\\') {
                    w.write_char('\\')?;
                }
                w.write_char(char::from(b))?;
            }
            Ok(())
        }
    }
}

fn write_name<W: fmt::Write>(w: &mut W, name: &Name<'_>, style: Style) -> fmt::Result {
    let mut first = true;
    for label in name.labels() {
        if !first {
            w.write_char('.')?;
        }
        first = false;
        write_bytes(w, label, style, false)?;
    }
    if first {
        w.write_str("<Root>")?;
    }
    Ok(())
}

/// Presentation form: addresses, names, `pref exchange`, quoted strings, hex for others.
fn write_rdata<W: fmt::Write>(w: &mut W, rdata: &Rdata<'_>, style: Style) -> fmt::Result {
    match rdata {
        Rdata::A(a) => write!(w, "{a}"),
        Rdata::Aaaa(a) => write!(w, "{a}"),
        Rdata::Cname(n) | Rdata::Ns(n) | Rdata::Ptr(n) => write_name(w, n, style),
        Rdata::Mx {
            preference,
            exchange,
        } => {
            write!(w, "{preference} ")?;
            write_name(w, exchange, style)
        }
        Rdata::Txt(strings) => {
            for (i, s) in strings.enumerate() {
                if i > 0 {
                    w.write_char(' ')?;
                }
                w.write_char('"')?;
                write_bytes(w, s, style, true)?;
                w.write_char('"')?;
            }
            Ok(())
        }
        Rdata::Soa {
            mname,
            rname,
            serial,
            refresh,
            retry,
            expire,
            minimum,
        } => {
            write_name(w, mname, style)?;
            w.write_char(' ')?;
            write_name(w, rname, style)?;
            write!(w, " {serial} {refresh} {retry} {expire} {minimum}")
        }
        Rdata::Srv {
            priority,
            weight,
            port,
            target,
        } => {
            write!(w, "{priority} {weight} {port} ")?;
            write_name(w, target, style)
        }
        Rdata::Opt(o) => write!(
            w,
            "udp_payload_size={} version={} do={} options={}",
            o.udp_payload_size,
            o.version,
            o.dnssec_ok,
            o.options().count()
        ),
        Rdata::Other { data, .. } => {
            for b in data.iter() {
                write!(w, "{b:02x}")?;
            }
            Ok(())
        }
        // Rdata is non-exhaustive: a type decoded later shows as its raw bytes until it
        // gets a form of its own here.
        _ => Ok(()),
    }
}

/// A name as terminal text (`www.example.com`, `<Root>`, `\xNN` for other bytes).
#[derive(Debug, Clone, Copy)]
pub struct NameText<'a>(pub Name<'a>);

impl fmt::Display for NameText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_name(f, &self.0, Style::Text)
    }
}

/// Record data as terminal text, in presentation form.
#[derive(Debug, Clone, Copy)]
pub struct RdataText<'a>(pub Rdata<'a>);

impl fmt::Display for RdataText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_rdata(f, &self.0, Style::Text)
    }
}

/// The RCODE names used in summaries.
fn rcode_name(rcode: u8) -> Option<&'static str> {
    Some(match rcode {
        0 => return None,
        1 => "FormErr",
        2 => "ServFail",
        3 => "NXDomain",
        4 => "NotImp",
        5 => "Refused",
        6 => "YXDomain",
        7 => "YXRRSet",
        8 => "NXRRSet",
        9 => "NotAuth",
        10 => "NotZone",
        _ => "RCode",
    })
}

/// The one-line summary of a message: `DNS query 0x1a2b A example.com` or
/// `DNS response 0x1a2b A example.com -> 93.184.216.34`.
#[derive(Debug, Clone, Copy)]
pub struct Summary<'a>(pub DnsMessage<'a>);

impl fmt::Display for Summary<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let msg = &self.0;
        let flags = msg.flags();
        let kind = if flags.response() {
            "response"
        } else {
            "query"
        };
        write!(f, "DNS {kind} {:#06x}", msg.id())?;
        match msg.questions().next() {
            Some(Ok(q)) => write!(f, " {} {}", type_name(q.qtype), NameText(q.name))?,
            Some(Err(e)) => return write!(f, " [malformed: {e}]"),
            // mDNS announcements carry answers without questions: name the first answer.
            None => {
                if let Some(Ok(r)) = msg.answers().next() {
                    write!(f, " {} {}", type_name(r.rtype), NameText(r.name))?;
                }
            }
        }
        if !flags.response() {
            return Ok(());
        }
        if let Some(name) = rcode_name(flags.rcode()) {
            write!(f, " {name}")?;
            if name == "RCode" {
                write!(f, "{}", flags.rcode())?;
            }
        }
        let mut sep = " -> ";
        for (i, r) in msg.answers().enumerate() {
            if i == SUMMARY_MAX_ANSWERS {
                return f.write_str(", ...");
            }
            match r.and_then(|r| r.rdata()) {
                Ok(d) => write!(f, "{sep}{}", RdataText(d))?,
                Err(e) => return write!(f, " [malformed: {e}]"),
            }
            sep = ", ";
        }
        Ok(())
    }
}

/// Appends the message as one JSON object to `out`:
/// `{"id":..,"response":..,"opcode":..,"rcode":..,"questions":[{"name":..,"type":..}],
/// "answers":[{"name":..,"type":..,"ttl":..,"data":..}],"authority":[..],"additional":[..]}`,
/// plus `"error":".."` when part of the message could not be decoded.
pub fn write_json(out: &mut Vec<u8>, msg: &DnsMessage<'_>) {
    let mut j = JsonOut(out);
    // Writing into a Vec cannot fail.
    let _ = json(&mut j, msg);
}

fn section_index(s: Section) -> usize {
    match s {
        Section::Answer => 0,
        Section::Authority => 1,
        // Section is non-exhaustive: anything after the answers and authority is additional.
        _ => 2,
    }
}

fn json(j: &mut JsonOut<'_>, msg: &DnsMessage<'_>) -> fmt::Result {
    let flags = msg.flags();
    write!(
        j,
        "{{\"id\":{},\"response\":{},\"opcode\":{},\"rcode\":{},\"questions\":[",
        msg.id(),
        flags.response(),
        flags.opcode(),
        flags.rcode()
    )?;
    let mut error = None;
    for (i, q) in msg.questions().enumerate() {
        let q = match q {
            Ok(q) => q,
            Err(e) => {
                error = Some(e);
                break;
            }
        };
        if i > 0 {
            j.write_char(',')?;
        }
        j.write_str("{\"name\":")?;
        j.string(|s| write_name(s, &q.name, Style::Json))?;
        write!(j, ",\"type\":\"{}\"}}", type_name(q.qtype))?;
    }
    j.write_str("]")?;
    // The three sections are always present, in order, possibly empty.
    const KEYS: [&str; 3] = ["answers", "authority", "additional"];
    let mut open = 0;
    j.write_str(",\"answers\":[")?;
    let mut first = true;
    let records = msg.records().take_while(|_| error.is_none());
    for r in records {
        let r = match r {
            Ok(r) => r,
            Err(e) => {
                error = Some(e);
                break;
            }
        };
        let idx = section_index(r.section);
        while open < idx {
            open += 1;
            write!(
                j,
                "],\"{}\":[",
                KEYS.get(open).copied().unwrap_or("additional")
            )?;
            first = true;
        }
        if !first {
            j.write_char(',')?;
        }
        first = false;
        j.write_str("{\"name\":")?;
        j.string(|s| write_name(s, &r.name, Style::Json))?;
        write!(j, ",\"type\":\"{}\",\"ttl\":{}", type_name(r.rtype), r.ttl)?;
        match r.rdata() {
            Ok(d) => {
                j.write_str(",\"data\":")?;
                j.string(|s| write_rdata(s, &d, Style::Json))?;
            }
            Err(e) => {
                j.write_str(",\"data_error\":")?;
                j.string(|s| write!(s, "{e}"))?;
            }
        }
        j.write_char('}')?;
    }
    while open < 2 {
        open += 1;
        write!(
            j,
            "],\"{}\":[",
            KEYS.get(open).copied().unwrap_or("additional")
        )?;
    }
    j.write_str("]")?;
    if let Some(e) = error {
        j.write_str(",\"error\":")?;
        j.string(|s| write!(s, "{e}"))?;
    }
    j.write_char('}')
}

/// A JSON writer over a byte vector for text this program chose; [`JsonOut::string`]
/// escapes what goes between quotes.
struct JsonOut<'v>(&'v mut Vec<u8>);

impl fmt::Write for JsonOut<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

impl JsonOut<'_> {
    /// Writes a quoted JSON string whose content `f` produces, in the ASCII style.
    fn string(&mut self, f: impl FnOnce(&mut JsonAscii<'_>) -> fmt::Result) -> fmt::Result {
        self.0.push(b'"');
        f(&mut JsonAscii(self.0))?;
        self.0.push(b'"');
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use pcap_decode::build::{DnsBuilder, dns_every_type_response, dns_labels as labels};
    use pcap_decode::dns::rtype;
    use proptest::prelude::*;

    /// A standard query for `A www.example.com`, id 0x1a2b, RD set (as dig sends it).
    static QUERY: [u8; 33] = [
        0x1a, 0x2b, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, //
        3, b'w', b'w', b'w', 7, b'e', b'x', b'a', b'm', b'p', b'l', b'e', 3, b'c', b'o', b'm', 0,
        0x00, 0x01, 0x00, 0x01,
    ];

    fn summary(bytes: &[u8]) -> String {
        Summary(DnsMessage::parse(bytes).unwrap()).to_string()
    }

    fn json_text(bytes: &[u8]) -> String {
        let mut out = Vec::new();
        write_json(&mut out, &DnsMessage::parse(bytes).unwrap());
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn query_summary() {
        assert_eq!(summary(&QUERY), "DNS query 0x1a2b A www.example.com");
    }

    #[test]
    fn every_type_as_text() {
        let bytes = dns_every_type_response();
        let msg = DnsMessage::parse(&bytes).unwrap();
        let recs: Vec<_> = msg.records().collect::<Result<_, _>>().unwrap();
        let data: Vec<String> = recs
            .iter()
            .map(|r| RdataText(r.rdata().unwrap()).to_string())
            .collect();
        assert_eq!(
            data,
            [
                "www.example.com",
                "93.184.216.34",
                "2001:db8::1",
                "10 mail.example.com",
                "\"hello\" \"\" \"a\\\"b\"",
                "1 2 5060 sip.example.com",
                "example.com",
                "ns1.example.com",
                "dead",
                "ns1.example.com hostmaster.example.com 2024 7200 3600 1209600 300",
                "udp_payload_size=1232 version=0 do=true options=1",
            ]
        );
        assert_eq!(NameText(recs[10].name).to_string(), "<Root>");
        assert_eq!(
            summary(&bytes),
            "DNS response 0xbeef A example.com -> www.example.com, 93.184.216.34, 2001:db8::1, 10 mail.example.com, ..."
        );
    }

    #[test]
    fn every_type_as_json() {
        let v: serde_json::Value =
            serde_json::from_str(&json_text(&dns_every_type_response())).unwrap();
        assert_eq!(v["answers"].as_array().unwrap().len(), 9);
        assert_eq!(v["answers"][4]["data"], "\"hello\" \"\" \"a\\\"b\"");
        assert_eq!(v["authority"][0]["type"], "SOA");
        assert_eq!(v["additional"][0]["name"], "<Root>");
    }

    #[test]
    fn summary_of_mdns_announcement_names_first_answer() {
        let mut b = DnsBuilder::new(0, 0x8400, [0, 1, 0, 0], true);
        b.record(&labels("host.local"), rtype::A, 0x8001, 120, |b| {
            b.buf.extend_from_slice(&[169, 254, 1, 2])
        });
        assert_eq!(
            summary(&b.buf),
            "DNS response 0x0000 A host.local -> 169.254.1.2"
        );
    }

    #[test]
    fn summary_shows_rcode() {
        let mut b = DnsBuilder::new(7, 0x8183, [1, 0, 0, 0], false);
        b.question(&labels("nope.invalid"), rtype::AAAA, 1);
        assert_eq!(
            summary(&b.buf),
            "DNS response 0x0007 AAAA nope.invalid NXDomain"
        );
    }

    #[test]
    fn json_escapes_any_byte() {
        let mut b = DnsBuilder::new(0x0102, 0x8180, [1, 1, 0, 0], true);
        let odd = vec![b"a\x01\"\\\xff".to_vec(), b"com".to_vec()];
        b.question(&odd, rtype::A, 1);
        b.record(&odd, rtype::A, 1, 5, |b| {
            b.buf.extend_from_slice(&[10, 0, 0, 1])
        });
        let text = json_text(&b.buf);
        assert_eq!(
            text,
            r#"{"id":258,"response":true,"opcode":0,"rcode":0,"questions":[{"name":"a\u0001\"\\\u00ff.com","type":"A"}],"answers":[{"name":"a\u0001\"\\\u00ff.com","type":"A","ttl":5,"data":"10.0.0.1"}],"authority":[],"additional":[]}"#
        );
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["questions"][0]["name"], "a\u{1}\"\\\u{ff}.com");
        let msg = DnsMessage::parse(&b.buf).unwrap();
        assert_eq!(
            NameText(msg.questions().next().unwrap().unwrap().name).to_string(),
            "a\\x01\"\\\\xff.com"
        );
    }

    #[test]
    fn json_reports_errors() {
        let mut m = QUERY.to_vec();
        m[7] = 1; // one answer announced, none present
        let v: serde_json::Value = serde_json::from_str(&json_text(&m)).unwrap();
        assert_eq!(v["questions"][0]["name"], "www.example.com");
        assert!(v["error"].as_str().unwrap().contains("truncated"));
    }

    /// Renders everything a message holds; the JSON must be valid ASCII.
    fn render_all(bytes: &[u8]) {
        let Ok(msg) = DnsMessage::parse(bytes) else {
            return;
        };
        let mut text = String::new();
        for q in msg.questions().flatten() {
            write!(text, "{}", NameText(q.name)).unwrap();
        }
        for r in msg.records().flatten() {
            write!(text, "{}", NameText(r.name)).unwrap();
            if let Ok(d) = r.rdata() {
                write!(text, "{}", RdataText(d)).unwrap();
            }
        }
        write!(text, "{}", Summary(msg)).unwrap();
        let mut json = Vec::new();
        write_json(&mut json, &msg);
        assert!(json.is_ascii());
        let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
        assert_eq!(v["id"], u64::from(msg.id()));
    }

    #[test]
    fn every_prefix_renders() {
        let bytes = dns_every_type_response();
        for len in 0..=bytes.len() {
            render_all(&bytes[..len]);
        }
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_render(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            render_all(&bytes);
        }

        #[test]
        fn mutated_messages_render(flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..6)) {
            let mut bytes = dns_every_type_response();
            for (at, v) in flips {
                let n = bytes.len();
                bytes[at % n] = v;
            }
            render_all(&bytes);
        }
    }
}
