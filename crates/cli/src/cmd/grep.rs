//! `grep PATTERN`: a regular expression over TCP payloads and UDP datagrams.
//!
//! A UDP datagram's payload is searched alone, in both modes (a match never spans two
//! datagrams); its matches are marked `udp` with the datagram's endpoints (JSON
//! `"proto":"udp"`, `client` and `server` its source and destination, `stream` null).
//!
//! By default the pattern is searched in each direction's reassembled byte stream, so a
//! match split across segments is found: [`pcap_analyzer::search`] does it, within its
//! 64 MiB memory budget (its documentation says what can be missed and when). grep prints
//! a warning on stderr at the end when the budget cut or dropped windows.
//!
//! With `--packet`, each segment's payload is searched alone (like ngrep), and the same
//! match split over two segments is not found; `-v` then shows the segments whose payload
//! does not match.
//!
//! `-n N` stops reading after N matches (packets with `-v`); `-x` shows each context as a
//! hex dump. Exit code 1 when nothing was shown, as grep.
//!
//! TLS sessions are found by content (any port) and, with their keys (`--keylog`,
//! `$SSLKEYLOGFILE`, or the capture's Decryption Secrets Blocks), their decrypted bytes are
//! searched too, as a stream of their own beside the raw one: a match there is marked
//! `[tls]` (JSON `"tls":true`), with offsets in the plaintext and client and server in TLS
//! roles. `--packet` searches the raw payloads only.
//!
//! The pattern is a `regex` crate pattern over bytes with Unicode off: `.` matches any
//! byte but `\n`, `-I` folds ASCII case only; `(?u)` in the pattern turns Unicode back on.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::ops::{ControlFlow, Range};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use pcap_analyzer::search::{Match, Pattern, SearchConfig, SearchStats, StreamSearch, WINDOW};
use pcap_analyzer::{Handler, Stream};
use pcap_capture::Packet;
use pcap_capture::live;
use pcap_decode::Decoded;
use pcap_tcp_reassembly::{Direction, Event, EventKind, PerDir};
use pcap_tls::TlsEvent;

use crate::args::{GrepArgs, GrepLayout};
use crate::cmd::sessions::{analyze_on, analyze_tls_on, push_ts};
use crate::color::{Color, Palette};
use crate::error::{CliError, flow};
use crate::input::Input;
use crate::output::{Output, write_time};
use crate::parallel::{self, SessionId};
use crate::render::escape::{Text, write_text};
use crate::render::json::Obj;

/// Runs `grep`.
pub fn run(args: &GrepArgs) -> Result<(), CliError> {
    if args.invert && !args.packet {
        return Err(CliError::Usage(
            "grep: -v needs --packet: it shows the packets whose payload does not match, \
             and a reassembled stream has no such unit to invert",
        ));
    }
    let pattern = Pattern::new(&args.pattern, args.ignore_case).map_err(|e| CliError::Regex {
        option: "PATTERN",
        pattern: args.pattern.clone(),
        source: Box::new(e),
    })?;
    if let (Some(name), []) = (&args.source.interface, args.source.read.as_slice()) {
        // `-i` ignored case before it was the interface: `grep -i PATTERN` would now
        // capture on a device named PATTERN. (When devices cannot be listed, opening the
        // device reports the problem.)
        if live::devices().is_ok_and(|d| !d.iter().any(|d| &d.name == name)) {
            return Err(CliError::GrepInterface { name: name.clone() });
        }
    }
    // `-n N` counts matches as they are printed: on one thread.
    let threads = match args.max_matches {
        Some(_) => 1,
        None => parallel::threads(args.threads.threads.map(usize::from)),
    };
    // The default memory budget (64 MiB), shared out among the threads; the search cuts
    // the context to `MAX_CONTEXT`.
    let mut config = SearchConfig::default();
    config.context = args.context;
    config.memory_budget = (config.memory_budget / threads.max(1)).max(1);
    let mut input = Input::open(&args.source, None)?;
    let stop = input.stop_flag();
    let make = |out| Grep {
        search: StreamSearch::new(pattern.clone(), config),
        printer: Printer {
            json: args.output.json,
            hex: args.hex,
            byline: args.layout == GrepLayout::Byline,
            palette: Palette::new(&args.output),
            line: String::new(),
        },
        out,
        packet_mode: args.packet,
        invert: args.invert,
        packet: PacketHits::default(),
        printed: 0,
        limit: args.max_matches,
        stop: Arc::clone(&stop),
        tls: HashMap::new(),
    };
    // Stream mode searches decrypted TLS bytes too; a packet is a packet's raw payload.
    let (ran, shards) = if args.packet {
        analyze_on(&mut input, &args.tcp, threads, make)
    } else {
        analyze_tls_on(&mut input, &args.tcp, threads, make)
    };
    let mut finished = Ok(());
    let mut printed = 0u64;
    let mut stats = Vec::with_capacity(shards.len());
    for mut grep in shards {
        finished = finished.and(grep.out.flush());
        printed = printed.saturating_add(grep.printed);
        stats.push(grep.search.stats());
    }
    if let Some(warning) = warning(&stats) {
        eprintln!("{warning}");
    }
    ran.finish(&mut input).and(finished)?;
    if printed == 0 {
        return Err(CliError::NoMatch);
    }
    Ok(())
}

