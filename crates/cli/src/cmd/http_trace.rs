//! `http-trace`: HTTP transactions and WebSocket messages distilled from TCP sessions, with
//! node_pcap's filters and options, `--json` lines and a HAR file.

use std::collections::{HashMap, VecDeque};
use std::fmt::Write as _;
use std::ops::ControlFlow;
use std::sync::mpsc::SyncSender;

use pcap_analyzer::{Analyzer, AnalyzerConfig, Handler, RunError, Stream};
use pcap_capture::Packet;
use pcap_decode::Decoded;
use pcap_http_ws::{
    Direction, HttpConfig, HttpEvent, RequestHead, ResponseHead, Transaction, TransactionCollector,
    TransactionRecord, WsControlKind, WsPayload,
};
use pcap_tcp_reassembly::{Event, EventKind, Overlap};
use regex::Regex;

use crate::args::HttpTraceArgs;
use crate::color::{Color, Palette};
use crate::error::{CliError, flow};
use crate::har::Har;
use crate::input::Input;
use crate::output::{Output, write_time};
use crate::render::json::{self, Arr, Obj, push_bytes_str, push_ts};
use crate::render::write_summary;
use crate::serve::FeedItem;

/// Longest WebSocket text shown on one human-readable line.
const WS_TEXT_SHOWN: usize = 200;

/// Runs `http-trace`.
pub fn run(args: &HttpTraceArgs) -> Result<(), CliError> {
    let filters = Filters::new(args)?;
    // Live default as node_pcap's http_trace, VLAN-tagged TCP included.
    let mut input = Input::open(&args.source, Some("tcp or (vlan and tcp)"))?;
    // body_len in the output is after content decoding, as Wireshark shows it.
    let http = HttpConfig::default().with_decode_content(true);
    let mut config = AnalyzerConfig::with_http(http);
    config.protocol_memory = args.http_memory.saturating_mul(1 << 20);
    let keep_bodies = args.bodies || args.har.is_some();
    // After the input: a capture that cannot be read leaves an existing file alone, and a
    // live capture has dropped privileges (`--user`) before the file is created.
    let har = args.har.as_deref().map(Har::create).transpose()?;
    let mut tracer = Tracer {
        out: TraceOut::Stdout(Output::stdout(input.is_live())),
        packets: false,
        preview: None,
        palette: Palette::new(&args.output),
        json: args.output.json,
        filters,
        all_headers: args.headers,
        show_headers: args.show_header.iter().map(|h| h.to_lowercase()).collect(),
        bodies: args.bodies.then_some(args.body_limit),
        body_cap: keep_bodies.then_some(args.body_limit),
        tcp_verbose: args.tcp_verbose,
        streams: Streams::default(),
        har,
        har_failed: false,
        line: String::new(),
        lean: args.output.json && !keep_bodies,
        spare: Vec::new(),
    };
    // Sessions still open, or cut by a read error, are flushed: their transactions count.
    let mut analyzer = Analyzer::new(config);
    let result = match analyzer.run(&mut input, &mut tracer) {
        // A HAR file that cannot be written ends the run as a read error does: sessions
        // are flushed and what was decoded is still printed.
        Err(RunError::Handler(e)) if tracer.har_failed => {
            let _ = analyzer.finish(&mut tracer);
            Err(e)
        }
        Err(RunError::Handler(e)) => return Err(e),
        result => result.map_err(RunError::into_inner),
    };
    tracer.out.flush()?;
    let abandoned = analyzer.protocol_abandoned();
    if abandoned > 0 {
        eprintln!(
            "pcap-cli: warning: HTTP decoding of {abandoned} sessions stopped early: sessions \
             together held more than the {} MiB HTTP memory budget (--http-memory)",
            args.http_memory
        );
    }
    if let Some(har) = tracer.har.take() {
        har.finish()?;
    }
    input.report_stats();
    result
}

/// The regex filters: a transaction is shown when every "only" filter matches and no
/// "ignore" filter does. A missing field (no request seen) fails an "only" filter.
#[derive(Debug, Default)]
struct Filters {
    method: (Option<Regex>, Option<Regex>),
    host: (Option<Regex>, Option<Regex>),
    url: (Option<Regex>, Option<Regex>),
    user_agent: (Option<Regex>, Option<Regex>),
}

