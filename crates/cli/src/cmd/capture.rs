//! `capture`: one line (or one JSON object) per packet, or `-w` to save them.
//!
//! `-w FILE --keylog KEYS` writes pcapng with the key logs in a Decryption Secrets Block
//! (secrets type `TLSK`, as Wireshark's `editcap --inject-secrets` does) before the first
//! packet, so that the one file decrypts anywhere. During a live capture, lines the
//! programs append to the key logs go into a new block before the next packet (the files
//! are looked at every [`KEYLOG_POLL`] at most).

use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use pcap_analyzer::DefragNotice;
use pcap_analyzer::{Analyzer, AnalyzerConfig, Handler, RunError};
use pcap_capture::{DecryptionSecrets, FileReader, Packet, PcapNgWriter, PcapWriter};
use pcap_decode::defrag::{DefragConfig, Defragmenter, FragKey, Reassembled};
use pcap_decode::{Decoded, Link, Net, decode_transport};

use crate::args::CaptureArgs;
use crate::cmd::rotate::{Next, RotateOptions, Rotation};
use crate::cmd::sessions;
use crate::defrag::DefragTally;
use crate::error::{CliError, flow};
use crate::input::Input;
use crate::output::{Output, write_time};
use crate::render::direction::InterfaceNames;
use crate::render::escape::Escaped;
use crate::render::numbers::{RelativeSeq, Shown, wire_len};
use crate::render::{dump, json, write_summary_with};
use crate::summary::{Counts, plural};

/// Least time between two looks at the key log files during a live `-w --keylog`.
pub const KEYLOG_POLL: Duration = Duration::from_millis(100);

/// Runs `capture`.
pub fn run(args: &CaptureArgs) -> Result<(), CliError> {
    let mut input = Input::open(&args.source, None)?;
    match &args.write {
        Some(_) if args.rotate_count.is_some() && !rotate_any(args) => Err(CliError::Usage(
            "-W needs -G or -C: it counts the files they start",
        )),
        Some(path) => {
            let rotate = RotateOptions {
                seconds: args.rotate_seconds,
                size: args.rotate_size,
                count: args.rotate_count,
                utc: args.output.utc,
            };
            save(&mut input, path, &args.source.keylog, rotate)
        }
        None => print(&mut input, args),
    }
}

/// True when `-G` or `-C` was given.
fn rotate_any(args: &CaptureArgs) -> bool {
    args.rotate_seconds.is_some() || args.rotate_size.is_some()
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
        link: args.link_header,
        verbose: args.verbose,
        interfaces: InterfaceNames::default(),
        // One file only: interface numbers are per file, and a packet of several files
        // merged into one capture does not say which file it came from.
        file_interfaces: match args.source.read.as_slice() {
            [path] if path.as_os_str() != "-" => file_interface_names(path),
            _ => Vec::new(),
        },
        defrag: Defragmenter::new(DefragConfig::default()),
        defrag_tally: DefragTally::default(),
    };
    // On a read error, what was decoded before it is still written out.
    let ran = sessions::run(input, &mut printer, AnalyzerConfig::packets_only());
    note_defrag_events(&mut printer.defrag, &mut printer.defrag_tally, 0);
    let finished = printer.out.finish();
    if let Some(warning) = printer.defrag_tally.warning() {
        eprintln!("{warning}");
    }
    ran.finish(input).and(finished)
}

/// How many packets [`file_interface_names`] reads past, at most, looking for interfaces.
const INTERFACE_SCAN: usize = 1024;

/// The names a pcapng file's Interface Description Blocks give its interfaces (escaped for
/// the terminal), by interface id, when it has two or more: each line then starts with its
/// packet's, as tshark's `frame.interface_name`. Read from the blocks among the first
/// [`INTERFACE_SCAN`] packets (writers put them first; interfaces described later show no
/// name); none for classic pcap or a file that cannot be read (the run reports that).
fn file_interface_names(path: &Path) -> Vec<Option<String>> {
    let Ok(mut reader) = FileReader::open(path) else {
        return Vec::new();
    };
    for _ in 0..INTERFACE_SCAN {
        if !matches!(reader.next_packet(), Ok(Some(_))) {
            break;
        }
    }
    let count = reader.interfaces().len();
    if count < 2 {
        return Vec::new();
    }
    (0..count)
        .map(|id| {
            let id = u32::try_from(id).ok()?;
            reader
                .interface_name(id)
                .map(|n| Escaped::plain(n).to_string())
        })
        .collect()
}

