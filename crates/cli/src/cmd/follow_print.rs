//! `follow --stream N` / `--stream-filter ENDPOINT`: one TCP session printed to the
//! terminal, like `tshark -z follow,tcp,ascii` and `tcpflow -c`.
//!
//! ```text
//! === stream 0: 10.0.0.1:40000 -> 10.0.0.2:80 ===
//! GET / HTTP/1.1              (client: red)
//! Host: a
//!
//! <TAB>HTTP/1.1 200 OK        (server: cyan; without colours, a tab first)
//! [gap: 1200 bytes missing s2c at offset 5000]
//! === end of stream 0: 27 bytes c2s, 1219 bytes s2c ===
//! ```
//!
//! Both directions come in the order the reassembler delivers them (arrival order, each
//! direction in stream order). Bytes are escaped with the shared terminal policy
//! ([`Text::BODY_LINE`]: line breaks and tabs kept, a CR before a LF dropped, controls and
//! bidi characters escaped), so a session's bytes can never drive the terminal.

use std::fmt::Write as _;
use std::net::{IpAddr, SocketAddr};
use std::ops::ControlFlow;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use pcap_analyzer::Handler;
use pcap_tcp_reassembly::{Direction, Event, EventKind, PerDir};

use crate::args::{FollowArgs, OutputArgs, TimeFormat};
use crate::cmd::sessions::analyze;
use crate::color::{Color, Palette};
use crate::error::{CliError, flow};
use crate::input::Input;
use crate::output::Output;
use crate::render::escape::{Text, write_text};

/// One `--stream-filter` endpoint: an address, a port, or both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EndpointFilter {
    /// The address, if given.
    pub ip: Option<IpAddr>,
    /// The port, if given.
    pub port: Option<u16>,
}

impl EndpointFilter {
    fn matches(self, a: SocketAddr) -> bool {
        self.ip.is_none_or(|ip| ip == a.ip()) && self.port.is_none_or(|p| p == a.port())
    }
}

/// Parses `ADDR:PORT`, `[ADDR]:PORT`, `ADDR` (IPv4 or IPv6) or `:PORT`.
pub fn parse_endpoint(s: &str) -> Result<EndpointFilter, String> {
    let bad = || format!("expected ADDR:PORT, [ADDR]:PORT, ADDR or :PORT, not {s:?}");
    if let Ok(a) = s.parse::<SocketAddr>() {
        return Ok(EndpointFilter {
            ip: Some(a.ip()),
            port: Some(a.port()),
        });
    }
    if let Ok(ip) = s.trim_start_matches('[').trim_end_matches(']').parse() {
        return Ok(EndpointFilter {
            ip: Some(ip),
            port: None,
        });
    }
    let port = s.strip_prefix(':').ok_or_else(bad)?;
    Ok(EndpointFilter {
        ip: None,
        port: Some(port.parse().map_err(|_| bad())?),
    })
}

/// Runs `follow` without `-o`: one session to the terminal. Exit code 1 when no session
/// matched.
pub fn run(args: &FollowArgs) -> Result<(), CliError> {
    let mut input = Input::open(&args.source, None)?;
    let palette = Palette::new(&OutputArgs {
        json: false,
        no_color: args.no_color,
        time: TimeFormat::default(),
        utc: false,
    });
    let mut printer = Printer {
        stream: args.stream,
        filters: args.stream_filter.clone(),
        chosen: None,
        palette,
        indent: !palette.is_enabled(),
        out: Output::stdout(input.is_live()),
        line: String::new(),
        open_line: None,
        bytes: PerDir::default(),
        stop: input.stop_flag(),
        done: false,
    };
    let ran = analyze(&mut input, &mut printer, &args.tcp);
    let finished = printer.out.finish();
    ran.finish(&mut input).and(finished)?;
    if printer.chosen.is_none() {
        eprintln!("pcap-cli: follow: no TCP session matched --stream/--stream-filter");
        return Err(CliError::NoMatch);
    }
    Ok(())
}

/// The handler.
struct Printer {
    stream: Option<u64>,
    filters: Vec<EndpointFilter>,
    /// The session shown, once found.
    chosen: Option<u64>,
    palette: Palette,
    /// Without colours, the server's lines start with a tab.
    indent: bool,
    out: Output,
    line: String,
    /// The direction whose last line has no line break yet.
    open_line: Option<Direction>,
    bytes: PerDir<u64>,
    stop: Arc<AtomicBool>,
    /// The chosen session ended.
    done: bool,
}

