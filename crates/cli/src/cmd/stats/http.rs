//! HTTP counts, as `tshark -z http,tree` plus per-host figures: requests by method,
//! responses by status code, and per Host (HTTP/2: `:authority`) requests, bytes and
//! latency.
//!
//! Methods and hosts come off the wire, so each table has a cap: past it, new names count
//! under an overflow entry and a warning says so. A request's host is remembered from its
//! head until its transaction ends, keyed by session, HTTP/2 stream and transaction index;
//! at most [`MAX_PENDING`] are waiting at once.

use std::collections::{BTreeMap, HashMap};

use pcap_analyzer::Stream;
use pcap_http_ws::{HttpEvent, TransactionRecord};

use super::latency::Latencies;

/// Most distinct methods counted.
pub const MAX_METHODS: usize = 256;

/// Most distinct hosts counted, each with up to 16 KiB of latencies.
pub const MAX_HOSTS: usize = 4096;

/// Most requests waiting for their transaction's end.
pub const MAX_PENDING: usize = 65_536;

/// What one host got.
#[derive(Debug, Clone, Default)]
pub struct HostStats {
    /// Requests.
    pub requests: u64,
    /// Request bytes: heads and bodies as sent (chunk framing included).
    pub request_bytes: u64,
    /// Response bytes: heads and bodies as sent.
    pub response_bytes: u64,
    /// Request first byte to response last byte, for transactions with both.
    pub latency: Latencies,
    /// The frame that first counted under this host: which hosts came first, when the
    /// parts of `--threads` are merged.
    pub first_frame: u64,
}

impl HostStats {
    /// A host first counted at `frame`.
    fn first_at(frame: u64) -> HostStats {
        HostStats {
            first_frame: frame,
            ..HostStats::default()
        }
    }

    /// Adds what `other` counted for the same host.
    fn add(&mut self, other: &HostStats) {
        self.requests += other.requests;
        self.request_bytes = self.request_bytes.saturating_add(other.request_bytes);
        self.response_bytes = self.response_bytes.saturating_add(other.response_bytes);
        self.latency.merge(&other.latency);
        self.first_frame = self.first_frame.min(other.first_frame);
    }
}

/// Which host an entry counts under.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum HostKey {
    /// The Host header's bytes as sent.
    Host(Vec<u8>),
    /// A request without a Host header (or whose transaction came without its request).
    None,
    /// Hosts past [`MAX_HOSTS`].
    Overflow,
}

/// Where a transaction is, until it ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Pending {
    session: u64,
    tls: bool,
    h2_stream: Option<u32>,
    index: u64,
}

/// The HTTP section being filled.
#[derive(Debug, Default)]
pub struct HttpStats {
    /// Requests by method as sent.
    pub methods: BTreeMap<String, u64>,
    /// Requests whose method came after [`MAX_METHODS`] others.
    pub methods_overflow: u64,
    /// Responses by status code, as tshark counts them: interim (1xx) ones included, and
    /// final ones once complete.
    pub statuses: BTreeMap<u16, u64>,
    /// Final responses cut short (the session ended or lost bytes inside them), which
    /// tshark does not count.
    pub responses_cut: u64,
    /// Per host.
    pub hosts: HashMap<HostKey, HostStats>,
    pending: HashMap<Pending, HostKey>,
    /// Requests whose host was not remembered because [`MAX_PENDING`] were waiting.
    pub pending_overflow: u64,
}

