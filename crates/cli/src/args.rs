//! Command-line arguments, in the style tcpdump and Wireshark users know.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use pcap_tcp_reassembly::OverlapPolicy;

/// Packet capture and analysis: capture, decode, reassemble TCP, trace HTTP and WebSocket.
#[derive(Debug, Parser)]
#[command(name = "pcap-cli", version, about, propagate_version = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// List capture devices with their addresses; the default one is marked `*`.
    Devices(DevicesArgs),
    /// Print one line (or one JSON object) per packet; `-w` saves the packets.
    ///
    /// A TCP payload that starts with a TLS hello shows it, found by content on any port:
    /// `TLS ClientHello sni=example.com alpn=h2,http/1.1`, `TLS ServerHello TLS 1.3
    /// TLS_AES_128_GCM_SHA256` (`--json`: a `tls` member).
    ///
    /// Packets of a Linux cooked capture v2 (`-i any`) start with their interface and
    /// direction, as tcpdump: `lo    In  127.0.0.1:80 -> ...` (the index named from this
    /// machine's interfaces, as tcpdump does, `?` when it has none such; `In`, `Out`, `B`
    /// broadcast, `M` multicast, `P` to another host); cooked v1 has no interface, and its
    /// direction is shown with -e. Lines of a pcapng file with several interfaces start
    /// with the packet's interface name from its Interface Description Block (as tshark's
    /// frame.interface_name), when the blocks among the first 1024 packets name them.
    ///
    /// The IP fragment that completes a datagram shows the datagram's transport header (and
    /// DNS, TLS hello, -X dump...), as tshark does, its line ending with `(reassembled from
    /// N fragments)`; the other fragments show `frag id ... offset ...`. Text only.
    Capture(CaptureArgs),
    /// Show HTTP transactions and WebSocket messages reassembled from TCP sessions.
    HttpTrace(Box<HttpTraceArgs>),
    /// Search TCP payloads with a regular expression, across segment boundaries, and UDP
    /// payloads, each datagram on its own.
    ///
    /// A match in a UDP datagram is marked `udp` with the datagram's source and destination
    /// (`--json`: `"proto":"udp"`, `client`/`server` the source/destination, `stream` null,
    /// `offset` in the datagram).
    ///
    /// TLS sessions whose keys are known (--keylog, $SSLKEYLOGFILE, pcapng secrets) are
    /// searched decrypted too, as a stream of their own: such matches are marked `[tls]`
    /// (`"tls":true`), at offsets in the plaintext. --packet searches raw payloads only.
    ///
    /// Exit code 0 when something matched, 1 when nothing did, 2 on errors (as grep).
    Grep(GrepArgs),
    /// Print the TCP session table.
    ///
    /// Each session's row (or `--json` line) is written when the session ends (FIN exchange,
    /// RST, eviction, end of input), so in end order, not by stream id, with bounded memory.
    /// The text columns have fixed widths that fit IPv4 endpoints; wider values such as IPv6
    /// endpoints push the rest of their row. TLS sessions, found by content, end their row
    /// with version, SNI and ALPN (`TLS 1.3 example.com h2`; `--json`: a `tls` object); in
    /// TLS 1.3 the chosen ALPN needs the session's key (--keylog), else the offer is shown.
    ///
    /// Columns and units: START and END in the -t time format, DURATION(s) in seconds,
    /// PKTS> and PKTS< packets and BYTES> and BYTES< TCP payload bytes delivered (gaps
    /// excluded), `>` client to server and `<` server to client, RETX(segs) retransmitted
    /// segments, GAPS holes in the streams, SYN-RETRY repeated SYNs.
    Flows(FlowsArgs),
    /// Write each TCP session's two directions to files, like tcpflow; or, with --stream N
    /// or --stream-filter, print one session to the terminal, like tcpflow -c.
    ///
    /// With --decrypted, also each decrypted TLS session's plaintext (files named `...-tls`).
    Follow(FollowArgs),
    /// Serve a local web page showing live packets and HTTP transactions.
    ///
    /// Clicking a row shows its details; a packet's include its payload's first 512 bytes as
    /// a hex and ASCII dump, as tcpdump -X lays it out.
    Serve(ServeArgs),
    /// Summary statistics, as tshark's `-z http,tree`, `-z conv`, `-z endpoints` and
    /// `-z io,stat`: HTTP methods, status codes and per-host latency, TCP and UDP
    /// conversations, IP endpoints, and packets and bytes per interval.
    ///
    /// Printed once, at the end of the file (live: at Ctrl-C or after -c packets).
    /// HTTP/2 and HTTPS (with --keylog) transactions count as HTTP/1.x ones do.
    ///
    /// Latency is from a request's first byte to its response's last, for transactions
    /// with both; percentiles are nearest-rank (pN is the smallest latency that at least N%
    /// of the host's latencies do not exceed). Each host keeps at most 1024 latencies: up
    /// to that, percentiles are exact; beyond it they come from a uniform random sample of
    /// 1024 (reservoir sampling, deterministic), marked `~`. MAX is always exact.
    ///
    /// Memory is bounded: at most 200,000 conversations, 200,000 endpoints, 4096 hosts and
    /// 256 methods are told apart; the rest count as `(other ...)`, with a warning.
    Stats(StatsArgs),
    /// Write packets, flows, HTTP transactions, WebSocket messages, DNS messages and TLS
    /// handshakes as Parquet tables, partitioned by hour, for DuckDB, Spark, Trino and
    /// DataFusion (see docs/analytics.md).
    ///
    /// Files go to OUTDIR/table=NAME/date=YYYY-MM-DD/hour=HH/part-RUN-N.parquet (UTC times;
    /// RUN differs for every run, so runs and sensors can share OUTDIR; an existing file is
    /// never overwritten). Ctrl-C closes every file cleanly.
    #[cfg(feature = "parquet")]
    Export(ExportArgs),
}

