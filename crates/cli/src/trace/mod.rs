//! The HTTP trace both `http-trace` and `serve` print: a [`Handler`] that pairs each
//! session's requests and responses with [`pcap_http_ws::TransactionCollector`] and writes
//! transactions, WebSocket messages and TCP events as text or JSON lines, to standard
//! output or to the web view's feed.

mod filters;
mod format;
mod grpc;
mod json;
mod sink;
mod text;

use std::collections::HashMap;
use std::ops::ControlFlow;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::SyncSender;

use pcap_analyzer::{DefragNotice, Handler, Http2Event, Stream};
use pcap_capture::Packet;
use pcap_decode::Decoded;
use pcap_http_ws::{
    BadHead, Direction, HeadBuffers, HttpEvent, RequestView, ResponseView, TransactionCollector,
    TransactionView, WsControlKind, WsPayload,
};
use pcap_tcp_reassembly::{Event, EventKind, Overlap, RstIgnoredReason};
use pcap_tls::{TlsEvent, TlsSummary};

pub(crate) use filters::{Filters, parse_duration, parse_status};
pub(crate) use format::Format;
use sink::Kind;
pub(crate) use sink::TraceOut;

use crate::color::Palette;
use crate::defrag::{self, DefragTally};
use crate::error::{CliError, flow};
use crate::har::Har;
use crate::render::escape::Escaped;
use crate::serve::FeedItem;

/// What the trace shows, and how.
#[derive(Debug, Clone)]
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
    /// gRPC messages' protobuf fields, without a schema.
    pub(crate) grpc_raw: bool,
    /// Colours.
    pub(crate) palette: Palette,
    /// `--format`: one line of these fields per transaction instead of the usual text.
    pub(crate) format: Option<Format>,
}

/// Session states by session number (a lookup per HTTP event: foldhash, not SipHash).
/// Made on a session's first HTTP event: half-open sessions (a SYN flood) cost nothing
/// here, and TCP events carry their own endpoints.
type Streams = HashMap<u64, Box<StreamState>, foldhash::fast::RandomState>;

/// Per TCP session with HTTP: its requests waiting for their records, and whether its
/// WebSocket upgrade was shown; for HTTP/2, one collector per stream open.
#[derive(Debug)]
struct StreamState {
    collector: TransactionCollector,
    /// The 101 upgrade passed the filters, so the session's WebSocket messages are shown.
    ws_shown: bool,
    /// HTTP/2 streams' collectors, by stream: made on a stream's first event, dropped with
    /// its record (HTTP/2 never reuses a stream).
    h2: H2Collectors,
    /// Pushed HTTP/2 streams (PUSH_PROMISE) and the stream each was pushed for, until
    /// their record.
    pushed: HashMap<u32, u32, foldhash::fast::RandomState>,
    /// Heads that could not be parsed, until the transaction that lacks them is shown.
    unparsed: Unparsed,
    /// HTTP/2 streams carrying WebSocket (RFC 8441), from their `WsUpgrade` to their end:
    /// `None` until their record, then whether it was shown (a 2xx), so their messages are.
    h2_ws: HashMap<u32, Option<bool>, foldhash::fast::RandomState>,
}

/// The last request and response heads of a session that could not be parsed, as they
/// were on the wire (escaped, one line) with the reason: shown in place of a missing
/// request or response, rather than "(request not seen)".
#[derive(Debug, Default, Clone)]
pub(crate) struct Unparsed {
    pub(crate) request: Option<BadLine>,
    pub(crate) response: Option<BadLine>,
}

/// One unparsed head: its first line, escaped for a terminal (cut lines end with `...`),
/// and why it could not be parsed.
#[derive(Debug, Clone)]
pub(crate) struct BadLine {
    pub(crate) line: String,
    pub(crate) reason: String,
}

impl Unparsed {
    fn note(&mut self, bad: &BadHead<'_>) {
        let mut line = Escaped::plain(bad.line).to_string();
        if bad.cut {
            line.push_str("...");
        }
        let b = BadLine {
            line,
            reason: bad.error.to_string(),
        };
        match bad.dir {
            Direction::ClientToServer => self.request = Some(b),
            Direction::ServerToClient => self.response = Some(b),
        }
    }

