//! The trace's human-readable lines: transactions (with `--headers`, `--show-header` and
//! `--bodies`), WebSocket messages, TCP events and HTTP errors.

use std::fmt::Write as _;

use pcap_analyzer::Stream;
use pcap_http_ws::{Direction, PackedHeaders, ProtocolError, TransactionView};
use pcap_tls::TlsSummary;

use super::{Heads, Printer, Unparsed};
use crate::color::Color;
use crate::defrag::Described;
use crate::output::write_time;
use crate::parallel::SessionId;
use crate::render::escape::{Escaped, Text};
use crate::render::tls;

/// Longest WebSocket text shown on one human-readable line.
const WS_TEXT_SHOWN: usize = 200;

impl Printer {
    /// `client -> server [stream N]`, arrows following the direction.
    pub(super) fn flow(&self, stream: &Stream, dir: Direction) -> String {
        let (a, b) = match dir {
            Direction::ClientToServer => (stream.client, stream.server),
            Direction::ServerToClient => (stream.server, stream.client),
        };
        format!(
            "{} -> {} {}",
            self.palette.paint(Color::Cyan, a),
            self.palette.paint(Color::Cyan, b),
            self.palette.paint(Color::Dim, StreamTag(stream))
        )
    }

    /// A TLS session's line: `TLS 1.3 example.com h2 (no key)`.
    pub(super) fn tls_text(&mut self, stream: &Stream, summary: &TlsSummary) {
        let mut l = std::mem::take(&mut self.line);
        l.clear();
        write_time(&mut l, summary.ts_ns);
        let color = if summary.decrypted {
            Color::Dim
        } else {
            Color::Yellow
        };
        let _ = writeln!(
            l,
            " {}\n  {}",
            self.flow(stream, Direction::ClientToServer),
            self.palette.paint(color, tls::describe(summary))
        );
        self.out.buffer().extend_from_slice(l.as_bytes());
        self.line = l;
    }

    /// A transaction's line, then its headers and bodies when asked for.
    pub(super) fn transaction_text(
        &mut self,
        stream: &Stream,
        tx: TransactionView<'_>,
        heads: Heads<'_>,
        bad: &Unparsed,
    ) {
        let rec = tx.record();
        let ts = rec
            .request_start_ns
            .or(rec.response_start_ns)
            .unwrap_or_default();
        let mut l = std::mem::take(&mut self.line);
        l.clear();
        write_time(&mut l, ts);
        let _ = writeln!(l, " {}", self.flow(stream, Direction::ClientToServer));
        let request = heads.request;
        let method = request.map_or("(request not seen)", |r| r.method);
        // Inside TLS the scheme is shown, as a browser would: `https://host/path`.
        let scheme = if stream.tls { "https://" } else { "" };
        let target = match request {
            Some(r) => match r.host() {
                Some(h) if r.uri.starts_with('/') => {
                    format!("{scheme}{}{}", Escaped::plain(h), Escaped::plain(r.uri))
                }
                _ => Escaped::plain(r.uri).to_string(),
            },
            None => String::new(),
        };
        match (request, &bad.request) {
            // What came instead of a request, as it was on the wire.
            (None, Some(b)) => {
                let _ = write!(
                    l,
                    "  {} {}",
                    self.palette
                        .paint(Color::Red, format_args!("\"{}\"", b.line)),
                    self.palette
                        .paint(Color::Dim, format_args!("(not parsed: {})", b.reason))
                );
            }
            _ => {
                let _ = write!(
                    l,
                    "  {} {}",
                    self.palette.paint(Color::Bold, Escaped::plain(method)),
                    target
                );
            }
        }
        let response = heads.response;
        match rec.status {
            Some(status) => {
                let color = match status {
                    200..=299 | 101 => Color::Green,
                    300..=399 => Color::Yellow,
                    _ => Color::Red,
                };
                let reason = response.map_or("", |r| r.reason);
                // HTTP/2 has no reason phrase: the status alone, without the space.
                let sep = if stream.h2_stream.is_some() { "" } else { " " };
                let _ = write!(
                    l,
                    " -> {}",
                    self.palette.paint(
                        color,
                        format_args!("{status}{sep}{}", Escaped::plain(reason))
                    )
                );
                if !rec.interim.is_empty() {
                    let codes: Vec<String> = rec.interim.iter().map(u16::to_string).collect();
                    let _ = write!(l, " (after {})", codes.join(", "));
                }
                let size = rec.response_decoded_len.unwrap_or(rec.response_body_len);
                let _ = write!(l, " (");
                if let (Some(start), Some(end)) = (rec.request_start_ns, rec.response_end_ns) {
                    let _ = write!(l, "{}, ", Millis(end.saturating_sub(start)));
                }
                let _ = write!(l, "{})", Bytes(size));
            }
            None => match &bad.response {
                Some(b) => {
                    let _ = write!(
                        l,
                        " -> {} {}",
                        self.palette
                            .paint(Color::Red, format_args!("\"{}\"", b.line)),
                        self.palette
                            .paint(Color::Dim, format_args!("(not parsed: {})", b.reason))
                    );
                }
                None => {
                    let _ = write!(l, " -> {}", self.palette.paint(Color::Red, "(no response)"));
                }
            },
        }
        if !rec.complete {
            let _ = write!(l, " {}", self.palette.paint(Color::Yellow, "[incomplete]"));
        }
        if let Some(n) = self.pushed_by {
            let _ = write!(l, " [pushed for stream {n}]");
        }
        l.push('\n');
        self.headers(&mut l, '>', request.map(|r| r.headers));
        self.headers(&mut l, '<', response.map(|r| r.headers));
        if let Some(limit) = self.bodies {
            let truncated = tx.body_truncated();
            if let Some(b) = tx.request_body().filter(|b| !b.is_empty()) {
                write_body(&mut l, "request body", b, limit, truncated);
            }
            if let Some(b) = tx.response_body().filter(|b| !b.is_empty()) {
                write_body(&mut l, "response body", b, limit, truncated);
            }
        }
        self.out.buffer().extend_from_slice(l.as_bytes());
        self.line = l;
    }

