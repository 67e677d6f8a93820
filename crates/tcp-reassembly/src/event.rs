//! What the reassembler reports: events and per-session summaries.

use std::net::SocketAddr;

use crate::Direction;

/// One thing the reassembler observed, tagged with its session and packet time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Event<'a> {
    /// The session number: sessions are numbered from 0 in order of their first packet,
    /// like tshark's `tcp.stream`.
    pub session: u64,
    /// The session's client (as in [`EventKind::Start`]): every event names its endpoints,
    /// so a consumer needs no table of its own to print them.
    pub client: SocketAddr,
    /// The session's server.
    pub server: SocketAddr,
    /// Packet time (ns since the Unix epoch) of the segment that caused the event, or the
    /// time given to [`flush_older_than`](crate::Reassembler::flush_older_than)/the last
    /// packet time for flushes.
    pub ts_ns: i64,
    /// What happened.
    pub kind: EventKind<'a>,
}

/// The kinds of [`Event`].
///
/// Per session the order is: one `Start`, then any of the per-direction events, then
/// exactly one of `End`, `Reset` or `Closed`. Within a direction, `Data` and `Gap`
/// events tile the stream: each starts at the offset where the previous one ended.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind<'a> {
    /// A new session, from its first packet.
    Start {
        /// The client (see [`StartKind`] for how it was chosen).
        client: SocketAddr,
        /// The server.
        server: SocketAddr,
        /// What the first packet was.
        how: StartKind,
    },
    /// A SYN or SYN/ACK sent again with the same initial sequence number.
    SynRetry {
        /// Who sent it.
        dir: Direction,
    },
    /// In-order stream bytes. Borrowed from the segment when it arrived in order, or from
    /// the reassembler's buffer when it completes out-of-order data: copy what you keep.
    Data {
        /// Direction of the stream.
        dir: Direction,
        /// Stream offset of `bytes[0]` (0 = first byte after the SYN, or the first byte seen
        /// for a session picked up mid-stream).
        offset: u64,
        /// The bytes.
        bytes: &'a [u8],
    },
    /// Bytes that will never arrive (lost before capture, cut by the snapshot length, or
    /// skipped because a buffer cap was hit). The layer above resynchronises after it.
    Gap {
        /// Direction of the stream.
        dir: Direction,
        /// Stream offset where the gap starts.
        offset: u64,
        /// Number of missing bytes.
        len: u64,
    },
    /// A segment ahead of the next expected byte was buffered.
    OutOfOrder {
        /// Direction of the stream.
        dir: Direction,
        /// Stream offset of the segment.
        offset: u64,
        /// Its length.
        len: u64,
    },
    /// Bytes already seen were sent again; they are not delivered twice (first copy wins).
    Retransmission {
        /// Direction of the stream.
        dir: Direction,
        /// Stream offset of the repeated bytes.
        offset: u64,
        /// How many bytes were repeated.
        len: u64,
        /// Whether the repeated bytes matched the first copy.
        overlap: Overlap,
    },
    /// Bytes of a segment overlapped bytes still held out of order, with different content:
    /// one event per held range overlapped. The [`OverlapPolicy`](crate::OverlapPolicy)
    /// decided which copy is delivered. (Bytes already delivered are not held; a segment
    /// overlapping them is a [`Retransmission`](EventKind::Retransmission) with
    /// [`Overlap::Unchecked`], and the first copy is what was delivered.)
    OverlapConflict {
        /// Direction of the stream.
        dir: Direction,
        /// Stream offset of the first overlapping byte.
        offset: u64,
        /// How many bytes overlapped (some or all of them differed).
        len: u64,
        /// Whether the new segment's bytes replaced the held ones (`false`: the held ones
        /// were kept).
        replaced: bool,
    },
    /// A RST the receiver's stack would not have accepted (RFC 9293 §3.10.7, RFC 5961 §3):
    /// the session goes on, and the RST's payload is not delivered.
    RstIgnored {
        /// The side that sent the RST.
        dir: Direction,
        /// Why a stack would ignore it.
        reason: RstIgnoredReason,
    },
    /// A keep-alive: sequence number one below the next expected, 0 or 1 byte.
    KeepAlive {
        /// Who sent it.
        dir: Direction,
    },
    /// One byte sent at the next expected offset while the receiver advertised a zero
    /// window. The byte is delivered as data.
    ZeroWindowProbe {
        /// Who sent it.
        dir: Direction,
    },
    /// The stream reached its FIN: no more bytes in this direction.
    Fin {
        /// Direction of the stream.
        dir: Direction,
        /// Final stream length.
        offset: u64,
    },
    /// Both directions reached their FIN.
    End {
        /// Summary of the session.
        info: SessionInfo,
    },
    /// An accepted RST was seen (see [`RstIgnored`](EventKind::RstIgnored) for the others);
    /// buffered data was flushed (with gaps) before this event.
    Reset {
        /// The side that sent the RST.
        by: Direction,
        /// Summary of the session.
        info: SessionInfo,
    },
    /// The session left the table without a FIN exchange or RST.
    Closed {
        /// Why.
        reason: CloseReason,
        /// Summary of the session.
        info: SessionInfo,
    },
}

