//! `http-trace`: HTTP transactions and WebSocket messages distilled from TCP sessions, with
//! node_pcap's filters and options, `--json` lines and a HAR file. The trace itself is
//! the crate's `trace` module, which `serve` shares.

use pcap_analyzer::{Analyzer, AnalyzerConfig, RunError};
use pcap_http_ws::HttpConfig;

use crate::args::HttpTraceArgs;
use crate::color::Palette;
use crate::error::CliError;
use crate::exec::{KeyLogFile, Program, RunAs};
use crate::har::Har;
use crate::input::Input;
use crate::output::Output;
use crate::parallel;
use crate::summary::Counts;
use crate::trace::{Filters, Format, TraceOptions, TraceOut, Tracer};

/// Runs `http-trace`.
pub fn run(args: &HttpTraceArgs) -> Result<(), CliError> {
    let filters = Filters::new(args)?;
    let format = args.format.as_deref().map(Format::parse).transpose()?;
    // --exec: the program's key log, and a live capture on every interface by default.
    let run_as = RunAs::invoking_user();
    let keylog = args.exec.then(|| KeyLogFile::create(run_as)).transpose()?;
    // `-c N` counts transactions here; `--packets N` counts packets.
    let mut source = args.source.clone();
    let transactions = source.count.take();
    if let Some(k) = &keylog {
        source.interface.get_or_insert_with(|| "any".to_owned());
        source.keylog.push(k.path().to_owned());
    }
    // Live default as node_pcap's http_trace, VLAN-tagged TCP included; `any` captures
    // in Linux cooked mode, where libpcap has no `vlan` (the kernel took the tags off).
    let filter = if source.interface.as_deref() == Some("any") {
        "tcp"
    } else {
        "tcp or (vlan and tcp)"
    };
    let mut input = Input::open(&source, Some(filter))?;
    // body_len in the output is after content decoding, as Wireshark shows it.
    let http = HttpConfig::default().with_decode_content(true);
    let mut config = AnalyzerConfig::with_http(http);
    config.protocol_memory = args.http_memory.saturating_mul(1 << 20);
    config.tls = Some(input.tls_config());
    config.keys = Some(input.keys());
    args.tcp.apply(&mut config.tcp);
    let keep_bodies = args.bodies || args.har.is_some();
    // After the input: a capture that cannot be read leaves an existing file alone, and a
    // live capture has dropped privileges (`--user`) before the file is created.
    let har = args.har.as_deref().map(Har::create).transpose()?;
    let options = TraceOptions {
        json: args.output.json,
        filters,
        all_headers: args.headers,
        show_headers: args.show_header.iter().map(|h| h.to_lowercase()).collect(),
        bodies: args.bodies.then_some(args.body_limit),
        body_cap: keep_bodies.then_some(args.body_limit),
        tcp_verbose: args.tcp_verbose,
        grpc_raw: args.grpc_raw,
        palette: Palette::new(&args.output),
        format,
    };
    let threads = parallel::threads(args.threads.threads.map(usize::from));
    // `-c N` counts transactions as they are shown, a HAR file is written as they come,
    // and `--exec` captures live: these keep to one thread.
    let one_thread =
        parallel::single_thread_reason(&input).is_some() || transactions.is_some() || har.is_some();
    if threads > 1 && !one_thread {
        return run_parallel(args, &mut input, threads, &config, &options);
    }
    let out = TraceOut::Stdout(Output::stdout(input.is_live()));
    let mut tracer = Tracer::new(out, options, har);
    if let Some(n) = transactions {
        tracer.limit(n, input.stop_flag());
    }
    // Sessions still open, or cut by a read error, are flushed: their transactions count.
    let mut analyzer = Analyzer::new(config);
    // The capture is open: the program starts now, and its exit stops the capture.
    let program = match &keylog {
        Some(k) => Some(Program::spawn(
            &args.command,
            k.path(),
            run_as,
            input.stopper(),
        )?),
        None => None,
    };
    let result = match analyzer.run(&mut input, &mut tracer) {
        // A HAR file that cannot be written ends the run as a read error does: sessions
        // are flushed and what was decoded is still printed.
        Err(RunError::Handler(e)) if tracer.har_failed() => {
            let _ = analyzer.finish(&mut tracer);
            Err(e)
        }
        Err(RunError::Handler(e)) => {
            if let Some(p) = program {
                let _ = p.wait(true);
            }
            return Err(e);
        }
        result => result.map_err(RunError::into_inner),
    };
    tracer.flush()?;
    warn_abandoned(analyzer.protocol_abandoned(), args);
    if let Some(warning) = tracer.defrag_warning() {
        eprintln!("{warning}");
    }
    if let Some(har) = tracer.take_har() {
        har.finish()?;
    }
    let mut counts = Counts::of(&analyzer, true);
    counts.transactions = Some(tracer.transactions());
    counts.tls = tracer.tls_sessions();
    input.finish(&counts);
    match (program, result) {
        // The capture ended before the program (Ctrl-C, an error): it is waited for, or
        // killed on an error, and an error of ours wins over its status.
        (Some(p), Err(e)) => {
            let _ = p.wait(true);
            Err(e)
        }
        (Some(p), Ok(())) => match p.wait(false)? {
            0 => Ok(()),
            code => Err(CliError::Exited(code)),
        },
        (None, result) => result,
    }
}

/// `http-trace` on several threads ([`parallel`]): the same output, then the closing lines
/// from every worker's counts.
fn run_parallel(
    args: &HttpTraceArgs,
    input: &mut Input,
    threads: usize,
    config: &AnalyzerConfig,
    options: &TraceOptions,
) -> Result<(), CliError> {
    let make = || Tracer::new(TraceOut::Stdout(Output::memory()), options.clone(), None);
    let ran = parallel::run(input, threads, config, make);
    if matches!(ran.result, Err(RunError::Handler(_))) {
        return ran.result.map_err(RunError::into_inner);
    }
    let mut shards = ran.shards.into_iter();
    let mut tracer = shards.next();
    if let Some(t) = tracer.as_mut() {
        for other in shards {
            t.add_counts(&other);
        }
    }
    warn_abandoned(ran.tally.protocol_abandoned, args);
    if let Some(warning) = tracer.as_ref().and_then(Tracer::defrag_warning) {
        eprintln!("{warning}");
    }
    let mut counts = ran.tally.counts;
    counts.transactions = Some(tracer.as_ref().map_or(0, Tracer::transactions));
    counts.tls = tracer.as_ref().map_or((0, 0), Tracer::tls_sessions);
    input.finish(&counts);
    ran.result.map_err(RunError::into_inner)
}

/// The warning for sessions whose HTTP decoding stopped on the memory budget, if any did.
fn warn_abandoned(abandoned: u64, args: &HttpTraceArgs) {
    if abandoned > 0 {
        eprintln!(
            "pcap-cli: warning: HTTP decoding of {abandoned} sessions stopped early: sessions \
             together held more than the {} MiB HTTP memory budget (--http-memory)",
            args.http_memory
        );
    }
}
