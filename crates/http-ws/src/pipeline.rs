//! The whole chain in a few lines: a packet source, decoding, TCP reassembly and
//! HTTP/WebSocket decoding, reporting to a [`Handler`] that implements only what it needs.
//!
//! ```no_run
//! use pcap_capture::Source;
//! use pcap_http_ws::pipeline::{Analyzer, Handler, Stream};
//! use pcap_http_ws::HttpEvent;
//!
//! struct Requests;
//! impl Handler for Requests {
//!     fn http(&mut self, stream: &Stream, event: &HttpEvent<'_>) {
//!         if let HttpEvent::Request(r) = event {
//!             println!("{} {} {}", stream.client, r.method, r.uri);
//!         }
//!     }
//! }
//!
//! let mut source = Source::open_file("capture.pcap")?;
//! Analyzer::default().run(&mut source, &mut Requests)?;
//! # Ok::<(), pcap_capture::CaptureError>(())
//! ```

use std::collections::HashMap;
use std::net::SocketAddr;

use pcap_capture::{CaptureError, Packet, Source};
use pcap_decode::defrag::{DefragConfig, Defragmenter, FragKey};
use pcap_decode::{Decoded, Net, Transport, decode_packet, decode_transport};
use pcap_tcp_reassembly::{Event, EventKind, Reassembler, Segment};

use crate::{HttpConfig, HttpEvent, HttpSession};

/// What a user of [`Analyzer`] wants to hear about. Every method has an empty default.
pub trait Handler {
    /// Every packet, numbered from 1, with its decoded layers.
    fn packet(&mut self, _frame: u64, _packet: &Packet<'_>, _decoded: &Decoded<'_>) {}

    /// Every TCP session event: start, in-order data, gaps, retransmissions, end, reset.
    /// Data bytes are borrowed: copy what you keep.
    fn tcp(&mut self, _event: &Event<'_>) {}

    /// Every HTTP and WebSocket event of a TCP session (when HTTP decoding is on).
    fn http(&mut self, _stream: &Stream, _event: &HttpEvent<'_>) {}
}

/// The TCP session an HTTP event belongs to, in HTTP roles (the client sends requests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stream {
    /// Session number, as in [`Event::session`] (tshark's `tcp.stream`).
    pub id: u64,
    /// The HTTP client.
    pub client: SocketAddr,
    /// The HTTP server.
    pub server: SocketAddr,
}

/// How an [`Analyzer`] is set up. Start from `AnalyzerConfig::default()`.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct AnalyzerConfig {
    /// TCP reassembly limits.
    pub tcp: pcap_tcp_reassembly::Config,
    /// HTTP/WebSocket decoding; `None` turns it off (only packets and TCP events).
    pub http: Option<HttpConfig>,
    /// IPv4/IPv6 fragment reassembly limits (TCP carried in fragments is reassembled first).
    pub defrag: DefragConfig,
    /// Memory budget, in bytes, of the HTTP decoders of all sessions together, as
    /// [`HttpSession::memory`] counts it (buffers, decompressors, heads of requests waiting
    /// for a response). Each session's caps bound it, but many sessions multiply them: a
    /// session that takes the total over the budget stops being decoded, as if it had
    /// ended, with [`crate::HttpError::MemoryBudget`]. Default 128 MiB.
    pub http_memory: usize,
}

impl Default for AnalyzerConfig {
    fn default() -> AnalyzerConfig {
        AnalyzerConfig {
            tcp: pcap_tcp_reassembly::Config::default(),
            http: None,
            defrag: DefragConfig::default(),
            http_memory: 128 << 20,
        }
    }
}

impl AnalyzerConfig {
    /// Packets and TCP events only, no HTTP decoding.
    pub fn tcp_only() -> AnalyzerConfig {
        AnalyzerConfig {
            http: None,
            ..AnalyzerConfig::default()
        }
    }

    /// With HTTP decoding as configured by `http`.
    pub fn with_http(http: HttpConfig) -> AnalyzerConfig {
        AnalyzerConfig {
            http: Some(http),
            ..AnalyzerConfig::default()
        }
    }
}

/// Drives packets through decoding, reassembly and HTTP decoding.
#[derive(Debug)]
pub struct Analyzer {
    reassembler: Reassembler,
    defrag: Defragmenter,
    http: Option<Http>,
    frames: u64,
}

