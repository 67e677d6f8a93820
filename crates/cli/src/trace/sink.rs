//! Where a trace goes: standard output, or the `serve` web view's feed.

use std::sync::mpsc::SyncSender;

use crate::error::CliError;
use crate::output::Output;
use crate::serve::FeedItem;

/// Where the trace goes: standard output, or the `serve` web view's feed (one item per
/// JSON object).
pub(crate) enum TraceOut {
    /// Lines (human or JSON) to standard output.
    Stdout(Output),
    /// JSON objects to the web view.
    Feed {
        /// The object being written.
        buf: Vec<u8>,
        /// The web view's feed.
        tx: SyncSender<FeedItem>,
    },
}

/// The kind of object just written, for the web view.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Kind {
    Packet,
    Http,
    WebSocket,
    Tcp,
    Tls,
    /// A gRPC message or status.
    Grpc,
    /// An HTTP/2 RST_STREAM or GOAWAY.
    Http2,
}

impl TraceOut {
    pub(super) fn buffer(&mut self) -> &mut Vec<u8> {
        match self {
            TraceOut::Stdout(out) => out.buffer(),
            TraceOut::Feed { buf, .. } => buf,
        }
    }

    /// Call after each object or line written to the buffer.
    pub(super) fn done(&mut self, kind: Kind) {
        let TraceOut::Feed { buf, tx } = self else {
            return;
        };
        let text = String::from_utf8_lossy(buf.trim_ascii_end()).into_owned();
        buf.clear();
        let item = match kind {
            Kind::Packet => FeedItem::Packet(text),
            Kind::Http => FeedItem::Http(text),
            Kind::WebSocket => FeedItem::WebSocket(text),
            Kind::Tcp => FeedItem::Tcp(text),
            Kind::Tls => FeedItem::Tls(text),
            Kind::Grpc => FeedItem::Grpc(text),
            Kind::Http2 => FeedItem::Http2(text),
        };
        // The web view has gone (Ctrl-C): the process is ending.
        let _ = tx.send(item);
    }

    /// Call after each packet: writes standard output out when due.
    pub(crate) fn packet_done(&mut self) -> Result<(), CliError> {
        match self {
            TraceOut::Stdout(out) => out.packet_done(),
            TraceOut::Feed { .. } => Ok(()),
        }
    }

    /// Writes what standard output still holds.
    pub(crate) fn flush(&mut self) -> Result<(), CliError> {
        match self {
            TraceOut::Stdout(out) => out.flush(),
            TraceOut::Feed { .. } => Ok(()),
        }
    }
}