impl Filters {
    fn new(a: &HttpTraceArgs) -> Result<Filters, CliError> {
        let compile = |option: &'static str, re: &Option<String>| {
            re.as_deref()
                .map(Regex::new)
                .transpose()
                .map_err(|e| CliError::Regex {
                    option,
                    pattern: re.clone().unwrap_or_default(),
                    source: Box::new(e),
                })
        };
        Ok(Filters {
            method: (
                compile("--method", &a.method)?,
                compile("--method-ignore", &a.method_ignore)?,
            ),
            host: (
                compile("--host", &a.host)?,
                compile("--host-ignore", &a.host_ignore)?,
            ),
            url: (
                compile("--url", &a.url)?,
                compile("--url-ignore", &a.url_ignore)?,
            ),
            user_agent: (
                compile("--user-agent", &a.user_agent)?,
                compile("--user-agent-ignore", &a.user_agent_ignore)?,
            ),
        })
    }

    fn matches(&self, tx: &Transaction) -> bool {
        self.matches_fields(
            tx.method.as_deref(),
            tx.host.as_deref(),
            tx.uri.as_deref(),
            tx.user_agent.as_deref(),
        )
    }

    /// True when no filter is set: nothing to evaluate.
    fn is_empty(&self) -> bool {
        [&self.method, &self.host, &self.url, &self.user_agent]
            .iter()
            .all(|f| f.0.is_none() && f.1.is_none())
    }

    /// A request's fields against the filters (all `None`: no request was seen).
    fn matches_fields(
        &self,
        method: Option<&str>,
        host: Option<&str>,
        uri: Option<&str>,
        user_agent: Option<&str>,
    ) -> bool {
        fn one(f: &(Option<Regex>, Option<Regex>), v: Option<&str>) -> bool {
            let only = match (&f.0, v) {
                (Some(re), Some(v)) => re.is_match(v),
                (Some(_), None) => false,
                (None, _) => true,
            };
            let ignored = matches!((&f.1, v), (Some(re), Some(v)) if re.is_match(v));
            only && !ignored
        }
        one(&self.method, method)
            && one(&self.host, host)
            && one(&self.url, uri)
            && one(&self.user_agent, user_agent)
    }
}

/// Where the trace goes: standard output, or the `serve` web view's feed (one item per
/// JSON object).
pub(crate) enum TraceOut {
    /// Lines (human or JSON) to standard output.
    Stdout(Output),
    /// JSON objects to the web view.
    Feed {
        /// The object being written.
        buf: Vec<u8>,
        /// The web view's feed.
        tx: SyncSender<FeedItem>,
    },
}

/// The kind of object just written, for the web view.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Kind {
    Packet,
    Http,
    WebSocket,
    Tcp,
}

impl TraceOut {
    fn buffer(&mut self) -> &mut Vec<u8> {
        match self {
            TraceOut::Stdout(out) => out.buffer(),
            TraceOut::Feed { buf, .. } => buf,
        }
    }

    /// Call after each object or line written to the buffer.
    fn done(&mut self, kind: Kind) {
        let TraceOut::Feed { buf, tx } = self else {
            return;
        };
        let text = String::from_utf8_lossy(buf.trim_ascii_end()).into_owned();
        buf.clear();
        let item = match kind {
            Kind::Packet => FeedItem::Packet(text),
            Kind::Http => FeedItem::Http(text),
            Kind::WebSocket => FeedItem::WebSocket(text),
            Kind::Tcp => FeedItem::Tcp(text),
        };
        // The web view has gone (Ctrl-C): the process is ending.
        let _ = tx.send(item);
    }

    /// Call after each packet: writes standard output out when due.
    pub(crate) fn packet_done(&mut self) -> Result<(), CliError> {
        match self {
            TraceOut::Stdout(out) => out.packet_done(),
            TraceOut::Feed { .. } => Ok(()),
        }
    }

