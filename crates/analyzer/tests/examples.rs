//! Runs every example program (`crates/http-ws/examples`) on a capture with known truth and
//! checks what it prints: `tests/data/sample-http-ws.pcap` against its generator's truth
//! files and tshark, and `tests/data/redis-commands.pcap`, which this file builds.
//!
//! The examples are real programs, so they are run as programs: built once with the cargo
//! that runs the tests (a no-op when `cargo test` has just built them), then started from the
//! workspace root.
#![allow(missing_docs, clippy::unwrap_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use pcap_decode::build::{FrameSpec, IpSpec, Ipv4Spec, Ipv6Spec, TcpSpec, tcp_frame};
use pcap_decode::tcp::TcpFlags;
use pcap_testkit::{Tsv, test_data, workspace_root};

/// `target/<profile>`, from this test binary's path (`target/<profile>/deps/examples-*`).
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.parent().and_then(Path::parent).unwrap().to_path_buf()
}

/// Builds the examples once per test run, into this test's target directory and profile, so
/// they land in `profile_dir()/examples` however the tests were started.
fn build_examples() {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        let profile_dir = profile_dir();
        let mut cargo = Command::new(env!("CARGO"));
        cargo.args([
            "build",
            "-q",
            "-p",
            "pcap-analyzer",
            "--examples",
            "--target-dir",
        ]);
        cargo.arg(profile_dir.parent().unwrap());
        match profile_dir.file_name().and_then(|n| n.to_str()) {
            Some("debug") => {}
            Some("release") => {
                cargo.arg("--release");
            }
            Some(custom) => {
                cargo.args(["--profile", custom]);
            }
            None => {}
        }
        let status = cargo.current_dir(workspace_root()).status().unwrap();
        assert!(status.success(), "building the examples failed");
    });
}

/// Runs example `name` with `args` from the workspace root; returns its standard output.
fn run(name: &str, args: &[&str]) -> String {
    build_examples();
    let exe = profile_dir()
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    let out = Command::new(&exe)
        .args(args)
        .current_dir(workspace_root())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", exe.display()));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{name} {args:?} failed: {stderr}");
    String::from_utf8(out.stdout).unwrap()
}

const SAMPLE: &str = "tests/data/sample-http-ws.pcap";
const REDIS: &str = "tests/data/redis-commands.pcap";

/// (method, host, uri, status) of each transaction in `.tx.tsv`, in its order.
fn truth_transactions() -> Vec<(String, String, String, String)> {
    let tsv = Tsv::load(&test_data("sample-http-ws.pcap.tx.tsv"));
    tsv.rows()
        .map(|r| {
            let f = |c| r.get(c).to_owned();
            (f("method"), f("host"), f("uri"), f("status"))
        })
        .collect()
}

#[test]
fn requests_is_the_readme_program_and_lists_every_request() {
    let readme = std::fs::read_to_string(workspace_root().join("README.md")).unwrap();
    let start = readme.find("```rust,no_run\n").unwrap() + "```rust,no_run\n".len();
    let len = readme[start..].find("```\n").unwrap();
    let program = &readme[start..start + len];
    let example = include_str!("../examples/requests.rs");
    assert!(
        example.ends_with(program),
        "examples/requests.rs must end with the README's program, word for word"
    );

    let out = run("requests", &[SAMPLE]);
    let mut seen: Vec<String> = out
        .lines()
        .map(|l| l.split_once(' ').unwrap().1.to_owned())
        .collect();
    let mut want: Vec<String> = truth_transactions()
        .into_iter()
        .map(|(method, host, uri, _)| format!("{method} http://{host}{uri}"))
        .collect();
    seen.sort();
    want.sort();
    assert_eq!(seen, want);
}

#[test]
fn simple_capture_prints_one_line_per_packet() {
    let out = run("simple_capture", &[SAMPLE]);
    let lines: Vec<&str> = out.lines().collect();
    // Truth: "packets": 181, "syn_packets": 16, "fin_packets": 16.
    assert_eq!(lines.len(), 181);
    for (i, line) in lines.iter().enumerate() {
        assert!(
            line.starts_with(&format!("{} 1700000000.", i + 1)),
            "{line}"
        );
    }
    let flags = |l: &&str| {
        l.split_once("TCP [")
            .map(|(_, r)| r.split(']').next().unwrap().to_owned())
    };
    let all: Vec<String> = lines.iter().filter_map(flags).collect();
    assert_eq!(all.len(), 181, "every packet is TCP");
    assert_eq!(all.iter().filter(|f| f.contains('S')).count(), 16);
    assert_eq!(all.iter().filter(|f| f.contains('F')).count(), 16);
    // Frame 2 as tshark shows it: the SYN/ACK of the first session.
    assert_eq!(
        lines[1],
        "2 1700000000.000026 02:00:00:00:00:01 -> 02:00:00:00:fe:01 [2001:db8:ffff::82]:80 -> \
         [2001:db8:1::1]:36510 TCP [S.] seq 2325153932 ack 328182932 win 65535 len 0"
    );
}

