//! Limits and counters.

/// Limits on what the reassembler keeps. Every limit is on by default: hitting one frees
/// memory and is reported (an event and a [`Stats`] counter), never silent growth.
///
/// Built from [`Default`] and adjusted field by field:
/// ```
/// let mut config = pcap_tcp_reassembly::Config::default();
/// config.max_sessions = 10_000;
/// ```
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Most sessions in the table. A new session beyond it evicts an old one (closed and
    /// half-open sessions first, then the least recently active among a sample), with a
    /// `Closed { reason: Evicted }` event. Default 262 144: a live session takes about 415
    /// bytes and an ended one (kept until the idle timeout) about 225, table entry included,
    /// so 59 to 109 MB at the cap, out-of-order bytes aside.
    pub max_sessions: usize,
    /// Sessions with no packet for this long (packet time, ns) are flushed and removed.
    /// `None` keeps them until evicted or `finish`. Default 300 s, like Zeek's
    /// `tcp_inactivity_timeout`.
    pub idle_timeout_ns: Option<i64>,
    /// Most out-of-order bytes buffered per direction; beyond it the first hole is
    /// skipped (delivered as a gap). Default 4 MiB: several full windows of a fast link.
    pub max_buffered_per_direction: usize,
    /// Most out-of-order bytes buffered over all sessions. Default 256 MiB.
    pub max_buffered_total: usize,
    /// Most separate out-of-order chunks per direction (bounds per-chunk overhead, like
    /// smoltcp's fixed hole array). Default 1024.
    pub max_chunks_per_direction: usize,
    /// Segments starting further than this beyond the next expected byte are dropped as
    /// out of window (the largest scaled TCP window is 2^30). Default 2^30.
    pub max_seq_ahead: u32,
    /// When the peer acknowledges bytes beyond a hole, the bytes reached the peer but not
    /// the capture, so no retransmission will fill it: deliver the gap at once instead of
    /// waiting for a cap or the end of input. Default on.
    pub gap_on_ack: bool,
    /// Which copy of a byte wins when a segment overlaps bytes still held out of order with
    /// different content. Default [`OverlapPolicy::First`] (tshark's and BSD-like).
    pub overlap_policy: OverlapPolicy,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            max_sessions: 1 << 18,
            idle_timeout_ns: Some(300 * 1_000_000_000),
            max_buffered_per_direction: 4 << 20,
            max_buffered_total: 256 << 20,
            max_chunks_per_direction: 1024,
            max_seq_ahead: 1 << 30,
            gap_on_ack: true,
            overlap_policy: OverlapPolicy::First,
        }
    }
}

/// Which copy wins when a new segment overlaps bytes held out of order with different content.
///
/// A receiving stack resolves such an overlap in its own way, so an analyser that resolves it
/// another way sees other bytes than the target did (Ptacek and Newsham, 1998). The
/// target-based policies follow Suricata's `stream.reassembly` policies (`DoHandleDataOverlap`
/// in `src/stream-tcp-list.c`), themselves from Novak and Sturges, "Target-Based TCP Stream
/// Reassembly" (2007). For one new segment `[ns, ne)` overlapping one held segment
/// `[os, oe)` (the extent of the segment that first brought the held bytes), the new bytes
/// win:
///
/// | policy | new bytes win when |
/// | --- | --- |
/// | `First` | never |
/// | `Last` | always |
/// | `Bsd`, `Windows` | the new segment starts before the held one (`ns < os`) |
/// | `Linux` | `ns < os`, or both start together and the new one ends later (`ns == os && ne > oe`) |
/// | `OldLinux` | `ns < os`, or `ns == os && ne >= oe` |
/// | `Solaris` | the new segment ends later (`ne > oe`), or ends together and does not start later (`ne == oe && ns <= os`) |
///
/// The policy applies to bytes still held; bytes already delivered stay delivered (the first
/// copy). Without a conflicting overlap, every policy gives the same stream.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OverlapPolicy {
    /// The first copy of a byte wins (the default; tshark's choice).
    #[default]
    First,
    /// The last copy of a byte wins.
    Last,
    /// BSD and macOS (also HP-UX 10, IRIX in Suricata).
    Bsd,
    /// Windows (the same rule as BSD in Suricata).
    Windows,
    /// Linux 2.6 and later.
    Linux,
    /// Linux before 2.6.
    OldLinux,
    /// Solaris (also HP-UX 11 in Suricata).
    Solaris,
}