    /// Writes what standard output still holds.
    pub(crate) fn flush(&mut self) -> Result<(), CliError> {
        match self {
            TraceOut::Stdout(out) => out.flush(),
            TraceOut::Feed { .. } => Ok(()),
        }
    }
}

/// Session states by session number (a lookup per HTTP event: foldhash, not SipHash).
/// Made on a session's first HTTP event: half-open sessions (a SYN flood) cost nothing
/// here, and TCP events carry their own endpoints.
type Streams = HashMap<u64, Box<StreamState>, foldhash::fast::RandomState>;

/// Per TCP session with HTTP: its pending transactions, and whether its WebSocket upgrade
/// was shown.
#[derive(Debug)]
struct StreamState {
    pending: Pending,
    /// The 101 upgrade passed the filters, so the session's WebSocket messages are shown.
    ws_shown: bool,
}

/// A session's transactions waiting for their records.
#[derive(Debug)]
enum Pending {
    /// The lean `--json` path: heads rendered as they arrive.
    Lean(LeanTx),
    /// Every other output: owned transactions.
    Owned(Box<TransactionCollector>),
}

/// The [`Handler`] that prints (or feeds the web view).
pub(crate) struct Tracer {
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
    streams: Streams,
    har: Option<Har>,
    /// The run stopped because the HAR file could not be written.
    har_failed: bool,
    line: String,
    /// `--json` without bodies or HAR: transactions are rendered from the events (see
    /// [`LeanTx`]) instead of through owned [`Transaction`]s.
    lean: bool,
    /// Rendering buffers given back by finished transactions, for the next ones.
    spare: Vec<Vec<u8>>,
}

impl Handler for Tracer {
    type Error = CliError;

    fn packet(
        &mut self,
        frame: u64,
        packet: &Packet<'_>,
        decoded: &Decoded<'_>,
    ) -> ControlFlow<CliError> {
        self.on_packet(frame, packet, decoded);
        ControlFlow::Continue(())
    }

    fn tcp(&mut self, event: &Event<'_>) -> ControlFlow<CliError> {
        self.on_tcp(event);
        ControlFlow::Continue(())
    }

    fn http(&mut self, stream: &Stream, event: &HttpEvent<'_>) -> ControlFlow<CliError> {
        self.on_http(stream, event);
        ControlFlow::Continue(())
    }

    /// Writes standard output out when due; stops on a HAR file that cannot be written.
    fn packet_done(&mut self) -> ControlFlow<CliError> {
        flow(self.out.packet_done())?;
        match self.har.as_mut().map(Har::check) {
            Some(Err(e)) => {
                self.har_failed = true;
                ControlFlow::Break(e)
            }
            _ => ControlFlow::Continue(()),
        }
    }
}

impl Tracer {
    fn on_packet(&mut self, frame: u64, packet: &Packet<'_>, decoded: &Decoded<'_>) {
        if !self.packets {
            return;
        }
        self.line.clear();
        // Writing into a String cannot fail.
        let _ = write_summary(&mut self.line, decoded);
        let summary = &self.line;
        json::write_json_with(self.out.buffer(), frame, packet, decoded, |o| {
            o.str("summary", summary);
        });
        self.out.done(Kind::Packet);
    }

    fn on_tcp(&mut self, event: &Event<'_>) {
        if self.tcp_verbose {
            self.tcp_event(event);
        }
        if event.kind.ended().is_some() {
            if let Some(state) = self.streams.remove(&event.session) {
                if let Pending::Lean(lean) = state.pending {
                    lean.recycle(&mut self.spare);
                }
            }
        }
    }

