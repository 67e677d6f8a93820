//! One JSON object per packet, written straight into a reusable byte buffer (`capture --json`).
//!
//! The schema is documented in `docs/json.md` ("capture --json"). The writer helpers
//! ([`Obj`], [`Arr`], [`push_str`], [`push_bytes_str`]) are shared by every subcommand's
//! JSON lines; strings are escaped by [`super::escape`].

use std::fmt::Display;
use std::io::Write as _;

use pcap_capture::Packet;
use pcap_decode::arp::{OP_REPLY, OP_REQUEST};
use pcap_decode::tcp::{TcpFlags, TcpOption, TcpView};
use pcap_decode::{Decoded, Link, MacAddr, Net, Transport};

pub use super::escape::{push_bytes_str, push_str};

/// Appends an unsigned integer in decimal.
pub fn push_u64(out: &mut Vec<u8>, mut n: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i = i.saturating_sub(1);
        if let Some(slot) = buf.get_mut(i) {
            // n % 10 < 10: the cast is lossless.
            *slot = b'0'.wrapping_add((n % 10) as u8);
        }
        n /= 10;
        if n == 0 || i == 0 {
            break;
        }
    }
    // Byte pushes after one reserve: faster than a memcpy call for a few digits.
    out.reserve(buf.len().saturating_sub(i));
    for &b in buf.get(i..).unwrap_or_default() {
        out.push(b);
    }
}

/// Appends a string this program chose (a flag or option name): no escaping needed.
#[inline(always)]
fn push_static(out: &mut Vec<u8>, s: &'static str) {
    out.push(b'"');
    out.extend_from_slice(s.as_bytes());
    out.push(b'"');
}

/// Appends a value through its `Display`, quoted. For values whose text needs no escaping
/// (addresses, numbers); use [`push_str`] for anything else.
fn push_display_quoted(out: &mut Vec<u8>, v: impl Display) {
    out.push(b'"');
    // Writing into a Vec cannot fail.
    let _ = write!(out, "{v}");
    out.push(b'"');
}

/// A JSON object being written; close it with [`Obj::end`].
#[derive(Debug)]
pub struct Obj<'b> {
    out: &'b mut Vec<u8>,
    first: bool,
}

impl<'b> Obj<'b> {
    /// Opens an object at the end of `out`.
    pub fn new(out: &'b mut Vec<u8>) -> Self {
        out.push(b'{');
        Obj { out, first: true }
    }

    /// Writes `"key":` (with a comma if needed) and returns the buffer for the value.
    ///
    /// Keys are written as given, unescaped, because they are identifiers chosen by the
    /// program (`"src_port"`), never packet data: they must not contain `"`, `\` or control
    /// characters.
    #[inline(always)]
    pub fn key(&mut self, key: &str) -> &mut Vec<u8> {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
        self.out.push(b'"');
        // Inlined with a constant key, this copy has a constant length: no memcpy call.
        self.out.extend_from_slice(key.as_bytes());
        self.out.extend_from_slice(b"\":");
        self.out
    }

    /// A string member.
    pub fn str(&mut self, key: &str, v: &str) {
        push_str(self.key(key), v);
    }

    /// A string member from bytes (see [`push_bytes_str`]).
    pub fn bytes_str(&mut self, key: &str, v: &[u8]) {
        push_bytes_str(self.key(key), v);
    }

    /// An unsigned integer member.
    #[inline]
    pub fn u64(&mut self, key: &str, v: u64) {
        push_u64(self.key(key), v);
    }

    /// A boolean member.
    #[inline]
    pub fn bool(&mut self, key: &str, v: bool) {
        let s: &[u8] = if v { b"true" } else { b"false" };
        self.key(key).extend_from_slice(s);
    }

    /// A string member from a `Display` value whose text needs no escaping (an address).
    pub fn display(&mut self, key: &str, v: impl Display) {
        push_display_quoted(self.key(key), v);
    }

    /// Appends the members another `Obj` rendered earlier: `rendered` is that object's
    /// bytes from its `{`, left open. Lets a caller render part of an object when the data
    /// is at hand and complete it later without keeping the data.
    pub fn members(&mut self, rendered: &[u8]) {
        let Some(body) = rendered.get(1..).filter(|b| !b.is_empty()) else {
            return;
        };
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
        self.out.extend_from_slice(body);
    }

