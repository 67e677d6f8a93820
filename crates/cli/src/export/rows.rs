//! The six tables: their columns, and how one row is written from a decoded packet or
//! from a JSON line of `flows --json` / `http-trace --json` (the records those subcommands
//! already build, read back here so that each table has the same rows as the matching
//! `--json` output; see docs/analytics.md for the columns).

use std::borrow::Cow;
use std::net::SocketAddr;

use pcap_capture::Packet;
use pcap_decode::community_id::community_id;
use pcap_decode::{Decoded, Link, Net, Transport, ip_proto};
use serde::Deserialize;
use serde_json::value::RawValue;

use super::columns::{Column, Kind, Leaf, Row, Val};

/// `(name, value)` structs: HTTP headers.
const HEADER: &[(&str, Leaf)] = &[("name", Leaf::Str), ("value", Leaf::Str)];
/// DNS questions.
const QUESTION: &[(&str, Leaf)] = &[("name", Leaf::Str), ("type", Leaf::Str)];
/// DNS resource records.
const RECORD: &[(&str, Leaf)] = &[
    ("name", Leaf::Str),
    ("type", Leaf::Str),
    ("ttl", Leaf::I64),
    ("data", Leaf::Str),
];

/// `packets`: one row per packet, the fields of `capture --json` flattened (innermost IP
/// and transport headers when tunnelled).
pub(super) const PACKETS: &[Column] = &[
    ("frame", Kind::I64),
    ("ts", Kind::Ts),
    ("caplen", Kind::I64),
    ("len", Kind::I64),
    ("eth_src", Kind::Str),
    ("eth_dst", Kind::Str),
    ("ethertype", Kind::I32),
    ("vlan", Kind::I32List),
    ("tunnels", Kind::StrList),
    ("ip_version", Kind::I32),
    ("src", Kind::Str),
    ("dst", Kind::Str),
    ("ip_proto", Kind::I32),
    ("ttl", Kind::I32),
    ("src_port", Kind::I32),
    ("dst_port", Kind::I32),
    ("tcp_flags", Kind::Str),
    ("tcp_seq", Kind::I64),
    ("tcp_ack", Kind::I64),
    ("tcp_window", Kind::I32),
    ("icmp_type", Kind::I32),
    ("icmp_code", Kind::I32),
    ("payload_len", Kind::I64),
    ("truncated", Kind::Bool),
    ("error", Kind::Str),
];

/// Writes one `packets` row.
pub(super) fn packet_row(r: &mut Row<'_>, frame: u64, packet: &Packet<'_>, d: &Decoded<'_>) {
    r.i64(Some(to_i64(frame)));
    r.ts(Some(packet.ts_ns));
    r.i64(Some(i64::from(packet.caplen)));
    r.i64(Some(i64::from(packet.orig_len)));
    let eth = match &d.link {
        Some(Link::Ethernet(e)) => Some(e),
        _ => None,
    };
    let src_mac = eth.map(|e| e.src().to_text());
    let dst_mac = eth.map(|e| e.dst().to_text());
    r.str(src_mac.as_ref().and_then(|m| std::str::from_utf8(m).ok()));
    r.str(dst_mac.as_ref().and_then(|m| std::str::from_utf8(m).ok()));
    r.i32(eth.map(|e| i32::from(e.ethertype())));
    r.i32_list(d.vlans.iter().map(|v| i32::from(v.id())));
    r.str_list(d.tunnels.iter().map(|t| t.kind.name()));
    let (version, ttl) = match &d.net {
        Some(Net::Ipv4(v)) => (Some(4), Some(i32::from(v.ttl()))),
        Some(Net::Ipv6(v)) => (Some(6), Some(i32::from(v.hop_limit()))),
        _ => (None, None),
    };
    r.i32(version);
    r.display(d.src_ip());
    r.display(d.dst_ip());
    r.i32(d.net.as_ref().and_then(Net::protocol).map(i32::from));
    r.i32(ttl);
    let (ports, tcp, icmp) = match &d.transport {
        Some(Transport::Tcp(t)) => (Some((t.src_port(), t.dst_port())), Some(t), None),
        Some(Transport::Udp(u)) => (Some((u.src_port(), u.dst_port())), None, None),
        Some(Transport::Icmp(i) | Transport::Icmpv6(i)) => {
            (None, None, Some((i.icmp_type(), i.code())))
        }
        _ => (None, None, None),
    };
    r.i32(ports.map(|p| i32::from(p.0)));
    r.i32(ports.map(|p| i32::from(p.1)));
    r.display(tcp.map(|t| t.flags()));
    r.i64(tcp.map(|t| i64::from(t.seq())));
    r.i64(tcp.map(|t| i64::from(t.ack())));
    r.i32(tcp.map(|t| i32::from(t.window())));
    r.i32(icmp.map(|i| i32::from(i.0)));
    r.i32(icmp.map(|i| i32::from(i.1)));
    r.i64(Some(to_i64(d.payload.len() as u64)));
    r.bool(Some(d.truncated));
    r.display(d.stop.as_ref());
}

