//! `flows`: the TCP session table.
//!
//! Both outputs stream: each session's row (or JSON line) is written when the session ends
//! (FIN exchange, RST, eviction from a full table, 4-tuple reuse, end of input), in that end
//! order like Zeek's `conn.log`, so memory stays bounded by the reassembler's `max_sessions`
//! cap whatever the number of sessions. Waiting for the end to sort rows by stream id or to
//! size columns from every row would hold one summary per session, which a SYN flood makes
//! unbounded. The text table's column widths are therefore fixed in advance (see `WIDTHS`).
//!
//! TLS is found by content in every session (any port): a TLS session's row ends with its
//! version, SNI and ALPN (JSON: a `tls` object). The TLS decoder's summary of a session
//! comes before the session's end event, so it is kept until the row is written, and only
//! that long: at most one small entry per open session.

use std::fmt::Write as _;
use std::io::Write as _;

use std::ops::ControlFlow;

use std::collections::HashMap;

use pcap_analyzer::{DefragNotice, Handler, Stream};
use pcap_tcp_reassembly::{Event, SessionInfo, StartKind};
use pcap_tls::{TlsEvent, TlsSummary};

use crate::args::FlowsArgs;
use crate::cmd::sessions::{analyze_tls_on, push_ts};
use crate::color::{Color, Palette};
use crate::defrag::DefragTally;
use crate::error::{CliError, flow};
use crate::input::Input;
use crate::output::{Output, write_time};
use crate::parallel::{self, SessionId};
use crate::render::escape::Escaped;
use crate::render::json::Obj;
use crate::render::tls::{cipher_text, version_text};

/// Runs `flows`.
pub fn run(args: &FlowsArgs) -> Result<(), CliError> {
    let mut input = Input::open(&args.source, None)?;
    let json = args.output.json;
    let palette = Palette::new(&args.output);
    let mut heading = Output::stdout(input.is_live());
    if !json {
        write_heading(heading.buffer(), palette);
        // Live, the heading shows at once rather than with the first session's end.
        heading.flush()?;
    }
    let threads = parallel::threads(args.threads.threads.map(usize::from));
    let make = |out| Flows {
        json,
        palette,
        out,
        cell: String::new(),
        defrag: DefragTally::default(),
        tls: HashMap::new(),
    };
    // A read error still prints the sessions seen before it: `analyze` ends them first.
    let (ran, shards) = analyze_tls_on(&mut input, &args.tcp, threads, make);
    let mut defrag = DefragTally::default();
    let mut finished = Ok(());
    for mut flows in shards {
        defrag.add(&flows.defrag);
        finished = finished.and(flows.out.flush());
    }
    if let Some(warning) = defrag.warning() {
        eprintln!("{warning}");
    }
    ran.finish(&mut input).and(finished)
}

/// The handler: writes each ended session's row or JSON line.
#[derive(Debug)]
pub(crate) struct Flows {
    json: bool,
    palette: Palette,
    out: Output,
    /// Text table only: one cell's text, reused so rows cost no allocation.
    cell: String,
    /// IP datagrams lost to fragment limits, for the warning at the end.
    defrag: DefragTally,
    /// TLS summaries of sessions whose row is not written yet, by session id: the summary
    /// comes before the session's end, and the entry goes when the row is written.
    tls: HashMap<u64, FlowTls>,
}

/// What a row shows of a TLS session.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct FlowTls {
    version: Option<u16>,
    cipher: Option<u16>,
    sni: Option<String>,
    alpn: Option<String>,
    alpn_offered: Vec<String>,
}

impl FlowTls {
    fn of(s: &TlsSummary) -> FlowTls {
        FlowTls {
            version: s.version,
            cipher: s.cipher,
            sni: s.sni.clone(),
            alpn: s.alpn.clone(),
            alpn_offered: s.alpn_offered.clone(),
        }
    }
}

impl parallel::Shard for Flows {
    fn output(&mut self) -> &mut Vec<u8> {
        self.out.buffer()
    }
}

impl Flows {
    /// A handler writing `--json` lines into memory, for `export` to take from
    /// [`Flows::lines`].
    #[cfg_attr(not(feature = "parquet"), allow(dead_code))]
    pub(crate) fn json_in_memory() -> Flows {
        Flows {
            json: true,
            palette: Palette::plain(),
            out: Output::memory(),
            cell: String::new(),
            defrag: DefragTally::default(),
            tls: HashMap::new(),
        }
    }

    /// The JSON lines written so far and not yet taken.
    #[cfg_attr(not(feature = "parquet"), allow(dead_code))]
    pub(crate) fn lines(&mut self) -> &mut Vec<u8> {
        self.out.buffer()
    }
}

impl Handler for Flows {
    type Error = CliError;

