//! HTTP/2 and gRPC conformance over `../shared/corpus-tls`: every header block (request,
//! response, informational, push promise, trailers) of every stream and every gRPC message
//! and status, as the analyzer reports them, against tshark's `http2.tsv` and `grpc.tsv`.
//!
//! Table-driven ([`CASES`]): the h2-over-TLS captures are listed with [`Input::Tls`] and are
//! decrypted with their key logs (`keys/NAME.keys`, found by `Corpus::keys_path`) by the
//! analyzer [`analyzer_for`] builds. Differences
//! from the oracle that are by design are in [`ALLOWED`], each with its reason.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::ops::ControlFlow;
use std::sync::Arc;

use pcap_analyzer::{Analyzer, AnalyzerConfig, Handler, Http2Event, Stream};
use pcap_capture::Source;
use pcap_http_ws::{Direction, HttpConfig, HttpEvent};
use pcap_http2::frame::{FrameType, flags};
use pcap_testkit::Corpus;
use pcap_tls::{KeyLog, KeyLookup, TlsConfig};

/// How a capture's HTTP/2 reaches the decoder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Input {
    /// h2c: prior knowledge, Upgrade, or picked up mid-stream.
    Cleartext,
    /// h2 inside TLS (ALPN h2), decrypted with the capture's key log.
    Tls,
}

const CASES: &[(&str, Input)] = &[
    ("grpc-client-streaming.pcap", Input::Cleartext),
    ("grpc-h2c.pcap", Input::Cleartext),
    ("grpc-server-streaming-midstream.pcap", Input::Cleartext),
    ("h2-continuation.pcap", Input::Cleartext),
    ("h2-doh-get.pcap", Input::Cleartext),
    ("h2-h2c-upgrade.pcap", Input::Cleartext),
    ("h2-hpack-browser-youtube.pcap", Input::Cleartext),
    ("h2-multiple-headers.pcap", Input::Cleartext),
    ("h2c-prior-knowledge.pcap", Input::Cleartext),
    ("h2-tls-gzip-404.pcap", Input::Tls),
    ("h2-tls-hpack-dynamic.pcap", Input::Tls),
    ("h2-tls-large-response.pcap", Input::Tls),
    ("h2-tls-multiplexed.pcap", Input::Tls),
    ("h2-tls-post.pcap", Input::Tls),
    ("h2-tls-rst-stream.pcap", Input::Tls),
    ("h2-tls-trailers.pcap", Input::Tls),
    ("h2-tls13-curl-google.pcap", Input::Tls),
];

/// Differences by design: (capture, row key as printed by this test, reason).
const ALLOWED: &[(&str, &str, &str)] = &[
    (
        "h2-h2c-upgrade.pcap",
        "0/1/request#0",
        "stream 1's request is the HTTP/1.1 Upgrade request (in http.tsv); the analyzer reports \
         it as h2 stream 1's request too, so that stream 1's record has both sides",
    ),
    (
        "h2-doh-get.pcap",
        "0/7/response#0",
        "the client reset stream 7 (CANCEL) before its response: the analyzer ends the stream \
         there (its record says reset, incomplete) and, as the client does, ignores the \
         response the server still sent on the closed stream; tshark lists that response",
    ),
    (
        "grpc-server-streaming-midstream.pcap",
        "0/1/response#0",
        "three server segments are missing: the analyzer resynchronises on a frame boundary \
         after each hole and counts the DATA after them (1983 bytes, END_STREAM seen), which \
         tshark, not reassembling past a hole, does not (1486, no END_STREAM)",
    ),
    (
        "grpc-server-streaming-midstream.pcap",
        "0/1/trailers#0",
        "the trailers come after the holes (see 0/1/response#0)",
    ),
    (
        "grpc-server-streaming-midstream.pcap",
        "grpc 0/1/status",
        "grpc-status 0 is in the trailers after the holes (see 0/1/response#0)",
    ),
];

/// The analyzer for a case: h2 inside TLS is decrypted with the capture's key log.
fn analyzer_for(corpus: &Corpus, name: &str, input: Input) -> Option<Analyzer<Rows>> {
    let mut config = AnalyzerConfig::with_http(HttpConfig::default().with_decode_content(true));
    if input == Input::Tls {
        let path = corpus.keys_path(name)?;
        let mut keys = KeyLog::new();
        let warnings = keys.add(&std::fs::read(path).expect("key log reads"));
        assert!(warnings.is_empty(), "{name}: {warnings:?}");
        let keys: Arc<dyn KeyLookup> = Arc::new(keys);
        config.tls = Some(TlsConfig::default());
        config.keys = Some(keys);
    }
    Some(Analyzer::new(config))
}

