//! Table-driven sequences: segments in, rendered events out (gopacket's `testSequence` style).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::{Config, Direction, Event, EventKind, Reassembler, Segment, TcpFlags};

const C: Direction = Direction::ClientToServer;
const S: Direction = Direction::ServerToClient;
const SYN: TcpFlags = TcpFlags::SYN;
const ACK: TcpFlags = TcpFlags::ACK;
const FIN: TcpFlags = TcpFlags(0x11); // FIN|ACK
const RST: TcpFlags = TcpFlags::RST;
const SA: TcpFlags = TcpFlags(0x12);
const PA: TcpFlags = TcpFlags(0x18);

/// One input segment: who sends, seq, ack, flags, payload.
type In = (Direction, u32, u32, TcpFlags, &'static [u8]);

fn seg(dir: Direction, seq: u32, ack: u32, flags: TcpFlags, payload: &[u8]) -> Segment<'_> {
    let (c, s) = (
        IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
        IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)),
    );
    let (src, dst, sp, dp) = match dir {
        Direction::ClientToServer => (c, s, 40000, 80),
        Direction::ServerToClient => (s, c, 80, 40000),
    };
    Segment {
        ts_ns: 1_000,
        src,
        dst,
        src_port: sp,
        dst_port: dp,
        seq,
        ack,
        flags,
        window: 1000,
        wscale: None,
        payload,
        orig_payload_len: None,
        tunnel: 0,
    }
}

fn d(dir: Direction) -> &'static str {
    dir.as_str()
}

/// Renders an event compactly: `"<session> <what> ..."`.
pub(crate) fn render(e: &Event<'_>) -> String {
    let id = e.session;
    match e.kind {
        EventKind::Start { how, .. } => format!("{id} start {how:?}"),
        EventKind::SynRetry { dir } => format!("{id} {} synretry", d(dir)),
        EventKind::Data { dir, offset, bytes } => {
            format!(
                "{id} {} data {offset} {}",
                d(dir),
                String::from_utf8_lossy(bytes)
            )
        }
        EventKind::Gap { dir, offset, len } => format!("{id} {} gap {offset} {len}", d(dir)),
        EventKind::OutOfOrder { dir, offset, len } => format!("{id} {} ooo {offset} {len}", d(dir)),
        EventKind::Retransmission {
            dir,
            offset,
            len,
            overlap,
        } => format!("{id} {} rexmit {offset} {len} {overlap:?}", d(dir)),
        EventKind::OverlapConflict {
            dir,
            offset,
            len,
            replaced,
        } => format!(
            "{id} {} conflict {offset} {len} replaced={replaced}",
            d(dir)
        ),
        EventKind::RstIgnored { dir, reason } => {
            format!("{id} {} rst-ignored {}", d(dir), reason.as_str())
        }
        EventKind::KeepAlive { dir } => format!("{id} {} keepalive", d(dir)),
        EventKind::ZeroWindowProbe { dir } => format!("{id} {} zwp", d(dir)),
        EventKind::Fin { dir, offset } => format!("{id} {} fin {offset}", d(dir)),
        EventKind::End { info } => format!("{id} end {}", info.state.as_str()),
        EventKind::Reset { by, info } => format!("{id} reset {} {}", d(by), info.state.as_str()),
        EventKind::Closed { reason, info } => {
            format!("{id} closed {reason:?} {}", info.state.as_str())
        }
    }
}

fn run_with(config: Config, input: &[In]) -> Vec<String> {
    let mut r = Reassembler::new(config);
    let mut out = Vec::new();
    let mut sink = |e: Event<'_>| out.push(render(&e));
    for &(dir, seq, ack, flags, payload) in input {
        r.push(&seg(dir, seq, ack, flags, payload), &mut sink);
    }
    r.finish(&mut sink);
    assert_eq!(r.buffered_bytes(), 0);
    assert_eq!(r.session_count(), 0);
    out
}

fn run(input: &[In]) -> Vec<String> {
    run_with(Config::default(), input)
}

/// Handshake: client ISN 999 (data from 1000), server ISN 4999 (data from 5000).
const HS: [In; 3] = [
    (C, 999, 0, SYN, b""),
    (S, 4999, 1000, SA, b""),
    (C, 1000, 5000, ACK, b""),
];