/// The handler of `capture` without `-w`.
struct Printer {
    out: Output,
    line: String,
    json: bool,
    dump: Dump,
    /// Relative TCP sequence numbers (not with `-S`).
    relative: Option<RelativeSeq>,
    /// `-e`: MAC addresses.
    link: bool,
    /// `-v`: IP fields, TCP options, checksums.
    verbose: bool,
    /// Names of the interfaces cooked captures (`-i any`) give by index.
    interfaces: InterfaceNames,
    /// A pcapng file's interface names by interface id, escaped, when it has several.
    file_interfaces: Vec<Option<String>>,
    /// IP fragments waiting for the rest of their datagram.
    defrag: Defragmenter,
    /// What the defragmenter refused or lost, for the warning at the end.
    defrag_tally: DefragTally,
}

impl Printer {
    /// Writes a packet's text line (and its dump). The fragment that completes an IP
    /// datagram shows the datagram's transport header and payload, as tshark does, with
    /// `(reassembled from N fragments)` at the end.
    fn write_line(&mut self, packet: &Packet<'_>, decoded: &Decoded<'_>) {
        let datagram = defragment(&mut self.defrag, &mut self.defrag_tally, packet, decoded);
        let whole;
        let (decoded, fragments) = match &datagram {
            Some((protocol, dg)) => match decode_transport(*protocol, dg.payload, 0) {
                Ok((Some(transport), payload)) => {
                    let mut d = decoded.clone();
                    d.transport = Some(transport);
                    d.payload = payload;
                    whole = d;
                    (&whole, Some(dg.fragments))
                }
                _ => (decoded, None),
            },
            None => (decoded, None),
        };
        let line = &mut self.line;
        line.clear();
        write_time(line, packet.ts_ns);
        line.push(' ');
        if let Some(Some(name)) = usize::try_from(packet.interface)
            .ok()
            .and_then(|i| self.file_interfaces.get(i))
        {
            let _ = write!(line, "{name:<5} ");
        }
        if let Some(Link::Sll(sll)) = &decoded.link {
            self.interfaces.write(line, sll, self.link);
        }
        let shown = Shown {
            seq_ack: self.relative.as_mut().and_then(|r| r.numbers(decoded)),
            // A reassembled payload is all there: its length is what it holds.
            wire_len: fragments.is_none().then(|| wire_len(packet, decoded)),
            link: self.link,
            verbose: self.verbose,
        };
        // Writing into a String cannot fail.
        let _ = write_summary_with(line, decoded, shown);
        if let Some(n) = fragments {
            let _ = write!(line, " (reassembled from {n} fragments)");
        }
        line.push('\n');
        match self.dump {
            Dump::None => {}
            Dump::HexAscii => dump::hex_ascii(line, decoded.payload),
            Dump::Ascii => dump::ascii(line, decoded.payload),
        }
        self.out.buffer().extend_from_slice(line.as_bytes());
    }
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
            self.write_line(packet, decoded);
        }
        flow(self.out.packet_done())
    }
}

/// Counts what the defragmenter reported (datagrams dropped incomplete, overlaps).
fn note_defrag_events(defrag: &mut Defragmenter, tally: &mut DefragTally, ts_ns: i64) {
    for event in defrag.take_events() {
        tally.note(&DefragNotice::Event { ts_ns, event });
    }
}

/// Hands an IP fragment to the defragmenter; the datagram's protocol and the datagram
/// when this fragment completes one. Refusals and datagrams lost to the limits are
/// counted for the warning at the end.
fn defragment<'d>(
    defrag: &'d mut Defragmenter,
    tally: &mut DefragTally,
    packet: &Packet<'_>,
    decoded: &Decoded<'_>,
) -> Option<(u8, Reassembled<'d>)> {
    let fragment = decoded.fragment()?;
    note_defrag_events(defrag, tally, packet.ts_ns);
    let key = FragKey {
        src: decoded.src_ip()?,
        dst: decoded.dst_ip()?,
        protocol: decoded.net.as_ref().and_then(Net::protocol)?,
        id: fragment.id,
        // Fragments inside two different tunnels are two datagrams.
        tunnel: decoded.tunnel_path(),
    };
    let pushed = defrag.push(
        packet.ts_ns,
        key,
        fragment.offset,
        fragment.more,
        decoded.ip_payload(packet.data),
    );
    let datagram = match pushed {
        Ok(d) => d,
        Err(error) => {
            tally.note(&DefragNotice::Refused {
                ts_ns: packet.ts_ns,
                key,
                error,
            });
            None
        }
    };
    datagram.map(|d| (key.protocol, d))
}

