//! Typed errors, each naming the layer (frame, HPACK, stream, gRPC) and what was wrong.

use thiserror::Error;

/// A frame whose fields contradict its length or RFC 9113's rules.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum FrameError {
    /// The padding length is not smaller than what is left of the payload (section 6.1).
    #[error("http2 {frame} frame: pad length {pad} with {len} bytes of payload")]
    Padding {
        /// Frame type name.
        frame: &'static str,
        /// Pad Length field.
        pad: u8,
        /// Payload length.
        len: usize,
    },
    /// A fixed-size frame (or its fixed fields) has another size.
    #[error("http2 {frame} frame: payload of {len} bytes, {expected} expected")]
    Size {
        /// Frame type name.
        frame: &'static str,
        /// Payload length.
        len: usize,
        /// What the frame type needs (a minimum for frames with variable parts).
        expected: usize,
    },
    /// A stream identifier that the frame type forbids (0 for stream frames, non-zero for
    /// connection frames).
    #[error("http2 {frame} frame on stream {stream}")]
    StreamId {
        /// Frame type name.
        frame: &'static str,
        /// Stream identifier.
        stream: u32,
    },
}

/// A header block that cannot be decoded (RFC 7541). The dynamic table is then out of step
/// with the encoder's, so later blocks of the direction are not decoded either.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum HpackError {
    /// An integer runs past the block or over 2^32 - 1.
    #[error("hpack: integer at block offset {offset} truncated or too large")]
    Integer {
        /// Offset in the header block.
        offset: usize,
    },
    /// A string literal runs past the block.
    #[error("hpack: string of {len} bytes at block offset {offset} runs past the block")]
    Truncated {
        /// Offset in the header block.
        offset: usize,
        /// Declared length.
        len: usize,
    },
    /// A Huffman-coded string with an invalid code, EOS or bad padding.
    #[error("hpack: invalid huffman string at block offset {offset}")]
    Huffman {
        /// Offset in the header block.
        offset: usize,
    },
    /// An index that is 0 or past the static and dynamic tables.
    #[error(
        "hpack: index {index} at block offset {offset} not in the tables ({dynamic} dynamic entries)"
    )]
    Index {
        /// The index.
        index: usize,
        /// Offset in the header block.
        offset: usize,
        /// Entries in the dynamic table.
        dynamic: usize,
    },
    /// A dynamic table size update over what SETTINGS allow.
    #[error("hpack: table size update to {size} at block offset {offset} over the limit {limit}")]
    SizeUpdate {
        /// Size asked for.
        size: usize,
        /// SETTINGS_HEADER_TABLE_SIZE in force.
        limit: usize,
        /// Offset in the header block.
        offset: usize,
    },
    /// The decoded header list is larger than the cap.
    #[error("hpack: decoded header list over {max} bytes")]
    ListTooLarge {
        /// The cap (`H2Config::max_header_list`).
        max: usize,
    },
}

/// Something wrong in a connection, with where it happened.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum H2Error {
    /// A malformed frame (skipped).
    #[error(transparent)]
    Frame(#[from] FrameError),
    /// A header block that cannot be decoded: the direction's later header blocks are not
    /// decoded.
    #[error("stream {stream}: {error}")]
    Hpack {
        /// The stream whose header block it was.
        stream: u32,
        /// What was wrong.
        error: HpackError,
    },
    /// The client did not start with the connection preface.
    #[error("http2: no client connection preface")]
    NoPreface,
    /// A frame larger than the cap (`H2Config::max_frame`), skipped without buffering.
    #[error("http2 {frame} frame on stream {stream}: {len} bytes over the cap of {max}")]
    FrameTooLarge {
        /// Frame type name.
        frame: &'static str,
        /// Stream identifier.
        stream: u32,
        /// Payload length.
        len: u32,
        /// The cap.
        max: u32,
    },
    /// A frame larger than the receiver's SETTINGS_MAX_FRAME_SIZE (16384 until its SETTINGS
    /// say more): a connection error in RFC 9113 (section 4.2). Decoded anyway when within
    /// the cap (`H2Config::max_frame`).
    #[error(
        "http2 {frame} frame on stream {stream}: {len} bytes over the receiver's SETTINGS_MAX_FRAME_SIZE of {max}"
    )]
    FrameSize {
        /// Frame type name.
        frame: &'static str,
        /// Stream identifier.
        stream: u32,
        /// Payload length.
        len: u32,
        /// SETTINGS_MAX_FRAME_SIZE in force.
        max: u32,
    },
    /// An extended CONNECT (`:protocol`, RFC 8441) before the server enabled it with
    /// SETTINGS_ENABLE_CONNECT_PROTOCOL: decoded anyway.
    #[error("http2: stream {stream}: extended CONNECT without SETTINGS_ENABLE_CONNECT_PROTOCOL")]
    ConnectProtocolNotEnabled {
        /// Stream identifier.
        stream: u32,
    },
    /// A CONTINUATION that does not follow a HEADERS or PUSH_PROMISE of its stream, or
    /// another frame inside a header block (section 6.10).
    #[error(
        "http2: CONTINUATION expected for stream {expected}, got a frame of type {kind} on stream {stream}"
    )]
    Continuation {
        /// The stream whose block is open (0: none).
        expected: u32,
        /// The frame's type.
        kind: u8,
        /// Its stream.
        stream: u32,
    },
    /// A header block larger than the cap (`H2Config::max_header_list`).
    #[error("http2: header block of stream {stream} over {max} bytes")]
    HeaderBlockTooLarge {
        /// Stream identifier.
        stream: u32,
        /// The cap.
        max: usize,
    },
    /// More streams open at once than the cap (`H2Config::max_streams`): the new one is
    /// not followed.
    #[error("http2: stream {stream} over the cap of {max} open streams")]
    TooManyStreams {
        /// Stream identifier.
        stream: u32,
        /// The cap.
        max: usize,
    },
    /// The encoder asked for a dynamic table over the cap (`H2Config::max_table_size`).
    #[error("hpack: table of {size} bytes asked for, kept at the cap of {max}")]
    TableCapped {
        /// Size asked for.
        size: usize,
        /// The cap.
        max: usize,
    },
    /// A gRPC message larger than the cap (`H2Config::max_grpc_message`): reported with its
    /// length, its bytes not kept.
    #[error("grpc: message of {len} bytes on stream {stream} over the cap of {max}")]
    GrpcMessageTooLarge {
        /// Stream identifier.
        stream: u32,
        /// Declared length.
        len: u64,
        /// The cap.
        max: usize,
    },
    /// Content (or gRPC message) decoding failed or stopped at its cap.
    #[error("stream {stream}: {coding} body not decoded: {why}")]
    Decode {
        /// Stream identifier.
        stream: u32,
        /// The coding.
        coding: &'static str,
        /// `corrupt`, `over the cap`, `brotli window too large`.
        why: &'static str,
    },
    /// The analyzer's memory budget for all sessions was exceeded and this session, the
    /// one that went over it, is not decoded any further.
    #[error("http2: sessions over the memory budget of {budget} bytes: session abandoned")]
    MemoryBudget {
        /// The budget.
        budget: usize,
    },
    /// No frame boundary was found after lost bytes within the resynchronisation budget:
    /// the direction is not decoded any further.
    #[error("http2: no frame boundary found in {scanned} bytes after lost bytes")]
    NoResync {
        /// Bytes scanned.
        scanned: usize,
    },
}