/// The warning to print at the end when the budget cut windows or dropped them, from the
/// search of each thread.
fn warning(stats: &[SearchStats]) -> Option<String> {
    let hit: Vec<&SearchStats> = stats.iter().filter(|s| s.budget_hit()).collect();
    if hit.is_empty() {
        return None;
    }
    let limit: usize = stats.iter().map(|s| s.memory.limit()).sum();
    let smallest = hit
        .iter()
        .map(|s| s.smallest_window)
        .min()
        .unwrap_or(WINDOW);
    let dropped: u64 = hit.iter().map(|s| s.windows_dropped).sum();
    let mut s = format!(
        "pcap-cli: warning: grep's sessions together needed more than its {} MiB memory \
         budget: stream windows were cut to as little as {} bytes per direction ({} KiB \
         normally)",
        limit >> 20,
        smallest,
        WINDOW >> 10
    );
    if dropped > 0 {
        let _ = write!(
            s,
            " and {dropped} times a session's windows were dropped after a segment"
        );
    }
    s.push_str("; matches spanning segments may have been missed");
    Some(s)
}

/// One match, ready to print.
#[derive(Debug)]
struct Hit<'a> {
    stream: Option<u64>,
    client: Option<SocketAddr>,
    server: Option<SocketAddr>,
    dir: Direction,
    /// Frame number (`--packet` only).
    frame: Option<u64>,
    ts_ns: i64,
    /// Stream offset of the match, when known.
    offset: Option<u64>,
    /// Stream offset of `context[0]`, when known.
    context_offset: Option<u64>,
    context: &'a [u8],
    /// Where the match is in `context`; empty for a packet shown by `-v`.
    matched: Range<usize>,
    /// The match is in a TLS session's decrypted bytes.
    tls: bool,
    /// The match is in a UDP datagram: `client` and `server` are its source and
    /// destination, `offset` is in the datagram.
    udp: bool,
}

