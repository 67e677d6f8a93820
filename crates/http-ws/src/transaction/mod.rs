//! Request/response pairing: a [`TransactionCollector`] per session turns the session's
//! events into transactions, each read through a borrowed [`TransactionView`] of packed
//! heads, or copied into an owned [`Transaction`].
//!
//! This is the one pairing of requests with responses: a record closes the waiting request
//! with its index (requests the session dropped have lower ones) and the latest final
//! response. Heads wait packed into one buffer each, about their size on the wire, and
//! buffers can come back through a [`HeadBuffers`] shared by many sessions, so a consumer
//! that renders from the view allocates nothing per transaction once the buffers have grown.

use std::collections::VecDeque;

use pcap_tcp_reassembly::Direction;

mod packed;

use crate::event::{HttpEvent, RequestHead, ResponseHead, TransactionRecord};

use packed::{Answer, Waiting};
pub use packed::{HeadBuffers, PackedHeaders};

/// One request/response exchange, owned: what a HAR entry or a test needs. Made from a
/// [`TransactionView`] (`Transaction::from(view)`).
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

impl From<TransactionView<'_>> for Transaction {
    fn from(view: TransactionView<'_>) -> Transaction {
        let owned = |h: PackedHeaders<'_>| -> Vec<(String, Vec<u8>)> {
            h.map(|(n, v)| (n.to_owned(), v.to_vec())).collect()
        };
        let text = |v: Option<&[u8]>| v.map(|v| String::from_utf8_lossy(v).into_owned());
        let mut tx = Transaction {
            record: view.record.clone(),
            request_body: view.request_body().map(<[u8]>::to_vec),
            response_body: view.response_body().map(<[u8]>::to_vec),
            body_truncated: view.body_truncated(),
            ..Transaction::default()
        };
        if let Some(r) = view.request() {
            tx.method = Some(r.method.to_owned());
            tx.uri = Some(r.uri.to_owned());
            tx.request_version = Some(r.version);
            tx.host = text(r.host());
            tx.user_agent = text(r.user_agent());
            tx.request_headers = owned(r.headers);
        }
        if let Some(r) = view.response() {
            tx.status = Some(r.status);
            tx.response_version = Some(r.version);
            tx.reason = Some(r.reason.to_owned());
            tx.response_headers = owned(r.headers);
        }
        tx
    }
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
    fn body(&self) -> &[u8] {
        if self.any_decoded {
            &self.decoded
        } else {
            &self.raw
        }
    }
}

/// Queues a request that waits for its response. One waiting is the rule, and VecDeque's
/// first push would make room for four: most of a session's memory when many sessions wait.
pub(crate) fn push_waiting<T>(queue: &mut VecDeque<T>, item: T) {
    if queue.capacity() == 0 {
        queue.reserve_exact(1);
    }
    queue.push_back(item);
}

/// Bodies kept for the waiting requests (in step with them) and the final response.
#[derive(Debug)]
struct Bodies {
    cap: usize,
    requests: VecDeque<Kept>,
    response: Kept,
}

/// One finished exchange, borrowed from its collector for the duration of the callback:
/// the record, the request and final response heads (`None` when not seen) and, when the
/// collector keeps bodies, the bodies.
#[derive(Debug, Clone, Copy)]
pub struct TransactionView<'a> {
    record: &'a TransactionRecord,
    request: Option<&'a Waiting>,
    response: Option<&'a Answer>,
    request_body: Option<&'a Kept>,
    response_body: Option<&'a Kept>,
}

/// A request head of a [`TransactionView`].
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct RequestView<'a> {
    /// Method token, e.g. `GET`.
    pub method: &'a str,
    /// Request target as sent.
    pub uri: &'a str,
    /// Minor version: 0 for HTTP/1.0, 1 for HTTP/1.1.
    pub version: u8,
    /// Headers in order.
    pub headers: PackedHeaders<'a>,
}

impl<'a> RequestView<'a> {
    /// The first `Host` header, or HTTP/2's `:authority` pseudo-header.
    pub fn host(&self) -> Option<&'a [u8]> {
        self.headers
            .get("host")
            .or_else(|| self.headers.get(":authority"))
    }

    /// The first `User-Agent` header.
    pub fn user_agent(&self) -> Option<&'a [u8]> {
        self.headers.get("user-agent")
    }
}