#[test]
fn http_trace_prints_every_transaction_with_its_status() {
    let out = run("http_trace", &[SAMPLE]);
    let seen: Vec<(String, String, String, String)> = out
        .lines()
        .map(|l| {
            // "#0 CLIENT METHOD http://HOSTURI STATUS 0.007 ms"
            let f: Vec<&str> = l.split(' ').collect();
            assert_eq!((f.len(), f[6]), (7, "ms"), "{l}");
            let url = f[3].strip_prefix("http://").unwrap();
            let slash = url.find('/').unwrap();
            let (host, uri) = url.split_at(slash);
            (
                f[2].to_owned(),
                host.to_owned(),
                uri.to_owned(),
                f[4].to_owned(),
            )
        })
        .collect();
    assert_eq!(seen, truth_transactions());
}

#[test]
fn network_grep_finds_every_host_header_in_the_client_streams() {
    let out = run("network_grep", &["Host: [a-z.]+", SAMPLE]);
    let mut hosts: Vec<&str> = out
        .lines()
        .map(|l| {
            // "#N CLIENT -> SERVER Host: NAME"
            let f: Vec<&str> = l.split(' ').collect();
            assert!(f[3].ends_with(":80"), "client to server: {l}");
            f[5]
        })
        .collect();
    let truth = truth_transactions();
    let mut want: Vec<&str> = truth.iter().map(|t| t.1.as_str()).collect();
    hosts.sort();
    want.sort();
    assert_eq!(hosts, want);
}

#[test]
fn network_grep_matches_across_segments_and_reordering() {
    // "hello world" is split across two client segments; the LPUSH command's two segments
    // arrive in reverse order.
    let out = run("network_grep", &["(?s)hello world|LPUSH.*?job2", REDIS]);
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        [
            "#0 10.0.0.1:50000 -> 10.0.0.2:6379 hello world",
            "#0 10.0.0.2:6379 -> 10.0.0.1:50000 hello world",
            "#1 [2001:db8::1]:50001 -> [2001:db8::2]:6379 LPUSH\\r\\n$5\\r\\nqueue\\r\\n$4\\r\\njob1\\r\\n$4\\r\\njob2",
        ]
    );
}

#[test]
fn tcp_metrics_matches_tshark_and_the_truth_file() {
    let out = run("tcp_metrics", &[SAMPLE]);
    // Per session: tshark's tcp.analysis.initial_rtt in µs
    // (`tshark -r sample-http-ws.pcap -T fields -e tcp.stream -e tcp.analysis.initial_rtt`).
    let tshark_rtt_us = [6, 33, 28, 401, 29, 19, 26, 44];
    let (mut sessions, mut c2s, mut s2c, mut retrans) = (0, 0, 0, 0);
    for line in out.lines() {
        let f: Vec<&str> = line.split(' ').collect();
        let id: usize = f[0].strip_prefix('#').unwrap().parse().unwrap();
        assert_eq!(f[4], "rtt");
        let rtt_us = (f[5].parse::<f64>().unwrap() * 1000.0).round() as u64;
        assert_eq!(rtt_us, tshark_rtt_us[id], "{line}");
        c2s += f[11].parse::<u64>().unwrap();
        s2c += f[14].parse::<u64>().unwrap();
        retrans += f[17].parse::<u64>().unwrap();
        assert_eq!(f[21], "closed", "every session ends with FINs: {line}");
        sessions += 1;
    }
    // Truth: 8 connections, tcp_payload_bytes c2s 8087 / s2c 21721, 1 retransmitted segment.
    assert_eq!((sessions, c2s, s2c, retrans), (8, 8087, 21721, 1));
}

#[test]
fn tcp_metrics_on_the_redis_capture() {
    let out = run("tcp_metrics", &[REDIS]);
    let mut lines: Vec<&str> = out.lines().collect();
    lines.sort();
    // Handshake times and byte counts as built by `redis_capture` below: session 0 sends
    // 35 + 10 + 27 + 27 + 6 bytes and receives 5 + 22 + 7 (the retransmitted +OK once); session
    // 1 sends 26 + 20 + 14 (the 23 lost bytes are not counted) and receives 4 + 10. A session
    // ends at the second FIN, so its last ACK is not part of its duration.
    assert_eq!(
        lines,
        [
            "#0 10.0.0.1:50000 -> 10.0.0.2:6379 rtt 0.300 ms (0.200 + 0.100) c2s 105 B s2c 34 B \
             retrans 1 duration 4.100 ms closed",
            "#1 [2001:db8::1]:50001 -> [2001:db8::2]:6379 rtt 0.450 ms (0.400 + 0.050) c2s 60 B \
             s2c 14 B retrans 0 duration 5.800 ms closed",
        ]
    );
}

