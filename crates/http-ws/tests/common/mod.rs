//! Transcript harness: feed byte-exact exchanges (in any chunking) and record events as text.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use pcap_http_ws::{HttpConfig, HttpEvent, HttpSession, WsControlKind, WsPayload};
use pcap_tcp_reassembly::Direction;

pub const C: Direction = Direction::ClientToServer;
pub const S: Direction = Direction::ServerToClient;

/// One step of a transcript; every step gets its own timestamp (its index).
#[derive(Debug, Clone)]
pub enum Step {
    Data(Direction, Vec<u8>),
    Gap(Direction, u64),
    End(Option<Direction>),
}

pub fn c(b: impl AsRef<[u8]>) -> Step {
    Step::Data(C, b.as_ref().to_vec())
}
pub fn s(b: impl AsRef<[u8]>) -> Step {
    Step::Data(S, b.as_ref().to_vec())
}

/// Escaped bytes, long ones shortened to a prefix and their length.
fn esc(b: &[u8]) -> String {
    if b.len() > 64 {
        format!("{}...({} bytes)", b[..32].escape_ascii(), b.len())
    } else {
        b.escape_ascii().to_string()
    }
}

/// `1.1`, `1.0` or `0.9`: the version name without `HTTP/`.
fn version(v: u8) -> &'static str {
    pcap_http_ws::version_name(v)
        .strip_prefix("HTTP/")
        .unwrap_or_default()
}

/// Records events as lines; consecutive body bytes of one kind are merged so the record does
/// not depend on chunking.
#[derive(Default)]
pub struct Recorder {
    pub lines: Vec<String>,
    body: Vec<(String, Vec<u8>)>,
}

impl Recorder {
    fn flush(&mut self) {
        for (label, data) in std::mem::take(&mut self.body) {
            self.lines.push(format!("{label} {}", esc(&data)));
        }
    }

    pub fn on(&mut self, ev: HttpEvent<'_>) {
        let bytes = match &ev {
            HttpEvent::Body {
                dir, data, decoded, ..
            } => {
                let kind = if *decoded { "decoded" } else { "raw" };
                Some((format!("body {} {kind}", dir.as_str()), *data))
            }
            HttpEvent::Tunnel { dir, data, .. } => {
                Some((format!("tunnel {}", dir.as_str()), *data))
            }
            _ => None,
        };
        if let Some((label, data)) = bytes {
            match self.body.iter_mut().find(|(l, _)| *l == label) {
                Some((_, buf)) => buf.extend_from_slice(data),
                None => self.body.push((label, data.to_vec())),
            }
            return;
        }
        self.flush();
        let line = match ev {
            HttpEvent::Request(r) => {
                let hs: Vec<String> = r
                    .headers
                    .iter()
                    .map(|(n, v)| format!("{n}={}", esc(v)))
                    .collect();
                format!(
                    "req #{} {} {} {} ts={} [{}]",
                    r.index,
                    r.method,
                    r.uri,
                    version(r.version),
                    r.ts_ns,
                    hs.join(";")
                )
            }
            HttpEvent::Response(r) => {
                let hs: Vec<String> = r
                    .headers
                    .iter()
                    .map(|(n, v)| format!("{n}={}", esc(v)))
                    .collect();
                format!(
                    "resp {} {} {} ts={}{} [{}]",
                    r.status,
                    r.reason,
                    version(r.version),
                    r.ts_ns,
                    if r.interim { " interim" } else { "" },
                    hs.join(";")
                )
            }
            HttpEvent::Trailers { dir, headers, .. } => {
                let hs: Vec<String> = headers
                    .iter()
                    .map(|(n, v)| format!("{n}={}", esc(v)))
                    .collect();
                format!("trailers {} [{}]", dir.as_str(), hs.join(";"))
            }
            HttpEvent::MessageComplete(m) => format!(
                "done {} len={} dec={:?}{}{}",
                m.dir.as_str(),
                m.body_len,
                m.decoded_len,
                if m.decoded_truncated {
                    " truncated"
                } else {
                    ""
                },
                if m.complete { "" } else { " INCOMPLETE" }
            ),
            HttpEvent::Transaction(t) => format!(
                "tx #{} status={:?} req={:?}..{:?} resp={:?}..{:?} sizes={}/{}/{:?} {}/{}/{:?} complete={}",
                t.index,
                t.status,
                t.request_start_ns,
                t.request_end_ns,
                t.response_start_ns,
                t.response_end_ns,
                t.request_head_len,
                t.request_body_len,
                t.request_decoded_len,
                t.response_head_len,
                t.response_body_len,
                t.response_decoded_len,
                t.complete
            ),
            HttpEvent::Tunnel { dir, data, .. } => format!("tunnel {} {}", dir.as_str(), esc(data)),
            HttpEvent::WsUpgrade(h) => {
                format!(
                    "ws upgrade accept={:?} pmd={:?}",
                    h.accept_valid, h.permessage_deflate
                )
            }
            HttpEvent::WsFrame(f) => format!(
                "frame {} op={} fin={} rsv1={} masked={} len={}",
                f.dir.as_str(),
                f.opcode,
                f.fin,
                f.rsv1,
                f.masked,
                f.payload_len
            ),
            HttpEvent::WsMessage(m) => match m.payload {
                WsPayload::Text(t) => {
                    format!(
                        "msg {} text frames={} z={} {t:?}",
                        m.dir.as_str(),
                        m.frames,
                        m.compressed
                    )
                }
                WsPayload::Binary(b) => {
                    format!(
                        "msg {} binary frames={} z={} {}",
                        m.dir.as_str(),
                        m.frames,
                        m.compressed,
                        esc(b)
                    )
                }
            },
            HttpEvent::WsControl(c) => match c.kind {
                WsControlKind::Ping(p) => format!("ping {} {}", c.dir.as_str(), esc(p)),
                WsControlKind::Pong(p) => format!("pong {} {}", c.dir.as_str(), esc(p)),
                WsControlKind::Close { code, reason } => {
                    format!("close {} {code:?} {reason:?}", c.dir.as_str())
                }
                _ => "control ?".to_owned(),
            },
            HttpEvent::Error(e) => format!("error {} {}", e.dir.as_str(), e.kind),
            _ => "other".to_owned(),
        };
        self.lines.push(line);
    }

