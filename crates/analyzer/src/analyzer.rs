//! The chain itself: decode, IP defragmentation, TCP reassembly, protocol dispatch.

use std::collections::HashMap;
use std::fmt;
use std::ops::ControlFlow;
use std::sync::Arc;

use pcap_capture::{LinkType, Packet};
use pcap_decode::defrag::{DefragConfig, DefragStats, Defragmenter, FragKey};
use pcap_decode::{
    DecodeError, Decoded, Net, Transport, decode_datagram, decode_packet_into, decode_transport,
};
use pcap_http_ws::HttpConfig;
use pcap_tcp_reassembly::{Event, EventKind, MemoryBudget, Reassembler, Segment};
use pcap_tls::{KeyLookup, TlsConfig};

use crate::handler::{DefragNotice, Handler, Stream};
use crate::http::HttpProtocol;
use crate::http2::Http2Protocol;
use crate::protocol::{Cx, Detection, Protocol, ProtocolSession, start_candidates};
use crate::source::{PacketSource, RunError};
use crate::tls::TlsProtocol;
use pcap_http2::H2Config;

/// How an [`Analyzer`] is set up. Start from `AnalyzerConfig::default()`.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct AnalyzerConfig {
    /// TCP reassembly limits.
    pub tcp: pcap_tcp_reassembly::Config,
    /// HTTP/WebSocket decoding; `None` leaves it out (packets, TCP events and registered
    /// protocols only).
    pub http: Option<HttpConfig>,
    /// IPv4/IPv6 fragment reassembly limits (TCP carried in fragments is reassembled first).
    pub defrag: DefragConfig,
    /// Memory budget, in bytes, of the protocol decoders of all sessions together, as
    /// [`ProtocolSession::memory`] counts it (for HTTP: buffers, decompressors, heads of
    /// requests waiting for a response). Each session's caps bound it, but many sessions
    /// multiply them: the session that takes the total over the budget stops being
    /// decoded, as if it had ended (for HTTP with `HttpError::MemoryBudget`).
    /// Default 128 MiB.
    pub protocol_memory: usize,
    /// Whether packets go on to IP defragmentation, TCP reassembly and protocol decoding
    /// (the default), or are only decoded and handed to [`Handler::packet`].
    pub reassemble: bool,
    /// TLS detection and decryption; `None` leaves it out. The decrypted bytes are decoded
    /// as HTTP when [`AnalyzerConfig::http`] is set.
    pub tls: Option<TlsConfig>,
    /// Where TLS sessions find their secrets (a key log); `None`: handshake details only.
    pub keys: Option<Arc<dyn KeyLookup>>,
}

impl Default for AnalyzerConfig {
    fn default() -> AnalyzerConfig {
        AnalyzerConfig {
            tcp: pcap_tcp_reassembly::Config::default(),
            http: None,
            defrag: DefragConfig::default(),
            protocol_memory: 128 << 20,
            reassemble: true,
            tls: None,
            keys: None,
        }
    }
}

impl AnalyzerConfig {
    /// Packets and TCP events only, no built-in protocol decoding.
    pub fn tcp_only() -> AnalyzerConfig {
        AnalyzerConfig::default()
    }