impl OverlapPolicy {
    /// Every policy, in the order of their names.
    pub const ALL: [OverlapPolicy; 7] = [
        OverlapPolicy::First,
        OverlapPolicy::Last,
        OverlapPolicy::Bsd,
        OverlapPolicy::Windows,
        OverlapPolicy::Linux,
        OverlapPolicy::OldLinux,
        OverlapPolicy::Solaris,
    ];

    /// Lowercase name: `"first"`, `"last"`, `"bsd"`, `"windows"`, `"linux"`, `"old-linux"`,
    /// `"solaris"`.
    pub fn as_str(self) -> &'static str {
        match self {
            OverlapPolicy::First => "first",
            OverlapPolicy::Last => "last",
            OverlapPolicy::Bsd => "bsd",
            OverlapPolicy::Windows => "windows",
            OverlapPolicy::Linux => "linux",
            OverlapPolicy::OldLinux => "old-linux",
            OverlapPolicy::Solaris => "solaris",
        }
    }

    /// The policy of this [name](OverlapPolicy::as_str).
    pub fn from_name(name: &str) -> Option<OverlapPolicy> {
        OverlapPolicy::ALL.into_iter().find(|p| p.as_str() == name)
    }

    /// Whether the rule looks at the extents of the segments (so held bytes must remember
    /// which segment brought them).
    pub(crate) fn target_based(self) -> bool {
        !matches!(self, OverlapPolicy::First | OverlapPolicy::Last)
    }

    /// Whether a new segment `[ns, ne)` wins over a held one `[os, oe)` where they overlap.
    pub(crate) fn new_wins(self, (ns, ne): (i64, i64), (os, oe): (i64, i64)) -> bool {
        match self {
            OverlapPolicy::First => false,
            OverlapPolicy::Last => true,
            OverlapPolicy::Bsd | OverlapPolicy::Windows => ns < os,
            OverlapPolicy::Linux => ns < os || (ns == os && ne > oe),
            OverlapPolicy::OldLinux => ns < os || (ns == os && ne >= oe),
            OverlapPolicy::Solaris => ne > oe || (ne == oe && ns <= os),
        }
    }
}

/// Counters since the reassembler was created.
#[non_exhaustive]
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Segments pushed.
    pub segments: u64,
    /// Sessions created.
    pub sessions: u64,
    /// Sessions evicted under `max_sessions`.
    pub sessions_evicted: u64,
    /// Sessions removed after the idle timeout.
    pub sessions_timed_out: u64,
    /// Sessions replaced by a new SYN on the same 4-tuple.
    pub sessions_replaced: u64,
    /// Payload bytes delivered in `Data` events.
    pub bytes_delivered: u64,
    /// Segments buffered out of order.
    pub out_of_order: u64,
    /// Retransmitted segments.
    pub retransmissions: u64,
    /// Retransmitted bytes.
    pub retransmitted_bytes: u64,
    /// Conflicting overlaps: held ranges that a segment overlapped with different bytes
    /// (`OverlapConflict` events).
    pub conflicting_overlaps: u64,
    /// RSTs not accepted (`RstIgnored` events).
    pub rsts_ignored: u64,
    /// Gap events.
    pub gaps: u64,
    /// Bytes in gaps.
    pub gap_bytes: u64,
    /// Holes skipped because a buffer cap (bytes or chunks, per direction or total) was hit.
    pub cap_flushes: u64,
    /// Payload bytes ignored: beyond a FIN, after a RST or FIN exchange, or out of window.
    pub dropped_bytes: u64,
    /// Keep-alives.
    pub keep_alives: u64,
    /// Zero-window probes.
    pub zero_window_probes: u64,
    /// SYN and SYN/ACK retries.
    pub syn_retries: u64,
}
