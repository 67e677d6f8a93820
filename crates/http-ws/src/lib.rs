//! Incremental HTTP/1.x and RFC 6455 WebSocket decoding over reassembled TCP streams.
#![forbid(unsafe_code)]
