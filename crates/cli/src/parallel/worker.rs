//! One worker thread: its own analyzer (reassembler, defragmenter, protocol decoders) and
//! its own handler, fed the packets of its sessions, ticked by the others' segment times,
//! writing output cut into chunks tagged with the frame that caused them.

use std::ops::ControlFlow;
use std::sync::mpsc::{Receiver, SyncSender};

use pcap_analyzer::{Analyzer, AnalyzerConfig, DefragNotice, Handler, Http2Event, Stream};
use pcap_capture::{LinkType, Packet};
use pcap_decode::Decoded;
use pcap_http_ws::HttpEvent;
use pcap_tcp_reassembly::{Event, EventKind};
use pcap_tls::TlsEvent;

use super::session_id::{STARTED, push_marker};
use super::{Shard, Tally};
use crate::error::CliError;
use crate::summary::Counts;

/// Where a chunk of output goes in the merged output: chunks are written in key order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Key {
    /// Caused by frame `.0`.
    Frame(u64, Part),
    /// The end of the input: one session's flush, by the worker's session number (the
    /// merger orders them by the capture's).
    Finish(u64),
    /// [`Handler::finished`].
    Finished,
}

/// What part of a frame's output a chunk is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Part {
    /// A session that the frame's time made idle for too long, by the worker's session
    /// number: a single reassembler ends these, in session order, before it takes the
    /// segment.
    Swept(u64),
    /// The packet itself.
    Packet,
}

/// One packet or tick given to a worker.
#[derive(Debug, Clone, Copy)]
pub(super) enum Item {
    /// A packet of the worker's sessions; its bytes are `data[start..end]` of the batch.
    /// `segment`: a whole TCP segment, whose time moves the reassembler's clock.
    Packet {
        frame: u64,
        segment: bool,
        ts_ns: i64,
        orig_len: u32,
        link_type: LinkType,
        interface: u32,
        fcs_len: u8,
        start: usize,
        end: usize,
    },
    /// Another worker's TCP segment: only its time.
    Tick { frame: u64, ts_ns: i64 },
}

/// Consecutive frames for one worker.
#[derive(Debug, Default)]
pub(super) struct Batch {
    pub(super) items: Vec<Item>,
    pub(super) data: Vec<u8>,
    /// The time of the capture's first packet, in the batches that hold it.
    pub(super) capture_start: Option<i64>,
}

/// A worker's output for one batch (or for the end of the input): `out` cut into chunks,
/// each starting at an offset.
#[derive(Debug, Default)]
pub(super) struct Reply {
    pub(super) out: Vec<u8>,
    pub(super) chunks: Vec<(Key, usize)>,
    /// The end of the input: the last reply of this worker.
    pub(super) last: bool,
    /// The handler stopped the run.
    pub(super) error: Option<CliError>,
}

/// A worker's handler wrapped: marks session starts in the output, and cuts it into chunks.
pub(super) struct Cutter<H> {
    pub(super) inner: H,
    chunks: Vec<(Key, usize)>,
    mode: Mode,
}

/// What the analyzer is doing, which says where a session's output goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Taking a packet: its output is the frame's.
    Packet,
    /// Ending idle sessions at a frame's time: each session's output is a chunk.
    Sweep(u64),
    /// Ending every session at the end of the input: each session's output is a chunk.
    Finish,
}

impl<H: Shard> Cutter<H> {
    /// Output from here on belongs to `key`.
    fn cut(&mut self, key: Key) {
        let at = self.inner.output().len();
        match self.chunks.last_mut() {
            Some(last) if last.0 == key => {}
            Some(last) if last.1 == at => *last = (key, at),
            _ => self.chunks.push((key, at)),
        }
    }

    /// At the end of the input, output belongs to the session it is about.
    fn session(&mut self, id: u64) {
        match self.mode {
            Mode::Packet => {}
            Mode::Sweep(frame) => self.cut(Key::Frame(frame, Part::Swept(id))),
            Mode::Finish => self.cut(Key::Finish(id)),
        }
    }

    /// The output so far, as a reply; the handler goes on in `spare`, an emptied buffer the
    /// merger handed back (else a new one).
    fn reply(&mut self, last: bool, error: Option<CliError>, spare: Option<Vec<u8>>) -> Reply {
        let out = self.inner.output();
        let room = out.capacity();
        let spare = spare.unwrap_or_else(|| Vec::with_capacity(room));
        Reply {
            out: std::mem::replace(out, spare),
            chunks: std::mem::take(&mut self.chunks),
            last,
            error,
        }
    }
}

impl<H: Shard> Handler for Cutter<H> {
    type Error = CliError;

    fn packet(
        &mut self,
        frame: u64,
        packet: &Packet<'_>,
        d: &Decoded<'_>,
    ) -> ControlFlow<CliError> {
        self.inner.packet(frame, packet, d)
    }

    fn tcp(&mut self, event: &Event<'_>) -> ControlFlow<CliError> {
        self.session(event.session);
        if matches!(event.kind, EventKind::Start { .. }) {
            push_marker(self.inner.output(), STARTED, event.session, 0);
        }
        self.inner.tcp(event)
    }

