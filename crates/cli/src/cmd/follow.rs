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
//! zero bytes. At most
//! [`MAX_OPEN_FILES`] files are open at once: a session's files are closed when it ends, and
//! the least recently written file is closed when the cap is reached (it is reopened,
//! without truncation, if more bytes come).

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use std::ops::ControlFlow;

use pcap_analyzer::Handler;
use pcap_tcp_reassembly::{Direction, Event, EventKind, SessionInfo};

use crate::args::FollowArgs;
use crate::cmd::sessions::{analyze, dir_index};
use crate::error::{CliError, flow};
use crate::input::Input;
use crate::render::json::{Arr, Obj};

/// Most stream files open at the same time.
pub const MAX_OPEN_FILES: usize = 64;

/// Holes listed per direction in the index; `gaps` in the index counts them all.
pub const MAX_HOLES_LISTED: usize = 64;

/// Buffer per open file, so that small segments become large writes.
const FILE_BUFFER: usize = 32 * 1024;

/// Runs `follow`.
pub fn run(args: &FollowArgs) -> Result<(), CliError> {
    let mut input = Input::open(&args.source, None)?;
    let dir = &args.output_dir;
    std::fs::create_dir_all(dir).map_err(|source| CliError::Io {
        path: dir.clone(),
        source,
    })?;
    let index_path = dir.join("index.jsonl");
    // Created before any packet is read, so an unwritable directory fails at once.
    let index = File::create(&index_path).map_err(|source| CliError::Io {
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
    };
    let result = analyze(&mut input, &mut follow);
    // Sessions were all ended by `analyze`; what is left is flushing the index.
    let flushed = follow.index.flush().map_err(|source| CliError::Io {
        path: follow.index_path.clone(),
        source,
    });
    result.and(flushed)
}

/// One direction of a session being written.
#[derive(Debug, Default)]
struct Side {
    /// File name (inside the output directory), once the first byte came.
    name: Option<String>,
    /// Stream length seen: the end of the last data or gap.
    len: u64,
    /// End of the last data written.
    data_end: u64,
    /// The first [`MAX_HOLES_LISTED`] gaps: (offset, length).
    holes: Vec<(u64, u64)>,
    /// Gaps beyond the listed ones.
    holes_unlisted: u64,
}

/// The two directions of a session being written, client to server first.
type Sides = [Side; 2];

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
    /// up to twice as many slots as sessions, and a slot then costs 16 bytes, not 152.
    sessions: HashMap<u64, Box<Sides>>,
    open: HashMap<(u64, usize), OpenFile>,
    /// Counts writes, to find the least recently written file.
    clock: u64,
}

impl Handler for Follow {
    type Error = CliError;