impl HttpStats {
    /// Counts one HTTP event, caused by frame `frame`.
    pub fn event(&mut self, frame: u64, stream: &Stream, event: &HttpEvent<'_>) {
        match event {
            HttpEvent::Request(head) => {
                if let Some(n) = self.methods.get_mut(head.method) {
                    *n += 1;
                } else if self.methods.len() < MAX_METHODS {
                    self.methods.insert(head.method.to_owned(), 1);
                } else {
                    self.methods_overflow += 1;
                }
                let host = self.host_key(head.host());
                self.hosts
                    .entry(host.clone())
                    .or_insert_with(|| HostStats::first_at(frame))
                    .requests += 1;
                if self.pending.len() < MAX_PENDING {
                    self.pending.insert(pending(stream, head.index), host);
                } else {
                    self.pending_overflow += 1;
                }
            }
            HttpEvent::Response(head) if head.interim => {
                *self.statuses.entry(head.status).or_default() += 1;
            }
            HttpEvent::Transaction(t) => self.transaction(frame, stream, t),
            _ => {}
        }
    }

    /// The key `host` counts under: itself while there is room.
    fn host_key(&self, host: Option<&[u8]>) -> HostKey {
        let Some(host) = host else {
            return HostKey::None;
        };
        let key = HostKey::Host(host.to_vec());
        if self.hosts.len() < MAX_HOSTS || self.hosts.contains_key(&key) {
            key
        } else {
            HostKey::Overflow
        }
    }

    /// Adds a finished transaction's bytes and latency to its request's host.
    fn transaction(&mut self, frame: u64, stream: &Stream, t: &TransactionRecord) {
        match t.status {
            Some(status) if t.response_complete => {
                *self.statuses.entry(status).or_default() += 1;
            }
            Some(_) => self.responses_cut += 1,
            None => {}
        }
        let host = self
            .pending
            .remove(&pending(stream, t.index))
            .unwrap_or(HostKey::None);
        let h = self
            .hosts
            .entry(host)
            .or_insert_with(|| HostStats::first_at(frame));
        h.request_bytes = h
            .request_bytes
            .saturating_add(t.request_head_len)
            .saturating_add(t.request_wire_len);
        h.response_bytes = h
            .response_bytes
            .saturating_add(t.response_head_len)
            .saturating_add(t.response_wire_len);
        if let Some((start, end)) = t.request_start_ns.zip(t.response_end_ns) {
            if let Ok(ns) = u64::try_from(i128::from(end) - i128::from(start)) {
                // The transaction's times name it for the sample, whichever worker has it.
                h.latency.add(start.rotate_left(32) as u64 ^ end as u64, ns);
            }
        }
    }

    /// Forgets the requests of a session that ended: its decoder has reported every
    /// transaction it could by then, so those left never get one (a session whose decoding
    /// was abandoned), and must not hold a place under [`MAX_PENDING`].
    pub fn session_ended(&mut self, session: u64) {
        if !self.pending.is_empty() {
            self.pending.retain(|k, _| k.session != session);
        }
    }

    /// Adds what `other`, another worker (`--threads`), counted. A session is one worker's,
    /// so its requests waiting for their transactions are too, and are not merged; the cap
    /// on them ([`MAX_PENDING`]) is each worker's. Past [`MAX_METHODS`], methods are
    /// taken in worker order, so which ones are named can differ from one thread (the
    /// count does not).
    pub fn merge(&mut self, other: HttpStats) {
        for (method, n) in other.methods {
            if let Some(mine) = self.methods.get_mut(&method) {
                *mine += n;
            } else if self.methods.len() < MAX_METHODS {
                self.methods.insert(method, n);
            } else {
                self.methods_overflow += n;
            }
        }
        self.methods_overflow += other.methods_overflow;
        for (status, n) in other.statuses {
            *self.statuses.entry(status).or_default() += n;
        }
        self.responses_cut += other.responses_cut;
        self.pending_overflow += other.pending_overflow;
        for (key, theirs) in other.hosts {
            self.hosts
                .entry(key)
                .or_insert_with(|| HostStats::first_at(theirs.first_frame))
                .add(&theirs);
        }
    }

