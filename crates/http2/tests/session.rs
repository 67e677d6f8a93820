//! H2Session over hand-built connections: padding, CONTINUATION, interleaved streams,
//! RST_STREAM, GOAWAY, push, gRPC, caps, broken blocks, and any split of the bytes.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use pcap_http_ws::{Direction, HttpEvent};
use pcap_http2::{EndReason, H2Config, H2Error, H2Event, H2Session, PREFACE};
use proptest::prelude::*;

const C2S: Direction = Direction::ClientToServer;
const S2C: Direction = Direction::ServerToClient;

fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let mut f = (payload.len() as u32).to_be_bytes()[1..].to_vec();
    f.extend([kind, flags]);
    f.extend(stream.to_be_bytes());
    f.extend(payload);
    f
}

/// A header block of literals without indexing (new names), no Huffman.
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

fn get(path: &str) -> Vec<u8> {
    block(&[
        (":method", "GET"),
        (":scheme", "http"),
        (":path", path),
        (":authority", "example"),
    ])
}

/// Events in a comparable text form.
fn describe(ev: &H2Event<'_>) -> Option<String> {
    Some(match ev {
        H2Event::Http { stream, event } => match event {
            HttpEvent::Request(r) => format!("{stream} request {} {}", r.method, r.uri),
            HttpEvent::Response(r) => format!("{stream} response {}", r.status),
            HttpEvent::Body {
                dir, data, decoded, ..
            } => {
                format!(
                    "{stream} body {dir:?} {decoded} {}",
                    String::from_utf8_lossy(data)
                )
            }
            HttpEvent::Trailers { headers, .. } => format!("{stream} trailers {}", headers.len()),
            HttpEvent::MessageComplete(m) => {
                format!(
                    "{stream} complete {:?} {} {}",
                    m.dir, m.body_len, m.complete
                )
            }
            HttpEvent::Transaction(t) => format!(
                "{stream} record {:?} {} {}",
                t.status, t.response_body_len, t.complete
            ),
            _ => return None,
        },
        H2Event::RstStream { stream, code, .. } => format!("{stream} rst {code}"),
        H2Event::GoAway { last_stream, .. } => format!("goaway {last_stream}"),
        H2Event::StreamEnd {
            stream,
            reason,
            pushed_by,
            ..
        } => {
            format!("{stream} end {reason:?} {pushed_by:?}")
        }
        H2Event::GrpcMessage(m) => format!(
            "{} grpc {:?} {} {} {:?}",
            m.stream,
            m.dir,
            m.path,
            m.len,
            m.decoded.map(<[u8]>::len)
        ),
        H2Event::GrpcStatus(g) => format!(
            "{} grpc-status {:?} {:?} {}",
            g.stream,
            g.status,
            g.message.as_deref().map(String::from_utf8_lossy),
            g.trailers_only
        ),
        H2Event::Error { error, .. } => format!("error {error}"),
        _ => return None,
    })
}

/// Feeds (direction, bytes) chunks to a session, then ends it.
fn run(session: &mut H2Session, chunks: &[(Direction, Vec<u8>)]) -> Vec<String> {
    let mut out = Vec::new();
    let mut sink = |ev: H2Event<'_>| out.extend(describe(&ev));
    for (i, (dir, bytes)) in chunks.iter().enumerate() {
        session.data(*dir, i as i64, bytes, &mut sink);
    }
    session.end(None, 1000, &mut sink);
    out
}

