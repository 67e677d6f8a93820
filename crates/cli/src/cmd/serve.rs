//! `serve`: the capture runs on its own thread and feeds the web view (see [`crate::serve`])
//! with the same JSON objects as `capture --json` and `http-trace --json --tcp-verbose`.

use std::sync::mpsc::{SyncSender, sync_channel};
use std::time::Duration;

use pcap_http_ws::HttpConfig;
use pcap_http_ws::pipeline::{Analyzer, AnalyzerConfig};

use crate::args::ServeArgs;
use crate::cmd::http_trace::Tracer;
use crate::error::CliError;
use crate::input::Input;
use crate::serve::{self, FeedItem, Pacer, ServeConfig};

/// Items in flight between the capture thread and the server's fan-out.
const FEED_CAPACITY: usize = 65_536;
/// Counters are sent to the page every this many packets.
const STATS_EVERY: u64 = 256;
/// A replay at capture speed skips silences longer than this.
const MAX_REPLAY_GAP: Duration = Duration::from_secs(5);

/// Runs `serve` until Ctrl-C.
pub fn run(args: &ServeArgs) -> Result<(), CliError> {
    let input = Input::open(&args.source, None)?;
    let (tx, rx) = sync_channel(FEED_CAPACITY);
    let pace = !args.fast && !input.is_live();
    let capture = std::thread::spawn(move || feed(input, &tx, pace));
    let config = ServeConfig {
        listen: args.listen,
        ..ServeConfig::default()
    };
    serve::run(config, rx, |addr| {
        eprintln!("pcap-cli: serving on http://{addr}/ (Ctrl-C to stop)");
    })
    .map_err(|e| CliError::Serve(e.to_string()))?;
    // A capture that failed (a damaged file) has said so on stderr already; its error also
    // sets the exit code. A live capture still running ends with the process.
    if capture.is_finished() {
        if let Ok(result) = capture.join() {
            return result;
        }
    }
    Ok(())
}

/// Reads every packet through the analyzer into the feed, then the final counters and `End`.
fn feed(mut input: Input, tx: &SyncSender<FeedItem>, pace: bool) -> Result<(), CliError> {
    let http = HttpConfig::default().with_decode_content(true);
    let mut analyzer = Analyzer::new(AnalyzerConfig::with_http(http));
    let mut tracer = Tracer::for_feed(tx.clone());
    let mut pacer = Pacer::new().max_gap(MAX_REPLAY_GAP);
    let (mut packets, mut bytes) = (0u64, 0u64);
    let result = loop {
        match input.next_packet() {
            Ok(Some(packet)) => {
                if pace {
                    pacer.wait_until(packet.ts_ns);
                }
                packets += 1;
                bytes += u64::from(packet.orig_len);
                analyzer.push(&packet, &mut tracer);
            }
            Ok(None) => break Ok(()),
            Err(e) => break Err(e),
        }
        if packets % STATS_EVERY == 0 {
            let drops = input.kernel_drops();
            if tx
                .send(FeedItem::Stats {
                    packets,
                    bytes,
                    drops,
                })
                .is_err()
            {
                break Ok(());
            }
        }
    };
    analyzer.finish(&mut tracer);
    let drops = input.kernel_drops();
    let _ = tx.send(FeedItem::Stats {
        packets,
        bytes,
        drops,
    });
    let _ = tx.send(FeedItem::End);
    if let Err(e) = &result {
        eprintln!("pcap-cli: {e}");
    }
    result
}
