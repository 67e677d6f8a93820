//! `capture`: one line (or one JSON object) per packet, or `-w` to save them.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::ops::ControlFlow;

use pcap_analyzer::{Analyzer, AnalyzerConfig, Handler, RunError};
use pcap_capture::{Packet, PcapNgWriter, PcapWriter};
use pcap_decode::Decoded;

use crate::args::CaptureArgs;
use crate::cmd::sessions;
use crate::error::{CliError, flow};
use crate::input::Input;
use crate::output::{Output, write_time};
use crate::render::{json, write_summary};
use crate::summary::Counts;

/// Runs `capture`.
pub fn run(args: &CaptureArgs) -> Result<(), CliError> {
    let mut input = Input::open(&args.source, None)?;
    match &args.write {
        Some(path) => save(&mut input, path),
        None => print(&mut input, args.output.json),
    }
}

/// Prints every packet: a summary line, or a JSON object with `--json`.
fn print(input: &mut Input, json: bool) -> Result<(), CliError> {
    let mut printer = Printer {
        out: Output::stdout(input.is_live()),
        line: String::with_capacity(256),
        json,
    };
    // On a read error, what was decoded before it is still written out.
    let ran = sessions::run(input, &mut printer, AnalyzerConfig::packets_only());
    let finished = printer.out.finish();
    ran.finish(input).and(finished)
}

/// The handler of `capture` without `-w`.
struct Printer {
    out: Output,
    line: String,
    json: bool,
}

impl Handler for Printer {
    type Error = CliError;

    fn packet(
        &mut self,
        frame: u64,
        packet: &Packet<'_>,
        decoded: &Decoded<'_>,
    ) -> ControlFlow<CliError> {
        if self.json {
            json::write_json(self.out.buffer(), frame, packet, decoded);
        } else {
            let line = &mut self.line;
            line.clear();
            write_time(line, packet.ts_ns);
            line.push(' ');
            // Writing into a String cannot fail.
            let _ = write_summary(line, decoded);
            line.push('\n');
            self.out.buffer().extend_from_slice(line.as_bytes());
        }
        flow(self.out.packet_done())
    }
}

/// Saves every packet to `path` (`-` = stdout): classic pcap when the input has a single
/// link type, pcapng when it mixes several.
fn save(input: &mut Input, path: &std::path::Path) -> Result<(), CliError> {
    let sink: Box<dyn Write> = if path.as_os_str() == "-" {
        Box::new(std::io::stdout().lock())
    } else {
        Box::new(File::create(path).map_err(|source| CliError::Io {
            path: path.to_owned(),
            source,
        })?)
    };
    let sink = BufWriter::with_capacity(1 << 20, sink);
    let writer = match input.link_type() {
        Some(link) => Writer::Pcap(PcapWriter::new(sink, link, input.snaplen())?),
        None => Writer::PcapNg(PcapNgWriter::new(sink, input.snaplen())?),
    };
    let mut saver = Saver {
        writer,
        live: input.is_live(),
        saved: 0,
    };
    let mut analyzer = Analyzer::new(AnalyzerConfig::packets_only());
    let result = match analyzer.run(input, &mut saver) {
        // A write error ends at once; after a read error, what was read is still saved.
        Err(RunError::Handler(e)) => return Err(e),
        result => result.map_err(RunError::into_inner),
    };
    saver.writer.flush()?;
    eprintln!(
        "pcap-cli: {} packets written to {}",
        saver.saved,
        path.display()
    );
    input.finish(&Counts::of(&analyzer, false));
    result
}

/// The handler of `capture -w`.
struct Saver {
    writer: Writer<BufWriter<Box<dyn Write>>>,
    /// Live, every packet reaches the file at once.
    live: bool,
    saved: u64,
}

impl Handler for Saver {
    type Error = CliError;

    fn packet(&mut self, _: u64, packet: &Packet<'_>, _: &Decoded<'_>) -> ControlFlow<CliError> {
        flow(self.writer.write(packet))?;
        self.saved += 1;
        if self.live {
            flow(self.writer.flush())?;
        }
        ControlFlow::Continue(())
    }
}

/// The two file formats `-w` can write.
enum Writer<W: Write> {
    Pcap(PcapWriter<W>),
    PcapNg(PcapNgWriter<W>),
}

impl<W: Write> Writer<W> {
    fn write(&mut self, p: &Packet<'_>) -> Result<(), CliError> {
        match self {
            Writer::Pcap(w) => w.write_packet(p)?,
            Writer::PcapNg(w) => w.write_packet(p)?,
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), CliError> {
        match self {
            Writer::Pcap(w) => w.flush()?,
            Writer::PcapNg(w) => w.flush()?,
        }
        Ok(())
    }
}