    fn http(&mut self, stream: &Stream, event: &HttpEvent<'_>) -> ControlFlow<CliError> {
        self.session(stream.id);
        self.inner.http(stream, event)
    }

    fn tls(&mut self, stream: &Stream, event: &TlsEvent<'_>) -> ControlFlow<CliError> {
        self.session(stream.id);
        self.inner.tls(stream, event)
    }

    fn http2(&mut self, stream: &Stream, event: &Http2Event<'_>) -> ControlFlow<CliError> {
        self.session(stream.id);
        self.inner.http2(stream, event)
    }

    fn defrag(&mut self, notice: &DefragNotice) -> ControlFlow<CliError> {
        self.inner.defrag(notice)
    }

    fn packet_done(&mut self) -> ControlFlow<CliError> {
        self.inner.packet_done()
    }

    fn finished(&mut self) -> ControlFlow<CliError> {
        self.mode = Mode::Packet;
        self.cut(Key::Finished);
        self.inner.finished()
    }
}

/// Runs one worker to the end of its batches: returns its handler and counts, or `None`
/// when the run stopped early (the handler's error went to the merger, or the merger went
/// away).
/// A worker's channels. Batches and output buffers go round (reader to worker and back,
/// worker to merger and back) rather than being made anew: a batch's half megabyte,
/// allocated afresh, would be mapped and faulted in page by page every time.
pub(super) struct Lines {
    /// Batches from the reader.
    pub(super) batches: Receiver<Batch>,
    /// Replies to the merger.
    pub(super) replies: SyncSender<Reply>,
    /// Batches done with, back to the reader.
    pub(super) spent_batches: SyncSender<Batch>,
    /// Output buffers written out, back from the merger.
    pub(super) spent_out: Receiver<Vec<u8>>,
}

pub(super) fn work<H: Shard>(
    config: AnalyzerConfig,
    handler: H,
    lines: Lines,
) -> Option<(H, Tally)> {
    let Lines {
        batches,
        replies,
        spent_batches,
        spent_out,
    } = lines;
    super::session_id::mark_worker_thread();
    let reassembled = config.reassemble;
    let mut analyzer = Analyzer::new(config);
    let mut cutter = Cutter {
        inner: handler,
        chunks: Vec::new(),
        mode: Mode::Packet,
    };
    while let Ok(batch) = batches.recv() {
        let mut stopped = None;
        if let Some(ts_ns) = batch.capture_start {
            cutter.inner.capture_start(ts_ns);
        }
        for item in &batch.items {
            let step = match *item {
                Item::Packet {
                    frame,
                    segment,
                    ts_ns,
                    orig_len,
                    link_type,
                    interface,
                    fcs_len,
                    start,
                    end,
                } => {
                    // Sessions the segment's time makes idle end first, each a chunk of
                    // its own; the segment's own tick in the reassembler then does nothing.
                    if segment {
                        cutter.mode = Mode::Sweep(frame);
                        let swept = analyzer.tick_before(frame, ts_ns, &mut cutter);
                        cutter.mode = Mode::Packet;
                        if let ControlFlow::Break(e) = swept {
                            stopped = Some(e);
                            break;
                        }
                    }
                    cutter.cut(Key::Frame(frame, Part::Packet));
                    let data = batch.data.get(start..end).unwrap_or_default();
                    let packet = Packet {
                        ts_ns,
                        caplen: u32::try_from(data.len()).unwrap_or(u32::MAX),
                        orig_len,
                        link_type,
                        interface,
                        fcs_len,
                        data,
                    };
                    analyzer.push_frame(frame, &packet, &mut cutter)
                }
                Item::Tick { frame, ts_ns } => sweep(&mut analyzer, &mut cutter, frame, ts_ns),
            };
            if let ControlFlow::Break(e) = step {
                stopped = Some(e);
                break;
            }
        }
        // The reader may have gone (its input ended): the batch is then dropped.
        let _ = spent_batches.try_send(batch);
        let stop = stopped.is_some();
        let reply = cutter.reply(false, stopped, spent_out.try_recv().ok());
        if replies.send(reply).is_err() || stop {
            return None;
        }
    }
    // The reader is done: flush every session, each session's output a chunk of its own.
    cutter.mode = Mode::Finish;
    let mut error = None;
    if let ControlFlow::Break(e) = analyzer.finish(&mut cutter) {
        error = Some(e);
    } else if let ControlFlow::Break(e) = cutter.finished() {
        error = Some(e);
    }
    let stop = error.is_some();
    if replies.send(cutter.reply(true, error, None)).is_err() || stop {
        return None;
    }
    let tally = Tally {
        counts: Counts::of(&analyzer, reassembled),
        protocol_abandoned: analyzer.protocol_abandoned(),
    };
    Some((cutter.inner, tally))
}

/// Moves the analyzer's clock to `ts_ns`, the time of frame `frame`'s TCP segment.
fn sweep<H: Shard>(
    analyzer: &mut Analyzer<Cutter<H>>,
    cutter: &mut Cutter<H>,
    frame: u64,
    ts_ns: i64,
) -> ControlFlow<CliError> {
    cutter.mode = Mode::Sweep(frame);
    let step = analyzer.tick(ts_ns, cutter);
    cutter.mode = Mode::Packet;
    step
}
