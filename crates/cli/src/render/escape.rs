//! How strings that came off the wire are escaped: one JSON-string escaper and one
//! terminal-text escaper, each with the styles the outputs use today.
//!
//! Every output must stay byte-identical, and the outputs do not all escape alike, so each
//! difference is an explicit style here rather than a private copy elsewhere:
//!
//! | Style | Used by | `\n` | `é` (`c3 a9`) | byte `ff` | `"` |
//! | --- | --- | --- | --- | --- | --- |
//! | [`JsonStyle::Utf8`] | `capture --json`, `http-trace --json`, `grep --json` | `\n` | `é` | `\u00ff` | `\"` |
//! | [`JsonStyle::Ascii`] | the `dns` object of `--json` | `\u000a` | `\u00c3\u00a9` | `\u00ff` | `\"` |
//! | [`TextStyle::Hex`] | DNS names and rdata in text | `\x0a` | `\xc3\xa9` | `\xff` | `"` |
//! | [`TextStyle::HexQuoted`] | DNS TXT strings in text | `\x0a` | `\xc3\xa9` | `\xff` | `\"` |
//!
//! Not routed through here yet, each with its own rule (kept as is so that every output
//! stays byte-identical; to be decided):
//! - `http-trace --har`: `serde_json` over `String::from_utf8_lossy`: invalid UTF-8 becomes
//!   U+FFFD, `\b` and `\f` are short escapes, DEL (0x7f) is written raw.
//! - `http-trace` text: header values and WebSocket previews through `<[u8]>::escape_ascii`
//!   (`\t`, `\r`, `\n`, `\\`, `\'`, `\"`, other bytes `\xNN`); the Host in the request line
//!   through `from_utf8_lossy`, and method, URI and reason as the HTTP parser accepted them,
//!   unescaped; `--bodies` raw when the body is UTF-8 without controls other than
//!   whitespace, else a hex dump of its first 16 bytes.
//! - `grep` text: its own `escape` (`\\`, `\r`, `\n`, `\t`, other bytes `\xNN`; quotes raw).
//! - the `serve` feed's `body_preview`: `from_utf8_lossy`, then [`JsonStyle::Utf8`].

use std::fmt::{self, Write as _};

/// How a JSON string holds what is not printable ASCII.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonStyle {
    /// Valid UTF-8 kept as is; `\n`, `\r`, `\t` as those escapes; other control characters
    /// and DEL as `\u00XX`; bytes that are not valid UTF-8 as `\u00XX` (read as Latin-1).
    Utf8,
    /// ASCII output whatever the input: every byte read as Latin-1, and everything outside
    /// printable ASCII as `\uXXXX` (control characters included: `\n` is `\u000a`). Text
    /// given as `&str` writes characters beyond U+00FF as `\uXXXX` UTF-16 units.
    Ascii,
}

/// How terminal text shows bytes outside printable ASCII.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextStyle {
    /// Printable ASCII as is (`"` and `\` included), every other byte as `\xNN`. Not
    /// reversible: the four bytes `\xff` and the byte 0xff are written alike.
    Hex,
    /// As [`TextStyle::Hex`], with `"` and `\` escaped by a backslash, for text shown
    /// between quotes.
    HexQuoted,
}

/// Appends `s` as a JSON string, quotes included.
pub fn push_json_str(out: &mut Vec<u8>, s: &str, style: JsonStyle) {
    out.push(b'"');
    match style {
        // Already UTF-8: only the escapes are needed, no validation.
        JsonStyle::Utf8 => escape_valid(out, s),
        JsonStyle::Ascii => {
            let mut w = JsonAscii(out);
            // Writing into a Vec cannot fail.
            let _ = w.write_str(s);
        }
    }
    out.push(b'"');
}

/// Appends `bytes` as a JSON string, quotes included.
pub fn push_json_bytes(out: &mut Vec<u8>, bytes: &[u8], style: JsonStyle) {
    out.push(b'"');
    match style {
        JsonStyle::Utf8 => escape_utf8_bytes(out, bytes),
        JsonStyle::Ascii => {
            for &b in bytes {
                push_ascii_char(out, char::from(b));
            }
        }
    }
    out.push(b'"');
}