impl<'a> Hit<'a> {
    /// A match of stream mode, raw or decrypted.
    fn of(m: Match<'a>) -> Hit<'a> {
        Hit {
            stream: Some(m.stream.id),
            client: Some(m.stream.client),
            server: Some(m.stream.server),
            dir: m.dir,
            frame: None,
            ts_ns: m.ts_ns,
            offset: Some(m.offset),
            context_offset: Some(m.context_offset),
            context: m.context,
            matched: m.matched,
            tls: m.stream.tls,
            udp: false,
        }
    }
}

/// Writes matches as text lines or JSON objects.
#[derive(Debug)]
struct Printer {
    json: bool,
    /// `-x`: the context as a hex dump.
    hex: bool,
    /// `-W byline`: the context's line breaks kept.
    byline: bool,
    palette: Palette,
    line: String,
}

impl Printer {
    fn hit(&mut self, out: &mut Vec<u8>, h: &Hit<'_>) {
        let before = h.context.get(..h.matched.start).unwrap_or_default();
        let matched = h.context.get(h.matched.clone()).unwrap_or_default();
        let after = h.context.get(h.matched.end..).unwrap_or_default();
        if self.json {
            let mut o = Obj::new(out);
            if h.udp {
                o.str("proto", "udp");
            }
            match h.stream {
                Some(s) => SessionId::new(s).push(o.key("stream")),
                None => o.key("stream").extend_from_slice(b"null"),
            }
            match (h.client, h.server) {
                (Some(c), Some(s)) => {
                    o.display("client", c);
                    o.display("server", s);
                }
                _ => {
                    o.key("client").extend_from_slice(b"null");
                    o.key("server").extend_from_slice(b"null");
                }
            }
            o.str("dir", h.dir.as_str());
            if h.tls {
                o.bool("tls", true);
            }
            match h.offset {
                Some(v) => o.u64("offset", v),
                None => o.key("offset").extend_from_slice(b"null"),
            }
            push_ts(o.key("ts"), h.ts_ns);
            if let Some(f) = h.frame {
                o.u64("frame", f);
            }
            o.bytes_str("match", matched);
            o.bytes_str("context", h.context);
            match h.context_offset {
                Some(v) => o.u64("context_offset", v),
                None => o.key("context_offset").extend_from_slice(b"null"),
            }
            o.u64("match_start", h.matched.start as u64);
            o.u64("match_len", matched.len() as u64);
            o.end();
            out.push(b'\n');
            return;
        }
        let line = &mut self.line;
        line.clear();
        write_time(line, h.ts_ns);
        match h.stream {
            _ if h.udp => line.push_str(" udp "),
            Some(s) => {
                let _ = write!(line, " #{} ", SessionId::new(s));
            }
            None => line.push_str(" #? "),
        }
        if let (Some(c), Some(s)) = (h.client, h.server) {
            let (from, to) = match h.dir {
                Direction::ClientToServer => (c, s),
                Direction::ServerToClient => (s, c),
            };
            let _ = write!(line, "{} -> {} ", self.palette.paint(Color::Cyan, from), to);
        }
        if !h.udp {
            line.push_str(h.dir.as_str());
        }
        match h.offset {
            Some(o) if h.udp => {
                let _ = write!(line, "@{o}");
            }
            Some(o) => {
                let _ = write!(line, " @{o}");
            }
            None => line.push_str(" @?"),
        }
        if h.tls {
            line.push_str(" [tls]");
        }
        let mut m = String::new();
        if self.byline {
            escape_byline(&mut m, matched);
            line.push_str(":\n");
            escape_byline(line, before);
            if !m.is_empty() {
                let _ = write!(line, "{}", self.palette.paint(Color::Red, m));
            }
            escape_byline(line, after);
            if !line.ends_with('\n') {
                line.push('\n');
            }
            out.extend_from_slice(line.as_bytes());
            return;
        }
        escape(&mut m, matched);
        if self.hex {
            if !matched.is_empty() {
                let _ = write!(line, ", match at {:04x}", h.matched.start);
            }
            line.push(':');
            if !matched.is_empty() {
                let _ = write!(line, " {}", self.palette.paint(Color::Red, m));
            }
            line.push('\n');
            hex_dump(line, self.palette, h.context, &h.matched);
        } else {
            line.push_str(": ");
            escape(line, before);
            if !m.is_empty() {
                let _ = write!(line, "{}", self.palette.paint(Color::Red, m));
            }
            escape(line, after);
            line.push('\n');
        }
        out.extend_from_slice(line.as_bytes());
    }
}

/// Appends `bytes` as hex and ASCII lines of 16 bytes, like `hexdump -C`: the offset from
/// the first byte, the bytes in hex (a space after the 8th), then printable ASCII with `.`
/// for other bytes. The bytes in `matched` are painted red in both columns.
fn hex_dump(out: &mut String, palette: Palette, bytes: &[u8], matched: &Range<usize>) {
    for (row, chunk) in bytes.chunks(16).enumerate() {
        let start = row * 16;
        let _ = write!(out, "  {start:04x} ");
        for i in 0..16 {
            if i == 8 {
                out.push(' ');
            }
            match chunk.get(i) {
                Some(b) => {
                    let text = format!("{b:02x}");
                    let _ = write!(out, " {}", paint_if(palette, matched, start + i, text));
                }
                None => out.push_str("   "),
            }
        }
        out.push_str("  ");
        for (i, &b) in chunk.iter().enumerate() {
            let c = if (0x20..=0x7e).contains(&b) {
                char::from(b)
            } else {
                '.'
            };
            let _ = write!(out, "{}", paint_if(palette, matched, start + i, c));
        }
        out.push('\n');
    }
}

/// `text` painted red when byte `at` is in `matched`.
fn paint_if<T: std::fmt::Display>(
    palette: Palette,
    matched: &Range<usize>,
    at: usize,
    text: T,
) -> crate::color::Painted<T> {
    if matched.contains(&at) {
        palette.paint(Color::Red, text)
    } else {
        Palette::plain().paint(Color::Red, text)
    }
}

/// Appends bytes for a terminal under the shared policy ([`crate::render::escape`]), with
/// `\` backslashed and every non-ASCII byte as `\xNN` ([`Text::GREP`]).
fn escape(out: &mut String, bytes: &[u8]) {
    // Writing into a String cannot fail.
    let _ = write_text(out, bytes, Text::GREP);
}

/// [`escape`], but each LF is a line break (and a CR before it is dropped), as ngrep -W
/// byline shows payloads.
fn escape_byline(out: &mut String, bytes: &[u8]) {
    let mut lines = bytes.split(|&b| b == b'\n').peekable();
    while let Some(piece) = lines.next() {
        let last = lines.peek().is_none();
        let piece = match piece.strip_suffix(b"\r") {
            Some(p) if !last => p,
            _ => piece,
        };
        escape(out, piece);
        if !last {
            out.push('\n');
        }
    }
}

/// `--packet`: the matches in the packet being handled, waiting for the reassembler to say
/// which session and stream offset the packet belongs to.
#[derive(Debug, Default)]
struct PacketHits {
    frame: u64,
    ts_ns: i64,
    src: Option<SocketAddr>,
    /// Context bytes of every match of the packet.
    bytes: Vec<u8>,
    /// Per match: its context in `bytes`, the match within that context, its payload offset.
    hits: Vec<(Range<usize>, Range<usize>, u64)>,
    /// The session the packet belongs to (id, client, server), learnt from its events.
    session: Option<(u64, SocketAddr, SocketAddr)>,
    /// Stream offset of the packet's first payload byte, learnt from its events.
    offset: Option<u64>,
}

/// The handler.
#[derive(Debug)]
struct Grep {
    /// Stream mode's search; its pattern and context serve `--packet` too.
    search: StreamSearch,
    printer: Printer,
    out: Output,
    packet_mode: bool,
    /// `-v` (with `--packet`): show the payloads that do not match.
    invert: bool,
    packet: PacketHits,
    /// Matches (with `-v`, packets) printed so far: none means exit code 1.
    printed: u64,
    /// `-n N`: print at most N, then stop reading.
    limit: Option<u64>,
    /// Set to stop reading at the next packet.
    stop: Arc<AtomicBool>,
    /// Stream mode: the TLS sessions whose decrypted bytes are being searched, by session
    /// id, until the session ends.
    tls: HashMap<u64, TlsFeed>,
}

/// A TLS session's decrypted bytes as a stream of their own.
#[derive(Debug)]
struct TlsFeed {
    /// The session in TLS roles, marked [`Stream::tls`]: the search keeps its windows
    /// apart from the raw stream's.
    stream: Stream,
    /// Plaintext bytes fed so far per direction: the next one's offset.
    offsets: PerDir<u64>,
}

/// Counts a printed record against `-n N`; false when the limit was reached already (the
/// record is then not printed). Reaching it stops reading at the next packet.
fn count_one(printed: &mut u64, limit: Option<u64>, stop: &AtomicBool) -> bool {
    if limit.is_some_and(|l| *printed >= l) {
        return false;
    }
    *printed += 1;
    if limit.is_some_and(|l| *printed >= l) {
        stop.store(true, Ordering::Relaxed);
    }
    true
}

impl parallel::Shard for Grep {
    fn output(&mut self) -> &mut Vec<u8> {
        self.out.buffer()
    }
}

impl Handler for Grep {
    type Error = CliError;