    fn on_http(&mut self, stream: &Stream, event: &HttpEvent<'_>) {
        // Body chunks (the most frequent event) and the other events neither the collector
        // nor the output uses: no session lookup for them.
        let used = match event {
            HttpEvent::Body { .. } => self.body_cap.is_some(),
            HttpEvent::Error(_) => self.tcp_verbose && !self.json,
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
        let (body_cap, lean) = (self.body_cap, self.lean);
        let state = self.streams.entry(stream.id).or_insert_with(|| {
            Box::new(StreamState {
                pending: if lean {
                    Pending::Lean(LeanTx::default())
                } else {
                    Pending::Owned(Box::new(TransactionCollector::new(body_cap)))
                },
                ws_shown: false,
            })
        });
        let mut done = Vec::new();
        match (&mut state.pending, event) {
            (Pending::Lean(lean), HttpEvent::Request(r)) => {
                lean.request(r, &self.filters, &mut self.spare);
            }
            (Pending::Lean(lean), HttpEvent::Response(r)) if !r.interim => {
                lean.response(r, &mut self.spare);
            }
            (Pending::Lean(lean), HttpEvent::Transaction(rec)) => {
                let shown = lean.finish(
                    rec,
                    stream,
                    &self.filters,
                    self.out.buffer(),
                    &mut self.spare,
                );
                if shown != Shown::No {
                    self.out.done(Kind::Http);
                }
                if shown == Shown::Upgrade {
                    state.ws_shown = true;
                }
            }
            (Pending::Owned(collector), _) => {
                collector.push(event);
                if let HttpEvent::Transaction(_) = event {
                    done = collector.take();
                    done.retain(|tx| self.filters.matches(tx));
                    state.ws_shown |= done.iter().any(|tx| tx.status == Some(101));
                }
            }
            _ => {}
        }
        let ws_shown = state.ws_shown;
        for tx in done {
            self.transaction(stream, &tx);
        }
        match event {
            HttpEvent::WsMessage(m) if ws_shown => {
                let (opcode, len, text) = match m.payload {
                    WsPayload::Text(t) => ("text", t.len(), Some(t.as_bytes())),
                    WsPayload::Binary(b) => ("binary", b.len(), None),
                };
                self.websocket(stream, m.ts_ns, m.dir, opcode, len, text);
            }
            HttpEvent::WsControl(c) if ws_shown => {
                let (opcode, data): (&str, &[u8]) = match c.kind {
                    WsControlKind::Ping(d) => ("ping", d),
                    WsControlKind::Pong(d) => ("pong", d),
                    WsControlKind::Close { reason, .. } => ("close", reason.as_bytes()),
                    _ => return,
                };
                self.websocket(stream, c.ts_ns, c.dir, opcode, data.len(), None);
            }
            HttpEvent::Error(e) if self.tcp_verbose && !self.json => {
                self.line.clear();
                write_time(&mut self.line, e.ts_ns);
                let _ = writeln!(
                    self.line,
                    " {} {}",
                    self.flow(stream, e.dir),
                    self.palette
                        .paint(Color::Red, format_args!("http error: {e}"))
                );
                self.out.buffer().extend_from_slice(self.line.as_bytes());
            }
            _ => {}
        }
    }

    /// The web view's tracer: every packet (with its summary line), every transaction (with
    /// a body preview), WebSocket message and TCP event, as JSON items sent to `tx`.
    pub(crate) fn for_feed(tx: SyncSender<FeedItem>) -> Tracer {
        /// Body bytes kept for the page's preview pane.
        const PREVIEW: usize = 1024;
        Tracer {
            out: TraceOut::Feed {
                buf: Vec::new(),
                tx,
            },
            packets: true,
            preview: Some(PREVIEW),
            palette: Palette::plain(),
            json: true,
            filters: Filters::default(),
            all_headers: false,
            show_headers: Vec::new(),
            bodies: None,
            body_cap: Some(PREVIEW),
            tcp_verbose: true,
            streams: Streams::default(),
            har: None,
            har_failed: false,
            line: String::new(),
            lean: false,
            spare: Vec::new(),
        }
    }

    /// `client -> server [stream N]`, arrows following the direction.
    fn flow(&self, stream: &Stream, dir: Direction) -> String {
        let (a, b) = match dir {
            Direction::ClientToServer => (stream.client, stream.server),
            Direction::ServerToClient => (stream.server, stream.client),
        };
        format!(
            "{} -> {} {}",
            self.palette.paint(Color::Cyan, a),
            self.palette.paint(Color::Cyan, b),
            self.palette
                .paint(Color::Dim, format_args!("[stream {}]", stream.id))
        )
    }

    fn transaction(&mut self, stream: &Stream, tx: &Transaction) {
        if let Some(har) = self.har.as_mut() {
            har.add(stream, tx);
        }
        if self.json {
            let preview = self.preview;
            write_transaction_json(self.out.buffer(), stream, tx, preview);
            self.out.done(Kind::Http);
            return;
        }
        let rec = &tx.record;
        let ts = rec
            .request_start_ns
            .or(rec.response_start_ns)
            .unwrap_or_default();
        let mut l = std::mem::take(&mut self.line);
        l.clear();
        write_time(&mut l, ts);
        let _ = writeln!(l, " {}", self.flow(stream, Direction::ClientToServer));
        let method = tx.method.as_deref().unwrap_or("(request not seen)");
        let target = match (&tx.host, &tx.uri) {
            (Some(h), Some(u)) if u.starts_with('/') => format!("{h}{u}"),
            (_, Some(u)) => u.clone(),
            _ => String::new(),
        };
        let _ = write!(
            l,
            "  {} {}",
            self.palette.paint(Color::Bold, method),
            target
        );
        match rec.status {
            Some(status) => {
                let color = match status {
                    200..=299 | 101 => Color::Green,
                    300..=399 => Color::Yellow,
                    _ => Color::Red,
                };
                let reason = tx.reason.as_deref().unwrap_or("");
                let _ = write!(
                    l,
                    " -> {}",
                    self.palette.paint(color, format_args!("{status} {reason}"))
                );
                let size = rec.response_decoded_len.unwrap_or(rec.response_body_len);
                let _ = write!(l, " (");
                if let (Some(start), Some(end)) = (rec.request_start_ns, rec.response_end_ns) {
                    let _ = write!(l, "{}, ", Millis(end.saturating_sub(start)));
                }
                let _ = write!(l, "{})", Bytes(size));
            }
            None => {
                let _ = write!(l, " -> {}", self.palette.paint(Color::Red, "(no response)"));
            }
        }
        if !rec.complete {
            let _ = write!(l, " {}", self.palette.paint(Color::Yellow, "[incomplete]"));
        }
        l.push('\n');
        self.headers(&mut l, '>', &tx.request_headers);
        self.headers(&mut l, '<', &tx.response_headers);
        if let Some(limit) = self.bodies {
            if let Some(b) = tx.request_body.as_deref().filter(|b| !b.is_empty()) {
                write_body(&mut l, "request body", b, limit, tx.body_truncated);
            }
            if let Some(b) = tx.response_body.as_deref().filter(|b| !b.is_empty()) {
                write_body(&mut l, "response body", b, limit, tx.body_truncated);
            }
        }
        self.out.buffer().extend_from_slice(l.as_bytes());
        self.line = l;
    }

    fn headers(&self, l: &mut String, mark: char, headers: &[(String, Vec<u8>)]) {
        for (name, value) in headers {
            if self.all_headers || self.show_headers.contains(&name.to_lowercase()) {
                let _ = writeln!(
                    l,
                    "    {mark} {}: {}",
                    self.palette.paint(Color::Dim, name),
                    value.escape_ascii()
                );
            }
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
            let out = self.out.buffer();
            let mut o = Obj::new(out);
            o.str("type", "websocket");
            o.u64("stream", stream.id);
            o.socket_addr("client", stream.client);
            o.socket_addr("server", stream.server);
            push_ts(o.key("ts"), ts);
            o.str("dir", dir.as_str());
            o.str("opcode", opcode);
            o.u64("len", len as u64);
            if let Some(t) = text {
                o.bytes_str("text", t);
            }
            o.end();
            out.push(b'\n');
            self.out.done(Kind::WebSocket);
            return;
        }
        let mut l = std::mem::take(&mut self.line);
        l.clear();
        write_time(&mut l, ts);
        let _ = write!(
            l,
            " {} ws {} {}",
            self.flow(stream, dir),
            self.palette.paint(Color::Bold, opcode),
            Bytes(len as u64)
        );
        if let Some(t) = text {
            let shown = t.get(..WS_TEXT_SHOWN).unwrap_or(t);
            let more = if shown.len() < t.len() { "..." } else { "" };
            let _ = write!(l, ": \"{}\"{more}", shown.escape_ascii());
        }
        l.push('\n');
        self.out.buffer().extend_from_slice(l.as_bytes());
        self.line = l;
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
            _ => return,
        };
        let stream = Stream {
            id: event.session,
            client: event.client,
            server: event.server,
        };
        self.write_tcp(event, &stream, name, dir, &detail);
    }

