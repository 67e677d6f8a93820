//! `http-trace --exec -- CMD ARGS...`: runs a program with its TLS secrets logged to a
//! private temporary file, while the capture (opened first, so no packet is missed) decodes
//! its traffic; the capture stops when the program exits.
//!
//! The key log lives in a directory of its own (mode 0700) as `keys.log` (mode 0600), both
//! removed at the end. The program finds it through `SSLKEYLOGFILE` (curl, Firefox, Chrome,
//! Python, Go programs that honour it) and `NODE_OPTIONS=--tls-keylog=FILE` (Node.js),
//! appended to any `NODE_OPTIONS` it already has. Started through sudo (root, with
//! `SUDO_UID` and `SUDO_GID` set), the program runs as the invoking user, not as root: its
//! group and user are set in the child before the exec, and the directory and file belong
//! to that user so the program can write them.

use std::ffi::{OsStr, OsString};
use std::fs::{DirBuilder, OpenOptions};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::error::CliError;
use crate::input::Stopper;

/// Time between the program's exit and the end of the capture: packets it sent last (its
/// FIN, the server's answer to it) are still on their way through the kernel's capture
/// buffer, which libpcap hands over at least every 100 ms (the live read timeout).
const GRACE: Duration = Duration::from_millis(400);

/// How often the watcher asks whether the program has exited.
const POLL: Duration = Duration::from_millis(20);

/// A user to run the program as: uid and gid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunAs {
    /// User id.
    pub uid: u32,
    /// Primary group id.
    pub gid: u32,
}

impl RunAs {
    /// The user who ran `sudo pcap-cli ...`: when running as root with `SUDO_UID` and
    /// `SUDO_GID` set to a user other than root.
    pub fn invoking_user() -> Option<RunAs> {
        if !nix::unistd::geteuid().is_root() {
            return None;
        }
        let var = |name: &str| std::env::var(name).ok()?.parse::<u32>().ok();
        let (uid, gid) = (var("SUDO_UID")?, var("SUDO_GID")?);
        (uid != 0).then_some(RunAs { uid, gid })
    }
}

/// The private temporary key log: removed, with its directory, when dropped.
#[derive(Debug)]
pub struct KeyLogFile {
    dir: PathBuf,
    file: PathBuf,
}

impl KeyLogFile {
    /// Creates a new directory (mode 0700) under the temporary directory and an empty
    /// `keys.log` (mode 0600) in it, both owned by `owner` when given.
    pub fn create(owner: Option<RunAs>) -> Result<KeyLogFile, CliError> {
        let base = std::env::temp_dir();
        let mut last = None;
        for attempt in 0..16u32 {
            let nanos = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.subsec_nanos());
            let dir = base.join(format!(
                "pcap-cli-exec.{}.{nanos:08x}{attempt}",
                std::process::id()
            ));
            match DirBuilder::new().mode(0o700).create(&dir) {
                Ok(()) => return KeyLogFile::fill(dir, owner),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last = Some(e),
                Err(source) => return Err(CliError::Io { path: dir, source }),
            }
        }
        Err(CliError::Io {
            path: base,
            source: last.unwrap_or_else(|| std::io::Error::other("no free name")),
        })
    }

    fn fill(dir: PathBuf, owner: Option<RunAs>) -> Result<KeyLogFile, CliError> {
        let file = dir.join("keys.log");
        // From here on, dropping `log` removes what was made.
        let log = KeyLogFile { dir, file };
        let io = |path: &Path| {
            let path = path.to_owned();
            move |source| CliError::Io { path, source }
        };
        OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&log.file)
            .map_err(io(&log.file))?;
        if let Some(u) = owner {
            for p in [&log.dir, &log.file] {
                std::os::unix::fs::chown(p, Some(u.uid), Some(u.gid)).map_err(io(p))?;
            }
        }
        Ok(log)
    }

    /// The key log file.
    pub fn path(&self) -> &Path {
        &self.file
    }
}

impl Drop for KeyLogFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.file);
        let _ = std::fs::remove_dir(&self.dir);
    }
}

/// `NODE_OPTIONS` with `--tls-keylog=FILE` appended to what it held.
fn node_options(old: Option<&OsStr>, keylog: &Path) -> OsString {
    let mut v = OsString::new();
    if let Some(old) = old.filter(|o| !o.is_empty()) {
        v.push(old);
        v.push(" ");
    }
    v.push("--tls-keylog=");
    v.push(keylog);
    v
}

