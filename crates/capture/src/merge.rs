//! Many capture files read as one capture, in time order, each read ahead on a thread.
//!
//! Rotated captures (`tcpdump -G`/`-C`, `dumpcap -b`) cut sessions at arbitrary points; a
//! reader that hands the files over one by one as a single packet stream keeps those
//! sessions whole. [`MergedFiles`] orders the files by their first packet's timestamp and
//! merges the packets of files that overlap in time by timestamp (a k-way merge over the
//! files that are open; ties go to the file that comes first), so that files that follow
//! each other are read one after the other, and files written at the same time (one per
//! interface) interleave.
//!
//! Each open file is read by a thread of its own (threads are reused from file to file)
//! into chunks of packets, at most [`CHUNKS_AHEAD`] chunks ahead of the consumer; the
//! chunks are handed back and reused, so memory stays flat however many files there are. Besides the files the merge needs,
//! the next file in time order is opened and read ahead too, so the consumer never waits
//! for a file to be opened. A file that turns out damaged ends its own stream only: the
//! damage is kept for [`MergedFiles::take_damage`], and the other files are read on.

use std::collections::VecDeque;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};
use std::sync::{Arc, Mutex};

use crate::error::CaptureError;
use crate::packet::{LinkType, Packet};
use crate::pcapng::DecryptionSecrets;
use crate::reader::{FileFormat, FileReader};

/// Filled chunks a file's thread may hold ready before it waits for the consumer.
pub const CHUNKS_AHEAD: usize = 2;
/// Packet bytes gathered in one chunk before it is handed over.
const CHUNK_BYTES: usize = 256 * 1024;
/// Packets in one chunk at most, which bounds the packet list for tiny packets.
const CHUNK_PACKETS: usize = 4096;

/// What is known of a capture file before its packets are read: enough to put it in time
/// order and to choose an output format.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FileHead {
    /// The file.
    pub path: PathBuf,
    /// Its size in bytes.
    pub len: u64,
    /// The timestamp of its first packet, in nanoseconds since the epoch.
    pub first_ts_ns: i64,
    /// Its link type, when it has a single one (see [`FileReader::link_type`]).
    pub link_type: Option<LinkType>,
    /// Its format.
    pub format: FileFormat,
}

impl FileHead {
    /// Opens `path` and reads its first packet; `Ok(None)` when the file has no packet.
    /// An error is the reader's: the file cannot be opened, is no capture, or is damaged
    /// before its first packet.
    pub fn read(path: &Path) -> Result<Option<FileHead>, CaptureError> {
        let len = std::fs::metadata(path)?.len();
        let mut reader = FileReader::open(path)?;
        let Some(first_ts_ns) = reader.next_packet()?.map(|p| p.ts_ns) else {
            return Ok(None);
        };
        Ok(Some(FileHead {
            path: path.to_owned(),
            len,
            first_ts_ns,
            link_type: reader.link_type(),
            format: reader.format(),
        }))
    }
}

/// A file whose reading ended on an error: the packets before it were all handed out.
#[derive(Debug)]
#[non_exhaustive]
pub struct Damage {
    /// The file.
    pub path: PathBuf,
    /// Its size, to tell how much of it was not read.
    pub len: u64,
    /// Why reading stopped.
    pub error: CaptureError,
}

impl Damage {
    /// The damage `error` did to the file at `path`, `len` bytes long.
    pub fn new(path: PathBuf, len: u64, error: CaptureError) -> Damage {
        Damage { path, len, error }
    }

    /// Bytes at the end of the file that were not read, when the error says where it was.
    pub fn bytes_lost(&self) -> Option<u64> {
        let at = self.error.position()?;
        Some(self.len.saturating_sub(at.offset))
    }
}

/// Several capture files read as one, in time order (see the [module](self) docs).
#[derive(Debug)]
pub struct MergedFiles {
    /// Files not opened yet, by first timestamp.
    pending: VecDeque<(usize, FileHead)>,
    /// Files being read.
    lanes: Vec<Lane>,
    filter: Option<String>,
    /// Decryption Secrets Blocks met and not yet taken, with their file.
    secrets: Vec<(PathBuf, DecryptionSecrets)>,
    /// Files that ended on an error, not yet taken.
    damage: Vec<Damage>,
    link_type: Option<LinkType>,
    snaplen: Option<u32>,
    pool: Pool,
}

