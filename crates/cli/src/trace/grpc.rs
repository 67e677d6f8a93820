//! What the trace shows of HTTP/2 besides its streams' transactions: gRPC messages and
//! status (always), RST_STREAM, GOAWAY and decoding errors (with `--tcp-verbose`). The web
//! view's feed gets the gRPC, RST_STREAM and GOAWAY objects too (its tracer is verbose).

use std::fmt::Write as _;

use pcap_analyzer::{Http2Event, Stream};
use pcap_http_ws::Direction;
use pcap_http2::frame::error_code_name;
use pcap_http2::grpc::{RawValue, raw_fields};
use pcap_http2::{GrpcMessage, GrpcStatus};

use super::Printer;
use super::sink::Kind;
use super::text::hex_text;
use crate::color::Color;
use crate::output::write_time;
use crate::parallel::SessionId;
use crate::render::json::{Obj, push_ts};

/// Longest `bytes` field value shown by `--grpc-raw` (text and JSON).
const RAW_SHOWN: usize = 64;

/// `CANCEL`, or the number for codes RFC 9113 does not name.
fn code_name(code: u32) -> String {
    error_code_name(code).map_or_else(|| format!("0x{code:x}"), str::to_owned)
}

impl Printer {
    pub(super) fn http2(&mut self, stream: &Stream, event: &Http2Event<'_>) {
        match event {
            Http2Event::GrpcMessage(m) => self.grpc_message(stream, m),
            Http2Event::GrpcStatus(g) => self.grpc_status(stream, g),
            Http2Event::RstStream {
                dir, ts_ns, code, ..
            } if self.tcp_verbose => {
                let who = match dir {
                    Direction::ClientToServer => "by client",
                    Direction::ServerToClient => "by server",
                };
                let detail = format!("{} {who}", code_name(*code));
                self.h2_event(stream, *ts_ns, *dir, "rst_stream", *code, &detail, None);
            }
            Http2Event::GoAway {
                dir,
                ts_ns,
                last_stream,
                code,
                ..
            } if self.tcp_verbose => {
                let detail = format!("{} last stream {last_stream}", code_name(*code));
                let last = Some(*last_stream);
                self.h2_event(stream, *ts_ns, *dir, "goaway", *code, &detail, last);
            }
            Http2Event::Error {
                dir, ts_ns, error, ..
            } if self.tcp_verbose && !self.json => {
                let mut l = std::mem::take(&mut self.line);
                l.clear();
                write_time(&mut l, *ts_ns);
                let _ = writeln!(
                    l,
                    " {} {}",
                    self.flow(stream, *dir),
                    self.palette.paint(
                        Color::Red,
                        format_args!("http2 error: {}", hex_text(error.to_string().as_bytes()))
                    )
                );
                self.out.buffer().extend_from_slice(l.as_bytes());
                self.line = l;
            }
            _ => {}
        }
    }

    /// One RST_STREAM or GOAWAY (`--tcp-verbose`).
    #[allow(clippy::too_many_arguments)]
    fn h2_event(
        &mut self,
        stream: &Stream,
        ts: i64,
        dir: Direction,
        name: &str,
        code: u32,
        detail: &str,
        last_stream: Option<u32>,
    ) {
        if self.json {
            let out = self.out.buffer();
            let mut o = Obj::new(out);
            o.str("type", "http2");
            SessionId::new(stream.id).push(o.key("stream"));
            if let Some(n) = stream.h2_stream {
                o.u64("h2_stream", u64::from(n));
            }
            o.socket_addr("client", stream.client);
            o.socket_addr("server", stream.server);
            push_ts(o.key("ts"), ts);
            o.str("event", name);
            o.str("dir", dir.as_str());
            o.str("error", &code_name(code));
            o.u64("code", u64::from(code));
            if let Some(n) = last_stream {
                o.u64("last_stream", u64::from(n));
            }
            o.end();
            out.push(b'\n');
            self.out.done(Kind::Http2);
        } else {
            let mut l = std::mem::take(&mut self.line);
            l.clear();
            write_time(&mut l, ts);
            let _ = writeln!(
                l,
                " {} h2 {} {detail}",
                self.flow(stream, dir),
                self.palette.paint(Color::Red, name),
            );
            self.out.buffer().extend_from_slice(l.as_bytes());
            self.line = l;
        }
    }