/// HTTP decoding state: the settings, the decoders and what they hold together.
#[derive(Debug)]
struct Http {
    config: HttpConfig,
    sessions: Sessions,
    /// Sum of the sessions' last [`HttpSession::memory`].
    held: usize,
    budget: usize,
    /// Sessions whose decoding stopped on the budget.
    abandoned: u64,
}

/// HTTP decoders by session number (a lookup per data event: foldhash, not SipHash).
///
/// A session gets an entry on its first bytes, so sessions that never carry any (a SYN
/// flood, half-open scans) cost nothing here: the endpoints come with every TCP event.
type Sessions = HashMap<u64, HttpStream, foldhash::fast::RandomState>;

#[derive(Debug)]
struct HttpStream {
    /// `None` once the decoder has given up on the session (not HTTP in either direction):
    /// its memory is given back, and the entry stays so that no new decoder is made.
    decoder: Option<Box<HttpSession>>,
    /// The decoder's memory when last measured, counted in [`Http::held`].
    charged: usize,
    /// The decoder found that the TCP client is the HTTP server (a session picked up
    /// mid-stream): events name the endpoints in HTTP roles.
    swapped: bool,
}

impl Default for Analyzer {
    /// TCP reassembly with default limits and HTTP decoding with default settings.
    fn default() -> Self {
        Analyzer::new(AnalyzerConfig::with_http(HttpConfig::default()))
    }
}

impl Analyzer {
    /// An analyzer set up by `config`.
    pub fn new(config: AnalyzerConfig) -> Analyzer {
        Analyzer {
            reassembler: Reassembler::new(config.tcp),
            defrag: Defragmenter::new(config.defrag),
            http: config.http.map(|http| Http {
                config: http,
                sessions: Sessions::default(),
                held: 0,
                budget: config.http_memory,
                abandoned: 0,
            }),
            frames: 0,
        }
    }

    /// Reads `source` to its end, then flushes every session ([`Analyzer::finish`]).
    ///
    /// On a read error (a damaged file), the packets before it have been handled and the
    /// sessions flushed before the error is returned.
    pub fn run(
        &mut self,
        source: &mut Source,
        handler: &mut impl Handler,
    ) -> Result<(), CaptureError> {
        let result = loop {
            match source.next_packet() {
                Ok(Some(packet)) => self.push(&packet, handler),
                Ok(None) => break Ok(()),
                Err(e) => break Err(e),
            }
        };
        self.finish(handler);
        result
    }

    /// Handles one packet.
    pub fn push(&mut self, packet: &Packet<'_>, handler: &mut impl Handler) {
        self.frames += 1;
        let decoded = decode_packet(packet.link_type, packet.data);
        handler.packet(self.frames, packet, &decoded);
        let Analyzer {
            reassembler,
            defrag,
            http,
            ..
        } = self;
        let mut sink = |event: Event<'_>| route(http.as_mut(), handler, &event);
        match decoded.fragment() {
            None => {
                if let Some(segment) = Segment::from_decoded(packet.ts_ns, &decoded) {
                    reassembler.push(&segment, &mut sink);
                }
            }
            Some(fragment) => {
                // TCP in IP fragments: reassemble the datagram, then decode its TCP header.
                let (Some(src), Some(dst), Some(protocol)) = (
                    decoded.src_ip(),
                    decoded.dst_ip(),
                    decoded.net.as_ref().and_then(Net::protocol),
                ) else {
                    return;
                };
                let key = FragKey {
                    src,
                    dst,
                    protocol,
                    id: fragment.id,
                };
                let datagram = defrag.push(
                    packet.ts_ns,
                    key,
                    fragment.offset,
                    fragment.more,
                    decoded.ip_payload(packet.data),
                );
                if let Ok(Some(datagram)) = datagram {
                    if let Ok((Some(Transport::Tcp(tcp)), payload)) =
                        decode_transport(protocol, datagram.payload, 0)
                    {
                        let segment = Segment::from_tcp(packet.ts_ns, src, dst, &tcp, payload);
                        reassembler.push(&segment, &mut sink);
                    }
                }
            }
        }
    }