fn with_hs(rest: &[In]) -> Vec<In> {
    HS.iter().chain(rest).copied().collect()
}

struct Case {
    name: &'static str,
    input: Vec<In>,
    want: &'static [&'static str],
}

#[test]
fn sequences() {
    let cases = [
        Case {
            name: "in order, FIN both ways",
            input: with_hs(&[
                (C, 1000, 5000, PA, b"GET"),
                (S, 5000, 1003, PA, b"OK"),
                (C, 1003, 5002, FIN, b""),
                (S, 5002, 1004, FIN, b""),
                (C, 1004, 5003, ACK, b""),
            ]),
            want: &[
                "0 start Syn",
                "0 c2s data 0 GET",
                "0 s2c data 0 OK",
                "0 c2s fin 3",
                "0 s2c fin 2",
                "0 end closed",
            ],
        },
        Case {
            name: "reorder: later segment buffered, released when the hole fills",
            input: with_hs(&[
                (C, 1004, 5000, PA, b"efgh"),
                (C, 1008, 5000, PA, b"ij"),
                (C, 1000, 5000, PA, b"abcd"),
            ]),
            want: &[
                "0 start Syn",
                "0 c2s ooo 4 4",
                "0 c2s ooo 8 2",
                "0 c2s data 0 abcd",
                "0 c2s data 4 efghij",
                "0 closed EndOfInput established",
            ],
        },
        Case {
            name: "exact retransmission is not delivered twice",
            input: with_hs(&[(C, 1000, 5000, PA, b"abcd"), (C, 1000, 5000, PA, b"abcd")]),
            want: &[
                "0 start Syn",
                "0 c2s data 0 abcd",
                "0 c2s rexmit 0 4 Unchecked",
                "0 closed EndOfInput established",
            ],
        },
        Case {
            name: "partial retransmission delivers only the new tail",
            input: with_hs(&[(C, 1000, 5000, PA, b"abcd"), (C, 1002, 5000, PA, b"cdef")]),
            want: &[
                "0 start Syn",
                "0 c2s data 0 abcd",
                "0 c2s rexmit 2 2 Unchecked",
                "0 c2s data 4 ef",
                "0 closed EndOfInput established",
            ],
        },
        Case {
            name: "consistent overlap with buffered data",
            input: with_hs(&[
                (C, 1004, 5000, PA, b"efgh"),
                (C, 1002, 5000, PA, b"cdefgh"),
                (C, 1000, 5000, PA, b"ab"),
            ]),
            want: &[
                "0 start Syn",
                "0 c2s ooo 4 4",
                "0 c2s ooo 2 6",
                "0 c2s rexmit 4 4 Same",
                "0 c2s data 0 ab",
                "0 c2s data 2 cd",
                "0 c2s data 4 efgh",
                "0 closed EndOfInput established",
            ],
        },
        Case {
            name: "conflicting overlap: first copy wins and is reported",
            input: with_hs(&[
                (C, 1004, 5000, PA, b"efgh"),
                (C, 1004, 5000, PA, b"EFGHIJ"),
                (C, 1000, 5000, PA, b"abcdXY"),
            ]),
            want: &[
                "0 start Syn",
                "0 c2s ooo 4 4",
                "0 c2s ooo 4 6",
                "0 c2s conflict 4 4 replaced=false",
                "0 c2s rexmit 4 4 Different",
                "0 c2s data 0 abcd",
                "0 c2s conflict 4 2 replaced=false",
                "0 c2s rexmit 4 2 Different",
                "0 c2s data 4 efghIJ",
                "0 closed EndOfInput established",
            ],
        },
        Case {
            name: "keep-alive (seq = next - 1, 0 and 1 byte) is not data",
            input: with_hs(&[
                (C, 1000, 5000, PA, b"ab"),
                (C, 1001, 5000, ACK, b""),
                (C, 1001, 5000, ACK, b"\0"),
                (C, 1002, 5000, PA, b"c"),
            ]),
            want: &[
                "0 start Syn",
                "0 c2s data 0 ab",
                "0 c2s keepalive",
                "0 c2s keepalive",
                "0 c2s data 2 c",
                "0 closed EndOfInput established",
            ],
        },
        Case {
            name: "wraparound: ISN just below 2^32",
            input: vec![
                (C, u32::MAX - 2, 0, SYN, b""),
                (S, 7, u32::MAX - 1, SA, b""),
                (C, 0, 8, PA, b"cdef"),
                (C, u32::MAX - 1, 8, PA, b"ab"),
                (C, 4, 8, FIN, b""),
                (S, 8, 5, FIN, b""),
            ],
            want: &[
                "0 start Syn",
                "0 c2s ooo 2 4",
                "0 c2s data 0 ab",
                "0 c2s data 2 cdef",
                "0 c2s fin 6",
                "0 s2c fin 0",
                "0 end closed",
            ],
        },
        Case {
            name: "SYN retry with the same ISN",
            input: vec![
                (C, 999, 0, SYN, b""),
                (C, 999, 0, SYN, b""),
                (S, 4999, 1000, SA, b""),
            ],
            want: &[
                "0 start Syn",
                "0 c2s synretry",
                "0 closed EndOfInput established",
            ],
        },
        Case {
            name: "SYN only: half-open at end of input",
            input: vec![(C, 999, 0, SYN, b"")],
            want: &["0 start Syn", "0 closed EndOfInput half-open"],
        },
        Case {
            name: "RST flushes buffered data behind a gap, then ends the session",
            input: with_hs(&[(C, 1004, 5000, PA, b"efgh"), (S, 5000, 1000, RST, b"")]),
            want: &[
                "0 start Syn",
                "0 c2s ooo 4 4",
                "0 c2s gap 0 4",
                "0 c2s data 4 efgh",
                "0 reset s2c reset",
            ],
        },
        Case {
            name: "port reuse: FIN both ways, then a SYN with a new ISN is a new session",
            input: with_hs(&[
                (C, 1000, 5000, FIN, b""),
                (S, 5000, 1001, FIN, b""),
                (C, 1001, 5001, ACK, b""),
                (C, 77, 0, SYN, b""),
                (S, 88, 78, SA, b""),
                (C, 78, 89, PA, b"x"),
            ]),
            want: &[
                "0 start Syn",
                "0 c2s fin 0",
                "0 s2c fin 0",
                "0 end closed",
                "1 start Syn",
                "1 c2s data 0 x",
                "1 closed EndOfInput established",
            ],
        },
        Case {
            name: "a hole that never fills is delivered as a gap at the end",
            input: with_hs(&[(C, 1000, 5000, PA, b"ab"), (C, 1005, 5000, PA, b"fg")]),
            want: &[
                "0 start Syn",
                "0 c2s data 0 ab",
                "0 c2s ooo 5 2",
                "0 c2s gap 2 3",
                "0 c2s data 5 fg",
                "0 closed EndOfInput established",
            ],
        },
        Case {
            name: "the peer ACKing past a hole turns it into a gap at once",
            input: with_hs(&[
                (C, 1000, 5000, PA, b"ab"),
                (C, 1005, 5000, PA, b"fg"),
                (S, 5000, 1007, ACK, b""),
                (C, 1007, 5000, PA, b"h"),
            ]),
            want: &[
                "0 start Syn",
                "0 c2s data 0 ab",
                "0 c2s ooo 5 2",
                "0 c2s gap 2 3",
                "0 c2s data 5 fg",
                "0 c2s data 7 h",
                "0 closed EndOfInput established",
            ],
        },
        Case {
            name: "mid-stream pickup: first sender is the client, offsets from first seq",
            input: vec![
                (S, 70_000, 123, PA, b"resp"),
                (C, 123, 70_004, PA, b"req"),
                (S, 70_004, 126, PA, b"more"),
            ],
            want: &[
                "0 start MidStream",
                "0 c2s data 0 resp",
                "0 s2c data 0 req",
                "0 c2s data 4 more",
                "0 closed EndOfInput established",
            ],
        },
        Case {
            name: "only the SYN/ACK seen: its receiver is the client, stream starts at its ack",
            input: vec![(S, 4999, 1000, SA, b""), (C, 1000, 5000, PA, b"hi")],
            want: &[
                "0 start SynAck",
                "0 c2s data 0 hi",
                "0 closed EndOfInput established",
            ],
        },
        Case {
            name: "a SYN captured after its SYN/ACK and data does not restart the stream",
            input: vec![
                (S, 4999, 1000, SA, b""),
                (C, 1000, 5000, PA, b"ab"),
                (C, 999, 0, SYN, b""),
                (C, 1002, 5000, PA, b"c"),
            ],
            want: &[
                "0 start SynAck",
                "0 c2s data 0 ab",
                "0 c2s synretry",
                "0 c2s data 2 c",
                "0 closed EndOfInput established",
            ],
        },
        Case {
            name: "data beyond the FIN is dropped; FIN beyond a hole reached at flush",
            input: with_hs(&[(C, 1003, 5000, FIN, b"d"), (C, 1000, 5000, PA, b"ab")]),
            want: &[
                "0 start Syn",
                "0 c2s ooo 3 1",
                "0 c2s data 0 ab",
                "0 c2s gap 2 1",
                "0 c2s data 3 d",
                "0 c2s fin 4",
                "0 closed EndOfInput established",
            ],
        },
    ];
    let mut failures = Vec::new();
    for case in &cases {
        let got = run(&case.input);
        if got != case.want {
            failures.push(format!(
                "{}:\n  got  {:?}\n  want {:?}",
                case.name, got, case.want
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn zero_window_probe_is_recognised_and_delivered() {
    let input = with_hs(&[(C, 1000, 5000, PA, b"a")]);
    let mut r = Reassembler::default();
    let mut out = Vec::new();
    let mut sink = |e: Event<'_>| out.push(render(&e));
    for &(dir, seq, ack, flags, p) in &input {
        r.push(&seg(dir, seq, ack, flags, p), &mut sink);
    }
    let mut zero = seg(S, 5000, 1001, ACK, b"");
    zero.window = 0;
    r.push(&zero, &mut sink);
    r.push(&seg(C, 1001, 5000, PA, b"b"), &mut sink);
    r.finish(&mut sink);
    assert_eq!(r.stats().zero_window_probes, 1);
    assert!(out.contains(&"0 c2s zwp".to_owned()), "{out:?}");
    assert!(out.contains(&"0 c2s data 1 b".to_owned()), "{out:?}");
}

#[test]
fn snaplen_truncated_payload_is_a_gap_not_fewer_bytes() {
    let mut r = Reassembler::default();
    let mut out = Vec::new();
    let mut sink = |e: Event<'_>| out.push(render(&e));
    for &(dir, seq, ack, flags, p) in &HS {
        r.push(&seg(dir, seq, ack, flags, p), &mut sink);
    }
    let mut cut = seg(C, 1000, 5000, PA, b"abc");
    cut.orig_payload_len = Some(10);
    r.push(&cut, &mut sink);
    r.push(&seg(C, 1010, 5000, PA, b"k"), &mut sink);
    assert_eq!(
        out,
        [
            "0 start Syn",
            "0 c2s data 0 abc",
            "0 c2s gap 3 7",
            "0 c2s data 10 k"
        ]
    );
}

#[test]
fn ipv6_sessions_and_summary() {
    let a = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1));
    let b = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2));
    let mk = |src, dst, sp, dp, seq, flags, payload: &'static [u8]| Segment {
        ts_ns: i64::from(seq),
        src,
        dst,
        src_port: sp,
        dst_port: dp,
        seq,
        ack: 0,
        flags,
        window: 100,
        wscale: None,
        payload,
        orig_payload_len: None,
        tunnel: 0,
    };
    let mut r = Reassembler::default();
    let mut infos = Vec::new();
    let mut sink = |e: Event<'_>| {
        if let EventKind::Reset { info, .. } = e.kind {
            infos.push(info);
        }
    };
    r.push(&mk(b, a, 443, 5555, 10, SA, b""), &mut sink);
    r.push(&mk(a, b, 5555, 443, 20, PA, b"hello"), &mut sink);
    r.push(&mk(a, b, 5555, 443, 20, PA, b"hello"), &mut sink);
    assert_eq!(r.session_count(), 1);
    r.push(&mk(b, a, 443, 5555, 11, RST, b""), &mut sink);
    let info = infos[0];
    assert_eq!(info.client, "[2001:db8::1]:5555".parse().unwrap());
    assert_eq!(info.server, "[2001:db8::2]:443".parse().unwrap());
    assert_eq!((info.bytes_c2s, info.bytes_s2c), (5, 0));
    assert_eq!((info.packets_c2s, info.packets_s2c), (2, 2));
    assert_eq!(info.retransmissions, 1);
    assert_eq!((info.first_ts_ns, info.last_ts_ns), (10, 20));
    assert_eq!(info.state.as_str(), "reset");
}

