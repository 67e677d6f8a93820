//! `http-trace --format`: one line per transaction with the fields the user names, as
//! httpry's `-f` and tshark's `-T fields -e` give them, e.g.
//! `--format '{ts} {client} {method} {host}{uri} {status} {duration_ms}'`.

use std::fmt::Write as _;

use pcap_analyzer::Stream;
use pcap_http_ws::TransactionView;

use super::Heads;
use crate::error::CliError;
use crate::output::write_time;
use crate::parallel::SessionId;
use crate::render::escape::Escaped;

/// The fields `--format` knows, with what each one is (for `--help` and the error).
pub(crate) const FIELDS: &[(&str, &str)] = &[
    (
        "ts",
        "time of the request's first byte (the response's without a request), as -t says",
    ),
    ("stream", "TCP session number"),
    ("h2_stream", "HTTP/2 stream, or -"),
    ("client", "client address:port"),
    ("server", "server address:port"),
    ("scheme", "http or https"),
    ("method", "request method"),
    ("host", "Host header (HTTP/2 :authority)"),
    ("uri", "request target as sent"),
    ("version", "HTTP/1.0, HTTP/1.1, HTTP/2 or HTTP/0.9"),
    ("status", "final status code, or -"),
    ("reason", "reason phrase"),
    (
        "duration_ms",
        "request's first byte to response's last, in milliseconds, or -",
    ),
    (
        "request_bytes",
        "request body bytes (after content decoding)",
    ),
    (
        "response_bytes",
        "response body bytes (after content decoding)",
    ),
    ("user_agent", "User-Agent header"),
    ("content_type", "response Content-Type header"),
    ("complete", "true when both messages were seen whole"),
];

/// A parsed `--format`: literal text and fields, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Format {
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Field(&'static str),
}

impl Format {
    /// Parses `{field}` placeholders; `{{` and `}}` are literal braces, `\t` a tab.
    pub(crate) fn parse(spec: &str) -> Result<Format, CliError> {
        let mut parts = Vec::new();
        let mut text = String::new();
        let mut chars = spec.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '{' if chars.peek() == Some(&'{') => {
                    chars.next();
                    text.push('{');
                }
                '}' if chars.peek() == Some(&'}') => {
                    chars.next();
                    text.push('}');
                }
                '\\' if chars.peek() == Some(&'t') => {
                    chars.next();
                    text.push('\t');
                }
                '{' => {
                    let name: String = chars.by_ref().take_while(|&c| c != '}').collect();
                    let Some(&(field, _)) = FIELDS.iter().find(|(f, _)| *f == name) else {
                        return Err(CliError::Format(format!(
                            "unknown field {{{name}}}; fields: {}",
                            FIELDS
                                .iter()
                                .map(|(f, _)| *f)
                                .collect::<Vec<_>>()
                                .join(", ")
                        )));
                    };
                    if !text.is_empty() {
                        parts.push(Part::Text(std::mem::take(&mut text)));
                    }
                    parts.push(Part::Field(field));
                }
                c => text.push(c),
            }
        }
        if !text.is_empty() {
            parts.push(Part::Text(text));
        }
        Ok(Format { parts })
    }

    /// Appends one transaction's line (newline included). Text off the wire is escaped.
    pub(super) fn write(
        &self,
        l: &mut String,
        stream: &Stream,
        tx: &TransactionView<'_>,
        heads: &Heads<'_>,
    ) {
        let rec = tx.record();
        let req = heads.request;
        let resp = heads.response;
        let header =
            |v: Option<&[u8]>| v.map_or_else(String::new, |b| Escaped::plain(b).to_string());
        for part in &self.parts {
            match part {
                Part::Text(t) => l.push_str(t),
                Part::Field(f) => {
                    let _ = match *f {
                        "ts" => {
                            write_time(
                                l,
                                rec.request_start_ns
                                    .or(rec.response_start_ns)
                                    .unwrap_or_default(),
                            );
                            Ok(())
                        }
                        "stream" => write!(l, "{}", SessionId::new(stream.id)),
                        "h2_stream" => match stream.h2_stream {
                            Some(n) => write!(l, "{n}"),
                            None => write!(l, "-"),
                        },
                        "client" => write!(l, "{}", stream.client),
                        "server" => write!(l, "{}", stream.server),
                        "scheme" => write!(l, "{}", if stream.tls { "https" } else { "http" }),
                        "method" => write!(l, "{}", Escaped::plain(req.map_or("", |r| r.method))),
                        "host" => write!(l, "{}", header(req.and_then(|r| r.host()))),
                        "uri" => write!(l, "{}", Escaped::plain(req.map_or("", |r| r.uri))),
                        "version" => write!(l, "{}", version(stream, req.map(|r| r.version))),
                        "status" => match rec.status {
                            Some(s) => write!(l, "{s}"),
                            None => write!(l, "-"),
                        },
                        "reason" => write!(l, "{}", Escaped::plain(resp.map_or("", |r| r.reason))),
                        "duration_ms" => match (rec.request_start_ns, rec.response_end_ns) {
                            (Some(a), Some(b)) => {
                                write!(l, "{:.3}", b.saturating_sub(a) as f64 / 1e6)
                            }
                            _ => write!(l, "-"),
                        },
                        "request_bytes" => write!(
                            l,
                            "{}",
                            rec.request_decoded_len.unwrap_or(rec.request_body_len)
                        ),
                        "response_bytes" => write!(
                            l,
                            "{}",
                            rec.response_decoded_len.unwrap_or(rec.response_body_len)
                        ),
                        "user_agent" => write!(l, "{}", header(req.and_then(|r| r.user_agent()))),
                        "content_type" => write!(
                            l,
                            "{}",
                            header(resp.and_then(|r| r.headers.get("content-type")))
                        ),
                        "complete" => write!(l, "{}", rec.complete),
                        _ => Ok(()),
                    };
                }
            }
        }
        l.push('\n');
    }
}

fn version(stream: &Stream, minor: Option<u8>) -> &'static str {
    if stream.h2_stream.is_some() {
        return "HTTP/2";
    }
    minor.map_or("-", pcap_http_ws::version_name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_fields_braces_and_tabs() {
        let f = Format::parse("{method} {{x}}\\t{status}").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            f.parts,
            [
                Part::Field("method"),
                Part::Text(" {x}\t".to_owned()),
                Part::Field("status"),
            ]
        );
        let e = Format::parse("{nope}")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            e.contains("unknown field {nope}") && e.contains("duration_ms"),
            "{e}"
        );
    }
}