impl Command {
    /// The subcommand's output options, if it has them.
    pub fn output(&self) -> Option<&OutputArgs> {
        match self {
            Command::Devices(a) => Some(&a.output),
            Command::Capture(a) => Some(&a.output),
            Command::HttpTrace(a) => Some(&a.output),
            Command::Grep(a) => Some(&a.output),
            Command::Flows(a) => Some(&a.output),
            Command::Stats(a) => Some(&a.output),
            Command::Follow(_) | Command::Serve(_) => None,
            #[cfg(feature = "parquet")]
            Command::Export(_) => None,
        }
    }
}

/// Where packets come from, shared by every subcommand that reads packets.
#[derive(Debug, Args, Clone)]
pub struct SourceArgs {
    /// Capture live from this interface (`lo` included). Default: the default device.
    #[arg(
        short = 'i',
        long = "interface",
        value_name = "IFACE",
        conflicts_with = "read"
    )]
    pub interface: Option<String>,
    /// Read packets from a pcap or pcapng file (`-` for standard input). Repeat it, give a
    /// directory, or a glob (`-r 'rot-*.pcap'`) to read several files as one capture, in
    /// time order (files that overlap are merged by timestamp).
    #[arg(short = 'r', long = "read", value_name = "FILE")]
    pub read: Vec<PathBuf>,
    /// BPF filter expression, applied to live captures and files alike.
    #[arg(short = 'f', long = "filter", value_name = "BPF")]
    pub filter: Option<String>,
    /// Stop after this many packets (in `http-trace`: after this many transactions shown).
    #[arg(short = 'c', long = "count", value_name = "N")]
    pub count: Option<u64>,
    /// Stop after this many packets (what `-c` counts, but in `http-trace`, where `-c`
    /// counts transactions).
    #[arg(long = "packets", value_name = "N")]
    pub packets: Option<u64>,
    /// Snapshot length for live capture.
    #[arg(short = 's', long = "snaplen", default_value_t = 262_144)]
    pub snaplen: u32,
    /// Do not put the interface into promiscuous mode.
    #[arg(short = 'p', long = "no-promiscuous-mode")]
    pub no_promisc: bool,
    /// Kernel buffer size for live capture, in KiB [default: 8192].
    #[arg(short = 'B', long = "buffer-size", value_name = "KIB")]
    pub buffer_kib: Option<u32>,
    /// After opening the device as root, switch to this user (like tcpdump -Z).
    #[arg(short = 'Z', long = "user", value_name = "NAME")]
    pub user: Option<String>,
    /// No closing line on stderr (packets, sessions, transactions, gaps, drops, decode
    /// errors). Warnings are still printed.
    #[arg(short = 'q', long = "quiet")]
    pub quiet: bool,
    /// TLS key log (NSS SSLKEYLOGFILE format) for decrypting HTTPS; repeatable. Default:
    /// the file $SSLKEYLOGFILE names. Keys in a pcapng file's Decryption Secrets Blocks are
    /// used too.
    #[arg(long = "keylog", value_name = "FILE")]
    pub keylog: Vec<PathBuf>,
}