/// One header block, in the oracle's columns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Block {
    method: String,
    path: String,
    authority: String,
    scheme: String,
    status: String,
    content_type: String,
    content_encoding: String,
    end_stream: String,
    push_parent_stream: String,
    header_count: String,
}

/// What one stream showed.
#[derive(Debug, Default)]
struct StreamRows {
    blocks: Vec<(String, Block)>,
    /// DATA bytes per direction (client, server) and decoded bytes.
    data_len: [Option<u64>; 2],
    decoded_len: [Option<u64>; 2],
    rst: Option<(u32, Direction)>,
    /// Each direction ended (END_STREAM on a HEADERS or DATA frame): tshark's end_stream
    /// column says this of every block of the direction.
    ended: [bool; 2],
    pushed_by: Option<u32>,
    /// Direction of the trailers (0: request trailers).
    trailer_dir: Option<usize>,
}

#[derive(Default)]
struct Rows {
    streams: BTreeMap<(u64, u32), StreamRows>,
    /// (session, stream, kind) -> rows: len, compressed, decoded_len / status, message.
    grpc: BTreeMap<(u64, u32, String), Vec<Vec<String>>>,
}

fn idx(dir: Direction) -> usize {
    match dir {
        Direction::ClientToServer => 0,
        Direction::ServerToClient => 1,
    }
}

fn block(headers: &pcap_http_ws::Headers<'_>) -> Block {
    let get = |n: &str| {
        headers
            .get(n)
            .map(|v| String::from_utf8_lossy(v).into_owned())
            .unwrap_or_default()
    };
    Block {
        method: get(":method"),
        path: get(":path"),
        authority: get(":authority"),
        scheme: get(":scheme"),
        status: get(":status"),
        content_type: get("content-type"),
        content_encoding: get("content-encoding"),
        end_stream: String::new(),
        push_parent_stream: String::new(),
        header_count: headers.len().to_string(),
    }
}

impl Handler for Rows {
    type Error = Infallible;

    fn http(&mut self, stream: &Stream, event: &HttpEvent<'_>) -> ControlFlow<Infallible> {
        let Some(n) = stream.h2_stream else {
            return ControlFlow::Continue(());
        };
        let s = self.streams.entry((stream.id, n)).or_default();
        match event {
            HttpEvent::Request(r) => {
                let mut b = block(&r.headers);
                if let Some(p) = s.pushed_by {
                    b.push_parent_stream = p.to_string();
                    b.end_stream = String::new();
                    s.blocks.push(("push_promise".into(), b));
                } else {
                    s.blocks.push(("request".into(), b));
                }
            }
            HttpEvent::Response(r) => {
                let kind = if r.interim {
                    "informational"
                } else {
                    "response"
                };
                s.blocks.push((kind.into(), block(&r.headers)));
            }
            HttpEvent::Trailers { dir, headers, .. } => {
                s.trailer_dir = Some(idx(*dir));
                s.blocks.push(("trailers".into(), block(headers)));
            }
            HttpEvent::MessageComplete(m) => {
                s.data_len[idx(m.dir)] = Some(m.body_len);
                s.decoded_len[idx(m.dir)] = m.decoded_len;
            }
            _ => {}
        }
        ControlFlow::Continue(())
    }

