//! The reorder stage: the workers' chunks of output written in capture order, session
//! markers replaced by the capture's session numbers.
//!
//! Every worker is given every batch's frame range (its own packets and the others' ticks),
//! so the replies for one batch come in from every worker, in batch order: holding one
//! batch's replies is all the reordering needs, and the bounded channels keep at most a
//! few batches in flight.

use std::sync::mpsc::{Receiver, SyncSender};

use super::session_id::{self, LEN, MARK, NUMBER, STARTED};
use super::worker::{Key, Part, Reply};
use crate::error::CliError;
use crate::output::Output;

/// Session numbers: by worker, the capture's number of each of the worker's sessions
/// (a worker numbers its sessions from 0 without gaps).
struct Numbers {
    by_worker: Vec<Vec<u64>>,
    next: u64,
}

impl Numbers {
    fn get(&self, worker: usize, local: u64) -> u64 {
        self.by_worker
            .get(worker)
            .and_then(|w| w.get(usize::try_from(local).ok()?))
            .copied()
            .unwrap_or(local)
    }

    fn start(&mut self, worker: usize, local: u64) {
        if let (Some(w), Ok(local)) = (self.by_worker.get_mut(worker), usize::try_from(local)) {
            if w.len() <= local {
                w.resize(local + 1, u64::MAX);
            }
            if let Some(n) = w.get_mut(local) {
                *n = self.next;
            }
        }
        self.next = self.next.saturating_add(1);
    }
}

/// Reads every worker's replies in batch order and writes them to `out`. Returns the first
/// error a worker's handler stopped on, or a write error.
pub(super) fn merge(
    replies: &[Receiver<Reply>],
    spent: &[SyncSender<Vec<u8>>],
    out: &mut Output,
) -> Result<(), CliError> {
    let mut numbers = Numbers {
        by_worker: vec![Vec::new(); replies.len()],
        next: 0,
    };
    let mut batch: Vec<Reply> = Vec::with_capacity(replies.len());
    loop {
        batch.clear();
        for rx in replies {
            // A worker that went away stopped on an error it sent before.
            match rx.recv() {
                Ok(reply) => batch.push(reply),
                Err(_) => return Ok(()),
            }
        }
        if let Some(e) = batch.iter_mut().find_map(|r| r.error.take()) {
            // What came before the error is written, as on one thread.
            write_batch(&batch, &mut numbers, out, false);
            out.flush()?;
            return Err(e);
        }
        let last = batch.iter().any(|r| r.last);
        write_batch(&batch, &mut numbers, out, last);
        out.packet_done()?;
        // Buffers back to their workers, unless they have enough already.
        for (reply, tx) in batch.drain(..).zip(spent) {
            let mut buf = reply.out;
            buf.clear();
            let _ = tx.try_send(buf);
        }
        if last {
            return Ok(());
        }
    }
}

/// Writes one batch's chunks in key order; `last`: the end-of-input chunks, ordered by the
/// capture's session numbers.
fn write_batch(batch: &[Reply], numbers: &mut Numbers, out: &mut Output, last: bool) {
    let mut chunks: Vec<(Key, usize, &[u8])> = Vec::new();
    for (worker, reply) in batch.iter().enumerate() {
        let ends = reply
            .chunks
            .iter()
            .skip(1)
            .map(|c| c.1)
            .chain([reply.out.len()]);
        for (&(key, start), end) in reply.chunks.iter().zip(ends) {
            if let Some(bytes) = reply.out.get(start..end).filter(|b| !b.is_empty()) {
                chunks.push((key, worker, bytes));
            }
        }
    }
    // Frames first (they may start sessions), then the flushes by session number.
    chunks.sort_by_key(|c| (c.0, c.1));
    let split = chunks
        .iter()
        .position(|c| !matches!(c.0, Key::Frame(..)))
        .unwrap_or(chunks.len());
    // Sessions ended by one frame's time, on several workers: in the capture's session
    // order, known once the frames before have been written.
    let mut frames = chunks.get(..split).unwrap_or_default();
    let mut swept: Vec<(u64, usize, &[u8])> = Vec::new();
    while let Some(&(key, worker, bytes)) = frames.first() {
        let Key::Frame(frame, Part::Swept(_)) = key else {
            write_chunk(bytes, worker, numbers, out.buffer());
            frames = frames.get(1..).unwrap_or_default();
            continue;
        };
        let n = frames
            .iter()
            .take_while(|c| matches!(c.0, Key::Frame(f, Part::Swept(_)) if f == frame))
            .count();
        swept.clear();
        for &(key, worker, bytes) in frames.get(..n).unwrap_or_default() {
            if let Key::Frame(_, Part::Swept(local)) = key {
                swept.push((numbers.get(worker, local), worker, bytes));
            }
        }
        swept.sort_by_key(|c| (c.0, c.1));
        for &(_, worker, bytes) in &swept {
            write_chunk(bytes, worker, numbers, out.buffer());
        }
        frames = frames.get(n..).unwrap_or_default();
    }
    if !last {
        return;
    }
    let mut ends: Vec<(u64, usize, &[u8])> = chunks
        .get(split..)
        .unwrap_or_default()
        .iter()
        .map(|&(key, worker, bytes)| {
            let order = match key {
                Key::Finish(local) => numbers.get(worker, local),
                Key::Frame(..) | Key::Finished => u64::MAX,
            };
            (order, worker, bytes)
        })
        .collect();
    ends.sort_by_key(|c| (c.0, c.1));
    for (_, worker, bytes) in ends {
        write_chunk(bytes, worker, numbers, out.buffer());
    }
}

/// Appends one chunk, markers replaced.
fn write_chunk(mut bytes: &[u8], worker: usize, numbers: &mut Numbers, out: &mut Vec<u8>) {
    // memchr: every byte of the output passes here, and markers are rare.
    while let Some(at) = memchr::memchr(MARK, bytes) {
        let (before, rest) = bytes.split_at(at);
        out.extend_from_slice(before);
        let marker = rest.get(..LEN).unwrap_or(rest);
        match session_id::parse(marker) {
            Some((STARTED, local, _)) => numbers.start(worker, local),
            Some((NUMBER, local, width)) => {
                let start = out.len();
                crate::render::json::push_u64(out, numbers.get(worker, local));
                let pad = width.saturating_sub(out.len() - start);
                if pad > 0 {
                    out.splice(start..start, std::iter::repeat_n(b' ', pad));
                }
            }
            // Not one of ours (cannot happen: output has no NUL of its own): kept.
            _ => out.extend_from_slice(marker),
        }
        bytes = rest.get(marker.len()..).unwrap_or_default();
    }
    out.extend_from_slice(bytes);
}
