//! `follow -o DIR`: each TCP session's two directions written to files, like tcpflow, plus
//! `DIR/index.jsonl` describing every session.
//!
//! File names are `{stream:06}-{client}-{server}-{c2s|s2c}` where an endpoint is
//! `ADDRESS.PORT` and the `:` of IPv6 addresses become `_` (`000004-2001_db8__1.51234-
//! 2001_db8__2.80-s2c`), so names hold only `[0-9a-f._-]` on every file system.
//!
//! Bytes are written at their stream offset, so bytes that never arrived (gaps) are
//! zero-filled holes and the file is as long as the stream (a trailing gap included). A
//! direction that carried no byte gets no file (`null` in the index). The index lists the
//! holes (offset, length) of each direction, so that a reader can tell them from real
//! zero bytes. A gap longer than [`MAX_HOLE`], or one that would take the file's holes past
//! [`MAX_HOLE_BYTES`], is not written at all (the file goes on with the bytes after it) and is
//! listed as a skip instead, so that crafted gaps cannot make files terabytes long. At most
//! [`MAX_OPEN_FILES`] files are open at once: a session's files are closed when it ends, and
//! the least recently written file is closed when the cap is reached (it is reopened,
//! without truncation, if more bytes come).
//!
//! With `--decrypted`, TLS is found by content in every session and the plaintext of each
//! one decrypted (keys from `--keylog`, `$SSLKEYLOGFILE` or the capture's Decryption
//! Secrets Blocks) goes to two more files, named as the raw ones plus `-tls`, with the
//! endpoints and directions in TLS roles. Plaintext comes in order and without holes (a gap
//! in the encrypted bytes stops decryption of that direction), so these files are plain
//! appends; they are created, reopened, capped and skipped on errors as the raw files are.
//!
//! Safety in a shared directory: `DIR` must belong to the user running `follow` and be
//! empty, unless `--force`; every file is created new (an existing file or symbolic link of
//! that name is an error, never truncated or followed; with `--force` it is unlinked first,
//! which removes a link and never what it points to), and a file is reopened only without following a symbolic link
//! and only if it is still the file this run created. A file that cannot be written (file
//! too large, disk quota) skips its session with a warning; the run goes on.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::net::SocketAddr;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use std::ops::ControlFlow;

use pcap_analyzer::{Handler, Stream};
use pcap_tcp_reassembly::{Direction, Event, EventKind, PerDir, SessionInfo};
use pcap_tls::TlsEvent;

use crate::args::FollowArgs;
use crate::cmd::sessions::{analyze, analyze_tls};
use crate::error::{CliError, flow};
use crate::input::Input;
use crate::render::escape::Escaped;
use crate::render::json::{Arr, Obj};
use crate::summary::plural;

/// Most stream files open at the same time.
pub const MAX_OPEN_FILES: usize = 64;

/// Holes (and skips) listed per direction in the index; `gaps` in the index counts them all.
pub const MAX_HOLES_LISTED: usize = 64;

/// Longest gap written as a zero-filled hole; a longer one is skipped (left out of the file).
pub const MAX_HOLE: u64 = 1 << 20;

/// Most hole bytes in one file; a gap that would go past it is skipped.
pub const MAX_HOLE_BYTES: u64 = 1 << 30;

/// Skip warnings printed; the count at the end covers the others.
const MAX_WARNINGS: u64 = 10;

/// Buffer per open file, so that small segments become large writes.
const FILE_BUFFER: usize = 32 * 1024;

