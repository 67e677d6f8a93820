//! `stats`: summary statistics of a capture, printed once at the end, as tshark's
//! `-z http,tree`, `-z conv,tcp`, `-z conv,udp`, `-z endpoints,ip` and `-z io,stat`.
//!
//! One pass through the analyzer fills every section asked for (modules `conv`, `http`,
//! `io`) in memory bounded by each table's cap; the text tables (`table`) or the JSON document
//! are written when the input ends (live: at Ctrl-C). Names off the wire (methods, hosts)
//! are escaped for the terminal, and JSON strings by the JSON writer.

mod conv;
mod http;
mod io;
mod latency;
mod table;

use std::fmt;
use std::io::Write as _;
use std::net::SocketAddr;
use std::ops::ControlFlow;

use pcap_analyzer::{DefragNotice, Handler, Stream};
use pcap_capture::Packet;
use pcap_decode::Decoded;
use pcap_http_ws::{HttpConfig, HttpEvent};
use pcap_tcp_reassembly::Event;

use crate::args::{StatsArgs, StatsSection};
use crate::cmd::sessions::{run_on, session_config};
use crate::color::{Color, Palette};
use crate::defrag::DefragTally;
use crate::error::CliError;
use crate::input::Input;
use crate::output::Output;
use crate::parallel::{self, Shard};
use crate::render::escape::Escaped;
use crate::render::json::{Arr, Obj, push_ts, push_u64};

use conv::{Conversation, Conversations, Endpoints, Proto, Tally};
use http::{HostKey, HttpStats, status_class};
use io::Io;
use table::{Align, Table};

/// Runs `stats`.
pub fn run(args: &StatsArgs) -> Result<(), CliError> {
    let mut input = Input::open(&args.source, None)?;
    let mut config = session_config(&input, &args.tcp);
    config.http = Some(HttpConfig::default());
    config.tls = Some(input.tls_config());
    config.keys = Some(input.keys());
    // The other sections count packets: without HTTP, nothing is reassembled.
    if !args.shows(StatsSection::Http) {
        config.http = None;
        config.tls = None;
        config.reassemble = false;
    }
    let threads = parallel::threads(args.threads.threads.map(usize::from));
    // A read error still prints what came before it.
    let (ran, parts) = run_on(&mut input, config, threads, |_| Stats::new(args));
    let mut parts = parts.into_iter();
    let Some(mut stats) = parts.next() else {
        // A handler stopped the run: there is nothing to print.
        return ran.finish(&mut input);
    };
    for part in parts {
        stats.merge(part);
    }
    stats.cap();
    let mut out = Output::stdout(false);
    let written = if args.output.json {
        stats.write_json(&mut out).and_then(|()| out.finish())
    } else {
        stats
            .write_text(&mut out, Palette::new(&args.output))
            .and_then(|()| out.finish())
    };
    for warning in stats.warnings(args.interval) {
        eprintln!("pcap-cli: warning: {warning}");
    }
    if let Some(warning) = stats.defrag.warning() {
        eprintln!("{warning}");
    }
    ran.finish(&mut input).and(written)
}

/// The handler: counts every packet and HTTP event into the sections asked for. With
/// `--threads`, each worker has one, counting the packets of its host pairs, and the
/// parts are merged at the end ([`Stats::merge`]).
#[derive(Debug)]
struct Stats {
    http: Option<HttpStats>,
    conv: Option<Conversations>,
    endpoints: Option<Endpoints>,
    io: Option<Io>,
    packets: u64,
    bytes: u64,
    /// Frame number and time of the first packet counted.
    first: Option<(u64, i64)>,
    /// Frame number and time of the last packet counted.
    last: (u64, i64),
    /// The frame being taken, which HTTP events belong to.
    frame: u64,
    /// IP datagrams lost to fragment limits, for the warning at the end.
    defrag: DefragTally,
    /// What [`Shard`] asks of a worker's handler: `stats` writes nothing until every part
    /// is merged, so it stays empty.
    out: Vec<u8>,
}