#[test]
fn idle_timeout_by_packet_time() {
    let config = Config {
        idle_timeout_ns: Some(1_000),
        ..Config::default()
    };
    let mut r = Reassembler::new(config);
    let mut out = Vec::new();
    let mut sink = |e: Event<'_>| out.push(render(&e));
    let mut s1 = seg(C, 1, 0, PA, b"x");
    s1.ts_ns = 0;
    r.push(&s1, &mut sink);
    let mut other = seg(C, 1, 0, PA, b"y");
    other.src_port = 1;
    other.ts_ns = 5_000;
    r.push(&other, &mut sink);
    // One late timestamp alone does not move the clock (it could be a wild one); the second
    // confirms it, and session 0 times out.
    let mut again = seg(C, 2, 0, PA, b"z");
    again.src_port = 1;
    again.ts_ns = 5_000;
    r.push(&again, &mut sink);
    assert_eq!(
        out,
        [
            "0 start MidStream",
            "0 c2s data 0 x",
            "1 start MidStream",
            "1 c2s data 0 y",
            "0 closed IdleTimeout timeout",
            "1 c2s data 1 z",
        ]
    );
    assert_eq!(r.stats().sessions_timed_out, 1);
}

#[test]
fn per_direction_cap_skips_the_hole() {
    let config = Config {
        max_buffered_per_direction: 8,
        ..Config::default()
    };
    let got = run_with(
        config,
        &with_hs(&[
            (C, 1002, 5000, PA, b"cdef"),
            (C, 1006, 5000, PA, b"ghij"),
            (C, 1010, 5000, PA, b"k"),
        ]),
    );
    assert_eq!(
        got,
        [
            "0 start Syn",
            "0 c2s ooo 2 4",
            "0 c2s ooo 6 4",
            "0 c2s ooo 10 1",
            "0 c2s gap 0 2",
            "0 c2s data 2 cdefghijk",
            "0 closed EndOfInput established",
        ]
    );
}