/// Output options shared by the subcommands.
#[derive(Debug, Args, Clone, Copy)]
pub struct OutputArgs {
    /// One JSON object per line (see docs/json.md).
    #[arg(long)]
    pub json: bool,
    /// No colours, even on a terminal (NO_COLOR is honoured too).
    #[arg(long = "no-color")]
    pub no_color: bool,
    /// Times in text: `clock` (HH:MM:SS.micros, the default, as tcpdump), `date`
    /// (YYYY-MM-DD HH:MM:SS.micros, as tcpdump -tttt), `epoch` (seconds since 1970, as
    /// tcpdump -tt), `relative` (seconds since the first packet, as tcpdump -ttttt), `delta`
    /// (seconds since the previous line, as tcpdump -ttt). JSON always has epoch seconds.
    #[arg(
        short = 't',
        long = "time",
        value_name = "FORMAT",
        default_value = "clock"
    )]
    pub time: TimeFormat,
    /// Clock and date times in UTC instead of local time (`TZ` sets the local zone).
    #[arg(long)]
    pub utc: bool,
}

/// How text output writes times (`-t`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum TimeFormat {
    /// `HH:MM:SS.micros`.
    #[default]
    Clock,
    /// `YYYY-MM-DD HH:MM:SS.micros`.
    Date,
    /// Seconds since 1970-01-01 UTC, with microseconds.
    Epoch,
    /// Seconds since the first packet shown.
    Relative,
    /// Seconds since the previous time shown.
    Delta,
}

/// Status codes as inclusive ranges (`5xx` is 500-599), for `--status`.
pub type StatusList = Vec<std::ops::RangeInclusive<u16>>;

/// TCP reassembly options, shared by the subcommands that reassemble.
#[derive(Debug, Args, Clone, Copy)]
pub struct TcpArgs {
    /// Which copy wins when TCP segments overlap with different bytes: `first` (as tshark),
    /// `last`, or as a target's stack would (`bsd`, `windows`, `linux`, `old-linux`,
    /// `solaris`: Suricata's target-based policies). Each conflict is counted, and shown
    /// with --tcp-verbose.
    #[arg(
        long = "overlap-policy",
        value_name = "POLICY",
        default_value = "first",
        value_parser = parse_overlap_policy
    )]
    pub overlap_policy: OverlapPolicy,
}

impl TcpArgs {
    /// Sets these options in a reassembler configuration.
    pub fn apply(&self, config: &mut pcap_tcp_reassembly::Config) {
        config.overlap_policy = self.overlap_policy;
    }
}

/// `--threads`, for the subcommands that analyse a capture on several cores.
#[derive(Debug, Args, Clone, Copy)]
pub struct ThreadsArgs {
    /// Worker threads analysing the capture: its sessions are shared out among them by
    /// host pair, and the output is the same as with one thread. Default: the number of
    /// cores. Live captures, `-t relative`/`-t delta` and limits on what is shown (`-c`,
    /// `--har`, `-n`) use one.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256))]
    pub threads: Option<u16>,
}

/// An `--overlap-policy` value.
fn parse_overlap_policy(name: &str) -> Result<OverlapPolicy, String> {
    OverlapPolicy::from_name(name).ok_or_else(|| {
        let names: Vec<&str> = OverlapPolicy::ALL.iter().map(|p| p.as_str()).collect();
        format!("expected one of: {}", names.join(", "))
    })
}

/// `devices`.
#[derive(Debug, Args)]
pub struct DevicesArgs {
    /// Output options.
    #[command(flatten)]
    pub output: OutputArgs,
}