/// Runs `follow`.
pub fn run(args: &FollowArgs) -> Result<(), CliError> {
    if let Some(n) = args.threads.filter(|n| *n > 1) {
        eprintln!(
            "pcap-cli: follow runs on one thread (--threads {n} ignored): its files are named \
             by session number as they are created (see docs/architecture.md)"
        );
    }
    let Some(dir) = &args.output_dir else {
        return super::follow_print::run(args);
    };
    let mut input = Input::open(&args.source, None)?;
    std::fs::create_dir_all(dir).map_err(|source| CliError::Io {
        path: dir.clone(),
        source,
    })?;
    check_owner(dir).map_err(|source| CliError::Io {
        path: dir.clone(),
        source,
    })?;
    if !args.force && !is_empty_dir(dir)? {
        return Err(CliError::Io {
            path: dir.clone(),
            source: std::io::Error::other(
                "not empty: this run's files would mix with what is there (--force replaces \
                 the files this run writes, and keeps the others)",
            ),
        });
    }
    let index_path = dir.join("index.jsonl");
    // Created before any packet is read, so an unwritable directory fails at once.
    let index = create_new(&index_path, args.force).map_err(|source| CliError::Io {
        path: index_path.clone(),
        source,
    })?;
    let mut follow = Follow {
        live: input.is_live(),
        dir: dir.clone(),
        index: BufWriter::new(index),
        index_path,
        index_line: Vec::new(),
        sessions: HashMap::new(),
        open: HashMap::new(),
        clock: 0,
        skipped: 0,
        force: args.force,
        files: 0,
        indexed: 0,
        decrypted: args.decrypted,
    };
    let ran = if args.decrypted {
        analyze_tls(&mut input, &mut follow, &args.tcp)
    } else {
        analyze(&mut input, &mut follow, &args.tcp)
    };
    // Sessions were all ended by `analyze`; what is left is flushing the index.
    let flushed = follow.index.flush().map_err(|source| CliError::Io {
        path: follow.index_path.clone(),
        source,
    });
    if follow.skipped > 0 {
        eprintln!(
            "pcap-cli: warning: follow skipped {} session{} whose files could not be written \
             (marked \"error\" in {})",
            follow.skipped,
            if follow.skipped == 1 { "" } else { "s" },
            Escaped::path(&follow.index_path)
        );
    }
    println!(
        "follow: {} written to {} ({}; index: {})",
        plural(follow.indexed, "session"),
        dir.display(),
        plural(follow.files, "file"),
        follow.index_path.display()
    );
    ran.finish(&mut input).and(flushed)
}

/// Refuses an output directory that belongs to another user than the one running `follow`
/// (the directory itself and, when `dir` is a symbolic link, the link): its owner could
/// swap the files under us.
fn check_owner(dir: &Path) -> std::io::Result<()> {
    let me = nix::unistd::geteuid().as_raw();
    for meta in [std::fs::symlink_metadata(dir)?, std::fs::metadata(dir)?] {
        if meta.uid() != me {
            return Err(std::io::Error::new(
                std::io::ErrorKind::PermissionDenied,
                format!(
                    "owned by uid {}, not by the user running follow (uid {me}): refusing to \
                     write there",
                    meta.uid()
                ),
            ));
        }
    }
    Ok(())
}