    /// Packets decoded one by one, with no reassembly or protocol decoding.
    pub fn packets_only() -> AnalyzerConfig {
        AnalyzerConfig {
            reassemble: false,
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

/// Drives packets through decoding, defragmentation, reassembly and the protocol decoders
/// of each session, reporting to a handler of type `H`.
///
/// The handler type owns its data (`'static`), since the decoders of several candidate
/// protocols for a session are kept together as one trait object.
pub struct Analyzer<H: Handler> {
    reassembler: Reassembler,
    defrag: Defragmenter,
    protocols: Protocols<H>,
    reassemble: bool,
    frames: u64,
    /// The frame whose segment time [`Analyzer::tick_before`] gave the reassembler.
    ticked: Option<u64>,
    /// Packets whose headers could not be decoded (malformed, or cut short by the snapshot
    /// length), as opposed to protocols not decoded at all.
    decode_errors: u64,
    /// Ethernet frames whose FCS (kept by the capture) did not match their bytes.
    fcs_errors: u64,
}

impl<H: Handler + 'static> fmt::Debug for Analyzer<H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Analyzer")
            .field("reassembler", &self.reassembler)
            .field("defrag", &self.defrag)
            .field("protocols", &self.protocols.names())
            .field("frames", &self.frames)
            .finish()
    }
}

/// The registered protocols and the decoders of the sessions that carry data.
struct Protocols<H: Handler> {
    registered: Vec<Box<dyn Protocol<H>>>,
    sessions: Sessions<H>,
    /// Holds the sum of the sessions' last [`ProtocolSession::memory`].
    budget: MemoryBudget,
    /// Sessions whose decoding stopped on the budget.
    abandoned: u64,
}

/// Decoders by session number (a lookup per data event: foldhash, not SipHash).
///
/// A session gets an entry on its first bytes, so sessions that never carry any (a SYN
/// flood, half-open scans) cost nothing here: the endpoints come with every TCP event.
type Sessions<H> = HashMap<u64, Slot<H>, foldhash::fast::RandomState>;

struct Slot<H: Handler> {
    /// `None` once no protocol wants the session (or its decoder finished): its memory is
    /// given back, and the entry stays so that no new decoder is made.
    decoder: Option<Box<dyn ProtocolSession<H>>>,
    /// The decoder's memory when last measured, counted in [`Protocols::budget`].
    charged: usize,
}

impl<H: Handler + 'static> Default for Analyzer<H> {
    /// TCP reassembly with default limits and HTTP decoding with default settings.
    fn default() -> Self {
        Analyzer::new(AnalyzerConfig::with_http(HttpConfig::default()))
    }
}

