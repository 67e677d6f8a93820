//! Byte-exact client/server exchanges, one per HTTP/WebSocket rule, checked line by line and
//! re-fed in random chunkings (proptest): the events must not depend on segment boundaries.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::Write as _;

use common::*;
use pcap_http_ws::HttpConfig;
use proptest::prelude::*;

fn decoding() -> HttpConfig {
    HttpConfig::default().with_decode_content(true)
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn zlib(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn raw_deflate(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn brotli(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut w = brotli::CompressorWriter::new(&mut out, 4096, 5, 22);
        w.write_all(data).unwrap();
    }
    out
}

fn response_with(encoding: &str, body: &[u8]) -> Vec<u8> {
    let mut r = format!(
        "HTTP/1.1 200 OK\r\nContent-Encoding: {encoding}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    r.extend_from_slice(body);
    r
}

/// Every transcript by name, for the chunking property.
fn cases() -> Vec<(&'static str, HttpConfig, Vec<Step>)> {
    let d = HttpConfig::default();
    let text = b"hello hello hello hello, compressible text body\n".repeat(20);
    let mut v = vec![
        ("get_keepalive_x3", d.clone(), get_keepalive_x3()),
        ("post_content_length", d.clone(), post_content_length()),
        ("chunked_trailers", d.clone(), chunked_trailers()),
        ("head_with_length", d.clone(), head_with_length()),
        ("no_content_204", d.clone(), no_content_204()),
        ("not_modified_304", d.clone(), not_modified_304()),
        ("expect_continue", d.clone(), expect_continue()),
        ("pipelined_3", d.clone(), pipelined_3()),
        ("connect_tunnel", d.clone(), connect_tunnel()),
        ("close_delimited", d.clone(), close_delimited()),
        ("gap_resync", d.clone(), gap_resync()),
        ("ws_masked_text", d.clone(), ws_masked_text()),
        ("ws_fragmented_ping", d.clone(), ws_fragmented_ping()),
        ("ws_close", d.clone(), ws_close()),
        ("ws_deflate_takeover", d.clone(), ws_deflate(true)),
        ("ws_deflate_no_takeover", d.clone(), ws_deflate(false)),
        (
            "ws_bad_accept",
            d.clone(),
            ws_handshake(None, "AAAAAAAAAAAAAAAAAAAAAAAAAAA="),
        ),
        ("ws_unmasked_client", d.clone(), ws_unmasked_client()),
        ("not_http", d.clone(), not_http()),
        ("http09_simple", d.clone(), http09_simple()),
        ("http09_then_close", d.clone(), http09_then_close()),
    ];
    for enc in ["gzip", "x-gzip", "deflate-zlib", "deflate-raw", "br"] {
        let body = match enc {
            "gzip" | "x-gzip" => gzip(&text),
            "deflate-zlib" => zlib(&text),
            "deflate-raw" => raw_deflate(&text),
            _ => brotli(&text),
        };
        let header = enc
            .trim_start_matches("deflate-")
            .replace("zlib", "deflate")
            .replace("raw", "deflate");
        v.push((
            "content_coding",
            decoding(),
            vec![
                c("GET /z HTTP/1.1\r\nHost: h\r\n\r\n"),
                s(response_with(&header, &body)),
            ],
        ));
    }
    v
}

fn get_keepalive_x3() -> Vec<Step> {
    let mut v = Vec::new();
    for i in 1..=3 {
        v.push(c(format!(
            "GET /page{i} HTTP/1.1\r\nHost: example.com\r\nUser-Agent: t/1\r\n\r\n"
        )));
        v.push(s(format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {i}\r\n\r\n{}",
            "x".repeat(i)
        )));
    }
    v.push(Step::End(None));
    v
}

#[test]
fn get_keepalive_three_transactions() {
    let lines = check(&HttpConfig::default(), &get_keepalive_x3());
    assert_eq!(
        lines,
        [
            "req #0 GET /page1 1.1 ts=0 [Host=example.com;User-Agent=t/1]",
            "done c2s len=0 dec=None",
            "resp 200 OK 1.1 ts=1 [Content-Length=1]",
            "body s2c raw x",
            "done s2c len=1 dec=None",
            "tx #0 status=Some(200) req=Some(0)..Some(0) resp=Some(1)..Some(1) sizes=59/0/None 38/1/None complete=true",
            "req #1 GET /page2 1.1 ts=2 [Host=example.com;User-Agent=t/1]",
            "done c2s len=0 dec=None",
            "resp 200 OK 1.1 ts=3 [Content-Length=2]",
            "body s2c raw xx",
            "done s2c len=2 dec=None",
            "tx #1 status=Some(200) req=Some(2)..Some(2) resp=Some(3)..Some(3) sizes=59/0/None 38/2/None complete=true",
            "req #2 GET /page3 1.1 ts=4 [Host=example.com;User-Agent=t/1]",
            "done c2s len=0 dec=None",
            "resp 200 OK 1.1 ts=5 [Content-Length=3]",
            "body s2c raw xxx",
            "done s2c len=3 dec=None",
            "tx #2 status=Some(200) req=Some(4)..Some(4) resp=Some(5)..Some(5) sizes=59/0/None 38/3/None complete=true",
        ]
    );
}

/// Runs whole and byte by byte; both must give the same lines.
fn check(cfg: &HttpConfig, steps: &[Step]) -> Vec<String> {
    let whole = run(cfg, steps);
    let bytewise = run_bytewise(cfg, steps);
    assert_eq!(whole, bytewise, "chunking changed the events");
    whole
}

fn post_content_length() -> Vec<Step> {
    vec![
        c(
            "POST /form HTTP/1.1\r\nHost: h\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 11\r\n\r\n",
        ),
        c("a=1&b=2&c=3"),
        s("HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n"),
    ]
}

#[test]
fn post_with_content_length() {
    let lines = check(&HttpConfig::default(), &post_content_length());
    assert_eq!(
        lines,
        [
            "req #0 POST /form 1.1 ts=0 [Host=h;Content-Type=application/x-www-form-urlencoded;Content-Length=11]",
            "body c2s raw a=1&b=2&c=3",
            "done c2s len=11 dec=None",
            "resp 201 Created 1.1 ts=2 [Content-Length=0]",
            "done s2c len=0 dec=None",
            "tx #0 status=Some(201) req=Some(0)..Some(1) resp=Some(2)..Some(2) sizes=101/11/None 43/0/None complete=true",
        ]
    );
}

fn chunked_trailers() -> Vec<Step> {
    vec![
        c("GET /c HTTP/1.1\r\nHost: h\r\nTE: trailers\r\n\r\n"),
        s("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: Expires\r\n\r\n"),
        s(
            "7;ext=1\r\nMozilla\r\n9\r\nDeveloper\r\n7\r\nNetwork\r\n0\r\nExpires: Wed, 21 Oct 2015 07:28:00 GMT\r\n\r\n",
        ),
        c("GET /d HTTP/1.1\r\nHost: h\r\n\r\n"),
        s(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1A\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\n\r\n",
        ),
    ]
}

fn head_with_length() -> Vec<Step> {
    vec![
        c("HEAD /big HTTP/1.1\r\nHost: h\r\n\r\n"),
        s("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"),
        c("GET /small HTTP/1.1\r\nHost: h\r\n\r\n"),
        s("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"),
    ]
}

fn no_content_204() -> Vec<Step> {
    vec![
        c("DELETE /x HTTP/1.1\r\nHost: h\r\n\r\n"),
        s("HTTP/1.1 204 No Content\r\n\r\n"),
        c("GET /y HTTP/1.1\r\nHost: h\r\n\r\n"),
        s("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\ny"),
    ]
}

fn not_modified_304() -> Vec<Step> {
    vec![
        c("GET /x HTTP/1.1\r\nHost: h\r\nIf-None-Match: \"abc\"\r\n\r\n"),
        s("HTTP/1.1 304 Not Modified\r\nETag: \"abc\"\r\nContent-Length: 500\r\n\r\n"),
        c("GET /y HTTP/1.1\r\nHost: h\r\n\r\n"),
        s("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\ny"),
    ]
}

fn expect_continue() -> Vec<Step> {
    vec![
        c("PUT /up HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n"),
        s("HTTP/1.1 100 Continue\r\n\r\n"),
        c("12345"),
        s("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
    ]
}

fn pipelined_3() -> Vec<Step> {
    vec![
        c(
            "GET /1 HTTP/1.1\r\nHost: h\r\n\r\nHEAD /2 HTTP/1.1\r\nHost: h\r\n\r\nGET /3 HTTP/1.1\r\nHost: h\r\n\r\n",
        ),
        s(
            "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\naHTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\nHTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n\r\nnop",
        ),
    ]
}

fn connect_tunnel() -> Vec<Step> {
    vec![
        c("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n"),
        s("HTTP/1.1 200 Connection Established\r\n\r\n"),
        c(b"\x16\x03\x01\x00\x05hello"),
        s(b"\x16\x03\x03\x00\x02hi"),
    ]
}

fn close_delimited() -> Vec<Step> {
    vec![
        c("GET /old HTTP/1.0\r\n\r\n"),
        s("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil "),
        s("the end"),
        Step::End(Some(S)),
        Step::End(Some(C)),
    ]
}

/// RFC 1945 section 4.1: a simple request (no version, no headers) and its response, a
/// bare body that the close ends.
fn http09_simple() -> Vec<Step> {
    vec![
        c("GET /old/index.html\r\n"),
        s("<html>HTTP/0.9 "),
        s("page</html>\n"),
        Step::End(Some(S)),
        Step::End(Some(C)),
    ]
}

/// A simple request answered by nothing: the transaction has no response.
fn http09_then_close() -> Vec<Step> {
    vec![c("GET /\n"), Step::End(None)]
}

fn gap_resync() -> Vec<Step> {
    vec![
        c("GET /a HTTP/1.1\r\nHost: h\r\n\r\n"),
        s("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n0123"),
        Step::Gap(S, 100),
        s("56789\r\n0\r\n\r\n"),
        c("GET /b HTTP/1.1\r\nHost: h\r\n\r\n"),
        s("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"),
        // A lost piece inside a Content-Length body is skipped without losing framing.
        c("GET /c HTTP/1.1\r\nHost: h\r\n\r\n"),
        s("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n01"),
        Step::Gap(S, 5),
        s("789"),
    ]
}

fn ws_masked_text() -> Vec<Step> {
    let mut v = ws_handshake(None, GOOD_ACCEPT);
    // RFC 6455 5.7: a masked "Hello" from the client, unmasked "Hello" from the server.
    v.push(c(b"\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58"));
    v.push(s(b"\x81\x05\x48\x65\x6c\x6c\x6f"));
    // 16-bit and 64-bit lengths.
    v.push(s(frame(true, false, 2, None, &[7u8; 300])));
    v.push(c(frame(true, false, 2, Some([1, 2, 3, 4]), &[9u8; 70_000])));
    v
}

fn ws_fragmented_ping() -> Vec<Step> {
    let mut v = ws_handshake(None, GOOD_ACCEPT);
    // RFC 6455 5.7: "Hel" + "lo" with a ping between the fragments.
    v.push(s(b"\x01\x03\x48\x65\x6c"));
    v.push(s(b"\x89\x05\x48\x65\x6c\x6c\x6f"));
    v.push(s(b"\x80\x02\x6c\x6f"));
    v.push(c(frame(true, false, 0xa, Some([9, 8, 7, 6]), b"Hello")));
    // A multi-byte character split across fragments is still valid UTF-8.
    let euro = "€".as_bytes();
    v.push(c(frame(false, false, 1, Some([1, 1, 1, 1]), &euro[..1])));
    v.push(c(frame(true, false, 0, Some([2, 2, 2, 2]), &euro[1..])));
    v
}

fn ws_close() -> Vec<Step> {
    let mut v = ws_handshake(None, GOOD_ACCEPT);
    let mut p = 1000u16.to_be_bytes().to_vec();
    p.extend_from_slice(b"bye now");
    v.push(c(frame(true, false, 8, Some([0xa, 0xb, 0xc, 0xd]), &p)));
    v.push(s(frame(true, false, 8, None, &1000u16.to_be_bytes())));
    v.push(Step::End(None));
    v
}

fn ws_deflate(takeover: bool) -> Vec<Step> {
    let ext = if takeover {
        "permessage-deflate; client_max_window_bits=15"
    } else {
        "permessage-deflate; server_no_context_takeover; client_no_context_takeover"
    };
    let mut v = ws_handshake(Some(ext), GOOD_ACCEPT);
    // RFC 7692 7.2.3.1/7.2.3.2: "Hello" compressed, then (with takeover) compressed again
    // referring back to the first message.
    let first = b"\xf2\x48\xcd\xc9\xc9\x07\x00";
    v.push(s(frame(true, true, 1, None, first)));
    if takeover {
        v.push(s(frame(true, true, 1, None, b"\xf2\x00\x11\x00\x00")));
    } else {
        v.push(s(frame(true, true, 1, None, first)));
    }
    // Client side, masked, compressed in two fragments (RSV1 on the first only).
    v.push(c(frame(false, true, 1, Some([1, 2, 3, 4]), &first[..3])));
    v.push(c(frame(true, false, 0, Some([5, 6, 7, 8]), &first[3..])));
    v
}

fn ws_unmasked_client() -> Vec<Step> {
    let mut v = ws_handshake(None, GOOD_ACCEPT);
    v.push(c(frame(true, false, 1, None, b"plain")));
    v.push(s(frame(true, false, 1, Some([1, 2, 3, 4]), b"masked")));
    v.push(s(frame(false, false, 9, None, b"frag ping")));
    v.push(s(frame(true, false, 3, None, b"bad op")));
    v.push(s([0xf1, 0x00].as_slice()));
    v.push(c(frame(true, false, 1, Some([1, 2, 3, 4]), b"\xff\xfe")));
    v.push(c(frame(true, false, 0, Some([1, 2, 3, 4]), b"orphan")));
    v
}

fn not_http() -> Vec<Step> {
    vec![
        c(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfcGET / HTTP/1.1\r\n\r\n"),
        s(b"\x16\x03\x03\x00\x5a\x02\x00\x00\x56\x03\x03HTTP/1.1 200 OK\r\n\r\n"),
        c(b"GET / HTTP/1.1\r\n\r\n"),
    ]
}

/// Every case gives the same events whole and byte by byte (run with --nocapture to see them).
#[test]
fn every_case_is_chunking_invariant() {
    for (name, cfg, steps) in cases() {
        let lines = check(&cfg, &steps);
        eprintln!("== {name}: {} events", lines.len());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Any chunking of any transcript gives the same events as feeding steps whole.
    #[test]
    fn chunking_does_not_matter(case in 0usize..24, seed in any::<u64>()) {
        let all = cases();
        let (name, cfg, steps) = &all[case % all.len()];
        let whole = run(cfg, steps);
        let mut state = seed | 1;
        let chunked = run_chunked(cfg, steps, |_, len| {
            let mut cuts = Vec::new();
            for p in 1..len {
                state ^= state << 13; state ^= state >> 7; state ^= state << 17;
                if state % 7 == 0 { cuts.push(p); }
            }
            cuts
        });
        prop_assert_eq!(whole, chunked, "case {}", name);
    }

    /// Arbitrary bytes in both directions, with gaps and ends, never panic.
    #[test]
    fn arbitrary_bytes_never_panic(ops in proptest::collection::vec((0u8..8, proptest::collection::vec(any::<u8>(), 0..200)), 0..20)) {
        let mut steps = vec![c("GET / HTTP/1.1\r\nUpgrade: websocket\r\nSec-WebSocket-Key: x\r\n\r\n"),
                             s("HTTP/1.1 101 OK\r\nUpgrade: websocket\r\n\r\n")];
        let plain = ops.first().is_some_and(|o| o.0 == 0);
        if plain { steps.clear(); }
        for (op, bytes) in ops {
            steps.push(match op {
                0..=2 => c(&bytes),
                3..=5 => s(&bytes),
                6 => Step::Gap(if bytes.len() % 2 == 0 { C } else { S }, bytes.len() as u64),
                _ => Step::End(if bytes.is_empty() { None } else { Some(S) }),
            });
        }
        let _ = run(&decoding(), &steps);
    }
}

/// Lines of `case` (fed whole and byte by byte).
fn lines_of(name: &str) -> Vec<String> {
    let all = cases();
    let (_, cfg, steps) = all
        .iter()
        .find(|(n, _, _)| *n == name)
        .expect("case exists");
    check(cfg, steps)
}

fn assert_has(lines: &[String], want: &[&str]) {
    let mut at = 0;
    for w in want {
        match lines[at..].iter().position(|l| l == w) {
            Some(p) => at += p + 1,
            None => panic!("missing (in order) {w:?} in:\n{}", lines.join("\n")),
        }
    }
}

#[test]
fn chunked_body_with_extension_and_trailers() {
    assert_has(
        &lines_of("chunked_trailers"),
        &[
            "body s2c raw MozillaDeveloperNetwork",
            "trailers s2c [Expires=Wed, 21 Oct 2015 07:28:00 GMT]",
            "done s2c len=23 dec=None",
            "body s2c raw abcdefghijklmnopqrstuvwxyz",
            "done s2c len=26 dec=None",
        ],
    );
}

#[test]
fn head_response_has_no_body_despite_content_length() {
    assert_has(
        &lines_of("head_with_length"),
        &[
            "resp 200 OK 1.1 ts=1 [Content-Length=1000]",
            "done s2c len=0 dec=None",
            "req #1 GET /small 1.1 ts=2 [Host=h]",
            "body s2c raw ok",
        ],
    );
}

#[test]
fn status_204_and_304_have_no_body() {
    assert_has(
        &lines_of("no_content_204"),
        &[
            "resp 204 No Content 1.1 ts=1 []",
            "done s2c len=0 dec=None",
            "body s2c raw y",
        ],
    );
    assert_has(
        &lines_of("not_modified_304"),
        &[
            "resp 304 Not Modified 1.1 ts=1 [ETag=\\\"abc\\\";Content-Length=500]",
            "done s2c len=0 dec=None",
            "body s2c raw y",
        ],
    );
}

#[test]
fn continue_is_interim_and_does_not_end_the_transaction() {
    assert_eq!(
        lines_of("expect_continue"),
        [
            "req #0 PUT /up 1.1 ts=0 [Host=h;Expect=100-continue;Content-Length=5]",
            "resp 100 Continue 1.1 ts=1 interim []",
            "body c2s raw 12345",
            "done c2s len=5 dec=None",
            "resp 200 OK 1.1 ts=3 [Content-Length=0]",
            "done s2c len=0 dec=None",
            "tx #0 status=Some(200) req=Some(0)..Some(2) resp=Some(1)..Some(3) sizes=70/5/None 38/0/None complete=true",
        ]
    );
}

#[test]
fn pipelined_requests_match_responses_in_order() {
    // The second request is HEAD, so its response's Content-Length: 99 frames no body.
    assert_has(
        &lines_of("pipelined_3"),
        &[
            "req #0 GET /1 1.1 ts=0 [Host=h]",
            "req #1 HEAD /2 1.1 ts=0 [Host=h]",
            "req #2 GET /3 1.1 ts=0 [Host=h]",
            "body s2c raw a",
            "tx #0 status=Some(200) req=Some(0)..Some(0) resp=Some(1)..Some(1) sizes=28/0/None 38/1/None complete=true",
            "done s2c len=0 dec=None",
            "tx #1 status=Some(200) req=Some(0)..Some(0) resp=Some(1)..Some(1) sizes=29/0/None 39/0/None complete=true",
            "body s2c raw nop",
            "tx #2 status=Some(404) req=Some(0)..Some(0) resp=Some(1)..Some(1) sizes=28/0/None 45/3/None complete=true",
        ],
    );
}

#[test]
fn connect_2xx_turns_the_connection_into_a_tunnel() {
    assert_has(
        &lines_of("connect_tunnel"),
        &[
            "resp 200 Connection Established 1.1 ts=1 []",
            "tunnel c2s \\x16\\x03\\x01\\x00\\x05hello",
            "tunnel s2c \\x16\\x03\\x03\\x00\\x02hi",
        ],
    );
}

#[test]
fn close_delimited_body_ends_at_fin() {
    assert_has(
        &lines_of("close_delimited"),
        &[
            "body s2c raw until the end",
            "done s2c len=13 dec=None",
            "tx #0 status=Some(200) req=Some(0)..Some(0) resp=Some(1)..Some(3) sizes=21/0/None 45/13/None complete=true",
        ],
    );
}

#[test]
fn http09_simple_request_and_headerless_response() {
    assert_eq!(
        check(&HttpConfig::default(), &http09_simple()),
        [
            "req #0 GET /old/index.html 0.9 ts=0 []",
            "done c2s len=0 dec=None",
            "resp 200  0.9 ts=1 []",
            "body s2c raw <html>HTTP/0.9 page</html>\\n",
            "done s2c len=27 dec=None",
            "tx #0 status=Some(200) req=Some(0)..Some(0) resp=Some(1)..Some(3) sizes=21/0/None 0/27/None complete=true",
        ]
    );
    assert_eq!(
        check(&HttpConfig::default(), &http09_then_close()),
        [
            "req #0 GET / 0.9 ts=0 []",
            "done c2s len=0 dec=None",
            "tx #0 status=None req=Some(0)..Some(0) resp=None..None sizes=6/0/None 0/0/None complete=false",
        ]
    );
}

#[test]
fn http09_needs_a_path_and_no_version() {
    // Not simple requests: a line with a version that is not HTTP/1.x, and a bare word.
    for line in ["GET /a HTTP/0.9\r\n", "GET index\r\n", "GET /a b\r\n"] {
        let lines = check(
            &HttpConfig::default(),
            &[c(line), s("body"), Step::End(None)],
        );
        assert!(
            !lines.iter().any(|l| l.contains(" 0.9 ")),
            "{line:?} taken for HTTP/0.9: {lines:?}"
        );
    }
}

#[test]
fn gap_resyncs_at_next_message_or_skips_inside_known_length() {
    assert_has(
        &lines_of("gap_resync"),
        &[
            "error s2c http stream: 100 bytes not captured",
            "done s2c len=4 dec=None INCOMPLETE",
            "req #1 GET /b 1.1 ts=4 [Host=h]",
            "body s2c raw ok",
            "tx #1 status=Some(200) req=Some(4)..Some(4) resp=Some(5)..Some(5) sizes=28/0/None 38/2/None complete=true",
            "error s2c http stream: 5 bytes not captured",
            "done s2c len=10 dec=None",
        ],
    );
}

#[test]
fn content_codings_decode() {
    let all = cases();
    let mut n = 0;
    for (_, cfg, steps) in all.iter().filter(|(name, _, _)| *name == "content_coding") {
        let lines = check(cfg, steps);
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with("done s2c len=") && l.ends_with("dec=Some(960)")),
            "{lines:?}"
        );
        assert!(lines.iter().any(|l| {
            l.starts_with("body s2c decoded hello hello hello hello, compres...(960 bytes)")
        }));
        n += 1;
    }
    assert_eq!(n, 5);
}

#[test]
fn gzip_bomb_is_capped_and_reported() {
    let zeros = vec![0u8; 4 << 20];
    let bomb = gzip(&zeros);
    assert!(bomb.len() < 10_000);
    let mut cfg = decoding();
    cfg.max_decoded_body = 100_000;
    let steps = vec![
        c("GET /bomb HTTP/1.1\r\nHost: h\r\n\r\n"),
        s(response_with("gzip", &bomb)),
    ];
    let lines = run(&cfg, &steps);
    assert_has(
        &lines,
        &[
            "error s2c http body: decoded size over 100000 bytes, truncated",
            &format!("done s2c len={} dec=Some(100000) truncated", bomb.len()),
        ],
    );
}

#[test]
fn websocket_rfc6455_examples() {
    assert_has(
        &lines_of("ws_masked_text"),
        &[
            "ws upgrade accept=Some(true) pmd=None",
            "frame c2s op=1 fin=true rsv1=false masked=true len=5",
            "msg c2s text frames=1 z=false \"Hello\"",
            "frame s2c op=1 fin=true rsv1=false masked=false len=5",
            "msg s2c text frames=1 z=false \"Hello\"",
            "frame s2c op=2 fin=true rsv1=false masked=false len=300",
            "frame c2s op=2 fin=true rsv1=false masked=true len=70000",
            "msg c2s binary frames=1 z=false \\t\\t\\t\\t\\t\\t\\t\\t\\t\\t\\t\\t\\t\\t\\t\\t\\t\\t\\t\\t\\t\\t\\t\\t\\t\\t\\t\\t\\t\\t\\t\\t...(70000 bytes)",
        ],
    );
}

#[test]
fn websocket_fragments_with_interleaved_ping() {
    assert_has(
        &lines_of("ws_fragmented_ping"),
        &[
            "frame s2c op=1 fin=false rsv1=false masked=false len=3",
            "ping s2c Hello",
            "msg s2c text frames=2 z=false \"Hello\"",
            "pong c2s Hello",
            "msg c2s text frames=2 z=false \"€\"",
        ],
    );
}

#[test]
fn websocket_close_code_and_reason() {
    assert_has(
        &lines_of("ws_close"),
        &[
            "close c2s Some(1000) \"bye now\"",
            "close s2c Some(1000) \"\"",
        ],
    );
}

#[test]
fn permessage_deflate_with_and_without_context_takeover() {
    for name in ["ws_deflate_takeover", "ws_deflate_no_takeover"] {
        let lines = lines_of(name);
        let hellos = lines
            .iter()
            .filter(|l| l.as_str() == "msg s2c text frames=1 z=true \"Hello\"")
            .count();
        assert_eq!(hellos, 2, "{name}: {lines:#?}");
        assert_has(&lines, &["msg c2s text frames=2 z=true \"Hello\""]);
        assert!(
            !lines.iter().any(|l| l.starts_with("error")),
            "{name}: {lines:#?}"
        );
    }
}

#[test]
fn bad_accept_key_is_reported() {
    assert_has(
        &lines_of("ws_bad_accept"),
        &[
            "error s2c websocket handshake: sec-websocket-accept does not match sec-websocket-key",
            "ws upgrade accept=Some(false) pmd=None",
        ],
    );
}

#[test]
fn websocket_rule_violations_are_named() {
    assert_has(
        &lines_of("ws_unmasked_client"),
        &[
            "error c2s websocket frame: unmasked frame from client",
            "msg c2s text frames=1 z=false \"plain\"",
            "error s2c websocket frame: masked frame from server",
            "error s2c websocket frame: fragmented control frame",
            "error s2c websocket frame: invalid opcode 0x3",
            "error s2c websocket frame: reserved bits 0b111 set",
            "error c2s websocket message: invalid utf-8 in text",
            "error c2s websocket frame: continuation frame without a message",
        ],
    );
}

#[test]
fn non_http_stream_is_ignored() {
    assert!(lines_of("not_http").is_empty());
    let mut session = pcap_http_ws::HttpSession::new(HttpConfig::default());
    session.data(C, 0, b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc", &mut |_| {});
    session.data(S, 0, b"SSH-2.0-OpenSSH_9.2\r\n", &mut |_| {});
    assert!(!session.is_active() && !session.is_http());
}

/// A capture picked up mid-stream where the reassembler's "client" is the HTTP server: the
/// session swaps roles so requests are still ClientToServer in events.
#[test]
fn roles_swap_when_the_client_sends_responses() {
    let steps = vec![
        c("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"),
        s("GET /next HTTP/1.1\r\nHost: h\r\n\r\n"),
        c("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"),
    ];
    assert_has(
        &check(&HttpConfig::default(), &steps),
        &[
            "resp 200 OK 1.1 ts=0 [Content-Length=2]",
            "body s2c raw hi",
            "tx #0 status=Some(200) req=None..None resp=Some(0)..Some(0) sizes=0/0/None 38/2/None complete=false",
            "req #1 GET /next 1.1 ts=1 [Host=h]",
            "tx #1 status=Some(404) req=Some(1)..Some(1) resp=Some(2)..Some(2) sizes=31/0/None 45/0/None complete=true",
        ],
    );
}

#[test]
fn too_many_headers_and_long_chunk_size_are_errors() {
    let mut req = String::from("GET /a HTTP/1.1\r\n");
    for i in 0..100 {
        req.push_str(&format!("X-{i}: v\r\n"));
    }
    req.push_str("\r\n");
    let steps = vec![
        c("GET /ok HTTP/1.1\r\nHost: h\r\n\r\n"),
        c(req),
        c("GET /b HTTP/1.1\r\nHost: h\r\n\r\n"),
        s(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n00000000000000001\r\nx\r\n0\r\n\r\n",
        ),
    ];
    let lines = check(&HttpConfig::default(), &steps);
    assert_has(
        &lines,
        &[
            "req #0 GET /ok 1.1 ts=0 [Host=h]",
            "error c2s http head: more than 96 headers",
            "req #1 GET /b 1.1 ts=2 [Host=h]",
            "error s2c http chunked: chunk size longer than 16 hex digits",
            "done s2c len=0 dec=None INCOMPLETE",
        ],
    );
}

#[test]
fn transaction_collector_builds_owned_summaries() {
    let cfg = decoding();
    let mut session = pcap_http_ws::HttpSession::new(cfg);
    let mut col = pcap_http_ws::TransactionCollector::new(Some(5));
    let mut txs = Vec::new();
    let body = gzip(b"hello world");
    let steps = [
        c(
            "POST /p?q=1 HTTP/1.1\r\nHost: example.org\r\nUser-Agent: ua/2\r\nContent-Length: 3\r\n\r\nabc",
        ),
        s(response_with("gzip", &body)),
    ];
    for (i, st) in steps.iter().enumerate() {
        if let Step::Data(dir, b) = st {
            session.data(*dir, i as i64, b, &mut |e| {
                col.push(&e, |t| txs.push(pcap_http_ws::Transaction::from(t)));
            });
        }
    }
    assert_eq!(txs.len(), 1);
    let t = &txs[0];
    assert_eq!(t.method.as_deref(), Some("POST"));
    assert_eq!(t.uri.as_deref(), Some("/p?q=1"));
    assert_eq!(t.host.as_deref(), Some("example.org"));
    assert_eq!(t.user_agent.as_deref(), Some("ua/2"));
    assert_eq!((t.status, t.reason.as_deref()), (Some(200), Some("OK")));
    assert_eq!(t.request_body.as_deref(), Some(b"abc".as_slice()));
    assert_eq!(t.response_body.as_deref(), Some(b"hello".as_slice()));
    assert!(t.body_truncated);
    assert_eq!(t.record.response_decoded_len, Some(11));
    assert_eq!(t.response_headers[0].0, "Content-Encoding");
}

#[test]
fn transaction_collector_keeps_waiting_request_heads_exactly() {
    let mut session = pcap_http_ws::HttpSession::new(HttpConfig::default());
    let mut col = pcap_http_ws::TransactionCollector::new(None);
    let mut txs = Vec::new();
    let steps = [
        c(b"GET /a HTTP/1.1\r\nhost: first\r\nX-Empty:\r\nX-Bin: \xff\xfe\r\nHost: second\r\n\r\n"),
        c("HEAD /b HTTP/1.0\r\n\r\n"),
        s("HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n"),
    ];
    for (i, st) in steps.iter().enumerate() {
        if let Step::Data(dir, b) = st {
            session.data(*dir, i as i64, b, &mut |e| {
                col.push(&e, |t| txs.push(pcap_http_ws::Transaction::from(t)));
            });
        }
    }
    assert_eq!(txs.len(), 2);
    let a = &txs[0];
    assert_eq!(
        (a.method.as_deref(), a.uri.as_deref()),
        (Some("GET"), Some("/a"))
    );
    assert_eq!(a.request_version, Some(1));
    assert_eq!(
        a.host.as_deref(),
        Some("first"),
        "the first Host, case-insensitive"
    );
    assert_eq!(a.user_agent, None);
    let headers: Vec<(&str, &[u8])> = a
        .request_headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_slice()))
        .collect();
    assert_eq!(
        headers,
        [
            ("host", b"first".as_slice()),
            ("X-Empty", b""),
            ("X-Bin", b"\xff\xfe"),
            ("Host", b"second"),
        ]
    );
    let b = &txs[1];
    assert_eq!(
        (b.method.as_deref(), b.uri.as_deref()),
        (Some("HEAD"), Some("/b"))
    );
    assert_eq!((b.request_version, b.status), (Some(0), Some(200)));
    assert!(b.request_headers.is_empty());
}

#[test]
fn websocket_size_caps_are_checked_at_the_header() {
    let mut cfg = HttpConfig::default();
    cfg.ws_max_frame = 1000;
    cfg.ws_max_message = 1500;
    let mut steps = ws_handshake(None, GOOD_ACCEPT);
    steps.push(s(frame(true, false, 2, None, &[1u8; 2000])));
    steps.push(s(frame(false, false, 2, None, &[2u8; 800])));
    steps.push(s(frame(true, false, 0, None, &[3u8; 800])));
    steps.push(s(frame(true, false, 1, None, b"after")));
    steps.push(s(frame(true, false, 9, None, &[0u8; 126])));
    let lines = check(&cfg, &steps);
    assert_has(
        &lines,
        &[
            "frame s2c op=2 fin=true rsv1=false masked=false len=2000",
            "error s2c websocket frame: payload of 2000 bytes over the 1000 byte cap",
            "frame s2c op=0 fin=true rsv1=false masked=false len=800",
            "error s2c websocket message: over the 1500 byte cap",
            "msg s2c text frames=1 z=false \"after\"",
            "error s2c websocket frame: control frame payload of 126 bytes (max 125)",
        ],
    );
    assert!(
        !lines.iter().any(|l| l.starts_with("msg s2c binary")),
        "{lines:#?}"
    );
}

#[test]
fn request_only_stream_closes_old_transactions_at_the_pipeline_cap() {
    let mut cfg = HttpConfig::default();
    cfg.max_pending_requests = 2;
    let steps: Vec<Step> = (0..4)
        .map(|i| c(format!("GET /{i} HTTP/1.1\r\nHost: h\r\n\r\n")))
        .collect();
    let lines = check(&cfg, &steps);
    let errors = lines.iter().filter(|l| l.starts_with("error")).count();
    assert_eq!(errors, 1, "{lines:#?}");
    assert_has(
        &lines,
        &[
            "req #2 GET /2 1.1 ts=2 [Host=h]",
            "error c2s http pipeline: more than 2 requests pending",
            "tx #0 status=None req=Some(0)..Some(0) resp=None..None sizes=28/0/None 0/0/None complete=false",
            "req #3 GET /3 1.1 ts=3 [Host=h]",
            "tx #1 status=None req=Some(1)..Some(1) resp=None..None sizes=28/0/None 0/0/None complete=false",
        ],
    );
}
