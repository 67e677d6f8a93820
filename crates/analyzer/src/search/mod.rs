//! Regular expressions over reassembled TCP streams, with bounded memory.
//!
//! A [`StreamSearch`] is fed a session's in-order bytes, gaps and ends (the reassembler's
//! [`Event`]s, or the same things one call at a time) and reports each [`Match`] with its
//! session, direction, stream offset, time and the bytes around it, so a match split across
//! segments, or sent out of order, is found.
//!
//! ```
//! use pcap_analyzer::search::{Pattern, SearchConfig, StreamSearch};
//! use pcap_analyzer::Stream;
//! use pcap_tcp_reassembly::Direction;
//!
//! let mut config = SearchConfig::default();
//! config.context = 2;
//! let mut search = StreamSearch::new(Pattern::new("HELLO", false)?, config);
//! let stream = Stream::new(0, "10.0.0.1:5000".parse()?, "10.0.0.2:80".parse()?);
//! let mut found = Vec::new();
//! let dir = Direction::ClientToServer;
//! search.data(stream, dir, 0, b"xxHEL", 1, |m| found.push(m.context.to_vec()));
//! search.data(stream, dir, 5, b"LOyy", 2, |m| found.push(m.context.to_vec()));
//! search.end(stream, |m| found.push(m.context.to_vec()));
//! assert_eq!(found, [b"xxHELLOyy".to_vec()]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # What is found
//!
//! Each direction keeps a sliding window of its last [`WINDOW`] bytes at most, so memory
//! stays bounded: **a match longer than the window, or one that starts more than the window
//! before the bytes that complete it, can be missed**. When the pattern has a bounded length
//! (a literal, `GET /[a-z]{1,20}`), only that many bytes plus the context are kept. A gap in
//! the stream ends the window: no match spans a gap. Each match is reported once; matches do
//! not overlap, and empty matches are not reported. A match is reported once the bytes of its
//! after-context have arrived (or the direction ended), so that greedy patterns match as much
//! as they can across segments.
//!
//! # Memory
//!
//! All sessions' windows share one memory budget ([`DEFAULT_MEMORY_BUDGET`], 64 MiB, unless
//! [`SearchConfig::memory_budget`] says otherwise), counted with
//! [`MemoryBudget`]: the buffers and time lists of the windows, each session's boxed windows
//! and its slot in the table. The reassembler's table holds up to 262 144 sessions by
//! default, so windows bounded per direction would still add up to tens of GiB on a hostile
//! capture. Under the budget (with the default, up to about 256 sessions streaming at once
//! with full windows) nothing changes. Over it, every direction's window is cut to a fair
//! share of the budget, never below what a bounded pattern needs (its longest match plus the
//! context on both sides, so a bounded pattern loses nothing to the cut) nor below 256 bytes
//! plus the context for an unbounded one: **a match of an unbounded pattern that needed the
//! bytes given up can be missed**, as with the full window. A match already found but held
//! back (for its after-context, or to grow) is reported as it stands when its own direction
//! is cut, and given up when the windows are cut while its session is idle. When even the
//! smallest windows do not fit, the session being fed loses its windows after each segment,
//! as at a gap (held-back matches are reported as they stand; **no match spans the cut**).
//! [`StreamSearch::stats`] says whether and how far that happened, for a warning.
//!
//! # TLS
//!
//! A session's decrypted bytes (a [`Stream`] with [`Stream::tls`] set, fed with
//! [`StreamSearch::data`] at plaintext offsets) are a stream of their own beside the
//! session's raw bytes: their windows, matches and end are separate, and their matches
//! carry that `Stream`. Ending one does not end the other.

mod matcher;
mod streams;
mod window;

#[cfg(test)]
mod tests;

use std::ops::Range;

use pcap_tcp_reassembly::{Direction, Event, EventKind, MemoryBudget};

pub use matcher::Pattern;

use crate::Stream;
use matcher::Matcher;
use streams::{Segment, Streams};
use window::Found;

/// Most bytes kept per stream direction for matches that span segments.
pub const WINDOW: usize = 64 * 1024;