    fn packet(
        &mut self,
        frame: u64,
        packet: &Packet<'_>,
        decoded: &Decoded<'_>,
    ) -> ControlFlow<CliError> {
        if decoded.udp().is_some() {
            self.udp_hits(frame, packet, decoded);
        } else if self.packet_mode {
            self.packet_hits(frame, packet, decoded);
        }
        ControlFlow::Continue(())
    }

    /// Stream mode: a write error stops the run.
    fn tcp(&mut self, event: &Event<'_>) -> ControlFlow<CliError> {
        if self.packet_mode {
            self.note_packet_session(event);
            ControlFlow::Continue(())
        } else {
            flow(self.stream_event(event))
        }
    }

    /// Stream mode: decrypted bytes are searched as the session's TLS stream.
    fn tls(&mut self, stream: &Stream, event: &TlsEvent<'_>) -> ControlFlow<CliError> {
        let TlsEvent::Plaintext { dir, ts_ns, data } = *event else {
            return ControlFlow::Continue(());
        };
        let Grep {
            search,
            printer,
            out,
            printed,
            limit,
            stop,
            tls,
            ..
        } = self;
        let feed = tls.entry(stream.id).or_insert_with(|| TlsFeed {
            stream: Stream {
                tls: true,
                ..*stream
            },
            offsets: PerDir::default(),
        });
        let offset = feed.offsets[dir];
        feed.offsets[dir] = offset.saturating_add(data.len() as u64);
        search.data(feed.stream, dir, offset, data, ts_ns, |m| {
            if count_one(printed, *limit, stop) {
                printer.hit(out.buffer(), &Hit::of(m));
            }
        });
        ControlFlow::Continue(())
    }

