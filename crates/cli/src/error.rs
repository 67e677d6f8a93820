//! The one error type every subcommand returns: printed as one line, exit code 2.

use std::path::PathBuf;

use pcap_capture::CaptureError;

use crate::render::escape::Escaped;

/// Why a subcommand stopped early.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CliError {
    /// Reading packets failed (bad file, permission, device, filter).
    #[error("{0}")]
    Capture(#[from] CaptureError),
    /// Reading a capture file failed (missing, unreadable, damaged).
    #[error("{}: {source}", Escaped::path(path))]
    Read {
        /// The capture file.
        path: PathBuf,
        /// What went wrong.
        source: CaptureError,
    },
    /// A file or directory could not be written or created.
    #[error("{}: {source}", Escaped::path(path))]
    Io {
        /// The file concerned.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// A Parquet file of `export` could not be written.
    #[cfg(feature = "parquet")]
    #[error("{}: {source}", Escaped::path(path))]
    Parquet {
        /// The file concerned.
        path: PathBuf,
        /// What went wrong.
        source: parquet::errors::ParquetError,
    },
    /// Standard output or error went away or failed.
    #[error("output: {0}")]
    Output(std::io::Error),
    /// A regular expression given on the command line does not compile.
    #[error(
        "bad regular expression {pattern:?} for {option}: {}",
        one_line(source)
    )]
    Regex {
        /// The option that carried it.
        option: &'static str,
        /// The expression as given.
        pattern: String,
        /// The regex crate's explanation.
        source: Box<regex::Error>,
    },
    /// No capture device could be found to default to.
    #[error("no capture device found: give one with -i IFACE or read a file with -r FILE")]
    NoDevice,
    /// Dropping privileges after opening the device failed.
    #[error("cannot switch to user {user}: {reason}")]
    User {
        /// The user asked for.
        user: String,
        /// Why it failed.
        reason: String,
    },
    /// The web view failed.
    #[error("{0}")]
    Serve(String),
    /// `grep -i NAME` reading live, where NAME is no interface: most likely the old `-i`
    /// (ignore case) followed by the pattern.
    #[error("{moved} ({name:?} is not an interface)", moved = crate::args::GREP_I_MOVED)]
    GrepInterface {
        /// The value given to `-i`.
        name: String,
    },
    /// Options that cannot work together; the message says why.
    #[error("{0}")]
    Usage(&'static str),
    /// A `capture -w` rotation file name that cannot be made.
    #[error("{0}")]
    Rotate(String),
    /// A `--format` that cannot be used.
    #[error("--format: {0}")]
    Format(String),
    /// Several capture files were read and some were damaged: each was warned about when
    /// it was met, and every packet of the others was read.
    #[error("{damaged} of {files} capture files damaged (see the warnings above)")]
    DamagedFiles {
        /// Files damaged.
        damaged: u64,
        /// Files read.
        files: u64,
    },
    /// Not a failure: `grep` ran to the end and found nothing. Exit code 1 and no message,
    /// as grep and ngrep do.
    #[error("nothing matched")]
    NoMatch,
    /// `http-trace --exec`: the program could not be started.
    #[error("cannot run {program}: {source}")]
    Exec {
        /// The program as given.
        program: String,
        /// Why it could not be started.
        source: std::io::Error,
    },
    /// Not a failure of ours: the program `http-trace --exec` ran exited with this status
    /// (the code, or 128 plus the signal that ended it), which becomes ours, without a
    /// message.
    #[error("the program exited with status {0}")]
    Exited(i32),
}

/// The regex crate explains syntax errors over several lines (pattern, caret, message): keep
/// the message, the last line.
fn one_line(e: &regex::Error) -> String {
    let text = e.to_string();
    let last = text.lines().map(str::trim).rfind(|l| !l.is_empty());
    last.unwrap_or_default()
        .trim_start_matches("error: ")
        .to_owned()
}

impl CliError {
    /// True when the error is a closed output pipe (`pcap-cli ... | head`), which ends the
    /// program quietly and successfully, as grep and tcpdump do.
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, CliError::Output(e) if e.kind() == std::io::ErrorKind::BrokenPipe)
    }
}

impl From<std::io::Error> for CliError {
    fn from(e: std::io::Error) -> CliError {
        CliError::Output(e)
    }
}

/// A handler method's result as the analyzer wants it: an error stops the run.
pub(crate) fn flow(result: Result<(), CliError>) -> std::ops::ControlFlow<CliError> {
    match result {
        Ok(()) => std::ops::ControlFlow::Continue(()),
        Err(e) => std::ops::ControlFlow::Break(e),
    }
}
