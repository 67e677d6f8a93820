//! `grep PATTERN`: a regular expression over TCP payloads.
//!
//! By default the pattern is searched in each direction's reassembled byte stream, so a
//! match split across segments is found. Each direction keeps a sliding window of its last
//! [`WINDOW`] bytes at most, so memory stays bounded: **a match longer than the window, or
//! one that starts more than the window before the bytes that complete it, can be missed**.
//! When the pattern has a bounded length (a literal, `GET /[a-z]{1,20}`), only that many
//! bytes plus the context are kept. A gap in the stream ends the window: no match spans
//! a gap. Each match is reported once; matches do not overlap, and empty matches are not
//! reported. A match is reported once the bytes of its after-context have arrived (or the
//! direction ended), so that greedy patterns match as much as they can across segments.
//!
//! With `--packet`, each segment's payload is searched alone (like ngrep), and the same
//! match split over two segments is not found.
//!
//! The pattern is a `regex` crate pattern over bytes with Unicode off: `.` matches any
//! byte but `\n`, `-i` folds ASCII case only; `(?u)` in the pattern turns Unicode back on.

use std::collections::{HashMap, VecDeque};
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::ops::Range;

use pcap_capture::Packet;
use pcap_decode::Decoded;
use pcap_decode::json::Obj;
use pcap_http_ws::pipeline::Handler;
use pcap_tcp_reassembly::{Direction, Event, EventKind};
use regex::bytes::{Regex, RegexBuilder};

use crate::args::GrepArgs;
use crate::cmd::sessions::{analyze, dir_index, push_ts};
use crate::color::{Color, Palette};
use crate::error::CliError;
use crate::input::Input;
use crate::output::{Output, write_time};

/// Most bytes kept per stream direction for matches that span segments.
pub const WINDOW: usize = 64 * 1024;

/// Largest `--context`: a quarter of the window, so a match still has room.
pub const MAX_CONTEXT: usize = WINDOW / 4;

/// Most segment times remembered per direction (to date a match by the packet that
/// completed it); older matches get the oldest time remembered.
const MAX_TIMES: usize = 256;

/// Runs `grep`.
pub fn run(args: &GrepArgs) -> Result<(), CliError> {
    let matcher = Matcher::new(
        &args.pattern,
        args.ignore_case,
        args.context.min(MAX_CONTEXT),
    )?;
    let mut input = Input::open(&args.source, None)?;
    let mut grep = Grep {
        matcher,
        printer: Printer {
            json: args.output.json,
            palette: Palette::new(&args.output),
            line: String::new(),
        },
        out: Output::stdout(input.is_live()),
        packet_mode: args.packet,
        sessions: HashMap::new(),
        packet: PacketHits::default(),
    };
    let result = analyze(&mut input, &mut grep, Grep::after_packet);
    let finished = grep.out.finish();
    result.and(finished)
}

/// The compiled pattern and what the search needs to know about it.
#[derive(Debug)]
struct Matcher {
    regex: Regex,
    /// Longest possible match, when the pattern bounds it.
    max_len: Option<usize>,
    /// Bytes of context on each side.
    context: usize,
}

impl Matcher {
    fn new(pattern: &str, ignore_case: bool, context: usize) -> Result<Matcher, CliError> {
        let regex = RegexBuilder::new(pattern)
            .case_insensitive(ignore_case)
            .unicode(false)
            .build()
            .map_err(|e| CliError::Regex {
                option: "PATTERN",
                pattern: pattern.to_owned(),
                source: Box::new(e),
            })?;
        let max_len = regex_syntax::ParserBuilder::new()
            .case_insensitive(ignore_case)
            .unicode(false)
            .utf8(false)
            .build()
            .parse(pattern)
            .ok()
            .and_then(|hir| hir.properties().maximum_len());
        Ok(Matcher {
            regex,
            max_len,
            context,
        })
    }

