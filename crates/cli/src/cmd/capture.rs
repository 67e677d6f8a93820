//! `capture`: one line (or one JSON object) per packet, or `-w` to save them.
//!
//! `-w FILE --keylog KEYS` writes pcapng with the key logs in a Decryption Secrets Block
//! (secrets type `TLSK`, as Wireshark's `editcap --inject-secrets` does) before the first
//! packet, so that the one file decrypts anywhere. During a live capture, lines the
//! programs append to the key logs go into a new block before the next packet (the files
//! are looked at every [`KEYLOG_POLL`] at most).

use std::fs::File;
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use pcap_analyzer::{Analyzer, AnalyzerConfig, Handler, RunError};
use pcap_capture::{DecryptionSecrets, Packet, PcapNgWriter, PcapWriter};
use pcap_decode::Decoded;

use crate::args::CaptureArgs;
use crate::cmd::sessions;
use crate::error::{CliError, flow};
use crate::input::Input;
use crate::output::{Output, write_time};
use crate::render::escape::Escaped;
use crate::render::numbers::{RelativeSeq, Shown, wire_len};
use crate::render::{dump, json, write_summary_with};
use crate::summary::Counts;

/// Least time between two looks at the key log files during a live `-w --keylog`.
pub const KEYLOG_POLL: Duration = Duration::from_millis(100);

/// Runs `capture`.
pub fn run(args: &CaptureArgs) -> Result<(), CliError> {
    let mut input = Input::open(&args.source, None)?;
    match &args.write {
        Some(path) => save(&mut input, path, &args.source.keylog),
        None => print(&mut input, args),
    }
}

/// What `capture` shows after each packet's line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dump {
    None,
    /// `-X`.
    HexAscii,
    /// `-A`.
    Ascii,
}

/// Prints every packet: a summary line, or a JSON object with `--json`.
fn print(input: &mut Input, args: &CaptureArgs) -> Result<(), CliError> {
    let mut printer = Printer {
        out: Output::stdout(input.is_live()),
        line: String::with_capacity(256),
        json: args.output.json,
        dump: if args.hex_ascii {
            Dump::HexAscii
        } else if args.ascii {
            Dump::Ascii
        } else {
            Dump::None
        },
        relative: (!args.absolute_seq).then(RelativeSeq::default),
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
    dump: Dump,
    /// Relative TCP sequence numbers (not with `-S`).
    relative: Option<RelativeSeq>,
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
            let shown = Shown {
                seq_ack: self.relative.as_mut().and_then(|r| r.numbers(decoded)),
                wire_len: Some(wire_len(packet, decoded)),
            };
            // Writing into a String cannot fail.
            let _ = write_summary_with(line, decoded, shown);
            line.push('\n');
            match self.dump {
                Dump::None => {}
                Dump::HexAscii => dump::hex_ascii(line, decoded.payload),
                Dump::Ascii => dump::ascii(line, decoded.payload),
            }
            self.out.buffer().extend_from_slice(line.as_bytes());
        }
        flow(self.out.packet_done())
    }
}

/// Saves every packet to `path` (`-` = stdout): classic pcap when the input has a single
/// link type, pcapng when it mixes several or when `keylogs` are to be embedded.
fn save(input: &mut Input, path: &Path, keylogs: &[PathBuf]) -> Result<(), CliError> {
    // Read before the output is created: a key log that cannot be read leaves it alone.
    let mut tail = (!keylogs.is_empty())
        .then(|| KeyLogTail::new(keylogs))
        .transpose()?;
    let first_keys = match tail.as_mut() {
        Some(t) => Some(t.new_lines(true)?),
        None => None,
    };
    let sink: Box<dyn Write> = if path.as_os_str() == "-" {
        Box::new(std::io::stdout().lock())
    } else {
        Box::new(File::create(path).map_err(|source| CliError::Io {
            path: path.to_owned(),
            source,
        })?)
    };
    let sink = BufWriter::with_capacity(1 << 20, sink);
    let mut writer = match (input.link_type(), &first_keys) {
        (Some(link), None) => Writer::Pcap(PcapWriter::new(sink, link, input.snaplen())?),
        _ => Writer::PcapNg(PcapNgWriter::new(sink, input.snaplen())?),
    };
    if let (Writer::PcapNg(w), Some(text)) = (&mut writer, &first_keys) {
        // Written even when empty: the file says it was meant to carry keys.
        w.write_secrets(&DecryptionSecrets::new(
            DecryptionSecrets::TLS_KEY_LOG,
            text.clone(),
        ))?;
    }
    let live = input.is_live();
    let mut saver = Saver {
        writer,
        live,
        saved: 0,
        // Only a live capture sees the programs write more keys while it runs.
        tail: tail.filter(|_| live),
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
        Escaped::path(path)
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
    /// Live with `--keylog`: the key logs, for the lines appended during the capture.
    tail: Option<KeyLogTail>,
}

impl Saver {
    /// Writes a Decryption Secrets Block with the key log lines appended since the last
    /// one, when there are any and [`KEYLOG_POLL`] has passed since the last look.
    fn new_secrets(&mut self) -> Result<(), CliError> {
        let (Some(tail), Writer::PcapNg(w)) = (self.tail.as_mut(), &mut self.writer) else {
            return Ok(());
        };
        if tail.checked.elapsed() < KEYLOG_POLL {
            return Ok(());
        }
        let text = tail.new_lines(false)?;
        if !text.is_empty() {
            w.write_secrets(&DecryptionSecrets::new(
                DecryptionSecrets::TLS_KEY_LOG,
                text,
            ))?;
        }
        Ok(())
    }
}

impl Handler for Saver {
    type Error = CliError;

    fn packet(&mut self, _: u64, packet: &Packet<'_>, _: &Decoded<'_>) -> ControlFlow<CliError> {
        flow(self.new_secrets())?;
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

/// The key log files given with `--keylog`, and how much of each was embedded.
struct KeyLogTail {
    files: Vec<(PathBuf, u64)>,
    /// When the files were last looked at.
    checked: Instant,
}

impl KeyLogTail {
    fn new(paths: &[PathBuf]) -> Result<KeyLogTail, CliError> {
        Ok(KeyLogTail {
            files: paths.iter().map(|p| (p.clone(), 0)).collect(),
            checked: Instant::now(),
        })
    }

    /// The whole lines each file gained since it was last read (a last line still being
    /// written waits for its end), one file after the other. A file that cannot be read
    /// is an error the `first` time; later (it went away) it is left as it was.
    fn new_lines(&mut self, first: bool) -> Result<Vec<u8>, CliError> {
        self.checked = Instant::now();
        let mut text = Vec::new();
        for (path, offset) in &mut self.files {
            let grown = (|| {
                let mut file = File::open(&*path)?;
                if file.metadata()?.len() <= *offset {
                    return Ok(Vec::new());
                }
                file.seek(SeekFrom::Start(*offset))?;
                let mut bytes = Vec::new();
                file.read_to_end(&mut bytes)?;
                Ok(bytes)
            })();
            let bytes = match grown {
                Ok(b) => b,
                Err(source) if first => {
                    return Err(CliError::Io {
                        path: path.clone(),
                        source,
                    });
                }
                Err(_) => continue,
            };
            if let Some(end) = bytes.iter().rposition(|&b| b == b'\n').map(|i| i + 1) {
                text.extend_from_slice(bytes.get(..end).unwrap_or_default());
                *offset += end as u64;
            }
        }
        Ok(text)
    }
}
