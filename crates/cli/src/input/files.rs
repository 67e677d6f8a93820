//! The capture files that several `-r` options name: globs the shell left alone are
//! expanded, directories are listed, and each file's first packet is read to put the files
//! in time order.
//!
//! A path named by itself must be a readable capture: anything else is an error before
//! anything runs. A file found in a directory or by a glob that is no capture (a README, a
//! checksum file) is skipped with a note, since such folders hold more than captures.

use std::ffi::OsStr;
use std::io;
use std::os::unix::ffi::OsStrExt as _;
use std::path::{Path, PathBuf};

use pcap_capture::{CaptureError, Damage, FileHead};

use crate::error::CliError;
use crate::render::escape::Escaped;

/// The files to read, with what was found out on the way.
#[derive(Debug)]
pub(super) struct Found {
    /// Every capture with at least one packet, in the order found.
    pub(super) heads: Vec<FileHead>,
    /// Captures damaged before their first packet (warned about already).
    pub(super) damaged: u64,
}

/// How a path came to be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    /// Named on the command line: it must be a capture.
    Named,
    /// Found in a directory or by a glob: skipped with a note if it is no capture.
    Listed,
}

/// Finds the captures `paths` name and reads the start of each.
pub(super) fn find(paths: &[PathBuf]) -> Result<Found, CliError> {
    let mut listed = Vec::new();
    for path in paths {
        expand(path, &mut listed)?;
    }
    let mut found = Found {
        heads: Vec::with_capacity(listed.len()),
        damaged: 0,
    };
    for (path, origin) in listed {
        match FileHead::read(&path) {
            Ok(Some(head)) => found.heads.push(head),
            Ok(None) => eprintln!("pcap-cli: note: {} has no packets", Escaped::path(&path)),
            Err(CaptureError::Io(source)) if origin == Origin::Named => {
                return Err(CliError::Io { path, source });
            }
            Err(
                source @ (CaptureError::BadMagic { .. } | CaptureError::TruncatedFileHeader { .. }),
            ) if origin == Origin::Named => return Err(CliError::Read { path, source }),
            Err(e @ (CaptureError::Io(_) | CaptureError::BadMagic { .. })) => {
                eprintln!("pcap-cli: note: skipping {}: {e}", Escaped::path(&path))
            }
            Err(e @ CaptureError::TruncatedFileHeader { .. }) => eprintln!(
                "pcap-cli: note: skipping {}: not a capture file ({e})",
                Escaped::path(&path)
            ),
            Err(error) => {
                found.damaged += 1;
                let len = std::fs::metadata(&path).map_or(0, |m| m.len());
                warn_damaged(&Damage::new(path, len, error));
            }
        }
    }
    Ok(found)
}

/// Says on stderr that a file is damaged, what of it was lost, and that reading goes on.
pub(super) fn warn_damaged(damage: &Damage) {
    let lost = match damage.bytes_lost() {
        Some(n) => format!("its last {n} bytes not read"),
        None => "the rest not read".to_owned(),
    };
    eprintln!(
        "pcap-cli: warning: {}: {}; {lost}, going on with the other files",
        Escaped::path(&damage.path),
        damage.error
    );
}

/// Adds the files `path` stands for: itself, the files of a directory (sorted by name,
/// not descending into subdirectories), or the matches of a glob.
fn expand(path: &Path, out: &mut Vec<(PathBuf, Origin)>) -> Result<(), CliError> {
    let io_error = |source: io::Error| CliError::Io {
        path: path.to_owned(),
        source,
    };
    match std::fs::metadata(path) {
        Ok(m) if m.is_dir() => {
            let mut files = Vec::new();
            for entry in std::fs::read_dir(path).map_err(io_error)? {
                let entry = entry.map_err(io_error)?;
                let file = entry.path();
                // Through symbolic links: a link to a capture is a capture.
                if std::fs::metadata(&file).is_ok_and(|m| m.is_file()) {
                    files.push(file);
                }
            }
            files.sort();
            out.extend(files.into_iter().map(|f| (f, Origin::Listed)));
            Ok(())
        }
        Ok(_) => {
            out.push((path.to_owned(), Origin::Named));
            Ok(())
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound && is_glob(path) => {
            let matches = glob(path).map_err(io_error)?;
            if matches.is_empty() {
                return Err(io_error(io::Error::new(
                    io::ErrorKind::NotFound,
                    "no file matches",
                )));
            }
            out.extend(matches.into_iter().map(|f| (f, Origin::Listed)));
            Ok(())
        }
        Err(e) => Err(io_error(e)),
    }
}

/// Whether the file name has a wildcard (`*`, `?` or `[`).
pub(super) fn is_glob(path: &Path) -> bool {
    path.file_name()
        .is_some_and(|n| n.as_bytes().iter().any(|b| matches!(b, b'*' | b'?' | b'[')))
}

/// The files of the directory whose names match the pattern in `path`'s file name,
/// sorted. As in the shell, a name starting with `.` needs a pattern that starts with one.
fn glob(path: &Path) -> io::Result<Vec<PathBuf>> {
    let pattern = path.file_name().map_or(&[][..], OsStr::as_bytes);
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let name = name.as_bytes();
        let hidden = name.first() == Some(&b'.') && pattern.first() != Some(&b'.');
        let file = dir.join(entry.file_name());
        if !hidden && matches(pattern, name) && std::fs::metadata(&file).is_ok_and(|m| m.is_file())
        {
            found.push(if path.parent() == Some(dir) {
                file
            } else {
                PathBuf::from(entry.file_name())
            });
        }
    }
    found.sort();
    Ok(found)
}