impl EventKind<'_> {
    /// The session's summary when this is its last event (`End`, `Reset` or `Closed`):
    /// where a consumer writes the session out and drops what it kept for it.
    pub fn ended(&self) -> Option<&SessionInfo> {
        match self {
            EventKind::End { info }
            | EventKind::Reset { info, .. }
            | EventKind::Closed { info, .. } => Some(info),
            _ => None,
        }
    }
}

/// How a session's first packet let the reassembler tell client from server.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartKind {
    /// A SYN without ACK: its sender is the client.
    Syn,
    /// A SYN/ACK: its receiver is the client.
    SynAck,
    /// Picked up mid-stream: the sender of the first packet is the client (tshark's rule,
    /// chosen so session roles agree with Wireshark).
    MidStream,
}

/// Whether re-sent bytes matched the copy kept.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overlap {
    /// The bytes had already been delivered and are no longer held, so they were not compared.
    Unchecked,
    /// Same bytes as the buffered copy.
    Same,
    /// Different bytes from the buffered copy; an
    /// [`OverlapConflict`](EventKind::OverlapConflict) event says which copy was kept.
    Different,
}

/// Why a RST was not accepted ([`EventKind::RstIgnored`]).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RstIgnoredReason {
    /// The session is in SYN-SENT (only the client's SYN seen) and the RST does not
    /// acknowledge that SYN (no ACK flag, or an acknowledgement number other than ISN + 1):
    /// RFC 9293 §3.10.7.3 and RFC 5961 §3.2 have the client drop it.
    SynNotAcked,
    /// Its sequence number is outside the receiver's window: dropped silently
    /// (RFC 5961 §3.2, case 3).
    OutOfWindow,
    /// In the receiver's window but not at the next expected sequence number: a stack answers
    /// with a challenge ACK and keeps the connection (RFC 5961 §3.2, case 2); a real peer
    /// answers that ACK with an exact RST, which is then accepted.
    InWindow,
}

impl RstIgnoredReason {
    /// Lowercase name for text and JSON: `"syn_not_acked"`, `"out_of_window"`, `"in_window"`.
    pub fn as_str(self) -> &'static str {
        match self {
            RstIgnoredReason::SynNotAcked => "syn_not_acked",
            RstIgnoredReason::OutOfWindow => "out_of_window",
            RstIgnoredReason::InWindow => "in_window",
        }
    }
}

/// Why a session left the table without `End` or `Reset`.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseReason {
    /// No packet for longer than the idle timeout (packet time).
    IdleTimeout,
    /// Evicted to make room under `max_sessions`.
    Evicted,
    /// A new SYN with a different initial sequence number reused the 4-tuple.
    Replaced,
    /// [`finish`](crate::Reassembler::finish) was called at the end of input.
    EndOfInput,
}

/// Where a session's life stands.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionState {
    /// Only the opening SYN (and retries) seen.
    HalfOpen,
    /// Traffic beyond a lone SYN, no FIN reached yet.
    Established,
    /// One direction reached its FIN.
    Closing,
    /// Both directions reached their FIN.
    Closed,
    /// A RST was seen.
    Reset,
    /// Removed after the idle timeout.
    TimedOut,
    /// Evicted under `max_sessions`.
    Evicted,
}

impl SessionState {
    /// Lowercase name for tables and JSON: `"half-open"`, `"established"`, `"closing"`,
    /// `"closed"`, `"reset"`, `"timeout"`, `"evicted"`.
    pub fn as_str(self) -> &'static str {
        match self {
            SessionState::HalfOpen => "half-open",
            SessionState::Established => "established",
            SessionState::Closing => "closing",
            SessionState::Closed => "closed",
            SessionState::Reset => "reset",
            SessionState::TimedOut => "timeout",
            SessionState::Evicted => "evicted",
        }
    }
}

/// Summary of one session, for a `flows` listing. Delivered with the session's last event
/// and queryable while the session is in the table.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionInfo {
    /// Session number (see [`Event::session`]).
    pub id: u64,
    /// Client endpoint.
    pub client: SocketAddr,
    /// Server endpoint.
    pub server: SocketAddr,
    /// The tunnel id of the session's packets (`Segment::tunnel`), 0 when not tunnelled.
    pub tunnel: u64,
    /// How the session was picked up.
    pub how: StartKind,
    /// Time of the first packet.
    pub first_ts_ns: i64,
    /// Time of the last packet.
    pub last_ts_ns: i64,
    /// State when the summary was taken.
    pub state: SessionState,
    /// Packets client to server.
    pub packets_c2s: u64,
    /// Packets server to client.
    pub packets_s2c: u64,
    /// Payload bytes delivered client to server (gaps excluded).
    pub bytes_c2s: u64,
    /// Payload bytes delivered server to client (gaps excluded).
    pub bytes_s2c: u64,
    /// Retransmitted segments, both directions.
    pub retransmissions: u64,
    /// Out-of-order segments, both directions.
    pub out_of_order: u64,
    /// Gap events, both directions.
    pub gaps: u64,
    /// Bytes in gaps, both directions.
    pub gap_bytes: u64,
    /// SYN and SYN/ACK retries.
    pub syn_retries: u64,
    /// RSTs ignored ([`EventKind::RstIgnored`]), both directions.
    pub rsts_ignored: u64,
    /// Conflicting overlaps ([`EventKind::OverlapConflict`]), both directions.
    pub overlap_conflicts: u64,
}