    /// Ends every open session (flushing buffered data and gaps) at the end of the input.
    pub fn finish(&mut self, handler: &mut impl Handler) {
        let Analyzer {
            reassembler, http, ..
        } = self;
        reassembler.finish(&mut |event| route(http.as_mut(), handler, &event));
    }

    /// Ends sessions idle since before `ts_ns` (packet time); for long live captures.
    pub fn flush_older_than(&mut self, ts_ns: i64, handler: &mut impl Handler) {
        let Analyzer {
            reassembler, http, ..
        } = self;
        reassembler.flush_older_than(ts_ns, &mut |event| route(http.as_mut(), handler, &event));
    }

    /// The reassembler, for its statistics and session table.
    pub fn reassembler(&self) -> &Reassembler {
        &self.reassembler
    }

    /// Bytes the HTTP decoders hold together, as counted for [`AnalyzerConfig::http_memory`].
    pub fn http_memory(&self) -> usize {
        self.http.as_ref().map_or(0, |h| h.held)
    }

    /// Sessions whose HTTP decoding stopped because the decoders together went over
    /// [`AnalyzerConfig::http_memory`].
    pub fn http_abandoned(&self) -> u64 {
        self.http.as_ref().map_or(0, |h| h.abandoned)
    }

    /// Packets handled so far.
    pub fn frames(&self) -> u64 {
        self.frames
    }
}

/// Passes a TCP event to the handler and to the session's HTTP decoder.
///
/// The HTTP decoder hears of a session's end before the handler sees the closing TCP event,
/// so a handler can drop per-session state when it sees `End`, `Reset` or `Closed`.
fn route(http: Option<&mut Http>, handler: &mut impl Handler, event: &Event<'_>) {
    if let Some(http) = http {
        http.feed(handler, event);
    }
    handler.tcp(event);
}

impl Http {
    /// Passes one TCP event to its session's decoder, making the decoder on the session's
    /// first bytes and keeping the memory budget.
    fn feed(&mut self, handler: &mut impl Handler, event: &Event<'_>) {
        let id = event.session;
        let ts = event.ts_ns;
        let closing = event.kind.ended().is_some();
        let config = &self.config;
        let s = match event.kind {
            EventKind::Data { .. } | EventKind::Gap { .. } => {
                self.sessions.entry(id).or_insert_with(|| HttpStream {
                    decoder: Some(Box::new(HttpSession::new(config.clone()))),
                    charged: 0,
                    swapped: false,
                })
            }
            _ => match self.sessions.get_mut(&id) {
                Some(s) => s,
                None => return,
            },
        };
        let Some(decoder) = s.decoder.as_mut() else {
            if closing {
                self.sessions.remove(&id);
            }
            return;
        };
        let mut shown = Stream {
            id,
            client: event.client,
            server: event.server,
        };
        if s.swapped {
            std::mem::swap(&mut shown.client, &mut shown.server);
        }
        let swapped = &mut s.swapped;
        let mut emit = |e: HttpEvent<'_>| {
            if let HttpEvent::RolesSwapped { .. } = e {
                std::mem::swap(&mut shown.client, &mut shown.server);
                *swapped = !*swapped;
            }
            handler.http(&shown, &e);
        };
        match event.kind {
            EventKind::Data { dir, bytes, .. } => decoder.data(dir, ts, bytes, &mut emit),
            EventKind::Gap { dir, len, .. } => decoder.gap(dir, ts, len, &mut emit),
            EventKind::Fin { dir, .. } => decoder.end(Some(dir), ts, &mut emit),
            _ if closing => {
                decoder.end(None, ts, &mut emit);
                self.held = self.held.saturating_sub(s.charged);
                self.sessions.remove(&id);
                return;
            }
            _ => return,
        }
        let now = if decoder.is_active() {
            decoder.memory()
        } else {
            0
        };
        self.held = self.held.saturating_sub(s.charged).saturating_add(now);
        s.charged = now;
        if self.held > self.budget {
            decoder.abandon(self.budget, ts, &mut emit);
            self.held = self.held.saturating_sub(now);
            s.charged = 0;
            self.abandoned = self.abandoned.saturating_add(1);
        }
        if !decoder.is_active() {
            s.decoder = None;
        }
    }
}