    fn packet_done(&mut self) -> ControlFlow<CliError> {
        flow(self.after_packet())
    }

    fn finished(&mut self) -> ControlFlow<CliError> {
        flow(self.after_packet())
    }
}

impl Grep {
    /// `--packet`: finds the matches in the packet's own TCP payload.
    fn packet_hits(&mut self, frame: u64, packet: &Packet<'_>, decoded: &Decoded<'_>) {
        let p = &mut self.packet;
        p.frame = frame;
        p.ts_ns = packet.ts_ns;
        p.session = None;
        p.offset = None;
        let Some(tcp) = decoded.tcp() else {
            return;
        };
        p.src = decoded
            .src_ip()
            .map(|ip| SocketAddr::new(ip, tcp.src_port()));
        let payload = decoded.payload;
        let context = self.search.context();
        if self.invert {
            let regex = self.search.pattern().regex();
            if !payload.is_empty() && !regex.find_iter(payload).any(|m| !m.is_empty()) {
                // Shown by its first bytes, as wide as a match line.
                let shown = payload.len().min(context.saturating_mul(2).max(1));
                p.bytes
                    .extend_from_slice(payload.get(..shown).unwrap_or_default());
                p.hits.push((0..shown, 0..0, 0));
            }
            return;
        }
        for found in self.search.pattern().regex().find_iter(payload) {
            if found.is_empty() {
                continue;
            }
            let ctx = found.start().saturating_sub(context)
                ..found.end().saturating_add(context).min(payload.len());
            let at = p.bytes.len();
            p.bytes
                .extend_from_slice(payload.get(ctx.clone()).unwrap_or_default());
            p.hits.push((
                at..p.bytes.len(),
                found.start() - ctx.start..found.end() - ctx.start,
                found.start() as u64,
            ));
        }
    }

    /// A UDP datagram's payload, searched alone in both modes (a match never spans two
    /// datagrams) and printed at once; with `-v`, shown when it does not match.
    fn udp_hits(&mut self, frame: u64, packet: &Packet<'_>, decoded: &Decoded<'_>) {
        let (Some(udp), Some(src), Some(dst)) = (decoded.udp(), decoded.src_ip(), decoded.dst_ip())
        else {
            return;
        };
        let Grep {
            search,
            printer,
            out,
            printed,
            limit,
            stop,
            invert,
            ..
        } = self;
        let payload = decoded.payload;
        let context = search.context();
        let hit = |ctx: Range<usize>, matched: Range<usize>, at: usize| Hit {
            stream: None,
            client: Some(SocketAddr::new(src, udp.src_port())),
            server: Some(SocketAddr::new(dst, udp.dst_port())),
            dir: Direction::ClientToServer,
            frame: Some(frame),
            ts_ns: packet.ts_ns,
            offset: Some(at as u64),
            context_offset: Some(ctx.start as u64),
            context: payload.get(ctx).unwrap_or_default(),
            matched,
            tls: false,
            udp: true,
        };
        let regex = search.pattern().regex();
        if *invert {
            if !payload.is_empty()
                && !regex.find_iter(payload).any(|m| !m.is_empty())
                && count_one(printed, *limit, stop)
            {
                let shown = payload.len().min(context.saturating_mul(2).max(1));
                printer.hit(out.buffer(), &hit(0..shown, 0..0, 0));
            }
            return;
        }
        for found in regex.find_iter(payload) {
            if found.is_empty() {
                continue;
            }
            let ctx = found.start().saturating_sub(context)
                ..found.end().saturating_add(context).min(payload.len());
            let matched = found.start() - ctx.start..found.end() - ctx.start;
            if !count_one(printed, *limit, stop) {
                return;
            }
            printer.hit(out.buffer(), &hit(ctx, matched, found.start()));
        }
    }