#[test]
fn one_wild_timestamp_does_not_time_sessions_out() {
    let config = Config {
        idle_timeout_ns: Some(1_000),
        ..Config::default()
    };
    let mut r = Reassembler::new(config);
    let mut out = Vec::new();
    let mut sink = |e: Event<'_>| out.push(render(&e));
    let at = |mut s: Segment<'static>, ts: i64| {
        s.ts_ns = ts;
        s
    };
    // As in a real pcapng sample: the SYN/ACK carries a timestamp decades ahead.
    r.push(&at(seg(C, 999, 0, SYN, b""), 0), &mut sink);
    r.push(&at(seg(S, 4999, 1000, SA, b""), i64::MAX / 2), &mut sink);
    r.push(&at(seg(C, 1000, 5000, PA, b"a"), 10), &mut sink);
    r.push(&at(seg(C, 1001, 5000, PA, b"b"), 20), &mut sink);
    assert_eq!(out, ["0 start Syn", "0 c2s data 0 a", "0 c2s data 1 b"]);
}

/// An ended session keeps its table entry (late segments still belong to it, no new
/// session starts) but frees its streams, buffered out-of-order bytes included.
#[test]
fn ended_session_stays_in_the_table_without_its_streams() {
    let mut r = Reassembler::default();
    let mut out = Vec::new();
    let mut sink = |e: Event<'_>| out.push(render(&e));
    let input: &[In] = &[
        (C, 100, 0, SYN, b""),
        (S, 500, 101, SA, b""),
        (C, 101, 501, ACK, b""),
        // Out of order: held in a chunk until the hole fills or the RST flushes it.
        (C, 104, 501, PA, b"def"),
        (S, 501, 101, RST, b""),
        // Late segments after the reset.
        (C, 101, 501, PA, b"abc"),
        (C, 107, 501, ACK, b""),
    ];
    for &(dir, seq, ack, flags, payload) in input {
        r.push(&seg(dir, seq, ack, flags, payload), &mut sink);
        if flags == RST {
            assert_eq!(r.buffered_bytes(), 0, "reset frees the buffered chunk");
        }
    }
    assert_eq!(r.session_count(), 1);
    let info = r.sessions().next().unwrap();
    assert_eq!((info.packets_c2s, info.packets_s2c), (5, 2));
    r.finish(&mut sink);
    assert_eq!(
        out,
        [
            "0 start Syn",
            "0 c2s ooo 3 3",
            "0 c2s gap 0 3",
            "0 c2s data 3 def",
            "0 reset s2c reset"
        ]
    );
}