    pub fn finish(mut self) -> Vec<String> {
        self.flush();
        self.lines
    }
}

/// Feeds `steps`, splitting data step `i` at the cut points `cuts(i, len)`.
pub fn run_chunked(
    cfg: &HttpConfig,
    steps: &[Step],
    mut cuts: impl FnMut(usize, usize) -> Vec<usize>,
) -> Vec<String> {
    let mut session = HttpSession::new(cfg.clone());
    let mut rec = Recorder::default();
    for (i, step) in steps.iter().enumerate() {
        let ts = i as i64;
        match step {
            Step::Data(dir, bytes) => {
                let mut points = cuts(i, bytes.len());
                points.retain(|&p| p > 0 && p < bytes.len());
                points.sort_unstable();
                points.dedup();
                let mut start = 0;
                for p in points.into_iter().chain([bytes.len()]) {
                    session.data(*dir, ts, &bytes[start..p], &mut |e| rec.on(e));
                    start = p;
                }
            }
            Step::Gap(dir, len) => session.gap(*dir, ts, *len, &mut |e| rec.on(e)),
            Step::End(dir) => session.end(*dir, ts, &mut |e| rec.on(e)),
        }
    }
    rec.finish()
}

/// Feeds each step whole.
pub fn run(cfg: &HttpConfig, steps: &[Step]) -> Vec<String> {
    run_chunked(cfg, steps, |_, _| Vec::new())
}

/// Feeds each step one byte at a time.
pub fn run_bytewise(cfg: &HttpConfig, steps: &[Step]) -> Vec<String> {
    run_chunked(cfg, steps, |_, len| (1..len).collect())
}

/// A WebSocket frame; `mask` given means masked.
pub fn frame(fin: bool, rsv1: bool, opcode: u8, mask: Option<[u8; 4]>, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![(u8::from(fin) << 7) | (u8::from(rsv1) << 6) | opcode];
    let m = if mask.is_some() { 0x80 } else { 0 };
    let len = payload.len();
    if len < 126 {
        out.push(m | len as u8);
    } else if len <= 0xffff {
        out.push(m | 126);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(m | 127);
        out.extend_from_slice(&(len as u64).to_be_bytes());
    }
    match mask {
        Some(k) => {
            out.extend_from_slice(&k);
            out.extend(payload.iter().enumerate().map(|(i, b)| b ^ k[i % 4]));
        }
        None => out.extend_from_slice(payload),
    }
    out
}

/// The RFC 6455 section 1.3 handshake (key and accept from the RFC).
pub fn ws_handshake(extensions: Option<&str>, accept: &str) -> Vec<Step> {
    let ext = extensions
        .map(|e| format!("Sec-WebSocket-Extensions: {e}\r\n"))
        .unwrap_or_default();
    vec![
        c(format!(
            "GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n{ext}Sec-WebSocket-Version: 13\r\n\r\n"
        )),
        s(format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Accept: {accept}\r\n{ext}\r\n"
        )),
    ]
}

pub const GOOD_ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";
