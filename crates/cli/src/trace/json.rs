//! The trace's `--json` lines (and the web view's objects): packets, transactions,
//! WebSocket messages and TCP events.

use pcap_analyzer::Stream;
use pcap_capture::Packet;
use pcap_decode::Decoded;
use pcap_http_ws::{
    Direction, HeadRender, PackedHeaders, RequestHead, ResponseHead, TransactionView,
};
use pcap_tcp_reassembly::{Event, EventKind};
use pcap_tls::TlsSummary;

use super::filters::Filters;
use super::{BadLine, Heads, Unparsed};
use crate::defrag::Described;
use crate::parallel::SessionId;
use crate::render::json::{self, Arr, Obj, push_bytes_str, push_ts};
use crate::render::tls;
use crate::render::write_summary;

/// How many payload bytes a packet object carries for the web view's hex view: enough for
/// the headers of most protocols, while a page of packets stays small.
pub const PAYLOAD_HEX_MAX: usize = 512;

/// A packet as `capture --json` writes it, with its one-line `summary` and, for the web
/// view's hex view, its payload's first [`PAYLOAD_HEX_MAX`] bytes in hex (`payload_hex`,
/// `payload_hex_cut` when there are more); `line` is scratch.
pub(super) fn write_packet(
    out: &mut Vec<u8>,
    line: &mut String,
    frame: u64,
    packet: &Packet<'_>,
    decoded: &Decoded<'_>,
) {
    line.clear();
    // Writing into a String cannot fail.
    let _ = write_summary(line, decoded);
    let summary = &*line;
    json::write_json_with(out, frame, packet, decoded, |o| {
        o.str("summary", summary);
        let payload = decoded.payload;
        let shown = payload.get(..PAYLOAD_HEX_MAX).unwrap_or(payload);
        // Hex digits only: nothing off the wire reaches the page unescaped.
        let hex = o.key("payload_hex");
        hex.push(b'"');
        for b in shown {
            hex.extend_from_slice(&[HEX[usize::from(b >> 4)], HEX[usize::from(b & 0xf)]]);
        }
        hex.push(b'"');
        if shown.len() < payload.len() {
            o.bool("payload_hex_cut", true);
        }
    });
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// One `"type":"http"` line; `preview` adds the first bytes of a kept response body.
pub(super) fn write_transaction(
    out: &mut Vec<u8>,
    stream: &Stream,
    tx: TransactionView<'_>,
    heads: Heads<'_>,
    preview: Option<usize>,
    pushed_by: Option<u32>,
    bad: &Unparsed,
) {
    write_http(
        out,
        stream,
        tx,
        bad,
        HeadMembers::Read(heads),
        preview,
        pushed_by,
    );
}

/// Where the members a transaction's heads bring to its `request` and `response` objects
/// come from.
enum HeadMembers<'a> {
    /// Heads read back through the view.
    Read(Heads<'a>),
    /// Heads rendered as they arrived, by [`JsonHeads`].
    Rendered {
        request: Option<&'a [u8]>,
        response: Option<&'a [u8]>,
    },
}

impl HeadMembers<'_> {
    fn has_request(&self) -> bool {
        match self {
            HeadMembers::Read(heads) => heads.request.is_some(),
            HeadMembers::Rendered { request, .. } => request.is_some(),
        }
    }

    /// `"method"`, `"uri"`, `"version"` and `"headers"`.
    fn request(&self, r: &mut Obj<'_>) {
        match self {
            HeadMembers::Read(Heads {
                request: Some(req), ..
            }) => request_members(r, req.method, req.uri, req.version, req.headers),
            HeadMembers::Rendered {
                request: Some(req), ..
            } => r.members(open_object(req)),
            _ => {}
        }
    }

    /// The response's minor version (`None`: its head was not seen).
    fn response_version(&self) -> Option<u8> {
        match self {
            HeadMembers::Read(heads) => heads.response.map(|p| p.version),
            HeadMembers::Rendered { response, .. } => response.and_then(|b| b.first().copied()),
        }
    }

    /// `"reason"` and `"headers"` (empty when the head was not seen).
    fn response(&self, r: &mut Obj<'_>) {
        match self {
            HeadMembers::Rendered {
                response: Some(b), ..
            } => r.members(open_object(b)),
            HeadMembers::Read(Heads {
                response: Some(resp),
                ..
            }) => response_members(r, resp.reason, resp.headers),
            _ => {
                r.str("reason", "");
                headers_json(r, None::<PackedHeaders<'_>>);
            }
        }
    }
}

fn request_members<'h>(
    r: &mut Obj<'_>,
    method: &str,
    uri: &str,
    minor: u8,
    headers: impl IntoIterator<Item = (&'h str, &'h [u8])>,
) {
    r.str("method", method);
    r.str("uri", uri);
    r.str("version", version(Some(minor)));
    headers_json(r, Some(headers));
}

