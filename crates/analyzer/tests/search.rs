//! `pcap_analyzer::search` through its public API, fed hand-built reassembler events.
#![allow(missing_docs, clippy::unwrap_used, clippy::panic)]

use std::net::SocketAddr;

use pcap_analyzer::Stream;
use pcap_analyzer::search::{MAX_CONTEXT, Match, Pattern, SearchConfig, StreamSearch, WINDOW};
use pcap_tcp_reassembly::{Direction, Event, EventKind};

const C2S: Direction = Direction::ClientToServer;
const S2C: Direction = Direction::ServerToClient;

fn client() -> SocketAddr {
    "10.0.0.1:50000".parse().unwrap()
}

fn server() -> SocketAddr {
    "10.0.0.2:80".parse().unwrap()
}

fn stream(id: u64) -> Stream {
    Stream::new(id, client(), server())
}

fn event(session: u64, ts_ns: i64, kind: EventKind<'_>) -> Event<'_> {
    Event {
        session,
        client: client(),
        server: server(),
        ts_ns,
        kind,
    }
}

fn data(dir: Direction, offset: u64, bytes: &[u8]) -> EventKind<'_> {
    EventKind::Data { dir, offset, bytes }
}

/// A match, owned.
#[derive(Debug, PartialEq, Eq)]
struct Got {
    id: u64,
    dir: Direction,
    offset: u64,
    ts_ns: i64,
    context_offset: u64,
    context: String,
    matched: String,
}

fn own(m: &Match<'_>) -> Got {
    assert_eq!((m.stream.client, m.stream.server), (client(), server()));
    assert_eq!(m.bytes(), &m.context[m.matched.clone()]);
    assert_eq!(
        [m.before(), m.bytes(), m.after()].concat(),
        m.context,
        "before, match and after tile the context"
    );
    Got {
        id: m.stream.id,
        dir: m.dir,
        offset: m.offset,
        ts_ns: m.ts_ns,
        context_offset: m.context_offset,
        context: String::from_utf8_lossy(m.context).into_owned(),
        matched: String::from_utf8_lossy(m.bytes()).into_owned(),
    }
}

fn search(pattern: &str, context: usize) -> StreamSearch {
    let mut config = SearchConfig::default();
    config.context = context;
    StreamSearch::new(Pattern::new(pattern, false).unwrap(), config)
}

