//! What every run says on stderr when it ends, as tcpdump and tshark do: one line with what
//! was read and decoded (unless `-q`), and a warning when packets were cut by the snapshot
//! length, so that a run never ends in silence over a capture it could not read whole.

use pcap_analyzer::{Analyzer, Handler};

/// What a run decoded, for its closing line; the packet counts come from the input.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Counts {
    /// TCP sessions seen (`None`: packets were not reassembled).
    pub(crate) sessions: Option<u64>,
    /// HTTP transactions decoded (`None`: HTTP was not decoded).
    pub(crate) transactions: Option<u64>,
    /// TLS sessions seen, and how many of them were decrypted.
    pub(crate) tls: (u64, u64),
    /// Holes in TCP streams: bytes the capture does not have.
    pub(crate) gaps: u64,
    /// Bytes in those holes.
    pub(crate) gap_bytes: u64,
    /// Packets whose headers could not be decoded.
    pub(crate) decode_errors: u64,
    /// Ethernet frames captured with an FCS that does not match them.
    pub(crate) fcs_errors: u64,
}

impl Counts {
    /// Adds the counts of another part of the same run (another worker's).
    pub(crate) fn add(&mut self, other: &Counts) {
        // Destructured, so that a count added to `Counts` cannot be left out here.
        let Counts {
            sessions,
            transactions,
            tls,
            gaps,
            gap_bytes,
            decode_errors,
            fcs_errors,
        } = *other;
        let sum = |a: Option<u64>, b: Option<u64>| match (a, b) {
            (None, None) => None,
            (a, b) => Some(a.unwrap_or(0).saturating_add(b.unwrap_or(0))),
        };
        self.sessions = sum(self.sessions, sessions);
        self.transactions = sum(self.transactions, transactions);
        self.tls.0 = self.tls.0.saturating_add(tls.0);
        self.tls.1 = self.tls.1.saturating_add(tls.1);
        self.gaps = self.gaps.saturating_add(gaps);
        self.gap_bytes = self.gap_bytes.saturating_add(gap_bytes);
        self.decode_errors = self.decode_errors.saturating_add(decode_errors);
        self.fcs_errors = self.fcs_errors.saturating_add(fcs_errors);
    }

    /// The analyzer's counts after a run; sessions only when it reassembled TCP.
    pub(crate) fn of<H: Handler + 'static>(analyzer: &Analyzer<H>, reassembled: bool) -> Counts {
        let tcp = analyzer.reassembler().stats();
        Counts {
            sessions: reassembled.then_some(tcp.sessions),
            transactions: None,
            tls: (0, 0),
            gaps: tcp.gaps,
            gap_bytes: tcp.gap_bytes,
            decode_errors: analyzer.decode_errors(),
            fcs_errors: analyzer.fcs_errors(),
        }
    }
}

/// Packet counts kept by the input.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Read {
    /// Packets read.
    pub(crate) packets: u64,
    /// Packets the kernel or interface dropped (live captures).
    pub(crate) dropped: u64,
    /// Packets captured shorter than they were on the wire.
    pub(crate) cut: u64,
    /// The longest captured length of a cut packet: about the snapshot length.
    pub(crate) cut_at: u32,
    /// Capture files (of several read as one) that were damaged.
    pub(crate) damaged_files: u64,
}

/// The closing line: packets, sessions and transactions, then gaps, drops and decode errors
/// when there were any.
pub(crate) fn line(read: &Read, counts: &Counts) -> String {
    let mut parts = vec![plural(read.packets, "packet")];
    if let Some(s) = counts.sessions {
        parts.push(plural(s, "TCP session"));
    }
    if let Some(t) = counts.transactions {
        parts.push(plural(t, "HTTP transaction"));
    }
    let (tls, decrypted) = counts.tls;
    if tls > 0 {
        parts.push(format!(
            "{} ({decrypted} decrypted)",
            plural(tls, "TLS session")
        ));
    }
    if counts.gaps > 0 {
        parts.push(format!(
            "{} ({} not captured)",
            plural(counts.gaps, "gap"),
            plural(counts.gap_bytes, "byte")
        ));
    }
    if read.dropped > 0 {
        parts.push(format!("{} dropped", plural(read.dropped, "packet")));
    }
    if counts.decode_errors > 0 {
        parts.push(plural(counts.decode_errors, "decode error"));
    }
    if counts.fcs_errors > 0 {
        parts.push(format!(
            "{} with a bad FCS",
            plural(counts.fcs_errors, "frame")
        ));
    }
    if read.damaged_files > 0 {
        parts.push(plural(read.damaged_files, "damaged file"));
    }
    format!("pcap-cli: {}", parts.join(", "))
}

/// The warning about packets cut by the snapshot length, when there were any.
pub(crate) fn cut_warning(read: &Read) -> Option<String> {
    (read.cut > 0).then(|| {
        format!(
            "pcap-cli: warning: {} cut by the snapshot length (at most {} bytes captured of \
             each): payloads and streams are incomplete; capture with `-s 0`",
            plural(read.cut, "packet was"),
            read.cut_at
        )
    })
}

/// `1 packet`, `2 packets`; "was" becomes "were".
pub(crate) fn plural(n: u64, what: &str) -> String {
    if n == 1 {
        return format!("{n} {what}");
    }
    match what.strip_suffix(" was") {
        Some(noun) => format!("{n} {noun}s were"),
        None => format!("{n} {what}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_names_what_there_was() {
        let read = Read {
            packets: 1,
            ..Read::default()
        };
        assert_eq!(line(&read, &Counts::default()), "pcap-cli: 1 packet");
        let read = Read {
            packets: 120,
            dropped: 3,
            cut: 0,
            cut_at: 0,
            damaged_files: 1,
        };
        let counts = Counts {
            sessions: Some(4),
            transactions: Some(1),
            tls: (2, 1),
            gaps: 2,
            gap_bytes: 1460,
            decode_errors: 1,
            fcs_errors: 2,
        };
        assert_eq!(
            line(&read, &counts),
            "pcap-cli: 120 packets, 4 TCP sessions, 1 HTTP transaction, 2 TLS sessions (1 \
             decrypted), 2 gaps (1460 bytes not captured), 3 packets dropped, 1 decode error, \
             2 frames with a bad FCS, 1 damaged file"
        );
    }

    #[test]
    fn cut_warning_only_when_cut() {
        assert_eq!(cut_warning(&Read::default()), None);
        let read = Read {
            packets: 9,
            dropped: 0,
            cut: 2,
            cut_at: 96,
            damaged_files: 0,
        };
        let w = cut_warning(&read).unwrap_or_default();
        assert!(w.contains("2 packets were cut"), "{w}");
        assert!(w.contains("96 bytes") && w.contains("-s 0"), "{w}");
    }
}