fn response_members<'h>(
    r: &mut Obj<'_>,
    reason: &str,
    headers: impl IntoIterator<Item = (&'h str, &'h [u8])>,
) {
    r.str("reason", reason);
    headers_json(r, Some(headers));
}

fn write_http(
    out: &mut Vec<u8>,
    stream: &Stream,
    tx: TransactionView<'_>,
    bad: &Unparsed,
    heads: HeadMembers<'_>,
    preview: Option<usize>,
    pushed_by: Option<u32>,
) {
    let rec = tx.record();
    let mut o = Obj::new(out);
    o.str("type", "http");
    SessionId::new(stream.id).push(o.key("stream"));
    if let Some(n) = stream.h2_stream {
        o.u64("h2_stream", u64::from(n));
    }
    if let Some(n) = pushed_by {
        o.u64("pushed_by", u64::from(n));
    }
    o.socket_addr("client", stream.client);
    o.socket_addr("server", stream.server);
    o.community_id(stream.client, stream.server);
    o.str("scheme", if stream.tls { "https" } else { "http" });
    match rec.request_start_ns.filter(|_| heads.has_request()) {
        Some(ts) => {
            let mut r = o.obj("request");
            push_ts(r.key("ts"), ts);
            heads.request(&mut r);
            r.u64(
                "body_len",
                rec.request_decoded_len.unwrap_or(rec.request_body_len),
            );
            r.bool("complete", rec.request_complete);
            r.end();
        }
        None => {
            o.key("request").extend_from_slice(b"null");
            write_unparsed(&mut o, "request_unparsed", bad.request.as_ref());
        }
    }
    match (rec.status, rec.response_start_ns) {
        (Some(status), Some(ts)) => {
            let mut r = o.obj("response");
            push_ts(r.key("ts"), ts);
            r.str("version", version(heads.response_version()));
            r.u64("status", u64::from(status));
            if !rec.interim.is_empty() {
                let mut a = r.arr("interim");
                for &s in &rec.interim {
                    a.u64(u64::from(s));
                }
                a.end();
            }
            heads.response(&mut r);
            r.u64(
                "body_len",
                rec.response_decoded_len.unwrap_or(rec.response_body_len),
            );
            r.bool("complete", rec.response_complete);
            r.end();
        }
        _ => {
            o.key("response").extend_from_slice(b"null");
            write_unparsed(&mut o, "response_unparsed", bad.response.as_ref());
        }
    }
    o.bool("complete", rec.complete);
    if let (Some(n), Some(body)) = (preview, tx.response_body()) {
        let shown = body.get(..n).unwrap_or(body);
        o.str("body_preview", &String::from_utf8_lossy(shown));
    }
    o.end();
    out.push(b'\n');
}

