//! WebSocket over HTTP/2 (RFC 8441 extended CONNECT) on hand-built h2c connections: text,
//! binary, fragmented, masked, control frames, permessage-deflate, the end of the stream,
//! and any split of the bytes; also the SETTINGS_MAX_FRAME_SIZE check.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write as _;

use pcap_http_ws::{Direction, HttpEvent, WsControlKind, WsPayload};
use pcap_http2::{H2Config, H2Event, H2Session, PREFACE};
use proptest::prelude::*;

const C2S: Direction = Direction::ClientToServer;
const S2C: Direction = Direction::ServerToClient;

/// Frame types and flags used here (RFC 9113 section 6).
const DATA: u8 = 0;
const HEADERS: u8 = 1;
const RST_STREAM: u8 = 3;
const SETTINGS: u8 = 4;
const END_STREAM: u8 = 0x1;
const END_HEADERS: u8 = 0x4;

fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let mut f = (payload.len() as u32).to_be_bytes()[1..].to_vec();
    f.extend([kind, flags]);
    f.extend(stream.to_be_bytes());
    f.extend(payload);
    f
}

/// A tiny HPACK encoder: literals without indexing (new names), no Huffman.
fn block(fields: &[(&str, &str)]) -> Vec<u8> {
    let mut b = Vec::new();
    for (n, v) in fields {
        b.push(0x00);
        assert!(n.len() < 127 && v.len() < 127);
        b.push(n.len() as u8);
        b.extend(n.as_bytes());
        b.push(v.len() as u8);
        b.extend(v.as_bytes());
    }
    b
}

/// One WebSocket frame; `mask` for client frames.
fn ws(fin: bool, rsv1: bool, opcode: u8, payload: &[u8], mask: Option<[u8; 4]>) -> Vec<u8> {
    let mut f = vec![u8::from(fin) << 7 | u8::from(rsv1) << 6 | opcode];
    let m = if mask.is_some() { 0x80 } else { 0 };
    match payload.len() {
        n @ 0..=125 => f.push(m | n as u8),
        n => {
            f.push(m | 126);
            f.extend((n as u16).to_be_bytes());
        }
    }
    match mask {
        Some(k) => {
            f.extend(k);
            f.extend(payload.iter().enumerate().map(|(i, b)| b ^ k[i % 4]));
        }
        None => f.extend(payload),
    }
    f
}

const KEY: Option<[u8; 4]> = Some([0x37, 0xfa, 0x21, 0x3d]);

/// permessage-deflate payload: raw deflate, sync flush, the 4-byte tail removed.
fn deflate(text: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(text).unwrap();
    e.flush().unwrap();
    let mut out = e.get_ref().clone();
    assert!(out.ends_with(&[0, 0, 0xff, 0xff]));
    out.truncate(out.len() - 4);
    out
}

fn describe(ev: &H2Event<'_>) -> Option<String> {
    Some(match ev {
        H2Event::Http { stream, event } => match event {
            HttpEvent::Request(r) => format!("{stream} request {} {}", r.method, r.uri),
            HttpEvent::Response(r) => format!("{stream} response {}", r.status),
            HttpEvent::Body { dir, data, .. } => {
                format!("{stream} body {dir:?} {}", String::from_utf8_lossy(data))
            }
            HttpEvent::MessageComplete(m) => {
                format!("{stream} complete {:?} {}", m.dir, m.complete)
            }
            HttpEvent::Transaction(t) => {
                format!("{stream} record {:?} {}", t.status, t.complete)
            }
            HttpEvent::WsUpgrade(h) => format!(
                "{stream} ws upgrade deflate={}",
                h.permessage_deflate.is_some()
            ),
            HttpEvent::WsFrame(f) => format!(
                "{stream} ws frame {:?} op={} fin={} masked={} len={} at={}",
                f.dir, f.opcode, f.fin, f.masked, f.payload_len, f.offset
            ),
            HttpEvent::WsMessage(m) => match m.payload {
                WsPayload::Text(t) => format!(
                    "{stream} ws text {:?} frames={} compressed={} {t}",
                    m.dir, m.frames, m.compressed
                ),
                WsPayload::Binary(b) => format!("{stream} ws binary {:?} {b:?}", m.dir),
            },
            HttpEvent::WsControl(c) => match c.kind {
                WsControlKind::Ping(d) => format!("{stream} ws ping {:?} {d:?}", c.dir),
                WsControlKind::Pong(d) => format!("{stream} ws pong {:?} {d:?}", c.dir),
                WsControlKind::Close { code, reason } => {
                    format!("{stream} ws close {:?} {code:?} {reason}", c.dir)
                }
                _ => return None,
            },
            HttpEvent::Error(e) => format!("{stream} ws error {}", e.kind),
            _ => return None,
        },
        H2Event::StreamEnd { stream, reason, .. } => format!("{stream} end {reason:?}"),
        H2Event::Error { error, .. } => format!("error {error}"),
        _ => return None,
    })
}