    /// Most bytes a trim keeps: for a bounded pattern, the longest match and the context on
    /// both sides (a match held back for its after-context keeps its before-context too; see
    /// [`Window::trim`]), otherwise the window.
    fn keep(&self) -> usize {
        let context = self.context.max(1);
        self.max_len.map_or(WINDOW, |l| {
            l.saturating_add(context.saturating_mul(2)).min(WINDOW)
        })
    }
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
    /// Where the match is in `context`.
    matched: Range<usize>,
}

/// Writes matches as text lines or JSON objects.
#[derive(Debug)]
struct Printer {
    json: bool,
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
            match h.stream {
                Some(s) => o.u64("stream", s),
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
            Some(s) => {
                let _ = write!(line, " #{s} ");
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
        line.push_str(h.dir.as_str());
        match h.offset {
            Some(o) => {
                let _ = write!(line, " @{o}: ");
            }
            None => line.push_str(" @?: "),
        }
        escape(line, before);
        let mut m = String::new();
        escape(&mut m, matched);
        let _ = write!(line, "{}", self.palette.paint(Color::Red, m));
        escape(line, after);
        line.push('\n');
        out.extend_from_slice(line.as_bytes());
    }
}

/// Appends bytes for a terminal: printable ASCII as is, `\r` `\n` `\t` `\\` escaped, other
/// bytes as `\xHH`.
fn escape(out: &mut String, bytes: &[u8]) {
    for &b in bytes {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'\r' => out.push_str("\\r"),
            b'\n' => out.push_str("\\n"),
            b'\t' => out.push_str("\\t"),
            0x20..=0x7e => out.push(char::from(b)),
            _ => {
                let _ = write!(out, "\\x{b:02x}");
            }
        }
    }
}

/// The last bytes of one stream direction.
#[derive(Debug, Default)]
struct Window {
    buf: Vec<u8>,
    /// Stream offset of `buf[0]`.
    start: u64,
    /// No match to report starts before this stream offset.
    search_from: u64,
    /// (stream offset where a segment's bytes end, its packet time), oldest first.
    times: VecDeque<(u64, i64)>,
}

impl Window {
    fn end(&self) -> u64 {
        self.start.saturating_add(self.buf.len() as u64)
    }

    /// Starts afresh at `offset` (after a gap).
    fn reset(&mut self, offset: u64) {
        self.buf.clear();
        self.times.clear();
        self.start = offset;
        self.search_from = offset;
    }

    /// Adds in-order bytes; `keep` is the most bytes a trim keeps.
    fn push(&mut self, bytes: &[u8], ts_ns: i64, keep: usize) {
        let need = self.buf.len().saturating_add(bytes.len());
        if need > self.buf.capacity() {
            // Doubling keeps appends amortised O(1), but it is capped at what a trim keeps
            // plus this segment: a bounded pattern's buffer holds a few bytes between
            // segments, and would otherwise end at twice the segment size.
            let doubled = self.buf.capacity().saturating_mul(2);
            let target = need.max(doubled.min(need.saturating_add(keep)));
            self.buf.reserve_exact(target - self.buf.len());
        }
        self.buf.extend_from_slice(bytes);
        // Popped before the push and grown at most to `MAX_TIMES`, so the list never doubles
        // past it (256 times take 4 KiB, not 8).
        while self.times.len() >= MAX_TIMES {
            self.times.pop_front();
        }
        if self.times.len() == self.times.capacity() {
            // From one, not four: most directions of short sessions see a segment or two.
            let room = MAX_TIMES.saturating_sub(self.times.len()).max(1);
            self.times
                .reserve_exact(self.times.capacity().max(1).min(room));
        }
        self.times.push_back((self.end(), ts_ns));
    }

    /// The time of the segment that brought the byte before stream offset `end`.
    fn time_of(&self, end: u64) -> i64 {
        self.times
            .iter()
            .find(|(e, _)| *e >= end)
            .or(self.times.back())
            .map_or(0, |&(_, ts)| ts)
    }

