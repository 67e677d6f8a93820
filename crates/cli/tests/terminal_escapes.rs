//! Hostile strings off the wire never reach the terminal raw: a hand-built capture whose
//! Host, URI, header values, reason phrase, bodies and DNS name carry terminal control
//! sequences (`ESC ] 0 ; title BEL`, `U+009B 2J`, a bare `\r`, `U+202E`) runs through the
//! text output of every subcommand, and none of it comes out as it went in: it comes out
//! escaped, as `crates/cli/src/render/escape.rs` documents.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::{Command, Output};

use pcap_decode::build::{self, DnsBuilder, FrameSpec, UdpSpec};
use pcap_testkit::h2c::{self, Ports};

const BIN: &str = env!("CARGO_BIN_EXE_pcap-cli");
const SYN: u16 = 0x002;
const ACK: u16 = 0x010;
const PSH_ACK: u16 = 0x018;
const FIN_ACK: u16 = 0x011;

/// The four attacks of issue 19: retitle the window, erase the screen through an 8-bit
/// CSI sent as UTF-8, overwrite the line, and reverse the text that follows.
const OSC_TITLE: &str = "\x1b]0;title\x07";
const CSI_C1: &str = "\u{9b}2J";
const RLO: &str = "\u{202e}";

fn frame(port: u16, from_client: bool, seq: u32, ack: u32, flags: u16, data: &[u8]) -> Vec<u8> {
    h2c::segment(
        Ports {
            client: port,
            server: 80,
        },
        from_client,
        seq,
        ack,
        flags,
        data,
    )
}

/// A whole TCP session on client port `port`: handshake, the request, the response, FINs.
fn session(port: u16, request: &[u8], response: &[u8]) -> Vec<Vec<u8>> {
    let (c, s) = (1001u32, 5001u32);
    let (rq, rs) = (request.len() as u32, response.len() as u32);
    vec![
        frame(port, true, c - 1, 0, SYN, b""),
        frame(port, false, s - 1, c, SYN | ACK, b""),
        frame(port, true, c, s, ACK, b""),
        frame(port, true, c, s, PSH_ACK, request),
        frame(port, false, s, c + rq, PSH_ACK, response),
        frame(port, true, c + rq, s + rs, FIN_ACK, b""),
        frame(port, false, s + rs, c + rq + 1, FIN_ACK, b""),
        frame(port, true, c + rq + 1, s + rs + 1, ACK, b""),
    ]
}

