//! The HTTP trace both `http-trace` and `serve` print: a [`Handler`] that pairs each
//! session's requests and responses with [`pcap_http_ws::TransactionCollector`] and writes
//! transactions, WebSocket messages and TCP events as text or JSON lines, to standard
//! output or to the web view's feed.

mod filters;
mod json;
mod sink;
mod text;

use std::collections::HashMap;
use std::ops::ControlFlow;
use std::sync::mpsc::SyncSender;

use pcap_analyzer::{DefragNotice, Handler, Stream};
use pcap_capture::Packet;
use pcap_decode::Decoded;
use pcap_http_ws::{
    Direction, HeadBuffers, HttpEvent, RequestView, ResponseView, TransactionCollector,
    TransactionView, WsControlKind, WsPayload,
};
use pcap_tcp_reassembly::{Event, EventKind, Overlap, RstIgnoredReason};

pub(crate) use filters::Filters;
use sink::Kind;
pub(crate) use sink::TraceOut;

use crate::color::Palette;
use crate::defrag::{self, DefragTally};
use crate::error::{CliError, flow};
use crate::har::Har;
use crate::serve::FeedItem;

/// What the trace shows, and how.
#[derive(Debug)]
pub(crate) struct TraceOptions {
    /// JSON lines instead of text.
    pub(crate) json: bool,
    /// Which transactions are shown.
    pub(crate) filters: Filters,
    /// Every header of shown transactions (text).
    pub(crate) all_headers: bool,
    /// Headers shown by name, lowercase (text).
    pub(crate) show_headers: Vec<String>,
    /// Body bytes shown per body (text).
    pub(crate) bodies: Option<usize>,
    /// Body bytes kept per body (for `bodies` or a HAR file).
    pub(crate) body_cap: Option<usize>,
    /// TCP events and HTTP errors too.
    pub(crate) tcp_verbose: bool,
    /// Colours.
    pub(crate) palette: Palette,
}

/// Session states by session number (a lookup per HTTP event: foldhash, not SipHash).
/// Made on a session's first HTTP event: half-open sessions (a SYN flood) cost nothing
/// here, and TCP events carry their own endpoints.
type Streams = HashMap<u64, Box<StreamState>, foldhash::fast::RandomState>;

/// Per TCP session with HTTP: its requests waiting for their records, and whether its
/// WebSocket upgrade was shown.
#[derive(Debug)]
struct StreamState {
    collector: TransactionCollector,
    /// The 101 upgrade passed the filters, so the session's WebSocket messages are shown.
    ws_shown: bool,
}

/// A transaction's heads, read once from its [`TransactionView`].
#[derive(Debug, Clone, Copy)]
struct Heads<'a> {
    request: Option<RequestView<'a>>,
    response: Option<ResponseView<'a>>,
}

/// The [`Handler`] that prints (or feeds the web view).
pub(crate) struct Tracer {
    streams: Streams,
    /// Head buffers of finished transactions, shared by every session's collector.
    buffers: HeadBuffers,
    printer: Printer,
    /// IP datagrams lost to fragment limits, for the warning at the end.
    defrag: DefragTally,
}

/// The output side of a [`Tracer`].
struct Printer {
    out: TraceOut,
    /// Also report every packet (the web view's packet list).
    packets: bool,
    /// Add a `body_preview` of this many bytes to transactions (the web view).
    preview: Option<usize>,
    palette: Palette,
    json: bool,
    filters: Filters,
    all_headers: bool,
    show_headers: Vec<String>,
    bodies: Option<usize>,
    body_cap: Option<usize>,
    tcp_verbose: bool,
    har: Option<Har>,
    /// The run stopped because the HAR file could not be written.
    har_failed: bool,
    line: String,
}

impl Handler for Tracer {
    type Error = CliError;

    fn packet(
        &mut self,
        frame: u64,
        packet: &Packet<'_>,
        decoded: &Decoded<'_>,
    ) -> ControlFlow<CliError> {
        let p = &mut self.printer;
        if p.packets {
            json::write_packet(p.out.buffer(), &mut p.line, frame, packet, decoded);
            p.out.done(Kind::Packet);
        }
        ControlFlow::Continue(())
    }

    fn tcp(&mut self, event: &Event<'_>) -> ControlFlow<CliError> {
        if self.printer.tcp_verbose {
            self.printer.tcp_event(event);
        }
        if event.kind.ended().is_some() {
            if let Some(state) = self.streams.remove(&event.session) {
                state.collector.recycle(&mut self.buffers);
            }
        }
        ControlFlow::Continue(())
    }

    fn http(&mut self, stream: &Stream, event: &HttpEvent<'_>) -> ControlFlow<CliError> {
        self.on_http(stream, event);
        ControlFlow::Continue(())
    }

