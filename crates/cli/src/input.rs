//! Opening the packet source a subcommand reads: a file, several files read as one
//! capture, standard input or a live device, with a BPF filter, a packet count, Ctrl-C
//! handling and capture statistics.

mod files;

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use pcap_capture::live::{self, Breaker, LiveOptions};
use pcap_capture::{CaptureError, DecryptionSecrets, MergedFiles, Packet, Source};

use crate::args::SourceArgs;
use crate::error::CliError;
use crate::keys::Keys;
use crate::progress::Progress;
use crate::summary::{self, Counts};

/// Kernel capture buffer when `-B` is not given (tcpdump's default is 2 MiB).
const DEFAULT_BUFFER_KIB: u32 = 8 * 1024;

/// A packet source opened from the command line.
#[derive(Debug)]
pub struct Input {
    source: Source,
    remaining: Option<u64>,
    stop: Arc<AtomicBool>,
    read: u64,
    snaplen: u32,
    path: Option<std::path::PathBuf>,
    progress: Option<Progress>,
    /// No closing line (`-q`).
    quiet: bool,
    /// Packets captured shorter than on the wire, and the longest such capture.
    cut: u64,
    cut_at: u32,
    /// TLS secrets: key log files, and Decryption Secrets Blocks as they are read.
    keys: Arc<Keys>,
    /// Decryption Secrets Blocks read so far, of any kind.
    secret_blocks: u64,
    /// Several files: how many, and how many of them were damaged so far.
    files: u64,
    damaged: u64,
}

impl Input {
    /// Opens what `args` names. `live_default_filter` applies to live captures when the
    /// user gave no `-f`: it keeps uninteresting traffic in the kernel. Files get no default
    /// filter: decoding skips what it does not need anyway, and a BPF expression such as
    /// `tcp` would also drop VLAN-tagged or extension-header packets it was meant to keep.
    pub fn open(args: &SourceArgs, live_default_filter: Option<&str>) -> Result<Input, CliError> {
        let filter = args.filter.as_deref();
        let mut files = 0;
        let mut damaged = 0;
        let mut progress = None;
        let mut source = match args.read.as_slice() {
            // One file, a pipe (`<(...)`) or a path that does not exist read as before.
            [path] if !path.is_dir() && (path.exists() || !files::is_glob(path)) => {
                let read_error = |source: CaptureError| match source {
                    // The path says it all; "i/o error" would add nothing.
                    CaptureError::Io(e) => CliError::Io {
                        path: path.clone(),
                        source: e,
                    },
                    source => CliError::Read {
                        path: path.clone(),
                        source,
                    },
                };
                let mut s = Source::open_file(path).map_err(read_error)?;
                if let Some(f) = filter {
                    s.set_filter(f)?;
                }
                progress = Progress::for_files(std::slice::from_ref(path));
                s
            }
            paths @ [_, ..] => {
                if paths.iter().any(|p| p.as_os_str() == "-") {
                    return Err(CliError::Usage(
                        "-r - (standard input) cannot be read with other files",
                    ));
                }
                let found = files::find(paths)?;
                if found.heads.is_empty() {
                    return Err(CliError::Usage("-r: no capture file with packets to read"));
                }
                files = found.heads.len() as u64 + found.damaged;
                damaged = found.damaged;
                let paths: Vec<_> = found.heads.iter().map(|h| h.path.clone()).collect();
                progress = Progress::for_files(&paths);
                let mut merged = MergedFiles::new(found.heads);
                if let Some(f) = filter {
                    merged.set_filter(f)?;
                }
                Source::Files(merged)
            }
            [] => {
                let device = match &args.interface {
                    Some(d) => d.clone(),
                    None => live::default_device()?.ok_or(CliError::NoDevice)?.name,
                };
                let mut options = LiveOptions::default();
                options.snaplen = args.snaplen;
                options.promiscuous = !args.no_promisc;
                // Not libpcap's immediate mode: on Linux it falls back to a ring of
                // snaplen-sized slots (8 of them for 2 MiB at 256 KiB) that drops packets in
                // the smallest burst. A short read timeout keeps output prompt instead.
                options.immediate = false;
                options.timeout_ms = 100;
                options.buffer_size = Some(
                    args.buffer_kib
                        .unwrap_or(DEFAULT_BUFFER_KIB)
                        .saturating_mul(1024),
                );
                options.filter = filter.or(live_default_filter).map(str::to_owned);
                let s = Source::open_live(&device, &options)?;
                eprintln!("pcap-cli: listening on {device}");
                s
            }
        };
        if let Some(user) = &args.user {
            drop_privileges(user)?;
        }
        let keys = Keys::open(&args.keylog, matches!(source, Source::Live(_)))?;
        let stop = Arc::new(AtomicBool::new(false));
        install_ctrl_c(&mut source, Arc::clone(&stop));
        Ok(Input {
            source,
            remaining: match (args.count, args.packets) {
                (Some(c), Some(p)) => Some(c.min(p)),
                (c, p) => c.or(p),
            },
            stop,
            read: 0,
            snaplen: args.snaplen,
            path: match args.read.as_slice() {
                [path] => Some(path.clone()),
                _ => None,
            },
            progress,
            quiet: args.quiet,
            cut: 0,
            cut_at: 0,
            keys,
            secret_blocks: 0,
            files,
            damaged,
        })
    }