fn hostile_capture(path: &Path) {
    // What the HTTP parser lets through in a head: C1 and bidi characters (UTF-8 is allowed in
    // URIs, header values and reason phrases), not ESC or a bare CR.
    // A body shown as text (a bare CR, a bidi override and NEL are whitespace or printable
    // to the text-or-binary test); the response's (ESC, CSI) is shown as a hex dump.
    let body = format!("first line\rFAKE LINE\n{RLO}gnp.exe\tNEL:\u{85}\n");
    let request = format!(
        "POST /{CSI_C1}/{RLO}gpj.exe HTTP/1.1\r\nHost: evil{CSI_C1}{RLO}.example\r\n\
         X-Note: a\u{9d}0;t\u{9c}b{RLO}c\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let rbody = format!("{OSC_TITLE}{CSI_C1}\r{RLO}\n");
    let response = format!(
        "HTTP/1.1 200 OK{CSI_C1}{RLO}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n{rbody}",
        rbody.len()
    );
    let mut frames = session(40001, request.as_bytes(), response.as_bytes());
    // A head the parser refuses (ESC in the Host), which grep still shows.
    frames.extend(session(
        40002,
        format!("GET / HTTP/1.1\r\nHost: a{OSC_TITLE}b\r\n\r\n").as_bytes(),
        b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n",
    ));
    // A DNS query whose name carries the same bytes.
    let mut dns = DnsBuilder::new(0x1234, 0x0100, [1, 0, 0, 0], false);
    dns.question(
        &[
            OSC_TITLE.as_bytes().to_vec(),
            format!("{CSI_C1}\r{RLO}").into_bytes(),
            b"example".to_vec(),
        ],
        1,
        1,
    );
    let udp = UdpSpec {
        src_port: 5353,
        dst_port: 53,
    };
    frames.push(build::udp_frame(&FrameSpec::default(), &udp, &dns.buf));
    let times = (0..).map(|i| 1_700_000_000_000_000_000 + i * 1000);
    let file = pcap_testkit::ethernet_pcap(times.zip(frames.iter().map(Vec::as_slice)));
    std::fs::write(path, file).unwrap();
}

fn run(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env("TZ", "UTC")
        .output()
        .unwrap()
}

/// Fails if `bytes` (one stream of one run) holds anything a terminal would act on: a
/// control character other than a line feed (and a tab where `tabs`), a C1 control raw or
/// UTF-8 encoded, or a bidi control.
fn assert_terminal_safe(what: &str, bytes: &[u8]) {
    let text = std::str::from_utf8(bytes)
        .unwrap_or_else(|e| panic!("{what}: not UTF-8 ({e}): {}", bytes.escape_ascii()));
    for (n, line) in text.lines().enumerate() {
        for c in line.chars() {
            let bad = (c.is_control() && c != '\t')
                || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{61c}');
            assert!(!bad, "{what}: line {}: {c:?} in {line:?}", n + 1);
        }
    }
    assert!(!bytes.contains(&b'\r'), "{what}: carriage return");
}

/// Fails if a JSON output holds a control, C1 or bidi character raw (escaped is fine).
fn assert_json_safe(what: &str, bytes: &[u8]) {
    assert_terminal_safe(what, bytes);
    for line in std::str::from_utf8(bytes).unwrap().lines() {
        serde_json::from_str::<serde_json::Value>(line)
            .unwrap_or_else(|e| panic!("{what}: not JSON ({e}): {line}"));
    }
}

#[test]
fn hostile_strings_reach_no_terminal_raw() {
    let dir = std::env::temp_dir().join(format!("pcap-cli-escapes-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let cap = dir.join("hostile.pcap");
    hostile_capture(&cap);
    let cap = cap.to_str().unwrap();

    let runs: &[&[&str]] = &[
        &["capture", "--no-color", "-r", cap],
        &["http-trace", "--no-color", "-r", cap],
        &[
            "http-trace",
            "--no-color",
            "--headers",
            "--bodies",
            "--tcp-verbose",
            "-r",
            cap,
        ],
        &["http-trace", "--show-header", "x-note", "-r", cap],
        &["grep", "--no-color", "-r", cap, "title|2J|gpj|gnp|FAKE"],
        &["grep", "--no-color", "--packet", "-r", cap, "title|2J"],
        &["grep", "--no-color", "-x", "-r", cap, "title"],
        &["flows", "--no-color", "-r", cap],
    ];
    let mut all = Vec::new();
    for args in runs {
        let o = run(args);
        let what = args.join(" ");
        assert!(o.status.success(), "{what}: {o:?}");
        assert_terminal_safe(&format!("{what}: stdout"), &o.stdout);
        assert_terminal_safe(&format!("{what}: stderr"), &o.stderr);
        all.extend_from_slice(&o.stdout);
    }
    // follow's terminal messages (the files hold the streams as they were, by design).
    let out = dir.join("follow");
    let o = run(&["follow", "-r", cap, "-o", out.to_str().unwrap()]);
    assert!(o.status.success(), "{o:?}");
    assert_terminal_safe("follow: stdout", &o.stdout);
    assert_terminal_safe("follow: stderr", &o.stderr);

    // JSON outputs: valid, and with C1 and bidi controls escaped as \uXXXX too.
    for args in [
        &["capture", "--json", "-r", cap][..],
        &["http-trace", "--json", "--tcp-verbose", "-r", cap],
        &["grep", "--json", "-r", cap, "title|2J"],
        &["flows", "--json", "-r", cap],
    ] {
        let o = run(args);
        assert!(o.status.success(), "{args:?}: {o:?}");
        assert_json_safe(&args.join(" "), &o.stdout);
    }
    let har = dir.join("out.har");
    let o = run(&["http-trace", "-r", cap, "--har", har.to_str().unwrap()]);
    assert!(o.status.success(), "{o:?}");
    let har = std::fs::read(&har).unwrap();
    assert_terminal_safe(
        "har",
        &har.iter()
            .map(|&b| if b == b'\n' { b' ' } else { b })
            .collect::<Vec<_>>(),
    );
    serde_json::from_slice::<serde_json::Value>(&har).unwrap();

    // Everything is still there to read, escaped.
    let all = String::from_utf8(all).unwrap();
    for shown in [
        r"evil\u{9b}2J\u{202e}.example/\u{9b}2J/\u{202e}gpj.exe",
        // grep shows bytes: the reason phrase's C1 and bidi characters as \xNN.
        r"200 OK\xc2\x9b2J\xe2\x80\xae",
        r"X-Note: a\u{9d}0;t\u{9c}b\u{202e}c",
        "      first line\\rFAKE LINE\n",
        "      \\u{202e}gnp.exe\tNEL:\\u{85}\n",
        r"\x1b]0;title\x07",
        // DNS names are octets: every non-ASCII byte as \xNN.
        r"\x1b]0;title\x07.\xc2\x9b2J\r\xe2\x80\xae.example",
    ] {
        assert!(all.contains(shown), "{shown} not shown in:\n{all}");
    }
    // PCAP_KEEP_ESCAPES=1 keeps the capture, to look at it by hand.
    if std::env::var_os("PCAP_KEEP_ESCAPES").is_none() {
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