fn conversation() -> Vec<(Direction, Vec<u8>)> {
    let mut c = PREFACE.to_vec();
    c.extend(frame(4, 0, 0, b""));
    // Stream 1: HEADERS (padded, priority) without END_HEADERS, then CONTINUATION.
    let b1 = get("/one");
    let (first, rest) = b1.split_at(10);
    let mut p = vec![3u8, 0x80, 0, 0, 0, 15];
    p.extend(first);
    p.extend([0, 0, 0]);
    c.extend(frame(1, 0x1 | 0x8 | 0x20, 1, &p));
    c.extend(frame(9, 0x4, 1, rest));
    // Stream 3 at once.
    c.extend(frame(1, 0x5, 3, &get("/three")));
    let mut s = frame(4, 0, 0, b"\0\x01\0\0\x10\0");
    s.extend(frame(1, 0x4, 3, &block(&[(":status", "200")])));
    s.extend(frame(1, 0x4, 1, &block(&[(":status", "404")])));
    // Interleaved DATA: stream 3 "aa", stream 1 padded "bb", stream 3 "cc" END_STREAM.
    s.extend(frame(0, 0, 3, b"aa"));
    s.extend(frame(0, 0x8, 1, b"\x02bbXX"));
    s.extend(frame(0, 0x1, 3, b"cc"));
    // Stream 1 ends with trailers.
    s.extend(frame(1, 0x5, 1, &block(&[("x-t", "1")])));
    vec![(C2S, c), (S2C, s)]
}

#[test]
fn streams_interleave_without_mixing() {
    let got = run(&mut H2Session::new(H2Config::default()), &conversation());
    let want = [
        "1 request GET /one",
        "1 complete ClientToServer 0 true",
        "3 request GET /three",
        "3 complete ClientToServer 0 true",
        "3 response 200",
        "1 response 404",
        "3 body ServerToClient false aa",
        "1 body ServerToClient false bb",
        "3 body ServerToClient false cc",
        "3 complete ServerToClient 4 true",
        "3 end Complete None",
        "3 record Some(200) 4 true",
        "1 trailers 1",
        "1 complete ServerToClient 2 true",
        "1 end Complete None",
        "1 record Some(404) 2 true",
    ];
    assert_eq!(got, want);
}

#[test]
fn rst_stream_goaway_and_push() {
    let mut c = PREFACE.to_vec();
    c.extend(frame(1, 0x5, 1, &get("/a")));
    c.extend(frame(1, 0x5, 3, &get("/b")));
    c.extend(frame(1, 0x5, 5, &get("/c")));
    let mut s = frame(3, 0, 1, &8u32.to_be_bytes());
    // Push on stream 3: promised 2.
    let mut pp = 2u32.to_be_bytes().to_vec();
    pp.extend(get("/pushed.css"));
    s.extend(frame(5, 0x4, 3, &pp));
    s.extend(frame(1, 0x5, 2, &block(&[(":status", "200")])));
    s.extend(frame(7, 0, 0, b"\0\0\0\x03\0\0\0\0"));
    let got = run(
        &mut H2Session::new(H2Config::default()),
        &[(C2S, c), (S2C, s)],
    );
    assert!(got.contains(&"1 rst 8".to_owned()));
    assert!(got.contains(&"1 end Reset { code: 8, by: ServerToClient } None".to_owned()));
    assert!(got.contains(&"2 request GET /pushed.css".to_owned()));
    assert!(got.contains(&"2 end Complete Some(3)".to_owned()));
    assert!(got.contains(&"goaway 3".to_owned()));
    assert!(got.contains(&"5 end GoAway { code: 0 } None".to_owned()));
    assert!(got.contains(&"3 end ConnectionEnd None".to_owned()));
}

fn grpc_message(payload: &[u8], compressed: bool) -> Vec<u8> {
    let mut m = vec![u8::from(compressed)];
    m.extend((payload.len() as u32).to_be_bytes());
    m.extend(payload);
    m
}