    fn write_tcp(
        &mut self,
        event: &Event<'_>,
        stream: &Stream,
        name: &str,
        dir: Option<Direction>,
        detail: &str,
    ) {
        if self.json {
            let out = self.out.buffer();
            let mut o = Obj::new(out);
            o.str("type", "tcp");
            o.u64("stream", stream.id);
            o.socket_addr("client", stream.client);
            o.socket_addr("server", stream.server);
            push_ts(o.key("ts"), event.ts_ns);
            o.str("event", name);
            if let Some(d) = dir {
                o.str("dir", d.as_str());
            }
            o.end();
            out.push(b'\n');
            self.out.done(Kind::Tcp);
            return;
        }
        let mut l = std::mem::take(&mut self.line);
        l.clear();
        write_time(&mut l, event.ts_ns);
        let color = if name == "reset" {
            Color::Red
        } else {
            Color::Yellow
        };
        let _ = write!(
            l,
            " {} tcp {}",
            self.flow(stream, dir.unwrap_or(Direction::ClientToServer)),
            self.palette.paint(color, name),
        );
        if !detail.is_empty() {
            let _ = write!(l, " {detail}");
        }
        l.push('\n');
        self.out.buffer().extend_from_slice(l.as_bytes());
        self.line = l;
    }
}