/// The final response head of a [`TransactionView`].
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct ResponseView<'a> {
    /// Status code.
    pub status: u16,
    /// Minor version: 0 for HTTP/1.0, 1 for HTTP/1.1.
    pub version: u8,
    /// Reason phrase.
    pub reason: &'a str,
    /// Headers in order.
    pub headers: PackedHeaders<'a>,
}

impl<'a> TransactionView<'a> {
    /// Timings and sizes as reported by the session.
    pub fn record(&self) -> &'a TransactionRecord {
        self.record
    }

    /// The request (`None`: not seen, or dropped by the session's pipeline cap). Reads the
    /// packed head: call once and keep the result.
    pub fn request(&self) -> Option<RequestView<'a>> {
        self.request.map(|w| {
            let [.., version] = w.0.prefix::<{ Waiting::PREFIX }>();
            let ([method, uri], headers) = w.0.read::<{ Waiting::PREFIX }, 2>();
            RequestView {
                method,
                uri,
                version,
                headers,
            }
        })
    }

    /// The final response (`None`: none before the stream ended). Reads the packed head:
    /// call once and keep the result.
    pub fn response(&self) -> Option<ResponseView<'a>> {
        self.response.map(|a| {
            let [s0, s1, version] = a.0.prefix::<{ Answer::PREFIX }>();
            let ([reason], headers) = a.0.read::<{ Answer::PREFIX }, 1>();
            ResponseView {
                status: u16::from_le_bytes([s0, s1]),
                version,
                reason,
                headers,
            }
        })
    }

    /// The final response's status (`None`: no final response); cheaper than
    /// [`TransactionView::response`], and also there for [`TransactionCollector::push_rendered`].
    pub fn response_status(&self) -> Option<u16> {
        self.response.map(|a| {
            let [s0, s1, _] = a.0.prefix::<{ Answer::PREFIX }>();
            u16::from_le_bytes([s0, s1])
        })
    }

    /// What [`HeadRender::request`] wrote for the request, when the collector was fed with
    /// [`TransactionCollector::push_rendered`] (`None`: not seen, or dropped).
    pub fn request_rendered(&self) -> Option<&'a [u8]> {
        self.request
            .map(|w| w.0.after_prefix::<{ Waiting::PREFIX }>())
    }

    /// What [`HeadRender::response`] wrote for the final response, when the collector was
    /// fed with [`TransactionCollector::push_rendered`] (`None`: no final response).
    pub fn response_rendered(&self) -> Option<&'a [u8]> {
        self.response
            .map(|a| a.0.after_prefix::<{ Answer::PREFIX }>())
    }

    /// The request body (decoded when content decoding is on), capped; `None` unless the
    /// collector keeps bodies and the request was seen.
    pub fn request_body(&self) -> Option<&'a [u8]> {
        self.request_body.map(Kept::body)
    }

    /// The response body, as [`TransactionView::request_body`].
    pub fn response_body(&self) -> Option<&'a [u8]> {
        self.response_body.map(Kept::body)
    }

    /// A kept body was cut at the cap.
    pub fn body_truncated(&self) -> bool {
        self.request_body.is_some_and(|k| k.truncated)
            || self.response_body.is_some_and(|k| k.truncated)
    }
}

