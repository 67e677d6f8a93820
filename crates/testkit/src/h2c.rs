//! Hand-built h2c sessions for the CLI's end-to-end tests: one TCP session in Ethernet
//! frames, HTTP/2 frames, and HPACK blocks of plain literals.

use pcap_decode::build::{self, FrameSpec, IpSpec, Ipv4Spec, TcpSpec};

const CLIENT: [u8; 4] = [10, 0, 0, 1];
const SERVER: [u8; 4] = [10, 0, 0, 2];
const SYN: u16 = 0x002;
const ACK: u16 = 0x010;
const PSH_ACK: u16 = 0x018;
const FIN_ACK: u16 = 0x011;

/// The HTTP/2 client connection preface.
pub const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Ports of the session: the client's and the server's.
#[derive(Debug, Clone, Copy)]
pub struct Ports {
    /// The client's port.
    pub client: u16,
    /// The server's port.
    pub server: u16,
}

/// One TCP segment of the session between 10.0.0.1 (the client) and 10.0.0.2, in an
/// Ethernet frame: `from_client` picks the direction; `seq` and `ack` are absolute.
pub fn segment(
    ports: Ports,
    from_client: bool,
    seq: u32,
    ack: u32,
    flags: u16,
    data: &[u8],
) -> Vec<u8> {
    let (src, dst, sport, dport) = if from_client {
        (CLIENT, SERVER, ports.client, ports.server)
    } else {
        (SERVER, CLIENT, ports.server, ports.client)
    };
    let spec = FrameSpec {
        ip: IpSpec::V4(Ipv4Spec {
            src,
            dst,
            ..Ipv4Spec::default()
        }),
        ..FrameSpec::default()
    };
    let t = TcpSpec {
        src_port: sport,
        dst_port: dport,
        seq,
        ack,
        flags,
        ..TcpSpec::default()
    };
    build::tcp_frame(&spec, &t, data)
}

/// A TCP session from 10.0.0.1 to 10.0.0.2: handshake, one segment per
/// `(from_client, bytes)`, then FINs both ways.
pub fn session(ports: Ports, segments: &[(bool, Vec<u8>)]) -> Vec<Vec<u8>> {
    let (mut c, mut s) = (1001u32, 5001u32);
    let mut frames = vec![
        segment(ports, true, c - 1, 0, SYN, b""),
        segment(ports, false, s - 1, c, SYN | ACK, b""),
        segment(ports, true, c, s, ACK, b""),
    ];
    for (from_client, bytes) in segments {
        let len = u32::try_from(bytes.len()).expect("segment under 4 GiB");
        if *from_client {
            frames.push(segment(ports, true, c, s, PSH_ACK, bytes));
            c += len;
        } else {
            frames.push(segment(ports, false, s, c, PSH_ACK, bytes));
            s += len;
        }
    }
    frames.push(segment(ports, true, c, s, FIN_ACK, b""));
    frames.push(segment(ports, false, s, c + 1, FIN_ACK, b""));
    frames.push(segment(ports, true, c + 1, s + 1, ACK, b""));
    frames
}

/// One HTTP/2 frame: 24-bit length, type, flags, stream, payload.
pub fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let len = u32::try_from(payload.len()).expect("frame under 16 MiB");
    let mut f = len.to_be_bytes()[1..].to_vec();
    f.extend([kind, flags]);
    f.extend(stream.to_be_bytes());
    f.extend(payload);
    f
}

/// An HPACK block of literals without indexing (new names), no Huffman; each name and
/// value under 128 bytes.
pub fn literal_block(fields: &[(&str, &str)]) -> Vec<u8> {
    let mut b = Vec::new();
    for (n, v) in fields {
        let (n_len, v_len) = (u8::try_from(n.len()), u8::try_from(v.len()));
        let (Ok(n_len), Ok(v_len)) = (n_len, v_len) else {
            panic!("HPACK literal over 127 bytes: {n}");
        };
        b.extend([0, n_len]);
        b.extend(n.as_bytes());
        b.push(v_len);
        b.extend(v.as_bytes());
    }
    b
}