#[test]
fn redis_commands_decodes_every_command() {
    let out = run("redis_commands", &[REDIS]);
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        [
            "#0 10.0.0.1:50000 SET greeting \"hello world\"",
            "#0 10.0.0.1:50000 GET greeting",
            "#0 10.0.0.1:50000 INCR counter",
            "#0 10.0.0.1:50000 PING",
            "#1 [2001:db8::1]:50001 LPUSH queue job1 job2",
            "#1 [2001:db8::1]:50001 23 bytes not captured, resynchronising",
            "#1 [2001:db8::1]:50001 QUIT",
        ]
    );
}

/// The examples' names, from the files in `examples/`.
fn example_names() -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| {
            e.unwrap()
                .file_name()
                .to_str()?
                .strip_suffix(".rs")
                .map(String::from)
        })
        .collect();
    names.sort();
    names
}

/// Every example prints its usage and fails without arguments, rather than panicking.
#[test]
fn examples_without_arguments_print_their_usage() {
    build_examples();
    for name in example_names() {
        let exe = profile_dir()
            .join("examples")
            .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
        let out = Command::new(&exe).output().unwrap();
        assert!(!out.status.success(), "{name}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("usage"),
            "{name}"
        );
    }
}

/// The README's "Examples" table lists every example with its run command.
#[test]
fn readme_lists_every_example() {
    let readme = std::fs::read_to_string(workspace_root().join("README.md")).unwrap();
    let section = &readme[readme.find("\n## Examples\n").unwrap()..];
    for name in example_names() {
        let command = format!("cargo run -p pcap-analyzer --example {name} -- ");
        assert!(
            section.contains(&format!("| `{name}` |")),
            "{name} missing from README"
        );
        assert!(
            section.contains(&command),
            "run command for {name} missing from README"
        );
    }
}

/// One TCP connection's two sides, with their next sequence numbers.
struct Conn {
    ts_us: i64,
    fwd: FrameSpec,
    rev: FrameSpec,
    ports: (u16, u16),
    seq: (u32, u32),
}

const SYN: u16 = TcpFlags::SYN.0;
const ACK: u16 = TcpFlags::ACK.0;
const PSH_ACK: u16 = TcpFlags::PSH.0 | TcpFlags::ACK.0;
const FIN_ACK: u16 = TcpFlags::FIN.0 | TcpFlags::ACK.0;

impl Conn {
    fn new(client: IpSpec, server: IpSpec, ports: (u16, u16), isn: (u32, u32)) -> Conn {
        let fwd = FrameSpec {
            ip: client,
            ..FrameSpec::default()
        };
        let mut rev = FrameSpec {
            ip: server,
            ..FrameSpec::default()
        };
        rev.eth.src = fwd.eth.dst;
        rev.eth.dst = fwd.eth.src;
        Conn {
            ts_us: 0,
            fwd,
            rev,
            ports,
            seq: isn,
        }
    }

    /// A frame from the client (`from_client`) or the server at `ts_us`; advances that
    /// side's sequence number by the payload (and SYN/FIN).
    fn frame(
        &mut self,
        ts_us: i64,
        from_client: bool,
        flags: u16,
        payload: &[u8],
    ) -> (i64, Vec<u8>) {
        let (frame, ports, seq, ack) = if from_client {
            (&self.fwd, self.ports, &mut self.seq.0, self.seq.1)
        } else {
            (
                &self.rev,
                (self.ports.1, self.ports.0),
                &mut self.seq.1,
                self.seq.0,
            )
        };
        let tcp = TcpSpec {
            src_port: ports.0,
            dst_port: ports.1,
            seq: *seq,
            ack: if flags & ACK != 0 { ack } else { 0 },
            flags,
            window: 65535,
            options: Vec::new(),
        };
        let bytes = tcp_frame(frame, &tcp, payload);
        let len = payload.len() as u32 + u32::from(flags & (SYN | TcpFlags::FIN.0) != 0);
        *seq = seq.wrapping_add(len);
        self.ts_us = ts_us;
        (ts_us, bytes)
    }

    fn c(&mut self, ts_us: i64, flags: u16, payload: &[u8]) -> (i64, Vec<u8>) {
        self.frame(ts_us, true, flags, payload)
    }

    fn s(&mut self, ts_us: i64, flags: u16, payload: &[u8]) -> (i64, Vec<u8>) {
        self.frame(ts_us, false, flags, payload)
    }