impl MergedFiles {
    /// Reads `files` as one capture. Equal first timestamps keep the order given.
    pub fn new(mut files: Vec<FileHead>) -> MergedFiles {
        let first = files.first().and_then(|f| f.link_type);
        let link_type = files
            .iter()
            .all(|f| f.link_type.is_some() && f.link_type == first)
            .then_some(first)
            .flatten();
        let snaplen = files
            .iter()
            .filter_map(|f| match f.format {
                FileFormat::Pcap { snaplen, .. } => Some(snaplen),
                FileFormat::PcapNg => None,
            })
            .max();
        files.sort_by_key(|f| f.first_ts_ns);
        MergedFiles {
            pending: files.into_iter().enumerate().collect(),
            lanes: Vec::new(),
            filter: None,
            secrets: Vec::new(),
            damage: Vec::new(),
            link_type,
            snaplen,
            pool: Pool::default(),
        }
    }

    /// Keeps only packets matching a BPF expression, in every file. The expression is
    /// compiled for the first file now, so that a bad one is an error before reading.
    pub fn set_filter(&mut self, expr: &str) -> Result<(), CaptureError> {
        if let Some((_, first)) = self.pending.front() {
            FileReader::open(&first.path)?.set_filter(expr)?;
        }
        self.filter = Some(expr.to_owned());
        Ok(())
    }

    /// The link type shared by every file, if they all have the same single one.
    pub fn link_type(&self) -> Option<LinkType> {
        self.link_type
    }

    /// The largest snapshot length of the classic pcap files (`None` when all are pcapng).
    pub fn snaplen(&self) -> Option<u32> {
        self.snaplen
    }

    /// The Decryption Secrets Blocks met since the last call, each with its file. A
    /// file's block comes out no later than the packet that follows it in that file.
    pub fn take_secrets(&mut self) -> Vec<(PathBuf, DecryptionSecrets)> {
        std::mem::take(&mut self.secrets)
    }

    /// Whether [`MergedFiles::take_secrets`] has something; cheap enough for every packet.
    pub fn has_secrets(&self) -> bool {
        !self.secrets.is_empty()
    }

    /// The files that ended on an error since the last call.
    pub fn take_damage(&mut self) -> Vec<Damage> {
        std::mem::take(&mut self.damage)
    }

    /// Whether [`MergedFiles::take_damage`] has something; cheap enough for every packet.
    pub fn has_damage(&self) -> bool {
        !self.damage.is_empty()
    }

    /// The next packet in time order; `Ok(None)` once every file is read. Errors of a file
    /// end that file only and are kept for [`MergedFiles::take_damage`].
    pub fn next_packet(&mut self) -> Result<Option<Packet<'_>>, CaptureError> {
        Ok(match self.ready() {
            Some(i) => self.lanes.get_mut(i).and_then(Lane::take),
            None => None,
        })
    }

    /// Makes the next packet ready without handing it out; false once every file is
    /// read. Every file that ended before that packet is then in
    /// [`MergedFiles::take_damage`], which lets a caller report damage before it borrows
    /// the packet.
    pub fn prepare(&mut self) -> bool {
        self.ready().is_some()
    }

    /// The lane whose packet comes next, with that packet loaded.
    fn ready(&mut self) -> Option<usize> {
        loop {
            self.open_lanes();
            let i = self.earliest()?;
            let lane = self.lanes.get_mut(i)?;
            if lane.head.is_some() {
                return Some(i);
            }
            if let Err(end) = lane.load(&mut self.secrets) {
                let lane = self.lanes.swap_remove(i);
                if let Some(error) = end {
                    // The size now: a file cut while being read is measured as it is.
                    let len = std::fs::metadata(&lane.path).map_or(lane.len, |m| m.len());
                    self.damage.push(Damage {
                        path: lane.path,
                        len,
                        error,
                    });
                }
            }
        }
    }

    /// Opens pending files while the merge needs them (one starts no later than the
    /// earliest packet at hand), and one more so that it is read ahead.
    fn open_lanes(&mut self) {
        while let Some((_, front)) = self.pending.front() {
            let earliest = self.lanes.iter().map(Lane::key).min();
            let needed = earliest.is_none_or(|(ts, _)| front.first_ts_ns <= ts);
            let ahead =
                earliest.is_some_and(|(ts, _)| self.lanes.iter().any(|l| l.first_ts_ns > ts));
            if !needed && ahead {
                return;
            }
            if let Some((rank, head)) = self.pending.pop_front() {
                self.lanes
                    .push(Lane::start(rank, head, self.filter.clone(), &mut self.pool));
            }
        }
    }

    /// The lane with the earliest packet (or first timestamp, if its next packet is not
    /// at hand yet).
    fn earliest(&self) -> Option<usize> {
        self.lanes
            .iter()
            .enumerate()
            .min_by_key(|(_, l)| l.key())
            .map(|(i, _)| i)
    }
}