/// The program, running, and the thread that stops the capture once it exits.
#[derive(Debug)]
pub struct Program {
    child: Arc<Mutex<Child>>,
    watcher: Option<JoinHandle<std::io::Result<ExitStatus>>>,
}

impl Program {
    /// Starts `command` (program and arguments) with its secrets logged to `keylog`, as
    /// `run_as` when given; `stopper` ends the capture after the program exits.
    pub fn spawn(
        command: &[OsString],
        keylog: &Path,
        run_as: Option<RunAs>,
        stopper: Stopper,
    ) -> Result<Program, CliError> {
        let Some((program, args)) = command.split_first() else {
            return Err(CliError::Usage("--exec needs a program to run after --"));
        };
        let mut cmd = Command::new(program);
        cmd.args(args).env("SSLKEYLOGFILE", keylog).env(
            "NODE_OPTIONS",
            node_options(std::env::var_os("NODE_OPTIONS").as_deref(), keylog),
        );
        if let Some(u) = run_as {
            // The standard library sets the group, drops supplementary groups, then sets
            // the user, in the child before the exec.
            cmd.gid(u.gid).uid(u.uid);
        }
        let child = cmd.spawn().map_err(|source| CliError::Exec {
            program: program.to_string_lossy().into_owned(),
            source,
        })?;
        let child = Arc::new(Mutex::new(child));
        let watched = Arc::clone(&child);
        let watcher = std::thread::spawn(move || {
            let status = loop {
                let polled = watched
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .try_wait();
                match polled {
                    Ok(Some(status)) => break Ok(status),
                    Ok(None) => std::thread::sleep(POLL),
                    Err(e) => break Err(e),
                }
            };
            std::thread::sleep(GRACE);
            stopper.stop();
            status
        });
        Ok(Program {
            child,
            watcher: Some(watcher),
        })
    }

    /// Waits for the program to exit (the capture stopped for another reason: it is
    /// killed first when `kill`), and returns its exit status as a shell gives it: the
    /// code, or 128 plus the signal that ended it.
    pub fn wait(mut self, kill: bool) -> Result<i32, CliError> {
        if kill {
            let _ = self
                .child
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .kill();
        }
        let status = match self.watcher.take().map(JoinHandle::join) {
            Some(Ok(status)) => status.map_err(CliError::Output)?,
            _ => return Err(CliError::Output(std::io::Error::other("watcher panicked"))),
        };
        Ok(status
            .code()
            .or_else(|| status.signal().map(|s| 128 + s))
            .unwrap_or(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{MetadataExt, PermissionsExt};

    #[test]
    fn node_options_keep_what_was_there() {
        let k = Path::new("/tmp/x/keys.log");
        assert_eq!(node_options(None, k), "--tls-keylog=/tmp/x/keys.log");
        assert_eq!(
            node_options(Some(OsStr::new("")), k),
            "--tls-keylog=/tmp/x/keys.log"
        );
        assert_eq!(
            node_options(Some(OsStr::new("--max-old-space-size=64")), k),
            "--max-old-space-size=64 --tls-keylog=/tmp/x/keys.log"
        );
    }

    #[test]
    fn key_log_is_private_and_removed() {
        let log = KeyLogFile::create(None).unwrap();
        let path = log.path().to_owned();
        let dir = path.parent().unwrap().to_owned();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&path), 0o600);
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 0);
        drop(log);
        assert!(!path.exists() && !dir.exists());
    }

    #[test]
    fn key_log_belongs_to_the_invoking_user() {
        if !nix::unistd::geteuid().is_root() {
            eprintln!("SKIPPED key_log_belongs_to_the_invoking_user: chown needs root");
            return;
        }
        let u = RunAs {
            uid: 65534,
            gid: 65534,
        };
        let log = KeyLogFile::create(Some(u)).unwrap();
        let meta = std::fs::metadata(log.path()).unwrap();
        assert_eq!((meta.uid(), meta.gid()), (65534, 65534));
        let meta = std::fs::metadata(log.path().parent().unwrap()).unwrap();
        assert_eq!((meta.uid(), meta.gid()), (65534, 65534));
    }
}
