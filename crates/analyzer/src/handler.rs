//! What a user of the [`Analyzer`](crate::Analyzer) implements: a [`Handler`] that hears
//! about packets, TCP events, IP defragmentation and protocol events, and may stop the run.

use std::net::SocketAddr;
use std::ops::ControlFlow;

use pcap_capture::Packet;
use pcap_decode::Decoded;
use pcap_decode::defrag::{DefragError, DefragEvent, FragKey};
use pcap_http_ws::HttpEvent;
use pcap_http2::H2Event;
use pcap_tcp_reassembly::Event;
use pcap_tls::TlsEvent;

/// What every [`Handler`] method returns: `Continue(())` to go on, `Break(error)` to stop
/// the run, which then returns the error as [`RunError::Handler`](crate::RunError::Handler).
pub type Flow<E> = ControlFlow<E>;

/// What a user of [`Analyzer`](crate::Analyzer) wants to hear about. Every method has a
/// default that ignores the call and goes on, so a handler implements only what it needs.
///
/// A method that returns `Break` stops the run: the events already queued for the same
/// packet are not delivered, and the run ends with the error (sessions are not flushed:
/// the handler asked to stop).
pub trait Handler {
    /// Why the handler may stop the run (`std::convert::Infallible` when it never does).
    type Error;

    /// Every packet, numbered from 1, with its decoded layers, before its TCP events.
    fn packet(
        &mut self,
        _frame: u64,
        _packet: &Packet<'_>,
        _decoded: &Decoded<'_>,
    ) -> Flow<Self::Error> {
        Flow::Continue(())
    }

    /// Every TCP session event: start, in-order data, gaps, retransmissions, end, reset.
    /// Data bytes are borrowed: copy what you keep.
    ///
    /// A session's protocol decoder hears of the session's end before the handler sees the
    /// closing event, so a handler can drop per-session state there.
    fn tcp(&mut self, _event: &Event<'_>) -> Flow<Self::Error> {
        Flow::Continue(())
    }

    /// Every HTTP and WebSocket event of a session found to speak HTTP/1.x (when HTTP
    /// decoding is on).
    fn http(&mut self, _stream: &Stream, _event: &HttpEvent<'_>) -> Flow<Self::Error> {
        Flow::Continue(())
    }

    /// Every TLS event of a session found to speak TLS (when TLS decoding is on): hellos,
    /// certificates, alerts, the session's summary once its handshake is done (or it ended
    /// first), decryption errors, and decrypted application data. The protocol inside is
    /// decoded too, and its events come with [`Stream::tls`] set.
    fn tls(&mut self, _stream: &Stream, _event: &TlsEvent<'_>) -> Flow<Self::Error> {
        Flow::Continue(())
    }

    /// What an HTTP/2 connection has besides its streams' HTTP events (which go to
    /// [`Handler::http`] with [`Stream::h2_stream`] set): gRPC messages and status,
    /// RST_STREAM, GOAWAY, SETTINGS, PING, PUSH_PROMISE, every frame header, stream ends,
    /// errors and caps. `stream.h2_stream` is the HTTP/2 stream for stream events (gRPC,
    /// RST_STREAM, PUSH_PROMISE, stream ends), `None` for connection events.
    fn http2(&mut self, _stream: &Stream, _event: &H2Event<'_>) -> Flow<Self::Error> {
        Flow::Continue(())
    }

    /// IP fragment reassembly limits and anomalies: datagrams dropped by a cap or a timeout,
    /// conflicting overlaps, fragments refused. Reassembled datagrams are not reported here;
    /// their TCP segments go through reassembly like any other.
    fn defrag(&mut self, _notice: &DefragNotice) -> Flow<Self::Error> {
        Flow::Continue(())
    }

    /// After each packet's events have all been delivered: where a handler writes out what
    /// the packet completed.
    fn packet_done(&mut self) -> Flow<Self::Error> {
        Flow::Continue(())
    }

    /// Once, at the end of a run, after every session was flushed.
    fn finished(&mut self) -> Flow<Self::Error> {
        Flow::Continue(())
    }
}

/// The TCP session a protocol event belongs to, in the protocol's roles (the client sends
/// requests), which may be the reverse of the TCP handshake's for a session picked up
/// mid-stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stream {
    /// Session number, as in [`Event::session`] (tshark's `tcp.stream`).
    pub id: u64,
    /// The protocol's client.
    pub client: SocketAddr,
    /// The protocol's server.
    pub server: SocketAddr,
    /// The protocol ran inside TLS: its bytes were decrypted (`https`, `wss`).
    pub tls: bool,
    /// The HTTP/2 stream an event belongs to; `None` for HTTP/1.x and other protocols.
    pub h2_stream: Option<u32>,
}

impl Stream {
    /// A session in cleartext, outside HTTP/2: `client` sends the requests.
    pub fn new(id: u64, client: SocketAddr, server: SocketAddr) -> Stream {
        Stream {
            id,
            client,
            server,
            tls: false,
            h2_stream: None,
        }
    }
}

/// Something the IP defragmenter did other than complete a datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DefragNotice {
    /// An incomplete datagram was dropped (timeout or cap), or a fragment overlapped earlier
    /// bytes with different content.
    Event {
        /// Packet time when it was noticed.
        ts_ns: i64,
        /// What happened.
        event: DefragEvent,
    },
    /// A fragment was refused and its datagram dropped (too large, inconsistent, over the
    /// byte cap).
    Refused {
        /// Packet time of the fragment.
        ts_ns: i64,
        /// The datagram.
        key: FragKey,
        /// Why.
        error: DefragError,
    },
}