impl Printer {
    /// Whether `event`'s session is the one to show (choosing it when it is the first match).
    fn wanted(&mut self, event: &Event<'_>) -> bool {
        if self.done {
            return false;
        }
        if let Some(c) = self.chosen {
            return c == event.session;
        }
        if self.stream.is_some_and(|n| n != event.session) {
            return false;
        }
        let ends = [event.client, event.server];
        let ok = match self.filters.as_slice() {
            [] => true,
            [f] => ends.iter().any(|&a| f.matches(a)),
            [f, g, ..] => {
                (f.matches(event.client) && g.matches(event.server))
                    || (g.matches(event.client) && f.matches(event.server))
            }
        };
        if ok {
            self.chosen = Some(event.session);
            let _ = writeln!(
                self.line,
                "=== stream {}: {} -> {} ===",
                event.session, event.client, event.server
            );
        }
        ok
    }

    fn close_line(&mut self) {
        if self.open_line.take().is_some() {
            self.line.push('\n');
        }
    }

    /// Appends `bytes` of `dir`, line by line, painted for the direction.
    fn data(&mut self, dir: Direction, bytes: &[u8]) {
        if self.open_line.is_some_and(|d| d != dir) {
            self.close_line();
        }
        self.bytes[dir] = self.bytes[dir].saturating_add(bytes.len() as u64);
        let color = match dir {
            Direction::ClientToServer => Color::Red,
            Direction::ServerToClient => Color::Cyan,
        };
        let mut pieces = bytes.split(|&b| b == b'\n').peekable();
        while let Some(piece) = pieces.next() {
            let last = pieces.peek().is_none();
            if last && piece.is_empty() {
                break;
            }
            let piece = match piece.strip_suffix(b"\r") {
                Some(p) if !last => p,
                _ => piece,
            };
            if self.open_line.is_none()
                && self.indent
                && dir == Direction::ServerToClient
                && !piece.is_empty()
            {
                self.line.push('\t');
            }
            let mut text = String::new();
            let _ = write_text(&mut text, piece, Text::BODY_LINE);
            let _ = write!(self.line, "{}", self.palette.paint(color, text));
            if last {
                self.open_line = Some(dir);
            } else {
                self.line.push('\n');
                self.open_line = None;
            }
        }
    }

    fn flush_line(&mut self) -> Result<(), CliError> {
        self.out.buffer().extend_from_slice(self.line.as_bytes());
        self.line.clear();
        self.out.packet_done()
    }
}

impl Handler for Printer {
    type Error = CliError;

    fn tcp(&mut self, event: &Event<'_>) -> ControlFlow<CliError> {
        if !self.wanted(event) {
            return ControlFlow::Continue(());
        }
        match event.kind {
            EventKind::Data { dir, bytes, .. } => self.data(dir, bytes),
            EventKind::Gap { dir, offset, len } => {
                self.close_line();
                let marker = format!(
                    "[gap: {len} bytes missing {} at offset {offset}]",
                    dir.as_str()
                );
                let _ = writeln!(self.line, "{}", self.palette.paint(Color::Yellow, marker));
            }
            ref kind if kind.ended().is_some() => {
                self.close_line();
                let _ = writeln!(
                    self.line,
                    "=== end of stream {}: {} bytes c2s, {} bytes s2c ===",
                    event.session,
                    self.bytes[Direction::ClientToServer],
                    self.bytes[Direction::ServerToClient]
                );
                self.done = true;
                self.stop.store(true, Ordering::Relaxed);
                return flow(self.flush_line());
            }
            _ => {}
        }
        ControlFlow::Continue(())
    }

    fn packet_done(&mut self) -> ControlFlow<CliError> {
        flow(self.flush_line())
    }

    fn finished(&mut self) -> ControlFlow<CliError> {
        flow(self.flush_line())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_parse() {
        let v4 = parse_endpoint("10.0.0.1:80").unwrap();
        assert_eq!(v4.port, Some(80));
        assert!(v4.matches("10.0.0.1:80".parse().unwrap()));
        assert!(!v4.matches("10.0.0.1:81".parse().unwrap()));
        let v6 = parse_endpoint("[2001:db8::1]:443").unwrap();
        assert!(v6.matches("[2001:db8::1]:443".parse().unwrap()));
        let ip = parse_endpoint("2001:db8::1").unwrap();
        assert_eq!(ip.port, None);
        assert!(parse_endpoint("[2001:db8::1]").unwrap().ip.is_some());
        assert_eq!(parse_endpoint(":8080").unwrap().ip, None);
        assert!(parse_endpoint("nope").is_err());
        assert!(parse_endpoint(":99999").is_err());
    }
}
