//! `serve`: the capture runs on its own thread and feeds the web view (see [`crate::serve`])
//! with the same JSON objects as `capture --json` and `http-trace --json --tcp-verbose`.

use std::sync::mpsc::{SyncSender, sync_channel};
use std::time::Duration;

use pcap_analyzer::{Analyzer, AnalyzerConfig, PacketSource, RunError};
use pcap_capture::Packet;
use pcap_http_ws::HttpConfig;

use crate::args::ServeArgs;
use crate::error::CliError;
use crate::input::Input;
use crate::serve::{self, FeedItem, Pacer, ServeConfig};
use crate::summary::Counts;
use crate::trace::Tracer;

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
    let stats = serve::run(config, rx, |_, url| {
        eprintln!("pcap-cli: serving on {url} (open this address; Ctrl-C to stop)");
    })
    .map_err(|e| CliError::Serve(e.to_string()))?;
    if stats.cut > 0 {
        eprintln!(
            "pcap-cli: {} item{} over {} KiB of JSON {} shown with long values cut \
             (each ends with \"…[N bytes cut]\" on the page)",
            stats.cut,
            if stats.cut == 1 { "" } else { "s" },
            serve::DEFAULT_MAX_ITEM_BYTES >> 10,
            if stats.cut == 1 { "was" } else { "were" },
        );
    }
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
    let mut config = AnalyzerConfig::with_http(http);
    config.tls = Some(input.tls_config());
    config.keys = Some(input.keys());
    let mut analyzer = Analyzer::new(config);
    let mut tracer = Tracer::for_feed(tx.clone());
    let mut source = Feed {
        input: &mut input,
        tx,
        pacer: pace.then(|| Pacer::new().max_gap(MAX_REPLAY_GAP)),
        packets: 0,
        bytes: 0,
    };
    let result = analyzer.run(&mut source, &mut tracer);
    let (packets, bytes) = (source.packets, source.bytes);
    let drops = input.kernel_drops();
    let _ = tx.send(FeedItem::Stats {
        packets,
        bytes,
        drops,
    });
    let _ = tx.send(FeedItem::End);
    let mut counts = Counts::of(&analyzer, true);
    counts.transactions = Some(tracer.transactions());
    counts.tls = tracer.tls_sessions();
    input.finish(&counts);
    let result = result.map_err(RunError::into_inner);
    if let Err(e) = &result {
        eprintln!("pcap-cli: {e}");
    }
    result
}

/// The input as the web view reads it: paced at capture speed on a replay, counted, with
/// the counters sent to the page every [`STATS_EVERY`] packets.
struct Feed<'a> {
    input: &'a mut Input,
    tx: &'a SyncSender<FeedItem>,
    pacer: Option<Pacer>,
    packets: u64,
    bytes: u64,
}

impl PacketSource for Feed<'_> {
    type Error = CliError;

    /// The next packet; the end once the web view has gone (Ctrl-C).
    fn next_packet(&mut self) -> Result<Option<Packet<'_>>, CliError> {
        if self.packets > 0 && self.packets % STATS_EVERY == 0 {
            let drops = self.input.kernel_drops();
            let stats = FeedItem::Stats {
                packets: self.packets,
                bytes: self.bytes,
                drops,
            };
            if self.tx.send(stats).is_err() {
                return Ok(None);
            }
        }
        let Some(packet) = self.input.next_packet()? else {
            return Ok(None);
        };
        if let Some(pacer) = &mut self.pacer {
            pacer.wait_until(packet.ts_ns);
        }
        self.packets += 1;
        self.bytes += u64::from(packet.orig_len);
        Ok(Some(packet))
    }
}