/// A consumer's own form of a head, written once as the head arrives, for
/// [`TransactionCollector::push_rendered`].
pub trait HeadRender {
    /// Writes what the consumer keeps of a request head to `out`.
    fn request(&mut self, head: &RequestHead<'_>, out: &mut Vec<u8>);

    /// Writes what the consumer keeps of a final response head to `out`.
    fn response(&mut self, head: &ResponseHead<'_>, out: &mut Vec<u8>);
}

/// Pairs an [`crate::HttpSession`]'s requests with their responses and records.
///
/// Feed it every event of one session; each [`HttpEvent::Transaction`] record hands the
/// exchange it closes to a callback as a [`TransactionView`]. Waiting heads are packed (a
/// capture can hold many sessions' requests unanswered); bodies are kept only when asked for.
///
/// ```
/// use pcap_http_ws::{Direction, HttpConfig, HttpSession, Transaction, TransactionCollector};
///
/// let mut session = HttpSession::new(HttpConfig::default());
/// let mut collector = TransactionCollector::new(None);
/// let mut done = Vec::new();
/// let mut sink = |ev: pcap_http_ws::HttpEvent<'_>| {
///     collector.push(&ev, |tx| done.push(Transaction::from(tx)));
/// };
/// session.data(Direction::ClientToServer, 1, b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n", &mut sink);
/// session.data(Direction::ServerToClient, 2, b"HTTP/1.1 204 No Content\r\n\r\n", &mut sink);
/// assert_eq!(done[0].uri.as_deref(), Some("/a"));
/// assert_eq!(done[0].status, Some(204));
/// ```
#[derive(Debug, Default)]
pub struct TransactionCollector {
    requests: VecDeque<Waiting>,
    response: Option<Answer>,
    /// Only when bodies are kept: a session keeps the pointer, not the bodies' bookkeeping.
    bodies: Option<Box<Bodies>>,
}

impl TransactionCollector {
    /// A collector; with `body_cap = Some(n)` it keeps up to `n` bytes of each body.
    pub fn new(body_cap: Option<usize>) -> Self {
        TransactionCollector {
            bodies: body_cap.map(|cap| {
                Box::new(Bodies {
                    cap,
                    requests: VecDeque::new(),
                    response: Kept::default(),
                })
            }),
            ..Default::default()
        }
    }

    /// Takes in one event; when it is a record, calls `done` with the exchange it closes.
    pub fn push(&mut self, ev: &HttpEvent<'_>, done: impl FnOnce(TransactionView<'_>)) {
        self.push_with(ev, &mut HeadBuffers::new(), done);
    }

    /// [`TransactionCollector::push`], taking head buffers from `buffers` and giving them
    /// back there once the transaction is done.
    pub fn push_with(
        &mut self,
        ev: &HttpEvent<'_>,
        buffers: &mut HeadBuffers,
        done: impl FnOnce(TransactionView<'_>),
    ) {
        self.push_heads(ev, buffers, None, done);
    }

    /// [`TransactionCollector::push_with`], keeping each head in the form `render` writes
    /// as it arrives instead of packed: for a consumer that renders every head once anyway
    /// (a JSON line per transaction), which then reads it back with
    /// [`TransactionView::request_rendered`] and [`TransactionView::response_rendered`].
    /// The pairing is the same. Feed a collector through one of the two calls only.
    pub fn push_rendered(
        &mut self,
        ev: &HttpEvent<'_>,
        buffers: &mut HeadBuffers,
        render: &mut impl HeadRender,
        done: impl FnOnce(TransactionView<'_>),
    ) {
        self.push_heads(ev, buffers, Some(render), done);
    }

    fn push_heads(
        &mut self,
        ev: &HttpEvent<'_>,
        buffers: &mut HeadBuffers,
        render: Option<&mut dyn HeadRender>,
        done: impl FnOnce(TransactionView<'_>),
    ) {
        match ev {
            HttpEvent::Request(r) => {
                push_waiting(&mut self.requests, Waiting::new(buffers.take(), r, render));
                if let Some(b) = self.bodies.as_deref_mut() {
                    push_waiting(&mut b.requests, Kept::default());
                }
            }
            HttpEvent::Response(r) if !r.interim => {
                // A second final response before the record reuses the first one's buffer.
                let buf = match self.response.take() {
                    Some(old) => {
                        let mut b = (old.0).0;
                        b.clear();
                        b
                    }
                    None => buffers.take(),
                };
                self.response = Some(Answer::new(buf, r, render));
                if let Some(b) = self.bodies.as_deref_mut() {
                    b.response = Kept::default();
                }
            }
            HttpEvent::Body {
                dir, data, decoded, ..
            } => {
                let Some(b) = self.bodies.as_deref_mut() else {
                    return;
                };
                let target = match dir {
                    Direction::ClientToServer => b.requests.back_mut(),
                    Direction::ServerToClient => self.response.is_some().then_some(&mut b.response),
                };
                if let Some(body) = target {
                    body.push(data, *decoded, b.cap);
                }
            }
            HttpEvent::Transaction(rec) => self.finish(rec, buffers, done),
            _ => {}
        }
    }

    fn finish(
        &mut self,
        rec: &TransactionRecord,
        buffers: &mut HeadBuffers,
        done: impl FnOnce(TransactionView<'_>),
    ) {
        let mut request = None;
        let mut request_body = None;
        if rec.request_start_ns.is_some() {
            // Requests the session dropped (pipeline cap) have lower indices: discard them.
            while self.requests.front().is_some_and(|w| w.index() < rec.index) {
                if let Some(w) = self.requests.pop_front() {
                    buffers.give((w.0).0);
                }
                if let Some(b) = self.bodies.as_deref_mut() {
                    b.requests.pop_front();
                }
            }
            if self
                .requests
                .front()
                .is_some_and(|w| w.index() == rec.index)
            {
                request = self.requests.pop_front();
                request_body = self
                    .bodies
                    .as_deref_mut()
                    .and_then(|b| b.requests.pop_front());
            }
        }
        let response = rec.status.and_then(|_| self.response.take());
        let response_body = match (&response, self.bodies.as_deref_mut()) {
            (Some(_), Some(b)) => Some(std::mem::take(&mut b.response)),
            _ => None,
        };
        done(TransactionView {
            record: rec,
            request: request.as_ref(),
            response: response.as_ref(),
            request_body: request_body.as_ref(),
            response_body: response_body.as_ref(),
        });
        // Not capped here: the pool holds at most as many buffers as were ever in use at once.
        buffers.spare.extend(request.map(|w| (w.0).0));
        buffers.spare.extend(response.map(|a| (a.0).0));
    }

    /// Gives the buffers of heads still waiting back to `buffers` (the session has ended).
    pub fn recycle(self, buffers: &mut HeadBuffers) {
        let heads = self.requests.into_iter().map(|w| (w.0).0);
        for b in heads.chain(self.response.map(|a| (a.0).0)) {
            buffers.give(b);
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;
    use crate::{HttpConfig, HttpSession};

    /// Runs client and server bytes through a session and a collector sharing `buffers`;
    /// returns what each view said and the owned copies.
    fn collect(
        steps: &[(Direction, &[u8])],
        body_cap: Option<usize>,
        buffers: &mut HeadBuffers,
    ) -> (Vec<String>, Vec<Transaction>) {
        let mut session = HttpSession::new(HttpConfig::default());
        let mut col = TransactionCollector::new(body_cap);
        let (mut seen, mut owned) = (Vec::new(), Vec::new());
        let mut sink = |ev: HttpEvent<'_>| {
            col.push_with(&ev, buffers, |v| {
                let req = v.request().map(|r| {
                    let headers: Vec<String> = r
                        .headers
                        .map(|(n, v)| format!("{n}={}", v.escape_ascii()))
                        .collect();
                    format!(
                        "{} {} 1.{} [{}]",
                        r.method,
                        r.uri,
                        r.version,
                        headers.join(",")
                    )
                });
                let resp = v.response().map(|r| format!("{} {}", r.status, r.reason));
                seen.push(format!("#{} {req:?} {resp:?}", v.record().index));
                owned.push(Transaction::from(v));
            });
        };
        for (i, (dir, bytes)) in steps.iter().enumerate() {
            session.data(*dir, i as i64, bytes, &mut sink);
        }
        session.end(None, 99, &mut sink);
        (seen, owned)
    }

    const C: Direction = Direction::ClientToServer;
    const S: Direction = Direction::ServerToClient;

    /// Keeps a request as its method and target, a response as its reason.
    struct Lines;

    impl HeadRender for Lines {
        fn request(&mut self, head: &RequestHead<'_>, out: &mut Vec<u8>) {
            out.extend_from_slice(format!("{} {}", head.method, head.uri).as_bytes());
        }

        fn response(&mut self, head: &ResponseHead<'_>, out: &mut Vec<u8>) {
            out.extend_from_slice(head.reason.as_bytes());
        }
    }

    #[test]
    fn rendered_heads_pair_as_packed_ones() {
        let mut session = HttpSession::new(HttpConfig::default());
        let mut collector = TransactionCollector::new(None);
        let mut buffers = HeadBuffers::new();
        let mut seen = Vec::new();
        let mut sink = |ev: HttpEvent<'_>| {
            collector.push_rendered(&ev, &mut buffers, &mut Lines, |tx| {
                let text = |b: Option<&[u8]>| b.map(|b| String::from_utf8_lossy(b).into_owned());
                seen.push((
                    text(tx.request_rendered()),
                    text(tx.response_rendered()),
                    tx.response_status(),
                ));
            });
        };
        let c2s = b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n";
        let s2c = b"HTTP/1.1 200 Fine\r\nContent-Length: 0\r\n\r\nHTTP/1.1 404 Gone\r\n\r\n";
        session.data(Direction::ClientToServer, 1, c2s, &mut sink);
        session.data(Direction::ServerToClient, 2, s2c, &mut sink);
        session.end(None, 3, &mut sink);
        let some = |s: &str| Some(s.to_owned());
        assert_eq!(
            seen,
            [
                (some("GET /a"), some("Fine"), Some(200)),
                (some("GET /b"), some("Gone"), Some(404)),
            ]
        );
    }

    #[test]
    fn views_read_the_packed_heads_and_match_the_owned_copies() {
        let mut buffers = HeadBuffers::new();
        let (seen, owned) = collect(
            &[
                (C, b"GET /a HTTP/1.1\r\nHost: h\r\nX-Bin: \xff\r\n\r\nPUT /b HTTP/1.0\r\nContent-Length: 2\r\n\r\nhi"),
                (S, b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx"),
                (S, b"HTTP/1.1 201 Made\r\nContent-Length: 0\r\n\r\n"),
            ],
            Some(1),
            &mut buffers,
        );
        assert_eq!(
            seen,
            [
                "#0 Some(\"GET /a 1.1 [Host=h,X-Bin=\\\\xff]\") Some(\"200 OK\")",
                "#1 Some(\"PUT /b 1.0 [Content-Length=2]\") Some(\"201 Made\")",
            ]
        );
        assert_eq!(owned[0].host.as_deref(), Some("h"));
        assert_eq!(owned[0].request_headers[1].1, b"\xff");
        assert_eq!(owned[0].response_body.as_deref(), Some(b"x".as_slice()));
        assert!(!owned[0].body_truncated);
        assert_eq!(owned[1].request_body.as_deref(), Some(b"h".as_slice()));
        assert!(owned[1].body_truncated, "cut at the cap of 1 byte");
        // Three heads were held at once (two requests, then a response); all came back.
        assert_eq!(buffers.spare.len(), 3);
    }

    #[test]
    fn a_record_without_a_seen_request_or_response_has_no_heads() {
        let (seen, owned) = collect(
            &[
                (S, b"HTTP/1.1 204 No Content\r\n\r\n"),
                (C, b"GET / HTTP/1.1\r\n\r\n"),
            ],
            None,
            &mut HeadBuffers::new(),
        );
        assert_eq!(
            seen,
            [
                "#0 None Some(\"204 No Content\")",
                "#1 Some(\"GET / 1.1 []\") None"
            ]
        );
        assert_eq!(owned[0].request_body, None, "bodies only when asked for");
        assert_eq!(owned[1].status, None);
    }

    #[test]
    fn buffers_are_reused_across_sessions() {
        let mut buffers = HeadBuffers::new();
        let steps: [(Direction, &[u8]); 2] = [
            (
                C,
                b"GET /long/enough/to/matter HTTP/1.1\r\nHost: example\r\n\r\n",
            ),
            (S, b"HTTP/1.1 204 No Content\r\n\r\n"),
        ];
        collect(&steps, None, &mut buffers);
        assert_eq!(buffers.spare.len(), 2);
        // The second session takes both from the pool and gives them back: none new.
        collect(&steps, None, &mut buffers);
        assert_eq!(buffers.spare.len(), 2);
        assert!(buffers.spare.iter().all(|b| b.capacity() >= 40));
    }

    #[test]
    fn recycle_gives_back_waiting_heads() {
        let mut session = HttpSession::new(HttpConfig::default());
        let mut col = TransactionCollector::new(None);
        let mut buffers = HeadBuffers::new();
        session.data(
            C,
            1,
            b"GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n",
            &mut |ev| {
                col.push_with(&ev, &mut buffers, |_| unreachable!("no record yet"));
            },
        );
        assert!(buffers.spare.is_empty());
        col.recycle(&mut buffers);
        assert_eq!(buffers.spare.len(), 2);
    }
}