    /// Writes what the last packet produced.
    fn after_packet(&mut self) -> Result<(), CliError> {
        if !self.packet.hits.is_empty() {
            self.print_packet_hits();
        }
        self.out.packet_done()
    }

    /// `--packet`: learns the packet's session and stream offset from its TCP events.
    fn note_packet_session(&mut self, event: &Event<'_>) {
        let p = &mut self.packet;
        if p.hits.is_empty() {
            return;
        }
        let offset = match event.kind {
            EventKind::Data { offset, .. }
            | EventKind::Retransmission { offset, .. }
            | EventKind::OutOfOrder { offset, .. } => Some(offset),
            EventKind::Start { .. } => None,
            _ => return,
        };
        if p.session.is_none() || offset.is_some() {
            p.session = Some((event.session, event.client, event.server));
        }
        if let Some(o) = offset {
            p.offset = Some(p.offset.map_or(o, |prev| prev.min(o)));
        }
    }

    fn print_packet_hits(&mut self) {
        let Grep {
            printer,
            out,
            packet: p,
            printed,
            limit,
            stop,
            ..
        } = self;
        let (stream, client, server) = match p.session {
            Some((id, c, s)) => (Some(id), Some(c), Some(s)),
            None => (None, None, None),
        };
        let dir = match (p.src, server) {
            (Some(src), Some(server)) if src == server => Direction::ServerToClient,
            _ => Direction::ClientToServer,
        };
        for (ctx, matched, at) in &p.hits {
            let offset = p.offset.map(|o| o.saturating_add(*at));
            let hit = Hit {
                stream,
                client,
                server,
                dir,
                frame: Some(p.frame),
                ts_ns: p.ts_ns,
                offset,
                context_offset: offset.map(|o| o.saturating_sub(matched.start as u64)),
                context: p.bytes.get(ctx.clone()).unwrap_or_default(),
                matched: matched.clone(),
                tls: false,
                udp: false,
            };
            if count_one(printed, *limit, stop) {
                printer.hit(out.buffer(), &hit);
            }
        }
        p.hits.clear();
        p.bytes.clear();
    }

    /// Stream mode: feeds the search and prints the matches it completes.
    fn stream_event(&mut self, event: &Event<'_>) -> Result<(), CliError> {
        let Grep {
            search,
            printer,
            out,
            printed,
            limit,
            stop,
            tls,
            ..
        } = self;
        let mut report = |m: Match<'_>| {
            if count_one(printed, *limit, stop) {
                printer.hit(out.buffer(), &Hit::of(m));
            }
        };
        search.event(event, &mut report);
        if event.kind.ended().is_some() {
            // The TLS decoder heard of the end first: its plaintext is all in.
            if let Some(feed) = tls.remove(&event.session) {
                search.end(feed.stream, &mut report);
            }
            // Written out here rather than after the packet: the end of the input ends
            // every open session at once (up to `max_sessions`), each with the matches
            // it held back.
            return out.packet_done();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_shows_controls_and_high_bytes() {
        let mut s = String::new();
        escape(&mut s, b"a\r\n\t\\\x00\xff");
        assert_eq!(s, "a\\r\\n\\t\\\\\\x00\\xff");
    }

    #[test]
    fn escape_byline_keeps_line_breaks_only() {
        let mut s = String::new();
        escape_byline(&mut s, b"GET / HTTP/1.1\r\nHost: a\r\n\r\nx\ty\x1b\r");
        assert_eq!(s, "GET / HTTP/1.1\nHost: a\n\nx\\ty\\x1b\\r");
    }
}