/// Saves every packet to `path` (`-` = stdout): classic pcap when the input has a single
/// link type, pcapng when it mixes several or when `keylogs` are to be embedded; in several
/// files when `rotate` says so ([`rotate`]).
fn save(
    input: &mut Input,
    path: &Path,
    keylogs: &[PathBuf],
    rotate: RotateOptions,
) -> Result<(), CliError> {
    if rotate.any() && path.as_os_str() == "-" {
        return Err(CliError::Usage(
            "-G and -C need a file name: standard output cannot be rotated",
        ));
    }
    // Read before the output is created: a key log that cannot be read leaves it alone.
    let mut tail = (!keylogs.is_empty())
        .then(|| KeyLogTail::new(keylogs))
        .transpose()?;
    let keys = match tail.as_mut() {
        Some(t) => Some(t.new_lines(true)?),
        None => None,
    };
    let live = input.is_live();
    let mut saver = Saver {
        files: Files {
            link: input.link_type(),
            snaplen: input.snaplen(),
            keys,
            written: Arc::new(AtomicU64::new(0)),
        },
        writer: None,
        rotation: rotate.any().then(|| Rotation::new(path, rotate)),
        names: Vec::new(),
        live,
        saved: 0,
        // Only a live capture sees the programs write more keys while it runs.
        tail: tail.filter(|_| live),
        stop: input.stop_flag(),
    };
    if saver.rotation.is_none() {
        // One file, created before the first packet (an error shows at once).
        saver.open(path.to_owned())?;
    }
    let mut analyzer = Analyzer::new(AnalyzerConfig::packets_only());
    let result = match analyzer.run(input, &mut saver) {
        // A write error ends at once; after a read error, what was read is still saved.
        Err(RunError::Handler(e)) => return Err(e),
        result => result.map_err(RunError::into_inner),
    };
    if saver.writer.is_none() {
        // No packet: the (first) file is still created, empty, as tcpdump does.
        let first = match saver.rotation.as_mut() {
            Some(r) => r.first(None)?,
            None => path.to_owned(),
        };
        saver.open(first)?;
    }
    if let Some(w) = saver.writer.as_mut() {
        w.flush()?;
    }
    match saver.names.as_slice() {
        [one] => eprintln!(
            "pcap-cli: {} packets written to {}",
            saver.saved,
            Escaped::path(one)
        ),
        names => eprintln!(
            "pcap-cli: {} packets written to {} files, {} to {}",
            saver.saved,
            names.len(),
            names
                .first()
                .map(|p| Escaped::path(p).to_string())
                .unwrap_or_default(),
            names
                .last()
                .map(|p| Escaped::path(p).to_string())
                .unwrap_or_default(),
        ),
    }
    let blocks = input.secret_blocks();
    if blocks > 0 {
        // Not copied: the writer may be classic pcap, and only `--keylog` files are embedded.
        eprintln!(
            "pcap-cli: warning: {} in the input not written to the output: \
             give the key log with --keylog to embed it",
            plural(blocks, "Decryption Secrets Block")
        );
    }
    input.finish(&Counts::of(&analyzer, false));
    result
}

/// The output file of `capture -w`: a buffered file (or stdout) counting what it took.
type Out = Counted<BufWriter<Box<dyn Write>>>;

/// How `capture -w` makes each of its files.
struct Files {
    /// The input's link type, when it has one: pcap; else pcapng.
    link: Option<pcap_capture::LinkType>,
    snaplen: u32,
    /// With `--keylog`: every key log line so far, written at the start of each file so
    /// that each decrypts alone (pcapng).
    keys: Option<Vec<u8>>,
    /// Bytes written to the current file.
    written: Arc<AtomicU64>,
}