    /// The next packet, or `None` at the end of the input, after `-c N` packets, or once
    /// Ctrl-C was pressed.
    pub fn next_packet(&mut self) -> Result<Option<Packet<'_>>, CliError> {
        if self.remaining == Some(0) || self.stop.load(Ordering::Relaxed) {
            return Ok(None);
        }
        if !self.files_ready()? {
            return Ok(None);
        }
        self.take_secrets();
        let packet = match self.source.next_packet() {
            Ok(p) => p,
            Err(source) => {
                if let Some(p) = self.progress.as_mut() {
                    p.clear();
                }
                return Err(match &self.path {
                    Some(path) => CliError::Read {
                        path: path.clone(),
                        source,
                    },
                    None => CliError::Capture(source),
                });
            }
        };
        match (&packet, self.progress.as_mut()) {
            (Some(p), Some(progress)) => progress.packet(p.caplen),
            (None, Some(progress)) => progress.clear(),
            _ => {}
        }
        if let Some(p) = &packet {
            self.read += 1;
            if let Some(r) = self.remaining.as_mut() {
                *r -= 1;
            }
            if p.caplen < p.orig_len {
                self.cut += 1;
                self.cut_at = self.cut_at.max(p.caplen);
            }
        }
        Ok(packet)
    }

    /// With several files, makes the next packet ready and warns about the files that
    /// ended damaged before it; false at the end of the last file, where damage met on
    /// the way becomes the run's error (after every packet was handled). Always true for
    /// other sources.
    fn files_ready(&mut self) -> Result<bool, CliError> {
        let Source::Files(merged) = &mut self.source else {
            return Ok(true);
        };
        let more = merged.prepare();
        if merged.has_damage() {
            if let Some(p) = self.progress.as_mut() {
                p.clear();
            }
            for damage in merged.take_damage() {
                self.damaged += 1;
                files::warn_damaged(&damage);
            }
        }
        match (more, self.damaged) {
            (true, _) | (false, 0) => Ok(more),
            (false, damaged) => Err(CliError::DamagedFiles {
                damaged,
                files: self.files,
            }),
        }
    }

    /// Adds the key logs of the Decryption Secrets Blocks read so far. Called before each
    /// packet is read, so the secrets of a block reach the key store after the packet that
    /// follows it is handled: sessions look their secrets up at the ServerHello, which
    /// always comes after the packet that carried the ClientHello.
    fn take_secrets(&mut self) {
        let secrets = match &mut self.source {
            Source::File(file) if file.has_secrets() => {
                let source = match &self.path {
                    Some(p) => format!("in {}", p.display()),
                    None => "in the capture".to_owned(),
                };
                file.take_secrets()
                    .into_iter()
                    .map(|s| (source.clone(), s))
                    .collect()
            }
            Source::Files(files) if files.has_secrets() => files
                .take_secrets()
                .into_iter()
                .map(|(path, s)| (format!("in {}", path.display()), s))
                .collect(),
            _ => Vec::new(),
        };
        for (source, s) in secrets {
            self.secret_blocks += 1;
            if s.kind == DecryptionSecrets::TLS_KEY_LOG {
                self.keys.add_secrets(&s.data, &source);
            }
        }
    }

    /// Decryption Secrets Blocks read from the capture files so far (those after the last
    /// packet included), for `capture -w`, which does not copy them.
    pub fn secret_blocks(&mut self) -> u64 {
        self.take_secrets();
        self.secret_blocks
    }

    /// TLS decoding as this input needs it: on a live capture with key log files, a
    /// session whose secrets are not logged yet holds its records until they are.
    pub fn tls_config(&self) -> pcap_tls::TlsConfig {
        pcap_tls::TlsConfig::default().with_max_held_for_keys(self.keys.hold_for_keys())
    }

    /// The TLS secrets this input knows: from `--keylog` files (or `$SSLKEYLOGFILE`), and
    /// from the capture file's Decryption Secrets Blocks as they are read.
    pub fn keys(&self) -> Arc<Keys> {
        Arc::clone(&self.keys)
    }

    /// Stops reading from another thread, as Ctrl-C does: a live capture's wait is broken,
    /// and reading ends before the next packet; the subcommand then finishes normally.
    pub fn stopper(&mut self) -> Stopper {
        Stopper {
            stop: Arc::clone(&self.stop),
            breaker: match &mut self.source {
                Source::Live(l) => Some(l.breaker()),
                _ => None,
            },
        }
    }

    /// A flag that, once set, ends reading before the next packet, as Ctrl-C does: the
    /// subcommand then finishes normally.
    pub fn stop_flag(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.stop)
    }

    /// Packets handed out so far.
    pub fn packets_read(&self) -> u64 {
        self.read
    }

    /// The link type, when the source has a single one.
    pub fn link_type(&self) -> Option<pcap_capture::LinkType> {
        self.source.link_type()
    }

    /// The snapshot length to record in saved files.
    pub fn snaplen(&self) -> u32 {
        match &self.source {
            Source::File(f) => match f.format() {
                pcap_capture::FileFormat::Pcap { snaplen, .. } => snaplen.max(1),
                _ => self.snaplen,
            },
            Source::Files(f) => f.snaplen().map_or(self.snaplen, |s| s.max(1)),
            _ => self.snaplen,
        }
    }

    /// True for a live device (as opposed to a file).
    pub fn is_live(&self) -> bool {
        matches!(self.source, Source::Live(_))
    }

    /// Packets the kernel dropped so far (live captures; 0 for files).
    pub fn kernel_drops(&mut self) -> u64 {
        match self.source.stats() {
            Some(Ok(stats)) => u64::from(stats.dropped) + u64::from(stats.if_dropped),
            _ => 0,
        }
    }

    /// Says on stderr how the run went, once it is over: tcpdump's statistics for a live
    /// capture, a warning when packets were cut by the snapshot length, and the closing
    /// line with `counts` (unless `-q`).
    pub(crate) fn finish(&mut self, counts: &Counts) {
        let mut read = summary::Read {
            packets: self.read,
            dropped: 0,
            cut: self.cut,
            cut_at: self.cut_at,
            damaged_files: self.damaged,
        };
        let mut err = std::io::stderr().lock();
        if let Some(Ok(stats)) = self.source.stats() {
            let _ = writeln!(err, "{} packets captured", self.read);
            let _ = writeln!(err, "{} packets received by filter", stats.received);
            let _ = writeln!(err, "{} packets dropped by kernel", stats.dropped);
            let _ = writeln!(err, "{} packets dropped by interface", stats.if_dropped);
            read.dropped = u64::from(stats.dropped) + u64::from(stats.if_dropped);
        }
        if let Some(warning) = summary::cut_warning(&read) {
            let _ = writeln!(err, "{warning}");
        }
        if !self.quiet {
            let _ = writeln!(err, "{}", summary::line(&read, counts));
        }
    }
}