/// One file being read by its thread.
#[derive(Debug)]
struct Lane {
    /// Place in time order of first packets, which breaks timestamp ties.
    rank: usize,
    path: PathBuf,
    len: u64,
    first_ts_ns: i64,
    full: Receiver<Chunk>,
    empty: Sender<Chunk>,
    chunk: Chunk,
    /// The next packet of `chunk`.
    next: usize,
    /// The timestamp of `chunk`'s packet `next`, once it is known to be there.
    head: Option<i64>,
}

impl Lane {
    /// Has a thread of `pool` read `file`.
    fn start(rank: usize, file: FileHead, filter: Option<String>, pool: &mut Pool) -> Lane {
        let (full_tx, mut full) = mpsc::sync_channel(CHUNKS_AHEAD);
        let (empty, empty_rx) = mpsc::channel();
        let job = Job {
            path: file.path.clone(),
            filter,
            full: full_tx,
            empty: empty_rx,
        };
        if let Err(e) = pool.run(job) {
            // No thread (the system's limit): the file ends at once, on that error.
            let (tx, rx) = mpsc::sync_channel(1);
            let _ = tx.send(Chunk::last(Some(CaptureError::Io(e))));
            full = rx;
        }
        Lane {
            rank,
            path: file.path,
            len: file.len,
            first_ts_ns: file.first_ts_ns,
            full,
            empty,
            chunk: Chunk::default(),
            next: 0,
            head: None,
        }
    }

    /// Where the lane stands in the merge: its next packet's time, or until that is at
    /// hand, the file's first time (never later than any of its packets in a file in
    /// time order).
    fn key(&self) -> (i64, usize) {
        (self.head.unwrap_or(self.first_ts_ns), self.rank)
    }

    /// Makes the next packet ready, waiting for the thread if needed, and moves the
    /// secrets that come before it to `secrets`. `Err` when the file is over: `Some`
    /// error if it ended on one.
    fn load(
        &mut self,
        secrets: &mut Vec<(PathBuf, DecryptionSecrets)>,
    ) -> Result<(), Option<CaptureError>> {
        loop {
            while self
                .chunk
                .secrets
                .first()
                .is_some_and(|(at, _)| *at <= self.next)
            {
                secrets.push((self.path.clone(), self.chunk.secrets.remove(0).1));
            }
            if let Some(p) = self.chunk.packets.get(self.next) {
                self.head = Some(p.ts_ns);
                return Ok(());
            }
            if let Some(end) = self.chunk.end.take() {
                return Err(end);
            }
            match self.full.recv() {
                Ok(chunk) => {
                    let used = std::mem::replace(&mut self.chunk, chunk);
                    self.next = 0;
                    // The thread may be gone already; then the chunk is just dropped.
                    let _ = self.empty.send(used.cleared());
                }
                // The thread cannot go without saying how it ended, short of a panic.
                Err(_) => {
                    return Err(Some(CaptureError::Io(std::io::Error::other(
                        "the thread reading the file stopped",
                    ))));
                }
            }
        }
    }