/// Appends `s` as a JSON string in the [`JsonStyle::Utf8`] style, escaping `"`, `\` and
/// control characters.
pub fn push_str(out: &mut Vec<u8>, s: &str) {
    push_json_str(out, s, JsonStyle::Utf8);
}

/// Appends bytes as a JSON string in the [`JsonStyle::Utf8`] style. UTF-8 is kept as is;
/// bytes that are not valid UTF-8 (possible in any field off the wire) are escaped as
/// `\u00XX`, i.e. read as Latin-1, so the output is always valid JSON.
pub fn push_bytes_str(out: &mut Vec<u8>, bytes: &[u8]) {
    push_json_bytes(out, bytes, JsonStyle::Utf8);
}

/// The inside of a JSON string in the [`JsonStyle::Ascii`] style, as a [`fmt::Write`], for
/// text produced by formatting. The caller writes the quotes.
#[derive(Debug)]
pub struct JsonAscii<'v>(pub &'v mut Vec<u8>);

impl fmt::Write for JsonAscii<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for c in s.chars() {
            push_ascii_char(self.0, c);
        }
        Ok(())
    }

    fn write_char(&mut self, c: char) -> fmt::Result {
        push_ascii_char(self.0, c);
        Ok(())
    }
}

/// Appends bytes as terminal text in `style` (no quotes added).
pub fn write_text_bytes<W: fmt::Write>(w: &mut W, bytes: &[u8], style: TextStyle) -> fmt::Result {
    for &b in bytes {
        match (style, b) {
            (TextStyle::HexQuoted, b'"' | b'\\') => {
                w.write_char('\\')?;
                w.write_char(char::from(b))?;
            }
            (_, 0x20..=0x7e) => w.write_char(char::from(b))?,
            _ => write!(w, "\\x{b:02x}")?,
        }
    }
    Ok(())
}

/// One character of a [`JsonStyle::Ascii`] string.
fn push_ascii_char(out: &mut Vec<u8>, c: char) {
    match c {
        '"' => out.extend_from_slice(b"\\\""),
        '\\' => out.extend_from_slice(b"\\\\"),
        // Printable ASCII: the cast is lossless.
        ' '..='~' => out.push(c as u8),
        _ => {
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                // Writing into a Vec cannot fail.
                let _ = std::io::Write::write_fmt(out, format_args!("\\u{u:04x}"));
            }
        }
    }
}

/// True for a byte copied as is: printable ASCII other than `"` and `\`.
#[inline(always)]
fn is_plain(b: u8) -> bool {
    (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\'
}

/// Length of the run of plain bytes (see [`is_plain`]) `bytes` starts with. Eight bytes at a
/// time: a word holds no byte needing attention when it has no byte below 0x20, none with
/// the high bit, and no 0x7f, `"` or `\` (the classic "has zero byte" / "has less than"
/// word tests, exact for whether any byte matches).
fn plain_prefix(bytes: &[u8]) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let has_zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGH;
    let mut n = 0usize;
    for chunk in bytes.chunks_exact(8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let x = u64::from_le_bytes(word);
        let special = (x.wrapping_sub(ONES * 0x20) & !x & HIGH)
            | (x & HIGH)
            | has_zero(x ^ (ONES * 0x7f))
            | has_zero(x ^ (ONES * u64::from(b'"')))
            | has_zero(x ^ (ONES * u64::from(b'\\')));
        if special != 0 {
            break;
        }
        n = n.saturating_add(8);
    }
    let rest = bytes.get(n..).unwrap_or_default();
    n.saturating_add(
        rest.iter()
            .position(|&b| !is_plain(b))
            .unwrap_or(rest.len()),
    )
}

