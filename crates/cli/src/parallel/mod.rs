//! `--threads N`: one capture analysed on several cores, with the output of one thread.
//!
//! ```text
//!  reading thread (the caller's)       N workers                         merging thread
//!  Input ─▶ decode, route by flow ─┬─▶ Analyzer + handler ─ chunks ─┬─▶ chunks in frame order,
//!           (route.rs)             ├─▶ Analyzer + handler ─ chunks ─┤   session numbers put in
//!                                  └─▶ ...                          ┘   (merge.rs) ─▶ stdout
//! ```
//!
//! The reading thread decodes each packet to find its session ([`route`]) and copies it
//! into that worker's batch; every other worker gets the packet's time if it is a TCP
//! segment, so that every reassembler's clock (idle timeouts, the end-of-input time) is
//! the one a single reassembler would have. Each worker owns an [`Analyzer`] and a handler
//! that writes to memory; its output is cut into chunks tagged with the frame that caused
//! them ([`worker::Key`]). The merging thread writes the chunks in frame order, the
//! sessions flushed at the end of the input in session order, and turns the workers' own
//! session numbers into the capture's ([`SessionId`]). Channels hold a few batches per
//! worker, so memory stays bounded whatever the capture's size.
//!
//! Limits are split: each worker gets `1/N` of the session table, of the reassembly and
//! protocol memory budgets and of the defragmenter's caps, so the total is what the user
//! set. A capture that reaches a cap can therefore differ from a single-threaded run
//! (sessions evicted or abandoned at other moments); so can one whose sessions time out
//! (several sessions ending in one sweep come out in worker order, not table order).
//!
//! A subcommand plugs in by implementing [`Shard`] for its handler (the output buffer
//! and `Send`), writing session numbers with [`SessionId`], and calling [`run`] where it
//! called `Analyzer::run`; see docs/architecture.md.

mod merge;
mod route;
mod session_id;
mod worker;

use std::num::NonZeroUsize;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use pcap_analyzer::{AnalyzerConfig, Handler, RunError};
use pcap_decode::{Decoded, decode_packet_into};

pub(crate) use session_id::SessionId;
use worker::{Batch, Item, Reply};

use crate::error::CliError;
use crate::input::Input;
use crate::output::Output;
use crate::summary::Counts;

/// Frames per batch: enough to make a channel send rare next to the work of a packet.
const BATCH_FRAMES: usize = 512;
/// Packet bytes per batch, so that batches of large packets stay small.
const BATCH_BYTES: usize = 512 << 10;
/// Batches queued per worker, each way.
const QUEUE: usize = 4;

/// A handler that can run as one of several workers.
pub(crate) trait Shard: Handler<Error = CliError> + Send + 'static {
    /// The buffer its output goes to (never written to standard output: the merging thread
    /// takes it after each batch).
    fn output(&mut self) -> &mut Vec<u8>;

    /// The time of the capture's first packet, told before any packet reaches the handler
    /// (whichever worker that packet goes to): for handlers that count time from it, as
    /// `stats` does its I/O rows, so that every worker's rows line up.
    fn capture_start(&mut self, _ts_ns: i64) {}
}

/// What a worker counted, summed over workers for the closing line.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Tally {
    /// Sessions, gaps, decode errors.
    pub(crate) counts: Counts,
    /// Sessions whose protocol decoding stopped on the memory budget.
    pub(crate) protocol_abandoned: u64,
}

impl Tally {
    fn add(&mut self, other: &Tally) {
        self.counts.add(&other.counts);
        self.protocol_abandoned = self
            .protocol_abandoned
            .saturating_add(other.protocol_abandoned);
    }
}

/// A run over: every worker's handler (for what it counted), the sums, and how it ended.
pub(crate) struct Ran<H> {
    /// The workers' handlers, in worker order (empty when a handler stopped the run).
    pub(crate) shards: Vec<H>,
    /// Counts summed over workers.
    pub(crate) tally: Tally,
    /// As [`pcap_analyzer::Analyzer::run`] ends.
    pub(crate) result: Result<(), RunError<CliError, CliError>>,
}

/// The number of worker threads for `--threads`: the cores when not given. One means
/// today's single-threaded path.
pub(crate) fn threads(requested: Option<usize>) -> usize {
    requested.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, NonZeroUsize::get))
}

/// Why a run must stay on one thread, if it must: live captures (a batch would hold lines
/// back until it fills) and options whose output depends on the order of writing.
pub(crate) fn single_thread_reason(input: &Input) -> Option<&'static str> {
    if input.is_live() {
        return Some("live capture");
    }
    crate::output::order_dependent_time().then_some("-t relative or delta")
}

/// `config` for one of `workers` workers: the caps divided, so that together they are
/// what the user set.
fn split(config: &AnalyzerConfig, workers: usize) -> AnalyzerConfig {
    let mut c = config.clone();
    let n = workers.max(1);
    c.tcp.max_sessions = (c.tcp.max_sessions / n).max(1);
    c.tcp.max_buffered_total = (c.tcp.max_buffered_total / n).max(1);
    c.protocol_memory = (c.protocol_memory / n).max(1);
    c.defrag.max_datagrams = (c.defrag.max_datagrams / n).max(1);
    c.defrag.max_buffered_bytes = (c.defrag.max_buffered_bytes / n).max(1);
    c
}