#[test]
fn grpc_messages_and_status() {
    use std::io::Write;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&[7u8; 300]).unwrap();
    let gz = gz.finish().unwrap();
    let mut c = PREFACE.to_vec();
    let req = block(&[
        (":method", "POST"),
        (":scheme", "http"),
        (":path", "/pkg.Svc/Do"),
        (":authority", "x"),
        ("content-type", "application/grpc"),
        ("grpc-encoding", "gzip"),
    ]);
    c.extend(frame(1, 0x4, 1, &req));
    let two = [grpc_message(b"\x08\x01", false), grpc_message(&gz, true)].concat();
    // The two messages split across three DATA frames.
    c.extend(frame(0, 0, 1, &two[..3]));
    c.extend(frame(0, 0, 1, &two[3..12]));
    c.extend(frame(0, 0x1, 1, &two[12..]));
    // Stream 3: trailers-only failure.
    c.extend(frame(1, 0x5, 3, &req));
    let mut s = frame(
        1,
        0x4,
        1,
        &block(&[(":status", "200"), ("content-type", "application/grpc")]),
    );
    s.extend(frame(0, 0, 1, &grpc_message(b"ok", false)));
    s.extend(frame(1, 0x5, 1, &block(&[("grpc-status", "0")])));
    s.extend(frame(
        1,
        0x5,
        3,
        &block(&[
            (":status", "200"),
            ("grpc-status", "5"),
            ("grpc-message", "not%20found"),
        ]),
    ));
    let got = run(
        &mut H2Session::new(H2Config::default()),
        &[(C2S, c), (S2C, s)],
    );
    let grpc: Vec<&String> = got.iter().filter(|l| l.contains("grpc")).collect();
    assert_eq!(
        grpc,
        [
            "1 grpc ClientToServer /pkg.Svc/Do 2 None",
            &format!("1 grpc ClientToServer /pkg.Svc/Do {} Some(300)", gz.len()),
            "1 grpc ServerToClient /pkg.Svc/Do 2 None",
            "1 grpc-status Some(0) None false",
            "3 grpc-status Some(5) Some(\"not found\") true",
        ]
    );
}

#[test]
fn caps_and_broken_blocks_are_events() {
    let mut cfg = H2Config::default();
    cfg.max_streams = 1;
    cfg.max_frame = 64;
    let mut c = PREFACE.to_vec();
    c.extend(frame(1, 0x4, 1, &get("/a")));
    c.extend(frame(1, 0x4, 3, &get("/b")));
    c.extend(frame(0, 0, 1, &[0u8; 100]));
    // An index past both tables: a broken block, later blocks of the direction undecoded.
    c.extend(frame(1, 0x5, 5, b"\xff\x7f"));
    let got = run(&mut H2Session::new(cfg), &[(C2S, c)]);
    assert!(
        got.iter()
            .any(|l| l.contains("over the cap of 1 open streams")),
        "{got:?}"
    );
    assert!(
        got.iter()
            .any(|l| l.contains("100 bytes over the cap of 64")),
        "{got:?}"
    );
    assert!(got.iter().any(|l| l.contains("hpack: index")), "{got:?}");
    let mut s = H2Session::new(H2Config::default());
    let got = run(&mut s, &[(C2S, b"GET / HTTP/1.1\r\n\r\n".to_vec())]);
    assert_eq!(got, ["error http2: no client connection preface"]);
    assert!(!s.is_active());
    let _ = H2Error::NoPreface;
}

#[test]
fn midstream_resynchronises_and_says_when_it_cannot() {
    // Starts inside a DATA frame, then two whole frames.
    let mut s = b"tail of an earlier frame".to_vec();
    s.extend(frame(1, 0x4, 1, &block(&[(":status", "200")])));
    s.extend(frame(0, 0x1, 1, b"xy"));
    let mut session = H2Session::midstream(H2Config::default());
    let mut out = Vec::new();
    session.data(S2C, 1, &s, &mut |ev| {
        if let H2Event::Resync { skipped, .. } = ev {
            out.push(format!("resync {skipped}"));
        }
        out.extend(describe(&ev));
    });
    assert_eq!(out[0], "resync 24");
    assert!(out.contains(&"1 response 200".to_owned()));
    assert!(session.is_h2());
    let mut cfg = H2Config::default();
    cfg.resync_budget = 64;
    let mut session = H2Session::midstream(cfg);
    let got = run(&mut session, &[(S2C, vec![b'x'; 100])]);
    assert_eq!(
        got,
        ["error http2: no frame boundary found in 64 bytes after lost bytes"]
    );
    assert!(!session.is_active());
    let _ = EndReason::Complete;
}

proptest! {
    /// Any split of each direction's bytes gives the same events.
    #[test]
    fn any_split_gives_the_same_events(cuts in proptest::collection::vec(0usize..400, 0..12)) {
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
        // Times differ by chunk; the events compared carry none.
        let split = run(&mut H2Session::new(H2Config::default()), &chunks);
        prop_assert_eq!(whole, split);
    }
}
