//! Limits and switches for [`crate::HttpSession`].

/// Size of the fixed header array a head is parsed into; a head with more headers is a
/// protocol error (`HttpError::TooManyHeaders`), never a reallocation.
pub const MAX_HEADERS: usize = 96;

/// Configuration of one [`crate::HttpSession`].
///
/// Every attacker-controlled length has a cap here, checked before bytes are buffered
/// (STYLE rule 8). Build from [`Default`] and adjust fields.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct HttpConfig {
    /// Largest request/response head (request line + headers), in bytes. Partial heads are
    /// buffered up to this size; over it the head is a protocol error.
    pub max_head_bytes: usize,
    /// How many headers a head may have (at most [`MAX_HEADERS`]).
    pub max_headers: usize,
    /// Decode `Content-Encoding` (gzip, x-gzip, deflate, br) and emit decoded body events.
    /// Off by default: decoding costs a buffer and CPU only when a consumer wants it.
    pub decode_content: bool,
    /// Cap on the decoded size of one body (decompression-bomb guard); over it the decoded
    /// body is truncated and reported.
    pub max_decoded_body: u64,
    /// Largest brotli window accepted, in bytes; a body whose stream declares a larger one
    /// (RFC 7932 section 9.1) is not decoded and reported
    /// (`HttpError::BrotliWindowTooLarge`). The decoder's ring buffer is as large as the
    /// window, and the session's memory count includes it. Default 4 MiB - 16 (WBITS 22,
    /// the brotli library's default window); 16 MiB - 16 (WBITS 24, the largest RFC 7932
    /// allows, which browsers accept) decodes every standard stream.
    pub max_brotli_window: u64,
    /// Cap on requests waiting for their response (pipelining).
    pub max_pending_requests: usize,
    /// Largest WebSocket frame payload accepted; bigger frames are reported and skipped.
    pub ws_max_frame: u64,
    /// Largest WebSocket message (sum of fragments, and inflated size); bigger messages are
    /// reported and skipped without buffering them.
    pub ws_max_message: u64,
    /// How many bytes of a stream that has never been recognised as HTTP are scanned for a
    /// message start after a gap before giving up on it.
    pub resync_budget: usize,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            max_head_bytes: 64 * 1024,
            max_headers: MAX_HEADERS,
            decode_content: false,
            max_decoded_body: 16 * 1024 * 1024,
            max_brotli_window: (4 << 20) - 16,
            max_pending_requests: 64,
            ws_max_frame: 16 * 1024 * 1024,
            ws_max_message: 16 * 1024 * 1024,
            resync_budget: 4096,
        }
    }
}

impl HttpConfig {
    /// Turns content decoding on or off (see [`HttpConfig::decode_content`]).
    pub fn with_decode_content(mut self, on: bool) -> Self {
        self.decode_content = on;
        self
    }
}