/// Reads `input` to its end with `workers` workers (at least 2), each with an analyzer set
/// up by `config` (caps divided) and a handler from `make`, writing their output to
/// standard output in the order of a single-threaded run.
pub(crate) fn run<H: Shard>(
    input: &mut Input,
    workers: usize,
    config: &AnalyzerConfig,
    make: impl Fn() -> H,
) -> Ran<H> {
    let workers = workers.max(2);
    let shard_config = split(config, workers);
    let ticks = config.reassemble;
    std::thread::scope(|scope| {
        let mut to_workers = Vec::with_capacity(workers);
        let mut spent_batches = Vec::with_capacity(workers);
        let mut from_workers = Vec::with_capacity(workers);
        let mut spent_out = Vec::with_capacity(workers);
        let mut handles = Vec::with_capacity(workers);
        for _ in 0..workers {
            let (batch_tx, batches) = sync_channel::<Batch>(QUEUE);
            let (replies, reply_rx) = sync_channel::<Reply>(QUEUE);
            let (spent_batch_tx, spent_batch_rx) = sync_channel::<Batch>(QUEUE);
            let (spent_out_tx, spent_out_rx) = sync_channel::<Vec<u8>>(QUEUE);
            let lines = worker::Lines {
                batches,
                replies,
                spent_batches: spent_batch_tx,
                spent_out: spent_out_rx,
            };
            let (c, h) = (shard_config.clone(), make());
            handles.push(scope.spawn(move || worker::work(c, h, lines)));
            to_workers.push(batch_tx);
            spent_batches.push(spent_batch_rx);
            from_workers.push(reply_rx);
            spent_out.push(spent_out_tx);
        }
        let merger = scope.spawn(move || {
            let mut out = Output::stdout(false);
            merge::merge(&from_workers, &spent_out, &mut out).and_then(|()| out.flush())
        });
        let read = read(input, &to_workers, &spent_batches, ticks);
        drop(to_workers);
        let mut shards = Vec::with_capacity(workers);
        let mut tally = Tally::default();
        for handle in handles {
            if let Ok(Some((h, t))) = handle.join() {
                shards.push(h);
                tally.add(&t);
            }
        }
        let merged = merger
            .join()
            .unwrap_or_else(|_| Err(CliError::Output(std::io::Error::other("merger panicked"))));
        let result = match (merged, read) {
            (Err(e), _) => Err(RunError::Handler(e)),
            (Ok(()), Err(e)) => Err(RunError::Source(e)),
            (Ok(()), Ok(())) => Ok(()),
        };
        if result.is_err() && !matches!(result, Err(RunError::Source(_))) {
            shards.clear();
        }
        Ran {
            shards,
            tally,
            result,
        }
    })
}

/// The reading thread: packets into per-worker batches, each batch covering the same
/// frames for every worker. Ends at the end of the input, on a read error, or when the
/// workers went away (a handler stopped the run).
fn read(
    input: &mut Input,
    workers: &[SyncSender<Batch>],
    spent: &[Receiver<Batch>],
    ticks: bool,
) -> Result<(), CliError> {
    let mut batches: Vec<Batch> = workers.iter().map(|_| Batch::default()).collect();
    let mut frame = 0u64;
    let mut in_batch = 0usize;
    let mut bytes = 0usize;
    loop {
        let packet = match input.next_packet() {
            Ok(Some(p)) => p,
            Ok(None) => break,
            Err(e) => {
                let _ = send(workers, spent, &mut batches);
                return Err(e);
            }
        };
        frame += 1;
        if frame == 1 {
            for batch in &mut batches {
                batch.capture_start = Some(packet.ts_ns);
            }
        }
        // Decoded where it stays, as the analyzer does: returning the struct copies it.
        let mut decoded = Decoded::default();
        decode_packet_into(&mut decoded, packet.link_type, packet.data);
        let route = route::route(&decoded, workers.len());
        for (i, batch) in batches.iter_mut().enumerate() {
            if i == route.worker {
                let start = batch.data.len();
                batch.data.extend_from_slice(packet.data);
                batch.items.push(Item::Packet {
                    frame,
                    segment: ticks && route.segment,
                    ts_ns: packet.ts_ns,
                    orig_len: packet.orig_len,
                    link_type: packet.link_type,
                    interface: packet.interface,
                    fcs_len: packet.fcs_len,
                    start,
                    end: batch.data.len(),
                });
            } else if ticks && route.segment {
                batch.items.push(Item::Tick {
                    frame,
                    ts_ns: packet.ts_ns,
                });
            }
        }
        in_batch += 1;
        bytes += packet.data.len();
        if in_batch >= BATCH_FRAMES || bytes >= BATCH_BYTES {
            if send(workers, spent, &mut batches).is_err() {
                return Ok(());
            }
            in_batch = 0;
            bytes = 0;
        }
    }
    let _ = send(workers, spent, &mut batches);
    Ok(())
}

/// Sends every worker its batch (empty or not: the merger takes one reply per worker and
/// batch), going on in a batch the worker handed back, else a new one. `Err`: a worker
/// went away.
fn send(
    workers: &[SyncSender<Batch>],
    spent: &[Receiver<Batch>],
    batches: &mut [Batch],
) -> Result<(), ()> {
    for ((tx, spent), batch) in workers.iter().zip(spent).zip(batches.iter_mut()) {
        let next = match spent.try_recv() {
            Ok(mut b) => {
                b.items.clear();
                b.data.clear();
                b.capture_start = None;
                b
            }
            Err(_) => Batch {
                items: Vec::with_capacity(batch.items.capacity()),
                data: Vec::with_capacity(batch.data.capacity()),
                capture_start: None,
            },
        };
        tx.send(std::mem::replace(batch, next)).map_err(|_| ())?;
    }
    Ok(())
}