    /// Counts a defragmentation notice, and shows it with `--tcp-verbose`.
    fn defrag(&mut self, notice: &DefragNotice) -> ControlFlow<CliError> {
        self.defrag.note(notice);
        let p = &mut self.printer;
        if p.tcp_verbose {
            if let Some(d) = defrag::describe(notice) {
                if p.json {
                    json::write_defrag(p.out.buffer(), &d);
                    p.out.done(Kind::Tcp);
                } else {
                    p.defrag_text(&d);
                }
            }
        }
        ControlFlow::Continue(())
    }

    /// Writes standard output out when due; stops on a HAR file that cannot be written.
    fn packet_done(&mut self) -> ControlFlow<CliError> {
        let p = &mut self.printer;
        flow(p.out.packet_done())?;
        match p.har.as_mut().map(Har::check) {
            Some(Err(e)) => {
                p.har_failed = true;
                ControlFlow::Break(e)
            }
            _ => ControlFlow::Continue(()),
        }
    }
}

impl Tracer {
    /// A tracer writing to `out`, and each transaction with a request to `har`.
    pub(crate) fn new(out: TraceOut, options: TraceOptions, har: Option<Har>) -> Tracer {
        let TraceOptions {
            json,
            filters,
            all_headers,
            show_headers,
            bodies,
            body_cap,
            tcp_verbose,
            palette,
        } = options;
        Tracer {
            streams: Streams::default(),
            buffers: HeadBuffers::new(),
            defrag: DefragTally::default(),
            printer: Printer {
                out,
                packets: false,
                preview: None,
                palette,
                json,
                filters,
                all_headers,
                show_headers,
                bodies,
                body_cap,
                tcp_verbose,
                har,
                har_failed: false,
                line: String::new(),
            },
        }
    }

    /// The web view's tracer: every packet (with its summary line), every transaction (with
    /// a body preview), WebSocket message and TCP event, as JSON items sent to `tx`.
    pub(crate) fn for_feed(tx: SyncSender<FeedItem>) -> Tracer {
        /// Body bytes kept for the page's preview pane.
        const PREVIEW: usize = 1024;
        let options = TraceOptions {
            json: true,
            filters: Filters::default(),
            all_headers: false,
            show_headers: Vec::new(),
            bodies: None,
            body_cap: Some(PREVIEW),
            tcp_verbose: true,
            palette: Palette::plain(),
        };
        let out = TraceOut::Feed {
            buf: Vec::new(),
            tx,
        };
        let mut tracer = Tracer::new(out, options, None);
        tracer.printer.packets = true;
        tracer.printer.preview = Some(PREVIEW);
        tracer
    }

    /// The end-of-run warning about IP datagrams lost to fragment limits, if any were.
    pub(crate) fn defrag_warning(&self) -> Option<String> {
        self.defrag.warning()
    }

    /// The run stopped because the HAR file could not be written.
    pub(crate) fn har_failed(&self) -> bool {
        self.printer.har_failed
    }

    /// Writes what standard output still holds.
    pub(crate) fn flush(&mut self) -> Result<(), CliError> {
        self.printer.out.flush()
    }

    /// The HAR file, to finish once the run is over.
    pub(crate) fn take_har(&mut self) -> Option<Har> {
        self.printer.har.take()
    }