/// `dns`: one row per DNS message (UDP), as `capture --json`'s `dns` member.
pub(super) const DNS: &[Column] = &[
    ("frame", Kind::I64),
    ("ts", Kind::Ts),
    ("src", Kind::Str),
    ("src_port", Kind::I32),
    ("dst", Kind::Str),
    ("dst_port", Kind::I32),
    ("community_id", Kind::Str),
    ("id", Kind::I32),
    ("response", Kind::Bool),
    ("opcode", Kind::I32),
    ("rcode", Kind::I32),
    ("questions", Kind::Structs(QUESTION)),
    ("answers", Kind::Structs(RECORD)),
    ("authority", Kind::Structs(RECORD)),
    ("additional", Kind::Structs(RECORD)),
    ("error", Kind::Str),
];

/// A DNS message as `render::dns::write_json` writes it.
#[derive(Deserialize)]
pub(super) struct DnsLine<'a> {
    id: u16,
    response: bool,
    opcode: u8,
    rcode: u16,
    #[serde(borrow)]
    questions: Vec<DnsQuestion<'a>>,
    #[serde(borrow)]
    answers: Vec<DnsRecord<'a>>,
    #[serde(borrow)]
    authority: Vec<DnsRecord<'a>>,
    #[serde(borrow)]
    additional: Vec<DnsRecord<'a>>,
    #[serde(borrow)]
    error: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct DnsQuestion<'a> {
    #[serde(borrow)]
    name: Cow<'a, str>,
    #[serde(borrow, rename = "type")]
    qtype: Cow<'a, str>,
}

#[derive(Deserialize)]
struct DnsRecord<'a> {
    #[serde(borrow)]
    name: Cow<'a, str>,
    #[serde(borrow, rename = "type")]
    rtype: Cow<'a, str>,
    ttl: u32,
    #[serde(borrow)]
    data: Option<Cow<'a, str>>,
    #[serde(borrow)]
    data_error: Option<Cow<'a, str>>,
}

fn records<'s>(rs: &'s [DnsRecord<'_>]) -> impl Iterator<Item = [Val<'s>; 4]> {
    rs.iter().map(|a| {
        [
            Val::Str(Some(&a.name)),
            Val::Str(Some(&a.rtype)),
            Val::I64(Some(i64::from(a.ttl))),
            Val::Str(a.data.as_deref().or(a.data_error.as_deref())),
        ]
    })
}

/// Writes one `dns` row for `msg`, carried by `d`.
pub(super) fn dns_row(
    r: &mut Row<'_>,
    frame: u64,
    packet: &Packet<'_>,
    d: &Decoded<'_>,
    msg: &DnsLine<'_>,
) {
    r.i64(Some(to_i64(frame)));
    r.ts(Some(packet.ts_ns));
    let ports = match &d.transport {
        Some(Transport::Udp(u)) => Some((u.src_port(), u.dst_port())),
        _ => None,
    };
    r.display(d.src_ip());
    r.i32(ports.map(|p| i32::from(p.0)));
    r.display(d.dst_ip());
    r.i32(ports.map(|p| i32::from(p.1)));
    let id = match (d.src_ip(), d.dst_ip(), ports) {
        (Some(s), Some(t), Some(p)) => Some(community_id(0, s, t, ip_proto::UDP, p, false)),
        _ => None,
    };
    r.str(id.as_deref());
    r.i32(Some(i32::from(msg.id)));
    r.bool(Some(msg.response));
    r.i32(Some(i32::from(msg.opcode)));
    r.i32(Some(i32::from(msg.rcode)));
    r.structs(
        msg.questions
            .iter()
            .map(|q| [Val::Str(Some(&q.name)), Val::Str(Some(&q.qtype))]),
    );
    r.structs(records(&msg.answers));
    r.structs(records(&msg.authority));
    r.structs(records(&msg.additional));
    r.str(msg.error.as_deref());
}