    /// A socket address member, as its `Display` writes it (`1.2.3.4:80`, `[::1]:80`);
    /// IPv4 without the formatting machinery.
    pub fn socket_addr(&mut self, key: &str, addr: std::net::SocketAddr) {
        let out = self.key(key);
        match addr {
            std::net::SocketAddr::V4(a) => {
                push_ipv4(out, a.ip().octets());
                // Inside the quotes push_ipv4 closed: reopen for the port.
                out.pop();
                out.push(b':');
                push_u64(out, u64::from(a.port()));
                out.push(b'"');
            }
            v6 => push_display_quoted(out, v6),
        }
    }

    /// `"community_id"`: the Community ID (seed 0) of the TCP session between `client`
    /// and `server`, by which rows of other tools (Zeek, Suricata) join ours.
    pub fn community_id(&mut self, client: std::net::SocketAddr, server: std::net::SocketAddr) {
        let id = pcap_decode::community_id::community_id(
            0,
            client.ip(),
            server.ip(),
            pcap_decode::ip_proto::TCP,
            (client.port(), server.port()),
            false,
        );
        self.str("community_id", &id);
    }

    /// A nested object member.
    pub fn obj(&mut self, key: &str) -> Obj<'_> {
        Obj::new(self.key(key))
    }

    /// A nested array member.
    pub fn arr(&mut self, key: &str) -> Arr<'_> {
        Arr::new(self.key(key))
    }

    /// Closes the object.
    pub fn end(self) {
        self.out.push(b'}');
    }
}

/// A JSON array being written; close it with [`Arr::end`].
#[derive(Debug)]
pub struct Arr<'b> {
    out: &'b mut Vec<u8>,
    first: bool,
}

impl<'b> Arr<'b> {
    /// Opens an array at the end of `out`.
    pub fn new(out: &'b mut Vec<u8>) -> Self {
        out.push(b'[');
        Arr { out, first: true }
    }

    /// Starts the next element and returns the buffer for it.
    pub fn item(&mut self) -> &mut Vec<u8> {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
        self.out
    }

    /// A string element.
    pub fn str(&mut self, v: &str) {
        push_str(self.item(), v);
    }

    /// An unsigned integer element.
    pub fn u64(&mut self, v: u64) {
        push_u64(self.item(), v);
    }

    /// An object element.
    pub fn obj(&mut self) -> Obj<'_> {
        Obj::new(self.item())
    }

    /// Closes the array.
    pub fn end(self) {
        self.out.push(b']');
    }
}

/// Appends a timestamp in nanoseconds as a JSON number of seconds with 9 decimals.
pub fn push_ts(out: &mut Vec<u8>, ts_ns: i64) {
    if ts_ns < 0 {
        out.push(b'-');
    }
    let abs = ts_ns.unsigned_abs();
    push_u64(out, abs / 1_000_000_000);
    out.push(b'.');
    let mut frac = abs % 1_000_000_000;
    let mut digits = [b'0'; 9];
    for d in digits.iter_mut().rev() {
        // frac % 10 < 10: lossless.
        *d = b'0'.wrapping_add((frac % 10) as u8);
        frac /= 10;
    }
    out.extend_from_slice(&digits);
}

/// Appends a MAC address as a JSON string.
fn push_mac(out: &mut Vec<u8>, mac: MacAddr) {
    out.push(b'"');
    out.extend_from_slice(&mac.to_text());
    out.push(b'"');
}

/// Appends an IPv4 address as a JSON string (dotted quad).
fn push_ipv4(out: &mut Vec<u8>, ip: [u8; 4]) {
    out.push(b'"');
    for (i, octet) in ip.iter().enumerate() {
        if i > 0 {
            out.push(b'.');
        }
        push_u64(out, u64::from(*octet));
    }
    out.push(b'"');
}

/// Appends one line (object + `\n`) for frame number `frame` (1-based) to `out`.
///
/// `out` is meant to be reused across packets (clear it, or flush it when large); nothing
/// else is allocated.
pub fn write_json(out: &mut Vec<u8>, frame: u64, packet: &Packet<'_>, d: &Decoded<'_>) {
    write_json_with(out, frame, packet, d, |_| {});
}

