//! `export --parquet` end to end, read back by a real engine (DuckDB's Python package):
//! every table has as many rows as the matching `--json` output has lines, sampled columns
//! hold the same values, and the Community ID matches the spec's published value.
//!
//! Tests that need DuckDB print SKIPPED and pass when `python3 -c "import duckdb"` fails,
//! unless `PCAP_REQUIRE_DUCKDB` is set (as `.ci/run` does, after installing it).
#![cfg(feature = "parquet")]
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use pcap_decode::build::{self, FrameSpec, IpSpec, Ipv4Spec, TcpSpec};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_pcap-cli");

/// The spec's TCP test vector (baseline_deflt.json): 128.232.110.120:34855 and
/// 66.35.250.204:80, either way round.
const SPEC_CLIENT: ([u8; 4], u16) = ([128, 232, 110, 120], 34855);
const SPEC_SERVER: ([u8; 4], u16) = ([66, 35, 250, 204], 80);
const SPEC_ID: &str = "1:LQU9qZlK+B5F3KDmev6m5PMibrg=";

fn run(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().unwrap()
}

/// The JSON lines of a run, with times (`"ts":1700000000.000774000`) kept as strings:
/// as numbers they would be read as `f64`, which drops the last digits.
fn json_lines(o: &Output) -> Vec<Value> {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let times = regex::Regex::new(r#""(ts|start_ts|end_ts)":(-?[0-9]+\.[0-9]+)"#).unwrap();
    String::from_utf8(o.stdout.clone())
        .unwrap()
        .lines()
        .map(|l| {
            let l = times.replace_all(l, r#""$1":"$2""#);
            serde_json::from_str(&l).unwrap_or_else(|e| panic!("bad JSON {l:?}: {e}"))
        })
        .collect()
}

/// A fresh directory for one test.
fn tmp_dir(test: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join(test);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Whether DuckDB's Python package is there; without it, SKIPPED (or a failure when
/// `PCAP_REQUIRE_DUCKDB` is set).
fn duckdb_or_skip(test: &str) -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import duckdb"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        assert!(
            std::env::var_os("PCAP_REQUIRE_DUCKDB").is_none(),
            "PCAP_REQUIRE_DUCKDB is set but python3 cannot import duckdb"
        );
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED {test}: no DuckDB (pip install duckdb)"
        );
    }
    ok
}

/// Reads every table under each OUTDIR with DuckDB: per directory and table, the rows as
/// JSON objects of the sampled columns (timestamps as epoch nanoseconds), in a stable order.
const READ_BACK: &str = r#"
import duckdb, json, sys, os
queries = {
    "packets": "select frame, epoch_ns(ts) as ts, src, dst, src_port, dst_port, tcp_flags, payload_len from t order by frame",
    "flows": "select stream, community_id, client, client_port, server, server_port, epoch_ns(start_ts) as start_ts, epoch_ns(end_ts) as end_ts, state, c2s_bytes, s2c_bytes from t order by stream, start_ts",
    "http": "select stream, h2_stream, community_id, client, client_port, server, server_port, epoch_ns(request_ts) as request_ts, method, uri, status, epoch_ns(response_ts) as response_ts, [[h.name, h.value] for h in request_headers] as request_headers, [[h.name, h.value] for h in response_headers] as response_headers, response_body_len from t",
    "websocket": "select stream, epoch_ns(ts) as ts, dir, opcode, len from t",
    "dns": "select frame, id, response, [q.name for q in questions] as questions, [a.data for a in answers] as answers from t order by frame",
    "tls": "select stream, sni, version, alpn_offered, decrypted from t",
}
out = {}
con = duckdb.connect()
for d in sys.argv[1:]:
    res = {}
    for table, q in queries.items():
        files = os.path.join(d, "table=" + table, "*", "*", "*.parquet")
        if not os.path.isdir(os.path.join(d, "table=" + table)):
            res[table] = []
            continue
        con.execute(f"create or replace view t as select * from read_parquet('{files}', hive_partitioning = true)")
        cols = [c[0] for c in con.execute(q).description]
        res[table] = [dict(zip(cols, r)) for r in con.execute(q).fetchall()]
    out[d] = res