/// `capture`.
#[derive(Debug, Args)]
pub struct CaptureArgs {
    /// Packet source.
    #[command(flatten)]
    pub source: SourceArgs,
    /// Output options.
    #[command(flatten)]
    pub output: OutputArgs,
    /// Save the packets to this pcap file (`-` for standard output) instead of printing them.
    /// With --keylog, the file is pcapng and holds the key logs in a Decryption Secrets Block
    /// before the first packet (live: lines appended during the capture follow in new
    /// blocks), so that `http-trace -r FILE` and Wireshark decrypt it without the key log.
    /// Only --keylog files are embedded, never $SSLKEYLOGFILE by itself.
    #[arg(short = 'w', long = "write", value_name = "FILE")]
    pub write: Option<PathBuf>,
    /// With -w, start a new file when a packet comes SECONDS or more after the current
    /// file's first one, as tcpdump -G (by packet time, so a file read with -r rotates as
    /// its capture would have). The -w name goes through strftime at each file's first
    /// packet (`-w 'dump-%Y%m%d-%H%M%S.pcap'`, local time unless --utc); a name without
    /// `%` is numbered instead (`t.pcap`, `t.pcap1`, ...), where tcpdump would overwrite it.
    #[arg(short = 'G', long = "rotate-seconds", value_name = "SECONDS", requires = "write",
          value_parser = clap::value_parser!(u64).range(1..))]
    pub rotate_seconds: Option<u64>,
    /// With -w, before writing a packet, start a new file when the current one is larger
    /// than SIZE, in millions of bytes as tcpdump -C (or KiB, MiB, GiB with a `k`, `m` or
    /// `g` suffix). The second file is the -w name plus `1`, the third plus `2`, and so on
    /// (with -G, counting again in each period).
    #[arg(short = 'C', long = "rotate-size", value_name = "SIZE", requires = "write",
          value_parser = crate::cmd::rotate::parse_size)]
    pub rotate_size: Option<u64>,
    /// With -C: keep a ring of COUNT files, numbered with as many digits as COUNT
    /// (`t.pcap0` ... `t.pcap9` for 10), overwriting the oldest, as tcpdump -W. With -G:
    /// stop once COUNT files are written.
    #[arg(short = 'W', long = "rotate-count", value_name = "COUNT",
          requires = "write",
          value_parser = clap::value_parser!(u32).range(1..))]
    pub rotate_count: Option<u32>,
    /// After each packet's line, its payload (TCP/UDP payload, else what follows the last
    /// header decoded) in hex and ASCII, as tcpdump -X: offset, 16 bytes in groups of two,
    /// then the bytes as ASCII with `.` for all but graphic characters. Text only: refused
    /// with --json, whose `len` says how many bytes there are.
    #[arg(short = 'X', long = "hex-ascii", conflicts_with_all = ["ascii", "json", "write"])]
    pub hex_ascii: bool,
    /// After each packet's line, its payload as ASCII, as tcpdump -A: line breaks, spaces
    /// and tabs kept, a CR before a LF dropped, other non-printable bytes as `.`. Text
    /// only: refused with --json.
    #[arg(short = 'A', long = "ascii", conflicts_with_all = ["json", "write"])]
    pub ascii: bool,
    /// Absolute TCP sequence and acknowledgment numbers. By default they are relative to
    /// the first sequence number seen in each direction, as tcpdump shows them (a SYN shows
    /// absolute ones). Memory is bounded: a direction is remembered while fewer than 65536
    /// new directions have appeared since it was last seen; one forgotten starts again
    /// from its next packet. --json always has absolute numbers.
    #[arg(short = 'S', long = "absolute-tcp-sequence-numbers")]
    pub absolute_seq: bool,
    /// Show the link-layer header's addresses (Ethernet source and destination MAC), as
    /// tcpdump -e. Without it a line starts at the network layer (VLAN tags, tunnels and
    /// other link types are always shown). Text only: --json always has them.
    #[arg(short = 'e', long = "link-header")]
    pub link_header: bool,
    /// Verbose lines, as tcpdump -v: the IP header's fields in parentheses before the
    /// addresses (IPv4: tos, ttl, id, fragment offset, flags, protocol, total length,
    /// options, header checksum; IPv6: class, flow label, hop limit, next header, payload
    /// length), and TCP options and the TCP/UDP checksum's status after the window or the
    /// ports: `correct`, `incorrect -> 0xNNNN` (the right value), or `unverified, cut`
    /// (not all captured) or `unverified, offloaded` (the field holds only the
    /// pseudo-header sum, as a sender with checksum offload leaves it). Text only.
    #[arg(short = 'v', long = "verbose")]
    pub verbose: bool,
}

