//! Brotli windows and the memory count: a body declaring a window over
//! `HttpConfig::max_brotli_window` is refused with an error event, and `memory()` counts the
//! window of the bodies it decodes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write as _;

use pcap_http_ws::Direction;
use pcap_http_ws::{ErrorKind, HttpConfig, HttpError, HttpEvent, HttpSession};

const C: Direction = Direction::ClientToServer;
const S: Direction = Direction::ServerToClient;

fn brotli(data: &[u8], lgwin: u32) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut w = brotli::CompressorWriter::new(&mut out, 4096, 5, lgwin);
        w.write_all(data).unwrap();
    }
    out
}

const TEXT: &[u8] = b"0123456789abcdef";
const REPEAT: usize = 64 * 1024;

#[derive(Default, Debug)]
struct Seen {
    errors: Vec<HttpError>,
    decoded: usize,
    decoded_len: Option<Option<u64>>,
}

/// A GET answered by a brotli body of `lgwin` whose Content-Length is twice the stream: the
/// whole stream is fed, the response never ends; then the session ends.
fn unfinished(cfg: HttpConfig, lgwin: u32) -> (Seen, usize) {
    let body = brotli(&TEXT.repeat(REPEAT), lgwin);
    let mut session = HttpSession::new(cfg);
    let mut seen = Seen::default();
    let mut sink = |e: HttpEvent<'_>| match e {
        HttpEvent::Error(e) => {
            if let ErrorKind::Http(h) = e.kind {
                seen.errors.push(h);
            }
        }
        HttpEvent::Body {
            decoded: true,
            data,
            ..
        } => seen.decoded += data.len(),
        HttpEvent::MessageComplete(m) if m.dir == S => seen.decoded_len = Some(m.decoded_len),
        _ => {}
    };
    session.data(C, 0, b"GET / HTTP/1.1\r\nHost: a\r\n\r\n", &mut sink);
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Encoding: br\r\nContent-Length: {}\r\n\r\n",
        body.len() * 2
    );
    session.data(S, 1, head.as_bytes(), &mut sink);
    session.data(S, 2, &body, &mut sink);
    let memory = session.memory();
    session.end(None, 3, &mut sink);
    (seen, memory)
}

#[test]
fn a_window_over_the_cap_is_refused_and_not_counted() {
    let cfg = HttpConfig::default().with_decode_content(true);
    assert_eq!(cfg.max_brotli_window, (4 << 20) - 16);
    let (seen, memory) = unfinished(cfg, 24);
    let refused = HttpError::BrotliWindowTooLarge {
        window: (16 << 20) - 16,
        max: (4 << 20) - 16,
    };
    assert!(seen.errors.contains(&refused), "{:?}", seen.errors);
    assert_eq!(
        refused.to_string(),
        "http body: brotli window of 16777200 bytes over the 4194288-byte cap, body not decoded"
    );
    assert_eq!(seen.decoded, 0);
    // As for a body whose decoding failed at its first byte.
    assert_eq!(seen.decoded_len, Some(Some(0)));
    // No decoder is left: the session holds its buffers only.
    assert!(memory < 64 * 1024, "{memory}");
}

#[test]
fn a_window_within_the_cap_is_decoded_and_counted() {
    let cfg = HttpConfig::default().with_decode_content(true);
    let (seen, memory) = unfinished(cfg, 22);
    assert!(
        seen.errors
            .iter()
            .all(|e| !matches!(e, HttpError::BrotliWindowTooLarge { .. }))
    );
    assert_eq!(seen.decoded, TEXT.len() * REPEAT);
    assert!(memory >= (4 << 20) - 16, "{memory}");
    // Plus the decoder state and the output buffer (one write's worth of decoded bytes).
    assert!(memory < (4 << 20) + (2 << 20), "{memory}");

    // With the cap raised to 16 MiB, a 16 MiB window decodes and is counted in full.
    let mut cfg = HttpConfig::default().with_decode_content(true);
    cfg.max_brotli_window = (16 << 20) - 16;
    let (seen, memory) = unfinished(cfg, 24);
    assert!(
        seen.errors
            .iter()
            .all(|e| !matches!(e, HttpError::BrotliWindowTooLarge { .. }))
    );
    assert_eq!(seen.decoded, TEXT.len() * REPEAT);
    assert!(memory >= (16 << 20) - 16, "{memory}");
    assert!(memory < (18 << 20), "{memory}");
}