/// Largest context: a quarter of the window, so a match still has room. A larger
/// [`SearchConfig::context`] is cut to it.
pub const MAX_CONTEXT: usize = WINDOW / 4;

/// Default most bytes a [`StreamSearch`] may hold, all sessions together. Half of it is
/// kept as headroom when it is shared out, so up to 256 sessions keep full [`WINDOW`]s in
/// both directions: more than a normal capture has streaming at once.
pub const DEFAULT_MEMORY_BUDGET: usize = 64 << 20;

/// How a [`StreamSearch`] runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct SearchConfig {
    /// Bytes of context reported on each side of a match (at most [`MAX_CONTEXT`]).
    /// Default 0.
    pub context: usize,
    /// Most bytes the search may hold, all sessions together. Default
    /// [`DEFAULT_MEMORY_BUDGET`].
    pub memory_budget: usize,
}

impl Default for SearchConfig {
    fn default() -> SearchConfig {
        SearchConfig {
            context: 0,
            memory_budget: DEFAULT_MEMORY_BUDGET,
        }
    }
}

/// One match in a session's stream. The bytes are borrowed: copy what you keep.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Match<'a> {
    /// The session, with client and server as the reassembler named them.
    pub stream: Stream,
    /// The direction whose stream matched.
    pub dir: Direction,
    /// Stream offset of the match's first byte.
    pub offset: u64,
    /// Packet time of the segment that brought the match's last byte (the oldest time
    /// remembered, for a match completed long before it was reported).
    pub ts_ns: i64,
    /// Stream offset of `context[0]`.
    pub context_offset: u64,
    /// The match and up to [`SearchConfig::context`] bytes on each side of it (fewer at
    /// the start of the stream, after a gap, or at the end of the direction).
    pub context: &'a [u8],
    /// Where the match is in `context`.
    pub matched: Range<usize>,
}

impl<'a> Match<'a> {
    /// The matched bytes.
    pub fn bytes(&self) -> &'a [u8] {
        self.context.get(self.matched.clone()).unwrap_or_default()
    }

    /// The context before the match.
    pub fn before(&self) -> &'a [u8] {
        self.context.get(..self.matched.start).unwrap_or_default()
    }

    /// The context after the match.
    pub fn after(&self) -> &'a [u8] {
        self.context.get(self.matched.end..).unwrap_or_default()
    }
}

/// What the memory budget did so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct SearchStats {
    /// The bytes held now and the limit.
    pub memory: MemoryBudget,
    /// Sessions holding windows now.
    pub sessions: usize,
    /// Each direction's window now: [`WINDOW`] unless the budget cut it.
    pub window: usize,
    /// The smallest window the budget cut directions to ([`WINDOW`] if it never did).
    pub smallest_window: usize,
    /// How many times a session lost its windows after a segment because even the smallest
    /// windows did not fit.
    pub windows_dropped: u64,
}

impl SearchStats {
    /// True once the budget cut or dropped windows: matches spanning segments may have
    /// been missed.
    pub fn budget_hit(&self) -> bool {
        self.smallest_window < WINDOW || self.windows_dropped > 0
    }
}

/// A regular expression searched in every session's byte streams; see the
/// [module](self) for what is found and the memory it takes.
///
/// Every feeding call takes a `report` closure, called with each match the call completed,
/// in stream order per direction.
#[derive(Debug)]
pub struct StreamSearch {
    matcher: Matcher,
    streams: Streams,
}

impl StreamSearch {
    /// A search for `pattern`, set up by `config`.
    pub fn new(pattern: Pattern, config: SearchConfig) -> StreamSearch {
        StreamSearch {
            matcher: Matcher {
                pattern,
                context: config.context.min(MAX_CONTEXT),
            },
            streams: Streams::new(config.memory_budget),
        }
    }

    /// The pattern searched.
    pub fn pattern(&self) -> &Pattern {
        &self.matcher.pattern
    }