/// `http-trace`.
#[derive(Debug, Args)]
pub struct HttpTraceArgs {
    /// Packet source (live default filter: `tcp or (vlan and tcp)`).
    #[command(flatten)]
    pub source: SourceArgs,
    /// Output options.
    #[command(flatten)]
    pub output: OutputArgs,
    /// TCP reassembly options.
    #[command(flatten)]
    pub tcp: TcpArgs,
    /// Worker threads.
    #[command(flatten)]
    pub threads: ThreadsArgs,
    /// Only requests whose method matches this regex.
    #[arg(long, value_name = "REGEX")]
    pub method: Option<String>,
    /// Skip requests whose method matches this regex.
    #[arg(long = "method-ignore", value_name = "REGEX")]
    pub method_ignore: Option<String>,
    /// Only requests whose Host (HTTP/2: :authority) matches this regex.
    #[arg(long, value_name = "REGEX")]
    pub host: Option<String>,
    /// Skip requests whose Host (HTTP/2: :authority) matches this regex.
    #[arg(long = "host-ignore", value_name = "REGEX")]
    pub host_ignore: Option<String>,
    /// Only requests whose URL matches this regex.
    #[arg(long, value_name = "REGEX")]
    pub url: Option<String>,
    /// Skip requests whose URL matches this regex.
    #[arg(long = "url-ignore", value_name = "REGEX")]
    pub url_ignore: Option<String>,
    /// Only requests whose User-Agent matches this regex.
    #[arg(long = "user-agent", value_name = "REGEX")]
    pub user_agent: Option<String>,
    /// Skip requests whose User-Agent matches this regex.
    #[arg(long = "user-agent-ignore", value_name = "REGEX")]
    pub user_agent_ignore: Option<String>,
    /// Only transactions whose final status is in this list: codes, classes and ranges
    /// separated by `,` or `|`, e.g. `5xx`, `404,429`, `400-499`. A transaction without a
    /// response does not match.
    #[arg(long, value_name = "LIST", value_parser = crate::trace::parse_status)]
    pub status: Option<StatusList>,
    /// Only transactions that took at least this long, from the request's first byte to
    /// the response's last: a number with a unit, `ns`, `us`, `ms`, `s` or `m` (e.g.
    /// `200ms`, `1.5s`). A transaction without both ends does not match.
    #[arg(long = "min-duration", value_name = "TIME", value_parser = crate::trace::parse_duration)]
    pub min_duration: Option<u64>,
    /// One line per transaction with these fields, e.g. `'{ts} {client} {method}
    /// {host}{uri} {status} {duration_ms}'` (`{{`/`}}` for braces, `\t` for a tab). Fields:
    /// ts, stream, h2_stream, client, server, scheme, method, host, uri, version, status,
    /// reason, duration_ms, request_bytes, response_bytes, user_agent, content_type,
    /// complete (a missing value is empty, or `-` for numbers).
    #[arg(long, value_name = "TEMPLATE", conflicts_with = "json")]
    pub format: Option<String>,
    /// Show all request and response headers.
    #[arg(long)]
    pub headers: bool,
    /// Show this header (repeatable, case-insensitive).
    #[arg(long = "show-header", value_name = "NAME")]
    pub show_header: Vec<String>,
    /// Show bodies: text as text, binary summarised.
    #[arg(long)]
    pub bodies: bool,
    /// Largest body shown with --bodies, in bytes.
    #[arg(long = "body-limit", value_name = "BYTES", default_value_t = 4096)]
    pub body_limit: usize,
    /// Show TCP session start/end/reset, SYN retries, retransmissions and gaps, and
    /// HTTP/2 RST_STREAM, GOAWAY and decoding errors.
    #[arg(long = "tcp-verbose")]
    pub tcp_verbose: bool,
    /// Show each gRPC message's top-level protobuf fields (field number, wire type, value),
    /// without a schema.
    #[arg(long = "grpc-raw")]
    pub grpc_raw: bool,
    /// Also write the transactions as a HAR 1.2 file, each as it completes (so entries are
    /// in completion order, not sorted by start time).
    #[arg(long, value_name = "FILE")]
    pub har: Option<PathBuf>,
    /// Memory budget of the HTTP decoders of all sessions together, in MiB: a session that
    /// takes the total over it stops being decoded (its waiting requests are shown without a
    /// response) and a warning says how many did. Bounds memory on hostile traffic.
    #[arg(long = "http-memory", value_name = "MIB", default_value_t = 128)]
    pub http_memory: usize,
    /// Run the program given after `--` and trace it: it gets SSLKEYLOGFILE (and
    /// NODE_OPTIONS=--tls-keylog=) naming a private temporary key log, so its HTTPS is
    /// decrypted. The capture (`-i`, default `any`) is open before it starts and stops when
    /// it exits; pcap-cli then exits with its status. Under sudo the program runs as the
    /// invoking user. Example: `sudo pcap-cli http-trace --exec -- curl -s https://example.com/`
    #[arg(long, requires = "command", conflicts_with = "read")]
    pub exec: bool,
    /// The program to run and its arguments (with --exec).
    #[arg(last = true, value_name = "CMD", requires = "exec")]
    pub command: Vec<std::ffi::OsString>,
}