    /// The packet made ready by [`Lane::load`].
    fn take(&mut self) -> Option<Packet<'_>> {
        self.head.take()?;
        let p = self.chunk.packets.get(self.next)?.clone();
        self.next += 1;
        Some(Packet {
            ts_ns: p.ts_ns,
            caplen: p.caplen,
            orig_len: p.orig_len,
            link_type: p.link_type,
            interface: p.interface,
            fcs_len: p.fcs_len,
            data: self.chunk.bytes.get(p.data).unwrap_or_default(),
        })
    }
}

/// Packets copied out of a file, with the Decryption Secrets Blocks found among them.
#[derive(Debug, Default)]
struct Chunk {
    bytes: Vec<u8>,
    packets: Vec<Meta>,
    /// Each with the index of the packet it comes before.
    secrets: Vec<(usize, DecryptionSecrets)>,
    /// Set in a file's last chunk: the file is over, on this error if any.
    end: Option<Option<CaptureError>>,
}

/// A packet in a [`Chunk`].
#[derive(Debug, Clone)]
struct Meta {
    ts_ns: i64,
    caplen: u32,
    orig_len: u32,
    link_type: LinkType,
    interface: u32,
    fcs_len: u8,
    data: Range<usize>,
}

impl Chunk {
    /// An empty chunk with room for a full one.
    fn sized() -> Chunk {
        Chunk {
            bytes: Vec::with_capacity(CHUNK_BYTES),
            packets: Vec::with_capacity(CHUNK_PACKETS),
            secrets: Vec::new(),
            end: None,
        }
    }

    /// An empty last chunk.
    fn last(error: Option<CaptureError>) -> Chunk {
        Chunk {
            end: Some(error),
            ..Chunk::default()
        }
    }

    fn is_full(&self) -> bool {
        self.bytes.len() >= CHUNK_BYTES || self.packets.len() >= CHUNK_PACKETS
    }

    /// Emptied for reuse; a buffer a huge packet grew goes back to the usual size.
    fn cleared(mut self) -> Chunk {
        self.bytes.clear();
        self.bytes.shrink_to(CHUNK_BYTES);
        self.packets.clear();
        self.secrets.clear();
        self.end = None;
        self
    }

    fn push(&mut self, p: &Packet<'_>) {
        let start = self.bytes.len();
        self.bytes.extend_from_slice(p.data);
        self.packets.push(Meta {
            ts_ns: p.ts_ns,
            caplen: p.caplen,
            orig_len: p.orig_len,
            link_type: p.link_type,
            interface: p.interface,
            fcs_len: p.fcs_len,
            data: start..self.bytes.len(),
        });
    }
}

/// The threads that read files: one per file being read at once, each taking the next
/// file once its own is done. Reusing them keeps each thread's buffers (and its share of
/// the allocator) in use from file to file, so memory does not creep up with the number
/// of files read.
#[derive(Debug, Default)]
struct Pool {
    /// Files for the threads waiting for one; `None` until the first thread is started.
    jobs: Option<Sender<Job>>,
    queue: Option<Arc<Mutex<Receiver<Job>>>>,
    /// Threads waiting for a file, less the files sent and not yet taken.
    idle: Arc<AtomicUsize>,
}

impl Pool {
    /// Has a waiting thread read the file, or a new one when none waits: a file never
    /// waits for another to be done, since the merge may need both at once.
    fn run(&mut self, job: Job) -> std::io::Result<()> {
        let reserved = self
            .idle
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1))
            .is_ok();
        if reserved {
            if let Some(jobs) = &self.jobs {
                return jobs
                    .send(job)
                    .map_err(|_| std::io::Error::other("reader threads gone"));
            }
        }
        let queue = match &self.queue {
            Some(q) => Arc::clone(q),
            None => {
                let (tx, rx) = mpsc::channel();
                let q = Arc::new(Mutex::new(rx));
                self.jobs = Some(tx);
                self.queue = Some(Arc::clone(&q));
                q
            }
        };
        let idle = Arc::clone(&self.idle);
        std::thread::Builder::new()
            .name("pcap-read-ahead".to_owned())
            .spawn(move || worker(job, &queue, &idle))
            .map(|_| ())
    }
}