    /// A write error stops the run.
    fn tcp(&mut self, event: &Event<'_>) -> ControlFlow<CliError> {
        let id = event.session;
        let result = match event.kind {
            EventKind::Data { dir, offset, bytes } => self.data(event, dir, offset, bytes),
            EventKind::Gap { dir, offset, len } => {
                let side = &mut self.sessions.entry(id).or_default()[dir_index(dir)];
                side.len = side.len.max(offset.saturating_add(len));
                if side.holes.len() < MAX_HOLES_LISTED {
                    side.holes.push((offset, len));
                } else {
                    side.holes_unlisted += 1;
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

    fn packet_done(&mut self) -> ControlFlow<CliError> {
        flow(self.flush_live())
    }

    fn finished(&mut self) -> ControlFlow<CliError> {
        flow(self.flush_live())
    }
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
            let failed = self
                .open
                .iter_mut()
                .find_map(|(&key, f)| f.file.flush().err().map(|e| (key, e)));
            if let Some((key, e)) = failed {
                return Err(self.io_error(&self.name_of(key), e));
            }
            let flushed = self.index.flush();
            flushed.map_err(|source| CliError::Io {
                path: self.index_path.clone(),
                source,
            })?;
        }
        Ok(())
    }

    /// The file name of an open file, for error messages.
    fn name_of(&self, key: (u64, usize)) -> String {
        self.sessions
            .get(&key.0)
            .and_then(|s| s.get(key.1))
            .and_then(|side| side.name.clone())
            .unwrap_or_default()
    }

    fn io_error(&self, name: &str, source: std::io::Error) -> CliError {
        CliError::Io {
            path: self.dir.join(name),
            source,
        }
    }

    /// Writes `bytes` at `offset` of the direction's file, creating or reopening it.
    fn data(
        &mut self,
        event: &Event<'_>,
        dir: Direction,
        offset: u64,
        bytes: &[u8],
    ) -> Result<(), CliError> {
        let id = event.session;
        let d = dir_index(dir);
        let side = &mut self.sessions.entry(id).or_default()[d];
        let end = offset.saturating_add(bytes.len() as u64);
        side.len = side.len.max(end);
        side.data_end = side.data_end.max(end);
        let (name, create) = match &side.name {
            Some(n) => (n.clone(), false),
            None => {
                let n = file_name(id, event.client, event.server, dir);
                side.name = Some(n.clone());
                (n, true)
            }
        };
        self.clock += 1;
        let clock = self.clock;
        if !self.open.contains_key(&(id, d)) {
            if self.open.len() >= MAX_OPEN_FILES {
                self.close_least_recent()?;
            }
            let path = self.dir.join(&name);
            // The first open truncates what an earlier run left; a reopen keeps what this
            // run wrote.
            let file = OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(create)
                .open(&path)
                .map_err(|e| self.io_error(&name, e))?;
            let file = BufWriter::with_capacity(FILE_BUFFER, file);
            self.open.insert(
                (id, d),
                OpenFile {
                    file,
                    // A reopened file's position is unknown until the first seek.
                    pos: if create { 0 } else { u64::MAX },
                    last_use: clock,
                },
            );
        }
        let Some(f) = self.open.get_mut(&(id, d)) else {
            return Ok(());
        };
        f.last_use = clock;
        let written = (|| {
            if f.pos != offset {
                f.file.seek(SeekFrom::Start(offset))?;
            }
            f.file.write_all(bytes)?;
            f.pos = offset.saturating_add(bytes.len() as u64);
            Ok(())
        })();
        written.map_err(|e| self.io_error(&name, e))
    }

    /// Closes the file written longest ago, to stay under [`MAX_OPEN_FILES`].
    fn close_least_recent(&mut self) -> Result<(), CliError> {
        let oldest = self
            .open
            .iter()
            .min_by_key(|(_, f)| f.last_use)
            .map(|(&k, _)| k);
        match oldest {
            Some(key) => self.close(key),
            None => Ok(()),
        }
    }

    /// Flushes and closes one open file.
    fn close(&mut self, key: (u64, usize)) -> Result<(), CliError> {
        let Some(mut f) = self.open.remove(&key) else {
            return Ok(());
        };
        f.file
            .flush()
            .map_err(|e| self.io_error(&self.name_of(key), e))
    }

    /// A session ended: close its files, extend them over a trailing gap, and write its
    /// index line.
    fn end(&mut self, info: &SessionInfo) -> Result<(), CliError> {
        let id = info.id;
        for d in 0..2 {
            self.close((id, d))?;
        }
        // A session that carried no byte and no gap has no state, and the index says so.
        let sides = self.sessions.remove(&id).unwrap_or_default();
        for side in sides.iter() {
            if let Some(name) = side.name.as_ref().filter(|_| side.len > side.data_end) {
                extend(&self.dir.join(name), side.len).map_err(|e| self.io_error(name, e))?;
            }
        }
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
        o.u64("c2s_len", sides[0].len);
        o.u64("s2c_len", sides[1].len);
        o.u64("gaps", info.gaps);
        o.u64("gap_bytes", info.gap_bytes);
        for (side, dir) in sides.iter().zip(["c2s", "s2c"]) {
            let mut holes = o.arr(&format!("{dir}_holes"));
            for &(offset, len) in &side.holes {
                let mut pair = Arr::new(holes.item());
                pair.u64(offset);
                pair.u64(len);
                pair.end();
            }
            holes.end();
            if side.holes_unlisted > 0 {
                o.u64(&format!("{dir}_holes_unlisted"), side.holes_unlisted);
            }
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

/// Makes the file at `path` `len` bytes long, so that a gap at the end of the stream
/// becomes a zero-filled hole too.
fn extend(path: &Path, len: u64) -> std::io::Result<()> {
    OpenOptions::new().write(true).open(path)?.set_len(len)
}

#[cfg(test)]
mod tests {
    use super::*;

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