fn run(session: &mut H2Session, chunks: &[(Direction, Vec<u8>)]) -> Vec<String> {
    let mut out = Vec::new();
    let mut sink = |ev: H2Event<'_>| out.extend(describe(&ev));
    for (i, (dir, bytes)) in chunks.iter().enumerate() {
        session.data(*dir, i as i64, bytes, &mut sink);
    }
    session.end(None, 1000, &mut sink);
    out
}

fn connect(stream: u32) -> Vec<u8> {
    frame(
        HEADERS,
        END_HEADERS,
        stream,
        &block(&[
            (":method", "CONNECT"),
            (":protocol", "websocket"),
            (":scheme", "http"),
            (":path", "/chat"),
            (":authority", "example"),
            ("sec-websocket-version", "13"),
            ("sec-websocket-extensions", "permessage-deflate"),
        ]),
    )
}

/// SETTINGS with SETTINGS_ENABLE_CONNECT_PROTOCOL = 1.
fn enable_connect() -> Vec<u8> {
    frame(SETTINGS, 0, 0, b"\x00\x08\x00\x00\x00\x01")
}

/// A whole WebSocket conversation on stream 1, with a plain GET on stream 3 between.
fn conversation() -> Vec<(Direction, Vec<u8>)> {
    let mut c = PREFACE.to_vec();
    c.extend(frame(SETTINGS, 0, 0, b""));
    c.extend(connect(1));
    // The server's SETTINGS come first: a client waits for them before an extended CONNECT.
    let s0 = enable_connect();
    let s = frame(
        HEADERS,
        END_HEADERS,
        1,
        &block(&[
            (":status", "200"),
            ("sec-websocket-extensions", "permessage-deflate"),
        ]),
    );
    let mut c2 = Vec::new();
    // A masked text message; a text message in two fragments, with a ping between them;
    // the second fragment's WebSocket frame split over two DATA frames.
    let mut m = ws(true, false, 1, b"hello", KEY);
    m.extend(ws(false, false, 1, b"frag", KEY));
    m.extend(ws(true, false, 9, b"p", KEY));
    c2.extend(frame(DATA, 0, 1, &m));
    let tail = ws(true, false, 0, b"ment", KEY);
    c2.extend(frame(DATA, 0, 1, &tail[..3]));
    c2.extend(frame(
        HEADERS,
        END_HEADERS | END_STREAM,
        3,
        &block(&[
            (":method", "GET"),
            (":scheme", "http"),
            (":path", "/plain"),
            (":authority", "example"),
        ]),
    ));
    c2.extend(frame(DATA, 0, 1, &tail[3..]));
    let mut s2 = Vec::new();
    // Binary, pong, a compressed text message, a plain response on stream 3, then close.
    let mut m = ws(true, false, 2, &[1, 2, 3], None);
    m.extend(ws(true, false, 10, b"p", None));
    m.extend(ws(
        true,
        true,
        1,
        &deflate(b"squeezed squeezed squeezed"),
        None,
    ));
    s2.extend(frame(DATA, 0, 1, &m));
    s2.extend(frame(
        HEADERS,
        END_HEADERS,
        3,
        &block(&[(":status", "200")]),
    ));
    s2.extend(frame(DATA, END_STREAM, 3, b"ok"));
    let mut close = 1000u16.to_be_bytes().to_vec();
    close.extend(b"bye");
    s2.extend(frame(
        DATA,
        END_STREAM,
        1,
        &ws(true, false, 8, &close, None),
    ));
    let c3 = frame(
        DATA,
        END_STREAM,
        1,
        &ws(true, false, 8, &1000u16.to_be_bytes(), KEY),
    );
    vec![
        (S2C, s0),
        (C2S, c),
        (S2C, s),
        (C2S, c2),
        (S2C, s2),
        (C2S, c3),
    ]
}

