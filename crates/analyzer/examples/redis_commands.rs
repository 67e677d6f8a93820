//! Your own protocol on top of reassembled streams: every Redis command a client sends,
//! decoded from RESP (`*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n`, or inline `PING\r\n`).
//!
//! Shows how to add a decoder the framework does not have, as a [`Protocol`] registered
//! with the [`Analyzer`]. The analyzer offers it every TCP session whose first bytes pass
//! [`Protocol::probe`] (by content, whatever the port), then hands the session's
//! [`ProtocolSession`] each direction's bytes in order (out-of-order segments already
//! sorted, retransmissions dropped), in whatever pieces the segments cut them. The decoder
//! collects the client's bytes until a whole command is there, confirms the session as
//! Redis on its first command (or rejects it on bytes that are not RESP), and reports
//! commands to the handler through a trait of its own, [`Commands`]. A gap (bytes never
//! captured) clears the buffer and the parser resynchronises at the next `*` that starts a
//! line. The buffer is capped (`MAX_PENDING`) and counted in [`ProtocolSession::memory`],
//! so a hostile client cannot make it grow without bound.
//!
//! ```text
//! $ cargo run -p pcap-analyzer --example redis_commands -- tests/data/redis-commands.pcap
//! #0 10.0.0.1:50000 SET greeting "hello world"
//! $ sudo target/debug/examples/redis_commands -i lo    # with redis-server on lo
//! ```
//! `tests/data/redis-commands.pcap` is built by `crates/analyzer/tests/examples.rs`
//! (`PCAP_REGENERATE=1 cargo test -p pcap-analyzer --test examples` rewrites it).

use std::convert::Infallible;
use std::ops::ControlFlow;

use pcap_analyzer::protocol::{Cx, Detection, Protocol, ProtocolSession};
use pcap_analyzer::{Analyzer, AnalyzerConfig, Handler, Stream};
use pcap_capture::Source;
use pcap_capture::live::LiveOptions;
use pcap_tcp_reassembly::Direction;

/// The most client bytes held while waiting for the end of a command.
const MAX_PENDING: usize = 1 << 20;
/// The most arguments accepted in one command.
const MAX_ARGS: usize = 1024;

/// What the parser made of the start of a buffer.
#[derive(Debug, PartialEq)]
enum Parsed {
    /// A whole command (its arguments) and how many bytes it took.
    Command(Vec<String>, usize),
    /// The command is not complete yet.
    NeedMore,
    /// Not RESP.
    Invalid,
}

/// Position of the next `\r\n` at or after `from`.
fn crlf(buf: &[u8], from: usize) -> Option<usize> {
    let rest = buf.get(from..)?;
    rest.windows(2).position(|w| w == b"\r\n").map(|i| from + i)
}

/// The decimal number after a one-byte type marker (`*3`, `$5`).
fn number(line: &[u8]) -> Option<usize> {
    std::str::from_utf8(line.get(1..)?).ok()?.parse().ok()
}

/// Parses one command at the start of `buf`: a RESP array of bulk strings, or an inline
/// command (words separated by spaces).
fn parse_command(buf: &[u8]) -> Parsed {
    let Some(end) = crlf(buf, 0) else {
        return Parsed::NeedMore;
    };
    let line = buf.get(..end).unwrap_or_default();
    if line.first() != Some(&b'*') {
        let words = line.split(|&b| b == b' ').filter(|w| !w.is_empty());
        let args = words
            .map(|w| String::from_utf8_lossy(w).into_owned())
            .collect();
        return Parsed::Command(args, end + 2);
    }
    let Some(count) = number(line).filter(|&n| n <= MAX_ARGS) else {
        return Parsed::Invalid;
    };
    let mut args = Vec::with_capacity(count);
    let mut pos = end + 2;
    for _ in 0..count {
        let Some(end) = crlf(buf, pos) else {
            return Parsed::NeedMore;
        };
        let header = buf.get(pos..end).unwrap_or_default();
        let Some(len) = number(header).filter(|_| header.first() == Some(&b'$')) else {
            return Parsed::Invalid;
        };
        let start = end + 2;
        let Some(stop) = start.checked_add(len).filter(|&s| s <= MAX_PENDING) else {
            return Parsed::Invalid;
        };
        match buf.get(stop..stop + 2) {
            None => return Parsed::NeedMore,
            Some(b"\r\n") => {}
            Some(_) => return Parsed::Invalid,
        }
        args.push(String::from_utf8_lossy(buf.get(start..stop).unwrap_or_default()).into_owned());
        pos = stop + 2;
    }
    Parsed::Command(args, pos)
}