    /// Bytes of context on each side of a match (the configured one, at most
    /// [`MAX_CONTEXT`]).
    pub fn context(&self) -> usize {
        self.matcher.context
    }

    /// A reassembler event: `Data` is searched, `Gap` ends the window, `Fin` ends the
    /// direction and `End`/`Reset`/`Closed` the session (reporting what they held back);
    /// other events change nothing.
    pub fn event(&mut self, event: &Event<'_>, report: impl FnMut(Match<'_>)) {
        let stream = Stream::new(event.session, event.client, event.server);
        // Only bytes make a window: before the first, a gap or FIN has nothing to scan, and
        // the first `Data` starts its window at its own offset.
        match event.kind {
            EventKind::Data { dir, offset, bytes } => {
                self.data(stream, dir, offset, bytes, event.ts_ns, report);
            }
            EventKind::Gap { dir, offset, len } => {
                self.gap(stream, dir, offset.saturating_add(len), report);
            }
            EventKind::Fin { dir, .. } => self.fin(stream, dir, report),
            ref kind if kind.ended().is_some() => self.end(stream, report),
            _ => {}
        }
    }

    /// In-order bytes of direction `dir` starting at stream offset `offset`, seen at
    /// `ts_ns`. Bytes that do not follow the direction's previous ones start a new window,
    /// as after a gap.
    pub fn data(
        &mut self,
        stream: Stream,
        dir: Direction,
        offset: u64,
        bytes: &[u8],
        ts_ns: i64,
        mut report: impl FnMut(Match<'_>),
    ) {
        let seg = Segment {
            dir,
            offset,
            bytes,
            ts_ns,
        };
        let mut emit = |dir, f: Found<'_>| report(to_match(stream, dir, f));
        self.streams
            .data(&self.matcher, key(&stream), seg, &mut emit);
    }

    /// Bytes of direction `dir` were lost and the stream resumes at offset `resume_at`:
    /// what the window held back is reported as it stands, and no match spans the gap.
    pub fn gap(
        &mut self,
        stream: Stream,
        dir: Direction,
        resume_at: u64,
        mut report: impl FnMut(Match<'_>),
    ) {
        let mut emit = |dir, f: Found<'_>| report(to_match(stream, dir, f));
        let m = &self.matcher;
        self.streams
            .cut(m, key(&stream), dir, Some(resume_at), &mut emit);
    }

    /// Direction `dir` ended (its FIN): what its window held back is reported.
    pub fn fin(&mut self, stream: Stream, dir: Direction, mut report: impl FnMut(Match<'_>)) {
        let mut emit = |dir, f: Found<'_>| report(to_match(stream, dir, f));
        self.streams
            .cut(&self.matcher, key(&stream), dir, None, &mut emit);
    }

    /// The session ended: what both windows held back is reported (client to server
    /// first), and the session's memory is given back.
    pub fn end(&mut self, stream: Stream, mut report: impl FnMut(Match<'_>)) {
        let mut emit = |dir, f: Found<'_>| report(to_match(stream, dir, f));
        self.streams.end(&self.matcher, key(&stream), &mut emit);
    }

    /// The memory budget's use so far.
    pub fn stats(&self) -> SearchStats {
        let s = &self.streams;
        SearchStats {
            memory: s.budget,
            sessions: s.map.len(),
            window: s.window,
            smallest_window: s.smallest,
            windows_dropped: s.dropped,
        }
    }
}

/// The window table's key of a stream: the session id, with the top bit set for the
/// decrypted bytes of a TLS session ([`Stream::tls`]), a logical stream of its own beside
/// the session's raw bytes. Session ids count sessions from 0 and never reach it.
fn key(stream: &Stream) -> u64 {
    if stream.tls {
        stream.id | 1 << 63
    } else {
        stream.id
    }
}

fn to_match(stream: Stream, dir: Direction, f: Found<'_>) -> Match<'_> {
    Match {
        stream,
        dir,
        offset: f.offset,
        ts_ns: f.ts_ns,
        context_offset: f.context_offset,
        context: f.context,
        matched: f.matched,
    }
}
