//! What the IP defragmenter did besides completing datagrams, as the subcommands show it:
//! a line per notice with `--tcp-verbose`, and one warning at the end of a run that hit a
//! limit.

use std::fmt::Write as _;

use pcap_analyzer::DefragNotice;
use pcap_decode::defrag::{DefragError, DefragEvent, DropReason, FragKey};

/// Counts of the notices of one run.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DefragTally {
    timed_out: u64,
    evicted: u64,
    refused: u64,
    overlaps: u64,
}

impl DefragTally {
    /// Counts one notice.
    pub(crate) fn note(&mut self, notice: &DefragNotice) {
        let counter = match notice {
            DefragNotice::Event {
                event:
                    DefragEvent::Expired {
                        reason: DropReason::Timeout,
                        ..
                    },
                ..
            } => &mut self.timed_out,
            DefragNotice::Event {
                event: DefragEvent::Expired { .. },
                ..
            } => &mut self.evicted,
            DefragNotice::Event {
                event: DefragEvent::ConflictingOverlap { .. },
                ..
            } => &mut self.overlaps,
            DefragNotice::Refused { .. } => &mut self.refused,
            _ => return,
        };
        *counter = counter.saturating_add(1);
    }

    /// Adds another part of the same run's counts (another worker's).
    pub(crate) fn add(&mut self, other: &DefragTally) {
        self.timed_out = self.timed_out.saturating_add(other.timed_out);
        self.evicted = self.evicted.saturating_add(other.evicted);
        self.refused = self.refused.saturating_add(other.refused);
        self.overlaps = self.overlaps.saturating_add(other.overlaps);
    }

    /// The end-of-run warning, when a datagram was lost to a limit or bytes conflicted.
    pub(crate) fn warning(&self) -> Option<String> {
        let parts: Vec<String> = [
            (self.timed_out, "dropped incomplete after the timeout"),
            (
                self.evicted,
                "evicted incomplete by the fragment memory caps",
            ),
            (self.refused, "refused (too large or inconsistent)"),
            (self.overlaps, "with conflicting overlapping fragments"),
        ]
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, what)| format!("{n} {what}"))
        .collect();
        (!parts.is_empty()).then(|| {
            format!(
                "pcap-cli: warning: IP datagrams in fragments: {}",
                parts.join(", ")
            )
        })
    }
}

/// A notice's time, event name, datagram and detail, for one line of output.
pub(crate) struct Described {
    pub(crate) ts_ns: i64,
    /// `defrag_timeout`, `defrag_evicted`, `defrag_overlap` or `defrag_refused`.
    pub(crate) event: &'static str,
    pub(crate) key: FragKey,
    pub(crate) detail: String,
}

/// Describes a notice; `None` for kinds this version does not know.
pub(crate) fn describe(notice: &DefragNotice) -> Option<Described> {
    let mut detail = String::new();
    let (ts_ns, event, key) = match *notice {
        DefragNotice::Event {
            ts_ns,
            event:
                DefragEvent::Expired {
                    key,
                    reason,
                    buffered_bytes,
                },
        } => {
            let (event, why) = match reason {
                DropReason::Timeout => ("defrag_timeout", "incomplete after the timeout"),
                DropReason::DatagramCap => ("defrag_evicted", "evicted: too many datagrams"),
                DropReason::ByteCap => ("defrag_evicted", "evicted: too many buffered bytes"),
                _ => ("defrag_evicted", "evicted"),
            };
            let _ = write!(detail, "{why}, {buffered_bytes} bytes dropped");
            (ts_ns, event, key)
        }
        DefragNotice::Event {
            ts_ns,
            event: DefragEvent::ConflictingOverlap { key, offset },
        } => {
            let _ = write!(
                detail,
                "fragment at offset {offset} overlaps earlier bytes with different ones (first kept)"
            );
            (ts_ns, "defrag_overlap", key)
        }
        DefragNotice::Refused { ts_ns, key, error } => {
            let _ = match error {
                DefragError::TooLarge { .. }
                | DefragError::Inconsistent { .. }
                | DefragError::OverCap { .. } => write!(detail, "datagram dropped: {error}"),
                _ => write!(detail, "datagram dropped"),
            };
            (ts_ns, "defrag_refused", key)
        }
        _ => return None,
    };
    Some(Described {
        ts_ns,
        event,
        key,
        detail,
    })
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;

    fn key() -> FragKey {
        FragKey::v4(Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(10, 0, 0, 2), 6, 7)
    }

    #[test]
    fn tally_warns_only_when_a_limit_was_hit() {
        let mut tally = DefragTally::default();
        assert_eq!(tally.warning(), None);
        let expired = |reason| DefragNotice::Event {
            ts_ns: 1,
            event: DefragEvent::Expired {
                key: key(),
                reason,
                buffered_bytes: 8,
            },
        };
        tally.note(&expired(DropReason::Timeout));
        tally.note(&expired(DropReason::ByteCap));
        tally.note(&expired(DropReason::DatagramCap));
        tally.note(&DefragNotice::Refused {
            ts_ns: 2,
            key: key(),
            error: DefragError::TooLarge {
                offset: 65528,
                end: 65600,
                max: 65535,
            },
        });
        assert_eq!(
            tally.warning().as_deref(),
            Some(
                "pcap-cli: warning: IP datagrams in fragments: 1 dropped incomplete after the \
                 timeout, 2 evicted incomplete by the fragment memory caps, 1 refused (too large \
                 or inconsistent)"
            )
        );
    }

    #[test]
    fn described_with_the_error_text() {
        let d = describe(&DefragNotice::Refused {
            ts_ns: 5,
            key: key(),
            error: DefragError::TooLarge {
                offset: 65528,
                end: 65600,
                max: 65535,
            },
        })
        .unwrap();
        assert_eq!((d.ts_ns, d.event), (5, "defrag_refused"));
        assert_eq!(
            d.detail,
            "datagram dropped: ip fragment at offset 65528 ends at 65600, past the 65535-byte \
             datagram limit"
        );
    }
}