/// `grep`. `-i` is the interface, as in every subcommand; `-I` ignores case.
#[derive(Debug, Args)]
#[command(mut_arg("interface", |a| a.short_alias('d')))]
pub struct GrepArgs {
    /// Regular expression searched in TCP payloads and UDP datagrams.
    pub pattern: String,
    /// Packet source.
    #[command(flatten)]
    pub source: SourceArgs,
    /// Output options.
    #[command(flatten)]
    pub output: OutputArgs,
    /// TCP reassembly options.
    #[command(flatten)]
    pub tcp: TcpArgs,
    /// Worker threads.
    #[command(flatten)]
    pub threads: ThreadsArgs,
    /// Case-insensitive match (ASCII case; `(?u)` in the pattern for Unicode).
    #[arg(short = 'I', long = "ignore-case")]
    pub ignore_case: bool,
    /// Match each packet's payload alone instead of the reassembled stream.
    #[arg(long)]
    pub packet: bool,
    /// Bytes of context shown on each side of a match (at most 16384).
    #[arg(long, default_value_t = 40)]
    pub context: usize,
    /// Stop after N matches (with -v, N packets shown), like ngrep -n.
    #[arg(short = 'n', long = "max-matches", value_name = "N")]
    pub max_matches: Option<u64>,
    /// Show each match's context as a hex and ASCII dump instead of escaped text, like
    /// ngrep -x: offsets count from the context's first byte, and the line above the dump
    /// says where the match starts (text output; --json is unchanged).
    #[arg(short = 'x', long = "hex")]
    pub hex: bool,
    /// Invert the match: show the packets whose TCP or UDP payload does not match, each by its
    /// first 2 x --context bytes. Needs --packet: a reassembled stream has no unit to invert.
    #[arg(short = 'v', long = "invert-match")]
    pub invert: bool,
    /// How a match's context is laid out in text, like ngrep -W: `single` (the default: one
    /// line, line breaks shown as `\n`) or `byline` (the context on the lines after the
    /// match's line, its line breaks kept, a CR before a LF dropped, everything else
    /// escaped as in `single`). --json and -x are unchanged.
    #[arg(
        short = 'W',
        long = "layout",
        value_name = "MODE",
        default_value = "single",
        conflicts_with = "hex"
    )]
    pub layout: GrepLayout,
}

/// `grep -W`: how a match's context is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum GrepLayout {
    /// One line per match, line breaks escaped.
    #[default]
    Single,
    /// The context's own line breaks kept, as ngrep -W byline.
    Byline,
}