impl<H: Handler + 'static> Analyzer<H> {
    /// An analyzer set up by `config`.
    pub fn new(config: AnalyzerConfig) -> Analyzer<H> {
        let mut analyzer = Analyzer {
            reassembler: Reassembler::new(config.tcp),
            defrag: Defragmenter::new(config.defrag),
            protocols: Protocols {
                registered: Vec::new(),
                sessions: Sessions::default(),
                budget: MemoryBudget::new(config.protocol_memory),
                abandoned: 0,
            },
            reassemble: config.reassemble,
            frames: 0,
            ticked: None,
            decode_errors: 0,
            fcs_errors: 0,
        };
        if let Some(tls) = config.tls {
            let mut inner: Vec<Box<dyn Protocol<H>>> = Vec::new();
            // What HTTP is inside TLS is found by content as in clear: ALPN `h2` sessions
            // start with the client preface.
            if let Some(http) = &config.http {
                inner.push(Box::new(HttpProtocol::new(http.clone())));
                inner.push(Box::new(Http2Protocol::new(H2Config::from_http(http))));
            }
            analyzer.register(Box::new(TlsProtocol::new(tls, config.keys, inner)));
        }
        if let Some(http) = config.http {
            let h2 = H2Config::from_http(&http);
            analyzer.register(Box::new(HttpProtocol::new(http)));
            analyzer.register(Box::new(Http2Protocol::new(h2)));
        }
        analyzer
    }

    /// Adds a protocol to detect in every session that starts carrying data from now on,
    /// after those registered before it.
    pub fn register(&mut self, protocol: Box<dyn Protocol<H>>) {
        self.protocols.registered.push(protocol);
    }

    /// Reads `source` to its end, then flushes every session ([`Analyzer::finish`]) and
    /// calls [`Handler::finished`].
    ///
    /// On a read error (a damaged file), the packets before it have been handled and the
    /// sessions flushed before the error is returned. When the handler stops the run, its
    /// error is returned at once.
    pub fn run<S: PacketSource>(
        &mut self,
        source: &mut S,
        handler: &mut H,
    ) -> Result<(), RunError<S::Error, H::Error>> {
        let read = loop {
            match source.next_packet() {
                Ok(Some(packet)) => {
                    if let ControlFlow::Break(e) = self.push(&packet, handler) {
                        return Err(RunError::Handler(e));
                    }
                }
                Ok(None) => break Ok(()),
                Err(e) => break Err(RunError::Source(e)),
            }
        };
        if let ControlFlow::Break(e) = self.finish(handler) {
            return Err(RunError::Handler(e));
        }
        if let ControlFlow::Break(e) = handler.finished() {
            return Err(RunError::Handler(e));
        }
        read
    }

    /// Handles one packet, then calls [`Handler::packet_done`].
    pub fn push(&mut self, packet: &Packet<'_>, handler: &mut H) -> ControlFlow<H::Error> {
        self.push_frame(self.frames.saturating_add(1), packet, handler)
    }

    /// Handles one packet that the caller numbered `frame` (from 1, in capture order), then
    /// calls [`Handler::packet_done`]. For an analyzer that is given only some of a
    /// capture's packets: [`Handler::packet`] hears the packet's number in the capture, and
    /// [`Analyzer::tick`] stands in for the packets it is not given.
    pub fn push_frame(
        &mut self,
        frame: u64,
        packet: &Packet<'_>,
        handler: &mut H,
    ) -> ControlFlow<H::Error> {
        self.frames += 1;
        let ticked = self.ticked.take() == Some(frame);
        let data = self.without_fcs(packet);
        // Decoded where it stays: returning the ~500-byte struct would copy it per packet.
        let mut decoded = Decoded::default();
        decode_packet_into(&mut decoded, packet.link_type, data);
        if matches!(
            decoded.stop,
            Some(DecodeError::Len { .. } | DecodeError::Malformed { .. })
        ) {
            self.decode_errors += 1;
        }
        handler.packet(frame, packet, &decoded)?;
        if !self.reassemble {
            return handler.packet_done();
        }
        let Analyzer {
            reassembler,
            defrag,
            protocols,
            ..
        } = self;
        let mut stop = None;
        let mut sink = |event: Event<'_>| protocols.route(handler, &mut stop, &event);
        match decoded.fragment() {
            None => {
                if let Some(segment) = Segment::from_decoded(packet.ts_ns, &decoded) {
                    if ticked {
                        reassembler.push_ticked(&segment, &mut sink);
                    } else {
                        reassembler.push(&segment, &mut sink);
                    }
                }
            }
            Some(fragment) => {
                // TCP in IP fragments: reassemble the datagram, then decode its TCP header.
                let (Some(src), Some(dst), Some(protocol)) = (
                    decoded.src_ip(),
                    decoded.dst_ip(),
                    decoded.net.as_ref().and_then(Net::protocol),
                ) else {
                    stopped(stop)?;
                    return handler.packet_done();
                };
                let key = FragKey {
                    src,
                    dst,
                    protocol,
                    id: fragment.id,
                    // Fragments inside two different tunnels are two datagrams.
                    tunnel: decoded.tunnel_path(),
                };
                let datagram = defrag.push(
                    packet.ts_ns,
                    key,
                    fragment.offset,
                    fragment.more,
                    decoded.ip_payload(data),
                );
                match datagram {
                    Ok(Some(datagram)) => {
                        // A fragmented tunnel (GRE, IP-in-IP, VXLAN...): the inner packet.
                        let inner = decode_datagram(protocol, datagram.payload);
                        if !inner.tunnels.is_empty() {
                            if let Some(segment) = Segment::from_decoded(packet.ts_ns, &inner) {
                                reassembler.push(&segment, &mut sink);
                            }
                        } else if let Ok((Some(Transport::Tcp(tcp)), payload)) =
                            decode_transport(protocol, datagram.payload, 0)
                        {
                            let mut segment =
                                Segment::from_tcp(packet.ts_ns, src, dst, &tcp, payload);
                            // Fragments of a tunnelled packet: keep its tunnel.
                            segment.tunnel = decoded.tunnel_id();
                            reassembler.push(&segment, &mut sink);
                        }
                    }
                    Ok(None) => {}
                    Err(error) => {
                        let notice = DefragNotice::Refused {
                            ts_ns: packet.ts_ns,
                            key,
                            error,
                        };
                        stopped(stop.take())?;
                        handler.defrag(&notice)?;
                    }
                }
                stopped(stop.take())?;
                for event in defrag.take_events() {
                    handler.defrag(&DefragNotice::Event {
                        ts_ns: packet.ts_ns,
                        event,
                    })?;
                }
            }
        }
        stopped(stop)?;
        handler.packet_done()
    }

    /// The frame without the FCS the capture kept at its end ([`Packet::fcs_len`]), so that
    /// it is not read as payload; an Ethernet FCS is checked on the way. A frame cut short
    /// by the snapshot length lost its FCS with its tail, and is left as it is.
    #[inline]
    fn without_fcs<'p>(&mut self, packet: &Packet<'p>) -> &'p [u8] {
        if packet.fcs_len == 0
            || u32::try_from(packet.data.len()).is_ok_and(|n| n != packet.orig_len)
        {
            return packet.data;
        }
        let (frame, fcs) = pcap_decode::fcs::split(packet.data, usize::from(packet.fcs_len));
        if packet.link_type == LinkType::ETHERNET
            && pcap_decode::fcs::ethernet_ok(frame, fcs) == Some(false)
        {
            self.fcs_errors += 1;
        }
        frame
    }

    /// Ends every open session (flushing buffered data and gaps) at the end of the input.
    pub fn finish(&mut self, handler: &mut H) -> ControlFlow<H::Error> {
        let Analyzer {
            reassembler,
            protocols,
            ..
        } = self;
        let mut stop = None;
        reassembler.finish(&mut |event| protocols.route(handler, &mut stop, &event));
        stopped(stop)
    }

    /// Advances the packet clock by a TCP segment at `ts_ns` that this analyzer is not
    /// given (another one handles its session), ending sessions it makes idle as that
    /// segment would have ([`Reassembler::tick`]).
    pub fn tick(&mut self, ts_ns: i64, handler: &mut H) -> ControlFlow<H::Error> {
        if !self.reassemble {
            return ControlFlow::Continue(());
        }
        let Analyzer {
            reassembler,
            protocols,
            ..
        } = self;
        let mut stop = None;
        reassembler.tick(ts_ns, &mut |event| {
            protocols.route(handler, &mut stop, &event)
        });
        stopped(stop)
    }

    /// [`Analyzer::tick`] with the time of the TCP segment of `frame`, which
    /// [`Analyzer::push_frame`] is given next: the sessions its time ends are reported
    /// before the packet (and its segment does not move the clock a second time).
    pub fn tick_before(
        &mut self,
        frame: u64,
        ts_ns: i64,
        handler: &mut H,
    ) -> ControlFlow<H::Error> {
        self.ticked = Some(frame);
        self.tick(ts_ns, handler)
    }

    /// Ends sessions idle since before `ts_ns` (packet time); for long live captures.
    pub fn flush_older_than(&mut self, ts_ns: i64, handler: &mut H) -> ControlFlow<H::Error> {
        let Analyzer {
            reassembler,
            protocols,
            ..
        } = self;
        let mut stop = None;
        reassembler.flush_older_than(ts_ns, &mut |event| {
            protocols.route(handler, &mut stop, &event)
        });
        stopped(stop)
    }

    /// The reassembler, for its statistics and session table.
    pub fn reassembler(&self) -> &Reassembler {
        &self.reassembler
    }

    /// The IP defragmenter's counters (fragments, datagrams reassembled, expired, evicted,
    /// refused, overlaps).
    pub fn defrag_stats(&self) -> DefragStats {
        self.defrag.stats()
    }

    /// Bytes the protocol decoders hold together, as counted for
    /// [`AnalyzerConfig::protocol_memory`].
    pub fn protocol_memory(&self) -> usize {
        self.protocols.budget.held()
    }

    /// Sessions whose protocol decoding stopped because the decoders together went over
    /// [`AnalyzerConfig::protocol_memory`].
    pub fn protocol_abandoned(&self) -> u64 {
        self.protocols.abandoned
    }

    /// Packets handled so far.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// Packets whose headers could not be decoded: a length or field that makes a header
    /// impossible, or a header cut short. Link types and protocols that are not decoded at
    /// all are not counted.
    pub fn decode_errors(&self) -> u64 {
        self.decode_errors
    }

    /// Ethernet frames captured with their FCS ([`Packet::fcs_len`] 4) whose FCS does not
    /// match their bytes: damaged on the wire, or by the capture. They are decoded all the
    /// same (without the FCS), as tshark does.
    pub fn fcs_errors(&self) -> u64 {
        self.fcs_errors
    }
}

