//! Limits and switches for [`crate::H2Session`].

use pcap_http_ws::HttpConfig;

/// Configuration of one [`crate::H2Session`]. Every attacker-controlled size has a cap here,
/// checked before bytes are buffered; hitting one is an [`crate::H2Event::Error`]. Build
/// from [`Default`] (or [`H2Config::from_http`]) and adjust fields.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct H2Config {
    /// Largest frame payload buffered (a frame split across TCP segments is held until
    /// whole). Peers may allow up to 16 MiB; a larger frame is reported and skipped.
    pub max_frame: u32,
    /// Largest HPACK dynamic table kept per direction, whatever SETTINGS allow (the
    /// default SETTINGS value is 4096; browsers use 64 KiB).
    pub max_table_size: usize,
    /// Largest header block (compressed, CONTINUATIONs included) and decoded header list.
    pub max_header_list: usize,
    /// Streams followed at once per connection; a new stream over it is reported and not
    /// followed.
    pub max_streams: usize,
    /// Decode `content-encoding` (gzip, deflate, br) and report decoded bodies.
    pub decode_content: bool,
    /// Cap on one body's decoded size.
    pub max_decoded_body: u64,
    /// Largest brotli window accepted (see [`HttpConfig::max_brotli_window`]).
    pub max_brotli_window: u64,
    /// Largest gRPC message kept whole (to report its bytes and gunzip it); a larger one
    /// is reported with its length only.
    pub max_grpc_message: usize,
    /// Largest WebSocket frame payload (WebSocket over HTTP/2, RFC 8441), checked at the
    /// frame header (see [`HttpConfig::ws_max_frame`]).
    pub ws_max_frame: u64,
    /// Largest WebSocket message kept whole (fragments joined, inflated).
    pub ws_max_message: u64,
    /// Bytes scanned for a frame boundary after lost bytes (or at the start of a
    /// connection picked up mid-stream) before giving up on the direction.
    pub resync_budget: usize,
}

impl Default for H2Config {
    fn default() -> Self {
        H2Config {
            max_frame: 1 << 20,
            max_table_size: 64 * 1024,
            max_header_list: 256 * 1024,
            max_streams: 1024,
            decode_content: false,
            max_decoded_body: 16 * 1024 * 1024,
            max_brotli_window: (4 << 20) - 16,
            max_grpc_message: 4 * 1024 * 1024,
            resync_budget: 16 * 1024,
            ws_max_frame: HttpConfig::default().ws_max_frame,
            ws_max_message: HttpConfig::default().ws_max_message,
        }
    }
}

impl H2Config {
    /// The defaults, with content decoding and WebSocket caps as in `http`, so HTTP/1.x
    /// and HTTP/2 bodies and WebSocket messages are decoded alike.
    pub fn from_http(http: &HttpConfig) -> Self {
        H2Config {
            decode_content: http.decode_content,
            max_decoded_body: http.max_decoded_body,
            max_brotli_window: http.max_brotli_window,
            ws_max_frame: http.ws_max_frame,
            ws_max_message: http.ws_max_message,
            ..H2Config::default()
        }
    }

    /// Turns content decoding on or off.
    pub fn with_decode_content(mut self, on: bool) -> Self {
        self.decode_content = on;
        self
    }
}
