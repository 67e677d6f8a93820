//! `export --parquet OUTDIR`: the packets, flows, HTTP transactions, WebSocket messages,
//! DNS messages and TLS handshakes of a capture as Parquet tables partitioned by hour
//! (see docs/analytics.md).
//!
//! One analyzer run feeds three writers: packets and DNS messages are written from each
//! decoded packet; flows come from the `flows` handler and the rest from the `http-trace`
//! tracer, both writing their `--json` lines into memory, which are read back into typed
//! columns after each packet. The tables therefore hold the rows those subcommands print,
//! with the same values, and the record-building code stays in one place.

mod columns;
mod parts;
mod rows;

use std::ops::ControlFlow;
use std::path::Path;

use pcap_analyzer::{AnalyzerConfig, DefragNotice, Handler, Http2Event, Stream};
use pcap_capture::Packet;
use pcap_decode::Decoded;
use pcap_http_ws::{HttpConfig, HttpEvent};
use pcap_tcp_reassembly::Event;
use pcap_tls::TlsEvent;

use crate::args::ExportArgs;
use crate::cmd::flows::Flows;
use crate::cmd::sessions;
use crate::color::Palette;
use crate::error::{CliError, flow};
use crate::input::Input;
use crate::output::Output;
use crate::render::dns;
use crate::trace::{Filters, TraceOptions, TraceOut, Tracer};
use parts::Table;
use rows::{DnsLine, FlowLine, HttpLine, TlsLine, WebSocketLine};

/// Runs `export`.
pub fn run(args: &ExportArgs) -> Result<(), CliError> {
    let mut input = Input::open(&args.source, None)?;
    // As http-trace: bodies decoded for their lengths, TLS decrypted with the input's keys.
    let http = HttpConfig::default().with_decode_content(true);
    let mut config = AnalyzerConfig::with_http(http);
    config.protocol_memory = args.http_memory.saturating_mul(1 << 20);
    config.tls = Some(input.tls_config());
    config.keys = Some(input.keys());
    args.tcp.apply(&mut config.tcp);
    // As flows: reading a file, sessions end at FIN/RST, eviction or the end of the file,
    // never by idle time, so that the http rows' stream ids are the flows rows'. (http-trace
    // keeps the 5-minute idle timeout: on a capture with longer pauses its stream ids
    // differ, not its transactions.)
    if !input.is_live() {
        config.tcp.idle_timeout_ns = None;
    }
    // After the input: a capture that cannot be read creates nothing.
    std::fs::create_dir_all(&args.parquet).map_err(|source| CliError::Io {
        path: args.parquet.clone(),
        source,
    })?;
    let mut exporter = Exporter::new(&args.parquet);
    let ran = sessions::run(&mut input, &mut exporter, config);
    // Every file gets its footer, whatever stopped the run (Ctrl-C, a read error, a full
    // disk in another table).
    let closed = exporter.close();
    if let Some(warning) = exporter.tracer.defrag_warning() {
        eprintln!("{warning}");
    }
    let result = ran.finish(&mut input).and(closed);
    // After the closing line; an error is the one line a failed run prints.
    if result.is_ok() && !args.source.quiet {
        eprintln!("{}", exporter.summary(&args.parquet));
    }
    result
}

/// The handler: feeds the flows handler and the tracer, and turns what they and each
/// packet give into rows.
struct Exporter {
    flows: Flows,
    tracer: Tracer,
    packets: Table,
    dns: Table,
    flow_table: Table,
    http: Table,
    websocket: Table,
    tls: Table,
    /// A DNS message's JSON, reused.
    dns_json: Vec<u8>,
    /// The last packet's time: the partition of a transaction that has no time of its own
    /// (neither head seen).
    last_ts: i64,
}

impl Exporter {
    fn new(outdir: &Path) -> Exporter {
        let run = parts::run_id();
        let options = TraceOptions {
            json: true,
            filters: Filters::default(),
            all_headers: false,
            show_headers: Vec::new(),
            bodies: None,
            body_cap: None,
            tcp_verbose: false,
            grpc_raw: false,
            palette: Palette::plain(),
            format: None,
        };
        Exporter {
            flows: Flows::json_in_memory(),
            tracer: Tracer::new(TraceOut::Stdout(Output::memory()), options, None),
            packets: Table::new(outdir, "packets", rows::PACKETS, &run),
            dns: Table::new(outdir, "dns", rows::DNS, &run),
            flow_table: Table::new(outdir, "flows", rows::FLOWS, &run),
            http: Table::new(outdir, "http", rows::HTTP, &run),
            websocket: Table::new(outdir, "websocket", rows::WEBSOCKET, &run),
            tls: Table::new(outdir, "tls", rows::TLS, &run),
            dns_json: Vec::new(),
            last_ts: 0,
        }
    }

    fn tables(&mut self) -> [&mut Table; 6] {
        [
            &mut self.packets,
            &mut self.flow_table,
            &mut self.http,
            &mut self.websocket,
            &mut self.dns,
            &mut self.tls,
        ]
    }