impl Files {
    fn create(&self, path: &Path) -> Result<Writer<Out>, CliError> {
        let sink: Box<dyn Write> = if path.as_os_str() == "-" {
            Box::new(std::io::stdout().lock())
        } else {
            Box::new(File::create(path).map_err(|source| CliError::Io {
                path: path.to_owned(),
                source,
            })?)
        };
        self.written.store(0, Ordering::Relaxed);
        let sink = Counted {
            inner: BufWriter::with_capacity(1 << 20, sink),
            written: Arc::clone(&self.written),
        };
        let mut writer = match (self.link, &self.keys) {
            (Some(link), None) => Writer::Pcap(PcapWriter::new(sink, link, self.snaplen)?),
            _ => Writer::PcapNg(PcapNgWriter::new(sink, self.snaplen)?),
        };
        if let (Writer::PcapNg(w), Some(text)) = (&mut writer, &self.keys) {
            // Written even when empty: the file says it was meant to carry keys.
            w.write_secrets(&DecryptionSecrets::new(
                DecryptionSecrets::TLS_KEY_LOG,
                text.clone(),
            ))?;
        }
        Ok(writer)
    }
}

/// A writer that counts the bytes it passes on, for `-C`.
struct Counted<W> {
    inner: W,
    written: Arc<AtomicU64>,
}

impl<W: Write> Write for Counted<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.written.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// The handler of `capture -w`.
struct Saver {
    files: Files,
    /// The current file; with rotation, opened at the first packet.
    writer: Option<Writer<Out>>,
    /// `-G`/`-C`: when to start the next file.
    rotation: Option<Rotation>,
    /// The files written, in order.
    names: Vec<PathBuf>,
    /// Live, every packet reaches the file at once.
    live: bool,
    saved: u64,
    /// Live with `--keylog`: the key logs, for the lines appended during the capture.
    tail: Option<KeyLogTail>,
    /// Set to end the capture (`-G` with `-W`: all files written).
    stop: Arc<AtomicBool>,
}

impl Saver {
    /// Closes the current file, if any, and starts writing to `path`.
    fn open(&mut self, path: PathBuf) -> Result<(), CliError> {
        if let Some(w) = self.writer.as_mut() {
            w.flush()?;
        }
        self.writer = Some(self.files.create(&path)?);
        self.names.push(path);
        Ok(())
    }

    /// Opens the file a packet at `ts_ns` goes to, when it is not the current one; false
    /// when the capture is to stop before this packet.
    fn rotate(&mut self, ts_ns: i64) -> Result<bool, CliError> {
        let Some(rotation) = self.rotation.as_mut() else {
            return Ok(true);
        };
        let next = if self.writer.is_none() {
            Next::Open(rotation.first(Some(ts_ns))?)
        } else {
            rotation.next(ts_ns, self.files.written.load(Ordering::Relaxed))?
        };
        match next {
            Next::Same => Ok(true),
            Next::Open(path) => self.open(path).map(|()| true),
            Next::Stop => {
                self.stop.store(true, Ordering::Relaxed);
                Ok(false)
            }
        }
    }

    /// Writes a Decryption Secrets Block with the key log lines appended since the last
    /// one, when there are any and [`KEYLOG_POLL`] has passed since the last look.
    fn new_secrets(&mut self) -> Result<(), CliError> {
        let (Some(tail), Some(Writer::PcapNg(w))) = (self.tail.as_mut(), self.writer.as_mut())
        else {
            return Ok(());
        };
        if tail.checked.elapsed() < KEYLOG_POLL {
            return Ok(());
        }
        let text = tail.new_lines(false)?;
        if !text.is_empty() {
            if let Some(all) = self.files.keys.as_mut() {
                all.extend_from_slice(&text);
            }
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
        match self.rotate(packet.ts_ns) {
            Ok(true) => {}
            // -G with -W: the last file is written; the capture ends.
            Ok(false) => return ControlFlow::Continue(()),
            Err(e) => return ControlFlow::Break(e),
        }
        flow(self.new_secrets())?;
        let Some(writer) = self.writer.as_mut() else {
            return ControlFlow::Continue(());
        };
        flow(writer.write(packet))?;
        self.saved += 1;
        if self.live {
            flow(writer.flush())?;
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