    /// The three-way handshake: SYN at `t`, SYN/ACK `syn_ack` µs later, ACK `ack` µs after that.
    fn handshake(&mut self, t: i64, syn_ack: i64, ack: i64) -> Vec<(i64, Vec<u8>)> {
        vec![
            self.c(t, SYN, b""),
            self.s(t + syn_ack, SYN | ACK, b""),
            self.c(t + syn_ack + ack, ACK, b""),
        ]
    }
}

/// The Redis capture: two sessions, with a command split across segments, two commands in
/// one segment, an inline command, a retransmitted reply, segments out of order, and a lost
/// segment (a gap the server acknowledges).
fn redis_capture() -> Vec<u8> {
    let v4 = |last| {
        IpSpec::V4(Ipv4Spec {
            src: [10, 0, 0, last],
            dst: [10, 0, 0, 3 - last],
            ..Ipv4Spec::default()
        })
    };
    let v6 = |last| {
        let (mut src, mut dst) = ([0u8; 16], [0u8; 16]);
        src[..4].copy_from_slice(&[0x20, 0x01, 0x0d, 0xb8]);
        dst[..4].copy_from_slice(&[0x20, 0x01, 0x0d, 0xb8]);
        (src[15], dst[15]) = (last, 3 - last);
        IpSpec::V6(Ipv6Spec {
            src,
            dst,
            hop_limit: 64,
        })
    };
    let mut frames = Vec::new();

    let mut a = Conn::new(v4(1), v4(2), (50000, 6379), (1000, 5000));
    frames.extend(a.handshake(0, 200, 100));
    frames.push(a.c(
        1000,
        PSH_ACK,
        b"*3\r\n$3\r\nSET\r\n$8\r\ngreeting\r\n$11\r\nhel",
    ));
    frames.push(a.c(1010, PSH_ACK, b"lo world\r\n"));
    let ok_seq = a.seq.1;
    frames.push(a.s(1100, PSH_ACK, b"+OK\r\n"));
    // The reply sent again: a retransmission.
    let (ts, again) = {
        let next = a.seq.1;
        a.seq.1 = ok_seq;
        let f = a.s(1150, PSH_ACK, b"+OK\r\n");
        a.seq.1 = next;
        f
    };
    frames.push((ts, again));
    frames.push(a.c(
        2000,
        PSH_ACK,
        b"*2\r\n$3\r\nGET\r\n$8\r\ngreeting\r\n*2\r\n$4\r\nINCR\r\n$7\r\ncounter\r\n",
    ));
    frames.push(a.s(2100, PSH_ACK, b"$11\r\nhello world\r\n:1\r\n"));
    frames.push(a.c(3000, PSH_ACK, b"PING\r\n"));
    frames.push(a.s(3050, PSH_ACK, b"+PONG\r\n"));
    frames.push(a.c(4000, FIN_ACK, b""));
    frames.push(a.s(4100, FIN_ACK, b""));
    frames.push(a.c(4200, ACK, b""));

    let mut b = Conn::new(v6(1), v6(2), (50001, 6379), (7000, 9000));
    // Interleaved with session 0 in time: sorted below.
    frames.extend(b.handshake(500, 400, 50));
    let first = b.c(5010, PSH_ACK, b"*4\r\n$5\r\nLPUSH\r\n$5\r\nqueue\r\n");
    let second = b.c(5000, PSH_ACK, b"$4\r\njob1\r\n$4\r\njob2\r\n");
    frames.push(second); // arrives first
    frames.push(first);
    frames.push(b.s(5100, PSH_ACK, b":2\r\n"));
    let _lost = b.c(6000, PSH_ACK, b"*2\r\n$3\r\nGET\r\n$4\r\nlost\r\n"); // never captured
    frames.push(b.c(6010, PSH_ACK, b"*1\r\n$4\r\nQUIT\r\n"));
    frames.push(b.s(6100, PSH_ACK, b"$-1\r\n+OK\r\n"));
    frames.push(b.s(6200, FIN_ACK, b""));
    frames.push(b.c(6300, FIN_ACK, b""));
    frames.push(b.s(6400, ACK, b""));

    frames.sort_by_key(|f| f.0);
    pcap_testkit::ethernet_pcap(
        frames
            .iter()
            .map(|(ts_us, data)| (1_700_000_000_000_000_000 + ts_us * 1000, data.as_slice())),
    )
}

/// The committed capture is what `redis_capture` builds; `PCAP_REGENERATE=1` rewrites it.
#[test]
fn redis_capture_is_reproducible() {
    let built = redis_capture();
    let path = test_data("redis-commands.pcap");
    if std::env::var_os("PCAP_REGENERATE").is_some() {
        std::fs::write(&path, &built).unwrap();
    }
    let committed = std::fs::read(&path).unwrap();
    assert!(
        committed == built,
        "{} is stale: run with PCAP_REGENERATE=1",
        path.display()
    );
}