/// Creates a file that must not exist yet: an existing file or symbolic link of that name
/// is an error, never truncated or followed.
fn create_new(path: &Path, force: bool) -> std::io::Result<File> {
    if force {
        // Unlinking a symbolic link removes the link, never what it points to.
        match std::fs::remove_file(path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
    }
    let created = OpenOptions::new()
        .write(true)
        .create_new(true)
        .custom_flags(nix::libc::O_NOFOLLOW)
        .open(path);
    created.map_err(|e| {
        if e.kind() != std::io::ErrorKind::AlreadyExists {
            return e;
        }
        let what = match std::fs::symlink_metadata(path) {
            Ok(m) if m.file_type().is_symlink() => "a symbolic link",
            Ok(m) if m.is_dir() => "a directory",
            _ => "a file",
        };
        std::io::Error::new(
            e.kind(),
            format!(
                "already exists ({what}); follow never overwrites without --force: remove it \
                 or use a new directory"
            ),
        )
    })
}

/// Reopens a file this run created and closed, without creating, truncating or following a
/// symbolic link, and only if it is still the same file (device and inode).
fn reopen(path: &Path, id: (u64, u64)) -> std::io::Result<File> {
    let file = OpenOptions::new()
        .write(true)
        .custom_flags(nix::libc::O_NOFOLLOW)
        .open(path)?;
    let meta = file.metadata()?;
    if (meta.dev(), meta.ino()) != id {
        return Err(std::io::Error::other(
            "replaced by another file since follow created it",
        ));
    }
    Ok(file)
}

/// One direction of a session being written.
#[derive(Debug, Default)]
struct Side {
    /// File name (inside the output directory), once the first byte came.
    name: Option<String>,
    /// The file's device and inode, to reopen only that file.
    file_id: (u64, u64),
    /// Stream length seen: the end of the last data or gap.
    len: u64,
    /// Stream bytes left out of the file (skipped gaps): a stream offset minus this is the
    /// file offset.
    skipped: u64,
    /// Bytes of the file that are holes.
    hole_bytes: u64,
    /// File offset of the end of the last data written.
    data_end: u64,
    /// The first [`MAX_HOLES_LISTED`] holes: (file offset, length).
    holes: Vec<(u64, u64)>,
    /// Holes beyond the listed ones.
    holes_unlisted: u64,
    /// The first [`MAX_HOLES_LISTED`] skipped gaps: (file offset, length).
    skips: Vec<(u64, u64)>,
    /// Skips beyond the listed ones.
    skips_unlisted: u64,
}

impl Side {
    /// The file's length: the stream's without the skipped gaps.
    fn file_len(&self) -> u64 {
        self.len.saturating_sub(self.skipped)
    }
}

/// A session being written: its two directions, client to server first, and why its files
/// stopped being written, if they did.
#[derive(Debug, Default)]
struct Session {
    sides: PerDir<Side>,
    /// `--decrypted`: the two directions of the TLS plaintext, in TLS roles.
    tls: PerDir<Side>,
    error: Option<String>,
}

/// An open file: session id, direction, and whether it holds the TLS plaintext.
type FileKey = (u64, Direction, bool);

impl Session {
    fn side(&mut self, key: FileKey) -> &mut Side {
        if key.2 {
            &mut self.tls[key.1]
        } else {
            &mut self.sides[key.1]
        }
    }
}

/// An open stream file and where its next byte goes.
#[derive(Debug)]
struct OpenFile {
    file: BufWriter<File>,
    pos: u64,
    last_use: u64,
}

/// The handler: writes data where it belongs and the index line when a session ends.
#[derive(Debug)]
struct Follow {
    /// Live capture: bytes reach the files after every packet, not only at session end.
    live: bool,
    dir: PathBuf,
    index: BufWriter<File>,
    index_path: PathBuf,
    index_line: Vec<u8>,
    /// The sessions that carried bytes or gaps, made on the first of them (events name
    /// their endpoints, so a session without any, such as a SYN flood's, costs nothing
    /// here until its index line) and dropped when the session ends. Boxed: the table has
    /// up to twice as many slots as sessions, and a slot then costs 16 bytes, not the
    /// session's size.
    sessions: HashMap<u64, Box<Session>>,
    open: HashMap<FileKey, OpenFile>,
    /// Counts writes, to find the least recently written file.
    clock: u64,
    /// Sessions skipped because a file could not be written.
    skipped: u64,
    /// Files of an earlier run in the way are replaced (`--force`).
    force: bool,
    /// Stream files created, and sessions written to the index, for the closing report.
    files: u64,
    indexed: u64,
    /// `--decrypted`: TLS plaintext files too, and their index members.
    decrypted: bool,
}

impl Handler for Follow {
    type Error = CliError;

    /// Creating a file or writing the index stops the run; writing a stream file that was
    /// created skips its session.
    fn tcp(&mut self, event: &Event<'_>) -> ControlFlow<CliError> {
        let id = event.session;
        let result = match event.kind {
            EventKind::Data { dir, offset, bytes } => {
                let key = (id, dir, false);
                self.data(key, event.client, event.server, offset, bytes)
            }
            EventKind::Gap { dir, offset, len } => {
                let side = &mut self.sessions.entry(id).or_default().sides[dir];
                side.len = side.len.max(offset.saturating_add(len));
                let at = offset.saturating_sub(side.skipped);
                let skip = len > MAX_HOLE || side.hole_bytes.saturating_add(len) > MAX_HOLE_BYTES;
                let (list, unlisted) = if skip {
                    side.skipped = side.skipped.saturating_add(len);
                    (&mut side.skips, &mut side.skips_unlisted)
                } else {
                    side.hole_bytes = side.hole_bytes.saturating_add(len);
                    (&mut side.holes, &mut side.holes_unlisted)
                };
                if list.len() < MAX_HOLES_LISTED {
                    list.push((at, len));
                } else {
                    *unlisted += 1;
                }
                Ok(())
            }
            EventKind::End { info }
            | EventKind::Reset { info, .. }
            | EventKind::Closed { info, .. } => self.end(&info),
            _ => Ok(()),
        };
        flow(result)
    }

    /// `--decrypted`: plaintext is appended to the session's TLS file of its direction.
    fn tls(&mut self, stream: &Stream, event: &TlsEvent<'_>) -> ControlFlow<CliError> {
        let TlsEvent::Plaintext { dir, data, .. } = *event else {
            return ControlFlow::Continue(());
        };
        let key = (stream.id, dir, true);
        let offset = self.sessions.entry(stream.id).or_default().tls[dir].len;
        flow(self.data(key, stream.client, stream.server, offset, data))
    }

    fn packet_done(&mut self) -> ControlFlow<CliError> {
        flow(self.flush_live())
    }

    fn finished(&mut self) -> ControlFlow<CliError> {
        flow(self.flush_live())
    }
}

/// Whether `dir` has no entries (it was just created, or was left empty).
fn is_empty_dir(dir: &Path) -> Result<bool, CliError> {
    let mut entries = std::fs::read_dir(dir).map_err(|source| CliError::Io {
        path: dir.to_owned(),
        source,
    })?;
    Ok(entries.next().is_none())
}

/// An endpoint as it appears in a file name: `ADDRESS.PORT`, IPv6 `:` turned into `_`.
fn endpoint_name(a: SocketAddr) -> String {
    format!("{}.{}", a.ip(), a.port()).replace(':', "_")
}

/// The file name of one direction of a session.
pub fn file_name(stream: u64, client: SocketAddr, server: SocketAddr, dir: Direction) -> String {
    format!(
        "{stream:06}-{}-{}-{}",
        endpoint_name(client),
        endpoint_name(server),
        dir.as_str()
    )
}

impl Follow {
    /// Live, pushes what is buffered to the files after every packet.
    fn flush_live(&mut self) -> Result<(), CliError> {
        if self.live {
            let failed: Vec<_> = self
                .open
                .iter_mut()
                .filter_map(|(&key, f)| f.file.flush().err().map(|e| (key, e)))
                .collect();
            for (key, e) in failed {
                self.skip(key, e);
            }
            let flushed = self.index.flush();
            flushed.map_err(|source| CliError::Io {
                path: self.index_path.clone(),
                source,
            })?;
        }
        Ok(())
    }

    /// The file name of a session's direction.
    fn name_of(&self, key: FileKey) -> String {
        self.sessions
            .get(&key.0)
            .map(|s| {
                if key.2 {
                    &s.tls[key.1]
                } else {
                    &s.sides[key.1]
                }
            })
            .and_then(|side| side.name.clone())
            .unwrap_or_default()
    }

    fn io_error(&self, name: &str, source: std::io::Error) -> CliError {
        CliError::Io {
            path: self.dir.join(name),
            source,
        }
    }

    /// Stops writing a session whose file `key` failed: its files are dropped (closed), later
    /// bytes are ignored, its index line says why, and a warning names the file.
    fn skip(&mut self, key: FileKey, e: std::io::Error) {
        let path = self.dir.join(self.name_of(key));
        let message = format!("{}: {e}", Escaped::path(&path));
        for d in Direction::BOTH {
            for tls in [false, true] {
                self.open.remove(&(key.0, d, tls));
            }
        }
        let session = self.sessions.entry(key.0).or_default();
        if session.error.is_some() {
            return;
        }
        if self.skipped < MAX_WARNINGS {
            eprintln!(
                "pcap-cli: warning: follow: skipping stream {}: {message}",
                key.0
            );
        } else if self.skipped == MAX_WARNINGS {
            eprintln!("pcap-cli: warning: follow: more sessions skipped, counted at the end");
        }
        session.error = Some(message);
        self.skipped += 1;
    }

    /// Writes `bytes` at `offset` of the file `key` names (named after the session's
    /// `client` and `server`), creating or reopening it.
    fn data(
        &mut self,
        key: FileKey,
        client: SocketAddr,
        server: SocketAddr,
        offset: u64,
        bytes: &[u8],
    ) -> Result<(), CliError> {
        let (id, dir, tls) = key;
        let session = self.sessions.entry(id).or_default();
        let failed = session.error.is_some();
        let side = session.side(key);
        let end = offset.saturating_add(bytes.len() as u64);
        side.len = side.len.max(end);
        if failed {
            return Ok(());
        }
        // Gaps come in stream order, so the skipped ones all lie before these bytes.
        let at = offset.saturating_sub(side.skipped);
        side.data_end = side.data_end.max(at.saturating_add(bytes.len() as u64));
        let (name, create) = match &side.name {
            Some(n) => (n.clone(), false),
            None => {
                let mut n = file_name(id, client, server, dir);
                if tls {
                    n.push_str("-tls");
                }
                side.name = Some(n.clone());
                (n, true)
            }
        };
        let file_id = side.file_id;
        self.clock += 1;
        let clock = self.clock;
        if !self.open.contains_key(&key) {
            if self.open.len() >= MAX_OPEN_FILES {
                self.close_least_recent();
            }
            let path = self.dir.join(&name);
            let file = if create {
                // Failing to create a file is the directory's problem (a name taken, no
                // permission): it stops the run.
                let file = create_new(&path, self.force).map_err(|e| self.io_error(&name, e))?;
                self.files += 1;
                match file.metadata() {
                    Ok(m) => {
                        if let Some(s) = self.sessions.get_mut(&id) {
                            s.side(key).file_id = (m.dev(), m.ino());
                        }
                        file
                    }
                    Err(e) => {
                        self.skip(key, e);
                        return Ok(());
                    }
                }
            } else {
                match reopen(&path, file_id) {
                    Ok(f) => f,
                    Err(e) => {
                        self.skip(key, e);
                        return Ok(());
                    }
                }
            };
            let file = BufWriter::with_capacity(FILE_BUFFER, file);
            self.open.insert(
                key,
                OpenFile {
                    file,
                    // A reopened file's position is unknown until the first seek.
                    pos: if create { 0 } else { u64::MAX },
                    last_use: clock,
                },
            );
        }
        let Some(f) = self.open.get_mut(&key) else {
            return Ok(());
        };
        f.last_use = clock;
        let written = (|| {
            if f.pos != at {
                f.file.seek(SeekFrom::Start(at))?;
            }
            f.file.write_all(bytes)?;
            f.pos = at.saturating_add(bytes.len() as u64);
            Ok(())
        })();
        if let Err(e) = written {
            self.skip(key, e);
        }
        Ok(())
    }

    /// Closes the file written longest ago, to stay under [`MAX_OPEN_FILES`].
    fn close_least_recent(&mut self) {
        let oldest = self
            .open
            .iter()
            .min_by_key(|(_, f)| f.last_use)
            .map(|(&k, _)| k);
        if let Some(key) = oldest {
            self.close(key);
        }
    }

    /// Flushes and closes one open file; a failure skips its session.
    fn close(&mut self, key: FileKey) {
        let Some(mut f) = self.open.remove(&key) else {
            return;
        };
        if let Err(e) = f.file.flush() {
            self.skip(key, e);
        }
    }

    /// A session ended: close its files, extend them over a trailing gap, and write its
    /// index line.
    fn end(&mut self, info: &SessionInfo) -> Result<(), CliError> {
        let id = info.id;
        for d in Direction::BOTH {
            self.close((id, d, false));
            self.close((id, d, true));
        }
        for d in Direction::BOTH {
            let Some(session) = self.sessions.get(&id) else {
                break;
            };
            let side = &session.sides[d];
            if session.error.is_some() || side.file_len() <= side.data_end {
                continue;
            }
            if let Some(name) = &side.name {
                let extended = reopen(&self.dir.join(name), side.file_id)
                    .and_then(|f| f.set_len(side.file_len()));
                if let Err(e) = extended {
                    self.skip((id, d, false), e);
                }
            }
        }
        // A session that carried no byte and no gap has no state, and the index says so.
        let session = self.sessions.remove(&id).unwrap_or_default();
        self.indexed += 1;
        let sides = &session.sides;
        let line = &mut self.index_line;
        line.clear();
        let mut o = Obj::new(line);
        o.u64("stream", id);
        o.display("client", info.client);
        o.display("server", info.server);
        o.str("state", info.state.as_str());
        for (side, key) in sides.iter().zip(["c2s_file", "s2c_file"]) {
            match &side.name {
                Some(n) => o.str(key, n),
                None => o.key(key).extend_from_slice(b"null"),
            }
        }
        o.u64("c2s_bytes", info.bytes_c2s);
        o.u64("s2c_bytes", info.bytes_s2c);
        o.u64("c2s_len", sides.c2s.len);
        o.u64("s2c_len", sides.s2c.len);
        o.u64("gaps", info.gaps);
        o.u64("gap_bytes", info.gap_bytes);
        o.u64("rsts_ignored", info.rsts_ignored);
        o.u64("overlap_conflicts", info.overlap_conflicts);
        for what in ["holes", "skips"] {
            for (side, dir) in sides.iter().zip(["c2s", "s2c"]) {
                let (list, unlisted) = match what {
                    "holes" => (&side.holes, side.holes_unlisted),
                    _ => (&side.skips, side.skips_unlisted),
                };
                let mut arr = o.arr(&format!("{dir}_{what}"));
                for &(offset, len) in list {
                    let mut pair = Arr::new(arr.item());
                    pair.u64(offset);
                    pair.u64(len);
                    pair.end();
                }
                arr.end();
                if unlisted > 0 {
                    o.u64(&format!("{dir}_{what}_unlisted"), unlisted);
                }
            }
        }
        if self.decrypted {
            for (side, dir) in session.tls.iter().zip(["c2s", "s2c"]) {
                let key = format!("{dir}_tls_file");
                match &side.name {
                    Some(n) => o.str(&key, n),
                    None => o.key(&key).extend_from_slice(b"null"),
                }
            }
            for (side, dir) in session.tls.iter().zip(["c2s", "s2c"]) {
                o.u64(&format!("{dir}_tls_bytes"), side.len);
            }
        }
        if let Some(e) = &session.error {
            o.str("error", e);
        }
        o.end();
        line.push(b'\n');
        let written = self.index.write_all(line);
        written.map_err(|source| CliError::Io {
            path: self.index_path.clone(),
            source,
        })
    }
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reopen_refuses_a_replaced_file_and_a_symlink() {
        let dir = std::env::temp_dir().join(format!("pcap-cli-follow-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("f");
        let meta = create_new(&path, false).unwrap().metadata().unwrap();
        let id = (meta.dev(), meta.ino());
        assert!(reopen(&path, id).is_ok(), "its own file");
        assert!(create_new(&path, false).is_err(), "never created twice");
        // Replaced by another file (a new inode): refused, left alone.
        let other = dir.join("other");
        std::fs::write(&other, b"precious").unwrap();
        std::fs::rename(&other, &path).unwrap();
        assert!(reopen(&path, id).is_err());
        // Replaced by a symbolic link: not followed.
        std::fs::remove_file(&path).unwrap();
        std::fs::write(&other, b"precious").unwrap();
        std::os::unix::fs::symlink(&other, &path).unwrap();
        let meta = std::fs::metadata(&other).unwrap();
        assert!(reopen(&path, (meta.dev(), meta.ino())).is_err());
        assert_eq!(std::fs::read(&other).unwrap(), b"precious");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn names_are_safe_for_ipv4_and_ipv6() {
        let c: SocketAddr = "10.0.0.1:51234".parse().unwrap();
        let s: SocketAddr = "10.0.0.2:80".parse().unwrap();
        assert_eq!(
            file_name(3, c, s, Direction::ClientToServer),
            "000003-10.0.0.1.51234-10.0.0.2.80-c2s"
        );
        let c: SocketAddr = "[2001:db8::1]:51234".parse().unwrap();
        let s: SocketAddr = "[fe80::2%3]:80".parse().unwrap();
        assert_eq!(
            file_name(1_234_567, c, s, Direction::ServerToClient),
            "1234567-2001_db8__1.51234-fe80__2.80-s2c"
        );
    }
}