/// `flows`: one row per TCP session, as `flows --json`.
pub(super) const FLOWS: &[Column] = &[
    ("stream", Kind::I64),
    ("community_id", Kind::Str),
    ("client", Kind::Str),
    ("client_port", Kind::I32),
    ("server", Kind::Str),
    ("server_port", Kind::I32),
    ("start_ts", Kind::Ts),
    ("end_ts", Kind::Ts),
    ("state", Kind::Str),
    ("how", Kind::Str),
    ("c2s_packets", Kind::I64),
    ("s2c_packets", Kind::I64),
    ("c2s_bytes", Kind::I64),
    ("s2c_bytes", Kind::I64),
    ("retransmits", Kind::I64),
    ("out_of_order", Kind::I64),
    ("gaps", Kind::I64),
    ("gap_bytes", Kind::I64),
    ("syn_retries", Kind::I64),
    ("rsts_ignored", Kind::I64),
    ("overlap_conflicts", Kind::I64),
    ("tls_version", Kind::Str),
    ("tls_cipher", Kind::Str),
    ("tls_sni", Kind::Str),
    ("tls_alpn", Kind::Str),
];

/// A `flows --json` line.
#[derive(Deserialize)]
pub(super) struct FlowLine<'a> {
    stream: u64,
    #[serde(borrow)]
    community_id: Cow<'a, str>,
    client: SocketAddr,
    server: SocketAddr,
    #[serde(borrow)]
    start_ts: &'a RawValue,
    #[serde(borrow)]
    end_ts: &'a RawValue,
    #[serde(borrow)]
    state: Cow<'a, str>,
    #[serde(borrow)]
    how: Cow<'a, str>,
    c2s_packets: u64,
    s2c_packets: u64,
    c2s_bytes: u64,
    s2c_bytes: u64,
    retransmits: u64,
    out_of_order: u64,
    gaps: u64,
    gap_bytes: u64,
    syn_retries: u64,
    rsts_ignored: u64,
    overlap_conflicts: u64,
    #[serde(borrow)]
    tls: Option<FlowTls<'a>>,
}

#[derive(Deserialize)]
struct FlowTls<'a> {
    #[serde(borrow)]
    version: Option<Cow<'a, str>>,
    #[serde(borrow)]
    cipher: Option<Cow<'a, str>>,
    #[serde(borrow)]
    sni: Option<Cow<'a, str>>,
    #[serde(borrow)]
    alpn: Option<Cow<'a, str>>,
}

impl FlowLine<'_> {
    /// When the row's hour partition is taken from.
    pub(super) fn ts(&self) -> Option<i64> {
        parse_ts(self.start_ts)
    }

    pub(super) fn row(&self, r: &mut Row<'_>) {
        r.i64(Some(to_i64(self.stream)));
        r.str(Some(&self.community_id));
        endpoints(r, self.client, self.server);
        r.ts(parse_ts(self.start_ts));
        r.ts(parse_ts(self.end_ts));
        r.str(Some(&self.state));
        r.str(Some(&self.how));
        for n in [
            self.c2s_packets,
            self.s2c_packets,
            self.c2s_bytes,
            self.s2c_bytes,
            self.retransmits,
            self.out_of_order,
            self.gaps,
            self.gap_bytes,
            self.syn_retries,
            self.rsts_ignored,
            self.overlap_conflicts,
        ] {
            r.i64(Some(to_i64(n)));
        }
        let tls = self.tls.as_ref();
        r.str(tls.and_then(|t| t.version.as_deref()));
        r.str(tls.and_then(|t| t.cipher.as_deref()));
        r.str(tls.and_then(|t| t.sni.as_deref()));
        r.str(tls.and_then(|t| t.alpn.as_deref()));
    }
}