/// `Break` with the error a handler method stopped on, if one did.
fn stopped<E>(stop: Option<E>) -> ControlFlow<E> {
    match stop {
        Some(e) => ControlFlow::Break(e),
        None => ControlFlow::Continue(()),
    }
}

impl<H: Handler + 'static> Protocols<H> {
    fn names(&self) -> Vec<&'static str> {
        self.registered.iter().map(|p| p.name()).collect()
    }

    /// Passes a TCP event to the session's protocol decoder, then to the handler. Once
    /// a handler method asked to stop, nothing more is delivered.
    ///
    /// The decoder hears of a session's end before the handler sees the closing TCP event,
    /// so a handler can drop per-session state when it sees the session end.
    fn route(&mut self, handler: &mut H, stop: &mut Option<H::Error>, event: &Event<'_>) {
        if stop.is_some() {
            return;
        }
        if !self.registered.is_empty() {
            self.feed(handler, stop, event);
            if stop.is_some() {
                return;
            }
        }
        if let ControlFlow::Break(e) = handler.tcp(event) {
            *stop = Some(e);
        }
    }

    /// Passes one TCP event to its session's decoder, making the decoder on the session's
    /// first bytes and keeping the memory budget.
    fn feed(&mut self, handler: &mut H, stop: &mut Option<H::Error>, event: &Event<'_>) {
        let id = event.session;
        let ts = event.ts_ns;
        let closing = event.kind.ended().is_some();
        let slot = match event.kind {
            EventKind::Data { .. } | EventKind::Gap { .. } => {
                let registered = &self.registered;
                self.sessions.entry(id).or_insert_with(|| Slot {
                    decoder: match event.kind {
                        EventKind::Data { dir, bytes, .. } => {
                            start_candidates(registered, dir, bytes)
                        }
                        EventKind::Gap { dir, .. } => start_candidates(registered, dir, &[]),
                        _ => None,
                    },
                    charged: 0,
                })
            }
            _ => match self.sessions.get_mut(&id) {
                Some(s) => s,
                None => return,
            },
        };
        let Some(decoder) = slot.decoder.as_mut() else {
            if closing {
                self.sessions.remove(&id);
            }
            return;
        };
        let stream = Stream::new(id, event.client, event.server);
        let mut cx = Cx::new(handler, stop, stream);
        match event.kind {
            EventKind::Data { dir, bytes, .. } => decoder.data(&mut cx, dir, ts, bytes),
            EventKind::Gap { dir, len, .. } => decoder.gap(&mut cx, dir, ts, len),
            EventKind::Fin { dir, .. } => decoder.end(&mut cx, Some(dir), ts),
            _ if closing => {
                decoder.end(&mut cx, None, ts);
                self.budget.release(slot.charged);
                self.sessions.remove(&id);
                return;
            }
            _ => return,
        }
        let rejected = decoder.detection() == Detection::Rejected;
        let now = if rejected { 0 } else { decoder.memory() };
        slot.charged = self.budget.recharge(slot.charged, now);
        if self.budget.is_over() {
            decoder.abandon(&mut cx, self.budget.limit(), ts);
            self.budget.release(now);
            slot.charged = 0;
            self.abandoned = self.abandoned.saturating_add(1);
            slot.decoder = None;
        } else if rejected {
            slot.decoder = None;
        }
    }
}
