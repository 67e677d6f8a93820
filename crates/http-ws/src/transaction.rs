//! Owned per-exchange summaries built from the event stream, for the CLI and HAR writers.

use std::collections::VecDeque;

use pcap_tcp_reassembly::Direction;

use crate::event::{Headers, HttpEvent, TransactionRecord};

/// One request/response exchange, owned: what a CLI line or a HAR entry needs.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Transaction {
    /// Timings and sizes as reported by the session.
    pub record: TransactionRecord,
    /// Request method (`None`: the request was not seen).
    pub method: Option<String>,
    /// Request target.
    pub uri: Option<String>,
    /// Request HTTP minor version (0 or 1).
    pub request_version: Option<u8>,
    /// Final response HTTP minor version (0 or 1).
    pub response_version: Option<u8>,
    /// `Host` header.
    pub host: Option<String>,
    /// `User-Agent` header.
    pub user_agent: Option<String>,
    /// Final status code.
    pub status: Option<u16>,
    /// Reason phrase of the final response.
    pub reason: Option<String>,
    /// Request headers in order (values are bytes: the spec allows non-ASCII).
    pub request_headers: Vec<(String, Vec<u8>)>,
    /// Final response headers in order.
    pub response_headers: Vec<(String, Vec<u8>)>,
    /// Request body (decoded when content decoding is on), capped; `None` unless asked for.
    pub request_body: Option<Vec<u8>>,
    /// Response body (decoded when content decoding is on), capped; `None` unless asked for.
    pub response_body: Option<Vec<u8>>,
    /// A captured body was cut at the cap.
    pub body_truncated: bool,
}

/// Body bytes kept for one message: raw and decoded, each capped.
#[derive(Debug, Default)]
struct Kept {
    raw: Vec<u8>,
    decoded: Vec<u8>,
    any_decoded: bool,
    truncated: bool,
}

impl Kept {
    fn push(&mut self, data: &[u8], decoded: bool, cap: usize) {
        let buf = if decoded {
            self.any_decoded = true;
            &mut self.decoded
        } else {
            &mut self.raw
        };
        let room = cap.saturating_sub(buf.len());
        if data.len() > room {
            self.truncated = true;
        }
        buf.extend_from_slice(data.get(..room.min(data.len())).unwrap_or_default());
    }

    /// The decoded body when there was one, else the raw body.
    fn into_body(self) -> (Vec<u8>, bool) {
        if self.any_decoded {
            (self.decoded, self.truncated)
        } else {
            (self.raw, self.truncated)
        }
    }
}

/// The final response being received.
#[derive(Debug, Default)]
struct Partial {
    tx: Transaction,
    body: Kept,
}

/// Queues a request that waits for its response. One waiting is the rule, and VecDeque's
/// first push would make room for four: most of a session's memory when many sessions wait.
pub(crate) fn push_waiting<T>(queue: &mut VecDeque<T>, item: T) {
    if queue.capacity() == 0 {
        queue.reserve_exact(1);
    }
    queue.push_back(item);
}

/// A request waiting for its record. Its head is packed into one buffer about the size of
/// the head on the wire, rather than a [`Transaction`] of owned strings (several times
/// that, in a dozen allocations): a capture can hold many sessions' requests unanswered.
#[derive(Debug)]
struct Waiting {
    index: u64,
    version: u8,
    head: PackedHead,
    body: Kept,
}

/// Method, target, then each header name and value, each as a little-endian `u32` length
/// and the bytes.
#[derive(Debug, Default)]
struct PackedHead(Vec<u8>);

impl PackedHead {
    fn new(r: &crate::event::RequestHead<'_>) -> PackedHead {
        let fields = 2 + 2 * r.headers.len();
        let bytes = r.method.len()
            + r.uri.len()
            + r.headers
                .iter()
                .map(|(n, v)| n.len() + v.len())
                .sum::<usize>();
        let mut packed = PackedHead(Vec::with_capacity(fields * 4 + bytes));
        packed.push(r.method.as_bytes());
        packed.push(r.uri.as_bytes());
        for (name, value) in r.headers.iter() {
            packed.push(name.as_bytes());
            packed.push(value);
        }
        packed
    }

    fn push(&mut self, field: &[u8]) {
        // A head is at most `max_head_bytes`, far below 4 GiB.
        let len = u32::try_from(field.len()).unwrap_or(u32::MAX);
        self.0.extend_from_slice(&len.to_le_bytes());
        self.0
            .extend_from_slice(field.get(..len as usize).unwrap_or(field));
    }

    fn fields(&self) -> impl Iterator<Item = &[u8]> {
        let mut rest = self.0.as_slice();
        std::iter::from_fn(move || {
            let (len, tail) = rest.split_first_chunk::<4>()?;
            let len = u32::from_le_bytes(*len) as usize;
            let field = tail.get(..len)?;
            rest = tail.get(len..)?;
            Some(field)
        })
    }