    fn headers(&self, l: &mut String, mark: char, headers: Option<PackedHeaders<'_>>) {
        for (name, value) in headers.into_iter().flatten() {
            if self.all_headers || self.show_headers.contains(&name.to_lowercase()) {
                let _ = writeln!(
                    l,
                    "    {mark} {}: {}",
                    self.palette.paint(Color::Dim, Escaped::plain(name)),
                    Escaped(value, Text::VALUE)
                );
            }
        }
    }

    /// A WebSocket message's line: opcode, size and the start of a text.
    pub(super) fn websocket_text(
        &mut self,
        stream: &Stream,
        ts: i64,
        dir: Direction,
        opcode: &str,
        len: usize,
        text: Option<&[u8]>,
    ) {
        let mut l = std::mem::take(&mut self.line);
        l.clear();
        write_time(&mut l, ts);
        let _ = write!(
            l,
            " {} ws {} {}",
            self.flow(stream, dir),
            self.palette.paint(Color::Bold, opcode),
            Bytes(len as u64)
        );
        if let Some(t) = text {
            // Cut on a character boundary (the text is UTF-8), not inside one.
            let mut end = WS_TEXT_SHOWN.min(t.len());
            while t.get(end).is_some_and(|&b| b & 0xc0 == 0x80) {
                end -= 1;
            }
            let shown = t.get(..end).unwrap_or(t);
            let more = if shown.len() < t.len() { "..." } else { "" };
            let _ = write!(l, ": \"{}\"{more}", Escaped(shown, Text::VALUE));
        }
        l.push('\n');
        self.out.buffer().extend_from_slice(l.as_bytes());
        self.line = l;
    }

    /// A `--tcp-verbose` line.
    pub(super) fn tcp_text(
        &mut self,
        ts: i64,
        stream: &Stream,
        name: &str,
        dir: Option<Direction>,
        detail: &str,
    ) {
        let mut l = std::mem::take(&mut self.line);
        l.clear();
        write_time(&mut l, ts);
        let color = if name == "reset" {
            Color::Red
        } else {
            Color::Yellow
        };
        let _ = write!(
            l,
            " {} tcp {}",
            self.flow(stream, dir.unwrap_or(Direction::ClientToServer)),
            self.palette.paint(color, event_words(name)),
        );
        if !detail.is_empty() {
            let _ = write!(l, " {detail}");
        }
        l.push('\n');
        self.out.buffer().extend_from_slice(l.as_bytes());
        self.line = l;
    }