    /// A write error stops the run.
    fn tcp(&mut self, event: &Event<'_>) -> ControlFlow<CliError> {
        let Some(info) = event.kind.ended() else {
            return ControlFlow::Continue(());
        };
        let tls = self.tls.remove(&info.id);
        if self.json {
            write_json(self.out.buffer(), info, tls.as_ref());
        } else {
            write_row(
                self.out.buffer(),
                &mut self.cell,
                self.palette,
                info,
                tls.as_ref(),
            );
        }
        // Written out here rather than after the packet: the end of the input ends every
        // open session at once (up to `max_sessions` lines).
        flow(self.out.packet_done())
    }

    /// Keeps a TLS session's summary for its row.
    fn tls(&mut self, stream: &Stream, event: &TlsEvent<'_>) -> ControlFlow<CliError> {
        if let TlsEvent::Summary(s) = event {
            self.tls.insert(stream.id, FlowTls::of(s));
        }
        ControlFlow::Continue(())
    }

    fn defrag(&mut self, notice: &DefragNotice) -> ControlFlow<CliError> {
        self.defrag.note(notice);
        ControlFlow::Continue(())
    }
}

/// How the session was picked up, as written in JSON.
fn how_name(how: StartKind) -> &'static str {
    match how {
        StartKind::Syn => "syn",
        StartKind::SynAck => "synack",
        StartKind::MidStream => "midstream",
        _ => "other",
    }
}

/// One session's JSON line (see docs/json.md, "flows --json").
fn write_json(out: &mut Vec<u8>, s: &SessionInfo, tls: Option<&FlowTls>) {
    let mut o = Obj::new(out);
    SessionId::new(s.id).push(o.key("stream"));
    o.display("client", s.client);
    o.display("server", s.server);
    o.community_id(s.client, s.server);
    push_ts(o.key("start_ts"), s.first_ts_ns);
    push_ts(o.key("end_ts"), s.last_ts_ns);
    o.str("state", s.state.as_str());
    o.str("how", how_name(s.how));
    o.u64("c2s_packets", s.packets_c2s);
    o.u64("s2c_packets", s.packets_s2c);
    o.u64("c2s_bytes", s.bytes_c2s);
    o.u64("s2c_bytes", s.bytes_s2c);
    o.u64("retransmits", s.retransmissions);
    o.u64("out_of_order", s.out_of_order);
    o.u64("gaps", s.gaps);
    o.u64("gap_bytes", s.gap_bytes);
    o.u64("syn_retries", s.syn_retries);
    o.u64("rsts_ignored", s.rsts_ignored);
    o.u64("overlap_conflicts", s.overlap_conflicts);
    if let Some(t) = tls {
        let mut j = o.obj("tls");
        let version = t.version.map(version_text);
        let cipher = t.cipher.map(cipher_text);
        for (key, v) in [
            ("version", version.as_deref()),
            ("cipher", cipher.as_deref()),
            ("sni", t.sni.as_deref()),
            ("alpn", t.alpn.as_deref()),
        ] {
            match v {
                Some(v) => j.str(key, v),
                None => j.key(key).extend_from_slice(b"null"),
            }
        }
        let mut offered = j.arr("alpn_offered");
        for a in &t.alpn_offered {
            offered.str(a);
        }
        offered.end();
        j.end();
    }
    o.end();
    out.push(b'\n');
}

/// Column headings of the text table, each number's unit in it (a duration in seconds,
/// counts of packets, payload bytes, retransmitted segments, gaps and SYNs); the numbers are
/// right-aligned. `>` is client to server, `<` server to client. One word each, so that
/// the table splits on whitespace.
const HEADINGS: [&str; 15] = [
    "STREAM",
    "CLIENT",
    "SERVER",
    "START",
    "END",
    "DURATION(s)",
    "STATE",
    "PKTS>",
    "PKTS<",
    "BYTES>",
    "BYTES<",
    "RETX(segs)",
    "GAPS",
    "SYN-RETRY",
    "TLS",
];

/// Column widths of the text table, fixed because a row is written when its session ends,
/// before later rows are known. They fit the usual rows: stream ids below 10 million, IPv4
/// endpoints with ports (`255.255.255.255:65535`), `HH:MM:SS.micros` times, durations under
/// 1000 s, every state name, packet counts below a million and byte counts below 1 GB. A
/// wider value (an IPv6 endpoint, say) pushes the rest of its row to the right, as tcpdump
/// and `ss` do, rather than costing memory to size the columns. The last column, TLS
/// sessions only (`TLS 1.3 example.com h2`), is as wide as its text: rows of other
/// sessions end after SYN-RETRY.
const WIDTHS: [usize; 15] = [7, 21, 21, 15, 15, 11, 11, 6, 6, 9, 9, 10, 4, 9, 0];

/// Columns holding text (left-aligned); the others are numbers.
fn is_text_column(i: usize) -> bool {
    matches!(i, 1..=4 | 6 | 14)
}

