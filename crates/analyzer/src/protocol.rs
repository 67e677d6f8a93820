//! Per-session protocol detection by content, and the decoders that plug into it.
//!
//! A [`Protocol`] is registered once with the [`Analyzer`](crate::Analyzer). When a TCP
//! session carries its first bytes (or its first gap, for a session picked up mid-stream),
//! each registered protocol is asked whether the session may be its own
//! ([`Protocol::probe`]); every protocol that says yes gets a [`ProtocolSession`] for it,
//! a candidate. Candidates hear the session's bytes, gaps and ends, and each says what it
//! found with [`ProtocolSession::detection`]: a candidate that rejects the session is
//! dropped, and the first one to confirm it keeps the session alone, as in Zeek's dynamic
//! protocol detection. A candidate should report nothing to the handler before it
//! confirms, since another one may win.
//!
//! HTTP/1.x and WebSocket are built in ([`crate::AnalyzerConfig::http`]); TLS and HTTP/2
//! plug in the same way. See the `redis_commands` example for a protocol of one's own.

use std::ops::ControlFlow;

use pcap_tcp_reassembly::Direction;

use crate::handler::{Handler, Stream};

/// A protocol the analyzer can detect and decode, for handlers of type `H`.
pub trait Protocol<H: Handler> {
    /// A short name, for diagnostics.
    fn name(&self) -> &'static str;

    /// Whether a session whose first bytes in direction `dir` are `prefix` may speak this
    /// protocol. `prefix` is empty when the session starts with lost bytes (a capture picked
    /// up mid-stream). Called once per session, so it must be cheap; saying yes only costs
    /// a candidate that rejects the session later.
    fn probe(&self, dir: Direction, prefix: &[u8]) -> bool;

    /// A decoder for one session.
    fn start(&self) -> Box<dyn ProtocolSession<H>>;
}

/// What a candidate decoder found out about its session so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detection {
    /// Not decided yet: keep feeding it.
    Undecided,
    /// The session speaks this protocol: other candidates are dropped.
    Confirmed,
    /// The session does not (or no longer) speak this protocol: this candidate is dropped.
    Rejected,
}

/// One session's decoder. Directions are the reassembler's (the TCP client sends
/// `ClientToServer`); a decoder that finds the roles reversed says so in its events.
pub trait ProtocolSession<H: Handler> {
    /// The next in-order bytes of direction `dir`, seen at `ts_ns`.
    fn data(&mut self, cx: &mut Cx<'_, H>, dir: Direction, ts_ns: i64, bytes: &[u8]);

    /// `len` bytes of direction `dir` were never captured.
    fn gap(&mut self, cx: &mut Cx<'_, H>, dir: Direction, ts_ns: i64, len: u64);

    /// Direction `dir` ended (FIN), or the whole session (`None`: reset, closed, evicted,
    /// end of input). After `end(None)` the decoder is dropped.
    fn end(&mut self, cx: &mut Cx<'_, H>, dir: Option<Direction>, ts_ns: i64);

    /// Sessions together went over the memory budget of `budget` bytes and this one is
    /// the one that took them over: report why, then end as [`ProtocolSession::end`] with
    /// `None` would. The decoder is dropped afterwards.
    fn abandon(&mut self, cx: &mut Cx<'_, H>, budget: usize, ts_ns: i64);

    /// Bytes the decoder holds, approximately, for the analyzer's memory budget.
    fn memory(&self) -> usize;

    /// What the decoder found out about the session so far.
    fn detection(&self) -> Detection;
}

/// What a protocol decoder reports to: the user's handler and the session's endpoints.
///
/// Once a handler method has asked to stop, further reports are dropped and the analyzer
/// ends the run with the handler's error.
pub struct Cx<'a, H: Handler> {
    handler: &'a mut H,
    stop: &'a mut Option<H::Error>,
    /// The session, in the reassembler's roles (the TCP client first).
    pub stream: Stream,
}

impl<'a, H: Handler> Cx<'a, H> {
    pub(crate) fn new(handler: &'a mut H, stop: &'a mut Option<H::Error>, stream: Stream) -> Self {
        Cx {
            handler,
            stop,
            stream,
        }
    }

    /// Calls the handler (unless it has stopped the run) and keeps its decision.
    pub fn report(&mut self, f: impl FnOnce(&mut H) -> ControlFlow<H::Error>) {
        if self.stop.is_none() {
            if let ControlFlow::Break(e) = f(self.handler) {
                *self.stop = Some(e);
            }
        }
    }

    /// True once the handler has asked to stop the run.
    pub fn stopped(&self) -> bool {
        self.stop.is_some()
    }

    /// The same handler, for a decoder nested in this one (the protocol inside TLS) whose
    /// events name the session as `stream`.
    pub(crate) fn with_stream(&mut self, stream: Stream) -> Cx<'_, H> {
        Cx {
            handler: self.handler,
            stop: self.stop,
            stream,
        }
    }
}

/// The decoder for a session's first bytes `prefix` in direction `dir` (empty: the session
/// starts with a gap): every protocol of `registered` whose probe accepts them is a
/// candidate. `None` when none does.
pub(crate) fn start_candidates<H: Handler + 'static>(
    registered: &[Box<dyn Protocol<H>>],
    dir: Direction,
    prefix: &[u8],
) -> Option<Box<dyn ProtocolSession<H>>> {
    // One candidate (the usual case) costs no list.
    let mut accepting = registered.iter().filter(|p| p.probe(dir, prefix));
    let first = accepting.next()?.start();
    let Some(second) = accepting.next() else {
        return Some(first);
    };
    let mut candidates = vec![first, second.start()];
    candidates.extend(accepting.map(|p| p.start()));
    Some(Box::new(Candidates { candidates }))
}

/// Several protocols still in the running for one session: each hears everything until
/// it rejects the session or one of them confirms it.
struct Candidates<H: Handler> {
    candidates: Vec<Box<dyn ProtocolSession<H>>>,
}

impl<H: Handler> Candidates<H> {
    fn each(&mut self, mut f: impl FnMut(&mut dyn ProtocolSession<H>)) {
        for c in &mut self.candidates {
            f(c.as_mut());
        }
        if let Some(won) = self
            .candidates
            .iter()
            .position(|c| c.detection() == Detection::Confirmed)
        {
            let winner = self.candidates.swap_remove(won);
            self.candidates = vec![winner];
        } else {
            self.candidates
                .retain(|c| c.detection() != Detection::Rejected);
        }
    }
}

impl<H: Handler> ProtocolSession<H> for Candidates<H> {
    fn data(&mut self, cx: &mut Cx<'_, H>, dir: Direction, ts: i64, b: &[u8]) {
        self.each(|c| c.data(cx, dir, ts, b));
    }

    fn gap(&mut self, cx: &mut Cx<'_, H>, dir: Direction, ts: i64, len: u64) {
        self.each(|c| c.gap(cx, dir, ts, len));
    }

    fn end(&mut self, cx: &mut Cx<'_, H>, dir: Option<Direction>, ts_ns: i64) {
        self.each(|c| c.end(cx, dir, ts_ns));
    }

    fn abandon(&mut self, cx: &mut Cx<'_, H>, budget: usize, ts_ns: i64) {
        self.each(|c| c.abandon(cx, budget, ts_ns));
    }

    fn memory(&self) -> usize {
        self.candidates.iter().map(|c| c.memory()).sum()
    }

    fn detection(&self) -> Detection {
        match self.candidates.as_slice() {
            [] => Detection::Rejected,
            [only] => only.detection(),
            _ => Detection::Undecided,
        }
    }
}
