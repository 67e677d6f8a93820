//! How strings that came off the wire are escaped: one terminal policy for every text
//! output, and one JSON-string escaper.
//!
//! # The terminal policy
//!
//! Every string off the wire that a text output shows (`capture`'s DNS names, `http-trace`'s
//! request line, headers, WebSocket text and bodies, `grep`'s matches and context, the
//! paths and messages `follow` and the warnings print) goes through [`write_text`] or
//! [`Escaped`]. What can move the cursor, rewrite what is on the screen, retitle the window
//! or reorder the text around it never reaches the terminal as it is:
//!
//! | What | Shown as |
//! | --- | --- |
//! | tab, line feed, carriage return (a bare `\r` included) | `\t`, `\n`, `\r` |
//! | other C0 controls (ESC, BEL, ...) and DEL | `\x1b`, `\x07`, `\x7f` |
//! | C1 controls U+0080 to U+009F, UTF-8 encoded (U+009B CSI, U+009D OSC, ...) | `\u{9b}`, `\u{9d}` |
//! | bidi controls: embeddings and overrides U+202A to U+202E, isolates U+2066 to U+2069, and the marks U+200E, U+200F, U+061C | `\u{202e}`, `\u{200f}` |
//! | a byte that is not part of valid UTF-8 (a raw 0x9b included) | `\x9b` |
//! | any other character, non-ASCII included (`é`, `→`) | as it is |
//!
//! The marks (LRM, RLM, ALM) are escaped too although they override nothing: they are
//! invisible and move neutral characters such as `/` and `.` across a URL. Other invisible
//! format characters (zero-width joiners, soft hyphens) stay: they cannot move the cursor
//! or reorder text, and emoji need them.
//!
//! Outputs differ only in what the policy leaves to them ([`Text`]): which printable ASCII
//! characters get a backslash so the text reads back unambiguously where it is shown (a
//! header value keeps the `\"`, `\'` and `\\` it always had), whether a tab stays a tab in
//! a body shown line by line, and whether the bytes are shown as text at all: DNS names
//! (octets, which dig shows as `\DDD`) and `grep`'s matches and context (a regular
//! expression over bytes, often in binary data) show every non-ASCII byte as `\xNN`.
//! Whatever the [`Text`], the output is valid UTF-8 with no control character (but the
//! tab a body line keeps), no C1 control and no bidi control.
//!
//! # JSON
//!
//! | Style | Used by | `\n` | `é` (`c3 a9`) | byte `ff` | U+009B, U+202E | `"` |
//! | --- | --- | --- | --- | --- | --- | --- |
//! | [`JsonStyle::Utf8`] | `capture --json`, `http-trace --json`, `grep --json`, `flows --json`, `follow`'s index, `serve`'s feed | `\n` | `é` | `\u00ff` | `\u009b`, `\u202e` | `\"` |
//! | [`JsonStyle::Ascii`] | the `dns` object of `--json` | `\u000a` | `\u00c3\u00a9` | `\u00ff` | `\u00c2\u009b`, `\u00e2\u0080\u00ae` | `\"` |
//!
//! JSON readers decode `\u009b` to the same character, so escaping C1 and bidi controls
//! changes nothing for a program; it keeps them off a terminal that shows the JSON as it
//! is (`http-trace --json | less -R`, `tail -f`). The HAR file (`http-trace --har`) is
//! written by `serde_json` through [`SafeJsonFormatter`], which escapes the same
//! characters.

use std::fmt::{self, Write as _};

/// How a JSON string holds what is not printable ASCII.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonStyle {
    /// Valid UTF-8 kept as is, but for C1 and bidi controls, written `\uXXXX`; `\n`, `\r`,
    /// `\t` as those escapes; other control characters and DEL as `\u00XX`; bytes that are
    /// not valid UTF-8 as `\u00XX` (read as Latin-1).
    Utf8,
    /// ASCII output whatever the input: every byte read as Latin-1, and everything outside
    /// printable ASCII as `\uXXXX` (control characters included: `\n` is `\u000a`). Text
    /// given as `&str` writes characters beyond U+00FF as `\uXXXX` UTF-16 units.
    Ascii,
}

