//! What the subcommands share: reading packets through the analyzer and a few ways of
//! writing sessions out.

use std::io::Write as _;

use pcap_analyzer::{Analyzer, AnalyzerConfig, Handler, RunError};

use crate::args::TcpArgs;
use crate::error::CliError;
use crate::input::Input;
use crate::output::Output;
use crate::parallel::{self, Shard};
use crate::summary::Counts;

/// Reads every packet of `input` into a TCP-only analyzer, then ends the open sessions.
///
/// Reading a file, sessions have no idle timeout (as in Wireshark): one packet with a wild
/// timestamp would otherwise end every open session, and a session quiet for minutes would
/// be split in two. They end at FIN/RST, when the session table is full (the reassembler's
/// `max_sessions` cap, which bounds memory) or at the end of the file. Live captures keep
/// the reassembler's idle timeout.
///
/// The handler writes out what it gathered in [`Handler::packet_done`] and
/// [`Handler::finished`], and stops the run with its own errors. On a read error (a damaged
/// file), the sessions seen so far are still ended and `finished` still runs, so their
/// output is complete; [`Ran::finish`] then returns the read error.
pub(crate) fn analyze<H: Handler<Error = CliError> + 'static>(
    input: &mut Input,
    handler: &mut H,
    tcp: &TcpArgs,
) -> Ran {
    let config = session_config(input, tcp);
    run(input, handler, config)
}

/// Like [`analyze`], with TLS found by content in every session and decrypted with the
/// input's keys ([`Input::keys`]): every TLS event reaches [`Handler::tls`], the
/// decrypted bytes as [`pcap_tls::TlsEvent::Plaintext`]. The TLS decoder hears of a
/// session's end before the handler's TCP end event, so a session's `Summary` and
/// plaintext come before its `End`/`Reset`/`Closed`.
pub(crate) fn analyze_tls<H: Handler<Error = CliError> + 'static>(
    input: &mut Input,
    handler: &mut H,
    tcp: &TcpArgs,
) -> Ran {
    let mut config = session_config(input, tcp);
    config.tls = Some(input.tls_config());
    config.keys = Some(input.keys());
    run(input, handler, config)
}

/// [`analyze_tls`] on `threads` worker threads ([`parallel`]) when more than one and the
/// input allows it, each with a handler from `make` writing to memory; else on this thread
/// with one handler writing to standard output. Returns the run and every handler, for the
/// counts each kept.
pub(crate) fn analyze_tls_on<H: Shard>(
    input: &mut Input,
    tcp: &TcpArgs,
    threads: usize,
    make: impl Fn(Output) -> H,
) -> (Ran, Vec<H>) {
    let mut config = session_config(input, tcp);
    config.tls = Some(input.tls_config());
    config.keys = Some(input.keys());
    run_on(input, config, threads, make)
}

/// [`analyze`] on `threads` worker threads, as [`analyze_tls_on`].
pub(crate) fn analyze_on<H: Shard>(
    input: &mut Input,
    tcp: &TcpArgs,
    threads: usize,
    make: impl Fn(Output) -> H,
) -> (Ran, Vec<H>) {
    let config = session_config(input, tcp);
    run_on(input, config, threads, make)
}

/// `input` through an analyzer set up by `config`, on `threads` worker threads as
/// [`analyze_tls_on`] runs them: for subcommands that set up their own analyzer.
pub(crate) fn run_on<H: Shard>(
    input: &mut Input,
    config: AnalyzerConfig,
    threads: usize,
    make: impl Fn(Output) -> H,
) -> (Ran, Vec<H>) {
    if threads <= 1 || parallel::single_thread_reason(input).is_some() {
        let mut handler = make(Output::stdout(input.is_live()));
        let ran = run(input, &mut handler, config);
        return (ran, vec![handler]);
    }
    let ran = parallel::run(input, threads, &config, || make(Output::memory()));
    let counts = ran.tally.counts;
    (
        Ran {
            result: ran.result,
            counts,
        },
        ran.shards,
    )
}

/// TCP only, reassembled as `tcp` says, without idle timeout when reading a file.
pub(crate) fn session_config(input: &Input, tcp: &TcpArgs) -> AnalyzerConfig {
    let mut config = AnalyzerConfig::tcp_only();
    tcp.apply(&mut config.tcp);
    if !input.is_live() {
        config.tcp.idle_timeout_ns = None;
    }
    config
}

/// Runs `input` through an analyzer set up by `config`.
pub(crate) fn run<H: Handler<Error = CliError> + 'static>(
    input: &mut Input,
    handler: &mut H,
    config: AnalyzerConfig,
) -> Ran {
    let reassembled = config.reassemble;
    let mut analyzer = Analyzer::new(config);
    let result = analyzer.run(input, handler);
    Ran {
        result,
        counts: Counts::of(&analyzer, reassembled),
    }
}

/// A run that is over, for its subcommand to print its own warnings before
/// [`Ran::finish`] closes it.
#[must_use = "finish says how the run went and returns its error"]
pub(crate) struct Ran {
    result: Result<(), RunError<CliError, CliError>>,
    counts: Counts,
}

impl Ran {
    /// Says how the run went on stderr ([`Input::finish`]) unless the handler stopped it,
    /// and returns the error that ended it, if one did.
    pub(crate) fn finish(self, input: &mut Input) -> Result<(), CliError> {
        if !matches!(self.result, Err(RunError::Handler(_))) {
            input.finish(&self.counts);
        }
        self.result.map_err(RunError::into_inner)
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
