//! One HTTP/2 stream: its two messages (heads, bodies, content decoding), its gRPC call and
//! the record of its exchange.

use pcap_http_ws::{ContentDecoder, TransactionRecord};

use crate::grpc;

/// One direction of a stream: a request or a response.
#[derive(Debug, Default)]
pub(crate) struct Half {
    /// A (final) head was seen.
    pub(crate) head: bool,
    /// END_STREAM was seen (or the stream ended).
    pub(crate) done: bool,
    /// Bytes were lost inside it.
    pub(crate) lost: bool,
    /// DATA bytes, padding excluded.
    pub(crate) body_len: u64,
    /// DATA payload bytes, padding included.
    pub(crate) wire_len: u64,
    pub(crate) decoder: Option<Box<ContentDecoder>>,
    pub(crate) decoded_len: Option<u64>,
    pub(crate) decoded_truncated: bool,
    /// gRPC messages of this direction.
    pub(crate) grpc: Option<Box<grpc::Reader>>,
    /// `grpc-encoding: gzip` on this direction's head.
    pub(crate) grpc_gzip: bool,
}

impl Half {
    pub(crate) fn memory(&self) -> usize {
        self.decoder.as_ref().map_or(0, |d| d.memory())
            + self.grpc.as_ref().map_or(0, |g| g.memory())
    }
}

/// One stream.
#[derive(Debug, Default)]
pub(crate) struct Stream {
    /// Its transaction's index in the connection (streams in order of appearance).
    pub(crate) index: u64,
    /// The stream whose request caused this push.
    pub(crate) pushed_by: Option<u32>,
    pub(crate) request: Half,
    pub(crate) response: Half,
    pub(crate) record: TransactionRecord,
    /// The gRPC method (`:path`) when the request's content-type is gRPC's.
    pub(crate) grpc_path: Option<Box<str>>,
    /// A grpc-status was reported.
    pub(crate) grpc_status_seen: bool,
}

impl Stream {
    pub(crate) fn memory(&self) -> usize {
        std::mem::size_of::<Stream>()
            + self.request.memory()
            + self.response.memory()
            + self.grpc_path.as_ref().map_or(0, |p| p.len())
    }
}