    /// A `--tcp-verbose` line for an IP defragmentation notice.
    pub(super) fn defrag_text(&mut self, d: &Described) {
        let mut l = std::mem::take(&mut self.line);
        l.clear();
        write_time(&mut l, d.ts_ns);
        let _ = write!(
            l,
            " {} -> {} [ip id {:#06x} proto {}] {}: {}",
            d.key.src,
            d.key.dst,
            d.key.id,
            d.key.protocol,
            self.palette.paint(Color::Yellow, d.event.replace('_', " ")),
            d.detail
        );
        l.push('\n');
        self.out.buffer().extend_from_slice(l.as_bytes());
        self.line = l;
    }

    /// A `--tcp-verbose` line for an HTTP protocol error.
    pub(super) fn error_text(&mut self, stream: &Stream, e: &ProtocolError) {
        self.line.clear();
        write_time(&mut self.line, e.ts_ns);
        let _ = writeln!(
            self.line,
            " {} {}",
            self.flow(stream, e.dir),
            self.palette
                .paint(Color::Red, format_args!("http error: {e}"))
        );
        self.out.buffer().extend_from_slice(self.line.as_bytes());
    }
}

/// A TCP event as people say it (`SYN retry`), from its JSON name (`syn_retry`).
fn event_words(name: &str) -> &str {
    match name {
        "syn_retry" => "SYN retry",
        "retransmit" => "retransmission",
        "out_of_order" => "out of order",
        "rst_ignored" => "RST ignored",
        other => other,
    }
}

/// `[stream N]`, or `[stream N h2 M]` for an HTTP/2 stream.
struct StreamTag<'a>(&'a Stream);

impl std::fmt::Display for StreamTag<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0.h2_stream {
            Some(n) => write!(f, "[stream {} h2 {n}]", SessionId::new(self.0.id)),
            None => write!(f, "[stream {}]", SessionId::new(self.0.id)),
        }
    }
}

/// Bytes off the wire as terminal text, in the terminal policy's plain style.
pub(super) fn hex_text(bytes: &[u8]) -> String {
    Escaped::plain(bytes).to_string()
}

/// Writes a body preview: text as text (indented, each line through the terminal policy,
/// tabs kept), anything else summarised.
fn write_body(l: &mut String, label: &str, body: &[u8], limit: usize, truncated: bool) {
    let shown = body.get(..limit).unwrap_or(body);
    let cut = if shown.len() < body.len() || truncated {
        " (truncated)"
    } else {
        ""
    };
    match std::str::from_utf8(shown) {
        Ok(text) if !text.chars().any(|c| c.is_control() && !c.is_whitespace()) => {
            let _ = writeln!(l, "    {label}, {}{cut}:", Bytes(body.len() as u64));
            for line in text.lines() {
                let _ = writeln!(l, "      {}", Escaped(line.as_bytes(), Text::BODY_LINE));
            }
        }
        _ => {
            let head = shown.get(..16).unwrap_or(shown);
            let hex: Vec<String> = head.iter().map(|b| format!("{b:02x}")).collect();
            let _ = writeln!(
                l,
                "    {label}, binary, {}{cut}: {} ...",
                Bytes(body.len() as u64),
                hex.join(" ")
            );
        }
    }
}

/// A duration in nanoseconds shown in milliseconds.
struct Millis(i64);

impl std::fmt::Display for Millis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ms = self.0 as f64 / 1e6;
        if ms < 10.0 {
            write!(f, "{ms:.2} ms")
        } else {
            write!(f, "{ms:.0} ms")
        }
    }
}

/// A byte count in B, kB or MB (decimal, as browsers' devtools show sizes).
struct Bytes(u64);

impl std::fmt::Display for Bytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.0;
        if n < 1000 {
            write!(f, "{n} B")
        } else if n < 1_000_000 {
            write!(f, "{:.1} kB", n as f64 / 1e3)
        } else if n < 1_000_000_000 {
            write!(f, "{:.1} MB", n as f64 / 1e6)
        } else {
            write!(f, "{:.1} GB", n as f64 / 1e9)
        }
    }
}
