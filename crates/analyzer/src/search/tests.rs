//! Unit tests and properties of the windows and their budget (moved from `pcap-cli grep`).

use pcap_tcp_reassembly::Direction;

use super::matcher::{Matcher, Pattern};
use super::streams::{Segment, Streams, windows_cost};
use super::window::{Found, LAST, MAX_TIMES, Window};
use super::{DEFAULT_MEMORY_BUDGET, WINDOW};

fn matcher(p: &str, context: usize) -> Matcher {
    Matcher {
        pattern: Pattern::new(p, false).unwrap(),
        context,
    }
}

/// True once the budget cut or dropped windows (when `pcap-cli grep` warns).
fn budget_hit(s: &Streams) -> bool {
    s.smallest < WINDOW || s.dropped > 0
}

type Got = Vec<(u64, Vec<u8>, Vec<u8>)>;

/// Feeds `chunks` as consecutive segments of one session and returns (offset, match,
/// context) found.
fn run_window(m: &Matcher, chunks: &[&[u8]]) -> Got {
    let mut s = Streams::new(DEFAULT_MEMORY_BUDGET);
    let mut found = Vec::new();
    let mut record = |_: Direction, f: Found<'_>| found.push(owned(&f));
    let mut offset = 0;
    for (i, c) in chunks.iter().enumerate() {
        s.data(m, 0, seg(C2S, offset, c, i as i64), &mut record);
        offset += c.len() as u64;
    }
    s.end(m, 0, &mut record);
    found
}

const C2S: Direction = Direction::ClientToServer;

fn seg(dir: Direction, offset: u64, bytes: &[u8], ts_ns: i64) -> Segment<'_> {
    Segment {
        dir,
        offset,
        bytes,
        ts_ns,
    }
}

fn owned(f: &Found<'_>) -> (u64, Vec<u8>, Vec<u8>) {
    (
        f.offset,
        f.context[f.matched.clone()].to_vec(),
        f.context.to_vec(),
    )
}

/// The held count recomputed from the windows.
fn recount(s: &Streams) -> usize {
    s.map.values().map(|ws| windows_cost(ws)).sum()
}

/// Splits `data` at `cuts`.
fn split(data: &[u8], cuts: Vec<usize>) -> Vec<&[u8]> {
    let mut cuts: Vec<usize> = cuts.into_iter().filter(|&c| c <= data.len()).collect();
    cuts.push(0);
    cuts.push(data.len());
    cuts.sort_unstable();
    cuts.windows(2).map(|w| &data[w[0]..w[1]]).collect()
}

fn whole(m: &Matcher, data: &[u8]) -> Vec<(u64, Vec<u8>)> {
    m.regex()
        .find_iter(data)
        .filter(|f| !f.is_empty())
        .map(|f| (f.start() as u64, f.as_bytes().to_vec()))
        .collect()
}

/// Data from a small alphabet, where to split it into segments, a bounded pattern and a
/// context: the inputs of the stream-mode properties.
fn split_search()
-> impl proptest::strategy::Strategy<Value = (Vec<u8>, Vec<usize>, &'static str, usize)> {
    let data = proptest::collection::vec(proptest::sample::select(b"abcdxHELO".to_vec()), 0..400);
    let cuts = proptest::collection::vec(0usize..400, 0..12);
    let patterns = vec!["HELLO", "a[bc]{1,5}d", "xab|ab", "abcd|ab", "(?i)hel{1,3}o"];
    (data, cuts, proptest::sample::select(patterns), 0usize..6)
}

proptest::proptest! {
    /// Stream mode over any split of the data finds what one search over the whole
    /// data finds, for patterns shorter than the window.
    #[test]
    fn any_split_finds_the_whole_data_matches(
        (data, cuts, pattern, context) in split_search(),
    ) {
        let m = matcher(pattern, context);
        let chunks = split(&data, cuts);
        let got: Vec<(u64, Vec<u8>)> =
            run_window(&m, &chunks).into_iter().map(|(o, mt, _)| (o, mt)).collect();
        proptest::prop_assert_eq!(got, whole(&m, &data));
    }

    /// A bounded pattern's window cut to the smallest the budget allows, its capacity
    /// given back after each segment, still finds every match, with the same context.
    #[test]
    fn a_bounded_pattern_loses_nothing_at_its_floor(
        (data, cuts, pattern, context) in split_search(),
    ) {
        let m = matcher(pattern, context);
        let chunks = split(&data, cuts);
        let floor = m.floor();
        let mut w = Window::default();
        let mut got = Vec::new();
        for (i, c) in chunks.iter().enumerate() {
            w.push(c, i as i64, floor, m.keep(floor));
            let hold_from = w.end().saturating_sub(floor as u64);
            w.scan(&m, hold_from, |f| got.push(owned(&f)));
            w.trim(&m, floor, false);
            w.tighten(&m, floor);
            proptest::prop_assert!(w.buf.capacity() <= floor);
            proptest::prop_assert!(w.times.capacity() <= 1);
        }
        w.scan(&m, LAST, |f| got.push(owned(&f)));
        proptest::prop_assert_eq!(got, run_window(&m, &chunks));
    }
}