impl Stats {
    /// Empty sections, those asked for.
    fn new(args: &StatsArgs) -> Stats {
        let shown = |s| args.shows(s);
        Stats {
            http: shown(StatsSection::Http).then(HttpStats::default),
            conv: shown(StatsSection::Conv).then(Conversations::default),
            endpoints: shown(StatsSection::Endpoints).then(Endpoints::default),
            io: shown(StatsSection::Io).then(|| Io::new(args.interval)),
            packets: 0,
            bytes: 0,
            first: None,
            last: (0, 0),
            frame: 0,
            defrag: DefragTally::default(),
            out: Vec::new(),
        }
    }

    /// Adds another worker's part. Sums, except for the tables with a cap, which each
    /// worker filled up to the whole cap: [`Stats::cap`] applies it to the merged tables.
    fn merge(&mut self, other: Stats) {
        if let (Some(mine), Some(theirs)) = (&mut self.http, other.http) {
            mine.merge(theirs);
        }
        if let (Some(mine), Some(theirs)) = (&mut self.conv, other.conv) {
            mine.merge(theirs);
        }
        if let (Some(mine), Some(theirs)) = (&mut self.endpoints, other.endpoints) {
            mine.merge(theirs);
        }
        if let (Some(mine), Some(theirs)) = (&mut self.io, other.io) {
            mine.merge(theirs);
        }
        self.packets += other.packets;
        self.bytes = self.bytes.saturating_add(other.bytes);
        self.first = match (self.first, other.first) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.last = self.last.max(other.last);
        self.defrag.add(&other.defrag);
    }

    /// Applies the caps of the conversation, endpoint and host tables after a merge (a
    /// table under its cap is left as it is).
    fn cap(&mut self) {
        if let Some(h) = &mut self.http {
            h.cap();
        }
        if let Some(c) = &mut self.conv {
            c.cap();
        }
        if let Some(e) = &mut self.endpoints {
            e.cap();
        }
    }
}

impl Shard for Stats {
    fn output(&mut self) -> &mut Vec<u8> {
        &mut self.out
    }

    fn capture_start(&mut self, ts_ns: i64) {
        if let Some(io) = &mut self.io {
            io.start_at(ts_ns);
        }
    }
}

impl Handler for Stats {
    type Error = CliError;

    fn packet(
        &mut self,
        frame: u64,
        packet: &Packet<'_>,
        d: &Decoded<'_>,
    ) -> ControlFlow<CliError> {
        let ts = packet.ts_ns;
        let bytes = u64::from(packet.orig_len);
        self.packets += 1;
        self.bytes = self.bytes.saturating_add(bytes);
        self.first.get_or_insert((frame, ts));
        self.last = (frame, ts);
        self.frame = frame;
        if let Some(io) = &mut self.io {
            io.add(ts, bytes);
        }
        let (Some(src), Some(dst)) = (d.src_ip(), d.dst_ip()) else {
            return ControlFlow::Continue(());
        };
        if let Some(e) = &mut self.endpoints {
            e.add(frame, src, dst, bytes);
            // Each IP header a tunnel was found in is an IP layer of the frame too, and
            // tshark counts every layer's endpoints.
            for t in &d.tunnels {
                if let (Some(src), Some(dst)) = (t.src(), t.dst()) {
                    e.add(frame, src, dst, bytes);
                }
            }
        }
        if let Some(c) = &mut self.conv {
            let ports = match (d.tcp(), d.udp()) {
                (Some(t), _) => Some((Proto::Tcp, t.src_port(), t.dst_port())),
                (None, Some(u)) => Some((Proto::Udp, u.src_port(), u.dst_port())),
                (None, None) => None,
            };
            if let Some((proto, sport, dport)) = ports {
                let (a, b) = (SocketAddr::new(src, sport), SocketAddr::new(dst, dport));
                c.add(frame, proto, a, b, ts, bytes);
            }
        }
        ControlFlow::Continue(())
    }

    fn tcp(&mut self, event: &Event<'_>) -> ControlFlow<CliError> {
        if let (Some(h), Some(info)) = (&mut self.http, event.kind.ended()) {
            h.session_ended(info.id);
        }
        ControlFlow::Continue(())
    }