/// A file for a reader thread, with the channels to its lane.
#[derive(Debug)]
struct Job {
    path: PathBuf,
    filter: Option<String>,
    full: SyncSender<Chunk>,
    empty: Receiver<Chunk>,
}

/// A reader thread: reads `first`, then each file it is given, until the reader is gone.
fn worker(first: Job, queue: &Mutex<Receiver<Job>>, idle: &AtomicUsize) {
    let mut spare = Vec::new();
    let mut job = first;
    loop {
        read_ahead(&job, &mut spare);
        // The chunks handed back, for the next file.
        spare.extend(job.empty.try_iter().take(CHUNKS_AHEAD + 2));
        spare.truncate(CHUNKS_AHEAD + 2);
        drop(job);
        idle.fetch_add(1, Ordering::AcqRel);
        let next = match queue.lock() {
            Ok(q) => q.recv(),
            Err(_) => return,
        };
        match next {
            Ok(j) => job = j,
            Err(_) => return,
        }
    }
}

/// Reads a job's file into chunks (from `spare` when it has some) and sends them, the last
/// one saying how the file ended. Returns early when the lane is gone.
fn read_ahead(job: &Job, spare: &mut Vec<Chunk>) {
    let full = &job.full;
    let mut reader = match FileReader::open(&job.path) {
        Ok(r) => r,
        Err(e) => {
            let _ = full.send(Chunk::last(Some(e)));
            return;
        }
    };
    if let Some(expr) = &job.filter {
        if let Err(e) = reader.set_filter(expr) {
            let _ = full.send(Chunk::last(Some(e)));
            return;
        }
    }
    let mut fresh = || {
        job.empty
            .try_recv()
            .ok()
            .or_else(|| spare.pop())
            .unwrap_or_else(Chunk::sized)
    };
    let mut chunk = fresh();
    let end = loop {
        let read = reader.next_packet().map(|p| p.map(|p| chunk.push(&p)));
        // Blocks read before this packet come before it.
        if reader.has_secrets() {
            let at = match read {
                Ok(Some(())) => chunk.packets.len().saturating_sub(1),
                _ => chunk.packets.len(),
            };
            for s in reader.take_secrets() {
                chunk.secrets.push((at, s));
            }
        }
        match read {
            Ok(Some(())) if chunk.is_full() => {
                let next = fresh();
                if full.send(std::mem::replace(&mut chunk, next)).is_err() {
                    return;
                }
            }
            Ok(Some(())) => {}
            Ok(None) => break None,
            Err(e) => break Some(e),
        }
    };
    chunk.end = Some(end);
    let _ = full.send(chunk);
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::writer::PcapWriter;

    /// A pcap file of Ethernet packets, one per timestamp, each packet's byte its index.
    fn write(dir: &Path, name: &str, ts: &[i64]) -> PathBuf {
        let mut w = PcapWriter::new(Vec::new(), LinkType::ETHERNET, 65535).unwrap();
        for (i, &ts_ns) in ts.iter().enumerate() {
            let data = [i as u8; 20];
            w.write_packet(&Packet {
                ts_ns,
                caplen: 20,
                orig_len: 20,
                link_type: LinkType::ETHERNET,
                interface: 0,
                fcs_len: 0,
                data: &data,
            })
            .unwrap();
        }
        let path = dir.join(name);
        std::fs::write(&path, w.into_inner().unwrap()).unwrap();
        path
    }

    fn dir(test: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("pcap-merge-{}-{test}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    fn heads(paths: &[PathBuf]) -> Vec<FileHead> {
        paths
            .iter()
            .map(|p| FileHead::read(p).unwrap().unwrap())
            .collect()
    }

    fn all(m: &mut MergedFiles) -> Vec<i64> {
        let mut ts = Vec::new();
        while let Some(p) = m.next_packet().unwrap() {
            ts.push(p.ts_ns);
        }
        ts
    }

    #[test]
    fn files_in_sequence_are_read_in_time_order_whatever_the_order_given() {
        let d = dir("sequence");
        let a = write(&d, "a", &[1, 2, 3]);
        let b = write(&d, "b", &[4, 5]);
        let c = write(&d, "c", &[6]);
        let mut m = MergedFiles::new(heads(&[c, a, b]));
        assert_eq!(all(&mut m), vec![1, 2, 3, 4, 5, 6]);
        assert!(!m.has_damage());
    }

    #[test]
    fn overlapping_files_are_merged_by_timestamp_ties_to_the_earlier_file() {
        let d = dir("overlap");
        let a = write(&d, "a", &[10, 20, 30, 40]);
        let b = write(&d, "b", &[15, 20, 35]);
        let c = write(&d, "c", &[50]);
        let mut m = MergedFiles::new(heads(&[a, b, c]));
        let mut seen = Vec::new();
        while let Some(p) = m.next_packet().unwrap() {
            seen.push((p.ts_ns, p.data[0]));
        }
        // (time, index in its file): b's packet at 20 comes after a's.
        let want = [
            (10, 0),
            (15, 0),
            (20, 1),
            (20, 1),
            (30, 2),
            (35, 2),
            (40, 3),
            (50, 0),
        ];
        assert_eq!(seen, want);
    }

    #[test]
    fn many_chunks_keep_their_bytes() {
        let d = dir("chunks");
        let ts: Vec<i64> = (0..(CHUNK_PACKETS as i64 * 3 + 7)).collect();
        let a = write(&d, "a", &ts);
        let mut m = MergedFiles::new(heads(&[a]));
        let mut n = 0usize;
        while let Some(p) = m.next_packet().unwrap() {
            assert_eq!(p.data, [n as u8; 20]);
            n += 1;
        }
        assert_eq!(n, ts.len());
    }

    #[test]
    fn secrets_come_out_with_the_packet_that_follows_them_and_name_their_file() {
        use crate::writer::PcapNgWriter;
        let d = dir("secrets");
        let a = write(&d, "a", &[1, 2]);
        let b = d.join("b.pcapng");
        let mut w = PcapNgWriter::new(Vec::new(), 65535).unwrap();
        for (ts_ns, secrets) in [(3, false), (4, true)] {
            if secrets {
                let keys = b"CLIENT_RANDOM 00 11\n".to_vec();
                let block = DecryptionSecrets::new(DecryptionSecrets::TLS_KEY_LOG, keys);
                w.write_secrets(&block).unwrap();
            }
            let data = [0u8; 20];
            w.write_packet(&Packet {
                ts_ns,
                caplen: 20,
                orig_len: 20,
                link_type: LinkType::ETHERNET,
                interface: 0,
                fcs_len: 0,
                data: &data,
            })
            .unwrap();
        }
        std::fs::write(&b, w.into_inner().unwrap()).unwrap();
        let mut m = MergedFiles::new(heads(&[b.clone(), a]));
        let mut seen = Vec::new();
        while let Some(ts) = m.next_packet().unwrap().map(|p| p.ts_ns) {
            let secrets = m.take_secrets();
            seen.push((ts, secrets.len()));
            if let Some((path, s)) = secrets.first() {
                assert_eq!(path, &b);
                assert_eq!(s.data, b"CLIENT_RANDOM 00 11\n");
            }
        }
        assert_eq!(seen, vec![(1, 0), (2, 0), (3, 0), (4, 1)]);
    }

    #[test]
    fn a_damaged_file_ends_alone_and_says_what_was_lost() {
        let d = dir("damaged");
        let a = write(&d, "a", &[1, 2]);
        let b = write(&d, "b", &[3, 4, 5]);
        let c = write(&d, "c", &[6]);
        let heads = heads(&[a, b.clone(), c]);
        // Cut b inside its last packet, after its head was read.
        let bytes = std::fs::read(&b).unwrap();
        std::fs::write(&b, &bytes[..bytes.len() - 5]).unwrap();
        let mut m = MergedFiles::new(heads);
        assert_eq!(all(&mut m), vec![1, 2, 3, 4, 6]);
        let damage = m.take_damage();
        assert_eq!(damage.len(), 1);
        assert_eq!(damage[0].path, b);
        assert!(matches!(damage[0].error, CaptureError::Truncated { .. }));
        // The last record (16-byte header and 20 bytes), cut to 31 bytes, is lost.
        assert_eq!(damage[0].bytes_lost(), Some(31));
    }
}