print(json.dumps(out, default=str))
"#;

fn read_back(dirs: &[PathBuf]) -> BTreeMap<String, BTreeMap<String, Vec<Value>>> {
    let o = Command::new("python3")
        .arg("-c")
        .arg(READ_BACK)
        .args(dirs)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

/// A JSON time (`"1700000000.000774000"`, as [`json_lines`] keeps it) in nanoseconds.
fn ns(v: &Value) -> Value {
    let Some(text) = v.as_str() else {
        return Value::Null;
    };
    let (s, f) = text.split_once('.').unwrap();
    let f = format!("{f:0<9}");
    Value::from(s.parse::<i64>().unwrap() * 1_000_000_000 + f.parse::<i64>().unwrap())
}

/// A time in nanoseconds as DuckDB gives it back: the largest one (pcapng-example.pcapng
/// has a packet at `i64::MAX`) is its `infinity`, which `epoch_ns` makes NULL.
fn duck(ts: &Value) -> Value {
    if *ts == i64::MAX {
        Value::Null
    } else {
        ts.clone()
    }
}

fn segment(from_client: bool, seq: u32, ack: u32, flags: u16, payload: &[u8]) -> Vec<u8> {
    let (src, dst) = if from_client {
        (SPEC_CLIENT, SPEC_SERVER)
    } else {
        (SPEC_SERVER, SPEC_CLIENT)
    };
    let frame = FrameSpec {
        ip: IpSpec::V4(Ipv4Spec {
            src: src.0,
            dst: dst.0,
            ..Ipv4Spec::default()
        }),
        ..FrameSpec::default()
    };
    let tcp = TcpSpec {
        src_port: src.1,
        dst_port: dst.1,
        seq,
        ack,
        flags,
        ..TcpSpec::default()
    };
    build::tcp_frame(&frame, &tcp, payload)
}

/// One HTTP exchange between the spec's TCP endpoints, 2026-12-06 13:59:59.9 UTC onwards,
/// so that its packets fall into two hours.
fn write_spec_session(path: &Path) {
    let req = b"GET /a?b=1 HTTP/1.1\r\nHost: example.com\r\nX-Test: v\xc3\xa9\r\n\r\n";
    let resp = b"HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n\r\nno\n";
    let rl = req.len() as u32;
    let sl = resp.len() as u32;
    let frames = [
        segment(true, 100, 0, 0x002, b""),
        segment(false, 500, 101, 0x012, b""),
        segment(true, 101, 501, 0x010, b""),
        segment(true, 101, 501, 0x018, req),
        segment(false, 501, 101 + rl, 0x018, resp),
        segment(true, 101 + rl, 501 + sl, 0x011, b""),
        segment(false, 501 + sl, 102 + rl, 0x011, b""),
        segment(true, 102 + rl, 502 + sl, 0x010, b""),
    ];
    let start = 1_796_565_599_900_000_000_i64;
    let times = (0..).map(|i| start + i * 40_000_001);
    let file = pcap_testkit::ethernet_pcap(times.zip(frames.iter().map(Vec::as_slice)));
    std::fs::write(path, file).unwrap();
}

#[test]
fn json_lines_carry_the_spec_community_id() {
    let dir = tmp_dir("export_community_id_json");
    let pcap = dir.join("spec.pcap");
    write_spec_session(&pcap);
    let p = pcap.to_str().unwrap();
    let flows = json_lines(&run(&["flows", "--json", "-q", "-r", p]));
    assert_eq!(flows.len(), 1);
    assert_eq!(flows[0]["community_id"], SPEC_ID);
    let http = json_lines(&run(&["http-trace", "--json", "-q", "-r", p]));
    let tx: Vec<&Value> = http.iter().filter(|v| v["type"] == "http").collect();
    assert_eq!(tx.len(), 1);
    assert_eq!(tx[0]["community_id"], SPEC_ID);
}

#[test]
fn export_writes_hour_partitions_that_duckdb_reads() {
    if !duckdb_or_skip("export_writes_hour_partitions_that_duckdb_reads") {
        return;
    }
    let dir = tmp_dir("export_partitions");
    let pcap = dir.join("spec.pcap");
    write_spec_session(&pcap);
    let out = dir.join("out");
    let o = run(&[
        "export",
        "-r",
        pcap.to_str().unwrap(),
        "--parquet",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("packets 8 rows, flows 1 rows, http 1 rows"),
        "{err}"
    );
    // The first three packets are at 13:59:59.9xx, the rest after 14:00.
    let part_dirs = |table: &str| -> Vec<String> {
        let mut v: Vec<String> = walk(&out.join(format!("table={table}")))
            .iter()
            .map(|f| {
                let rel = f.strip_prefix(&out).unwrap().parent().unwrap();
                rel.to_string_lossy().into_owned()
            })
            .collect();
        v.sort();
        v
    };
    assert_eq!(
        part_dirs("packets"),
        [
            "table=packets/date=2026-12-06/hour=13",
            "table=packets/date=2026-12-06/hour=14"
        ]
    );
    assert_eq!(part_dirs("http"), ["table=http/date=2026-12-06/hour=14"]);
    assert!(!out.join("table=dns").exists(), "no DNS, no dns files");

    // A second run into the same directory adds files of its own.
    let o = run(&[
        "export",
        "-q",
        "-r",
        pcap.to_str().unwrap(),
        "--parquet",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(walk(&out.join("table=packets")).len(), 4);

    let back = read_back(std::slice::from_ref(&out));
    let t = &back[out.to_str().unwrap()];
    assert_eq!(t["packets"].len(), 16);
    assert_eq!(t["flows"].len(), 2);
    for f in &t["flows"] {
        assert_eq!(f["community_id"], SPEC_ID);
        assert_eq!(f["client"], "128.232.110.120");
        assert_eq!(f["client_port"], 34855);
        assert_eq!(f["server_port"], 80);
    }
    let h = &t["http"][0];
    assert_eq!(h["community_id"], SPEC_ID);
    assert_eq!(h["method"], "GET");
    assert_eq!(h["uri"], "/a?b=1");
    assert_eq!(h["status"], 404);
    assert_eq!(h["response_body_len"], 3);
    // Frame 4 at 13:59:59.9 + 3 * 40.000001 ms.
    assert_eq!(
        h["request_ts"],
        1_796_565_599_900_000_000_i64 + 3 * 40_000_001
    );
    assert_eq!(
        h["request_headers"],
        serde_json::json!([["Host", "example.com"], ["X-Test", "vé"]])
    );
}

/// Every file under `dir`.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                todo.push(p);
            } else {
                files.push(p);
            }
        }
    }
    files
}