/// [`JsonStyle::Utf8`] for bytes, without the quotes.
fn escape_utf8_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    // Fast path for what headers, URIs and names nearly always are: printable ASCII runs,
    // copied whole, with single-byte escapes between them. The first non-ASCII byte hands
    // the rest (which starts on a character boundary) to the UTF-8-aware loop.
    let mut rest = bytes;
    loop {
        let (run, tail) = rest.split_at(plain_prefix(rest));
        out.extend_from_slice(run);
        match tail.split_first() {
            None => break,
            Some((&b, after)) if b.is_ascii() => {
                escape_ascii(out, b);
                rest = after;
            }
            Some(_) => {
                push_utf8_lossless(out, tail);
                break;
            }
        }
    }
}

/// The general case of [`escape_utf8_bytes`]: valid UTF-8 runs escaped, each invalid byte
/// as `\u00XX`.
fn push_utf8_lossless(out: &mut Vec<u8>, bytes: &[u8]) {
    let mut rest = bytes;
    while !rest.is_empty() {
        let (valid, bad) = match std::str::from_utf8(rest) {
            Ok(s) => (s, &[][..]),
            Err(e) => {
                let (ok, tail) = rest.split_at(e.valid_up_to());
                (std::str::from_utf8(ok).unwrap_or_default(), tail)
            }
        };
        escape_valid(out, valid);
        match bad.split_first() {
            Some((&b, tail)) => {
                push_u_escape(out, b);
                rest = tail;
            }
            None => rest = &[],
        }
    }
}

/// Appends the [`JsonStyle::Utf8`] escape for an ASCII byte that is not plain (see
/// [`is_plain`]).
fn escape_ascii(out: &mut Vec<u8>, b: u8) {
    match b {
        b'"' => out.extend_from_slice(b"\\\""),
        b'\\' => out.extend_from_slice(b"\\\\"),
        b'\n' => out.extend_from_slice(b"\\n"),
        b'\r' => out.extend_from_slice(b"\\r"),
        b'\t' => out.extend_from_slice(b"\\t"),
        _ => push_u_escape(out, b),
    }
}

/// [`JsonStyle::Utf8`] for a `str`, without the quotes.
fn escape_valid(out: &mut Vec<u8>, s: &str) {
    let mut rest = s.as_bytes();
    loop {
        let (run, tail) = rest.split_at(plain_prefix(rest));
        out.extend_from_slice(run);
        match tail.split_first() {
            None => break,
            Some((&b, after)) => {
                if b.is_ascii() {
                    escape_ascii(out, b);
                } else {
                    // Part of a valid UTF-8 character: kept as is.
                    out.push(b);
                }
                rest = after;
            }
        }
    }
}