/// Where the next command may start after lost bytes: a `*` at the start of a line.
fn resync_point(buf: &[u8]) -> Option<usize> {
    if buf.first() == Some(&b'*') {
        return Some(0);
    }
    buf.windows(3).position(|w| w == b"\r\n*").map(|i| i + 2)
}

/// What the Redis decoder reports, for handlers that want Redis commands.
trait Commands: Handler {
    /// A whole command from the client.
    fn command(&mut self, stream: &Stream, args: &[String]) -> ControlFlow<Self::Error>;

    /// Something the decoder skipped, and why.
    fn skipped(&mut self, stream: &Stream, why: &str) -> ControlFlow<Self::Error>;
}

/// The protocol: Redis, found by content.
struct Redis;

impl<H: Commands> Protocol<H> for Redis {
    fn name(&self) -> &'static str {
        "redis"
    }

    /// A client that starts with an array (`*`) or a word (an inline command), a server
    /// that starts with a RESP reply type, or a session picked up after lost bytes.
    fn probe(&self, dir: Direction, prefix: &[u8]) -> bool {
        match (dir, prefix.first()) {
            (_, None) => true,
            (Direction::ClientToServer, Some(&b)) => b == b'*' || b.is_ascii_alphabetic(),
            (Direction::ServerToClient, Some(b)) => b"+-:$*".contains(b),
        }
    }

    fn start(&self) -> Box<dyn ProtocolSession<H>> {
        Box::new(Session::default())
    }
}

/// One client's unparsed bytes.
#[derive(Default)]
struct Session {
    pending: Vec<u8>,
    /// Bytes were lost: skip to a likely command start before parsing.
    lost: bool,
    detection: Option<Detection>,
}

impl Session {
    /// Parses what the client sent so far, reporting each whole command.
    fn client_bytes<H: Commands>(&mut self, cx: &mut Cx<'_, H>, bytes: &[u8]) {
        self.pending.extend_from_slice(bytes);
        if self.lost {
            let Some(at) = resync_point(&self.pending) else {
                self.pending.clear();
                return;
            };
            self.pending.drain(..at);
            self.lost = false;
        }
        let stream = cx.stream;
        let mut used = 0;
        loop {
            match parse_command(self.pending.get(used..).unwrap_or_default()) {
                Parsed::Command(args, len) => {
                    used += len;
                    self.detection = Some(Detection::Confirmed);
                    if !args.is_empty() {
                        cx.report(|h| h.command(&stream, &args));
                    }
                }
                Parsed::NeedMore => break,
                Parsed::Invalid if self.detection.is_none() => {
                    // Not Redis after all: let the analyzer drop this decoder.
                    self.detection = Some(Detection::Rejected);
                    self.pending = Vec::new();
                    return;
                }
                Parsed::Invalid => {
                    cx.report(|h| h.skipped(&stream, "not RESP, skipping to the next command"));
                    used = self.pending.len();
                    self.lost = true;
                    break;
                }
            }
        }
        self.pending.drain(..used);
        if self.pending.len() > MAX_PENDING {
            cx.report(|h| h.skipped(&stream, "command too long, skipping it"));
            self.pending.clear();
            self.lost = true;
        }
    }
}

impl<H: Commands> ProtocolSession<H> for Session {
    fn data(&mut self, cx: &mut Cx<'_, H>, dir: Direction, _ts_ns: i64, bytes: &[u8]) {
        if dir == Direction::ClientToServer {
            self.client_bytes(cx, bytes);
        }
    }

