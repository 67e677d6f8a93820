//! The flow table: sessions keyed by canonical 4-tuple, each with two byte streams.

use std::hash::BuildHasher;

use hashbrown::HashTable;

use crate::seq::SeqNum;
use crate::session::{Session, flush_session, report};
use crate::stream::{HalfStream, Incoming, Limits};
use crate::{
    CloseReason, Config, Direction, Event, EventKind, FlowKey, MemoryBudget, PerDir,
    RstIgnoredReason, Segment, SessionInfo, SessionState, StartKind, Stats,
};

/// How many occupied slots an eviction looks at (an approximation of LRU, as in Redis).
const EVICTION_SAMPLE: usize = 16;

/// The key of the session in `slot` (a default key for an empty slot, which the table
/// never points to).
fn slot_key(slots: &[Option<Session>], slot: usize) -> FlowKey {
    slots
        .get(slot)
        .and_then(Option::as_ref)
        .map(Session::key)
        .unwrap_or_else(|| {
            let none = std::net::SocketAddr::from(([0, 0, 0, 0], 0));
            FlowKey::new(none, none, 0).0
        })
}

/// Where [`Reassembler::push`] put a segment.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Assigned {
    /// The session number (see [`Event::session`]).
    pub session: u64,
    /// The segment's direction within the session.
    pub dir: Direction,
}

/// TCP session tracker and stream reassembler. Push segments in capture order; events come
/// out through the sink.
#[derive(Debug)]
pub struct Reassembler {
    config: Config,
    /// Slot numbers indexed by flow key. The key itself lives only in the session (as its
    /// endpoints), so an entry costs 9 bytes rather than a 72-byte (key, slot) pair.
    map: HashTable<usize>,
    /// Keys are attacker-chosen addresses: foldhash is seeded per process (no fixed
    /// collisions to aim at) and several times cheaper than SipHash on a 4-tuple.
    hasher: foldhash::fast::RandomState,
    slots: Vec<Option<Session>>,
    free: Vec<usize>,
    next_id: u64,
    /// Clock hand for eviction sampling.
    hand: usize,
    /// Out-of-order bytes buffered over all sessions, against `max_buffered_total`.
    buffered: MemoryBudget,
    /// Packet clock: the largest `min(previous ts, current ts)` so far. Taking the minimum of
    /// two consecutive timestamps means one packet with a wild timestamp (seen in real
    /// captures) cannot jump the clock and time out every session.
    clock: i64,
    prev_ts: Option<i64>,
    last_sweep: i64,
    stats: Stats,
}

impl Default for Reassembler {
    fn default() -> Reassembler {
        Reassembler::new(Config::default())
    }
}

impl Reassembler {
    /// A reassembler with the given limits.
    pub fn new(config: Config) -> Reassembler {
        Reassembler {
            buffered: MemoryBudget::new(config.max_buffered_total),
            config,
            map: HashTable::new(),
            hasher: foldhash::fast::RandomState::default(),
            slots: Vec::new(),
            free: Vec::new(),
            next_id: 0,
            hand: 0,
            clock: i64::MIN,
            prev_ts: None,
            last_sweep: i64::MIN,
            stats: Stats::default(),
        }
    }

    /// The limits in force.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Counters so far.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// Report-of-order bytes currently buffered over all sessions (at most
    /// `config.max_buffered_total`).
    pub fn buffered_bytes(&self) -> usize {
        self.buffered.held()
    }

    /// Sessions currently in the table (at most `config.max_sessions`).
    pub fn session_count(&self) -> usize {
        self.map.len()
    }

    /// Summaries of the sessions in the table, in table order.
    pub fn sessions(&self) -> impl Iterator<Item = &SessionInfo> {
        self.slots.iter().flatten().map(|s| &s.info)
    }