/// The error for `grep -i` used the old way, to ignore case: `-i` now takes an interface.
pub const GREP_I_MOVED: &str = "grep: -i is the interface now (as in every subcommand); use -I \
     or --ignore-case to ignore case";

/// True when `err`, from parsing `argv`, comes from `grep -i` used the old way (to ignore
/// case): `-i` then took the pattern as an interface, which conflicts with `-r FILE`, or
/// found no value after it. The caller prints [`GREP_I_MOVED`] instead of clap's message.
pub fn is_old_grep_ignore_case(err: &clap::Error, argv: &[std::ffi::OsString]) -> bool {
    use clap::error::{ContextKind, ErrorKind};
    if argv.get(1).is_none_or(|a| a != "grep")
        || !matches!(
            err.kind(),
            ErrorKind::ArgumentConflict | ErrorKind::InvalidValue | ErrorKind::NoEquals
        )
    {
        return false;
    }
    // `-i` itself, not `--interface` or the hidden `-d`, which never ignored case.
    let short_i = argv
        .iter()
        .skip(2)
        .take_while(|a| *a != "--")
        .any(|a| a.to_str().is_some_and(|a| a.starts_with("-i")));
    short_i
        && [ContextKind::InvalidArg, ContextKind::PriorArg]
            .into_iter()
            .filter_map(|k| err.get(k))
            .any(|v| v.to_string().contains("--interface"))
}

/// `flows`.
#[derive(Debug, Args)]
pub struct FlowsArgs {
    /// Packet source.
    #[command(flatten)]
    pub source: SourceArgs,
    /// Output options.
    #[command(flatten)]
    pub output: OutputArgs,
    /// TCP reassembly options.
    #[command(flatten)]
    pub tcp: TcpArgs,
    /// Worker threads.
    #[command(flatten)]
    pub threads: ThreadsArgs,
}

/// `stats`.
#[derive(Debug, Args)]
pub struct StatsArgs {
    /// Packet source.
    #[command(flatten)]
    pub source: SourceArgs,
    /// Output options (`--json`: one JSON document, see docs/json.md).
    #[command(flatten)]
    pub output: OutputArgs,
    /// TCP reassembly options.
    #[command(flatten)]
    pub tcp: TcpArgs,
    /// Width of the I/O section's intervals: a number with a unit, `ns`, `us`, `ms`, `s`
    /// or `m` (e.g. `100ms`). Default: 1s, widened (2s, 10s, 30s, 1m, 5m, 10m, 30m, 1h,
    /// ...) while the capture would need more than 100 rows. A given width is kept unless
    /// the capture would need more than a million rows; then it is doubled until it fits,
    /// with a warning.
    #[arg(long, value_name = "TIME", value_parser = parse_interval)]
    pub interval: Option<u64>,
    /// Sections to show, separated by commas: `http`, `conv`, `endpoints`, `io`. Default:
    /// all of them.
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub only: Vec<StatsSection>,
    /// Worker threads.
    #[command(flatten)]
    pub threads: ThreadsArgs,
}

impl StatsArgs {
    /// Whether `section` is shown: every one when `--only` is not given.
    pub fn shows(&self, section: StatsSection) -> bool {
        self.only.is_empty() || self.only.contains(&section)
    }
}

/// A section of `stats`, for `--only`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StatsSection {
    /// HTTP requests by method, responses by status, and hosts.
    Http,
    /// TCP and UDP conversations.
    Conv,
    /// IP endpoints.
    Endpoints,
    /// Packets and bytes per interval.
    Io,
}

/// An `--interval` value: a duration above zero.
fn parse_interval(s: &str) -> Result<u64, String> {
    match crate::trace::parse_duration(s)? {
        0 => Err(format!("{s:?} is not above zero")),
        ns => Ok(ns),
    }
}

/// `export`.
#[cfg(feature = "parquet")]
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Packet source.
    #[command(flatten)]
    pub source: SourceArgs,
    /// TCP reassembly options.
    #[command(flatten)]
    pub tcp: TcpArgs,
    /// Write Parquet tables under this directory (created if missing).
    #[arg(long = "parquet", value_name = "OUTDIR", required = true)]
    pub parquet: PathBuf,
    /// Memory budget of the HTTP decoders of all sessions together, in MiB (as in
    /// http-trace).
    #[arg(long = "http-memory", value_name = "MIB", default_value_t = 128)]
    pub http_memory: usize,
}