/// Appends the heading line.
fn write_heading(out: &mut Vec<u8>, palette: Palette) {
    for (i, heading) in HEADINGS.into_iter().enumerate() {
        push_cell(out, i, heading, Some(Color::Bold), palette);
    }
    out.push(b'\n');
}

/// Appends one session's line; `cell` is scratch space.
fn write_row(
    out: &mut Vec<u8>,
    cell: &mut String,
    palette: Palette,
    s: &SessionInfo,
    tls: Option<&FlowTls>,
) {
    let mut line = Line {
        out,
        cell,
        palette,
        column: 0,
    };
    // Writing into a String cannot fail.
    line.cell(None, |c| {
        let _ = write!(c, "{}", SessionId::in_column(s.id, WIDTHS[0]));
    });
    line.cell(Some(Color::Cyan), |c| {
        let _ = write!(c, "{}", s.client);
    });
    line.cell(Some(Color::Cyan), |c| {
        let _ = write!(c, "{}", s.server);
    });
    line.cell(None, |c| write_time(c, s.first_ts_ns));
    line.cell(None, |c| write_time(c, s.last_ts_ns));
    line.cell(None, |c| {
        let micros = s.last_ts_ns.saturating_sub(s.first_ts_ns) / 1000;
        let _ = write!(
            c,
            "{}.{:06}",
            micros.div_euclid(1_000_000),
            micros.rem_euclid(1_000_000)
        );
    });
    let state = s.state.as_str();
    line.cell((state == "reset").then_some(Color::Red), |c| {
        c.push_str(state);
    });
    for n in [s.packets_c2s, s.packets_s2c, s.bytes_c2s, s.bytes_s2c] {
        line.cell(None, |c| {
            let _ = write!(c, "{n}");
        });
    }
    for n in [s.retransmissions, s.gaps, s.syn_retries] {
        line.cell((n != 0).then_some(Color::Yellow), |c| {
            let _ = write!(c, "{n}");
        });
    }
    if let Some(t) = tls {
        line.cell(None, |c| write_tls_cell(c, t));
    }
    line.out.push(b'\n');
}

/// The TLS cell: `TLS 1.3 example.com h2`, the version as `TLS` when unknown, the SNI as
/// `-` when the client sent none, and the ALPN as `offers h2,http/1.1` when the chosen one
/// is not known (TLS 1.3 without the key); SNI and ALPN escaped for the terminal.
fn write_tls_cell(c: &mut String, t: &FlowTls) {
    match t.version {
        Some(v) => c.push_str(&version_text(v)),
        None => c.push_str("TLS"),
    }
    c.push(' ');
    // Writing into a String cannot fail.
    match &t.sni {
        Some(sni) => {
            let _ = write!(c, "{}", Escaped::plain(sni));
        }
        None => c.push('-'),
    }
    match &t.alpn {
        Some(alpn) => {
            c.push(' ');
            let _ = write!(c, "{}", Escaped::plain(alpn));
        }
        None if !t.alpn_offered.is_empty() => {
            c.push_str(" offers ");
            for (i, a) in t.alpn_offered.iter().enumerate() {
                if i > 0 {
                    c.push(',');
                }
                let _ = write!(c, "{}", Escaped::plain(a));
            }
        }
        None => {}
    }
}

/// One line of the table being appended, cell by cell.
struct Line<'a> {
    out: &'a mut Vec<u8>,
    /// Scratch space for the cell being written: its length sets the padding.
    cell: &'a mut String,
    palette: Palette,
    /// The next cell's column.
    column: usize,
}

impl Line<'_> {
    /// Appends the next cell, as `write` puts it into the scratch space.
    fn cell(&mut self, color: Option<Color>, write: impl FnOnce(&mut String)) {
        self.cell.clear();
        write(self.cell);
        push_cell(self.out, self.column, self.cell, color, self.palette);
        self.column += 1;
    }
}

/// Appends column `i`'s cell after its separator, padded to the column's width before
/// colouring it (escape codes take no room on screen). The last column gets no trailing
/// spaces.
fn push_cell(out: &mut Vec<u8>, i: usize, cell: &str, color: Option<Color>, palette: Palette) {
    if i > 0 {
        out.extend_from_slice(b"  ");
    }
    let pad = WIDTHS.get(i).map_or(0, |w| w.saturating_sub(cell.len()));
    let left = is_text_column(i);
    if !left {
        out.extend(std::iter::repeat_n(b' ', pad));
    }
    match color {
        // Writing into a Vec cannot fail.
        Some(c) => {
            let _ = write!(out, "{}", palette.paint(c, cell));
        }
        None => out.extend_from_slice(cell.as_bytes()),
    }
    if left && i + 1 < WIDTHS.len() {
        out.extend(std::iter::repeat_n(b' ', pad));
    }
}