    /// After [`HttpStats::merge`]: keeps the [`MAX_HOSTS`] hosts (a host-less entry
    /// included) that came first and counts the others as `(other hosts)`. Each worker
    /// kept its first ones; a host seen by several workers may have come to one that was
    /// full, so past the cap the hosts named can differ from one thread.
    pub fn cap(&mut self) {
        let room = MAX_HOSTS - usize::from(self.hosts.contains_key(&HostKey::None));
        let mut named: Vec<(u64, HostKey)> = self
            .hosts
            .iter()
            .filter(|(k, _)| matches!(k, HostKey::Host(_)))
            .map(|(k, s)| (s.first_frame, k.clone()))
            .collect();
        if named.len() <= room {
            return;
        }
        named.sort_unstable();
        for (_, key) in named.get(room..).unwrap_or_default() {
            if let Some(s) = self.hosts.remove(key) {
                let frame = s.first_frame;
                self.hosts
                    .entry(HostKey::Overflow)
                    .or_insert_with(|| HostStats::first_at(frame))
                    .add(&s);
            }
        }
    }

    /// Requests counted.
    pub fn requests(&self) -> u64 {
        self.methods.values().sum::<u64>() + self.methods_overflow
    }

    /// Responses counted.
    pub fn responses(&self) -> u64 {
        self.statuses.values().sum()
    }

    /// The hosts, most requests first (then by name).
    pub fn sorted_hosts(&self) -> Vec<(&HostKey, &HostStats)> {
        let mut v: Vec<_> = self.hosts.iter().collect();
        v.sort_by(|a, b| b.1.requests.cmp(&a.1.requests).then_with(|| a.0.cmp(b.0)));
        v
    }
}

fn pending(stream: &Stream, index: u64) -> Pending {
    Pending {
        session: stream.id,
        tls: stream.tls,
        h2_stream: stream.h2_stream,
        index,
    }
}