    /// What a transaction missing its request (`request`) or final response shows.
    fn take_for(&mut self, request: bool, response: bool) -> Unparsed {
        Unparsed {
            request: if request { None } else { self.request.take() },
            response: if response { None } else { self.response.take() },
        }
    }
}

/// HTTP/2 streams' collectors of one session.
type H2Collectors = HashMap<u32, TransactionCollector, foldhash::fast::RandomState>;

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
    /// Transactions decoded, shown or not, for the closing line.
    transactions: u64,
    /// TLS sessions seen and decrypted, for the closing line.
    tls: (u64, u64),
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
    grpc_raw: bool,
    /// The HTTP/2 stream whose transaction is being written was pushed for this stream.
    pushed_by: Option<u32>,
    har: Option<Har>,
    /// The run stopped because the HAR file could not be written.
    har_failed: bool,
    /// `-c N`: transactions still to show, and the flag that then ends reading.
    limit: Option<(u64, Arc<AtomicBool>)>,
    /// `--format`.
    format: Option<Format>,
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
                let StreamState { collector, h2, .. } = *state;
                collector.recycle(&mut self.buffers);
                for c in h2.into_values() {
                    c.recycle(&mut self.buffers);
                }
            }
        }
        ControlFlow::Continue(())
    }

    fn http(&mut self, stream: &Stream, event: &HttpEvent<'_>) -> ControlFlow<CliError> {
        if let HttpEvent::Transaction(_) = event {
            self.transactions += 1;
        }
        self.on_http(stream, event);
        ControlFlow::Continue(())
    }

    /// A TLS session's summary: a line for a session that could not be decrypted (or
    /// for every one with `--tcp-verbose`), a `tls` object for every one in JSON.
    fn tls(&mut self, stream: &Stream, event: &TlsEvent<'_>) -> ControlFlow<CliError> {
        if let TlsEvent::Summary(summary) = event {
            self.tls.0 += 1;
            self.tls.1 += u64::from(summary.decrypted);
            self.printer.tls_summary(stream, summary);
        }
        ControlFlow::Continue(())
    }

    /// gRPC messages and status; RST_STREAM, GOAWAY and HTTP/2 errors with `--tcp-verbose`.
    fn http2(&mut self, stream: &Stream, event: &Http2Event<'_>) -> ControlFlow<CliError> {
        if let Http2Event::PushPromise {
            stream: parent,
            promised,
            ..
        } = event
        {
            if let Some(state) = self.streams.get_mut(&stream.id) {
                state.pushed.insert(*promised, *parent);
            }
        }
        if let Http2Event::StreamEnd { stream: n, .. } = event {
            if let Some(state) = self.streams.get_mut(&stream.id) {
                state.h2_ws.remove(n);
            }
        }
        self.printer.http2(stream, event);
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
            grpc_raw,
            palette,
            format,
        } = options;
        Tracer {
            streams: Streams::default(),
            buffers: HeadBuffers::new(),
            defrag: DefragTally::default(),
            transactions: 0,
            tls: (0, 0),
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
                grpc_raw,
                pushed_by: None,
                har,
                har_failed: false,
                limit: None,
                format,
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
            grpc_raw: false,
            palette: Palette::plain(),
            format: None,
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

    /// Adds what another worker's tracer counted (transactions, TLS sessions, fragment
    /// notices) to this one's, for the closing lines of a `--threads` run.
    pub(crate) fn add_counts(&mut self, other: &Tracer) {
        self.transactions = self.transactions.saturating_add(other.transactions);
        self.tls.0 = self.tls.0.saturating_add(other.tls.0);
        self.tls.1 = self.tls.1.saturating_add(other.tls.1);
        self.defrag.add(&other.defrag);
    }

    /// Transactions decoded so far, whether the filters showed them or not.
    pub(crate) fn transactions(&self) -> u64 {
        self.transactions
    }

    /// TLS sessions seen so far, and how many were decrypted.
    pub(crate) fn tls_sessions(&self) -> (u64, u64) {
        self.tls
    }

    /// Shows at most `n` transactions, then sets `stop` (the input's flag, which ends
    /// reading before the next packet).
    pub(crate) fn limit(&mut self, n: u64, stop: Arc<AtomicBool>) {
        if n == 0 {
            stop.store(true, Ordering::Relaxed);
        }
        self.printer.limit = Some((n, stop));
    }

    /// The run stopped because the HAR file could not be written.
    pub(crate) fn har_failed(&self) -> bool {
        self.printer.har_failed
    }

    /// Writes what standard output still holds.
    pub(crate) fn flush(&mut self) -> Result<(), CliError> {
        self.printer.out.flush()
    }

    /// The lines written so far and not yet taken, for a tracer writing to
    /// `TraceOut::Stdout(Output::memory())` (`export`).
    #[cfg_attr(not(feature = "parquet"), allow(dead_code))]
    pub(crate) fn lines(&mut self) -> &mut Vec<u8> {
        self.printer.out.buffer()
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
            | HttpEvent::BadHead(_)
            | HttpEvent::Transaction(_)
            | HttpEvent::WsMessage(_)
            | HttpEvent::WsControl(_) => true,
            HttpEvent::WsUpgrade(_) => stream.h2_stream.is_some(),
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
                h2: H2Collectors::default(),
                pushed: HashMap::default(),
                unparsed: Unparsed::default(),
                h2_ws: HashMap::default(),
            })
        });
        let StreamState {
            collector,
            ws_shown,
            h2,
            pushed,
            unparsed,
            h2_ws,
        } = &mut **state;
        if let HttpEvent::BadHead(bad) = event {
            unparsed.note(bad);
            return;
        }
        // An HTTP/2 stream's WebSocket: its upgrade comes before its record, which says
        // whether it is shown (a shown 2xx), its messages after; no collector for those.
        let mut h2_upgrade = None;
        if let Some(n) = stream.h2_stream {
            match (event, h2_ws.get(&n)) {
                (HttpEvent::WsUpgrade(_), _) => {
                    h2_ws.insert(n, None);
                    return;
                }
                (HttpEvent::WsMessage(_) | HttpEvent::WsControl(_), Some(Some(true))) => {
                    p.ws_event(stream, event);
                    return;
                }
                (HttpEvent::WsMessage(_) | HttpEvent::WsControl(_), _) => return,
                (_, Some(Some(_))) => {
                    if let HttpEvent::Error(e) = event {
                        if p.tcp_verbose && !p.json {
                            p.error_text(stream, e);
                        }
                    }
                    return;
                }
                (_, Some(None)) => h2_upgrade = Some((n, false)),
                (_, None) => {}
            }
        }
        let pushed_by = stream.h2_stream.and_then(|n| pushed.get(&n).copied());
        p.pushed_by = pushed_by;
        let collector = match stream.h2_stream {
            Some(n) => h2
                .entry(n)
                .or_insert_with(|| TransactionCollector::new(body_cap)),
            None => collector,
        };
        if p.json && p.body_cap.is_none() {
            // JSON lines alone: each head is rendered once, as it arrives.
            let mut render = json::JsonHeads {
                filters: &p.filters,
            };
            collector.push_rendered(event, &mut self.buffers, &mut render, |tx| {
                let shown = match json::rendered_request_passed(&tx) {
                    Some(passed) => passed,
                    None => p.filters.matches(None),
                } && p.filters.matches_record(tx.record());
                if shown && take_one(&mut p.limit) {
                    let bad = unparsed.take_for(
                        tx.request_rendered().is_some(),
                        tx.response_rendered().is_some(),
                    );
                    json::write_transaction_rendered(p.out.buffer(), stream, tx, pushed_by, &bad);
                    p.out.done(Kind::Http);
                    *ws_shown |=
                        tx.record().status == Some(101) && tx.response_rendered().is_some();
                    upgrade_shown(&mut h2_upgrade, tx.record().status);
                }
            });
        } else {
            collector.push_with(event, &mut self.buffers, |tx| {
                let request = tx.request();
                if p.filters.matches(request)
                    && p.filters.matches_record(tx.record())
                    && take_one(&mut p.limit)
                {
                    let heads = Heads {
                        request,
                        response: tx.response(),
                    };
                    let bad = unparsed.take_for(request.is_some(), heads.response.is_some());
                    p.transaction(stream, tx, heads, &bad);
                    *ws_shown |= heads.response.is_some_and(|r| r.status == 101);
                    upgrade_shown(&mut h2_upgrade, tx.record().status);
                }
            });
        }
        if let (Some(n), HttpEvent::Transaction(_)) = (stream.h2_stream, event) {
            if let Some(c) = h2.remove(&n) {
                c.recycle(&mut self.buffers);
            }
            pushed.remove(&n);
        }
        if let (Some((n, shown)), HttpEvent::Transaction(_)) = (h2_upgrade, event) {
            h2_ws.insert(n, Some(shown));
        }
        if *ws_shown && stream.h2_stream.is_none() {
            p.ws_event(stream, event);
        }
        if let HttpEvent::Error(e) = event {
            if p.tcp_verbose && !p.json {
                p.error_text(stream, e);
            }
        }
    }
}

