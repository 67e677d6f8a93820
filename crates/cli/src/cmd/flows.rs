//! `flows`: the TCP session table.
//!
//! `--json` streams: each session's line is written when the session ends (FIN exchange,
//! RST, eviction from a full table, 4-tuple reuse, end of input), in that end order like
//! Zeek's `conn.log`, so memory stays bounded by the reassembler's `max_sessions` cap
//! whatever the number of sessions. The text table is ordered by stream id and its column
//! widths depend on every row, so it holds one summary (about 170 bytes) per session until
//! the input ends.

use std::fmt::Write as _;

use pcap_decode::json::Obj;
use pcap_http_ws::pipeline::Handler;
use pcap_tcp_reassembly::{Event, EventKind, SessionInfo, StartKind};

use crate::args::FlowsArgs;
use crate::cmd::sessions::{analyze, push_ts};
use crate::color::{Color, Palette};
use crate::error::CliError;
use crate::input::Input;
use crate::output::{Output, write_time};

/// Runs `flows`.
pub fn run(args: &FlowsArgs) -> Result<(), CliError> {
    let mut input = Input::open(&args.source, None)?;
    let mut flows = Flows {
        json: args.output.json,
        out: Output::stdout(input.is_live()),
        ended: Vec::new(),
        error: None,
    };
    // A read error still prints the sessions seen before it: `analyze` ends them first.
    let result = analyze(&mut input, &mut flows, |f| {
        f.error.take().map_or(Ok(()), Err)
    });
    let Flows {
        json,
        mut out,
        mut ended,
        ..
    } = flows;
    if !json {
        ended.sort_unstable_by_key(|s| s.id);
        let text = write_table(&ended, Palette::new(&args.output));
        out.buffer().extend_from_slice(text.as_bytes());
    }
    let finished = out.finish();
    result.and(finished)
}

/// The handler: writes each ended session's JSON line, or keeps its summary for the table.
#[derive(Debug)]
struct Flows {
    json: bool,
    out: Output,
    /// Text table only: the summaries of the sessions ended so far.
    ended: Vec<SessionInfo>,
    /// The first write error; the run stops after the packet that caused it.
    error: Option<CliError>,
}

impl Handler for Flows {
    fn tcp(&mut self, event: &Event<'_>) {
        let info = match event.kind {
            EventKind::End { info }
            | EventKind::Reset { info, .. }
            | EventKind::Closed { info, .. } => info,
            _ => return,
        };
        if self.json {
            if self.error.is_some() {
                return;
            }
            write_json(self.out.buffer(), &info);
            // Written out here rather than after the packet: the end of the input ends every
            // open session at once (up to `max_sessions` lines).
            if let Err(e) = self.out.packet_done() {
                self.error = Some(e);
            }
        } else {
            self.ended.push(info);
        }
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
fn write_json(out: &mut Vec<u8>, s: &SessionInfo) {
    let mut o = Obj::new(out);
    o.u64("stream", s.id);
    o.display("client", s.client);
    o.display("server", s.server);
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
    o.end();
    out.push(b'\n');
}

/// Column headings of the text table; the numbers are right-aligned.
const HEADINGS: [&str; 14] = [
    "STREAM", "CLIENT", "SERVER", "START", "END", "DURATION", "STATE", "PKTS>", "PKTS<", "BYTES>",
    "BYTES<", "RETX", "GAPS", "SYNRETRY",
];

/// Columns holding text (left-aligned); the others are numbers.
fn is_text_column(i: usize) -> bool {
    matches!(i, 1..=4 | 6)
}

/// The table as text: a heading line, then one aligned line per session. `>` is client to
/// server, `<` server to client.
fn write_table(sessions: &[SessionInfo], palette: Palette) -> String {
    let rows: Vec<[String; 14]> = sessions.iter().map(row).collect();
    let mut widths = HEADINGS.map(str::len);
    for r in &rows {
        for (w, cell) in widths.iter_mut().zip(r) {
            *w = (*w).max(cell.len());
        }
    }
    let mut text = String::new();
    let heading = HEADINGS.map(str::to_owned);
    push_row(&mut text, &heading, &widths, |_, cell| {
        palette.paint(Color::Bold, cell).to_string()
    });
    for r in &rows {
        push_row(&mut text, r, &widths, |i, cell| match (i, cell) {
            (6, "reset") => palette.paint(Color::Red, cell).to_string(),
            (1 | 2, _) => palette.paint(Color::Cyan, cell).to_string(),
            (11..=13, c) if c != "0" => palette.paint(Color::Yellow, cell).to_string(),
            _ => cell.to_owned(),
        });
    }
    text
}

/// Appends one line, padding each cell to its column's width before colouring it (escape
/// codes take no room on screen).
fn push_row(
    text: &mut String,
    cells: &[String; 14],
    widths: &[usize; 14],
    paint: impl Fn(usize, &str) -> String,
) {
    for (i, (cell, &w)) in cells.iter().zip(widths).enumerate() {
        if i > 0 {
            text.push_str("  ");
        }
        let pad = w.saturating_sub(cell.len());
        let last = i + 1 == cells.len();
        if is_text_column(i) {
            text.push_str(&paint(i, cell));
            if !last {
                text.extend(std::iter::repeat_n(' ', pad));
            }
        } else {
            text.extend(std::iter::repeat_n(' ', pad));
            text.push_str(&paint(i, cell));
        }
    }
    text.push('\n');
}

/// The cells of one session's line.
fn row(s: &SessionInfo) -> [String; 14] {
    let mut start = String::new();
    write_time(&mut start, s.first_ts_ns);
    let mut end = String::new();
    write_time(&mut end, s.last_ts_ns);
    let micros = s.last_ts_ns.saturating_sub(s.first_ts_ns) / 1000;
    let mut duration = String::new();
    let _ = write!(
        duration,
        "{}.{:06}",
        micros.div_euclid(1_000_000),
        micros.rem_euclid(1_000_000)
    );
    [
        s.id.to_string(),
        s.client.to_string(),
        s.server.to_string(),
        start,
        end,
        duration,
        s.state.as_str().to_owned(),
        s.packets_c2s.to_string(),
        s.packets_s2c.to_string(),
        s.bytes_c2s.to_string(),
        s.bytes_s2c.to_string(),
        s.retransmissions.to_string(),
        s.gaps.to_string(),
        s.syn_retries.to_string(),
    ]
}