#[test]
fn websocket_over_extended_connect() {
    let got = run(&mut H2Session::new(H2Config::default()), &conversation());
    let want = [
        "1 request CONNECT /chat",
        "1 response 200",
        "1 ws upgrade deflate=true",
        "1 complete ClientToServer true",
        "1 complete ServerToClient true",
        "1 record Some(200) true",
        "1 ws frame ClientToServer op=1 fin=true masked=true len=5 at=0",
        "1 ws text ClientToServer frames=1 compressed=false hello",
        "1 ws frame ClientToServer op=1 fin=false masked=true len=4 at=11",
        "1 ws frame ClientToServer op=9 fin=true masked=true len=1 at=21",
        "1 ws ping ClientToServer [112]",
        "3 request GET /plain",
        "3 complete ClientToServer true",
        "1 ws frame ClientToServer op=0 fin=true masked=true len=4 at=28",
        "1 ws text ClientToServer frames=2 compressed=false fragment",
        "1 ws frame ServerToClient op=2 fin=true masked=false len=3 at=0",
        "1 ws binary ServerToClient [1, 2, 3]",
        "1 ws frame ServerToClient op=10 fin=true masked=false len=1 at=5",
    ];
    assert_eq!(got[..want.len()], want, "{got:#?}");
    let rest = &got[want.len()..];
    let compressed = rest
        .iter()
        .position(|l| {
            l == "1 ws text ServerToClient frames=1 compressed=true squeezed squeezed squeezed"
        })
        .expect("the compressed message");
    assert!(rest[..compressed].contains(&"1 ws pong ServerToClient [112]".to_owned()));
    let tail: Vec<&str> = rest[compressed + 1..]
        .iter()
        .map(String::as_str)
        .filter(|l| !l.contains("ws frame"))
        .collect();
    assert_eq!(
        tail,
        [
            "3 response 200",
            "3 body ServerToClient ok",
            "3 complete ServerToClient true",
            "3 end Complete",
            "3 record Some(200) true",
            "1 ws close ServerToClient Some(1000) bye",
            "1 ws close ClientToServer Some(1000) ",
            "1 end Complete",
        ],
        "{got:#?}"
    );
    // No second record for stream 1, no body events, no errors.
    assert_eq!(got.iter().filter(|l| l.starts_with("1 record")).count(), 1);
    assert!(!got.iter().any(|l| l.starts_with("1 body")), "{got:#?}");
    assert!(!got.iter().any(|l| l.contains("error")), "{got:#?}");
}

#[test]
fn reset_inside_a_message_and_caps() {
    let mut c = PREFACE.to_vec();
    c.extend(connect(1));
    let mut s = enable_connect();
    s.extend(frame(
        HEADERS,
        END_HEADERS,
        1,
        &block(&[(":status", "200")]),
    ));
    let before = {
        let mut session = H2Session::new(H2Config::default());
        run(&mut session, &[(C2S, c.clone())]);
        session.memory()
    };
    let mut session = H2Session::new(H2Config::default());
    let mut out = Vec::new();
    let mut sink = |ev: H2Event<'_>| out.extend(describe(&ev));
    session.data(C2S, 1, &c, &mut sink);
    session.data(S2C, 2, &s, &mut sink);
    // Two WebSocket decoders now count in the session's memory.
    assert!(session.memory() > before, "{} {before}", session.memory());
    // Half a frame, then RST_STREAM: the message is reported as cut short.
    let half = ws(true, false, 2, &[7; 10], None);
    session.data(S2C, 3, &frame(DATA, 0, 1, &half[..6]), &mut sink);
    session.data(
        C2S,
        4,
        &frame(RST_STREAM, 0, 1, &8u32.to_be_bytes()),
        &mut sink,
    );
    assert!(
        out.iter()
            .any(|l| l.starts_with("1 ws error") && l.contains("stream ended inside a frame")),
        "{out:#?}"
    );
    assert!(out.iter().any(|l| l.starts_with("1 end Reset")), "{out:#?}");
    assert_eq!(session.open_streams(), 0);

    // A WebSocket frame over the cap is reported at its header.
    let mut cfg = H2Config::default();
    cfg.ws_max_frame = 4;
    let mut s2 = s.clone();
    s2.extend(frame(DATA, 0, 1, &ws(true, false, 2, &[0; 8], None)));
    let got = run(&mut H2Session::new(cfg), &[(C2S, c.clone()), (S2C, s2)]);
    assert!(got.iter().any(|l| l.starts_with("1 ws error")), "{got:#?}");
    assert!(!got.iter().any(|l| l.contains("ws binary")), "{got:#?}");

    // Without the server's SETTINGS_ENABLE_CONNECT_PROTOCOL: an error, decoded anyway.
    let mut s3 = frame(HEADERS, END_HEADERS, 1, &block(&[(":status", "200")]));
    s3.extend(frame(DATA, 0, 1, &ws(true, false, 1, b"hi", None)));
    let got = run(
        &mut H2Session::new(H2Config::default()),
        &[(C2S, c), (S2C, s3)],
    );
    assert!(
        got.contains(
            &"error http2: stream 1: extended CONNECT without SETTINGS_ENABLE_CONNECT_PROTOCOL"
                .to_owned()
        ),
        "{got:#?}"
    );
    assert!(
        got.iter().any(|l| l.ends_with("compressed=false hi")),
        "{got:#?}"
    );
}