/// Whether [`LeanTx::finish`] wrote the transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shown {
    No,
    Yes,
    /// Written, and its final response was a 101: the session's WebSocket is shown.
    Upgrade,
}

/// A request head rendered as the members of its JSON object (`{"method":…,"headers":[…]`,
/// without the `ts` written first or the closing members), waiting for its record.
#[derive(Debug)]
struct LeanRequest {
    index: u64,
    /// Passed the filters (which only look at request fields).
    shown: bool,
    members: Vec<u8>,
}

/// The final response head: `{"reason":…,"headers":[…]`, plus what goes before it.
#[derive(Debug)]
struct LeanResponse {
    status: u16,
    version: u8,
    members: Vec<u8>,
}

/// The `--json` path without bodies: what [`write_transaction_json`] prints, rendered from
/// the heads as they arrive into reused buffers, and completed by the transaction record.
/// It pairs requests and records exactly as [`TransactionCollector`] does (by request
/// index; the latest final response), without its owned strings: no allocation per
/// transaction once the buffers have grown.
#[derive(Debug, Default)]
struct LeanTx {
    requests: VecDeque<LeanRequest>,
    response: Option<LeanResponse>,
}

fn spare_buffer(spare: &mut Vec<Vec<u8>>) -> Vec<u8> {
    let mut b = spare.pop().unwrap_or_default();
    b.clear();
    b
}

impl LeanTx {
    fn request(&mut self, r: &RequestHead<'_>, filters: &Filters, spare: &mut Vec<Vec<u8>>) {
        let shown = filters.is_empty() || {
            let host = r.headers.get("host").map(String::from_utf8_lossy);
            let user_agent = r.headers.get("user-agent").map(String::from_utf8_lossy);
            filters.matches_fields(
                Some(r.method),
                host.as_deref(),
                Some(r.uri),
                user_agent.as_deref(),
            )
        };
        let mut members = spare_buffer(spare);
        let mut o = Obj::new(&mut members);
        o.str("method", r.method);
        o.str("uri", r.uri);
        o.str("version", version(Some(r.version)));
        let mut a = o.arr("headers");
        for (name, value) in r.headers.iter() {
            header_json(&mut a, name, value);
        }
        a.end();
        // One waiting request is the rule; VecDeque's first push would make room for four,
        // which is most of a session's memory when many sessions wait at once.
        if self.requests.capacity() == 0 {
            self.requests.reserve_exact(1);
        }
        self.requests.push_back(LeanRequest {
            index: r.index,
            shown,
            members,
        });
    }