/// `http`: one row per transaction, as `http-trace --json`'s `http` lines (HTTP/1.x,
/// HTTP/2 and decrypted HTTPS).
pub(super) const HTTP: &[Column] = &[
    ("stream", Kind::I64),
    ("h2_stream", Kind::I64),
    ("community_id", Kind::Str),
    ("client", Kind::Str),
    ("client_port", Kind::I32),
    ("server", Kind::Str),
    ("server_port", Kind::I32),
    ("scheme", Kind::Str),
    ("request_ts", Kind::Ts),
    ("method", Kind::Str),
    ("uri", Kind::Str),
    ("request_version", Kind::Str),
    ("request_headers", Kind::Structs(HEADER)),
    ("request_body_len", Kind::I64),
    ("response_ts", Kind::Ts),
    ("response_version", Kind::Str),
    ("status", Kind::I32),
    ("reason", Kind::Str),
    ("response_headers", Kind::Structs(HEADER)),
    ("response_body_len", Kind::I64),
    ("complete", Kind::Bool),
];

/// An `http-trace --json` line of type `http`.
#[derive(Deserialize)]
pub(super) struct HttpLine<'a> {
    stream: u64,
    h2_stream: Option<u64>,
    #[serde(borrow)]
    community_id: Cow<'a, str>,
    client: SocketAddr,
    server: SocketAddr,
    #[serde(borrow)]
    scheme: Cow<'a, str>,
    #[serde(borrow)]
    request: Option<HttpRequest<'a>>,
    #[serde(borrow)]
    response: Option<HttpResponse<'a>>,
    complete: bool,
}

#[derive(Deserialize)]
struct HttpRequest<'a> {
    #[serde(borrow)]
    ts: &'a RawValue,
    #[serde(borrow)]
    method: Cow<'a, str>,
    #[serde(borrow)]
    uri: Cow<'a, str>,
    #[serde(borrow)]
    version: Cow<'a, str>,
    #[serde(borrow)]
    headers: Vec<(Cow<'a, str>, Cow<'a, str>)>,
    body_len: u64,
}

#[derive(Deserialize)]
struct HttpResponse<'a> {
    #[serde(borrow)]
    ts: &'a RawValue,
    #[serde(borrow)]
    version: Cow<'a, str>,
    status: u16,
    #[serde(borrow)]
    reason: Cow<'a, str>,
    #[serde(borrow)]
    headers: Vec<(Cow<'a, str>, Cow<'a, str>)>,
    body_len: u64,
}

fn headers<'s>(hs: &'s [(Cow<'_, str>, Cow<'_, str>)]) -> impl Iterator<Item = [Val<'s>; 2]> {
    hs.iter()
        .map(|(n, v)| [Val::Str(Some(n.as_ref())), Val::Str(Some(v.as_ref()))])
}

impl HttpLine<'_> {
    /// The request's time, else the response's.
    pub(super) fn ts(&self) -> Option<i64> {
        let req = self.request.as_ref().and_then(|r| parse_ts(r.ts));
        req.or_else(|| self.response.as_ref().and_then(|r| parse_ts(r.ts)))
    }

    pub(super) fn row(&self, r: &mut Row<'_>) {
        r.i64(Some(to_i64(self.stream)));
        r.i64(self.h2_stream.map(to_i64));
        r.str(Some(&self.community_id));
        endpoints(r, self.client, self.server);
        r.str(Some(&self.scheme));
        let req = self.request.as_ref();
        r.ts(req.and_then(|q| parse_ts(q.ts)));
        r.str(req.map(|q| q.method.as_ref()));
        r.str(req.map(|q| q.uri.as_ref()));
        r.str(req.map(|q| q.version.as_ref()));
        r.structs(req.map(|q| headers(&q.headers)).into_iter().flatten());
        r.i64(req.map(|q| to_i64(q.body_len)));
        let resp = self.response.as_ref();
        r.ts(resp.and_then(|s| parse_ts(s.ts)));
        r.str(resp.map(|s| s.version.as_ref()));
        r.i32(resp.map(|s| i32::from(s.status)));
        r.str(resp.map(|s| s.reason.as_ref()));
        r.structs(resp.map(|s| headers(&s.headers)).into_iter().flatten());
        r.i64(resp.map(|s| to_i64(s.body_len)));
        r.bool(Some(self.complete));
    }
}