const RA: TcpFlags = TcpFlags(0x14); // RST|ACK

/// RSTs are accepted only where a stack would accept them (RFC 9293 §3.10.7, RFC 5961 §3);
/// the others are reported and the session goes on.
#[test]
fn rst_acceptance() {
    let cases = [
        Case {
            name: "out-of-window RST ignored, its payload dropped, data after it delivered",
            input: with_hs(&[
                (C, 1000, 5000, PA, b"GET"),
                (S, 105_000, 1003, RA, b"evil"),
                (S, 5000, 1003, PA, b"OK"),
                (C, 1003, 5002, FIN, b""),
                (S, 5002, 1004, FIN, b""),
            ]),
            want: &[
                "0 start Syn",
                "0 c2s data 0 GET",
                "0 s2c rst-ignored out_of_window",
                "0 s2c data 0 OK",
                "0 c2s fin 3",
                "0 s2c fin 2",
                "0 end closed",
            ],
        },
        Case {
            name: "RST before the next expected byte is out of the window",
            input: with_hs(&[(S, 5000, 1000, PA, b"OK"), (S, 4990, 1000, RST, b"")]),
            want: &[
                "0 start Syn",
                "0 s2c data 0 OK",
                "0 s2c rst-ignored out_of_window",
                "0 closed EndOfInput established",
            ],
        },
        Case {
            name: "in-window RST not at the next byte: challenge ACK, then the exact one",
            input: with_hs(&[
                (S, 5010, 1000, RA, b""),
                (C, 1000, 5000, ACK, b""),
                (S, 5000, 1000, RA, b""),
            ]),
            want: &[
                "0 start Syn",
                "0 s2c rst-ignored in_window",
                "0 reset s2c reset",
            ],
        },
        Case {
            name: "SYN-SENT: RST without ACK, or acking another number, is ignored",
            input: vec![
                (C, 999, 0, SYN, b""),
                (S, 0, 0, RST, b""),
                (S, 0, 4242, RA, b""),
                (S, 0, 1000, RA, b""),
            ],
            want: &[
                "0 start Syn",
                "0 s2c rst-ignored syn_not_acked",
                "0 s2c rst-ignored syn_not_acked",
                "0 reset s2c reset",
            ],
        },
        Case {
            name: "mid-stream: window unknown, any RST accepted as before",
            input: vec![(C, 1000, 5000, PA, b"abc"), (S, 77_777, 1003, RA, b"")],
            want: &["0 start MidStream", "0 c2s data 0 abc", "0 reset s2c reset"],
        },
        Case {
            name: "only a SYN/ACK seen: window scale unknown, accepted",
            input: vec![
                (S, 4999, 1000, SA, b""),
                (C, 1000, 5000, PA, b"abc"),
                (S, 9999, 1003, RA, b""),
            ],
            want: &["0 start SynAck", "0 c2s data 0 abc", "0 reset s2c reset"],
        },
        Case {
            name: "RST one past the FIN is exact",
            input: with_hs(&[
                (C, 1000, 5000, PA, b"ab"),
                (C, 1002, 5000, FIN, b""),
                (C, 1003, 5000, RA, b""),
            ]),
            want: &[
                "0 start Syn",
                "0 c2s data 0 ab",
                "0 c2s fin 2",
                "0 reset c2s reset",
            ],
        },
        Case {
            name: "RST at what the receiver acknowledged, beyond bytes the capture missed",
            input: with_hs(&[
                (C, 1000, 5000, PA, b"ab"),
                (S, 5000, 1010, ACK, b""),
                (C, 1010, 5000, RA, b""),
            ]),
            want: &[
                "0 start Syn",
                "0 c2s data 0 ab",
                "0 c2s gap 2 8",
                "0 reset c2s reset",
            ],
        },
    ];
    for case in cases {
        let got = run(&case.input);
        assert_eq!(got, case.want, "{}", case.name);
    }
}

