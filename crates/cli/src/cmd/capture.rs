//! `capture`: one line (or one JSON object) per packet, or `-w` to save them.

use std::fs::File;
use std::io::{BufWriter, Write};

use pcap_capture::{Packet, PcapNgWriter, PcapWriter};
use pcap_decode::decode_packet;

use crate::args::CaptureArgs;
use crate::error::CliError;
use crate::input::Input;
use crate::output::{Output, write_time};
use crate::render::{json, write_summary};

/// Runs `capture`.
pub fn run(args: &CaptureArgs) -> Result<(), CliError> {
    let mut input = Input::open(&args.source, None)?;
    let result = match &args.write {
        Some(path) => save(&mut input, path),
        None => print(&mut input, args.output.json),
    };
    input.report_stats();
    result
}

/// Prints every packet: a summary line, or a JSON object with `--json`.
fn print(input: &mut Input, as_json: bool) -> Result<(), CliError> {
    let mut out = Output::stdout(input.is_live());
    let mut line = String::with_capacity(256);
    let mut frame = 0u64;
    // On a read error, what was decoded before it is still written out.
    let result = loop {
        let packet = match input.next_packet() {
            Ok(Some(p)) => p,
            Ok(None) => break Ok(()),
            Err(e) => break Err(e),
        };
        frame += 1;
        let decoded = decode_packet(packet.link_type, packet.data);
        if as_json {
            json::write_json(out.buffer(), frame, &packet, &decoded);
        } else {
            line.clear();
            write_time(&mut line, packet.ts_ns);
            line.push(' ');
            // Writing into a String cannot fail.
            let _ = write_summary(&mut line, &decoded);
            line.push('\n');
            out.buffer().extend_from_slice(line.as_bytes());
        }
        out.packet_done()?;
    };
    out.finish()?;
    result
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
    let mut writer = match input.link_type() {
        Some(link) => Writer::Pcap(PcapWriter::new(sink, link, input.snaplen())?),
        None => Writer::PcapNg(PcapNgWriter::new(sink, input.snaplen())?),
    };
    let live = input.is_live();
    let mut saved = 0u64;
    let result = loop {
        let packet = match input.next_packet() {
            Ok(Some(p)) => p,
            Ok(None) => break Ok(()),
            Err(e) => break Err(e),
        };
        writer.write(&packet)?;
        saved += 1;
        if live {
            writer.flush()?;
        }
    };
    writer.flush()?;
    eprintln!("pcap-cli: {saved} packets written to {}", path.display());
    result
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