#[test]
fn a_refused_connect_is_no_websocket() {
    let mut c = PREFACE.to_vec();
    c.extend(connect(1));
    let mut s = enable_connect();
    s.extend(frame(
        HEADERS,
        END_HEADERS,
        1,
        &block(&[(":status", "404")]),
    ));
    s.extend(frame(DATA, END_STREAM, 1, b"\x81\x02no"));
    let got = run(
        &mut H2Session::new(H2Config::default()),
        &[(C2S, c), (S2C, s)],
    );
    assert!(!got.iter().any(|l| l.contains(" ws ")), "{got:#?}");
    assert!(
        got.iter().any(|l| l.starts_with("1 body ServerToClient")),
        "{got:#?}"
    );
}

#[test]
fn frames_over_the_receivers_max_frame_size_are_errors() {
    let mut c = PREFACE.to_vec();
    // The client allows 32768 for what the server sends; the server keeps the default.
    c.extend(frame(SETTINGS, 0, 0, b"\x00\x05\x00\x00\x80\x00"));
    c.extend(frame(
        HEADERS,
        END_HEADERS,
        1,
        &block(&[
            (":method", "POST"),
            (":scheme", "http"),
            (":path", "/up"),
            (":authority", "example"),
        ]),
    ));
    // 16385 bytes: over the default 16384, within the decoder's cap: reported, decoded.
    c.extend(frame(DATA, 0, 1, &[b'a'; 16385]));
    let mut s = frame(HEADERS, END_HEADERS, 1, &block(&[(":status", "200")]));
    s.extend(frame(DATA, 0, 1, &[b'b'; 20000]));
    s.extend(frame(DATA, END_STREAM, 1, &[b'b'; 32769]));
    c.extend(frame(DATA, END_STREAM, 1, b"z"));
    let mut session = H2Session::new(H2Config::default());
    let mut errors = Vec::new();
    let mut bodies = (0, 0);
    let mut sink = |ev: H2Event<'_>| match ev {
        H2Event::Error { dir, error, .. } => errors.push(format!("{dir:?} {error}")),
        H2Event::Http {
            event: HttpEvent::MessageComplete(m),
            ..
        } => match m.dir {
            Direction::ClientToServer => bodies.0 = m.body_len,
            Direction::ServerToClient => bodies.1 = m.body_len,
        },
        _ => {}
    };
    session.data(C2S, 1, &c, &mut sink);
    session.data(S2C, 2, &s, &mut sink);
    session.end(None, 3, &mut sink);
    assert_eq!(
        errors,
        [
            "ClientToServer http2 DATA frame on stream 1: 16385 bytes over the receiver's SETTINGS_MAX_FRAME_SIZE of 16384",
            "ServerToClient http2 DATA frame on stream 1: 32769 bytes over the receiver's SETTINGS_MAX_FRAME_SIZE of 32768",
        ]
    );
    // Decoding went on: every byte counted.
    assert_eq!(bodies, (16386, 52769));
    // Mid-stream, the limit may have been raised before the capture: not reported.
    let mut mid = frame(DATA, 0, 1, &[b'a'; 16385]);
    mid.extend(frame(DATA, END_STREAM, 1, b"a"));
    let got = run(
        &mut H2Session::midstream(H2Config::default()),
        &[(S2C, mid)],
    );
    assert!(
        !got.iter().any(|l| l.contains("SETTINGS_MAX_FRAME_SIZE")),
        "{got:#?}"
    );
}

proptest! {
    /// Any split of each direction's bytes gives the same events.
    #[test]
    fn any_split_gives_the_same_events(cuts in proptest::collection::vec(0usize..600, 0..16)) {
        let whole = run(&mut H2Session::new(H2Config::default()), &conversation());
        let mut chunks = Vec::new();
        for (dir, bytes) in conversation() {
            let mut points: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
            points.sort_unstable();
            points.dedup();
            let mut last = 0;
            for p in points.into_iter().chain([bytes.len()]) {
                if p > last {
                    chunks.push((dir, bytes[last..p].to_vec()));
                    last = p;
                }
            }
        }
        let split = run(&mut H2Session::new(H2Config::default()), &chunks);
        prop_assert_eq!(whole, split);
    }
}