/// The window scale agreed in the handshake widens the window a RST is checked against.
#[test]
fn rst_window_uses_the_agreed_scale() {
    let go = |c_scale: Option<u8>, s_scale: Option<u8>| {
        let mut r = Reassembler::default();
        let mut out = Vec::new();
        let mut sink = |e: Event<'_>| out.push(render(&e));
        let mut syn = seg(C, 999, 0, SYN, b"");
        syn.wscale = c_scale;
        let mut syn_ack = seg(S, 4999, 1000, SA, b"");
        syn_ack.wscale = s_scale;
        r.push(&syn, &mut sink);
        r.push(&syn_ack, &mut sink);
        // The client advertises 1000 << 7 = 128 000 bytes (scaled after the handshake).
        r.push(&seg(C, 1000, 5000, ACK, b""), &mut sink);
        r.push(&seg(S, 5000 + 50_000, 1000, RA, b""), &mut sink);
        r.finish(&mut sink);
        out.get(1).cloned().unwrap_or_default()
    };
    assert_eq!(go(Some(7), Some(2)), "0 s2c rst-ignored in_window");
    // The option on one SYN only: no scaling (RFC 7323 §2.2), so 50 000 is out of a
    // 1000-byte window.
    assert_eq!(go(Some(7), None), "0 s2c rst-ignored out_of_window");
    assert_eq!(go(None, Some(7)), "0 s2c rst-ignored out_of_window");
}