    fn response(&mut self, r: &ResponseHead<'_>, spare: &mut Vec<Vec<u8>>) {
        let mut members = match self.response.take() {
            Some(old) => old.members,
            None => spare_buffer(spare),
        };
        members.clear();
        let mut o = Obj::new(&mut members);
        o.str("reason", r.reason);
        let mut a = o.arr("headers");
        for (name, value) in r.headers.iter() {
            header_json(&mut a, name, value);
        }
        a.end();
        self.response = Some(LeanResponse {
            status: r.status,
            version: r.version,
            members,
        });
    }

    /// Writes the transaction `rec` closes (if it passes the filters) to `out`.
    fn finish(
        &mut self,
        rec: &TransactionRecord,
        stream: &Stream,
        filters: &Filters,
        out: &mut Vec<u8>,
        spare: &mut Vec<Vec<u8>>,
    ) -> Shown {
        let mut request = None;
        if rec.request_start_ns.is_some() {
            // Requests the session dropped (pipeline cap) have lower indices: discard them.
            while self.requests.front().is_some_and(|p| p.index < rec.index) {
                spare.extend(self.requests.pop_front().map(|p| p.members));
            }
            if self.requests.front().is_some_and(|p| p.index == rec.index) {
                request = self.requests.pop_front();
            }
        }
        let response = rec.status.and_then(|_| self.response.take());
        let shown = match &request {
            Some(r) => r.shown,
            None => filters.is_empty() || filters.matches_fields(None, None, None, None),
        };
        if shown {
            write_lean_json(out, stream, rec, request.as_ref(), response.as_ref());
        }
        let upgrade = response.as_ref().is_some_and(|r| r.status == 101);
        spare.extend(request.map(|r| r.members));
        spare.extend(response.map(|r| r.members));
        match (shown, upgrade) {
            (false, _) => Shown::No,
            (true, false) => Shown::Yes,
            (true, true) => Shown::Upgrade,
        }
    }

    /// Gives the session's buffers back when it ends.
    fn recycle(self, spare: &mut Vec<Vec<u8>>) {
        /// Buffers kept for reuse (more only come back after a burst of pipelining).
        const SPARE_MAX: usize = 256;
        let buffers = self
            .requests
            .into_iter()
            .map(|r| r.members)
            .chain(self.response.map(|r| r.members));
        for b in buffers {
            if spare.len() < SPARE_MAX {
                spare.push(b);
            }
        }
    }
}