    fn http(&mut self, stream: &Stream, event: &HttpEvent<'_>) -> ControlFlow<CliError> {
        if let Some(h) = &mut self.http {
            h.event(self.frame, stream, event);
        }
        ControlFlow::Continue(())
    }

    fn defrag(&mut self, notice: &DefragNotice) -> ControlFlow<CliError> {
        self.defrag.note(notice);
        ControlFlow::Continue(())
    }
}

/// Nanoseconds shown as seconds with six decimals.
#[derive(Debug, Clone, Copy)]
struct Secs(u64);

impl fmt::Display for Secs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ns = self.0;
        write!(f, "{}.{:06}", ns / 1_000_000_000, ns % 1_000_000_000 / 1000)
    }
}

/// Nanoseconds shown as milliseconds with three decimals, after `~` when sampled.
#[derive(Debug, Clone, Copy)]
struct Millis(u64, bool);

impl fmt::Display for Millis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (ns, mark) = (self.0, if self.1 { "~" } else { "" });
        write!(f, "{mark}{}.{:03}", ns / 1_000_000, ns % 1_000_000 / 1000)
    }
}

/// `later - earlier` in nanoseconds, 0 when time went backwards.
fn since(earlier: i64, later: i64) -> u64 {
    u64::try_from(i128::from(later) - i128::from(earlier)).unwrap_or(0)
}

impl fmt::Display for HostKey {
    /// A host as shown: escaped for the terminal, `-` for none.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HostKey::Host(h) => write!(f, "{}", Escaped::plain(h)),
            HostKey::None => f.write_str("-"),
            HostKey::Overflow => f.write_str("(other hosts)"),
        }
    }
}

impl Stats {
    /// The time of the first packet (0 without packets).
    fn start(&self) -> i64 {
        self.first.map_or(0, |(_, ts)| ts)
    }

    /// What the user must know about the figures: every cap that was hit.
    fn warnings(&self, interval: Option<u64>) -> Vec<String> {
        let mut w = Vec::new();
        if let Some(h) = &self.http {
            if h.methods_overflow > 0 {
                w.push(format!(
                    "{} requests with methods past the first {} counted as (other methods)",
                    h.methods_overflow,
                    http::MAX_METHODS
                ));
            }
            if h.hosts.contains_key(&HostKey::Overflow) {
                w.push(format!(
                    "hosts past the first {} counted as (other hosts)",
                    http::MAX_HOSTS
                ));
            }
            if h.pending_overflow > 0 {
                w.push(format!(
                    "{} transactions counted under host - (more than {} requests waiting)",
                    h.pending_overflow,
                    http::MAX_PENDING
                ));
            }
        }
        if let Some(c) = self.conv.as_ref().filter(|c| c.overflow.packets > 0) {
            w.push(format!(
                "{} packets of conversations past the first {} counted as (other conversations)",
                c.overflow.packets,
                conv::MAX_CONVERSATIONS
            ));
        }
        if let Some(e) = self.endpoints.as_ref().filter(|e| e.overflow.packets > 0) {
            w.push(format!(
                "{} packets of endpoints past the first {} counted as (other endpoints)",
                e.overflow.packets,
                conv::MAX_ENDPOINTS
            ));
        }
        if let Some(io) = &self.io {
            if io.widened {
                w.push(format!(
                    "--interval {} would need more than {} rows: widened to {} s",
                    Secs(interval.unwrap_or(0)),
                    io::MAX_ROWS,
                    Secs(io.interval_ns())
                ));
            }
            if io.before_start > 0 {
                w.push(format!(
                    "{} packets stamped before the first packet counted in the first interval",
                    io.before_start
                ));
            }
        }
        w
    }