fn push_u_escape(out: &mut Vec<u8>, b: u8) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.extend_from_slice(b"\\u00");
    out.push(HEX.get(usize::from(b >> 4)).copied().unwrap_or(b'0'));
    out.push(HEX.get(usize::from(b & 0xf)).copied().unwrap_or(b'0'));
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn s(bytes: &[u8], style: JsonStyle) -> String {
        let mut out = Vec::new();
        push_json_bytes(&mut out, bytes, style);
        String::from_utf8(out).unwrap()
    }

    fn text(bytes: &[u8], style: TextStyle) -> String {
        let mut out = String::new();
        write_text_bytes(&mut out, bytes, style).unwrap();
        out
    }

    #[test]
    fn strings_are_escaped() {
        assert_eq!(s(b"plain", JsonStyle::Utf8), r#""plain""#);
        assert_eq!(
            s(b"a\"b\\c\nd\te\r\x01\x7f", JsonStyle::Utf8),
            r#""a\"b\\c\nd\te\r\u0001\u007f""#
        );
        assert_eq!(s("é→".as_bytes(), JsonStyle::Utf8), "\"é→\"");
        assert_eq!(s(b"x\xffy\xc3", JsonStyle::Utf8), r#""x\u00ffy\u00c3""#);
    }

    /// The examples in the module documentation's table.
    #[test]
    fn styles_differ_as_documented() {
        let input = "\n|é|\"".as_bytes();
        let mut with_ff = input.to_vec();
        with_ff.push(0xff);
        assert_eq!(s(&with_ff, JsonStyle::Utf8), r#""\n|é|\"\u00ff""#);
        assert_eq!(
            s(&with_ff, JsonStyle::Ascii),
            r#""\u000a|\u00c3\u00a9|\"\u00ff""#
        );
        assert_eq!(text(&with_ff, TextStyle::Hex), r#"\x0a|\xc3\xa9|"\xff"#);
        assert_eq!(
            text(&with_ff, TextStyle::HexQuoted),
            r#"\x0a|\xc3\xa9|\"\xff"#
        );
        assert_eq!(text(b"a\\b", TextStyle::Hex), r"a\b");
        assert_eq!(text(b"a\\b", TextStyle::HexQuoted), r"a\\b");
    }

    #[test]
    fn ascii_style_str_uses_utf16_units() {
        let mut out = Vec::new();
        push_json_str(&mut out, "a\u{e9}\u{1f600}\t", JsonStyle::Ascii);
        assert_eq!(out, br#""a\u00e9\ud83d\ude00\u0009""#);
        let v: String = serde_json::from_slice(&out).unwrap();
        assert_eq!(v, "a\u{e9}\u{1f600}\t");
    }

    /// The straightforward escaper the fast path must agree with: UTF-8 validation over the
    /// whole input, then a per-character escape.
    fn reference(bytes: &[u8]) -> Vec<u8> {
        let mut out = vec![b'"'];
        for chunk in bytes.utf8_chunks() {
            for c in chunk.valid().chars() {
                match c {
                    '"' => out.extend_from_slice(b"\\\""),
                    '\\' => out.extend_from_slice(b"\\\\"),
                    '\n' => out.extend_from_slice(b"\\n"),
                    '\r' => out.extend_from_slice(b"\\r"),
                    '\t' => out.extend_from_slice(b"\\t"),
                    '\0'..='\x1f' | '\x7f' => {
                        out.extend_from_slice(format!("\\u{:04x}", c as u32).as_bytes())
                    }
                    c => out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes()),
                }
            }
            for b in chunk.invalid() {
                out.extend_from_slice(format!("\\u{b:04x}").as_bytes());
            }
        }
        out.push(b'"');
        out
    }

    #[test]
    fn plain_prefix_stops_at_the_first_special_byte() {
        for special in [0u8, 0x1f, b'"', b'\\', 0x7f, 0x80, 0xff] {
            for at in 0..20 {
                let mut v = vec![b'a'; 20];
                v[at] = special;
                assert_eq!(plain_prefix(&v), at, "byte {special:#x} at {at}");
            }
        }
        assert_eq!(plain_prefix(b" !~#[]{}0123456789abcdefXYZ"), 27);
    }

    proptest::proptest! {
        #[test]
        fn fast_escaper_matches_reference(bytes in proptest::collection::vec(
            proptest::prop_oneof![0u8..0x80, proptest::num::u8::ANY], 0..64)) {
            let mut out = Vec::new();
            push_bytes_str(&mut out, &bytes);
            proptest::prop_assert_eq!(&out, &reference(&bytes));
            serde_json::from_slice::<String>(&out).unwrap();
        }

        #[test]
        fn str_escaper_matches_reference(s in "\\PC*|[\\x00-\\x7f]*") {
            let mut out = Vec::new();
            push_str(&mut out, &s);
            proptest::prop_assert_eq!(&out, &reference(s.as_bytes()));
        }

        #[test]
        fn ascii_style_is_ascii_and_reads_back_as_latin1(bytes in proptest::collection::vec(
            proptest::num::u8::ANY, 0..64)) {
            let mut out = Vec::new();
            push_json_bytes(&mut out, &bytes, JsonStyle::Ascii);
            proptest::prop_assert!(out.is_ascii());
            let back: String = serde_json::from_slice(&out).unwrap();
            let latin1: String = bytes.iter().map(|&b| char::from(b)).collect();
            proptest::prop_assert_eq!(back, latin1);
        }
    }
}