/// What an output chooses within the terminal policy (see the module documentation); the
/// characters the policy escapes are escaped whatever is chosen here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Text {
    /// Printable ASCII characters written with a backslash before them.
    pub backslash: Backslash,
    /// Every byte outside ASCII as `\xNN`, UTF-8 or not (DNS names, which are octets).
    pub ascii_only: bool,
    /// A tab stays a tab (a body shown line by line); elsewhere it is `\t`.
    pub keep_tab: bool,
}

/// Which printable ASCII characters get a backslash, so that text reads back unambiguously
/// where it is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backslash {
    /// None: text shown as part of a line (a host and URI, a reason phrase, a DNS name).
    None,
    /// `\` only (`grep`'s matches).
    Backslash,
    /// `\` and `"`: text between double quotes (DNS TXT strings).
    Quotes,
    /// `\`, `"` and `'`, as Rust's `escape_ascii` (header values, WebSocket text).
    All,
}

impl Text {
    /// Part of a line, nothing backslashed: the host and URI, method and reason of an HTTP
    /// head, paths.
    pub const PLAIN: Text = Text {
        backslash: Backslash::None,
        ascii_only: false,
        keep_tab: false,
    };
    /// Header values and WebSocket text: `\`, `"` and `'` backslashed.
    pub const VALUE: Text = Text {
        backslash: Backslash::All,
        ..Text::PLAIN
    };
    /// `grep`'s matches and context: `\` backslashed, ASCII only. grep searches bytes (its
    /// patterns run with Unicode off) and its context is often binary (compressed or
    /// encrypted bodies), where two random bytes that happen to be valid UTF-8 would show
    /// as a stray letter, right-to-left ones included: every non-ASCII byte is `\xNN`.
    pub const GREP: Text = Text {
        backslash: Backslash::Backslash,
        ascii_only: true,
        keep_tab: false,
    };
    /// One line of a body shown line by line: tabs kept.
    pub const BODY_LINE: Text = Text {
        keep_tab: true,
        ..Text::PLAIN
    };
    /// A DNS name or other octets: ASCII only.
    pub const DNS: Text = Text {
        ascii_only: true,
        ..Text::PLAIN
    };
    /// A DNS character-string shown between quotes.
    pub const DNS_QUOTED: Text = Text {
        backslash: Backslash::Quotes,
        ..Text::DNS
    };

    /// Whether the printable ASCII character `b` gets a backslash.
    fn backslashed(self, b: u8) -> bool {
        match self.backslash {
            Backslash::None => false,
            Backslash::Backslash => b == b'\\',
            Backslash::Quotes => b == b'\\' || b == b'"',
            Backslash::All => b == b'\\' || b == b'"' || b == b'\'',
        }
    }
}

/// Bytes off the wire as terminal text, for `format!` and `write!`: `{}` writes them
/// through [`write_text`].
#[derive(Debug, Clone, Copy)]
pub struct Escaped<'a>(pub &'a [u8], pub Text);

impl<'a> Escaped<'a> {
    /// A string off the wire in the [`Text::PLAIN`] style.
    pub fn plain(s: &'a (impl AsRef<[u8]> + ?Sized)) -> Escaped<'a> {
        Escaped(s.as_ref(), Text::PLAIN)
    }

    /// A path (from the command line or made of addresses) in the [`Text::PLAIN`] style.
    pub fn path(path: &'a std::path::Path) -> Escaped<'a> {
        use std::os::unix::ffi::OsStrExt as _;
        Escaped(path.as_os_str().as_bytes(), Text::PLAIN)
    }
}

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_text(f, self.0, self.1)
    }
}

/// Whether the terminal policy escapes the character `c` (whatever the [`Text`]): C0 and
/// C1 controls, DEL, and the bidi controls.
pub fn is_unsafe_char(c: char) -> bool {
    c.is_control() || is_bidi_control(c)
}

/// The bidi controls: embeddings and overrides (U+202A to U+202E), isolates (U+2066 to
/// U+2069) and the implicit marks (U+200E LRM, U+200F RLM, U+061C ALM).
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{061c}')
}

