//! Differential test over the shared corpus: capture -> decode -> reassembly -> http-ws, against
//! tshark's `http.tsv` (method, URI, host, status, decoded body length) and `websocket.tsv`
//! (opcode, payload length, text) for every capture. Rows are compared per capture as
//! multisets (tshark orders rows by the frame that completed each message; we do not).
//! Mismatches fail the test unless the capture is listed with a reason in `corpus_allow.tsv`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::fmt::Write as _;

use pcap_capture::FileReader;
use pcap_decode::decode_packet;
use pcap_http_ws::{Direction, HttpConfig, HttpEvent, HttpSession, WsPayload};
use pcap_tcp_reassembly::{Config, EventKind, Reassembler, Segment};

#[derive(Default)]
struct Rows {
    http: Vec<String>,
    ws: Vec<String>,
}

/// Per-session head fields awaiting their message's completion.
#[derive(Default)]
struct Pending {
    req: Option<String>,
    resp_status: Option<u16>,
    /// tshark writes an empty chunked body as `0` and other empty bodies as nothing.
    resp_chunked: bool,
    last_frame: [Option<usize>; 2],
}

fn body_len(n: u64) -> String {
    if n == 0 { String::new() } else { n.to_string() }
}

/// tshark's text column: `\\ \t \n \r` escaped, truncated to 200 characters.
fn ws_text(t: &str) -> String {
    let mut out = String::new();
    for ch in t.chars().take(200) {
        match ch {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    out
}

fn on_http(s: &mut Pending, rows: &mut Rows, ev: HttpEvent<'_>) {
    match ev {
        HttpEvent::Request(r) => {
            let host = r
                .headers
                .get("host")
                .map(|h| String::from_utf8_lossy(h).into_owned())
                .unwrap_or_default();
            // The oracle's URI column holds at most 200 characters.
            let uri: String = r.uri.chars().take(200).collect();
            s.req = Some(format!("request\t{}\t{uri}\t{host}", r.method));
        }
        HttpEvent::Response(r) if r.interim => rows.http.push(format!("response\t{}\t", r.status)),
        HttpEvent::Response(r) => {
            s.resp_status = Some(r.status);
            s.resp_chunked = r
                .headers
                .get("transfer-encoding")
                .is_some_and(|v| v.to_ascii_lowercase().windows(7).any(|w| w == b"chunked"));
        }
        // tshark reports a message only once its body is complete.
        HttpEvent::MessageComplete(m) if !m.complete => {
            s.req = None;
            s.resp_status = None;
        }
        HttpEvent::MessageComplete(m) => {
            let len = body_len(m.decoded_len.unwrap_or(m.body_len));
            match m.dir {
                Direction::ClientToServer => {
                    if let Some(req) = s.req.take() {
                        rows.http.push(format!("{req}\t{len}"));
                    }
                }
                Direction::ServerToClient => {
                    if let Some(st) = s.resp_status.take() {
                        let len = if len.is_empty() && s.resp_chunked {
                            "0".to_owned()
                        } else {
                            len
                        };
                        rows.http.push(format!("response\t{st}\t{len}"));
                    }
                }
            }
        }
        HttpEvent::WsFrame(f) => {
            let i = usize::from(f.dir == Direction::ServerToClient);
            s.last_frame[i] = Some(rows.ws.len());
            rows.ws.push(format!("{}\t{}\t", f.opcode, f.payload_len));
        }
        HttpEvent::WsMessage(m) => {
            let i = usize::from(m.dir == Direction::ServerToClient);
            if let (WsPayload::Text(t), 1, Some(at)) = (m.payload, m.frames, s.last_frame[i]) {
                if let Some(row) = rows.ws.get_mut(at) {
                    row.push_str(&ws_text(t));
                }
            }
        }
        _ => {}
    }
}

/// Runs a capture file through capture -> decode -> reassembly -> one HttpSession per TCP
/// session, handing every event to `on` with that session's state `S` and the shared `out`.
fn pipeline<S: Default, O>(
    path: &std::path::Path,
    out: &mut O,
    on: impl Fn(&mut S, &mut O, HttpEvent<'_>) + Copy,
) {
    let Ok(mut reader) = FileReader::open(path) else {
        return;
    };
    let mut reasm = Reassembler::new(Config::default());
    let mut sessions: HashMap<u64, (HttpSession, S)> = HashMap::new();
    let cfg = HttpConfig::default().with_decode_content(true);
    let handle = |e: pcap_tcp_reassembly::Event<'_>,
                  sessions: &mut HashMap<u64, (HttpSession, S)>,
                  out: &mut O| {
        let ts = e.ts_ns;
        if e.kind.ended().is_some() {
            if let Some((mut http, mut st)) = sessions.remove(&e.session) {
                http.end(None, ts, &mut |ev| on(&mut st, out, ev));
            }
            return;
        }
        let (http, st) = sessions
            .entry(e.session)
            .or_insert_with(|| (HttpSession::new(cfg.clone()), S::default()));
        match e.kind {
            EventKind::Data { dir, bytes, .. } => {
                http.data(dir, ts, bytes, &mut |ev| on(st, out, ev))
            }
            EventKind::Gap { dir, len, .. } => http.gap(dir, ts, len, &mut |ev| on(st, out, ev)),
            EventKind::Fin { dir, .. } => http.end(Some(dir), ts, &mut |ev| on(st, out, ev)),
            _ => {}
        }
    };
    while let Ok(Some(pkt)) = reader.next_packet() {
        let d = decode_packet(pkt.link_type, pkt.data);
        let (Some(tcp), Some(src), Some(dst)) = (d.tcp(), d.src_ip(), d.dst_ip()) else {
            continue;
        };
        if d.fragment().is_some_and(|f| f.offset > 0 || f.more) {
            continue;
        }
        let seg = Segment {
            ts_ns: pkt.ts_ns,
            src,
            dst,
            src_port: tcp.src_port(),
            dst_port: tcp.dst_port(),
            seq: tcp.seq(),
            ack: tcp.ack(),
            flags: tcp.flags(),
            window: tcp.window(),
            wscale: None,
            payload: d.payload,
            orig_payload_len: None,
            tunnel: 0,
        };
        reasm.push(&seg, &mut |e| handle(e, &mut sessions, out));
    }
    reasm.finish(&mut |e| handle(e, &mut sessions, out));
}

fn decode_capture(path: &std::path::Path) -> Rows {
    let mut rows = Rows::default();
    pipeline::<Pending, Rows>(path, &mut rows, on_http);
    rows
}

/// The in-repo sample capture (no corpus needed): every transaction of `.tx.tsv` (method,
/// host, URI, status, wire and decoded body sizes) and the WebSocket totals of `.truth.json`.
#[test]
fn sample_capture_matches_its_truth() {
    #[derive(Default)]
    struct Out {
        txs: Vec<String>,
        ws_messages: [u64; 2],
        ws_bytes: [u64; 2],
        ws_frames: usize,
        close_frames: usize,
        errors: Vec<String>,
    }
    fn on(col: &mut pcap_http_ws::TransactionCollector, out: &mut Out, ev: HttpEvent<'_>) {
        match &ev {
            HttpEvent::WsMessage(m) => {
                let i = usize::from(m.dir == Direction::ServerToClient);
                out.ws_messages[i] += 1;
                out.ws_bytes[i] += match m.payload {
                    WsPayload::Text(t) => t.len() as u64,
                    WsPayload::Binary(b) => b.len() as u64,
                };
            }
            HttpEvent::WsFrame(f) => {
                out.ws_frames += 1;
                out.close_frames += usize::from(f.opcode == 8);
            }
            HttpEvent::Error(e) => out.errors.push(e.to_string()),
            _ => {}
        }
        col.push(&ev, |v| {
            let t = pcap_http_ws::Transaction::from(v);
            out.txs.push(format!(
                "{}\t{}\t{}\t{}\t{}\t{}",
                t.method.unwrap_or_default(),
                t.host.unwrap_or_default(),
                t.uri.unwrap_or_default(),
                t.status.unwrap_or_default(),
                t.record.response_wire_len,
                t.record
                    .response_decoded_len
                    .unwrap_or(t.record.response_body_len)
            ));
        });
    }
    let path = pcap_testkit::test_data("sample-http-ws.pcap");
    let mut out = Out::default();
    pipeline::<pcap_http_ws::TransactionCollector, Out>(&path, &mut out, on);
    let truth =
        std::fs::read_to_string(pcap_testkit::test_data("sample-http-ws.pcap.tx.tsv")).unwrap();
    let mut want: Vec<String> = truth
        .lines()
        .skip(1)
        .map(|l| l.split('\t').skip(1).collect::<Vec<_>>().join("\t"))
        .collect();
    let mut got = out.txs.clone();
    want.sort();
    got.sort();
    assert_eq!(got, want);
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    // truth.json: websocket messages_c2s 7 / s2c 20, payload bytes 2538 / 14800, close frames 4,
    // 9 + 22 data frames + 3 ping + 3 pong + 4 close.
    assert_eq!(out.ws_messages, [7, 20]);
    assert_eq!(out.ws_bytes, [2538, 14800]);
    assert_eq!(out.close_frames, 4);
    assert_eq!(out.ws_frames, 9 + 22 + 3 + 3 + 4);
}

/// Oracle rows in our row format.
fn oracle_rows(corpus: &pcap_testkit::Corpus, name: &str) -> Rows {
    let mut rows = Rows::default();
    if let Some(tsv) = corpus.oracle_tsv(name, "http.tsv") {
        for r in tsv.rows() {
            let row = match r.get("kind") {
                "request" => format!(
                    "request\t{}\t{}\t{}\t{}",
                    r.get("http.request.method"),
                    r.get("http.request.uri"),
                    r.get("http.host"),
                    r.get("body_len")
                ),
                _ => format!(
                    "response\t{}\t{}",
                    r.get("http.response.code"),
                    r.get("body_len")
                ),
            };
            rows.http.push(row);
        }
    }
    if let Some(tsv) = corpus.oracle_tsv(name, "websocket.tsv") {
        for r in tsv.rows() {
            rows.ws.push(format!(
                "{}\t{}\t{}",
                r.get("websocket.opcode"),
                r.get("websocket.payload_length"),
                r.get("text")
            ));
        }
    }
    rows
}

/// Rows only in `ours` and rows only in `truth` (multiset difference).
fn diff(ours: &[String], truth: &[String]) -> (Vec<String>, Vec<String>) {
    let mut count: HashMap<&str, i64> = HashMap::new();
    for r in truth {
        *count.entry(r).or_default() += 1;
    }
    let mut extra = Vec::new();
    for r in ours {
        match count.get_mut(r.as_str()) {
            Some(n) if *n > 0 => *n -= 1,
            _ => extra.push(r.clone()),
        }
    }
    let mut missing = Vec::new();
    for (r, n) in count {
        for _ in 0..n {
            missing.push(r.to_owned());
        }
    }
    missing.sort();
    (extra, missing)
}

#[test]
fn corpus_http_and_websocket_agree_with_tshark() {
    let Some(corpus) = pcap_testkit::corpus("corpus_http_and_websocket_agree_with_tshark") else {
        return;
    };
    let allow_text = include_str!("corpus_allow.tsv");
    let allow: HashMap<&str, &str> = allow_text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| l.split_once('\t'))
        .collect();
    let (mut compared, mut mismatched, mut allowed) = ([0usize; 2], [0usize; 2], [0usize; 2]);
    let mut report = String::new();
    let mut failing = Vec::new();
    for name in corpus.captures() {
        let ours = decode_capture(&corpus.capture_path(&name));
        let truth = oracle_rows(&corpus, &name);
        if std::env::var("HTTPWS_CORPUS_DEBUG").is_ok_and(|v| v == name) {
            eprintln!("ours:\n{}\n{}", ours.http.join("\n"), ours.ws.join("\n"));
        }
        for (k, (o, t)) in [(&ours.http, &truth.http), (&ours.ws, &truth.ws)]
            .into_iter()
            .enumerate()
        {
            compared[k] += t.len();
            let (extra, missing) = diff(o, t);
            let n = extra.len().max(missing.len());
            if n == 0 {
                continue;
            }
            let kind = ["http", "websocket"][k];
            if allow.contains_key(name.as_str()) {
                allowed[k] += n;
                let _ = writeln!(
                    report,
                    "ALLOWED {name} {kind}: {n} ({})",
                    allow[name.as_str()]
                );
                continue;
            }
            mismatched[k] += n;
            failing.push(name.clone());
            let _ = writeln!(
                report,
                "MISMATCH {name} {kind}: {} extra, {} missing",
                extra.len(),
                missing.len()
            );
            for r in extra.iter().take(8) {
                let _ = writeln!(report, "   ours only : {r:?}");
            }
            for r in missing.iter().take(8) {
                let _ = writeln!(report, "   tshark only: {r:?}");
            }
        }
    }
    eprintln!("{report}");
    eprintln!(
        "corpus http-ws: http rows compared {} mismatched {} allowed {}; websocket frames compared {} mismatched {} allowed {}",
        compared[0], mismatched[0], allowed[0], compared[1], mismatched[1], allowed[1]
    );
    assert!(
        failing.is_empty(),
        "captures with unexplained mismatches: {failing:?}"
    );
}