    fn http2(&mut self, stream: &Stream, event: &Http2Event<'_>) -> ControlFlow<Infallible> {
        let id = stream.id;
        match event {
            Http2Event::Frame { dir, header, .. }
                if matches!(header.kind, FrameType::Headers | FrameType::Data)
                    && header.has(flags::END_STREAM) =>
            {
                let s = self.streams.entry((id, header.stream)).or_default();
                s.ended[idx(*dir)] = true;
            }
            Http2Event::PushPromise {
                stream: parent,
                promised,
                ..
            } => {
                self.streams.entry((id, *promised)).or_default().pushed_by = Some(*parent);
            }
            Http2Event::RstStream {
                stream: n,
                code,
                dir,
                ..
            } => {
                self.streams.entry((id, *n)).or_default().rst = Some((*code, *dir));
            }
            Http2Event::GrpcMessage(m) => {
                let kind = match m.dir {
                    Direction::ClientToServer => "request",
                    Direction::ServerToClient => "response",
                };
                let decoded = m.decoded.map_or(
                    if m.compressed {
                        String::new()
                    } else {
                        m.len.to_string()
                    },
                    |d| d.len().to_string(),
                );
                self.grpc
                    .entry((id, m.stream, kind.into()))
                    .or_default()
                    .push(vec![
                        m.path.to_owned(),
                        m.len.to_string(),
                        u8::from(m.compressed).to_string(),
                        decoded,
                    ]);
            }
            Http2Event::GrpcStatus(g) => {
                self.grpc
                    .entry((id, g.stream, "status".into()))
                    .or_default()
                    .push(vec![
                        g.path.to_owned(),
                        g.status.map(|s| s.to_string()).unwrap_or_default(),
                        g.message
                            .as_ref()
                            .map(|m| String::from_utf8_lossy(m).into_owned())
                            .unwrap_or_default(),
                    ]);
            }
            _ => {}
        }
        ControlFlow::Continue(())
    }
}