/// Appends bytes as terminal text under the policy of the module documentation, with the
/// choices of `text`. Nothing is added around them (no quotes).
pub fn write_text<W: fmt::Write>(w: &mut W, bytes: &[u8], text: Text) -> fmt::Result {
    let mut rest = bytes;
    while !rest.is_empty() {
        // The common case: a run of printable ASCII written whole.
        let run = rest
            .iter()
            .position(|&b| !(0x20..0x7f).contains(&b) || text.backslashed(b))
            .unwrap_or(rest.len());
        let (plain, tail) = rest.split_at(run);
        // Printable ASCII is valid UTF-8.
        w.write_str(std::str::from_utf8(plain).unwrap_or_default())?;
        let Some((&b, after)) = tail.split_first() else {
            break;
        };
        if b.is_ascii() {
            write_ascii(w, b, text)?;
            rest = after;
            continue;
        }
        if text.ascii_only {
            write!(w, "\\x{b:02x}")?;
            rest = after;
            continue;
        }
        // One UTF-8 character, or one byte that does not start one.
        let width = match b {
            0xc2..=0xdf => 2,
            0xe0..=0xef => 3,
            0xf0..=0xf4 => 4,
            _ => 1,
        };
        let c = tail
            .get(..width)
            .and_then(|seq| std::str::from_utf8(seq).ok())
            .and_then(|s| s.chars().next());
        match c {
            Some(c) if is_unsafe_char(c) => write!(w, "\\u{{{:x}}}", u32::from(c))?,
            Some(c) => w.write_char(c)?,
            None => {
                write!(w, "\\x{b:02x}")?;
                rest = after;
                continue;
            }
        }
        rest = tail.get(width..).unwrap_or_default();
    }
    Ok(())
}

/// One ASCII byte that is not plain printable ASCII, or one that `text` backslashes.
fn write_ascii<W: fmt::Write>(w: &mut W, b: u8, text: Text) -> fmt::Result {
    match b {
        b'\t' if text.keep_tab => w.write_char('\t'),
        b'\t' => w.write_str("\\t"),
        b'\n' => w.write_str("\\n"),
        b'\r' => w.write_str("\\r"),
        0x20..=0x7e => {
            w.write_char('\\')?;
            w.write_char(char::from(b))
        }
        _ => write!(w, "\\x{b:02x}"),
    }
}

/// A [`serde_json`] formatter that also escapes C1 and bidi controls in strings as `\uXXXX`
/// (`serde_json` escapes only C0 controls, `"` and `\`), for JSON written with `serde`.
#[derive(Debug, Clone, Copy, Default)]
pub struct SafeJsonFormatter;

impl serde_json::ser::Formatter for SafeJsonFormatter {
    fn write_string_fragment<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> std::io::Result<()> {
        let mut start = 0;
        for (at, c) in fragment.char_indices() {
            if is_unsafe_char(c) {
                writer.write_all(fragment.get(start..at).unwrap_or_default().as_bytes())?;
                write!(writer, "\\u{:04x}", u32::from(c))?;
                start = at.saturating_add(c.len_utf8());
            }
        }
        writer.write_all(fragment.get(start..).unwrap_or_default().as_bytes())
    }
}

/// Writes `value` as compact JSON through [`SafeJsonFormatter`].
pub fn write_safe_json<W: std::io::Write, T: serde::Serialize + ?Sized>(
    writer: W,
    value: &T,
) -> serde_json::Result<()> {
    let mut ser = serde_json::Serializer::with_formatter(writer, SafeJsonFormatter);
    value.serialize(&mut ser)
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
            Some((&b, after)) if b.is_ascii() => {
                escape_ascii(out, b);
                rest = after;
            }
            Some((&b, _)) => {
                // The start of a valid UTF-8 character (the bytes before it were ASCII or
                // whole characters): kept as is, unless it is a C1 or bidi control.
                let width = match b {
                    0xc0..=0xdf => 2,
                    0xe0..=0xef => 3,
                    _ => 4,
                };
                let (seq, after) = tail.split_at(width.min(tail.len()));
                match std::str::from_utf8(seq).ok().and_then(|c| c.chars().next()) {
                    Some(c) if is_unsafe_char(c) => push_u4(out, u32::from(c)),
                    _ => out.extend_from_slice(seq),
                }
                rest = after;
            }
        }
    }
}