/// The overlap shapes of Novak and Sturges' target-based reassembly tests, one region each:
/// a held segment (lower case), then a new segment (upper case) that starts before, with or
/// after it and ends before, with or after it. Holes between regions are filled last, by
/// segments that overlap nothing, the first byte last of all so that everything is held
/// until then. The expected streams were worked out by hand from the policy rules of
/// Suricata's `DoHandleDataOverlap` (src/stream-tcp-list.c).
#[test]
fn overlap_policies_on_the_target_based_patterns() {
    use crate::OverlapPolicy;
    const REGIONS: [(u32, &[u8], u32, &[u8]); 9] = [
        (2, b"bbbb", 1, b"BBB"),       // starts before, ends inside
        (8, b"cccc", 8, b"CC"),        // same start, ends inside
        (14, b"dddd", 14, b"DDDDDD"),  // same start, ends after
        (22, b"eeee", 22, b"EEEE"),    // same extent
        (28, b"ffff", 29, b"FF"),      // inside
        (34, b"gggg", 35, b"GGG"),     // starts after, same end
        (40, b"hhhh", 41, b"HHHHH"),   // starts after, ends after
        (48, b"iiii", 47, b"IIIII"),   // starts before, same end
        (54, b"jjjj", 53, b"JJJJJJJ"), // starts before, ends after
    ];
    const LEN: usize = 61;
    let want = [
        (
            OverlapPolicy::First,
            ".Bbbbb..cccc..ddddDD..eeee..ffff..gggg..hhhhHH.Iiiii.JjjjjJJ.",
            0,
        ),
        (
            OverlapPolicy::Last,
            ".BBBbb..CCcc..DDDDDD..EEEE..fFFf..gGGG..hHHHHH.IIIII.JJJJJJJ.",
            9,
        ),
        (
            OverlapPolicy::Bsd,
            ".BBBbb..cccc..ddddDD..eeee..ffff..gggg..hhhhHH.IIIII.JJJJJJJ.",
            3,
        ),
        (
            OverlapPolicy::Windows,
            ".BBBbb..cccc..ddddDD..eeee..ffff..gggg..hhhhHH.IIIII.JJJJJJJ.",
            3,
        ),
        (
            OverlapPolicy::Linux,
            ".BBBbb..cccc..DDDDDD..eeee..ffff..gggg..hhhhHH.IIIII.JJJJJJJ.",
            4,
        ),
        (
            OverlapPolicy::OldLinux,
            ".BBBbb..cccc..DDDDDD..EEEE..ffff..gggg..hhhhHH.IIIII.JJJJJJJ.",
            5,
        ),
        (
            OverlapPolicy::Solaris,
            ".Bbbbb..cccc..DDDDDD..EEEE..ffff..gggg..hHHHHH.IIIII.JJJJJJJ.",
            5,
        ),
    ];
    assert_eq!(want.len(), OverlapPolicy::ALL.len());
    for (policy, stream, replaced) in want {
        let mut input: Vec<(u32, Vec<u8>)> = Vec::new();
        let mut covered = [false; LEN];
        let mut add = |off: u32, bytes: &[u8], input: &mut Vec<(u32, Vec<u8>)>| {
            for i in 0..bytes.len() {
                covered[off as usize + i] = true;
            }
            input.push((off, bytes.to_vec()));
        };
        for (off, held, _, _) in REGIONS {
            add(off, held, &mut input);
        }
        for (_, _, off, new) in REGIONS {
            add(off, new, &mut input);
        }
        let mut holes = Vec::new();
        let mut i = 0;
        while i < LEN {
            let start = i;
            while i < LEN && !covered[i] {
                i += 1;
            }
            if i > start {
                holes.push((start as u32, vec![b'.'; i - start]));
            }
            i += 1;
        }
        input.extend(holes.into_iter().rev());

        let config = Config {
            overlap_policy: policy,
            ..Config::default()
        };
        let mut r = Reassembler::new(config);
        let mut got = Vec::new();
        let (mut conflicts, mut new_won) = (0, 0);
        let mut sink = |e: Event<'_>| match e.kind {
            EventKind::Data { bytes, .. } => got.extend_from_slice(bytes),
            EventKind::OverlapConflict { replaced, .. } => {
                conflicts += 1;
                new_won += usize::from(replaced);
            }
            _ => {}
        };
        for (dir, seq, ack, flags, payload) in HS {
            r.push(&seg(dir, seq, ack, flags, payload), &mut sink);
        }
        for (off, bytes) in &input {
            r.push(&seg(C, 1000 + off, 5000, PA, bytes), &mut sink);
        }
        r.finish(&mut sink);
        let name = policy.as_str();
        assert_eq!(String::from_utf8_lossy(&got), stream, "{name}");
        assert_eq!((conflicts, new_won), (9, replaced), "{name}");
        assert_eq!(r.stats().conflicting_overlaps, 9, "{name}");
        assert_eq!(OverlapPolicy::from_name(name), Some(policy));
    }
}