    /// Reports the matches that are complete. Unless `last` (no more bytes will come), a
    /// match is held back while it touches the end of the window or its after-context has
    /// not arrived yet.
    fn scan(&mut self, m: &Matcher, last: bool, mut emit: impl FnMut(Found<'_>)) {
        let len = self.buf.len();
        let from = self.search_from.saturating_sub(self.start);
        let mut pos = usize::try_from(from).unwrap_or(usize::MAX).min(len);
        while pos <= len {
            let Some(found) = m.regex.find_at(&self.buf, pos) else {
                break;
            };
            if found.is_empty() {
                pos = found.end() + 1;
                continue;
            }
            // Held back when the bytes to come could still change it: it touches the end,
            // its after-context is incomplete, or (for a bounded pattern) a match starting
            // earlier could still be completed by them.
            let earlier_possible = m
                .max_len
                .is_some_and(|l| found.start().saturating_add(l) > len + 1);
            if !last && (found.end().saturating_add(m.context.max(1)) > len || earlier_possible) {
                self.search_from = self.start + found.start() as u64;
                return;
            }
            let ctx = found.start().saturating_sub(m.context)
                ..found.end().saturating_add(m.context).min(len);
            emit(Found {
                offset: self.start + found.start() as u64,
                ts_ns: self.time_of(self.start + found.end() as u64),
                context_offset: self.start + ctx.start as u64,
                context: self.buf.get(ctx.clone()).unwrap_or_default(),
                matched: found.start() - ctx.start..found.end() - ctx.start,
            });
            pos = found.end();
        }
        // No match starts at `pos` or later yet. One may still end in bytes to come: from
        // anywhere for an unbounded pattern, only from the last `max_len - 1` bytes otherwise.
        let mut next = self.start + pos.min(len) as u64;
        if let Some(max) = m.max_len {
            let tail = u64::try_from(max.saturating_sub(1)).unwrap_or(u64::MAX);
            next = next.max(self.end().saturating_sub(tail));
        }
        self.search_from = next;
    }

    /// Drops the bytes no future match or context needs, and any beyond the last
    /// [`WINDOW`]. The bytes are moved only once at least half the buffer can go, so each
    /// byte is moved a bounded number of times.
    fn trim(&mut self, m: &Matcher) {
        let end = self.end();
        let window_start = end.saturating_sub(WINDOW as u64);
        // A match starting before the window is given up (documented).
        self.search_from = self.search_from.max(window_start);
        let needed = self.search_from.saturating_sub(m.context.max(1) as u64);
        let keep_from = needed.max(window_start).max(self.start);
        let drop = usize::try_from(keep_from - self.start).unwrap_or(usize::MAX);
        if drop == 0 || drop < self.buf.len() / 2 {
            return;
        }
        self.buf.drain(..drop.min(self.buf.len()));
        self.start = keep_from;
        while self.times.front().is_some_and(|&(e, _)| e <= keep_from) {
            self.times.pop_front();
        }
    }
}

/// A match found in a window.
#[derive(Debug)]
struct Found<'a> {
    offset: u64,
    ts_ns: i64,
    context_offset: u64,
    context: &'a [u8],
    matched: Range<usize>,
}

/// Stream mode: one window per direction of a session.
type Windows = [Window; 2];

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
    matcher: Matcher,
    printer: Printer,
    out: Output,
    packet_mode: bool,
    /// Stream mode: the windows of the sessions that carried bytes, made on their first
    /// `Data` (events name their endpoints, so a session without bytes, such as a SYN
    /// flood's, costs nothing here) and dropped when the session ends. Boxed: the table has
    /// up to twice as many slots as sessions, and a slot then costs 16 bytes, not 152.
    sessions: HashMap<u64, Box<Windows>>,
    packet: PacketHits,
}