/// Shell wildcard matching of a whole name: `*` (any run), `?` (any one byte), `[abc]`,
/// `[a-z]` and `[!a-z]` (one byte in or not in the set); anything else matches itself.
fn matches(pattern: &[u8], name: &[u8]) -> bool {
    match pattern.split_first() {
        None => name.is_empty(),
        Some((b'*', rest)) => {
            (0..=name.len()).any(|i| matches(rest, name.get(i..).unwrap_or_default()))
        }
        Some((b'?', rest)) => name
            .split_first()
            .is_some_and(|(_, name)| matches(rest, name)),
        Some((b'[', rest)) => match (class(rest), name.split_first()) {
            (Some((set, negated, after)), Some((&c, name))) => {
                in_class(set, c) != negated && matches(after, name)
            }
            // An unclosed `[` is itself.
            (None, Some((b'[', name))) => matches(rest, name),
            _ => false,
        },
        Some((c, rest)) => name
            .split_first()
            .is_some_and(|(n, name)| n == c && matches(rest, name)),
    }
}

/// Splits `[...]` (after its `[`) into the set, whether it starts with `!` or `^`, and
/// the rest of the pattern; `None` without a closing `]`. A `]` first is in the set.
fn class(pattern: &[u8]) -> Option<(&[u8], bool, &[u8])> {
    let (negated, body) = match pattern.first() {
        Some(b'!' | b'^') => (true, pattern.get(1..)?),
        _ => (false, pattern),
    };
    let close = body.iter().skip(1).position(|&b| b == b']')? + 1;
    Some((body.get(..close)?, negated, body.get(close + 1..)?))
}

/// Whether `c` is in a set of bytes and `a-z` ranges.
fn in_class(set: &[u8], c: u8) -> bool {
    let mut rest = set;
    while let Some((&first, tail)) = rest.split_first() {
        if let [b'-', last, after @ ..] = tail {
            if (first..=*last).contains(&c) {
                return true;
            }
            rest = after;
        } else {
            if first == c {
                return true;
            }
            rest = tail;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_match_as_in_the_shell() {
        let yes = [
            ("*.pcap", "a.pcap"),
            ("*.pcap", ".pcap"),
            ("rot-??.pcap", "rot-07.pcap"),
            ("rot-[0-9][0-9].pcap", "rot-42.pcap"),
            ("rot-[!a-z]*", "rot-1"),
            ("[]x]", "]"),
            ("a[", "a["),
            ("*", ""),
        ];
        for (p, n) in yes {
            assert!(matches(p.as_bytes(), n.as_bytes()), "{p} should match {n}");
        }
        let no = [
            ("*.pcap", "a.pcapng"),
            ("rot-??.pcap", "rot-7.pcap"),
            ("rot-[0-9]", "rot-x"),
            ("rot-[!a-z]*", "rot-b1"),
            ("?", ""),
        ];
        for (p, n) in no {
            assert!(
                !matches(p.as_bytes(), n.as_bytes()),
                "{p} should not match {n}"
            );
        }
    }

    #[test]
    fn only_the_file_name_makes_a_glob() {
        assert!(is_glob(Path::new("dir/*.pcap")));
        assert!(is_glob(Path::new("rot-[12]")));
        assert!(!is_glob(Path::new("d*r/file.pcap")));
    }
}
