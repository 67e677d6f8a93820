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
//! All sessions' windows share one [`MEMORY_BUDGET`] (64 MiB): the table holds up to
//! 262 144 sessions, so windows bounded per direction would still add up to tens of GiB
//! on a hostile capture. Under it (up to about 256 sessions streaming at once with full
//! windows) nothing changes. Over it, every direction's window is cut to a fair share of
//! the budget, never below what a bounded pattern needs (its longest match plus the context
//! on both sides, so a bounded pattern loses nothing to the cut) nor below 256 bytes plus
//! the context for an unbounded one: **a match of an unbounded pattern that needed the
//! bytes given up can be missed**, as with the 64 KiB window. A match already found but
//! held back (for its after-context, or to grow) is reported as it stands when its own
//! direction is cut, and given up when the windows are cut while its session is idle. When
//! even the smallest windows do not fit, the session being fed loses its windows after each
//! segment, as at a gap (held-back matches are reported as they stand; **no match spans the
//! cut**). grep then prints a warning on stderr at the end.
//!
//! With `--packet`, each segment's payload is searched alone (like ngrep), and the same
//! match split over two segments is not found.
//!
//! The pattern is a `regex` crate pattern over bytes with Unicode off: `.` matches any
//! byte but `\n`, `-i` folds ASCII case only; `(?u)` in the pattern turns Unicode back on.

use std::collections::{HashMap, VecDeque};
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::ops::{ControlFlow, Range};

use pcap_analyzer::Handler;
use pcap_capture::Packet;
use pcap_decode::Decoded;
use pcap_tcp_reassembly::{Direction, Event, EventKind};
use regex::bytes::{Regex, RegexBuilder};

use crate::args::GrepArgs;
use crate::cmd::sessions::{analyze, dir_index, push_ts};
use crate::color::{Color, Palette};
use crate::error::{CliError, flow};
use crate::input::Input;
use crate::output::{Output, write_time};
use crate::render::json::Obj;

/// Most bytes kept per stream direction for matches that span segments.
pub const WINDOW: usize = 64 * 1024;

/// Largest `--context`: a quarter of the window, so a match still has room.
pub const MAX_CONTEXT: usize = WINDOW / 4;

/// Most segment times remembered per direction (to date a match by the packet that
/// completed it); older matches get the oldest time remembered. A window the budget cut
/// remembers fewer: see [`times_for`].
const MAX_TIMES: usize = 256;

/// Most bytes stream mode's per-session state may hold, all sessions together: the windows'
/// buffers and time lists (their capacities), each session's boxed windows and its slot in
/// the table. Half of it is kept as headroom when it is shared out (see
/// `Streams::share`), so up to 256 sessions keep full [`WINDOW`]s in both directions:
/// more than a normal capture has streaming at once.
pub const MEMORY_BUDGET: usize = 64 << 20;

/// Smallest window the budget cuts a direction to for an unbounded pattern, besides the
/// context on both sides: a smaller one would find little more than `--packet` does, so past
/// that point dropping the session's windows after each segment is the better trade.
const MIN_WINDOW: usize = 256;

/// What a session costs in the table, per bucket: the key, the box pointer and hashbrown's
/// control byte.
const SLOT: usize = size_of::<(u64, Box<Windows>)>() + 1;