/// The class of a status code, as tshark's http tree names it.
pub fn status_class(status: u16) -> &'static str {
    match status {
        100..=199 => "1xx: Informational",
        200..=299 => "2xx: Success",
        300..=399 => "3xx: Redirection",
        400..=499 => "4xx: Client Error",
        500..=599 => "5xx: Server Error",
        _ => "???: broken",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pcap_http_ws::{Headers, RequestHead, ResponseHead};

    const STREAM: Stream = Stream {
        id: 7,
        client: std::net::SocketAddr::V4(std::net::SocketAddrV4::new(
            std::net::Ipv4Addr::new(10, 0, 0, 1),
            40000,
        )),
        server: std::net::SocketAddr::V4(std::net::SocketAddrV4::new(
            std::net::Ipv4Addr::new(10, 0, 0, 2),
            80,
        )),
        tls: false,
        h2_stream: None,
    };

    fn request(h: &mut HttpStats, index: u64, method: &str, host: Option<&str>) {
        let headers: Vec<httparse::Header<'_>> = host
            .iter()
            .map(|v| httparse::Header {
                name: "Host",
                value: v.as_bytes(),
            })
            .collect();
        let head = RequestHead::new(index, 0, 0, method, "/", 1, Headers::new(&headers), 40);
        h.event(index + 1, &STREAM, &HttpEvent::Request(head));
    }

    fn transaction(h: &mut HttpStats, index: u64, status: u16, start: i64, end: i64) {
        let mut t = TransactionRecord::default();
        t.index = index;
        t.status = Some(status);
        t.request_start_ns = Some(start);
        t.response_end_ns = Some(end);
        t.response_complete = true;
        t.request_head_len = 40;
        t.response_head_len = 100;
        t.response_wire_len = 5;
        h.event(index + 100, &STREAM, &HttpEvent::Transaction(t));
    }

    #[test]
    fn pipelined_transactions_count_under_their_requests_hosts() {
        let mut h = HttpStats::default();
        request(&mut h, 0, "GET", Some("a.example"));
        request(&mut h, 1, "POST", Some("b.example"));
        request(&mut h, 2, "GET", None);
        // Answered in order, the second one slowest.
        transaction(&mut h, 0, 200, 0, 1_000);
        transaction(&mut h, 1, 503, 10, 9_010);
        transaction(&mut h, 2, 404, 20, 520);
        let interim = ResponseHead::new(0, 0, 1, 100, "Continue", Headers::new(&[]), 25, true);
        h.event(200, &STREAM, &HttpEvent::Response(interim));
        assert_eq!(h.requests(), 3);
        assert_eq!(h.methods.get("GET"), Some(&2));
        let statuses: Vec<(u16, u64)> = h.statuses.iter().map(|(s, n)| (*s, *n)).collect();
        assert_eq!(statuses, [(100, 1), (200, 1), (404, 1), (503, 1)]);
        let b = &h.hosts[&HostKey::Host(b"b.example".to_vec())];
        assert_eq!(
            (b.requests, b.request_bytes, b.response_bytes),
            (1, 40, 105)
        );
        assert_eq!(b.latency.percentiles().map(|p| p.max), Some(9_000));
        let none = &h.hosts[&HostKey::None];
        assert_eq!(none.latency.percentiles().map(|p| p.p50), Some(500));
        assert!(h.pending.is_empty());
    }

    #[test]
    fn a_cut_response_is_counted_apart_and_an_ended_session_forgets_its_requests() {
        let mut h = HttpStats::default();
        request(&mut h, 0, "GET", Some("a.example"));
        request(&mut h, 1, "GET", Some("a.example"));
        let mut t = TransactionRecord::default();
        t.status = Some(200);
        h.event(300, &STREAM, &HttpEvent::Transaction(t));
        assert_eq!((h.responses(), h.responses_cut), (0, 1));
        assert_eq!(h.pending.len(), 1);
        h.session_ended(STREAM.id + 1);
        assert_eq!(h.pending.len(), 1);
        h.session_ended(STREAM.id);
        assert!(h.pending.is_empty());
    }

    #[test]
    fn hosts_past_the_cap_count_as_other_hosts() {
        let mut h = HttpStats::default();
        for i in 0..MAX_HOSTS + 3 {
            request(&mut h, i as u64, "GET", Some(&format!("h{i}.example")));
        }
        request(&mut h, 0, "GET", Some("h0.example"));
        assert_eq!(h.hosts.len(), MAX_HOSTS + 1);
        assert_eq!(h.hosts[&HostKey::Overflow].requests, 3);
        assert_eq!(h.hosts[&HostKey::Host(b"h0.example".to_vec())].requests, 2);
    }

    /// Transactions dealt to two parts and merged: the counts and percentiles of one pass.
    #[test]
    fn merged_parts_count_what_one_pass_counts() {
        let (mut whole, mut parts) = (
            HttpStats::default(),
            [HttpStats::default(), HttpStats::default()],
        );
        for i in 0..60u64 {
            let host = format!("h{}.example", i % 4);
            let (method, status) = if i % 5 == 0 {
                ("POST", 201)
            } else {
                ("GET", 200)
            };
            let (start, end) = (
                i64::try_from(i).unwrap(),
                i64::try_from(i * i * 1_000).unwrap(),
            );
            for h in [&mut whole, &mut parts[usize::from(i % 3 == 0)]] {
                request(h, i, method, Some(&host));
                transaction(h, i, status, start, end);
            }
        }
        let [mut merged, other] = parts;
        merged.merge(other);
        merged.cap();
        assert_eq!(merged.methods, whole.methods);
        assert_eq!(merged.statuses, whole.statuses);
        let figures = |h: &HttpStats| -> Vec<_> {
            h.sorted_hosts()
                .into_iter()
                .map(|(k, s)| {
                    let l = &s.latency;
                    (
                        k.clone(),
                        s.requests,
                        s.request_bytes,
                        s.response_bytes,
                        l.count(),
                        l.percentiles(),
                    )
                })
                .collect()
        };
        assert_eq!(figures(&merged), figures(&whole));
        assert_eq!(figures(&whole).len(), 4);
    }
}