fn push_u_escape(out: &mut Vec<u8>, b: u8) {
    push_u4(out, u32::from(b));
}

/// `\uXXXX` for a code point below U+10000.
fn push_u4(out: &mut Vec<u8>, code: u32) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.extend_from_slice(b"\\u");
    for shift in [12, 8, 4, 0] {
        let nibble = (code >> shift) & 0xf;
        out.push(HEX.get(nibble as usize).copied().unwrap_or(b'0'));
    }
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

    fn text(bytes: &[u8], style: Text) -> String {
        let mut out = String::new();
        write_text(&mut out, bytes, style).unwrap();
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
        assert_eq!(text(&with_ff, Text::DNS), r#"\n|\xc3\xa9|"\xff"#);
        assert_eq!(text(&with_ff, Text::DNS_QUOTED), r#"\n|\xc3\xa9|\"\xff"#);
        assert_eq!(text(&with_ff, Text::PLAIN), r#"\n|é|"\xff"#);
        assert_eq!(text(b"a\\b", Text::DNS), r"a\b");
        assert_eq!(text(b"a\\b", Text::DNS_QUOTED), r"a\\b");
    }

    /// The policy's table, one row at a time.
    #[test]
    fn terminal_policy_escapes_what_moves_the_cursor() {
        let t = |s: &str| text(s.as_bytes(), Text::PLAIN);
        assert_eq!(t("a\tb\nc\rd"), r"a\tb\nc\rd");
        assert_eq!(t("\x1b]0;title\x07"), r"\x1b]0;title\x07");
        assert_eq!(t("\x7f\x00"), r"\x7f\x00");
        assert_eq!(t("\u{9b}2J \u{9d}0;x"), r"\u{9b}2J \u{9d}0;x");
        assert_eq!(t("\u{85}\u{80}\u{9f}"), r"\u{85}\u{80}\u{9f}");
        assert_eq!(t("abc\u{202e}txt.exe"), r"abc\u{202e}txt.exe");
        assert_eq!(
            t(
                "\u{202a}\u{202b}\u{202c}\u{202d}\u{2066}\u{2067}\u{2068}\u{2069}\u{200e}\u{200f}\u{61c}"
            ),
            r"\u{202a}\u{202b}\u{202c}\u{202d}\u{2066}\u{2067}\u{2068}\u{2069}\u{200e}\u{200f}\u{61c}"
        );
        // Printable text, non-ASCII included, is untouched.
        assert_eq!(
            t("GET /é→ü?q=\"x\" ok 😀 \u{200d}"),
            "GET /é→ü?q=\"x\" ok 😀 \u{200d}"
        );
        // Bytes that are not UTF-8: a raw 8-bit CSI, a cut character, a lone continuation.
        assert_eq!(
            text(b"\x9b2J|\xe2\x80|\x80", Text::PLAIN),
            r"\x9b2J|\xe2\x80|\x80"
        );
        // The choices left to each output.
        assert_eq!(text(b"a\tb", Text::BODY_LINE), "a\tb");
        assert_eq!(text(b"\"it's\" \\", Text::VALUE), r#"\"it\'s\" \\"#);
        assert_eq!(text(b"\"it's\" \\", Text::GREP), r#""it's" \\"#);
        assert_eq!(text("é\u{9b}".as_bytes(), Text::GREP), r"\xc3\xa9\xc2\x9b");
        assert_eq!(text("\u{9b}é".as_bytes(), Text::DNS), r"\xc2\x9b\xc3\xa9");
    }

    #[test]
    fn header_values_keep_what_escape_ascii_wrote_for_ascii() {
        for b in 0u8..0x80 {
            let old = [b].escape_ascii().to_string();
            assert_eq!(text(&[b], Text::VALUE), old, "byte {b:#x}");
        }
    }

    #[test]
    fn serde_formatter_escapes_c1_and_bidi_controls() {
        let v = serde_json::json!({"k\u{9b}": ["a\u{9b}b\u{202e}c\n\u{1b}é", 1]});
        let mut out = Vec::new();
        write_safe_json(&mut out, &v).unwrap();
        assert_eq!(
            String::from_utf8(out.clone()).unwrap(),
            r#"{"k\u009b":["a\u009bb\u202ec\n\u001bé",1]}"#
        );
        assert_eq!(
            serde_json::from_slice::<serde_json::Value>(&out).unwrap(),
            v
        );
    }

    #[test]
    fn json_escapes_c1_and_bidi_controls() {
        assert_eq!(
            s(
                "a\u{9b}b\u{85}\u{202e}c\u{2069}é".as_bytes(),
                JsonStyle::Utf8
            ),
            r#""a\u009bb\u0085\u202ec\u2069é""#
        );
        let mut out = Vec::new();
        push_str(&mut out, "\u{9d}\u{200f}→");
        assert_eq!(String::from_utf8(out).unwrap(), r#""\u009d\u200f→""#);
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
                    c if c.is_control() || is_bidi_control(c) => {
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

    /// Pieces of hostile input: control sequences as terminals read them, in every encoding,
    /// cut characters, and any byte or character.
    fn hostile_piece() -> impl proptest::strategy::Strategy<Value = Vec<u8>> {
        use proptest::prelude::*;
        prop_oneof![
            prop::sample::select(vec![
                "\x1b]0;title\x07",
                "\x1b[2J",
                "\u{9b}2J",
                "\u{9d}0;t\u{9c}",
                "\r",
                "\r\n",
                "\u{202e}",
                "\u{2066}",
                "\u{200f}",
                "\u{61c}",
                "\u{85}",
                "\x7f",
                "\t",
                "é",
                "→",
                "😀",
                "\\",
                "\"",
                "'",
                "plain text ",
            ])
            .prop_map(|s| s.as_bytes().to_vec()),
            prop::sample::select(vec![
                &b"\x9b"[..],
                b"\xc2",
                b"\xe2\x80",
                b"\xe2\x80\xae",
                b"\xf0\x9f",
                b"\xff",
            ])
            .prop_map(<[u8]>::to_vec),
            any::<u8>().prop_map(|b| vec![b]),
            any::<char>().prop_map(|c| c.to_string().into_bytes()),
        ]
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

        /// The policy's promise: whatever the bytes and the style, the text has no control
        /// character (a tab only where kept), no C1 control, no bidi control, and so no ESC,
        /// CR or 8-bit CSI byte; and JSON strings have none of them raw either.
        #[test]
        fn no_output_carries_a_control(pieces in proptest::collection::vec(hostile_piece(), 0..24),
                                       which in 0usize..6) {
            let bytes: Vec<u8> = pieces.concat();
            let style = [Text::PLAIN, Text::VALUE, Text::GREP, Text::BODY_LINE, Text::DNS,
                         Text::DNS_QUOTED][which];
            let out = text(&bytes, style);
            for c in out.chars() {
                proptest::prop_assert!(
                    !is_unsafe_char(c) || (c == '\t' && style.keep_tab),
                    "{c:?} in {out:?}"
                );
            }
            for b in [0x1b, b'\r', b'\n', 0x07, 0x7f] {
                proptest::prop_assert!(!out.as_bytes().contains(&b));
            }
            let mut json = Vec::new();
            push_bytes_str(&mut json, &bytes);
            let json = String::from_utf8(json).unwrap();
            proptest::prop_assert!(json.chars().all(|c| !is_unsafe_char(c)), "{json:?}");
            let back: String = serde_json::from_str(&json).unwrap();
            proptest::prop_assert_eq!(back, {
                let mut lossless = String::new();
                for chunk in bytes.utf8_chunks() {
                    lossless.push_str(chunk.valid());
                    lossless.extend(chunk.invalid().iter().map(|&b| char::from(b)));
                }
                lossless
            });
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