/// What an allocation of `n` bytes takes from glibc's malloc: 8 bytes of header, rounded up
/// to 16, at least 32. Counting this rather than `n` keeps the budget close to the memory
/// used when the allocations are small, as they are with many sessions (a 45-byte buffer
/// takes 64).
fn heap(n: usize) -> usize {
    if n == 0 {
        0
    } else {
        n.saturating_add(8).next_multiple_of(16).max(32)
    }
}

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
        streams: Streams::new(MEMORY_BUDGET),
        packet: PacketHits::default(),
    };
    let result = analyze(&mut input, &mut grep);
    let finished = grep.out.finish();
    if let Some(warning) = grep.streams.warning() {
        eprintln!("{warning}");
    }
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

    /// For a bounded pattern, most bytes a window has to keep so that no match is missed:
    /// the longest match and the context on both sides (a match held back for its
    /// after-context keeps its before-context too; see [`Window::trim`]).
    fn needed(&self) -> Option<usize> {
        let context = self.context.max(1);
        self.max_len
            .map(|l| l.saturating_add(context.saturating_mul(2)))
    }

    /// Smallest window the budget may cut a direction to.
    fn floor(&self) -> usize {
        self.needed()
            .unwrap_or(MIN_WINDOW + 2 * self.context)
            .min(WINDOW)
    }

    /// Most bytes a trim to `window` keeps.
    fn keep(&self, window: usize) -> usize {
        self.needed().map_or(window, |n| n.min(window))
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

    /// Bytes its buffer and time list hold (their capacities, as allocated).
    fn cost(&self) -> usize {
        heap(self.buf.capacity()) + heap(self.times.capacity() * size_of::<(u64, i64)>())
    }

    /// Adds in-order bytes. `window` is the direction's window now, `keep` the most bytes a
    /// trim to it keeps.
    fn push(&mut self, bytes: &[u8], ts_ns: i64, window: usize, keep: usize) {
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
        // Popped before the push and grown at most to `most`, so the list never doubles past
        // it (256 times take 4 KiB, not 8).
        let most = times_for(window);
        while self.times.len() >= most {
            self.times.pop_front();
        }
        if self.times.len() == self.times.capacity() {
            // From one, not four: most directions of short sessions see a segment or two.
            let room = most.saturating_sub(self.times.len()).max(1);
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

    /// Reports the matches that are complete. A match starting at stream offset `hold_from`
    /// or later is held back while it touches the end of the window or its after-context
    /// has not arrived yet; one starting before is reported as it stands. `hold_from` is
    /// [`LAST`] when no more bytes will come, and where the window will start when the
    /// budget cut it (the trim would give such a match up, though it was found).
    fn scan(&mut self, m: &Matcher, hold_from: u64, mut emit: impl FnMut(Found<'_>)) {
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
            let may_hold = self.start + found.start() as u64 >= hold_from;
            if may_hold && (found.end().saturating_add(m.context.max(1)) > len || earlier_possible)
            {
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

    /// Drops the bytes no future match or context needs, and any beyond the last `window`
    /// ([`WINDOW`] unless the budget cut it). Unless `eager`, the bytes are moved only once at
    /// least half the buffer can go, so each byte is moved a bounded number of times.
    fn trim(&mut self, m: &Matcher, window: usize, eager: bool) {
        let end = self.end();
        let window_start = end.saturating_sub(window as u64);
        // A match starting before the window is given up (documented).
        self.search_from = self.search_from.max(window_start);
        let needed = self.search_from.saturating_sub(m.context.max(1) as u64);
        let keep_from = needed.max(window_start).max(self.start);
        let drop = usize::try_from(keep_from - self.start).unwrap_or(usize::MAX);
        if drop == 0 || (!eager && drop < self.buf.len() / 2) {
            return;
        }
        self.buf.drain(..drop.min(self.buf.len()));
        self.start = keep_from;
        while self.times.front().is_some_and(|&(e, _)| e <= keep_from) {
            self.times.pop_front();
        }
    }

    /// Trims to `window` now and gives the spare capacity back, so that the direction holds
    /// no more than its share of the budget until it is fed again, which may be never.
    fn tighten(&mut self, m: &Matcher, window: usize) {
        self.trim(m, window, true);
        self.buf.shrink_to_fit();
        let most = times_for(window);
        while self.times.len() > most {
            self.times.pop_front();
        }
        self.times.shrink_to_fit();
    }
}

/// Segment times a window of `window` bytes remembers: [`MAX_TIMES`] for a full
/// [`WINDOW`], one per 256 bytes of a smaller one, at least one (the list then costs at
/// most a 16th of the window).
fn times_for(window: usize) -> usize {
    (window / (WINDOW / MAX_TIMES)).clamp(1, MAX_TIMES)
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

/// `hold_from` for [`Window::scan`] when no more bytes will come: nothing is held back.
const LAST: u64 = u64::MAX;

/// Stream mode: one window per direction of a session.
type Windows = [Window; 2];

/// In-order bytes of one direction of a session, from a `Data` event.
#[derive(Debug, Clone, Copy)]
struct Segment<'a> {
    dir: Direction,
    /// Stream offset of `bytes[0]`.
    offset: u64,
    bytes: &'a [u8],
    /// Packet time.
    ts_ns: i64,
}

/// Bytes both windows of a session hold.
fn windows_cost(ws: &Windows) -> usize {
    ws.iter().map(Window::cost).sum()
}

/// Stream mode's windows, and the memory budget they share.
///
/// Under the budget the windows are [`WINDOW`]s, as without one. Over it, in this order,
/// after each event: the direction fed gives back its spare capacity; every direction is cut
/// to its [`share`](Streams::share) of the budget (a sweep over all sessions, done only when
/// the share has at least halved or as many `Data` events as there are sessions have passed
/// since the last one, so it costs O(1) per event); and if that is still too much (the
/// smallest windows do not fit), the session fed loses its windows, as at a gap.
#[derive(Debug)]
struct Streams {
    /// The windows of the sessions that carried bytes, made on their first `Data` (events
    /// name their endpoints, so a session without bytes, such as a SYN flood's, costs
    /// nothing here) and dropped when the session ends. Boxed: the table has up to twice as
    /// many slots as sessions, and a slot then costs 16 bytes, not 152.
    map: HashMap<u64, Box<Windows>>,
    /// Most bytes the state may hold: [`MEMORY_BUDGET`], smaller in tests.
    limit: usize,
    /// Bytes the windows' buffers and time lists hold (their capacities), updated at each
    /// change.
    held: usize,
    /// Each direction's window now: [`WINDOW`] until the sessions exceed `limit`.
    window: usize,
    /// The smallest `window` used, for the warning.
    smallest: usize,
    /// How many times a session lost its windows to the budget, for the warning.
    dropped: u64,
    /// `Data` events since the last sweep.
    since_sweep: usize,
}

impl Streams {
    fn new(limit: usize) -> Streams {
        Streams {
            map: HashMap::new(),
            limit,
            held: 0,
            window: WINDOW,
            smallest: WINDOW,
            dropped: 0,
            since_sweep: 0,
        }
    }

    /// Bytes the sessions' boxes and table slots hold (hashbrown fills its buckets to 7/8).
    fn fixed(&self) -> usize {
        let buckets = self.map.capacity() + self.map.capacity() / 7;
        self.map.len() * heap(size_of::<Windows>()) + buckets * SLOT
    }

    /// Bytes held now: the windows, and the sessions' boxes and table slots.
    fn total(&self) -> usize {
        self.held + self.fixed()
    }

    /// Notes that a window's cost went from `before` to `after`.
    fn account(&mut self, before: usize, after: usize) {
        debug_assert!(self.held >= before, "held {} < {before}", self.held);
        self.held = self.held.saturating_sub(before).saturating_add(after);
    }

    /// The window each direction would get if the budget were shared out now: what the
    /// sessions' boxes and slots leave, halved (headroom, so that sessions can come and
    /// windows grow before the next sweep), split over two directions per session, less
    /// the time list. Not yet kept between the pattern's floor and [`WINDOW`].
    fn share(&self) -> usize {
        let room = self.limit.saturating_sub(self.fixed());
        let share = room / 4 / self.map.len().max(1);
        // A window of w bytes costs at most w + w / 16 (its times), plus 55 of rounding (see
        // `heap`).
        share.saturating_sub(56) / 17 * 16
    }

    /// In-order bytes of session `id`.
    fn data(
        &mut self,
        m: &Matcher,
        id: u64,
        seg: Segment<'_>,
        emit: &mut impl FnMut(Direction, Found<'_>),
    ) {
        let Segment {
            dir,
            offset,
            bytes,
            ts_ns,
        } = seg;
        self.since_sweep = self.since_sweep.saturating_add(1);
        let window = self.window;
        let w = &mut self.map.entry(id).or_default()[dir_index(dir)];
        let before = w.cost();
        if offset != w.end() {
            if !w.buf.is_empty() {
                w.scan(m, LAST, |f| emit(dir, f));
            }
            w.reset(offset);
        }
        w.push(bytes, ts_ns, window, m.keep(window));
        // A window cut by the budget reports what it has found rather than give it up; a
        // full one holds everything back, as without the budget.
        let hold_from = if window < WINDOW {
            w.end().saturating_sub(window as u64)
        } else {
            0
        };
        w.scan(m, hold_from, |f| emit(dir, f));
        w.trim(m, window, false);
        let after = w.cost();
        self.account(before, after);
        self.settle(m, id, dir, emit);
    }

    /// The direction of session `id` ends (`at: None`, its FIN) or skips to stream offset
    /// `at` (a gap): what is held back is reported as it stands.
    fn cut(
        &mut self,
        m: &Matcher,
        id: u64,
        dir: Direction,
        at: Option<u64>,
        emit: &mut impl FnMut(Direction, Found<'_>),
    ) {
        let Some(ws) = self.map.get_mut(&id) else {
            return;
        };
        let w = &mut ws[dir_index(dir)];
        let before = w.cost();
        w.scan(m, LAST, |f| emit(dir, f));
        w.reset(at.unwrap_or(w.end()));
        let after = w.cost();
        self.account(before, after);
        self.settle(m, id, dir, emit);
    }

    /// Session `id` ended: what is held back is reported as it stands.
    fn end(&mut self, m: &Matcher, id: u64, emit: &mut impl FnMut(Direction, Found<'_>)) {
        let Some(mut ws) = self.map.remove(&id) else {
            return;
        };
        for dir in [Direction::ClientToServer, Direction::ServerToClient] {
            ws[dir_index(dir)].scan(m, LAST, |f| emit(dir, f));
        }
        self.account(windows_cost(&ws), 0);
        // Fewer sessions share the budget. Raised only once the share has doubled (or is a
        // full window), as it is cut only once halved: a session ending and another starting
        // at the edge would otherwise cost a sweep each.
        if self.window < WINDOW {
            let fair = self.share().clamp(m.floor(), WINDOW);
            if fair == WINDOW || fair / 2 >= self.window {
                self.window = fair;
            }
        }
    }

    /// Keeps the state within the budget after an event of session `id` in `dir`.
    fn settle(
        &mut self,
        m: &Matcher,
        id: u64,
        dir: Direction,
        emit: &mut impl FnMut(Direction, Found<'_>),
    ) {
        // Once cut, every direction fed is tightened, so that each holds at most its window.
        let cut = self.window < WINDOW;
        if !cut && self.total() <= self.limit {
            return;
        }
        let window = self.window;
        if let Some(ws) = self.map.get_mut(&id) {
            let w = &mut ws[dir_index(dir)];
            let before = w.cost();
            w.tighten(m, window);
            let after = w.cost();
            self.account(before, after);
        }
        if self.total() <= self.limit {
            return;
        }
        // Every direction fed since the window was cut is tight, so being over the budget
        // means the share has halved since, unless the windows are at their floor: then
        // only dropping helps, and a sweep waits for its O(1) per event.
        let share = self.share();
        let fair = share.clamp(m.floor(), WINDOW);
        let halved = fair < self.window && share < self.window / 2;
        if halved || self.since_sweep >= self.map.len() {
            self.sweep(m, fair);
            if self.total() <= self.limit {
                return;
            }
        }
        if let Some(mut ws) = self.map.remove(&id) {
            for dir in [Direction::ClientToServer, Direction::ServerToClient] {
                ws[dir_index(dir)].scan(m, LAST, |f| emit(dir, f));
            }
            self.account(windows_cost(&ws), 0);
            self.dropped += 1;
        }
    }

    /// Cuts every direction to `window`, giving the spare capacity back.
    fn sweep(&mut self, m: &Matcher, window: usize) {
        self.since_sweep = 0;
        self.window = window;
        self.smallest = self.smallest.min(window);
        // Counted afresh: the sweep sees every window anyway.
        self.held = 0;
        for w in self.map.values_mut().flat_map(|ws| ws.iter_mut()) {
            w.tighten(m, window);
            self.held += w.cost();
        }
    }

    /// The warning to print at the end when the budget cut windows or dropped them.
    fn warning(&self) -> Option<String> {
        if self.smallest == WINDOW && self.dropped == 0 {
            return None;
        }
        let mut s = format!(
            "pcap-cli: warning: grep's sessions together needed more than its {} MiB memory \
             budget: stream windows were cut to as little as {} bytes per direction ({} KiB \
             normally)",
            self.limit >> 20,
            self.smallest,
            WINDOW >> 10
        );
        if self.dropped > 0 {
            let _ = write!(
                s,
                " and {} times a session's windows were dropped after a segment",
                self.dropped
            );
        }
        s.push_str("; matches spanning segments may have been missed");
        Some(s)
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
    matcher: Matcher,
    printer: Printer,
    out: Output,
    packet_mode: bool,
    /// Stream mode's windows.
    streams: Streams,
    packet: PacketHits,
}

impl Handler for Grep {
    type Error = CliError;

    fn packet(
        &mut self,
        frame: u64,
        packet: &Packet<'_>,
        decoded: &Decoded<'_>,
    ) -> ControlFlow<CliError> {
        if self.packet_mode {
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
    fn stream_event(&mut self, event: &Event<'_>) -> Result<(), CliError> {
        let Grep {
            matcher,
            printer,
            out,
            streams,
            ..
        } = self;
        let id = event.session;
        let (client, server) = (event.client, event.server);
        let mut emit = |dir: Direction, f: Found<'_>| {
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
        };
        // Only bytes make a window: before the first, a gap or FIN has nothing to scan, and
        // the first `Data` starts its window at its own offset.
        match event.kind {
            EventKind::Data { dir, offset, bytes } => {
                let ts_ns = event.ts_ns;
                let seg = Segment {
                    dir,
                    offset,
                    bytes,
                    ts_ns,
                };
                streams.data(matcher, id, seg, &mut emit);
            }
            EventKind::Gap { dir, offset, len } => {
                let at = Some(offset.saturating_add(len));
                streams.cut(matcher, id, dir, at, &mut emit);
            }
            EventKind::Fin { dir, .. } => streams.cut(matcher, id, dir, None, &mut emit),
            EventKind::End { .. } | EventKind::Reset { .. } | EventKind::Closed { .. } => {
                streams.end(matcher, id, &mut emit);
                // Written out here rather than after the packet: the end of the input ends
                // every open session at once (up to `max_sessions`), each with the matches
                // it held back.
                return out.packet_done();
            }
            _ => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matcher(p: &str, context: usize) -> Matcher {
        Matcher::new(p, false, context).unwrap()
    }

    type Got = Vec<(u64, Vec<u8>, Vec<u8>)>;

    /// Feeds `chunks` as consecutive segments of one session and returns (offset, match,
    /// context) found.
    fn run_window(m: &Matcher, chunks: &[&[u8]]) -> Got {
        let mut s = Streams::new(MEMORY_BUDGET);
        let mut found = Vec::new();
        let mut record = |_: Direction, f: Found<'_>| found.push(owned(&f));
        let mut offset = 0;
        for (i, c) in chunks.iter().enumerate() {
            s.data(m, 0, seg(C2S, offset, c, i as i64), &mut record);
            offset += c.len() as u64;
        }
        s.end(m, 0, &mut record);
        found
    }

    const C2S: Direction = Direction::ClientToServer;

    fn seg(dir: Direction, offset: u64, bytes: &[u8], ts_ns: i64) -> Segment<'_> {
        Segment {
            dir,
            offset,
            bytes,
            ts_ns,
        }
    }

    fn owned(f: &Found<'_>) -> (u64, Vec<u8>, Vec<u8>) {
        (
            f.offset,
            f.context[f.matched.clone()].to_vec(),
            f.context.to_vec(),
        )
    }

    /// The held count recomputed from the windows.
    fn recount(s: &Streams) -> usize {
        s.map.values().map(|ws| windows_cost(ws)).sum()
    }

    /// Splits `data` at `cuts`.
    fn split(data: &[u8], cuts: Vec<usize>) -> Vec<&[u8]> {
        let mut cuts: Vec<usize> = cuts.into_iter().filter(|&c| c <= data.len()).collect();
        cuts.push(0);
        cuts.push(data.len());
        cuts.sort_unstable();
        cuts.windows(2).map(|w| &data[w[0]..w[1]]).collect()
    }

    fn whole(m: &Matcher, data: &[u8]) -> Vec<(u64, Vec<u8>)> {
        m.regex
            .find_iter(data)
            .filter(|f| !f.is_empty())
            .map(|f| (f.start() as u64, f.as_bytes().to_vec()))
            .collect()
    }

    /// Data from a small alphabet, where to split it into segments, a bounded pattern and a
    /// context: the inputs of the stream-mode properties.
    fn split_search()
    -> impl proptest::strategy::Strategy<Value = (Vec<u8>, Vec<usize>, &'static str, usize)> {
        let data =
            proptest::collection::vec(proptest::sample::select(b"abcdxHELO".to_vec()), 0..400);
        let cuts = proptest::collection::vec(0usize..400, 0..12);
        let patterns = vec!["HELLO", "a[bc]{1,5}d", "xab|ab", "abcd|ab", "(?i)hel{1,3}o"];
        (data, cuts, proptest::sample::select(patterns), 0usize..6)
    }

    proptest::proptest! {
        /// Stream mode over any split of the data finds what one search over the whole
        /// data finds, for patterns shorter than the window.
        #[test]
        fn any_split_finds_the_whole_data_matches(
            (data, cuts, pattern, context) in split_search(),
        ) {
            let m = matcher(pattern, context);
            let chunks = split(&data, cuts);
            let got: Vec<(u64, Vec<u8>)> =
                run_window(&m, &chunks).into_iter().map(|(o, mt, _)| (o, mt)).collect();
            proptest::prop_assert_eq!(got, whole(&m, &data));
        }

        /// A bounded pattern's window cut to the smallest the budget allows, its capacity
        /// given back after each segment, still finds every match, with the same context.
        #[test]
        fn a_bounded_pattern_loses_nothing_at_its_floor(
            (data, cuts, pattern, context) in split_search(),
        ) {
            let m = matcher(pattern, context);
            let chunks = split(&data, cuts);
            let floor = m.floor();
            let mut w = Window::default();
            let mut got = Vec::new();
            for (i, c) in chunks.iter().enumerate() {
                w.push(c, i as i64, floor, m.keep(floor));
                let hold_from = w.end().saturating_sub(floor as u64);
                w.scan(&m, hold_from, |f| got.push(owned(&f)));
                w.trim(&m, floor, false);
                w.tighten(&m, floor);
                proptest::prop_assert!(w.buf.capacity() <= floor);
                proptest::prop_assert!(w.times.capacity() <= 1);
            }
            w.scan(&m, LAST, |f| got.push(owned(&f)));
            proptest::prop_assert_eq!(got, run_window(&m, &chunks));
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

    /// Pushes `segment` and keeps a full window, as stream mode does under the budget.
    fn feed(w: &mut Window, m: &Matcher, segment: &[u8]) {
        w.push(segment, 0, WINDOW, m.keep(WINDOW));
        w.scan(m, 0, |_| panic!("no match"));
        w.trim(m, WINDOW, false);
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
        let needed = m.needed().unwrap();
        let mut w = Window::default();
        for _ in 0..1000 {
            feed(&mut w, &m, &[b'p'; 1460]);
            // The bytes kept, the segment, and the slack of one growth step.
            assert!(
                w.buf.capacity() <= 1460 + 2 * needed,
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

    /// `sessions` sessions, each fed `segments` segments of `len` bytes in both directions,
    /// round robin, none ended: after every event the budget holds (unless the table just
    /// grew, see `Streams`) and the count of bytes held is exact.
    fn flood(m: &Matcher, limit: usize, sessions: u64, segments: u64, len: usize) -> Streams {
        let mut s = Streams::new(limit);
        let bytes = vec![b'.'; len];
        for i in 0..segments {
            for id in 0..sessions {
                for dir in [C2S, Direction::ServerToClient] {
                    let slots = s.map.capacity();
                    let at = i * len as u64;
                    s.data(m, id, seg(dir, at, &bytes, 0), &mut |_, _| {});
                    assert_eq!(s.held, recount(&s));
                    assert!(
                        s.total() <= limit || s.map.capacity() > slots,
                        "{} > {limit}",
                        s.total()
                    );
                }
            }
        }
        assert!(s.total() <= limit);
        s
    }

    #[test]
    fn many_windows_stay_under_a_small_budget() {
        // An unbounded pattern: without the budget each direction would keep all 3 KiB.
        let m = matcher("A.*Z", 4);
        let s = flood(&m, 1 << 20, 1000, 3, 1000);
        assert!(s.window < WINDOW && s.window >= m.floor(), "{}", s.window);
        assert_eq!(s.smallest, s.window);
        assert_eq!(s.dropped, 0, "the floors fit");
        assert!(s.warning().is_some());
        // A bounded one keeps no more than it needs.
        let m = matcher("HELLO", 4);
        let s = flood(&m, 1 << 20, 1000, 3, 1000);
        assert_eq!(s.dropped, 0);
        let kept = s.map.values().flat_map(|ws| ws.iter());
        assert!(
            kept.clone()
                .all(|w| w.buf.capacity() <= m.needed().unwrap())
        );
    }

    #[test]
    fn sessions_past_what_the_floors_allow_lose_their_windows() {
        let m = matcher("A.*Z", 4);
        let s = flood(&m, 1 << 20, 5000, 3, 1000);
        assert_eq!(s.window, m.floor());
        assert!(s.dropped > 0);
        assert!(
            s.warning()
                .unwrap()
                .contains(" times a session's windows were dropped")
        );
    }

    #[test]
    fn under_the_budget_nothing_is_cut() {
        let m = matcher("A.*Z", 4);
        let s = flood(&m, MEMORY_BUDGET, 100, 100, 1000);
        assert_eq!(s.window, WINDOW);
        assert!(s.warning().is_none());
        // Windows are full: 64 KiB kept (at least) per direction.
        assert!(
            s.map
                .values()
                .flat_map(|ws| ws.iter())
                .all(|w| w.buf.len() >= WINDOW)
        );
    }

    #[test]
    fn a_dropped_window_reports_what_it_held_as_at_a_gap() {
        let m = matcher("a+", 0);
        let mut s = Streams::new(0);
        let mut found = Vec::new();
        let mut record = |_: Direction, f: Found<'_>| found.push(owned(&f));
        s.data(&m, 7, seg(C2S, 0, b"xaa", 0), &mut record);
        assert!(s.map.is_empty());
        assert_eq!(s.held, 0);
        s.data(&m, 7, seg(C2S, 3, b"ab", 1), &mut record);
        s.end(&m, 7, &mut record);
        assert_eq!(
            found,
            vec![
                (1, b"aa".to_vec(), b"aa".to_vec()),
                (3, b"a".to_vec(), b"a".to_vec())
            ]
        );
        assert_eq!(s.dropped, 2);
    }

    #[test]
    fn a_cut_window_reports_a_found_match_rather_than_give_it_up() {
        let m = matcher("X-Pad: p+", 0);
        let mut s = Streams::new(MEMORY_BUDGET);
        s.window = m.floor();
        let mut found = Vec::new();
        let mut record = |_: Direction, f: Found<'_>| found.push(owned(&f));
        let mut head = b"X-Pad: ".to_vec();
        head.extend_from_slice(&[b'p'; 1000]);
        s.data(&m, 1, seg(C2S, 0, &head, 0), &mut record);
        s.data(&m, 1, seg(C2S, 1007, &[b'p'; 1000], 1), &mut record);
        s.end(&m, 1, &mut record);
        // As it stood when its start left the window: shorter than the 2007 bytes a full
        // window would have matched, but not missed.
        assert_eq!(found, vec![(0, head.clone(), head)]);
    }

    #[test]
    fn windows_grow_back_as_sessions_end() {
        let m = matcher("A.*Z", 4);
        let mut s = flood(&m, 1 << 20, 1000, 3, 1000);
        let cut = s.window;
        for id in 0..995 {
            s.end(&m, id, &mut |_, _| {});
        }
        assert_eq!(s.held, recount(&s));
        assert!(s.window > cut, "{} <= {cut}", s.window);
    }

    #[test]
    fn escape_shows_controls_and_high_bytes() {
        let mut s = String::new();
        escape(&mut s, b"a\r\n\t\\\x00\xff");
        assert_eq!(s, "a\\r\\n\\t\\\\\\x00\\xff");
    }
}