    fn grpc_message(&mut self, stream: &Stream, m: &GrpcMessage<'_>) {
        let shown = m.decoded.or(if m.compressed { None } else { m.data });
        let raw = self.grpc_raw.then(|| shown.map(raw_fields)).flatten();
        if self.json {
            let out = self.out.buffer();
            let mut o = Obj::new(out);
            o.str("type", "grpc");
            SessionId::new(stream.id).push(o.key("stream"));
            o.u64("h2_stream", u64::from(m.stream));
            o.str("dir", m.dir.as_str());
            o.bytes_str("path", m.path.as_bytes());
            o.u64("len", u64::from(m.len));
            o.bool("compressed", m.compressed);
            push_ts(o.key("ts"), m.ts_ns);
            if let Some(d) = m.decoded {
                o.u64("decoded_len", d.len() as u64);
            }
            if let Some((fields, complete)) = &raw {
                let mut a = o.arr("fields");
                for f in fields {
                    let mut fo = a.obj();
                    fo.u64("field", f.number);
                    fo.u64("wire_type", u64::from(f.wire_type));
                    match f.value {
                        RawValue::Varint(v) | RawValue::Fixed64(v) => fo.u64("value", v),
                        RawValue::Fixed32(v) => fo.u64("value", u64::from(v)),
                        RawValue::Bytes(b) => {
                            fo.u64("len", b.len() as u64);
                            fo.bytes_str("value", b.get(..RAW_SHOWN).unwrap_or(b));
                        }
                        _ => {}
                    }
                    fo.end();
                }
                a.end();
                o.bool("fields_complete", *complete);
            }
            o.end();
            out.push(b'\n');
            self.out.done(Kind::Grpc);
            return;
        }
        let mut l = std::mem::take(&mut self.line);
        l.clear();
        write_time(&mut l, m.ts_ns);
        let _ = write!(
            l,
            " {} grpc {} {} bytes",
            self.flow(stream, m.dir),
            self.palette.paint(Color::Bold, hex_text(m.path.as_bytes())),
            m.len
        );
        if m.compressed {
            let _ = write!(l, " compressed");
            if let Some(d) = m.decoded {
                let _ = write!(l, " ({} decoded)", d.len());
            }
        }
        l.push('\n');
        if let Some((fields, complete)) = raw {
            for f in fields {
                let _ = match f.value {
                    RawValue::Varint(v) => writeln!(l, "    {}: varint {v}", f.number),
                    RawValue::Fixed64(v) => writeln!(l, "    {}: fixed64 {v}", f.number),
                    RawValue::Fixed32(v) => writeln!(l, "    {}: fixed32 {v}", f.number),
                    RawValue::Bytes(b) => {
                        let more = if b.len() > RAW_SHOWN { "..." } else { "" };
                        writeln!(
                            l,
                            "    {}: bytes[{}] \"{}\"{more}",
                            f.number,
                            b.len(),
                            hex_text(b.get(..RAW_SHOWN).unwrap_or(b))
                        )
                    }
                    _ => Ok(()),
                };
            }
            if !complete {
                let _ = writeln!(l, "    (not protobuf past this point)");
            }
        }
        self.out.buffer().extend_from_slice(l.as_bytes());
        self.line = l;
    }

    fn grpc_status(&mut self, stream: &Stream, g: &GrpcStatus<'_>) {
        if self.json {
            let out = self.out.buffer();
            let mut o = Obj::new(out);
            o.str("type", "grpc_status");
            SessionId::new(stream.id).push(o.key("stream"));
            o.u64("h2_stream", u64::from(g.stream));
            o.bytes_str("path", g.path.as_bytes());
            match g.status {
                Some(s) => o.u64("status", u64::from(s)),
                None => o.key("status").extend_from_slice(b"null"),
            }
            match &g.message {
                Some(m) => o.bytes_str("message", m),
                None => o.key("message").extend_from_slice(b"null"),
            }
            o.bool("trailers_only", g.trailers_only);
            push_ts(o.key("ts"), g.ts_ns);
            o.end();
            out.push(b'\n');
            self.out.done(Kind::Grpc);
            return;
        }
        let mut l = std::mem::take(&mut self.line);
        l.clear();
        write_time(&mut l, g.ts_ns);
        let status = g
            .status
            .map_or_else(|| "(none)".to_owned(), |s| s.to_string());
        let color = if g.status == Some(0) {
            Color::Green
        } else {
            Color::Red
        };
        let _ = write!(
            l,
            " {} grpc {} status {}",
            self.flow(stream, Direction::ServerToClient),
            self.palette.paint(Color::Bold, hex_text(g.path.as_bytes())),
            self.palette.paint(color, status)
        );
        if let Some(m) = &g.message {
            let _ = write!(l, " \"{}\"", hex_text(m));
        }
        l.push('\n');
        self.out.buffer().extend_from_slice(l.as_bytes());
        self.line = l;
    }
}
