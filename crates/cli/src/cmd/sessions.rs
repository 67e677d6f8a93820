//! What `grep`, `flows` and `follow` share: reading packets through the analyzer (TCP only)
//! and a few ways of writing sessions out.

use std::io::Write as _;

use pcap_http_ws::pipeline::{Analyzer, AnalyzerConfig, Handler};
use pcap_tcp_reassembly::Direction;

use crate::error::CliError;
use crate::input::Input;

/// Reads every packet of `input` into a TCP-only analyzer, then ends the open sessions.
///
/// Reading a file, sessions have no idle timeout (as in Wireshark): one packet with a wild
/// timestamp would otherwise end every open session, and a session quiet for minutes would
/// be split in two. They end at FIN/RST, when the session table is full (the reassembler's
/// `max_sessions` cap, which bounds memory) or at the end of the file. Live captures keep
/// the reassembler's idle timeout.
///
/// `after` runs after each packet and once more after the sessions are ended: it is where
/// a subcommand writes out what the handler gathered and reports the handler's own errors.
/// On a read error (a damaged file), the sessions seen so far are still ended and
/// `after` still runs, so their output is complete, and then the read error is returned.
pub(crate) fn analyze<H: Handler>(
    input: &mut Input,
    handler: &mut H,
    mut after: impl FnMut(&mut H) -> Result<(), CliError>,
) -> Result<(), CliError> {
    let mut config = AnalyzerConfig::tcp_only();
    if !input.is_live() {
        config.tcp.idle_timeout_ns = None;
    }
    let mut analyzer = Analyzer::new(config);
    let read = loop {
        match input.next_packet() {
            Ok(Some(packet)) => analyzer.push(&packet, handler),
            Ok(None) => break Ok(()),
            Err(e) => break Err(e),
        }
        after(handler)?;
    };
    analyzer.finish(handler);
    after(handler)?;
    input.report_stats();
    read
}

/// 0 for client to server, 1 for server to client: an index into per-direction arrays.
pub(crate) fn dir_index(dir: Direction) -> usize {
    match dir {
        Direction::ClientToServer => 0,
        Direction::ServerToClient => 1,
    }
}

/// Appends a time in nanoseconds as a JSON number of seconds with exactly 9 decimals, as
/// `capture --json` writes `ts`.
pub(crate) fn push_ts(out: &mut Vec<u8>, ts_ns: i64) {
    if ts_ns < 0 {
        out.push(b'-');
    }
    let abs = ts_ns.unsigned_abs();
    // Writing into a Vec cannot fail.
    let _ = write!(out, "{}.{:09}", abs / 1_000_000_000, abs % 1_000_000_000);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ts_has_nine_decimals() {
        let mut out = Vec::new();
        push_ts(&mut out, 1_700_000_000_000_123_000);
        out.push(b' ');
        push_ts(&mut out, -1_500_000_000);
        assert_eq!(out, b"1700000000.000123000 -1.500000000");
    }
}