    fn gap(&mut self, cx: &mut Cx<'_, H>, dir: Direction, _ts_ns: i64, len: u64) {
        if dir == Direction::ClientToServer {
            let stream = cx.stream;
            cx.report(|h| {
                h.skipped(
                    &stream,
                    &format!("{len} bytes not captured, resynchronising"),
                )
            });
            self.pending.clear();
            self.lost = true;
        }
    }

    fn end(&mut self, _cx: &mut Cx<'_, H>, _dir: Option<Direction>, _ts_ns: i64) {}

    fn abandon(&mut self, cx: &mut Cx<'_, H>, budget: usize, _ts_ns: i64) {
        let stream = cx.stream;
        let why = format!("over the {budget}-byte memory budget, no longer decoded");
        cx.report(|h| h.skipped(&stream, &why));
    }

    fn memory(&self) -> usize {
        self.pending.capacity()
    }

    fn detection(&self) -> Detection {
        self.detection.unwrap_or(Detection::Undecided)
    }
}

/// Arguments separated by spaces; one with spaces or odd bytes is quoted.
fn show(args: &[String]) -> String {
    let shown: Vec<String> = args
        .iter()
        .map(|a| {
            if !a.is_empty() && a.chars().all(|c| c.is_ascii_graphic()) {
                a.clone()
            } else {
                format!("{a:?}")
            }
        })
        .collect();
    shown.join(" ")
}

/// The handler: prints each command with its session number and client.
struct Print;

impl Handler for Print {
    type Error = Infallible;
}

impl Commands for Print {
    fn command(&mut self, stream: &Stream, args: &[String]) -> ControlFlow<Infallible> {
        println!("#{} {} {}", stream.id, stream.client, show(args));
        ControlFlow::Continue(())
    }

    fn skipped(&mut self, stream: &Stream, why: &str) -> ControlFlow<Infallible> {
        println!("#{} {} {why}", stream.id, stream.client);
        ControlFlow::Continue(())
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut source = match args.as_slice() {
        [flag, device] if flag == "-i" => Source::open_live(device, &LiveOptions::default())?,
        [path] => Source::open_file(path)?,
        _ => return Err("usage: redis_commands FILE | redis_commands -i IFACE".into()),
    };
    let mut analyzer = Analyzer::new(AnalyzerConfig::tcp_only());
    analyzer.register(Box::new(Redis));
    analyzer.run(&mut source, &mut Print)?;
    Ok(())
}

/// Run with `cargo test -p pcap-analyzer --example redis_commands`.
#[cfg(test)]
mod tests {
    use super::{Parsed, parse_command, resync_point};

    const SET: &[u8] = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nv a l\r\n";

    #[test]
    fn a_whole_command_and_every_prefix_of_it() {
        let args = ["SET", "k", "v a l"].map(String::from).to_vec();
        assert_eq!(parse_command(SET), Parsed::Command(args, SET.len()));
        for len in 0..SET.len() {
            assert_eq!(
                parse_command(&SET[..len]),
                Parsed::NeedMore,
                "prefix of {len} bytes"
            );
        }
    }

    #[test]
    fn inline_commands_and_junk() {
        let inline = Parsed::Command(vec!["PING".into(), "x".into()], 9);
        assert_eq!(parse_command(b"PING  x\r\n*1"), inline);
        assert_eq!(parse_command(b"*2\r\n:1\r\n"), Parsed::Invalid);
        assert_eq!(parse_command(b"*1\r\n$3\r\nabcXY"), Parsed::Invalid);
        assert_eq!(parse_command(b"*99999999\r\n"), Parsed::Invalid);
        assert_eq!(
            parse_command(b"*1\r\n$18446744073709551615\r\n"),
            Parsed::Invalid
        );
    }

    #[test]
    fn resynchronises_at_a_line_starting_with_a_star() {
        assert_eq!(resync_point(b"*1\r\n"), Some(0));
        assert_eq!(resync_point(b"lost\r\n*1\r\n"), Some(6));
        assert_eq!(resync_point(b"no*star"), None);
    }
}