/// Feeds `events` and returns the matches, in the order reported.
fn run(s: &mut StreamSearch, events: &[Event<'_>]) -> Vec<Got> {
    let mut got = Vec::new();
    for e in events {
        s.event(e, |m| got.push(own(&m)));
    }
    got
}

#[test]
fn a_match_split_across_segments_is_found_once_with_its_context() {
    let mut s = search("HELLO", 3);
    let got = run(
        &mut s,
        &[
            event(4, 10, data(C2S, 0, b"abcdHEL")),
            event(4, 20, data(C2S, 7, b"LO")),
            // The after-context arrives: the match is complete.
            event(4, 30, data(C2S, 9, b"xyz..")),
        ],
    );
    assert_eq!(
        got,
        [Got {
            id: 4,
            dir: C2S,
            offset: 4,
            ts_ns: 20,
            context_offset: 1,
            context: "bcdHELLOxyz".into(),
            matched: "HELLO".into(),
        }]
    );
    // Reported once: the session's end has nothing left to report.
    let mut later = Vec::new();
    s.end(stream(4), |m| later.push(own(&m)));
    assert!(later.is_empty(), "{later:?}");
    assert_eq!(s.stats().sessions, 0);
}

#[test]
fn a_match_is_held_for_its_after_context_until_the_direction_ends() {
    let mut s = search("a+", 2);
    let got = run(&mut s, &[event(1, 5, data(S2C, 0, b"xxaa"))]);
    assert!(got.is_empty(), "the match may still grow: {got:?}");
    let got = run(
        &mut s,
        &[event(
            1,
            6,
            EventKind::Fin {
                dir: S2C,
                offset: 4,
            },
        )],
    );
    assert_eq!(
        got,
        [Got {
            id: 1,
            dir: S2C,
            offset: 2,
            ts_ns: 5,
            context_offset: 0,
            context: "xxaa".into(),
            matched: "aa".into(),
        }]
    );
}

#[test]
fn a_gap_cuts_the_window() {
    let mut s = search("HELLO|a+", 1);
    let got = run(
        &mut s,
        &[
            // "aa" is held back (it may grow) when the gap comes: reported as it stands.
            // "HEL" before the gap and "LO" after it never make "HELLO".
            event(0, 1, data(C2S, 0, b"HEL-aa")),
            event(
                0,
                2,
                EventKind::Gap {
                    dir: C2S,
                    offset: 6,
                    len: 100,
                },
            ),
            event(0, 3, data(C2S, 106, b"LO HELLO!")),
        ],
    );
    let mut tail = Vec::new();
    s.end(stream(0), |m| tail.push(own(&m)));
    let got: Vec<(u64, String, String)> = got
        .into_iter()
        .chain(tail)
        .map(|g| (g.offset, g.matched, g.context))
        .collect();
    assert_eq!(
        got,
        [
            (4, "aa".into(), "-aa".into()),
            (109, "HELLO".into(), " HELLO!".into()),
        ]
    );
}

#[test]
fn context_stops_at_the_start_and_the_end_of_the_stream() {
    let mut s = search("GET|HTTP", 10);
    let mut got = run(
        &mut s,
        &[
            event(2, 1, data(C2S, 0, b"GET / ")),
            event(2, 2, data(C2S, 6, b"HTTP")),
        ],
    );
    s.end(stream(2), |m| got.push(own(&m)));
    let got: Vec<(u64, u64, String, String)> = got
        .into_iter()
        .map(|g| (g.offset, g.context_offset, g.matched, g.context))
        .collect();
    assert_eq!(
        got,
        [
            (0, 0, "GET".into(), "GET / HTTP".into()),
            (6, 0, "HTTP".into(), "GET / HTTP".into()),
        ]
    );
}

#[test]
fn directions_and_sessions_are_searched_apart() {
    let mut s = search("ping", 0);
    let got = run(
        &mut s,
        &[
            event(0, 1, data(C2S, 0, b"pi")),
            event(0, 2, data(S2C, 0, b"ng")),
            event(1, 3, data(C2S, 0, b"ng")),
        ],
    );
    assert!(got.is_empty());
    let got = run(
        &mut s,
        &[
            event(0, 4, data(C2S, 2, b"ng ")),
            event(1, 5, data(S2C, 0, b"ping ")),
        ],
    );
    let got: Vec<(u64, Direction, u64)> = got.iter().map(|g| (g.id, g.dir, g.offset)).collect();
    assert_eq!(got, [(0, C2S, 0), (1, S2C, 0)]);
}

#[test]
fn bytes_that_do_not_follow_start_a_new_window() {
    let mut s = search("abc", 0);
    let mut got = Vec::new();
    let dir = C2S;
    s.data(stream(3), dir, 0, b"ab", 1, |m| got.push(own(&m)));
    // Offset 5, not 2: three bytes never came.
    s.data(stream(3), dir, 5, b"c abc", 2, |m| got.push(own(&m)));
    s.fin(stream(3), dir, |m| got.push(own(&m)));
    let got: Vec<u64> = got.iter().map(|g| g.offset).collect();
    assert_eq!(got, [7]);
}

#[test]
fn a_small_budget_cuts_windows_and_says_so() {
    let mut config = SearchConfig::default();
    config.memory_budget = 64 << 10;
    let mut s = StreamSearch::new(Pattern::new("A.*Z", false).unwrap(), config);
    let bytes = [b'.'; 1000];
    for id in 0..100 {
        s.data(stream(id), C2S, 0, &bytes, 0, |_| panic!("no match"));
    }
    let stats = s.stats();
    assert!(stats.budget_hit());
    assert!(stats.smallest_window < WINDOW);
    assert!(stats.memory.held() <= stats.memory.limit());
    assert_eq!(stats.memory.limit(), 64 << 10);
    // Without the budget's pressure nothing is cut.
    let mut s = search("A.*Z", 0);
    s.data(stream(0), C2S, 0, &bytes, 0, |_| panic!("no match"));
    assert!(!s.stats().budget_hit());
    assert_eq!(s.stats().window, WINDOW);
}

#[test]
fn patterns_know_their_longest_match() {
    assert_eq!(
        Pattern::new("GET /[a-z]{1,20}", false).unwrap().max_len(),
        Some(25)
    );
    assert_eq!(Pattern::new("(?i)host", true).unwrap().max_len(), Some(4));
    assert_eq!(Pattern::new("A.*Z", false).unwrap().max_len(), None);
    let regex = regex::bytes::Regex::new("abc").unwrap();
    assert_eq!(Pattern::from_regex(regex).max_len(), None);
    assert!(Pattern::new("(", false).is_err());
    // Context is capped.
    assert_eq!(search("x", usize::MAX).context(), MAX_CONTEXT);
}