impl Handler for Grep {
    fn packet(&mut self, frame: u64, packet: &Packet<'_>, decoded: &Decoded<'_>) {
        if !self.packet_mode {
            return;
        }
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
        let context = self.matcher.context;
        for found in self.matcher.regex.find_iter(payload) {
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

    fn tcp(&mut self, event: &Event<'_>) {
        if self.packet_mode {
            self.note_packet_session(event);
        } else {
            self.stream_event(event);
        }
    }
}

impl Grep {
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
            };
            printer.hit(out.buffer(), &hit);
        }
        p.hits.clear();
        p.bytes.clear();
    }

    /// Stream mode: feeds the windows and reports complete matches.
    fn stream_event(&mut self, event: &Event<'_>) {
        let Grep {
            matcher,
            printer,
            out,
            sessions,
            ..
        } = self;
        let id = event.session;
        let (client, server) = (event.client, event.server);
        let mut removed;
        // Only bytes need a window: before the first, a gap or FIN has nothing to scan, and
        // the first `Data` starts its window at its own offset.
        let windows = match event.kind {
            EventKind::Data { .. } => sessions.entry(id).or_default(),
            EventKind::End { .. } | EventKind::Reset { .. } | EventKind::Closed { .. } => {
                let Some(w) = sessions.remove(&id) else {
                    return;
                };
                removed = w;
                &mut removed
            }
            _ => {
                let Some(w) = sessions.get_mut(&id) else {
                    return;
                };
                w
            }
        };
        let mut scan = |w: &mut Window, dir: Direction, last: bool| {
            w.scan(matcher, last, |f| {
                let hit = Hit {
                    stream: Some(id),
                    client: Some(client),
                    server: Some(server),
                    dir,
                    frame: None,
                    ts_ns: f.ts_ns,
                    offset: Some(f.offset),
                    context_offset: Some(f.context_offset),
                    context: f.context,
                    matched: f.matched,
                };
                printer.hit(out.buffer(), &hit);
            });
        };
        match event.kind {
            EventKind::Data { dir, offset, bytes } => {
                let w = &mut windows[dir_index(dir)];
                if offset != w.end() {
                    if !w.buf.is_empty() {
                        scan(w, dir, true);
                    }
                    w.reset(offset);
                }
                w.push(bytes, event.ts_ns, matcher.keep());
                scan(w, dir, false);
                w.trim(matcher);
            }
            EventKind::Gap { dir, offset, len } => {
                let w = &mut windows[dir_index(dir)];
                scan(w, dir, true);
                w.reset(offset.saturating_add(len));
            }
            EventKind::Fin { dir, .. } => {
                let w = &mut windows[dir_index(dir)];
                scan(w, dir, true);
                w.reset(w.end());
            }
            EventKind::End { .. } | EventKind::Reset { .. } | EventKind::Closed { .. } => {
                for dir in [Direction::ClientToServer, Direction::ServerToClient] {
                    scan(&mut windows[dir_index(dir)], dir, true);
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matcher(p: &str, context: usize) -> Matcher {
        Matcher::new(p, false, context).unwrap()
    }

    /// Feeds `chunks` as consecutive segments and returns (offset, match, context) found.
    fn run_window(m: &Matcher, chunks: &[&[u8]]) -> Vec<(u64, Vec<u8>, Vec<u8>)> {
        let mut w = Window::default();
        let mut found = Vec::new();
        let mut record = |f: Found<'_>| {
            found.push((
                f.offset,
                f.context[f.matched.clone()].to_vec(),
                f.context.to_vec(),
            ))
        };
        for (i, c) in chunks.iter().enumerate() {
            w.push(c, i as i64, m.keep());
            w.scan(m, false, &mut record);
            w.trim(m);
        }
        w.scan(m, true, &mut record);
        found
    }

    proptest::proptest! {
        /// Stream mode over any split of the data finds what one search over the whole
        /// data finds, for patterns shorter than the window.
        #[test]
        fn any_split_finds_the_whole_data_matches(
            data in proptest::collection::vec(proptest::sample::select(b"abcdxHELO".to_vec()), 0..400),
            cuts in proptest::collection::vec(0usize..400, 0..12),
            pattern in proptest::sample::select(vec!["HELLO", "a[bc]{1,5}d", "xab|ab", "abcd|ab", "(?i)hel{1,3}o"]),
            context in 0usize..6,
        ) {
            let m = matcher(pattern, context);
            let mut cuts: Vec<usize> = cuts.into_iter().filter(|&c| c <= data.len()).collect();
            cuts.push(0);
            cuts.push(data.len());
            cuts.sort_unstable();
            let chunks: Vec<&[u8]> = cuts.windows(2).map(|w| &data[w[0]..w[1]]).collect();
            let got: Vec<(u64, Vec<u8>)> =
                run_window(&m, &chunks).into_iter().map(|(o, mt, _)| (o, mt)).collect();
            let want: Vec<(u64, Vec<u8>)> = m
                .regex
                .find_iter(&data)
                .filter(|f| !f.is_empty())
                .map(|f| (f.start() as u64, f.as_bytes().to_vec()))
                .collect();
            proptest::prop_assert_eq!(got, want);
        }
    }

    #[test]
    fn match_split_across_segments_is_found_once() {
        let m = matcher("HELLO", 2);
        let found = run_window(&m, &[b"xxHEL", b"LOyy", b"zz"]);
        assert_eq!(found, vec![(2, b"HELLO".to_vec(), b"xxHELLOyy".to_vec())]);
    }

    #[test]
    fn greedy_match_grows_over_segments() {
        let m = matcher("a+", 0);
        let found = run_window(&m, &[b"xaa", b"aaa", b"b", b"a"]);
        assert_eq!(
            found,
            vec![
                (1, b"aaaaa".to_vec(), b"aaaaa".to_vec()),
                (7, b"a".to_vec(), b"a".to_vec())
            ]
        );
    }

    /// Pushes `segment` as stream mode does.
    fn feed(w: &mut Window, m: &Matcher, segment: &[u8]) {
        w.push(segment, 0, m.keep());
        w.scan(m, false, |_| panic!("no match"));
        w.trim(m);
    }

    #[test]
    fn bounded_pattern_keeps_few_bytes() {
        let m = matcher("HELLO", 3);
        let mut w = Window::default();
        let big = vec![b'.'; 10_000];
        feed(&mut w, &m, &big);
        assert!(w.buf.len() <= 4 + 3, "kept {} bytes", w.buf.len());
        // Later segments keep it small.
        for _ in 0..100 {
            feed(&mut w, &m, &big[..1000]);
            assert!(w.buf.len() <= 2 * (1000 + 7), "kept {} bytes", w.buf.len());
        }
    }

    #[test]
    fn bounded_pattern_buffer_stays_near_needed_plus_one_segment() {
        let m = matcher("zq9xk|never-matches", 40);
        let mut w = Window::default();
        for _ in 0..1000 {
            feed(&mut w, &m, &[b'p'; 1460]);
            // The bytes kept, the segment, and the slack of one growth step.
            assert!(
                w.buf.capacity() <= 1460 + 2 * m.keep(),
                "{}",
                w.buf.capacity()
            );
        }
    }

    #[test]
    fn time_list_stops_at_its_most() {
        let m = matcher("A.*Z", 0);
        let mut w = Window::default();
        for _ in 0..1000 {
            feed(&mut w, &m, &[b'.'; 100]);
        }
        // Rather than doubling past it.
        assert_eq!(w.times.len(), MAX_TIMES);
        assert_eq!(w.times.capacity(), MAX_TIMES);
    }

    #[test]
    fn unbounded_pattern_keeps_at_most_the_window() {
        let m = matcher("A.*Z", 0);
        let mut w = Window::default();
        for _ in 0..100 {
            feed(&mut w, &m, &[b'.'; 1000]);
        }
        assert!(w.buf.len() <= 2 * WINDOW);
        assert!(w.search_from >= w.end() - WINDOW as u64);
        assert_eq!(w.end(), 100_000);
    }

    #[test]
    fn empty_matches_are_skipped() {
        let m = matcher("x*", 0);
        let found = run_window(&m, &[b"abxxc"]);
        assert_eq!(found, vec![(2, b"xx".to_vec(), b"xx".to_vec())]);
    }

    #[test]
    fn escape_shows_controls_and_high_bytes() {
        let mut s = String::new();
        escape(&mut s, b"a\r\n\t\\\x00\xff");
        assert_eq!(s, "a\\r\\n\\t\\\\\\x00\\xff");
    }
}