/// A shown record of an HTTP/2 WebSocket stream: a 2xx shows its messages.
fn upgrade_shown(upgrade: &mut Option<(u32, bool)>, status: Option<u16>) {
    if let Some((_, shown)) = upgrade.as_mut() {
        *shown = status.is_some_and(|s| (200..300).contains(&s));
    }
}

impl Printer {
    /// A WebSocket message or control frame of a session (or HTTP/2 stream) whose upgrade
    /// was shown; other events are not.
    fn ws_event(&mut self, stream: &Stream, event: &HttpEvent<'_>) {
        match event {
            HttpEvent::WsMessage(m) => {
                let (opcode, len, text) = match m.payload {
                    WsPayload::Text(t) => ("text", t.len(), Some(t.as_bytes())),
                    WsPayload::Binary(b) => ("binary", b.len(), None),
                };
                self.websocket(stream, m.ts_ns, m.dir, opcode, len, text);
            }
            HttpEvent::WsControl(c) => {
                // `len` is the payload: a close frame's status code counts (2 bytes).
                let (opcode, len) = match c.kind {
                    WsControlKind::Ping(d) => ("ping", d.len()),
                    WsControlKind::Pong(d) => ("pong", d.len()),
                    WsControlKind::Close { code, reason } => {
                        ("close", reason.len() + if code.is_some() { 2 } else { 0 })
                    }
                    _ => return,
                };
                self.websocket(stream, c.ts_ns, c.dir, opcode, len, None);
            }
            _ => {}
        }
    }