/// Leftmost-first prefers `abcd` to `ab` at the same start: with `abc` in hand and the `d`
/// still to come, `ab` must not be reported (found by the property above).
#[test]
fn a_preferred_longer_alternative_is_waited_for() {
    let m = matcher("abcd|ab", 0);
    let found = run_window(&m, &[b"aabc", b"d"]);
    assert_eq!(found, vec![(1, b"abcd".to_vec(), b"abcd".to_vec())]);
}

#[test]
fn match_split_across_segments_is_found_once() {
    let m = matcher("HELLO", 2);
    let found = run_window(&m, &[b"xxHEL", b"LOyy", b"zz"]);
    assert_eq!(found, vec![(2, b"HELLO".to_vec(), b"xxHELLOyy".to_vec())]);
}

#[test]
fn greedy_match_grows_over_segments() {
    let m = matcher("a+", 0);
    let found = run_window(&m, &[b"xaa", b"aaa", b"b", b"a"]);
    assert_eq!(
        found,
        vec![
            (1, b"aaaaa".to_vec(), b"aaaaa".to_vec()),
            (7, b"a".to_vec(), b"a".to_vec())
        ]
    );
}

/// Pushes `segment` and keeps a full window, as stream mode does under the budget.
fn feed(w: &mut Window, m: &Matcher, segment: &[u8]) {
    w.push(segment, 0, WINDOW, m.keep(WINDOW));
    w.scan(m, 0, |_| panic!("no match"));
    w.trim(m, WINDOW, false);
}

#[test]
fn bounded_pattern_keeps_few_bytes() {
    let m = matcher("HELLO", 3);
    let mut w = Window::default();
    let big = vec![b'.'; 10_000];
    feed(&mut w, &m, &big);
    assert!(w.buf.len() <= 4 + 3, "kept {} bytes", w.buf.len());
    // Later segments keep it small.
    for _ in 0..100 {
        feed(&mut w, &m, &big[..1000]);
        assert!(w.buf.len() <= 2 * (1000 + 7), "kept {} bytes", w.buf.len());
    }
}

#[test]
fn bounded_pattern_buffer_stays_near_needed_plus_one_segment() {
    let m = matcher("zq9xk|never-matches", 40);
    let needed = m.needed().unwrap();
    let mut w = Window::default();
    for _ in 0..1000 {
        feed(&mut w, &m, &[b'p'; 1460]);
        // The bytes kept, the segment, and the slack of one growth step.
        assert!(
            w.buf.capacity() <= 1460 + 2 * needed,
            "{}",
            w.buf.capacity()
        );
    }
}

#[test]
fn time_list_stops_at_its_most() {
    let m = matcher("A.*Z", 0);
    let mut w = Window::default();
    for _ in 0..1000 {
        feed(&mut w, &m, &[b'.'; 100]);
    }
    // Rather than doubling past it.
    assert_eq!(w.times.len(), MAX_TIMES);
    assert_eq!(w.times.capacity(), MAX_TIMES);
}

#[test]
fn unbounded_pattern_keeps_at_most_the_window() {
    let m = matcher("A.*Z", 0);
    let mut w = Window::default();
    for _ in 0..100 {
        feed(&mut w, &m, &[b'.'; 1000]);
    }
    assert!(w.buf.len() <= 2 * WINDOW);
    assert!(w.search_from >= w.end() - WINDOW as u64);
    assert_eq!(w.end(), 100_000);
}

#[test]
fn empty_matches_are_skipped() {
    let m = matcher("x*", 0);
    let found = run_window(&m, &[b"abxxc"]);
    assert_eq!(found, vec![(2, b"xx".to_vec(), b"xx".to_vec())]);
}

/// `sessions` sessions, each fed `segments` segments of `len` bytes in both directions,
/// round robin, none ended: after every event the budget holds (unless the table just
/// grew, see `Streams`) and the count of bytes held is exact.
fn flood(m: &Matcher, limit: usize, sessions: u64, segments: u64, len: usize) -> Streams {
    let mut s = Streams::new(limit);
    let bytes = vec![b'.'; len];
    for i in 0..segments {
        for id in 0..sessions {
            for dir in [C2S, Direction::ServerToClient] {
                let slots = s.map.capacity();
                let at = i * len as u64;
                s.data(m, id, seg(dir, at, &bytes, 0), &mut |_, _| {});
                assert_eq!(s.windows_held(), recount(&s));
                assert!(
                    s.total() <= limit || s.map.capacity() > slots,
                    "{} > {limit}",
                    s.total()
                );
            }
        }
    }
    assert!(s.total() <= limit);
    s
}

#[test]
fn many_windows_stay_under_a_small_budget() {
    // An unbounded pattern: without the budget each direction would keep all 3 KiB.
    let m = matcher("A.*Z", 4);
    let s = flood(&m, 1 << 20, 1000, 3, 1000);
    assert!(s.window < WINDOW && s.window >= m.floor(), "{}", s.window);
    assert_eq!(s.smallest, s.window);
    assert_eq!(s.dropped, 0, "the floors fit");
    assert!(budget_hit(&s));
    // A bounded one keeps no more than it needs.
    let m = matcher("HELLO", 4);
    let s = flood(&m, 1 << 20, 1000, 3, 1000);
    assert_eq!(s.dropped, 0);
    let kept = s.map.values().flat_map(|ws| ws.iter());
    assert!(
        kept.clone()
            .all(|w| w.buf.capacity() <= m.needed().unwrap())
    );
}