/// `websocket`: one row per message, as `http-trace --json`'s `websocket` lines.
pub(super) const WEBSOCKET: &[Column] = &[
    ("stream", Kind::I64),
    ("h2_stream", Kind::I64),
    ("community_id", Kind::Str),
    ("client", Kind::Str),
    ("client_port", Kind::I32),
    ("server", Kind::Str),
    ("server_port", Kind::I32),
    ("ts", Kind::Ts),
    ("dir", Kind::Str),
    ("opcode", Kind::Str),
    ("len", Kind::I64),
    ("text", Kind::Str),
];

/// An `http-trace --json` line of type `websocket`.
#[derive(Deserialize)]
pub(super) struct WebSocketLine<'a> {
    stream: u64,
    h2_stream: Option<u64>,
    client: SocketAddr,
    server: SocketAddr,
    #[serde(borrow)]
    ts: &'a RawValue,
    #[serde(borrow)]
    dir: Cow<'a, str>,
    #[serde(borrow)]
    opcode: Cow<'a, str>,
    len: u64,
    #[serde(borrow)]
    text: Option<Cow<'a, str>>,
}

impl WebSocketLine<'_> {
    pub(super) fn ts(&self) -> Option<i64> {
        parse_ts(self.ts)
    }

    pub(super) fn row(&self, r: &mut Row<'_>) {
        r.i64(Some(to_i64(self.stream)));
        r.i64(self.h2_stream.map(to_i64));
        r.str(Some(&tcp_community_id(self.client, self.server)));
        endpoints(r, self.client, self.server);
        r.ts(parse_ts(self.ts));
        r.str(Some(&self.dir));
        r.str(Some(&self.opcode));
        r.i64(Some(to_i64(self.len)));
        r.str(self.text.as_deref());
    }
}

/// `tls`: one row per TLS session, as `http-trace --json`'s `tls` lines.
pub(super) const TLS: &[Column] = &[
    ("stream", Kind::I64),
    ("community_id", Kind::Str),
    ("client", Kind::Str),
    ("client_port", Kind::I32),
    ("server", Kind::Str),
    ("server_port", Kind::I32),
    ("ts", Kind::Ts),
    ("version", Kind::Str),
    ("cipher", Kind::Str),
    ("sni", Kind::Str),
    ("alpn", Kind::Str),
    ("alpn_offered", Kind::StrList),
    ("ja3", Kind::Str),
    ("ja3s", Kind::Str),
    ("ja4", Kind::Str),
    ("cert_subject", Kind::Str),
    ("cert_san", Kind::StrList),
    ("cert_issuer", Kind::Str),
    ("cert_not_after", Kind::Str),
    ("resumed", Kind::Bool),
    ("decrypted", Kind::Bool),
    ("error", Kind::Str),
];

/// An `http-trace --json` line of type `tls`.
#[derive(Deserialize)]
pub(super) struct TlsLine<'a> {
    stream: u64,
    client: SocketAddr,
    server: SocketAddr,
    #[serde(borrow)]
    ts: &'a RawValue,
    #[serde(borrow)]
    version: Option<Cow<'a, str>>,
    #[serde(borrow)]
    cipher: Option<Cow<'a, str>>,
    #[serde(borrow)]
    sni: Option<Cow<'a, str>>,
    #[serde(borrow)]
    alpn: Option<Cow<'a, str>>,
    #[serde(borrow)]
    alpn_offered: Vec<Cow<'a, str>>,
    #[serde(borrow)]
    ja3: Option<Cow<'a, str>>,
    #[serde(borrow)]
    ja3s: Option<Cow<'a, str>>,
    #[serde(borrow)]
    ja4: Option<Cow<'a, str>>,
    #[serde(borrow)]
    cert: Option<Cert<'a>>,
    resumed: bool,
    decrypted: bool,
    #[serde(borrow)]
    error: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct Cert<'a> {
    #[serde(borrow)]
    subject: Cow<'a, str>,
    #[serde(borrow)]
    san: Vec<Cow<'a, str>>,
    #[serde(borrow)]
    issuer: Cow<'a, str>,
    #[serde(borrow)]
    not_after: Cow<'a, str>,
}