    /// A shown transaction: to the HAR file, and as a line.
    fn transaction(
        &mut self,
        stream: &Stream,
        tx: TransactionView<'_>,
        heads: Heads<'_>,
        bad: &Unparsed,
    ) {
        if let Some(har) = self.har.as_mut() {
            har.add(stream, &tx.into());
        }
        if self.json {
            let pushed_by = self.pushed_by;
            json::write_transaction(
                self.out.buffer(),
                stream,
                tx,
                heads,
                self.preview,
                pushed_by,
                bad,
            );
            self.out.done(Kind::Http);
        } else if let Some(format) = &self.format {
            let l = &mut self.line;
            l.clear();
            format.write(l, stream, &tx, &heads);
            self.out.buffer().extend_from_slice(l.as_bytes());
        } else {
            self.transaction_text(stream, tx, heads, bad);
        }
    }

    fn tls_summary(&mut self, stream: &Stream, summary: &TlsSummary) {
        if !self.filters.matches_tls(summary.sni.as_deref()) {
            return;
        }
        if self.json {
            json::write_tls(self.out.buffer(), stream, summary);
            self.out.done(Kind::Tls);
        } else if self.tcp_verbose || (!summary.decrypted && self.format.is_none()) {
            self.tls_text(stream, summary);
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
        } else if self.format.is_none() {
            // `--format` lines are transactions alone.
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
            EventKind::Gap { dir, len, .. } => {
                ("gap", Some(dir), format!("{len} bytes not captured"))
            }
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

/// A worker of `--threads`: writes to memory (a [`TraceOut::Stdout`] of
/// [`Output::memory`](crate::output::Output::memory)).
impl crate::parallel::Shard for Tracer {
    fn output(&mut self) -> &mut Vec<u8> {
        self.printer.out.buffer()
    }
}

/// Whether one more transaction may be shown under `-c N` (`limit`); the last one allowed
/// ends reading.
fn take_one(limit: &mut Option<(u64, Arc<AtomicBool>)>) -> bool {
    let Some((left, stop)) = limit else {
        return true;
    };
    if *left == 0 {
        return false;
    }
    *left -= 1;
    if *left == 0 {
        stop.store(true, Ordering::Relaxed);
    }
    true
}