/// [`write_transaction_json`]'s output from pre-rendered heads (byte for byte the same).
fn write_lean_json(
    out: &mut Vec<u8>,
    stream: &Stream,
    rec: &TransactionRecord,
    request: Option<&LeanRequest>,
    response: Option<&LeanResponse>,
) {
    write_http_line(
        out,
        stream,
        rec,
        request.map(|req| move |r: &mut Obj<'_>| r.members(&req.members)),
        |r, status| {
            r.str("version", version(response.map(|p| p.version)));
            r.u64("status", u64::from(status));
            match response {
                Some(p) => r.members(&p.members),
                None => {
                    r.str("reason", "");
                    r.arr("headers").end();
                }
            }
        },
        |_| {},
    );
}

/// One `"type":"http"` line. Both renderers share this frame and differ only in how each
/// head's own members are written: `request` after the request's `ts` (absent: `null`),
/// `response` after the response's `ts`, `tail` after the final `complete`.
fn write_http_line(
    out: &mut Vec<u8>,
    stream: &Stream,
    rec: &TransactionRecord,
    request: Option<impl FnOnce(&mut Obj<'_>)>,
    response: impl FnOnce(&mut Obj<'_>, u16),
    tail: impl FnOnce(&mut Obj<'_>),
) {
    let mut o = Obj::new(out);
    o.str("type", "http");
    o.u64("stream", stream.id);
    o.socket_addr("client", stream.client);
    o.socket_addr("server", stream.server);
    match (request, rec.request_start_ns) {
        (Some(members), Some(ts)) => {
            let mut r = o.obj("request");
            push_ts(r.key("ts"), ts);
            members(&mut r);
            r.u64(
                "body_len",
                rec.request_decoded_len.unwrap_or(rec.request_body_len),
            );
            r.bool("complete", rec.request_complete);
            r.end();
        }
        _ => o.key("request").extend_from_slice(b"null"),
    }
    match (rec.status, rec.response_start_ns) {
        (Some(status), Some(ts)) => {
            let mut r = o.obj("response");
            push_ts(r.key("ts"), ts);
            response(&mut r, status);
            r.u64(
                "body_len",
                rec.response_decoded_len.unwrap_or(rec.response_body_len),
            );
            r.bool("complete", rec.response_complete);
            r.end();
        }
        _ => o.key("response").extend_from_slice(b"null"),
    }
    o.bool("complete", rec.complete);
    tail(&mut o);
    o.end();
    out.push(b'\n');
}

fn header_json(a: &mut Arr<'_>, name: &str, value: &[u8]) {
    let mut pair = Arr::new(a.item());
    pair.str(name);
    push_bytes_str(pair.item(), value);
    pair.end();
}

fn write_transaction_json(
    out: &mut Vec<u8>,
    stream: &Stream,
    tx: &Transaction,
    preview: Option<usize>,
) {
    write_http_line(
        out,
        stream,
        &tx.record,
        tx.method.as_deref().map(|method| {
            move |r: &mut Obj<'_>| {
                r.str("method", method);
                r.str("uri", tx.uri.as_deref().unwrap_or(""));
                r.str("version", version(tx.request_version));
                headers_json(r, &tx.request_headers);
            }
        }),
        |r, status| {
            r.str("version", version(tx.response_version));
            r.u64("status", u64::from(status));
            r.str("reason", tx.reason.as_deref().unwrap_or(""));
            headers_json(r, &tx.response_headers);
        },
        |o| {
            if let (Some(n), Some(body)) = (preview, tx.response_body.as_deref()) {
                let shown = body.get(..n).unwrap_or(body);
                o.str("body_preview", &String::from_utf8_lossy(shown));
            }
        },
    );
}

fn headers_json(o: &mut Obj<'_>, headers: &[(String, Vec<u8>)]) {
    let mut a = o.arr("headers");
    for (name, value) in headers {
        header_json(&mut a, name, value);
    }
    a.end();
}

fn version(minor: Option<u8>) -> &'static str {
    match minor {
        Some(0) => "HTTP/1.0",
        _ => "HTTP/1.1",
    }
}

/// Writes a body preview: text as text (indented), anything else summarised.
fn write_body(l: &mut String, label: &str, body: &[u8], limit: usize, truncated: bool) {
    let shown = body.get(..limit).unwrap_or(body);
    let cut = if shown.len() < body.len() || truncated {
        " (truncated)"
    } else {
        ""
    };
    match std::str::from_utf8(shown) {
        Ok(text) if !text.chars().any(|c| c.is_control() && !c.is_whitespace()) => {
            let _ = writeln!(l, "    {label}, {}{cut}:", Bytes(body.len() as u64));
            for line in text.lines() {
                let _ = writeln!(l, "      {line}");
            }
        }
        _ => {
            let head = shown.get(..16).unwrap_or(shown);
            let hex: Vec<String> = head.iter().map(|b| format!("{b:02x}")).collect();
            let _ = writeln!(
                l,
                "    {label}, binary, {}{cut}: {} ...",
                Bytes(body.len() as u64),
                hex.join(" ")
            );
        }
    }
}

/// A duration in nanoseconds shown in milliseconds.
struct Millis(i64);

impl std::fmt::Display for Millis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ms = self.0 as f64 / 1e6;
        if ms < 10.0 {
            write!(f, "{ms:.2} ms")
        } else {
            write!(f, "{ms:.0} ms")
        }
    }
}

/// A byte count in B, kB or MB (decimal, as browsers' devtools show sizes).
pub(crate) struct Bytes(pub(crate) u64);

impl std::fmt::Display for Bytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.0;
        if n < 1000 {
            write!(f, "{n} B")
        } else if n < 1_000_000 {
            write!(f, "{:.1} kB", n as f64 / 1e3)
        } else {
            write!(f, "{:.1} MB", n as f64 / 1e6)
        }
    }
}