/// One `"type":"tls"` line: a TLS session's handshake, as far as it was seen.
pub(super) fn write_tls(out: &mut Vec<u8>, stream: &Stream, s: &TlsSummary) {
    let mut o = Obj::new(out);
    o.str("type", "tls");
    SessionId::new(stream.id).push(o.key("stream"));
    o.socket_addr("client", stream.client);
    o.socket_addr("server", stream.server);
    push_ts(o.key("ts"), s.ts_ns);
    opt_str(
        &mut o,
        "version",
        s.version.map(tls::version_text).as_deref(),
    );
    opt_str(&mut o, "cipher", s.cipher.map(tls::cipher_text).as_deref());
    opt_str(&mut o, "sni", s.sni.as_deref());
    opt_str(&mut o, "alpn", s.alpn.as_deref());
    let mut a = o.arr("alpn_offered");
    for p in &s.alpn_offered {
        a.str(p);
    }
    a.end();
    opt_str(&mut o, "ja3", s.ja3.as_deref());
    opt_str(&mut o, "ja3s", s.ja3s.as_deref());
    opt_str(&mut o, "ja4", s.ja4.as_deref());
    match &s.cert {
        Some(c) => {
            let mut co = o.obj("cert");
            co.str("subject", &c.subject);
            let mut san = co.arr("san");
            for n in c.san.iter().chain(&c.san_ip) {
                san.str(n);
            }
            san.end();
            co.str("issuer", &c.issuer);
            co.str("not_after", &c.not_after);
            co.end();
        }
        None => o.key("cert").extend_from_slice(b"null"),
    }
    o.bool("resumed", s.resumed);
    o.bool("decrypted", s.decrypted);
    opt_str(&mut o, "error", s.error.as_deref());
    o.end();
    out.push(b'\n');
}

/// `"request_unparsed":{"line":..,"error":..}` for a head that could not be parsed.
fn write_unparsed(o: &mut Obj<'_>, key: &str, bad: Option<&BadLine>) {
    if let Some(b) = bad {
        let mut u = o.obj(key);
        u.str("line", &b.line);
        u.str("error", &b.reason);
        u.end();
    }
}

/// `"key":"value"`, or `"key":null`.
fn opt_str(o: &mut Obj<'_>, key: &str, v: Option<&str>) {
    match v {
        Some(v) => o.str(key, v),
        None => o.key(key).extend_from_slice(b"null"),
    }
}

/// `"headers":[[name,value],...]` (empty when the head was not seen).
fn headers_json<'h>(
    o: &mut Obj<'_>,
    headers: Option<impl IntoIterator<Item = (&'h str, &'h [u8])>>,
) {
    let mut a = o.arr("headers");
    for (name, value) in headers.into_iter().flatten() {
        let mut pair = Arr::new(a.item());
        pair.str(name);
        push_bytes_str(pair.item(), value);
        pair.end();
    }
    a.end();
}

fn version(minor: Option<u8>) -> &'static str {
    minor.map_or("HTTP/1.1", pcap_http_ws::version_name)
}

/// One `"type":"websocket"` line.
pub(super) fn write_websocket(
    out: &mut Vec<u8>,
    stream: &Stream,
    ts: i64,
    dir: Direction,
    opcode: &str,
    len: usize,
    text: Option<&[u8]>,
) {
    let mut o = Obj::new(out);
    o.str("type", "websocket");
    SessionId::new(stream.id).push(o.key("stream"));
    if let Some(n) = stream.h2_stream {
        o.u64("h2_stream", u64::from(n));
    }
    o.socket_addr("client", stream.client);
    o.socket_addr("server", stream.server);
    push_ts(o.key("ts"), ts);
    o.str("dir", dir.as_str());
    o.str("opcode", opcode);
    o.u64("len", len as u64);
    if let Some(t) = text {
        o.bytes_str("text", t);
    }
    o.end();
    out.push(b'\n');
}

/// One `"type":"tcp"` line.
pub(super) fn write_tcp(
    out: &mut Vec<u8>,
    event: &Event<'_>,
    stream: &Stream,
    name: &str,
    dir: Option<Direction>,
) {
    let mut o = Obj::new(out);
    o.str("type", "tcp");
    SessionId::new(stream.id).push(o.key("stream"));
    o.socket_addr("client", stream.client);
    o.socket_addr("server", stream.server);
    push_ts(o.key("ts"), event.ts_ns);
    o.str("event", name);
    if let Some(d) = dir {
        o.str("dir", d.as_str());
    }
    match event.kind {
        EventKind::RstIgnored { reason, .. } => o.str("reason", reason.as_str()),
        EventKind::OverlapConflict {
            offset,
            len,
            replaced,
            ..
        } => {
            o.u64("offset", offset);
            o.u64("len", len);
            o.str("kept", if replaced { "new" } else { "old" });
        }
        _ => {}
    }
    o.end();
    out.push(b'\n');
}

