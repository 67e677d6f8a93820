//! One session's state, and how its streams' reports become public events.

use crate::seq::SeqNum;
use crate::stream::{HalfStream, Report};
use crate::{
    Direction, Event, EventKind, FlowKey, MemoryBudget, PerDir, SessionInfo, SessionState, Stats,
};

/// A session in the table. Ended sessions stay (late ACKs and retransmissions still
/// belong to them, as in tshark) but give back their streams: with the key derived from
/// `info`, an ended session costs about 200 bytes instead of 420, which is what keeps a
/// capture of many short connections under the memory target.
#[derive(Debug)]
pub(crate) struct Session {
    /// Whether the client is the key's lower endpoint.
    pub(crate) client_is_lo: bool,
    pub(crate) streams: Streams,
    /// First sequence number seen per direction (the ISN for a SYN), as tshark's
    /// `base_seq`: a new SYN with another value starts a new session.
    pub(crate) first_seq: PerDir<Option<SeqNum>>,
    pub(crate) info: SessionInfo,
    /// `End`, `Reset` or `Closed` was emitted.
    pub(crate) ended: bool,
}

impl Session {
    /// Both FINs are done: the session is closed, its buffers given back, its `End` reported.
    pub(crate) fn close<F>(&mut self, buffered: &mut MemoryBudget, ts: i64, sink: &mut F)
    where
        F: FnMut(Event<'_>),
    {
        self.info.state = SessionState::Closed;
        self.ended = true;
        self.streams.retire(buffered);
        sink(Event {
            session: self.info.id,
            client: self.info.client,
            server: self.info.server,
            ts_ns: ts,
            kind: EventKind::End { info: self.info },
        });
    }

    /// The table key, from the endpoints (the key is canonical, so either order gives it).
    pub(crate) fn key(&self) -> FlowKey {
        FlowKey::new(self.info.client, self.info.server, self.info.tunnel).0
    }

    /// The direction of a segment whose source is the key's lower endpoint or not.
    pub(crate) fn dir_of(&self, src_is_lo: bool) -> Direction {
        if src_is_lo == self.client_is_lo {
            Direction::ClientToServer
        } else {
            Direction::ServerToClient
        }
    }
}

/// A session's two half-streams while it is live; none once it has ended.
#[derive(Debug)]
pub(crate) struct Streams(Option<Box<PerDir<HalfStream>>>);

impl Default for Streams {
    fn default() -> Streams {
        Streams(Some(Box::default()))
    }
}

impl Streams {
    pub(crate) fn get(&self, dir: Direction) -> Option<&HalfStream> {
        self.0.as_deref().map(|s| &s[dir])
    }

    pub(crate) fn get_mut(&mut self, dir: Direction) -> Option<&mut HalfStream> {
        self.0.as_deref_mut().map(|s| &mut s[dir])
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &HalfStream> {
        self.0.as_deref().into_iter().flatten()
    }

    /// Frees the streams of an ended session, taking what they still buffer off the
    /// global count.
    pub(crate) fn retire(&mut self, buffered: &mut MemoryBudget) {
        buffered.release(self.iter().map(HalfStream::buffered).sum::<usize>());
        self.0 = None;
    }
}

/// Flushes both streams of a session (holes become gaps) and, if that completes both
/// FINs, ends it.
pub(crate) fn flush_session<F>(
    s: &mut Session,
    buffered: &mut MemoryBudget,
    stats: &mut Stats,
    ts: i64,
    sink: &mut F,
) where
    F: FnMut(Event<'_>),
{
    let id = s.info.id;
    for dir in Direction::BOTH {
        if let Some(st) = s.streams.get_mut(dir) {
            let before = st.buffered();
            let info = &mut s.info;
            st.flush(&mut |o| report(o, id, ts, dir, info, stats, sink));
            buffered.release(before.saturating_sub(st.buffered()));
        }
    }
    let fins = s.streams.iter().filter(|st| st.fin_done()).count();
    if fins == 2 && !s.ended {
        s.close(buffered, ts, sink);
    }
}

/// Turns a stream's output into a public event, counting it in the session and the stats.
pub(crate) fn report<F>(
    o: Report<'_>,
    session: u64,
    ts_ns: i64,
    dir: Direction,
    info: &mut SessionInfo,
    stats: &mut Stats,
    sink: &mut F,
) where
    F: FnMut(Event<'_>),
{
    let kind = match o {
        Report::Data { offset, bytes } => {
            let n = bytes.len() as u64;
            stats.bytes_delivered = stats.bytes_delivered.saturating_add(n);
            match dir {
                Direction::ClientToServer => info.bytes_c2s = info.bytes_c2s.saturating_add(n),
                Direction::ServerToClient => info.bytes_s2c = info.bytes_s2c.saturating_add(n),
            }
            EventKind::Data {
                dir,
                offset: offset.get(),
                bytes,
            }
        }
        Report::Gap { offset, len, cap } => {
            stats.gaps = stats.gaps.saturating_add(1);
            stats.gap_bytes = stats.gap_bytes.saturating_add(len);
            if cap {
                stats.cap_flushes = stats.cap_flushes.saturating_add(1);
            }
            info.gaps = info.gaps.saturating_add(1);
            info.gap_bytes = info.gap_bytes.saturating_add(len);
            EventKind::Gap {
                dir,
                offset: offset.get(),
                len,
            }
        }
        Report::OutOfOrder { offset, len } => {
            stats.out_of_order = stats.out_of_order.saturating_add(1);
            info.out_of_order = info.out_of_order.saturating_add(1);
            EventKind::OutOfOrder {
                dir,
                offset: offset.get(),
                len,
            }
        }
        Report::Retransmission {
            offset,
            len,
            overlap,
        } => {
            stats.retransmissions = stats.retransmissions.saturating_add(1);
            stats.retransmitted_bytes = stats.retransmitted_bytes.saturating_add(len);
            info.retransmissions = info.retransmissions.saturating_add(1);
            EventKind::Retransmission {
                dir,
                offset: offset.get(),
                len,
                overlap,
            }
        }
        Report::OverlapConflict {
            offset,
            len,
            replaced,
        } => {
            stats.conflicting_overlaps = stats.conflicting_overlaps.saturating_add(1);
            info.overlap_conflicts = info.overlap_conflicts.saturating_add(1);
            EventKind::OverlapConflict {
                dir,
                offset: offset.get(),
                len,
                replaced,
            }
        }
        Report::KeepAlive => {
            stats.keep_alives = stats.keep_alives.saturating_add(1);
            EventKind::KeepAlive { dir }
        }
        Report::ZeroWindowProbe => {
            stats.zero_window_probes = stats.zero_window_probes.saturating_add(1);
            EventKind::ZeroWindowProbe { dir }
        }
        Report::Fin { offset } => EventKind::Fin {
            dir,
            offset: offset.get(),
        },
        Report::Dropped { len } => {
            stats.dropped_bytes = stats.dropped_bytes.saturating_add(len);
            return;
        }
    };
    sink(Event {
        session,
        client: info.client,
        server: info.server,
        ts_ns,
        kind,
    });
}