    /// Feeds one segment. Events for it (and for any session it evicts or times out) go to
    /// `sink` before this returns; `Data` bytes borrow from `seg.payload` when in order.
    /// Returns the session and direction the segment was assigned to (tshark's `tcp.stream`
    /// for a per-packet listing), events or not.
    pub fn push<F>(&mut self, seg: &Segment<'_>, sink: &mut F) -> Assigned
    where
        F: FnMut(Event<'_>),
    {
        self.tick(seg.ts_ns, sink);
        self.push_ticked(seg, sink)
    }

    /// [`Reassembler::push`] for a segment whose time was just given to
    /// [`Reassembler::tick`]: the clock is not moved again (the segment's sessions ended
    /// by its time have been reported, apart from its own).
    pub fn push_ticked<F>(&mut self, seg: &Segment<'_>, sink: &mut F) -> Assigned
    where
        F: FnMut(Event<'_>),
    {
        self.stats.segments = self.stats.segments.saturating_add(1);
        let src = seg.src_addr();
        let (key, src_is_lo) = FlowKey::new(src, seg.dst_addr(), seg.tunnel);
        let pure_syn = seg.flags.syn() && !seg.flags.ack();
        let slot = match self.find(&key) {
            Some(slot) if pure_syn && self.is_new_syn(slot, src_is_lo, seg.seq) => {
                self.stats.sessions_replaced = self.stats.sessions_replaced.saturating_add(1);
                self.remove(slot, Some(CloseReason::Replaced), seg.ts_ns, sink);
                self.create(key, src_is_lo, seg, sink)
            }
            Some(slot) => slot,
            None => self.create(key, src_is_lo, seg, sink),
        };
        self.process(slot, src_is_lo, seg, sink);
        let (session, dir) = self
            .slots
            .get(slot)
            .and_then(Option::as_ref)
            .map_or((0, Direction::ClientToServer), |s| {
                (s.info.id, s.dir_of(src_is_lo))
            });
        Assigned { session, dir }
    }

    /// Advances the packet clock as a segment at `ts_ns` would, without one, and ends the
    /// sessions that this makes idle for longer than `config.idle_timeout_ns`. For a
    /// reassembler that sees only some of a capture's sessions (one of several sharing the
    /// flows of one capture): ticked with the timestamps of the other segments, its clock,
    /// timeouts and end-of-input time are those of a single reassembler seeing them all.
    pub fn tick<F>(&mut self, ts_ns: i64, sink: &mut F)
    where
        F: FnMut(Event<'_>),
    {
        let steady = self.prev_ts.map_or(ts_ns, |p| p.min(ts_ns));
        self.prev_ts = Some(ts_ns);
        self.clock = self.clock.max(steady);
        self.maybe_sweep(sink);
    }

    /// Flushes and removes every session idle since before `ts_ns` (packet time): holes
    /// become gaps, buffered bytes are delivered, then `Closed { IdleTimeout }`, session
    /// by session in session order (as [`Reassembler::finish`]; the table's order depends
    /// on its history, which reassemblers sharing a capture's sessions do not share).
    pub fn flush_older_than<F>(&mut self, ts_ns: i64, sink: &mut F)
    where
        F: FnMut(Event<'_>),
    {
        let mut idle: Vec<(u64, usize)> = self
            .slots
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.as_ref().map(|s| (s, i)))
            .filter(|(s, _)| s.info.last_ts_ns < ts_ns)
            .map(|(s, i)| (s.info.id, i))
            .collect();
        idle.sort_unstable();
        for (_, slot) in idle {
            self.stats.sessions_timed_out = self.stats.sessions_timed_out.saturating_add(1);
            self.remove(slot, Some(CloseReason::IdleTimeout), ts_ns, sink);
        }
    }

    /// End of input: flushes every session in session order (gaps, buffered data, FINs
    /// beyond holes) and closes those not yet ended with `Closed { EndOfInput }`.
    pub fn finish<F>(&mut self, sink: &mut F)
    where
        F: FnMut(Event<'_>),
    {
        let mut order: Vec<(u64, usize)> = self
            .slots
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.as_ref().map(|s| (s.info.id, i)))
            .collect();
        order.sort_unstable();
        let ts = self.clock;
        for (_, slot) in order {
            self.remove(slot, Some(CloseReason::EndOfInput), ts, sink);
        }
    }

    fn maybe_sweep<F>(&mut self, sink: &mut F)
    where
        F: FnMut(Event<'_>),
    {
        let Some(timeout) = self.config.idle_timeout_ns else {
            return;
        };
        // Sweep a few times per timeout period, so a session lives at most 1.125 timeouts.
        let interval = (timeout / 8).max(1);
        if self.last_sweep == i64::MIN {
            self.last_sweep = self.clock;
        } else if self.clock.saturating_sub(self.last_sweep) >= interval {
            self.last_sweep = self.clock;
            self.flush_older_than(self.clock.saturating_sub(timeout), sink);
        }
    }

    /// The slot of the session with this key.
    fn find(&self, key: &FlowKey) -> Option<usize> {
        let slots = &self.slots;
        self.map
            .find(self.hasher.hash_one(key), |&i| {
                slots
                    .get(i)
                    .and_then(Option::as_ref)
                    .is_some_and(|s| key.is(s.info.client, s.info.server, s.info.tunnel))
            })
            .copied()
    }

    /// A pure SYN on an existing session starts a new one when its sequence number differs
    /// from the first one seen in that direction (tshark's rule; covers port reuse).
    fn is_new_syn(&self, slot: usize, src_is_lo: bool, seq: u32) -> bool {
        let Some(s) = self.slots.get(slot).and_then(Option::as_ref) else {
            return false;
        };
        s.first_seq[s.dir_of(src_is_lo)].is_some_and(|first| first != SeqNum(seq))
    }

    fn create<F>(&mut self, key: FlowKey, src_is_lo: bool, seg: &Segment<'_>, sink: &mut F) -> usize
    where
        F: FnMut(Event<'_>),
    {
        while self.map.len() >= self.config.max_sessions.max(1) {
            if !self.evict_one(seg.ts_ns, sink) {
                break;
            }
        }
        let syn = seg.flags.syn();
        let ack = seg.flags.ack();
        let (how, client_is_lo) = match (syn, ack) {
            (true, false) => (StartKind::Syn, src_is_lo),
            (true, true) => (StartKind::SynAck, !src_is_lo),
            _ => (StartKind::MidStream, src_is_lo),
        };
        let (client, server) = if client_is_lo == src_is_lo {
            (seg.src_addr(), seg.dst_addr())
        } else {
            (seg.dst_addr(), seg.src_addr())
        };
        let id = self.next_id;
        self.next_id = self.next_id.saturating_add(1);
        self.stats.sessions = self.stats.sessions.saturating_add(1);
        let session = Session {
            client_is_lo,
            streams: Default::default(),
            first_seq: PerDir::default(),
            info: SessionInfo {
                id,
                client,
                server,
                tunnel: seg.tunnel,
                how,
                first_ts_ns: seg.ts_ns,
                last_ts_ns: seg.ts_ns,
                state: if how == StartKind::Syn {
                    SessionState::HalfOpen
                } else {
                    SessionState::Established
                },
                packets_c2s: 0,
                packets_s2c: 0,
                bytes_c2s: 0,
                bytes_s2c: 0,
                retransmissions: 0,
                out_of_order: 0,
                gaps: 0,
                gap_bytes: 0,
                syn_retries: 0,
                rsts_ignored: 0,
                overlap_conflicts: 0,
            },
            ended: false,
        };
        let slot = match self.free.pop() {
            Some(slot) => {
                if let Some(s) = self.slots.get_mut(slot) {
                    *s = Some(session);
                }
                slot
            }
            None => {
                self.slots.push(Some(session));
                self.slots.len().saturating_sub(1)
            }
        };
        let Reassembler {
            map, slots, hasher, ..
        } = self;
        map.insert_unique(hasher.hash_one(key), slot, |&i| {
            hasher.hash_one(slot_key(slots, i))
        });
        sink(Event {
            session: id,
            client,
            server,
            ts_ns: seg.ts_ns,
            kind: EventKind::Start {
                client,
                server,
                how,
            },
        });
        slot
    }

    /// Evicts one session chosen among a sample of slots after the clock hand: closed or
    /// reset sessions first, then half-open ones, then the longest idle.
    fn evict_one<F>(&mut self, ts_ns: i64, sink: &mut F) -> bool
    where
        F: FnMut(Event<'_>),
    {
        let n = self.slots.len();
        if n == 0 {
            return false;
        }
        let mut best: Option<(u8, i64, usize)> = None;
        let mut seen = 0;
        let mut steps = 0;
        while seen < EVICTION_SAMPLE && steps < n {
            let i = self.hand % n;
            self.hand = i.saturating_add(1);
            steps += 1;
            if let Some(s) = self.slots.get(i).and_then(Option::as_ref) {
                seen += 1;
                let rank = match s.info.state {
                    _ if s.ended => 0,
                    SessionState::HalfOpen => 1,
                    _ => 2,
                };
                let cand = (rank, s.info.last_ts_ns, i);
                if best.is_none_or(|b| (cand.0, cand.1) < (b.0, b.1)) {
                    best = Some(cand);
                }
            }
        }
        let Some((_, _, slot)) = best else {
            return false;
        };
        self.stats.sessions_evicted = self.stats.sessions_evicted.saturating_add(1);
        self.remove(slot, Some(CloseReason::Evicted), ts_ns, sink);
        true
    }

    /// Flushes a session's streams, emits its closing event if it has not ended, and frees it.
    fn remove<F>(&mut self, slot: usize, reason: Option<CloseReason>, ts_ns: i64, sink: &mut F)
    where
        F: FnMut(Event<'_>),
    {
        let Some(mut s) = self.slots.get_mut(slot).and_then(Option::take) else {
            return;
        };
        let hash = self.hasher.hash_one(s.key());
        if let Ok(entry) = self.map.find_entry(hash, |&i| i == slot) {
            entry.remove();
        }
        self.free.push(slot);
        if !s.ended {
            flush_session(&mut s, &mut self.buffered, &mut self.stats, ts_ns, sink);
            if let Some(reason) = reason {
                match reason {
                    CloseReason::IdleTimeout => s.info.state = SessionState::TimedOut,
                    CloseReason::Evicted => s.info.state = SessionState::Evicted,
                    _ => {}
                }
                if !s.ended {
                    sink(Event {
                        session: s.info.id,
                        client: s.info.client,
                        server: s.info.server,
                        ts_ns,
                        kind: EventKind::Closed {
                            reason,
                            info: s.info,
                        },
                    });
                }
            }
        }
    }

    fn process<F>(&mut self, slot: usize, src_is_lo: bool, seg: &Segment<'_>, sink: &mut F)
    where
        F: FnMut(Event<'_>),
    {
        let global_room = self.buffered.room();
        let Some(s) = self.slots.get_mut(slot).and_then(Option::as_mut) else {
            return;
        };
        let dir = s.dir_of(src_is_lo);
        let rev = dir.reverse();
        let ts = seg.ts_ns;
        let id = s.info.id;
        let info = &mut s.info;
        info.last_ts_ns = info.last_ts_ns.max(ts);
        match dir {
            Direction::ClientToServer => info.packets_c2s = info.packets_c2s.saturating_add(1),
            Direction::ServerToClient => info.packets_s2c = info.packets_s2c.saturating_add(1),
        }
        let wire_len = seg.wire_len();
        if s.ended {
            self.stats.dropped_bytes = self.stats.dropped_bytes.saturating_add(wire_len as u64);
            return;
        }
        let flags = seg.flags;
        if flags.rst() {
            if let Some(reason) = rst_refused(s, dir, seg) {
                s.info.rsts_ignored = s.info.rsts_ignored.saturating_add(1);
                self.stats.rsts_ignored = self.stats.rsts_ignored.saturating_add(1);
                self.stats.dropped_bytes = self.stats.dropped_bytes.saturating_add(wire_len as u64);
                sink(Event {
                    session: id,
                    client: s.info.client,
                    server: s.info.server,
                    ts_ns: ts,
                    kind: EventKind::RstIgnored { dir, reason },
                });
                return;
            }
        }
        let syn = flags.syn();
        let (seq, ack) = (SeqNum(seg.seq), SeqNum(seg.ack));
        let mut data_seq = seq;
        if syn {
            data_seq = seq + 1;
            match s.first_seq[dir] {
                None => {
                    s.first_seq[dir] = Some(seq);
                    // A SYN/ACK seen first may already have started this stream at its ack.
                    if let Some(st) = s.streams.get_mut(dir).filter(|st| !st.started()) {
                        st.start(data_seq);
                    }
                }
                Some(first) if first == seq => {
                    s.info.syn_retries = s.info.syn_retries.saturating_add(1);
                    self.stats.syn_retries = self.stats.syn_retries.saturating_add(1);
                    sink(Event {
                        session: id,
                        client: s.info.client,
                        server: s.info.server,
                        ts_ns: ts,
                        kind: EventKind::SynRetry { dir },
                    });
                }
                Some(_) => {}
            }
            if flags.ack() {
                // The SYN/ACK acknowledges the client's ISN + 1: the client's stream starts
                // there even if its SYN was not captured.
                if let Some(peer) = s.streams.get_mut(rev).filter(|p| !p.started()) {
                    peer.start(ack);
                    s.first_seq[rev] = Some(SeqNum(seg.ack.wrapping_sub(1)));
                }
            }
        } else if s.first_seq[dir].is_none() {
            s.first_seq[dir] = Some(seq);
            if let Some(st) = s.streams.get_mut(dir).filter(|st| !st.started()) {
                st.start(seq);
            }
        }
        if s.info.state == SessionState::HalfOpen && !(syn && dir == Direction::ClientToServer) {
            s.info.state = SessionState::Established;
        }
        let peer_window_zero = s.streams.get(rev).is_some_and(HalfStream::window_zero);
        let limits = |buffered_here: usize| Limits {
            max_bytes: self
                .config
                .max_buffered_per_direction
                .min(buffered_here.saturating_add(global_room)),
            max_chunks: self.config.max_chunks_per_direction,
            max_ahead: self.config.max_seq_ahead,
            gap_on_ack: self.config.gap_on_ack,
            policy: self.config.overlap_policy,
        };
        let fin = flags.fin();
        let before = s.streams.iter().map(HalfStream::buffered).sum::<usize>();
        if let Some(st) = s.streams.get_mut(dir) {
            st.set_window(seg.window, syn);
            if syn {
                st.set_syn_wscale(seg.wscale);
            }
            if st.started() {
                let lim = limits(st.buffered());
                let info = &mut s.info;
                let stats = &mut self.stats;
                let incoming = Incoming {
                    seq: data_seq,
                    data: seg.payload,
                    wire_len,
                    fin,
                    peer_window_zero,
                };
                st.segment(incoming, lim, &mut |o| {
                    report(o, id, ts, dir, info, stats, sink)
                });
            }
        }
        if flags.ack() {
            if let Some(peer) = s.streams.get_mut(rev) {
                let lim = limits(peer.buffered());
                let info = &mut s.info;
                let stats = &mut self.stats;
                peer.peer_ack(ack, lim, &mut |o| report(o, id, ts, rev, info, stats, sink));
            }
        }
        let after = s.streams.iter().map(HalfStream::buffered).sum::<usize>();
        self.buffered.recharge(before, after);
        if flags.rst() {
            // An accepted RST (see `rst_refused`). Data on it is delivered first (stacks put
            // diagnostics there, and tshark's follow includes it); then nothing more will
            // fill the holes.
            flush_session(s, &mut self.buffered, &mut self.stats, ts, sink);
            if !s.ended {
                s.info.state = SessionState::Reset;
                s.ended = true;
                s.streams.retire(&mut self.buffered);
                sink(Event {
                    session: id,
                    client: s.info.client,
                    server: s.info.server,
                    ts_ns: ts,
                    kind: EventKind::Reset {
                        by: dir,
                        info: s.info,
                    },
                });
            }
            return;
        }
        let fins = s.streams.iter().filter(|st| st.fin_done()).count();
        if fins == 2 {
            s.close(&mut self.buffered, ts, sink);
        } else if fins == 1 {
            s.info.state = SessionState::Closing;
        }
    }
}

/// Why the receiver of a RST sent by `dir` would ignore it, or `None` when it would accept it
/// (RFC 9293 §3.10.7, RFC 5961 §3.2):
///
/// - in SYN-SENT (only the client's SYN seen), a RST from the server counts only if it
///   acknowledges that SYN;
/// - otherwise only a RST at the receiver's next expected sequence number counts. That number
///   is the next byte the capture expects from the sender (one past its FIN once reached), or
///   the highest byte the receiver acknowledged when the capture missed bytes it got. In the
///   window but not exact, a stack sends a challenge ACK and keeps the connection; out of
///   it, the stack drops the RST silently. The receiver's window is known only when both
///   SYNs were seen (the window scale is agreed there); without it the RST is accepted, as
///   for a session picked up mid-stream.
fn rst_refused(s: &Session, dir: Direction, seg: &Segment<'_>) -> Option<RstIgnoredReason> {
    let (st, peer) = (s.streams.get(dir)?, s.streams.get(dir.reverse())?);
    if s.info.state == SessionState::HalfOpen && dir == Direction::ServerToClient {
        let isn = s.first_seq[Direction::ClientToServer]?;
        let acks_syn = seg.flags.ack() && SeqNum(seg.ack) == isn + 1;
        return (!acks_syn).then_some(RstIgnoredReason::SynNotAcked);
    }
    if !st.started() {
        return None;
    }
    let seq = SeqNum(seg.seq);
    if seq == st.rcv_nxt() || Some(seq) == st.acked_beyond() {
        return None;
    }
    // The receiver is `peer`; its window is scaled by the shift its own SYN offered.
    let (Some(receiver_offer), Some(sender_offer)) = (peer.syn_wscale(), st.syn_wscale()) else {
        return None;
    };
    let (raw, on_syn) = peer.window();
    // RFC 7323 §2.2: the shift applies only when both SYNs carried the option, never to the
    // window of a SYN; at most 14.
    let shift = match (receiver_offer, sender_offer) {
        (Some(shift), Some(_)) if !on_syn => u32::from(shift.min(14)),
        _ => 0,
    };
    let window = u64::from(raw) << shift;
    let ahead = seq.since(st.rcv_nxt());
    let in_window = u64::try_from(ahead).is_ok_and(|d| d < window);
    Some(if in_window {
        RstIgnoredReason::InWindow
    } else {
        RstIgnoredReason::OutOfWindow
    })
}