/// One `--tcp-verbose` IP defragmentation notice (see docs/json.md).
pub(super) fn write_defrag(out: &mut Vec<u8>, d: &Described) {
    let mut o = Obj::new(out);
    o.str("type", "defrag");
    push_ts(o.key("ts"), d.ts_ns);
    o.display("src", d.key.src);
    o.display("dst", d.key.dst);
    o.u64("id", u64::from(d.key.id));
    o.u64("protocol", u64::from(d.key.protocol));
    o.str("event", d.event);
    o.str("detail", &d.detail);
    o.end();
    out.push(b'\n');
}

/// The `--json` form of heads, written once as they arrive (see
/// [`TransactionCollector::push_rendered`](pcap_http_ws::TransactionCollector::push_rendered)):
/// a request is whether it passed the filters (one byte) and `{"method":..,"uri":..,
/// "version":..,"headers":[..]}`; a response its minor version (one byte) and
/// `{"reason":..,"headers":[..]}`. [`write_transaction_rendered`] puts the record's times and
/// lengths around them, so the line is the one [`write_transaction`] writes.
pub(super) struct JsonHeads<'f> {
    pub(super) filters: &'f Filters,
}

impl HeadRender for JsonHeads<'_> {
    fn request(&mut self, r: &RequestHead<'_>, out: &mut Vec<u8>) {
        out.push(u8::from(self.filters.matches_head(r)));
        let mut o = Obj::new(out);
        request_members(&mut o, r.method, r.uri, r.version, r.headers.iter());
        o.end();
    }

    fn response(&mut self, r: &ResponseHead<'_>, out: &mut Vec<u8>) {
        out.push(r.version);
        let mut o = Obj::new(out);
        response_members(&mut o, r.reason, r.headers.iter());
        o.end();
    }
}

/// Whether a transaction kept by [`JsonHeads`] passed the filters (`None`: no request seen).
pub(super) fn rendered_request_passed(tx: &TransactionView<'_>) -> Option<bool> {
    tx.request_rendered().map(|r| r.first() == Some(&1))
}

/// A head [`JsonHeads`] kept, without its leading byte and left open as [`Obj::members`]
/// takes it: `\x01{"a":1}` -> `{"a":1`.
fn open_object(rendered: &[u8]) -> &[u8] {
    let object = rendered.get(1..).unwrap_or_default();
    object.strip_suffix(b"}").unwrap_or_default()
}

/// [`write_transaction`] for a transaction whose heads [`JsonHeads`] kept.
pub(super) fn write_transaction_rendered(
    out: &mut Vec<u8>,
    stream: &Stream,
    tx: TransactionView<'_>,
    pushed_by: Option<u32>,
    bad: &Unparsed,
) {
    let heads = HeadMembers::Rendered {
        request: tx.request_rendered(),
        response: tx.response_rendered(),
    };
    write_http(out, stream, tx, bad, heads, None, pushed_by);
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use pcap_capture::LinkType;
    use pcap_decode::build::{self, FrameSpec, UdpSpec};
    use pcap_decode::decode_packet;

    use super::*;

    fn object(payload: &[u8]) -> serde_json::Value {
        let udp = UdpSpec {
            src_port: 40000,
            dst_port: 9999,
        };
        let f = build::udp_frame(&FrameSpec::default(), &udp, payload);
        let packet = Packet {
            ts_ns: 0,
            caplen: f.len() as u32,
            orig_len: f.len() as u32,
            link_type: LinkType::ETHERNET,
            interface: 0,
            fcs_len: 0,
            data: &f,
        };
        let (mut out, mut line) = (Vec::new(), String::new());
        write_packet(
            &mut out,
            &mut line,
            1,
            &packet,
            &decode_packet(LinkType::ETHERNET, &f),
        );
        serde_json::from_slice(&out).unwrap()
    }

    #[test]
    fn packets_carry_their_payload_in_hex_for_the_web_view() {
        let v = object(b"GET /\x1b[31m\x00");
        assert_eq!(v["payload_hex"], "474554202f1b5b33316d00");
        assert!(v.get("payload_hex_cut").is_none());
        let long = vec![0xabu8; PAYLOAD_HEX_MAX + 1];
        let v = object(&long);
        assert_eq!(v["payload_hex"], "ab".repeat(PAYLOAD_HEX_MAX));
        assert_eq!(v["payload_hex_cut"], true);
    }
}