/// `follow`.
#[derive(Debug, Args)]
pub struct FollowArgs {
    /// Packet source.
    #[command(flatten)]
    pub source: SourceArgs,
    /// TCP reassembly options.
    #[command(flatten)]
    pub tcp: TcpArgs,
    /// Directory for the stream files and index.jsonl (created if missing; it must be yours,
    /// and empty unless --force). Needed unless --stream or --stream-filter prints one
    /// session to the terminal instead.
    #[arg(
        short = 'o',
        long = "output-dir",
        value_name = "DIR",
        required_unless_present_any = ["stream", "stream_filter"],
        conflicts_with_all = ["stream", "stream_filter"]
    )]
    pub output_dir: Option<PathBuf>,
    /// Print session N (the id of `flows`, `grep` and tshark's `tcp.stream`) to the
    /// terminal instead of writing files, like `tshark -z follow,tcp,ascii,N` and
    /// `tcpflow -c`: both directions interleaved in arrival order, the client's bytes in
    /// red and the server's in cyan (without colours, the server's lines start with a
    /// tab), escaped as text (line breaks and tabs kept, a CR before a LF dropped), each
    /// gap as a marker line. Reading stops when the session ends.
    #[arg(long = "stream", value_name = "N")]
    pub stream: Option<u64>,
    /// Print the first session with these endpoints to the terminal, as --stream does:
    /// `ADDR:PORT` (`[ADDR]:PORT` for IPv6), `ADDR` or `:PORT`. Given twice, the session
    /// has one endpoint matching each. With --stream, both must hold.
    #[arg(long = "stream-filter", value_name = "ENDPOINT", value_parser = crate::cmd::follow_print::parse_endpoint)]
    pub stream_filter: Vec<crate::cmd::follow_print::EndpointFilter>,
    /// No colours with --stream, even on a terminal (NO_COLOR is honoured too).
    #[arg(long = "no-color")]
    pub no_color: bool,
    /// Write into a directory that is not empty, replacing the files this run writes that
    /// are already there (index.jsonl included) and keeping the others.
    #[arg(long)]
    pub force: bool,
    /// Also write each TLS session's decrypted bytes (keys from --keylog, $SSLKEYLOGFILE or
    /// the capture's Decryption Secrets Blocks), one file per direction named as the raw
    /// one plus `-tls` (`000003-10.0.0.1.51234-10.0.0.2.443-c2s-tls`), endpoints and
    /// directions in TLS roles. The raw (encrypted) files are written as without it;
    /// index.jsonl lines get c2s_tls_file, s2c_tls_file, c2s_tls_bytes and s2c_tls_bytes.
    #[arg(long)]
    pub decrypted: bool,
    /// Accepted as the other subcommands take it, but follow runs on one thread (its files
    /// are named by session number when they are created, before several threads would
    /// know the number); more than one says so on stderr.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256))]
    pub threads: Option<u16>,
}

/// `serve`.
#[derive(Debug, Args)]
#[command(
    after_help = "Access: serve prints the page's address with a random token, \
    http://127.0.0.1:8080/?token=<32 hex digits> (128 bits from the operating system), as \
    Jupyter does. The page, its assets, /api/stats and the WebSocket all refuse a request \
    without the token (401) or with a wrong one (403); it travels in the URL, as \
    'Authorization: Bearer TOKEN', or in the cookie the first page load sets. There is no \
    option to turn it off, on loopback either: every user of the machine can reach a \
    loopback port, and the captured traffic holds their cookies and passwords.\n\n\
    Large items: a transaction or message over 64 KiB of JSON is shown with its long values \
    cut (each ends with '…[N bytes cut]'), never dropped; the page and the end of the run \
    count them."
)]
pub struct ServeArgs {
    /// Packet source.
    #[command(flatten)]
    pub source: SourceArgs,
    /// Address to listen on. The token is required on any address; a non-loopback one
    /// prints a warning, since the page is plain HTTP and the token travels in clear.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// With -r, replay as fast as possible instead of at capture speed.
    #[arg(long)]
    pub fast: bool,
}