#[test]
fn export_needs_an_output_directory() {
    let o = run(&["export", "-r", "x.pcap"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--parquet"));
}

#[test]
fn an_unreadable_capture_creates_nothing() {
    let dir = tmp_dir("export_unreadable");
    let bad = dir.join("bad.pcap");
    std::fs::write(&bad, b"not a capture at all").unwrap();
    let out = dir.join("out");
    let o = run(&[
        "export",
        "-r",
        bad.to_str().unwrap(),
        "--parquet",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(!out.exists());
}

/// What the `--json` subcommands give for one capture, as the read-back rows would hold it.
struct Expected {
    packets: Vec<Value>,
    dns: usize,
    flows: Vec<Value>,
    http: Vec<Value>,
    websocket: usize,
    tls: usize,
}

fn expected(capture: &Path, keys: Option<&Path>) -> Expected {
    let p = capture.to_str().unwrap();
    let mut extra: Vec<&str> = Vec::new();
    if let Some(k) = keys {
        extra.extend(["--keylog", k.to_str().unwrap()]);
    }
    let with = |args: &[&str]| {
        let mut a = args.to_vec();
        a.extend(["-q", "-r", p]);
        a.extend(&extra);
        json_lines(&run(&a))
    };
    let packets = with(&["capture", "--json"]);
    let dns = packets
        .iter()
        .filter(|v| v.get("dns").is_some_and(|d| d.get("id").is_some()))
        .count();
    let packets = packets
        .iter()
        .map(|v| {
            let ip = v.get("ipv4").or_else(|| v.get("ipv6"));
            let l4 = v.get("tcp").or_else(|| v.get("udp"));
            serde_json::json!({
                "frame": v["frame"],
                "ts": ns(&v["ts"]),
                "src": ip.map_or(Value::Null, |i| i["src"].clone()),
                "dst": ip.map_or(Value::Null, |i| i["dst"].clone()),
                "src_port": l4.map_or(Value::Null, |t| t["src_port"].clone()),
                "dst_port": l4.map_or(Value::Null, |t| t["dst_port"].clone()),
            })
        })
        .collect();
    let flows = with(&["flows", "--json"]);
    let trace = with(&["http-trace", "--json"]);
    let of = |t: &str| {
        trace
            .iter()
            .filter(|v| v["type"] == t)
            .cloned()
            .collect::<Vec<_>>()
    };
    Expected {
        packets,
        dns,
        flows,
        http: of("http"),
        websocket: of("websocket").len(),
        tls: of("tls").len(),
    }
}

/// `client` of a JSON line (`10.0.0.1:80`, `[::1]:80`) as address and port.
fn split_addr(v: &Value) -> (String, u64) {
    let a: std::net::SocketAddr = v.as_str().unwrap().parse().unwrap();
    (a.ip().to_string(), u64::from(a.port()))
}

/// Compares one capture's tables with its `--json` lines: row counts, and the sampled
/// values unless the capture is too long for that (then `false`).
fn compare(name: &str, got: &BTreeMap<String, Vec<Value>>, want: &Expected) -> bool {
    assert_eq!(got["packets"].len(), want.packets.len(), "{name}: packets");
    for (g, w) in got["packets"].iter().zip(&want.packets) {
        for key in ["frame", "src", "dst", "src_port", "dst_port"] {
            assert_eq!(g[key], w[key], "{name}: packet {} {key}", w["frame"]);
        }
        // DuckDB reads the largest timestamp (pcapng-example.pcapng has one) as infinity.
        let ts = if w["ts"] == i64::MAX {
            &Value::Null
        } else {
            &w["ts"]
        };
        assert_eq!(&g["ts"], ts, "{name}: packet {} ts", w["frame"]);
    }
    assert_eq!(got["dns"].len(), want.dns, "{name}: dns");
    assert_eq!(got["websocket"].len(), want.websocket, "{name}: websocket");
    assert_eq!(got["tls"].len(), want.tls, "{name}: tls");
    assert_eq!(got["flows"].len(), want.flows.len(), "{name}: flows");
    let mut flows: Vec<&Value> = got["flows"].iter().collect();
    flows.sort_by_key(|f| f["stream"].as_u64());
    let mut want_flows: Vec<&Value> = want.flows.iter().collect();
    want_flows.sort_by_key(|f| f["stream"].as_u64());
    for (g, w) in flows.iter().zip(want_flows) {
        let (client, client_port) = split_addr(&w["client"]);
        assert_eq!(g["client"], client, "{name}: flow {}", w["stream"]);
        assert_eq!(g["client_port"], client_port, "{name}");
        assert_eq!(g["community_id"], w["community_id"], "{name}");
        assert_eq!(g["start_ts"], duck(&ns(&w["start_ts"])), "{name}");
        assert_eq!(g["end_ts"], duck(&ns(&w["end_ts"])), "{name}");
        assert_eq!(g["state"], w["state"], "{name}");
        assert_eq!(g["s2c_bytes"], w["s2c_bytes"], "{name}");
    }
    assert_eq!(got["http"].len(), want.http.len(), "{name}: http");
    // Export, as flows, has no idle timeout reading a file, while http-trace ends sessions
    // idle for 5 minutes: on a capture longer than that, stream ids can differ, and so do
    // the times of requests left without a response (http-4k-requests.pcap), which come
    // out when their session ends. There, only the counts above are compared.
    let ts = |v: &Value| v["ts"].as_i64().unwrap_or(0);
    let span = match (want.packets.first(), want.packets.last()) {
        (Some(a), Some(b)) => ts(b) - ts(a),
        _ => 0,
    };
    if span >= 300_000_000_000 {
        return false;
    }
    // Transactions in a stable order: by stream, time and HTTP/2 stream.
    let key = |v: &Value| {
        (
            v["stream"].as_u64(),
            v["request_ts"].as_i64(),
            v["client_port"].as_u64(),
            v["h2_stream"].as_u64(),
            v["response_ts"].as_i64(),
            v["uri"].as_str().map(str::to_owned),
        )
    };
    let mut got_http: Vec<&Value> = got["http"].iter().collect();
    got_http.sort_by_key(|v| key(v));
    let mut want_http: Vec<Value> = want
        .http
        .iter()
        .map(|w| {
            let req = &w["request"];
            let resp = &w["response"];
            let (server, server_port) = split_addr(&w["server"]);
            let (_, client_port) = split_addr(&w["client"]);
            serde_json::json!({
                "stream": w["stream"],
                "client_port": client_port,
                "h2_stream": w.get("h2_stream").cloned().unwrap_or(Value::Null),
                "community_id": w["community_id"],
                "server": server,
                "server_port": server_port,
                "request_ts": if req.is_null() { Value::Null } else { duck(&ns(&req["ts"])) },
                "method": req.get("method").cloned().unwrap_or(Value::Null),
                "uri": req.get("uri").cloned().unwrap_or(Value::Null),
                "request_headers": req.get("headers").cloned().unwrap_or(Value::Array(vec![])),
                "response_ts": if resp.is_null() { Value::Null } else { duck(&ns(&resp["ts"])) },
                "status": resp.get("status").cloned().unwrap_or(Value::Null),
                "response_headers": resp.get("headers").cloned().unwrap_or(Value::Array(vec![])),
            })
        })
        .collect();
    want_http.sort_by_key(key);
    for (g, w) in got_http.iter().zip(&want_http) {
        for k in [
            "stream",
            "client_port",
            "h2_stream",
            "community_id",
            "server",
            "server_port",
            "request_ts",
            "method",
            "uri",
            "request_headers",
            "response_ts",
            "status",
            "response_headers",
        ] {
            assert_eq!(g[k], w[k], "{name}: http {k} of {w}");
        }
    }
    true
}

/// Every capture of the three corpora: the Parquet tables against the `--json` lines.
#[test]
fn corpus_tables_match_the_json_lines() {
    let corpora = [
        pcap_testkit::corpus("export corpus_tables_match_the_json_lines"),
        pcap_testkit::corpus_tls("export corpus_tables_match_the_json_lines"),
        pcap_testkit::corpus_tunnels("export corpus_tables_match_the_json_lines"),
    ];
    if corpora.iter().all(Option::is_none) {
        return;
    }
    if !duckdb_or_skip("corpus_tables_match_the_json_lines") {
        return;
    }
    let root = tmp_dir("export_corpus");
    let mut runs = Vec::new();
    for corpus in corpora.iter().flatten() {
        for name in corpus.captures() {
            let capture = corpus.capture_path(&name);
            let keys = corpus.keys_path(&name);
            let out = root.join(format!("{}-{name}", runs.len()));
            let mut args = vec![
                "export".to_owned(),
                "-q".to_owned(),
                "-r".to_owned(),
                capture.to_string_lossy().into_owned(),
                "--parquet".to_owned(),
                out.to_string_lossy().into_owned(),
            ];
            if let Some(k) = &keys {
                args.extend(["--keylog".to_owned(), k.to_string_lossy().into_owned()]);
            }
            let o = Command::new(BIN).args(&args).output().unwrap();
            // A damaged capture fails the export as it fails the other subcommands; what
            // was read before the damage is still written, so it is compared too.
            let json_ok = run(&["capture", "--json", "-q", "-r", capture.to_str().unwrap()])
                .status
                .success();
            assert_eq!(
                o.status.success(),
                json_ok,
                "{name}: {}",
                String::from_utf8_lossy(&o.stderr)
            );
            if !json_ok {
                continue;
            }
            runs.push((name, out, capture, keys));
        }
    }
    let dirs: Vec<PathBuf> = runs.iter().map(|r| r.1.clone()).collect();
    let back = read_back(&dirs);
    let mut http = 0;
    for (name, out, capture, keys) in &runs {
        let want = expected(capture, keys.as_deref());
        http += want.http.len();
        compare(name, &back[out.to_str().unwrap()], &want);
    }
    assert!(
        runs.len() > 20 && http > 100,
        "{} captures, {http} transactions",
        runs.len()
    );
}

/// Ctrl-C (SIGINT) during an export ends it normally: every part file gets its footer and
/// reads back.
#[test]
fn interrupted_export_leaves_readable_files() {
    if !duckdb_or_skip("interrupted_export_leaves_readable_files") {
        return;
    }
    let dir = tmp_dir("export_interrupted");
    let pcap = dir.join("big.pcap");
    let mut file = std::io::BufWriter::new(std::fs::File::create(&pcap).unwrap());
    pcap_testkit::bench_h2::http1(&mut file, 400, 50).unwrap();
    file.flush().unwrap();
    drop(file);
    let out = dir.join("out");
    let child = Command::new(BIN)
        .args([
            "export",
            "-r",
            pcap.to_str().unwrap(),
            "--parquet",
            out.to_str().unwrap(),
        ])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let killed = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let o = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    let back = read_back(std::slice::from_ref(&out));
    let t = &back[out.to_str().unwrap()];
    let summary = err.lines().find(|l| l.contains("export to")).unwrap();
    assert!(
        summary.contains(&format!("packets {} rows", t["packets"].len())),
        "{summary}"
    );
    assert!(
        summary.contains(&format!("http {} rows", t["http"].len())),
        "{summary}"
    );
    // Stopped early, unless the machine was fast enough to finish first.
    let packets = run(&["capture", "-q", "--json", "-r", pcap.to_str().unwrap()])
        .stdout
        .iter()
        .filter(|&&b| b == b'\n')
        .count();
    if killed.success() && t["packets"].len() == packets {
        let _ = writeln!(
            std::io::stderr(),
            "note: the export of {packets} packets ended before Ctrl-C"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// The DuckDB SQL of docs/analytics.md runs on an export and gives the known answers for
/// the hand-built exchange (one GET to example.com answered 404 after 40 ms).
#[test]
fn the_documented_duckdb_queries_run() {
    if !duckdb_or_skip("the_documented_duckdb_queries_run") {
        return;
    }
    let dir = tmp_dir("export_doc_queries");
    let pcap = dir.join("spec.pcap");
    write_spec_session(&pcap);
    let out = dir.join("out");
    let o = run(&[
        "export",
        "-q",
        "-r",
        pcap.to_str().unwrap(),
        "--parquet",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let doc =
        std::fs::read_to_string(pcap_testkit::workspace_root().join("docs/analytics.md")).unwrap();
    let sql = doc
        .split("```sql\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("docs/analytics.md has a sql block")
        .replace("/data/pcap", out.to_str().unwrap());
    let script = r#"
import duckdb, json, sys
con = duckdb.connect()
con.execute("SET TimeZone = 'UTC'")
results = []
for stmt in sys.stdin.read().split(";"):
    lines = [l for l in stmt.splitlines() if l.strip() and not l.strip().startswith("--")]
    if not lines:
        continue
    rows = con.execute("\n".join(lines)).fetchall()
    if lines[0].lstrip().upper().startswith("SELECT"):
        results.append(rows)
print(json.dumps(results, default=str))
"#;
    let mut child = Command::new("python3")
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(sql.as_bytes())
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let results: Vec<Value> = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(results.len(), 4, "{results:?}");
    // Top hosts: example.com, one request, 3 body bytes.
    assert_eq!(results[0], serde_json::json!([["example.com", 1, 3]]));
    // Slowest endpoints: none with 5 requests.
    assert_eq!(results[1], serde_json::json!([]));
    // Errors per minute: one minute, one request, all of it a 4xx.
    let minute = &results[2][0];
    assert_eq!(minute[0], "2026-12-06 14:00:00+00:00");
    assert_eq!(minute[1], 1);
    assert_eq!(
        (minute[2].as_f64(), minute[3].as_f64()),
        (Some(0.0), Some(100.0))
    );
    assert_eq!(minute[4], 0);
    // Joined with flows on the Community ID: no retransmissions or gaps.
    assert_eq!(results[3], serde_json::json!([]));
}