/// Ends an [`Input`]'s reading from another thread ([`Input::stopper`]).
#[derive(Debug)]
pub struct Stopper {
    stop: Arc<AtomicBool>,
    breaker: Option<Breaker>,
}

impl Stopper {
    /// Stops reading: at once for a live capture waiting for packets, else before the next.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(b) = &self.breaker {
            b.stop();
        }
    }
}

/// Ctrl-C (and SIGTERM or SIGHUP) stops reading: a live capture is broken out of its wait,
/// a file read stops at the next packet. The subcommand then finishes normally (flushing
/// sessions, printing stats).
fn install_ctrl_c(source: &mut Source, stop: Arc<AtomicBool>) {
    let breaker: Option<Breaker> = match source {
        Source::Live(l) => Some(l.breaker()),
        _ => None,
    };
    // A second installation (tests calling open twice in one process) is harmless to skip.
    let _ = ctrlc::set_handler(move || {
        stop.store(true, Ordering::Relaxed);
        if let Some(b) = &breaker {
            b.stop();
        }
    });
}

/// Switches to `user` after the device is open, as `tcpdump -Z` does, so that decoding of
/// attacker-controlled bytes runs without root.
fn drop_privileges(user: &str) -> Result<(), CliError> {
    use nix::unistd::{User, setgid, setgroups, setuid};
    let fail = |reason: String| CliError::User {
        user: user.to_owned(),
        reason,
    };
    let entry = User::from_name(user)
        .map_err(|e| fail(e.to_string()))?
        .ok_or_else(|| fail("no such user".to_owned()))?;
    setgroups(&[entry.gid]).map_err(|e| fail(format!("setgroups: {e}")))?;
    setgid(entry.gid).map_err(|e| fail(format!("setgid: {e}")))?;
    setuid(entry.uid).map_err(|e| fail(format!("setuid: {e}")))?;
    Ok(())
}

impl pcap_analyzer::PacketSource for Input {
    type Error = CliError;

    fn next_packet(&mut self) -> Result<Option<Packet<'_>>, CliError> {
        Input::next_packet(self)
    }
}