impl TlsLine<'_> {
    pub(super) fn ts(&self) -> Option<i64> {
        parse_ts(self.ts)
    }

    pub(super) fn row(&self, r: &mut Row<'_>) {
        r.i64(Some(to_i64(self.stream)));
        r.str(Some(&tcp_community_id(self.client, self.server)));
        endpoints(r, self.client, self.server);
        r.ts(parse_ts(self.ts));
        r.str(self.version.as_deref());
        r.str(self.cipher.as_deref());
        r.str(self.sni.as_deref());
        r.str(self.alpn.as_deref());
        r.str_list(self.alpn_offered.iter().map(AsRef::as_ref));
        r.str(self.ja3.as_deref());
        r.str(self.ja3s.as_deref());
        r.str(self.ja4.as_deref());
        let cert = self.cert.as_ref();
        r.str(cert.map(|c| c.subject.as_ref()));
        r.str_list(cert.iter().flat_map(|c| c.san.iter().map(AsRef::as_ref)));
        r.str(cert.map(|c| c.issuer.as_ref()));
        r.str(cert.map(|c| c.not_after.as_ref()));
        r.bool(Some(self.resumed));
        r.bool(Some(self.decrypted));
        r.str(self.error.as_deref());
    }
}

/// `client`, `client_port`, `server`, `server_port`.
fn endpoints(r: &mut Row<'_>, client: SocketAddr, server: SocketAddr) {
    r.display(Some(client.ip()));
    r.i32(Some(i32::from(client.port())));
    r.display(Some(server.ip()));
    r.i32(Some(i32::from(server.port())));
}

/// The Community ID of a TCP session (as the `http` and `flows` JSON lines carry it).
fn tcp_community_id(client: SocketAddr, server: SocketAddr) -> String {
    community_id(
        0,
        client.ip(),
        server.ip(),
        ip_proto::TCP,
        (client.port(), server.port()),
        false,
    )
}

/// Counts above `i64::MAX` (none in practice) are clamped.
fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// A JSON time as our writers put it (`1700000000.000774000`: seconds, a point and nine
/// digits, maybe a leading `-`) in nanoseconds, exactly (an `f64` would lose the last
/// digits); `None` for `null` or anything else.
pub(super) fn parse_ts(raw: &RawValue) -> Option<i64> {
    let text = raw.get();
    let (neg, text) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (secs, frac) = text.split_once('.').unwrap_or((text, ""));
    if secs.is_empty()
        || frac.len() > 9
        || !(secs.bytes().chain(frac.bytes())).all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let secs: i64 = secs.parse().ok()?;
    let mut nanos: i64 = if frac.is_empty() {
        0
    } else {
        frac.parse().ok()?
    };
    for _ in frac.len()..9 {
        nanos = nanos.checked_mul(10)?;
    }
    let total = secs.checked_mul(1_000_000_000)?.checked_add(nanos)?;
    Some(if neg { -total } else { total })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn ts(text: &str) -> Option<i64> {
        let raw: Box<RawValue> = serde_json::from_str(text).unwrap();
        parse_ts(&raw)
    }

    #[test]
    fn timestamps_are_exact() {
        // 19 significant digits: more than an f64 holds.
        assert_eq!(ts("1700000000.000774001"), Some(1_700_000_000_000_774_001));
        assert_eq!(ts("-0.000000001"), Some(-1));
        assert_eq!(ts("12"), Some(12_000_000_000));
        assert_eq!(ts("1.5"), Some(1_500_000_000));
        assert_eq!(ts("null"), None);
        assert_eq!(ts("1.0000000001"), None);
        assert_eq!(ts("\"1.0\""), None);
    }
}