    /// Turns the JSON lines the flows handler and the tracer wrote into rows.
    fn take_lines(&mut self) -> Result<(), CliError> {
        if self.flows.lines().is_empty() && self.tracer.lines().is_empty() {
            return Ok(());
        }
        let last_ts = self.last_ts;
        let flows = std::mem::take(self.flows.lines());
        for line in flows.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            let f: FlowLine<'_> = parse(line, "flows")?;
            self.flow_table
                .append(f.ts().unwrap_or(last_ts), |r| f.row(r))?;
        }
        *self.flows.lines() = reuse(flows);
        let traced = std::mem::take(self.tracer.lines());
        for line in traced.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            // Every trace line starts with its type.
            if line.starts_with(br#"{"type":"http","#) {
                let h: HttpLine<'_> = parse(line, "http")?;
                self.http.append(h.ts().unwrap_or(last_ts), |r| h.row(r))?;
            } else if line.starts_with(br#"{"type":"websocket","#) {
                let w: WebSocketLine<'_> = parse(line, "websocket")?;
                self.websocket
                    .append(w.ts().unwrap_or(last_ts), |r| w.row(r))?;
            } else if line.starts_with(br#"{"type":"tls","#) {
                let t: TlsLine<'_> = parse(line, "tls")?;
                self.tls.append(t.ts().unwrap_or(last_ts), |r| t.row(r))?;
            }
        }
        *self.tracer.lines() = reuse(traced);
        Ok(())
    }

    /// Closes every table's files; the first error is returned, after all were tried.
    fn close(&mut self) -> Result<(), CliError> {
        let mut first_error = None;
        for t in self.tables() {
            if let Err(e) = t.finish() {
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// `pcap-cli: export to OUTDIR: packets 120 rows, flows 3 rows, ... in N files`.
    fn summary(&mut self, outdir: &Path) -> String {
        let mut text = format!(
            "pcap-cli: export to {}:",
            crate::render::escape::Escaped::path(outdir)
        );
        let mut files = 0;
        for (i, t) in self.tables().into_iter().enumerate() {
            let (rows, n) = t.counts();
            files += n;
            let sep = if i == 0 { " " } else { ", " };
            text.push_str(&format!("{sep}{} {rows} rows", t.name()));
        }
        text.push_str(&format!(" in {files} files"));
        text
    }
}

/// An emptied buffer, its capacity kept.
fn reuse(mut buf: Vec<u8>) -> Vec<u8> {
    buf.clear();
    buf
}

/// Reads back one of our own JSON lines; failing is a bug, reported as the table's error.
fn parse<'a, T: serde::Deserialize<'a>>(line: &'a [u8], table: &str) -> Result<T, CliError> {
    serde_json::from_slice(line).map_err(|e| CliError::Parquet {
        path: format!("table={table}").into(),
        source: parquet::errors::ParquetError::General(format!(
            "internal error: cannot read back a JSON record: {e}"
        )),
    })
}

impl Handler for Exporter {
    type Error = CliError;

    fn packet(
        &mut self,
        frame: u64,
        packet: &Packet<'_>,
        d: &Decoded<'_>,
    ) -> ControlFlow<CliError> {
        self.last_ts = packet.ts_ns;
        self.flows.packet(frame, packet, d)?;
        self.tracer.packet(frame, packet, d)?;
        flow(self.packets.append(packet.ts_ns, |r| {
            rows::packet_row(r, frame, packet, d);
        }))?;
        if let Some(Ok(msg)) = d.dns() {
            self.dns_json.clear();
            dns::write_json(&mut self.dns_json, &msg);
            let json = std::mem::take(&mut self.dns_json);
            let written = parse::<DnsLine<'_>>(&json, "dns").and_then(|m| {
                self.dns
                    .append(packet.ts_ns, |r| rows::dns_row(r, frame, packet, d, &m))
            });
            self.dns_json = json;
            flow(written)?;
        }
        ControlFlow::Continue(())
    }

    fn tcp(&mut self, event: &Event<'_>) -> ControlFlow<CliError> {
        self.flows.tcp(event)?;
        self.tracer.tcp(event)
    }

    fn http(&mut self, stream: &Stream, event: &HttpEvent<'_>) -> ControlFlow<CliError> {
        self.flows.http(stream, event)?;
        self.tracer.http(stream, event)
    }

    fn tls(&mut self, stream: &Stream, event: &TlsEvent<'_>) -> ControlFlow<CliError> {
        self.flows.tls(stream, event)?;
        self.tracer.tls(stream, event)
    }

    fn http2(&mut self, stream: &Stream, event: &Http2Event<'_>) -> ControlFlow<CliError> {
        self.flows.http2(stream, event)?;
        self.tracer.http2(stream, event)
    }

    fn defrag(&mut self, notice: &DefragNotice) -> ControlFlow<CliError> {
        self.flows.defrag(notice)?;
        self.tracer.defrag(notice)
    }

    fn packet_done(&mut self) -> ControlFlow<CliError> {
        self.flows.packet_done()?;
        self.tracer.packet_done()?;
        flow(self.take_lines())
    }

    fn finished(&mut self) -> ControlFlow<CliError> {
        self.flows.finished()?;
        self.tracer.finished()?;
        flow(self.take_lines())
    }
}
