//! TLS secrets for decryption: NSS key log files given with `--keylog` (or
//! `$SSLKEYLOGFILE`), and Decryption Secrets Blocks found in pcapng files.
//!
//! A program being captured live keeps appending to its key log, and a session's line may
//! be written after its first packets arrive: a lookup that misses reads what the files
//! gained (when one grew), and on a live capture a session whose secrets are missing holds
//! its records ([`Keys::hold_for_keys`], `pcap_tls::TlsConfig::max_held_for_keys`) and asks
//! again as the next ones arrive, so it is decrypted once the line is written.

use std::fmt;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use pcap_tls::{KeyLog, KeyLookup, SecretLabel};

use crate::error::CliError;

/// Bytes of encrypted records a live session holds while its secrets are not logged yet.
pub const HOLD_FOR_KEYS: usize = 64 << 10;

/// Warnings about malformed lines printed per file; the rest are counted.
const MAX_WARNINGS: usize = 5;

/// The secrets known so far, and the files they come from.
pub struct Keys {
    log: RwLock<KeyLog>,
    /// The key log files and how far each was read.
    files: Mutex<Vec<Watched>>,
    /// A live capture: the files may gain the secrets of sessions already under way.
    live: bool,
}

struct Watched {
    path: PathBuf,
    /// Bytes read so far; a partial last line waits for its end.
    offset: u64,
    /// 1-based number of the next line, for warnings.
    line: usize,
    warned: usize,
}

impl fmt::Debug for Keys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let known = self.log.read().map_or(0, |l| l.len());
        f.debug_struct("Keys")
            .field("client_randoms", &known)
            .finish()
    }
}

impl Keys {
    /// Reads `paths` (or, when none is given, the file `$SSLKEYLOGFILE` names, if set).
    /// A file that cannot be read is an error; malformed lines are warnings that name the
    /// file and the line, and the rest of the file is used. `live`: the packets come from a
    /// live capture, so sessions wait for secrets the files do not have yet.
    pub fn open(paths: &[PathBuf], live: bool) -> Result<Arc<Keys>, CliError> {
        let paths: Vec<PathBuf> = if paths.is_empty() {
            std::env::var_os("SSLKEYLOGFILE")
                .filter(|p| !p.is_empty())
                .map(PathBuf::from)
                .into_iter()
                .collect()
        } else {
            paths.to_vec()
        };
        let keys = Keys {
            log: RwLock::new(KeyLog::new()),
            files: Mutex::new(
                paths
                    .into_iter()
                    .map(|path| Watched {
                        path,
                        offset: 0,
                        line: 1,
                        warned: 0,
                    })
                    .collect(),
            ),
            live,
        };
        keys.read_files(true)?;
        Ok(Arc::new(keys))
    }

    /// Adds the text of a key log found elsewhere (a pcapng Decryption Secrets Block).
    pub fn add_secrets(&self, text: &[u8], source: &str) {
        let warnings = self.write().add(text);
        warn(source, &warnings, 0);
    }

    /// Client randoms known.
    pub fn len(&self) -> usize {
        self.log.read().map_or(0, |l| l.len())
    }

    /// No secret is known, and no file could bring one.
    pub fn is_empty(&self) -> bool {
        self.len() == 0 && self.lock_files().is_empty()
    }

    /// The key log as NSS text (for a Decryption Secrets Block).
    pub fn to_text(&self) -> Vec<u8> {
        self.log
            .read()
            .map_or_else(|_| Vec::new(), |l| l.to_text(None))
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, KeyLog> {
        self.log.write().unwrap_or_else(PoisonError::into_inner)
    }

    fn lock_files(&self) -> std::sync::MutexGuard<'_, Vec<Watched>> {
        self.files.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Reads what each file gained since it was last read. `first`: a file that cannot be
    /// opened is an error (later, a file that went away is left as it was).
    fn read_files(&self, first: bool) -> Result<(), CliError> {
        let mut files = self.lock_files();
        for w in files.iter_mut() {
            let text = match read_from(&w.path, w.offset) {
                Ok(t) => t,
                Err(source) if first => {
                    return Err(CliError::Io {
                        path: w.path.clone(),
                        source,
                    });
                }
                Err(_) => continue,
            };
            // Only whole lines: a program may be writing the last one right now.
            let Some(end) = text.iter().rposition(|&b| b == b'\n').map(|i| i + 1) else {
                continue;
            };
            let whole = &text[..end];
            let warnings = self.write().add(whole);
            let shown: Vec<_> = warnings
                .into_iter()
                .map(|mut warning| {
                    warning.line += w.line - 1;
                    warning
                })
                .collect();
            w.warned += warn(&w.path.display().to_string(), &shown, w.warned);
            w.line += whole.iter().filter(|&&b| b == b'\n').count();
            w.offset += end as u64;
        }
        Ok(())
    }
}

impl KeyLookup for Keys {
    /// A miss reads what the files gained since they were last read, if one of them grew
    /// (one `stat` each): a program being captured live writes a session's line around the
    /// time its ServerHello goes by.
    fn secret(&self, client_random: &[u8; 32], label: SecretLabel) -> Option<Vec<u8>> {
        if let Some(s) = self.log.read().ok()?.secret(client_random, label) {
            return Some(s);
        }
        if self.grew() {
            let _ = self.read_files(false);
            return self.log.read().ok()?.secret(client_random, label);
        }
        None
    }
}

impl Keys {
    /// Whether a key log file is longer than what was read of it.
    fn grew(&self) -> bool {
        self.lock_files()
            .iter()
            .any(|w| std::fs::metadata(&w.path).is_ok_and(|m| m.len() > w.offset))
    }

    /// Bytes of records a TLS session holds while its secrets are not logged yet: some on a
    /// live capture with key log files (a program writes its line around the time the
    /// ServerHello goes by), none when reading a file, where a missing key stays missing.
    pub fn hold_for_keys(&self) -> usize {
        if self.live && !self.lock_files().is_empty() {
            HOLD_FOR_KEYS
        } else {
            0
        }
    }
}

/// The bytes of `path` from `offset` on.
fn read_from(path: &Path, offset: u64) -> std::io::Result<Vec<u8>> {
    let mut file = File::open(path)?;
    file.seek(SeekFrom::Start(offset))?;
    let mut text = Vec::new();
    file.read_to_end(&mut text)?;
    Ok(text)
}

/// Prints the warnings about malformed lines of `source`, at most [`MAX_WARNINGS`] of them
/// counting `already` printed; returns how many it printed.
fn warn(source: &str, warnings: &[pcap_tls::KeyLogWarning], already: usize) -> usize {
    let room = MAX_WARNINGS.saturating_sub(already);
    for w in warnings.iter().take(room) {
        eprintln!("pcap-cli: warning: key log {source}: {w} (line ignored)");
    }
    if warnings.len() > room && room > 0 {
        eprintln!("pcap-cli: warning: key log {source}: more malformed lines ignored");
    }
    warnings.len().min(room)
}