    fn on_http(&mut self, stream: &Stream, event: &HttpEvent<'_>) {
        let p = &mut self.printer;
        // Body chunks (the most frequent event) and the other events neither the collector
        // nor the output uses: no session lookup for them.
        let used = match event {
            HttpEvent::Body { .. } => p.body_cap.is_some(),
            HttpEvent::Error(_) => p.tcp_verbose && !p.json,
            HttpEvent::Request(_)
            | HttpEvent::Response(_)
            | HttpEvent::Transaction(_)
            | HttpEvent::WsMessage(_)
            | HttpEvent::WsControl(_) => true,
            _ => false,
        };
        if !used {
            return;
        }
        let body_cap = p.body_cap;
        let state = self.streams.entry(stream.id).or_insert_with(|| {
            Box::new(StreamState {
                collector: TransactionCollector::new(body_cap),
                ws_shown: false,
            })
        });
        let StreamState {
            collector,
            ws_shown,
        } = &mut **state;
        if p.json && p.body_cap.is_none() {
            // JSON lines alone: each head is rendered once, as it arrives.
            let mut render = json::JsonHeads {
                filters: &p.filters,
            };
            collector.push_rendered(event, &mut self.buffers, &mut render, |tx| {
                let shown = match json::rendered_request_passed(&tx) {
                    Some(passed) => passed,
                    None => p.filters.matches(None),
                };
                if shown {
                    json::write_transaction_rendered(p.out.buffer(), stream, tx);
                    p.out.done(Kind::Http);
                    *ws_shown |=
                        tx.record().status == Some(101) && tx.response_rendered().is_some();
                }
            });
        } else {
            collector.push_with(event, &mut self.buffers, |tx| {
                let request = tx.request();
                if p.filters.matches(request) {
                    let heads = Heads {
                        request,
                        response: tx.response(),
                    };
                    p.transaction(stream, tx, heads);
                    *ws_shown |= heads.response.is_some_and(|r| r.status == 101);
                }
            });
        }
        let ws_shown = *ws_shown;
        match event {
            HttpEvent::WsMessage(m) if ws_shown => {
                let (opcode, len, text) = match m.payload {
                    WsPayload::Text(t) => ("text", t.len(), Some(t.as_bytes())),
                    WsPayload::Binary(b) => ("binary", b.len(), None),
                };
                p.websocket(stream, m.ts_ns, m.dir, opcode, len, text);
            }
            HttpEvent::WsControl(c) if ws_shown => {
                let (opcode, data): (&str, &[u8]) = match c.kind {
                    WsControlKind::Ping(d) => ("ping", d),
                    WsControlKind::Pong(d) => ("pong", d),
                    WsControlKind::Close { reason, .. } => ("close", reason.as_bytes()),
                    _ => return,
                };
                p.websocket(stream, c.ts_ns, c.dir, opcode, data.len(), None);
            }
            HttpEvent::Error(e) if p.tcp_verbose && !p.json => p.error_text(stream, e),
            _ => {}
        }
    }
}

impl Printer {
    /// A shown transaction: to the HAR file, and as a line.
    fn transaction(&mut self, stream: &Stream, tx: TransactionView<'_>, heads: Heads<'_>) {
        if let Some(har) = self.har.as_mut() {
            har.add(stream, &tx.into());
        }
        if self.json {
            json::write_transaction(self.out.buffer(), stream, tx, heads, self.preview);
            self.out.done(Kind::Http);
        } else {
            self.transaction_text(stream, tx, heads);
        }
    }

    fn websocket(
        &mut self,
        stream: &Stream,
        ts: i64,
        dir: Direction,
        opcode: &str,
        len: usize,
        text: Option<&[u8]>,
    ) {
        if self.json {
            json::write_websocket(self.out.buffer(), stream, ts, dir, opcode, len, text);
            self.out.done(Kind::WebSocket);
        } else {
            self.websocket_text(stream, ts, dir, opcode, len, text);
        }
    }

    /// One `--tcp-verbose` line or object; sessions closed only by the end of the input or
    /// by a cap are not reported as ended.
    fn tcp_event(&mut self, event: &Event<'_>) {
        let (name, dir, detail) = match event.kind {
            EventKind::Start { .. } => ("start", None, String::new()),
            EventKind::End { .. } => ("end", None, String::new()),
            EventKind::Reset { by, .. } => {
                let who = match by {
                    Direction::ClientToServer => "by client",
                    Direction::ServerToClient => "by server",
                };
                ("reset", Some(by), who.to_owned())
            }
            EventKind::SynRetry { dir } => ("syn_retry", Some(dir), String::new()),
            EventKind::Retransmission {
                dir, len, overlap, ..
            } => {
                let note = if overlap == Overlap::Different {
                    ", different bytes"
                } else {
                    ""
                };
                ("retransmit", Some(dir), format!("{len} bytes{note}"))
            }
            EventKind::OutOfOrder { dir, len, .. } => {
                ("out_of_order", Some(dir), format!("{len} bytes"))
            }
            EventKind::Gap { dir, len, .. } => ("gap", Some(dir), format!("{len} bytes lost")),
            EventKind::RstIgnored { dir, reason } => {
                let why = match reason {
                    RstIgnoredReason::SynNotAcked => "does not acknowledge the SYN",
                    RstIgnoredReason::OutOfWindow => "sequence number out of the window",
                    RstIgnoredReason::InWindow => "in the window, not at the next byte",
                    _ => "not acceptable",
                };
                ("rst_ignored", Some(dir), format!("{why}, session goes on"))
            }
            EventKind::OverlapConflict {
                dir,
                offset,
                len,
                replaced,
            } => {
                let kept = if replaced { "new" } else { "old" };
                let detail = format!("{len} bytes at offset {offset} differ, {kept} kept");
                ("overlap", Some(dir), detail)
            }
            _ => return,
        };
        let stream = Stream::new(event.session, event.client, event.server);
        if self.json {
            json::write_tcp(self.out.buffer(), event, &stream, name, dir);
            self.out.done(Kind::Tcp);
        } else {
            self.tcp_text(event.ts_ns, &stream, name, dir, &detail);
        }
    }
}