    /// The request's fields of a [`Transaction`].
    fn unpack(&self, version: u8) -> Transaction {
        let mut fields = self.fields();
        let mut tx = Transaction {
            method: fields
                .next()
                .map(|m| String::from_utf8_lossy(m).into_owned()),
            uri: fields
                .next()
                .map(|u| String::from_utf8_lossy(u).into_owned()),
            request_version: Some(version),
            ..Default::default()
        };
        while let (Some(name), Some(value)) = (fields.next(), fields.next()) {
            let name = String::from_utf8_lossy(name).into_owned();
            if tx.host.is_none() && name.eq_ignore_ascii_case("host") {
                tx.host = text(Some(value));
            }
            if tx.user_agent.is_none() && name.eq_ignore_ascii_case("user-agent") {
                tx.user_agent = text(Some(value));
            }
            tx.request_headers.push((name, value.to_vec()));
        }
        tx
    }
}

fn owned_headers(h: Headers<'_>) -> Vec<(String, Vec<u8>)> {
    h.iter().map(|(n, v)| (n.to_owned(), v.to_vec())).collect()
}

fn text(v: Option<&[u8]>) -> Option<String> {
    v.map(|v| String::from_utf8_lossy(v).into_owned())
}

/// Turns an [`crate::HttpSession`]'s events into owned [`Transaction`]s.
///
/// Feed it every event of one session; finished transactions are returned by
/// [`TransactionCollector::take`]. Allocates per transaction (it is the convenient layer,
/// not the hot path).
#[derive(Debug, Default)]
pub struct TransactionCollector {
    body_cap: Option<usize>,
    requests: VecDeque<Waiting>,
    /// Boxed: a session without a response in flight (most of them, when many wait) keeps
    /// a pointer rather than an empty [`Transaction`].
    response: Option<Box<Partial>>,
    done: Vec<Transaction>,
}

impl TransactionCollector {
    /// A collector; with `body_cap = Some(n)` it keeps up to `n` bytes of each body.
    pub fn new(body_cap: Option<usize>) -> Self {
        TransactionCollector {
            body_cap,
            ..Default::default()
        }
    }

    /// Takes in one event.
    pub fn push(&mut self, ev: &HttpEvent<'_>) {
        match ev {
            HttpEvent::Request(r) => {
                push_waiting(
                    &mut self.requests,
                    Waiting {
                        index: r.index,
                        version: r.version,
                        head: PackedHead::new(r),
                        body: Kept::default(),
                    },
                );
            }
            HttpEvent::Response(r) if !r.interim => {
                let tx = Transaction {
                    status: Some(r.status),
                    response_version: Some(r.version),
                    reason: Some(r.reason.to_owned()),
                    response_headers: owned_headers(r.headers),
                    ..Default::default()
                };
                self.response = Some(Box::new(Partial {
                    tx,
                    body: Kept::default(),
                }));
            }
            HttpEvent::Body {
                dir, data, decoded, ..
            } => {
                let Some(cap) = self.body_cap else { return };
                let target = match dir {
                    Direction::ClientToServer => self.requests.back_mut().map(|p| &mut p.body),
                    Direction::ServerToClient => self.response.as_mut().map(|p| &mut p.body),
                };
                if let Some(body) = target {
                    body.push(data, *decoded, cap);
                }
            }
            HttpEvent::Transaction(rec) => self.finish(rec),
            _ => {}
        }
    }

    fn finish(&mut self, rec: &TransactionRecord) {
        let mut tx = Transaction::default();
        let mut truncated = false;
        if rec.request_start_ns.is_some() {
            // Requests the session dropped (pipeline cap) have lower indices: discard them.
            while self.requests.front().is_some_and(|p| p.index < rec.index) {
                self.requests.pop_front();
            }
            if self.requests.front().is_some_and(|p| p.index == rec.index) {
                if let Some(p) = self.requests.pop_front() {
                    tx = p.head.unpack(p.version);
                    if self.body_cap.is_some() {
                        let (b, t) = p.body.into_body();
                        tx.request_body = Some(b);
                        truncated |= t;
                    }
                }
            }
        }
        if rec.status.is_some() {
            if let Some(p) = self.response.take() {
                tx.status = p.tx.status;
                tx.response_version = p.tx.response_version;
                tx.reason = p.tx.reason;
                tx.response_headers = p.tx.response_headers;
                if self.body_cap.is_some() {
                    let (b, t) = p.body.into_body();
                    tx.response_body = Some(b);
                    truncated |= t;
                }
            }
        }
        tx.body_truncated = truncated;
        tx.record = rec.clone();
        self.done.push(tx);
    }

    /// Transactions finished since the last call, in completion order.
    pub fn take(&mut self) -> Vec<Transaction> {
        std::mem::take(&mut self.done)
    }
}