/// Compares one capture; returns (rows matched, rows checked, differences).
fn check(corpus: &Corpus, name: &str, rows: &Rows) -> (usize, usize, Vec<String>) {
    let mut diffs = Vec::new();
    let (mut matched, mut checked) = (0, 0);
    let allowed = |key: &str| ALLOWED.iter().any(|(c, k, _)| *c == name && *k == key);
    // Header blocks, keyed session/stream/kind#n.
    let mut want: BTreeMap<String, BTreeMap<&str, String>> = BTreeMap::new();
    let mut nth: BTreeMap<String, usize> = BTreeMap::new();
    let tsv = corpus.oracle_tsv(name, "http2.tsv").expect("http2.tsv");
    for r in tsv.rows() {
        let base = format!(
            "{}/{}/{}",
            r.get("tcp.stream"),
            r.get("http2.streamid"),
            r.get("kind")
        );
        let n = nth.entry(base.clone()).or_default();
        let key = format!("{base}#{n}");
        *n += 1;
        let cols = [
            "method",
            "path",
            "authority",
            "scheme",
            "status",
            "content_type",
            "content_encoding",
            "data_len",
            "decoded_len",
            "end_stream",
            "rst_stream_error",
            "rst_by",
            "push_parent_stream",
            "header_count",
        ];
        want.insert(
            key,
            cols.iter().map(|c| (*c, r.get(c).to_owned())).collect(),
        );
    }
    let mut got: BTreeMap<String, BTreeMap<&str, String>> = BTreeMap::new();
    for (&(session, stream), s) in &rows.streams {
        let mut nth: BTreeMap<&str, usize> = BTreeMap::new();
        for (kind, b) in &s.blocks {
            let n = nth.entry(kind).or_default();
            let key = format!("{session}/{stream}/{kind}#{n}");
            *n += 1;
            let dir = match kind.as_str() {
                "request" | "push_promise" => 0,
                "trailers" if b.status.is_empty() && s.trailer_dir == Some(0) => 0,
                _ => 1,
            };
            let data = match kind.as_str() {
                "request" | "response" => s.data_len[dir].map(|l| l.to_string()),
                _ => None,
            };
            let end = match kind.as_str() {
                "push_promise" => "",
                _ if s.ended[dir] => "1",
                _ => "0",
            };
            let decoded = match kind.as_str() {
                "request" | "response" => s.decoded_len[dir].map(|l| l.to_string()),
                _ => None,
            };
            let (rst, by) = match s.rst {
                Some((code, d)) => (
                    code.to_string(),
                    if d == Direction::ClientToServer {
                        "client"
                    } else {
                        "server"
                    }
                    .to_owned(),
                ),
                None => (String::new(), String::new()),
            };
            let m: BTreeMap<&str, String> = [
                ("method", b.method.clone()),
                ("path", b.path.clone()),
                ("authority", b.authority.clone()),
                ("scheme", b.scheme.clone()),
                ("status", b.status.clone()),
                ("content_type", b.content_type.clone()),
                ("content_encoding", b.content_encoding.clone()),
                ("data_len", data.unwrap_or_default()),
                ("decoded_len", decoded.unwrap_or_default()),
                ("end_stream", end.to_owned()),
                ("rst_stream_error", rst),
                ("rst_by", by),
                ("push_parent_stream", b.push_parent_stream.clone()),
                ("header_count", b.header_count.clone()),
            ]
            .into_iter()
            .collect();
            got.insert(key, m);
        }
    }
    for (key, w) in &want {
        checked += 1;
        let Some(g) = got.get(key) else {
            if !allowed(key) {
                diffs.push(format!("{name}: {key}: missing"));
            }
            continue;
        };
        let mut ok = true;
        for (col, wv) in w {
            let gv = g.get(col).cloned().unwrap_or_default();
            // tshark leaves data_len of a direction without DATA empty or 0, and decoded_len
            // empty when it did not decode: an empty oracle cell is not checked for those.
            let lenient =
                matches!(*col, "data_len" | "decoded_len" | "end_stream") && wv.is_empty();
            if *wv != gv && !lenient && !allowed(key) {
                ok = false;
                diffs.push(format!(
                    "{name}: {key}: {col}: oracle {wv:?}, analyzer {gv:?}"
                ));
            }
        }
        if ok {
            matched += 1;
        }
    }
    for key in got.keys().filter(|k| !want.contains_key(*k)) {
        if !allowed(key) {
            diffs.push(format!("{name}: {key}: not in the oracle"));
        }
    }
    // gRPC.
    if let Some(tsv) = corpus.oracle_tsv(name, "grpc.tsv") {
        let mut want: BTreeMap<(u64, u32, String), Vec<Vec<String>>> = BTreeMap::new();
        for r in tsv.rows() {
            let key = (
                r.get("tcp.stream").parse().unwrap(),
                r.get("http2.streamid").parse().unwrap(),
                r.get("kind").to_owned(),
            );
            let row = if r.get("kind") == "status" {
                vec![
                    r.get("grpc_path").into(),
                    r.get("grpc_status").into(),
                    r.get("grpc_message").into(),
                ]
            } else {
                vec![
                    r.get("grpc_path").into(),
                    r.get("message_length").into(),
                    r.get("compressed_flag").into(),
                    r.get("decoded_len").into(),
                ]
            };
            want.entry(key).or_default().push(row);
        }
        let grpc_allowed =
            |k: &(u64, u32, String)| allowed(&format!("grpc {}/{}/{}", k.0, k.1, k.2));
        for (key, w) in &want {
            let g = rows.grpc.get(key).cloned().unwrap_or_default();
            for (i, wrow) in w.iter().enumerate() {
                checked += 1;
                match g.get(i) {
                    Some(grow) if grow == wrow => matched += 1,
                    other => diffs.push(format!(
                        "{name}: grpc {key:?}#{i}: oracle {wrow:?}, analyzer {other:?}"
                    )),
                }
            }
            if g.len() > w.len() {
                diffs.push(format!(
                    "{name}: grpc {key:?}: {} more messages than the oracle",
                    g.len() - w.len()
                ));
            }
        }
        for key in rows
            .grpc
            .keys()
            .filter(|k| !want.contains_key(*k) && !grpc_allowed(k))
        {
            diffs.push(format!("{name}: grpc {key:?}: not in the oracle"));
        }
    }
    (matched, checked, diffs)
}

#[test]
fn http2_and_grpc_match_tshark() {
    let Some(corpus) = pcap_testkit::corpus_tls("http2_and_grpc_match_tshark") else {
        return;
    };
    let mut all = Vec::new();
    let (mut matched, mut checked) = (0, 0);
    for &(name, input) in CASES {
        let Some(mut analyzer) = analyzer_for(&corpus, name, input) else {
            panic!("{name}: no key log in the TLS corpus");
        };
        let mut source = Source::open_file(corpus.capture_path(name)).expect("capture opens");
        let mut rows = Rows::default();
        analyzer.run(&mut source, &mut rows).expect("run");
        let (m, c, diffs) = check(&corpus, name, &rows);
        eprintln!("{name}: {m}/{c} oracle rows match");
        matched += m;
        checked += c;
        all.extend(diffs);
    }
    eprintln!("total: {matched}/{checked} oracle rows (header blocks and gRPC) match");
    assert!(
        all.is_empty(),
        "differences from tshark:\n{}",
        all.join("\n")
    );
}