/// A segment that starts at or before the next expected byte and runs into held bytes is
/// resolved by the policy too, and overlaps with delivered bytes stay unchecked.
#[test]
fn overlap_policy_applies_to_in_order_segments_running_into_held_bytes() {
    for (policy, want) in [
        (crate::OverlapPolicy::First, "abcdefgh"),
        (crate::OverlapPolicy::Last, "abcdEFgh"),
        (crate::OverlapPolicy::Bsd, "abcdEFgh"),
        (crate::OverlapPolicy::Solaris, "abcdefgh"),
    ] {
        let config = Config {
            overlap_policy: policy,
            ..Config::default()
        };
        let mut r = Reassembler::new(config);
        let mut got = Vec::new();
        let mut events = Vec::new();
        let mut sink = |e: Event<'_>| {
            if let EventKind::Data { bytes, .. } = e.kind {
                got.extend_from_slice(bytes);
            }
            events.push(render(&e));
        };
        for (dir, seq, ack, flags, payload) in HS {
            r.push(&seg(dir, seq, ack, flags, payload), &mut sink);
        }
        r.push(&seg(C, 1000, 5000, PA, b"ab"), &mut sink);
        r.push(&seg(C, 1004, 5000, PA, b"efgh"), &mut sink);
        // Starts in delivered bytes, fills the hole, overlaps "ef".
        r.push(&seg(C, 1001, 5000, PA, b"XcdEF"), &mut sink);
        r.finish(&mut sink);
        assert_eq!(String::from_utf8_lossy(&got), want, "{policy:?}");
        let replaced =
            policy != crate::OverlapPolicy::First && policy != crate::OverlapPolicy::Solaris;
        assert!(
            events.contains(&"0 c2s rexmit 1 1 Unchecked".to_owned()),
            "{events:?}"
        );
        assert!(
            events.contains(&format!("0 c2s conflict 4 2 replaced={replaced}")),
            "{events:?}"
        );
    }
}