    /// The text tables of every section asked for.
    fn write_text(&self, out: &mut Output, palette: Palette) -> Result<(), CliError> {
        // A blank line between sections: their buffer may have been written out already.
        let mut first = true;
        let mut title = |out: &mut Output, t: fmt::Arguments<'_>| {
            let buf = out.buffer();
            if !std::mem::take(&mut first) {
                buf.push(b'\n');
            }
            // Writing into a Vec cannot fail.
            let _ = writeln!(buf, "{}", palette.paint(Color::Bold, &t.to_string()));
        };
        let start = self.start();
        if let Some(h) = &self.http {
            title(
                out,
                format_args!("HTTP requests by method ({} requests)", h.requests()),
            );
            let mut t = Table::new(&[("METHOD", Align::Left), ("REQUESTS", Align::Right)]);
            for (m, n) in &h.methods {
                t.row(&[&Escaped::plain(m), n]);
            }
            if h.methods_overflow > 0 {
                t.row(&[&"(other methods)", &h.methods_overflow]);
            }
            t.write(out)?;

            title(
                out,
                format_args!(
                    "HTTP responses by status ({} complete responses, {} cut short)",
                    h.responses(),
                    h.responses_cut
                ),
            );
            let mut t = Table::new(&[
                ("CLASS", Align::Left),
                ("STATUS", Align::Left),
                ("RESPONSES", Align::Right),
            ]);
            let mut class = "";
            for (code, n) in &h.statuses {
                let c = status_class(*code);
                if c != class {
                    let total: u64 = h
                        .statuses
                        .iter()
                        .filter(|(s, _)| status_class(**s) == c)
                        .map(|(_, n)| n)
                        .sum();
                    t.row(&[&c, &"", &total]);
                    class = c;
                }
                t.row(&[&"", code, n]);
            }
            t.write(out)?;

            title(
                out,
                format_args!(
                    "HTTP per host (latency: request's first byte to response's last; ~ sampled)"
                ),
            );
            let mut t = Table::new(&[
                ("HOST", Align::Left),
                ("REQUESTS", Align::Right),
                ("REQ BYTES", Align::Right),
                ("RESP BYTES", Align::Right),
                ("P50 ms", Align::Right),
                ("P90 ms", Align::Right),
                ("P99 ms", Align::Right),
                ("MAX ms", Align::Right),
            ]);
            for (key, s) in h.sorted_hosts() {
                let (requests, req, resp) = (&s.requests, &s.request_bytes, &s.response_bytes);
                match s.latency.percentiles() {
                    Some(p) => t.row(&[
                        key,
                        requests,
                        req,
                        resp,
                        &Millis(p.p50, p.sampled),
                        &Millis(p.p90, p.sampled),
                        &Millis(p.p99, p.sampled),
                        &Millis(p.max, false),
                    ]),
                    None => t.row(&[key, requests, req, resp, &"-", &"-", &"-", &"-"]),
                }
            }
            t.write(out)?;
        }
        if let Some(c) = &self.conv {
            for (proto, name) in [(Proto::Tcp, "TCP"), (Proto::Udp, "UDP")] {
                let list = c.sorted(proto);
                title(out, format_args!("{name} conversations ({})", list.len()));
                let mut t = Table::new(&[
                    ("A", Align::Left),
                    ("B", Align::Left),
                    ("PKTS A>B", Align::Right),
                    ("BYTES A>B", Align::Right),
                    ("PKTS B>A", Align::Right),
                    ("BYTES B>A", Align::Right),
                    ("PKTS", Align::Right),
                    ("BYTES", Align::Right),
                    ("START s", Align::Right),
                    ("DURATION s", Align::Right),
                ]);
                for conv in list {
                    let total = conv.total();
                    t.row(&[
                        &conv.a,
                        &conv.b,
                        &conv.a_to_b.packets,
                        &conv.a_to_b.bytes,
                        &conv.b_to_a.packets,
                        &conv.b_to_a.bytes,
                        &total.packets,
                        &total.bytes,
                        &Secs(since(start, conv.first_ts_ns)),
                        &Secs(since(conv.first_ts_ns, conv.last_ts_ns)),
                    ]);
                }
                t.write(out)?;
            }
            if c.overflow.packets > 0 {
                let _ = writeln!(
                    out.buffer(),
                    "(other conversations): {} packets, {} bytes",
                    c.overflow.packets,
                    c.overflow.bytes
                );
            }
        }
        if let Some(e) = &self.endpoints {
            let list = e.sorted();
            title(out, format_args!("IP endpoints ({})", list.len()));
            let mut t = Table::new(&[
                ("ADDRESS", Align::Left),
                ("PKTS", Align::Right),
                ("BYTES", Align::Right),
                ("TX PKTS", Align::Right),
                ("TX BYTES", Align::Right),
                ("RX PKTS", Align::Right),
                ("RX BYTES", Align::Right),
            ]);
            let mut row = |name: &dyn fmt::Display, total: Tally, tx: Tally, rx: Tally| {
                t.row(&[
                    name,
                    &total.packets,
                    &total.bytes,
                    &tx.packets,
                    &tx.bytes,
                    &rx.packets,
                    &rx.bytes,
                ]);
            };
            for (addr, ep) in list {
                row(&addr, ep.total(), ep.tx, ep.rx);
            }
            if e.overflow.packets > 0 {
                let none = Tally::default();
                row(&"(other endpoints)", e.overflow, none, none);
            }
            t.write(out)?;
        }
        if let Some(io) = &self.io {
            let total = io.total();
            title(
                out,
                format_args!(
                    "I/O per {} s ({} packets, {} bytes)",
                    Secs(io.interval_ns()),
                    total.packets,
                    total.bytes
                ),
            );
            let mut t = Table::new(&[
                ("FROM s", Align::Right),
                ("TO s", Align::Right),
                ("PKTS", Align::Right),
                ("BYTES", Align::Right),
            ]);
            let width = io.interval_ns();
            for (i, r) in io.rows().iter().enumerate() {
                let from = width.saturating_mul(i as u64);
                t.row(&[
                    &Secs(from),
                    &Secs(from.saturating_add(width)),
                    &r.packets,
                    &r.bytes,
                ]);
            }
            t.write(out)?;
        }
        Ok(())
    }

    /// The JSON document (see docs/json.md, "stats --json"). The long arrays
    /// (conversations, endpoints, I/O rows) are written out as they go, element by element,
    /// so the document is never held whole.
    fn write_json(&self, out: &mut Output) -> Result<(), CliError> {
        let start = self.start();
        let mut o = Obj::new(out.buffer());
        o.u64("packets", self.packets);
        o.u64("bytes", self.bytes);
        match self.first {
            Some((_, first)) => {
                push_ts(o.key("first_ts"), first);
                push_ts(o.key("last_ts"), self.last.1);
            }
            None => {
                o.key("first_ts").extend_from_slice(b"null");
                o.key("last_ts").extend_from_slice(b"null");
            }
        }
        if let Some(h) = &self.http {
            write_http_json(o.obj("http"), h);
        }
        // The document stays open: the members below are written by hand around the
        // arrays, which go out element by element.
        if let Some(c) = &self.conv {
            out.buffer()
                .extend_from_slice(br#","conversations":{"tcp":"#);
            json_array(out, c.sorted(Proto::Tcp), |o, conv| {
                write_conv_json(o, conv, start)
            })?;
            out.buffer().extend_from_slice(br#","udp":"#);
            json_array(out, c.sorted(Proto::Udp), |o, conv| {
                write_conv_json(o, conv, start)
            })?;
            push_overflow(out.buffer(), c.overflow);
        }
        if let Some(e) = &self.endpoints {
            out.buffer().extend_from_slice(br#","endpoints":{"ip":"#);
            json_array(out, e.sorted(), |mut x, (addr, ep)| {
                x.display("address", addr);
                let total = ep.total();
                x.u64("packets", total.packets);
                x.u64("bytes", total.bytes);
                x.u64("tx_packets", ep.tx.packets);
                x.u64("tx_bytes", ep.tx.bytes);
                x.u64("rx_packets", ep.rx.packets);
                x.u64("rx_bytes", ep.rx.bytes);
                x.end();
            })?;
            push_overflow(out.buffer(), e.overflow);
        }
        if let Some(io) = &self.io {
            let width = io.interval_ns();
            let buf = out.buffer();
            buf.extend_from_slice(br#","io":{"interval_ns":"#);
            push_u64(buf, width);
            buf.extend_from_slice(br#","rows":"#);
            json_array(out, io.rows().iter().enumerate(), |mut x, (i, r)| {
                x.u64("start_ns", width.saturating_mul(i as u64));
                x.u64("packets", r.packets);
                x.u64("bytes", r.bytes);
                x.end();
            })?;
            out.buffer().push(b'}');
        }
        out.buffer().extend_from_slice(b"}\n");
        Ok(())
    }
}

/// Writes a JSON array of `items`, each object written by `write`, out as it goes.
fn json_array<T>(
    out: &mut Output,
    items: impl IntoIterator<Item = T>,
    mut write: impl FnMut(Obj<'_>, T),
) -> Result<(), CliError> {
    out.buffer().push(b'[');
    for (i, item) in items.into_iter().enumerate() {
        if i > 0 {
            out.buffer().push(b',');
        }
        write(Obj::new(out.buffer()), item);
        out.packet_done()?;
    }
    out.buffer().push(b']');
    Ok(())
}

/// Closes a section with its overflow members: `,"overflow_packets":N,"overflow_bytes":N}`.
fn push_overflow(out: &mut Vec<u8>, overflow: Tally) {
    out.extend_from_slice(br#","overflow_packets":"#);
    push_u64(out, overflow.packets);
    out.extend_from_slice(br#","overflow_bytes":"#);
    push_u64(out, overflow.bytes);
    out.push(b'}');
}

/// The `http` member.
fn write_http_json(mut j: Obj<'_>, h: &HttpStats) {
    j.u64("requests", h.requests());
    j.u64("responses", h.responses());
    j.u64("responses_cut", h.responses_cut);
    let mut a = j.arr("methods");
    for (m, n) in &h.methods {
        let mut x = a.obj();
        x.str("method", m);
        x.u64("requests", *n);
        x.end();
    }
    a.end();
    j.u64("methods_overflow", h.methods_overflow);
    let mut a = j.arr("statuses");
    for (code, n) in &h.statuses {
        let mut x = a.obj();
        x.u64("status", u64::from(*code));
        x.str("class", status_class(*code));
        x.u64("responses", *n);
        x.end();
    }
    a.end();
    let mut a = j.arr("hosts");
    for (key, s) in h.sorted_hosts() {
        write_host_json(&mut a, key, s);
    }
    a.end();
    j.end();
}

/// One entry of `http.hosts`.
fn write_host_json(a: &mut Arr<'_>, key: &HostKey, s: &http::HostStats) {
    let mut x = a.obj();
    match key {
        HostKey::Host(h) => x.bytes_str("host", h),
        HostKey::None => x.key("host").extend_from_slice(b"null"),
        HostKey::Overflow => x.str("host", "(other hosts)"),
    }
    x.bool("overflow", *key == HostKey::Overflow);
    x.u64("requests", s.requests);
    x.u64("request_bytes", s.request_bytes);
    x.u64("response_bytes", s.response_bytes);
    x.u64("latency_count", s.latency.count());
    match s.latency.percentiles() {
        Some(p) => {
            let mut l = x.obj("latency_ns");
            l.u64("p50", p.p50);
            l.u64("p90", p.p90);
            l.u64("p99", p.p99);
            l.u64("max", p.max);
            l.bool("sampled", p.sampled);
            l.end();
        }
        None => x.key("latency_ns").extend_from_slice(b"null"),
    }
    x.end();
}

/// One conversation object.
fn write_conv_json(mut x: Obj<'_>, c: &Conversation, start: i64) {
    x.socket_addr("a", c.a);
    x.socket_addr("b", c.b);
    x.u64("a_to_b_packets", c.a_to_b.packets);
    x.u64("a_to_b_bytes", c.a_to_b.bytes);
    x.u64("b_to_a_packets", c.b_to_a.packets);
    x.u64("b_to_a_bytes", c.b_to_a.bytes);
    let total = c.total();
    x.u64("packets", total.packets);
    x.u64("bytes", total.bytes);
    push_ts(x.key("start_ts"), c.first_ts_ns);
    x.u64("rel_start_ns", since(start, c.first_ts_ns));
    x.u64("duration_ns", since(c.first_ts_ns, c.last_ts_ns));
    x.end();
}