#[test]
fn sessions_past_what_the_floors_allow_lose_their_windows() {
    let m = matcher("A.*Z", 4);
    let s = flood(&m, 1 << 20, 5000, 3, 1000);
    assert_eq!(s.window, m.floor());
    assert!(s.dropped > 0);
    assert!(budget_hit(&s));
}

#[test]
fn under_the_budget_nothing_is_cut() {
    let m = matcher("A.*Z", 4);
    let s = flood(&m, DEFAULT_MEMORY_BUDGET, 100, 100, 1000);
    assert_eq!(s.window, WINDOW);
    assert!(!budget_hit(&s));
    // Windows are full: 64 KiB kept (at least) per direction.
    assert!(
        s.map
            .values()
            .flat_map(|ws| ws.iter())
            .all(|w| w.buf.len() >= WINDOW)
    );
}

#[test]
fn a_dropped_window_reports_what_it_held_as_at_a_gap() {
    let m = matcher("a+", 0);
    let mut s = Streams::new(0);
    let mut found = Vec::new();
    let mut record = |_: Direction, f: Found<'_>| found.push(owned(&f));
    s.data(&m, 7, seg(C2S, 0, b"xaa", 0), &mut record);
    assert!(s.map.is_empty());
    assert_eq!(s.windows_held(), 0);
    s.data(&m, 7, seg(C2S, 3, b"ab", 1), &mut record);
    s.end(&m, 7, &mut record);
    assert_eq!(
        found,
        vec![
            (1, b"aa".to_vec(), b"aa".to_vec()),
            (3, b"a".to_vec(), b"a".to_vec())
        ]
    );
    assert_eq!(s.dropped, 2);
}

#[test]
fn a_cut_window_reports_a_found_match_rather_than_give_it_up() {
    let m = matcher("X-Pad: p+", 0);
    let mut s = Streams::new(DEFAULT_MEMORY_BUDGET);
    s.window = m.floor();
    let mut found = Vec::new();
    let mut record = |_: Direction, f: Found<'_>| found.push(owned(&f));
    let mut head = b"X-Pad: ".to_vec();
    head.extend_from_slice(&[b'p'; 1000]);
    s.data(&m, 1, seg(C2S, 0, &head, 0), &mut record);
    s.data(&m, 1, seg(C2S, 1007, &[b'p'; 1000], 1), &mut record);
    s.end(&m, 1, &mut record);
    // As it stood when its start left the window: shorter than the 2007 bytes a full
    // window would have matched, but not missed.
    assert_eq!(found, vec![(0, head.clone(), head)]);
}

#[test]
fn windows_grow_back_as_sessions_end() {
    let m = matcher("A.*Z", 4);
    let mut s = flood(&m, 1 << 20, 1000, 3, 1000);
    let cut = s.window;
    for id in 0..995 {
        s.end(&m, id, &mut |_, _| {});
    }
    assert_eq!(s.windows_held(), recount(&s));
    assert!(s.window > cut, "{} <= {cut}", s.window);
}

/// A session's decrypted bytes are a stream of their own: a match cannot join raw and
/// plaintext bytes, each is reported with the `Stream` it was fed with, and ending one
/// leaves the other's held-back match in place.
#[test]
fn tls_plaintext_is_a_stream_of_its_own() {
    use super::{SearchConfig, StreamSearch};
    use crate::Stream;

    let mut search = StreamSearch::new(
        Pattern::new("HELLO+", false).unwrap(),
        SearchConfig::default(),
    );
    let raw = Stream::new(
        7,
        "10.0.0.1:5000".parse().unwrap(),
        "10.0.0.2:443".parse().unwrap(),
    );
    let tls = Stream { tls: true, ..raw };
    let found: std::cell::RefCell<Vec<(bool, u64, Vec<u8>)>> = Default::default();
    let rec = |m: super::Match<'_>| {
        found
            .borrow_mut()
            .push((m.stream.tls, m.offset, m.bytes().to_vec()))
    };
    search.data(raw, C2S, 0, b"xxHEL", 1, &rec);
    search.data(tls, C2S, 0, b"LOyyHEL", 2, &rec);
    search.data(raw, C2S, 5, b"LO", 3, &rec);
    search.data(tls, C2S, 7, b"LOO", 4, &rec);
    // Ending the raw stream reports its match only; the plaintext's is still growing.
    search.end(raw, &rec);
    assert_eq!(*found.borrow(), [(false, 2, b"HELLO".to_vec())]);
    search.end(tls, &rec);
    assert_eq!(
        found.borrow()[1..],
        [(true, 4, b"HELLOO".to_vec())],
        "'LOyy' alone matches nothing: the plaintext never joins the raw 'HEL'"
    );
}