/// Like [`write_json`], with `app` called after the transport object and before
/// `truncated`/`error`, so that application layers decoded elsewhere (DNS, HTTP) add their
/// own members (`app(&mut obj)` then `obj.obj("dns")`...) on the same line.
pub fn write_json_with(
    out: &mut Vec<u8>,
    frame: u64,
    packet: &Packet<'_>,
    d: &Decoded<'_>,
    app: impl FnOnce(&mut Obj<'_>),
) {
    let mut o = Obj::new(out);
    o.u64("frame", frame);
    push_ts(o.key("ts"), packet.ts_ns);
    o.u64("caplen", u64::from(packet.caplen));
    o.u64("len", u64::from(packet.orig_len));
    write_link(&mut o, d);
    match &d.net {
        Some(Net::Arp(a)) => {
            let mut j = o.obj("arp");
            match a.op() {
                OP_REQUEST => push_static(j.key("op"), "request"),
                OP_REPLY => push_static(j.key("op"), "reply"),
                op => j.u64("op", u64::from(op)),
            }
            if let Some(v) = a.sender_mac() {
                push_mac(j.key("sender_mac"), v);
            }
            if let Some(v) = a.sender_ip() {
                push_ipv4(j.key("sender_ip"), v.octets());
            }
            if let Some(v) = a.target_mac() {
                push_mac(j.key("target_mac"), v);
            }
            if let Some(v) = a.target_ip() {
                push_ipv4(j.key("target_ip"), v.octets());
            }
            j.end();
        }
        Some(Net::Ipv4(v)) => {
            let mut j = o.obj("ipv4");
            push_ipv4(j.key("src"), v.src_bytes());
            push_ipv4(j.key("dst"), v.dst_bytes());
            j.u64("proto", u64::from(v.protocol()));
            j.u64("ttl", u64::from(v.ttl()));
            j.u64("id", u64::from(v.id()));
            let mut f = j.arr("flags");
            if v.reserved_flag() {
                push_static(f.item(), "RB");
            }
            if v.dont_frag() {
                push_static(f.item(), "DF");
            }
            if v.more_frags() {
                push_static(f.item(), "MF");
            }
            f.end();
            j.u64("frag_offset", u64::from(v.frag_offset()));
            if !v.checksum_valid() {
                j.bool("checksum_ok", false);
            }
            j.end();
        }
        Some(Net::Ipv6(v)) => {
            let mut j = o.obj("ipv6");
            j.display("src", v.src());
            j.display("dst", v.dst());
            j.u64("next_header", u64::from(v.next_header()));
            j.u64("hop_limit", u64::from(v.hop_limit()));
            if v.upper_protocol() != v.next_header() {
                j.u64("proto", u64::from(v.upper_protocol()));
            }
            if let Some(fr) = v.fragment() {
                let mut f = j.obj("frag");
                f.u64("id", u64::from(fr.id));
                f.u64("offset", u64::from(fr.offset));
                f.bool("more", fr.more);
                f.end();
            }
            j.end();
        }
        // No network layer, or one this writer does not know yet.
        _ => {}
    }
    match &d.transport {
        Some(Transport::Tcp(t)) => {
            write_tcp(&mut o, t, d);
            if let Some(hello) = super::tls::packet_hello(d.payload) {
                super::tls::write_packet_hello_json(&mut o, &hello);
            }
        }
        Some(Transport::Udp(u)) => {
            let mut j = o.obj("udp");
            j.u64("src_port", u64::from(u.src_port()));
            j.u64("dst_port", u64::from(u.dst_port()));
            j.u64("len", u64::from(u.length()));
            j.end();
            match d.dns() {
                Some(Ok(msg)) => super::dns::write_json(o.key("dns"), &msg),
                Some(Err(e)) => {
                    let mut j = o.obj("dns");
                    j.display("error", e);
                    j.end();
                }
                None => {}
            }
        }
        Some(Transport::Icmp(i) | Transport::Icmpv6(i)) => {
            let mut j = o.obj(if i.is_v6() { "icmpv6" } else { "icmp" });
            j.u64("type", u64::from(i.icmp_type()));
            j.u64("code", u64::from(i.code()));
            if let Some((id, seq)) = i.echo() {
                j.u64("id", u64::from(id));
                j.u64("seq", u64::from(seq));
            }
            if let Some(t) = i.nd_target() {
                j.display("target", t);
            }
            if let Some(q) = i.quoted_packet() {
                let mut qj = j.obj("quoted");
                qj.display("src", q.src);
                qj.display("dst", q.dst);
                qj.u64("proto", u64::from(q.protocol));
                if let Some((sp, dp)) = q.ports {
                    qj.u64("src_port", u64::from(sp));
                    qj.u64("dst_port", u64::from(dp));
                }
                qj.end();
            }
            j.end();
        }
        // No transport layer, or one this writer does not know yet.
        _ => {}
    }
    app(&mut o);
    if d.truncated {
        o.bool("truncated", true);
    }
    if let Some(e) = &d.stop {
        let k = o.key("error");
        k.push(b'"');
        // The Display text holds no quotes, backslashes or control characters.
        let _ = write!(k, "{e}");
        k.push(b'"');
    }
    o.end();
    out.push(b'\n');
}

fn write_link(o: &mut Obj<'_>, d: &Decoded<'_>) {
    match &d.link {
        Some(Link::Ethernet(e)) => {
            let mut j = o.obj("eth");
            push_mac(j.key("src"), e.src());
            push_mac(j.key("dst"), e.dst());
            j.u64("ethertype", u64::from(e.ethertype()));
            j.end();
        }
        Some(Link::Sll(s)) => {
            let mut j = o.obj(if s.is_v2() { "sll2" } else { "sll" });
            j.u64("packet_type", u64::from(s.packet_type()));
            j.u64("hatype", u64::from(s.hatype()));
            j.u64("protocol", u64::from(s.protocol()));
            if let Some(i) = s.ifindex() {
                j.u64("ifindex", u64::from(i));
            }
            let a = j.key("addr");
            a.push(b'"');
            for (n, b) in s.addr().iter().enumerate() {
                if n > 0 {
                    a.push(b':');
                }
                let _ = write!(a, "{b:02x}");
            }
            a.push(b'"');
            j.end();
        }
        Some(Link::Null(n)) => {
            let mut j = o.obj("null");
            j.u64("family", u64::from(n.family));
            j.end();
        }
        Some(Link::Netlink) => {
            let mut j = o.obj("netlink");
            j.u64("len", d.payload.len() as u64);
            j.end();
        }
        Some(Link::Ppp(proto)) => {
            let mut j = o.obj("ppp");
            j.u64("protocol", u64::from(*proto));
            j.end();
        }
        Some(Link::Chdlc(et)) => {
            let mut j = o.obj("chdlc");
            j.u64("ethertype", u64::from(*et));
            j.end();
        }
        Some(Link::Nflog(family)) => {
            let mut j = o.obj("nflog");
            j.u64("family", u64::from(*family));
            j.end();
        }
        Some(Link::Wlan { radiotap }) => {
            let mut j = o.obj("wlan");
            j.bool("radiotap", *radiotap);
            j.end();
        }
        // Raw IP has no link header; link types this writer does not know yet are left out.
        _ => {}
    }
    if let Some(l) = &d.llc {
        let mut j = o.obj("llc");
        j.u64("dsap", u64::from(l.dsap));
        j.u64("ssap", u64::from(l.ssap));
        j.u64("control", u64::from(l.control));
        if let Some((_, proto)) = l.snap {
            j.u64("snap_proto", u64::from(proto));
        }
        j.end();
    }
    if let Some(p) = &d.pppoe {
        let mut j = o.obj("pppoe");
        j.u64("session_id", u64::from(p.session_id));
        j.u64("ppp_proto", u64::from(p.protocol));
        j.end();
    }
    if !d.vlans.is_empty() {
        let mut a = o.arr("vlan");
        for v in &d.vlans {
            a.u64(u64::from(v.id()));
        }
        a.end();
    }
    if !d.tunnels.is_empty() {
        // Outermost first; `ip` and the transport objects are the innermost packet's.
        let mut a = o.arr("tunnels");
        for t in &d.tunnels {
            let mut j = a.obj();
            j.str("type", t.kind.name());
            if let Some(id) = t.id {
                j.u64("id", u64::from(id));
            }
            if let (Some(src), Some(dst)) = (t.src(), t.dst()) {
                j.display("src", src);
                j.display("dst", dst);
            }
            j.end();
        }
        a.end();
    }
}

fn write_tcp(o: &mut Obj<'_>, t: &TcpView<'_>, d: &Decoded<'_>) {
    let mut j = o.obj("tcp");
    j.u64("src_port", u64::from(t.src_port()));
    j.u64("dst_port", u64::from(t.dst_port()));
    j.u64("seq", u64::from(t.seq()));
    j.u64("ack", u64::from(t.ack()));
    let mut f = j.arr("flags");
    for (bit, name) in TcpFlags::NAMES {
        if t.flags().has(bit) {
            push_static(f.item(), name);
        }
    }
    f.end();
    j.u64("window", u64::from(t.window()));
    let mut opts = j.arr("options");
    let mut bad = None;
    for opt in t.options(d.transport_offset) {
        let mut ob = match opt {
            Ok(_) => opts.obj(),
            Err(e) => {
                bad = Some(e);
                break;
            }
        };
        match opt {
            Ok(TcpOption::Eol) => push_static(ob.key("kind"), "eol"),
            Ok(TcpOption::Nop) => push_static(ob.key("kind"), "nop"),
            Ok(TcpOption::Mss(v)) => {
                push_static(ob.key("kind"), "mss");
                ob.u64("value", u64::from(v));
            }
            Ok(TcpOption::WindowScale(v)) => {
                push_static(ob.key("kind"), "wscale");
                ob.u64("value", u64::from(v));
            }
            Ok(TcpOption::SackPermitted) => push_static(ob.key("kind"), "sack_perm"),
            Ok(TcpOption::Sack(blocks)) => {
                push_static(ob.key("kind"), "sack");
                let mut a = ob.arr("blocks");
                for (l, r) in blocks.iter() {
                    let mut pair = Arr::new(a.item());
                    pair.u64(u64::from(l));
                    pair.u64(u64::from(r));
                    pair.end();
                }
                a.end();
            }
            Ok(TcpOption::Timestamp { val, ecr }) => {
                push_static(ob.key("kind"), "timestamp");
                ob.u64("val", u64::from(val));
                ob.u64("ecr", u64::from(ecr));
            }
            Ok(TcpOption::Unknown { kind, data }) => {
                push_static(ob.key("kind"), "unknown");
                ob.u64("code", u64::from(kind));
                ob.u64("len", (data.len() as u64).saturating_add(2));
            }
            // Errors stop the loop above; options this writer does not know yet show as `{}`.
            _ => {}
        }
        ob.end();
    }
    opts.end();
    if let Some(e) = bad {
        let k = j.key("options_error");
        k.push(b'"');
        let _ = write!(k, "{e}");
        k.push(b'"');
    }
    j.u64("payload_len", d.payload.len() as u64);
    j.end();
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_timestamps() {
        let mut out = Vec::new();
        for n in [0, 7, 10, 65535, u64::MAX] {
            out.clear();
            push_u64(&mut out, n);
            assert_eq!(out, n.to_string().as_bytes());
        }
        out.clear();
        push_ts(&mut out, 1_700_000_000_000_000_001);
        assert_eq!(out, b"1700000000.000000001");
        out.clear();
        push_ts(&mut out, -1);
        assert_eq!(out, b"-0.000000001");
    }

    #[test]
    fn nested_objects_and_arrays() {
        let mut out = Vec::new();
        let mut o = Obj::new(&mut out);
        o.str("k", "v");
        let mut a = o.arr("a");
        a.u64(1);
        let mut inner = a.obj();
        inner.bool("t", true);
        inner.end();
        a.end();
        o.display("ip", std::net::Ipv4Addr::LOCALHOST);
        o.socket_addr("a", "10.1.2.3:8080".parse().unwrap());
        o.socket_addr("b", "[2001:db8::1]:80".parse().unwrap());
        let mut part = Vec::new();
        let mut p = Obj::new(&mut part);
        p.u64("x", 1);
        p.str("y", "z");
        o.members(&part);
        o.members(b"{");
        o.end();
        assert_eq!(
            out,
            br#"{"k":"v","a":[1,{"t":true}],"ip":"127.0.0.1","a":"10.1.2.3:8080","b":"[2001:db8::1]:80","x":1,"y":"z"}"#
        );
    }
}
