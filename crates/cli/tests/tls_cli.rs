//! HTTPS in the subcommands other than http-trace, end to end with the binary on the TLS
//! corpus and its key logs: `flows` (SNI and ALPN per session), `capture` (the hellos of
//! single packets), `grep` (decrypted bytes searched), `follow --decrypted` (plaintext
//! files) and `capture -w --keylog` (keys embedded in a Decryption Secrets Block, read back
//! by `http-trace` without `--keylog`). What http-trace's `tls` records say (checked
//! against tshark by `tls_corpus.rs`) is the reference for the others.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

const KEEPALIVE: &str = "tls13-aes128gcm-http1-keepalive.pcap";
const TLS12: &str = "tls12-ecdhe-rsa-aes128gcm.pcap";

fn cli(args: &[&str], capture: &Path, keys: Option<&Path>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pcap-cli"));
    cmd.args(args).arg("-q").arg("-r").arg(capture);
    cmd.env_remove("SSLKEYLOGFILE");
    if let Some(k) = keys {
        cmd.arg("--keylog").arg(k);
    }
    cmd.output().unwrap()
}

fn json_lines(o: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// http-trace's `tls` records by stream.
fn tls_records(capture: &Path, keys: Option<&Path>) -> BTreeMap<u64, Value> {
    json_lines(&cli(&["http-trace", "--json"], capture, keys))
        .into_iter()
        .filter(|v| v["type"] == "tls")
        .map(|v| (v["stream"].as_u64().unwrap(), v))
        .collect()
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pcap-cli-tls-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn flows_show_sni_alpn_and_version_of_tls_sessions() {
    let Some(corpus) = pcap_testkit::corpus_tls("flows_show_sni_alpn_and_version_of_tls_sessions")
    else {
        return;
    };
    let mut checked = 0;
    for name in corpus.captures() {
        let path = corpus.capture_path(&name);
        let keys = corpus.keys_path(&name);
        let want = tls_records(&path, keys.as_deref());
        let o = cli(&["flows", "--json"], &path, keys.as_deref());
        assert!(o.status.success(), "{name}: {o:?}");
        for row in json_lines(&o) {
            let stream = row["stream"].as_u64().unwrap();
            match want.get(&stream) {
                None => assert!(row.get("tls").is_none(), "{name} {stream}: {row}"),
                Some(t) => {
                    let tls = &row["tls"];
                    for key in ["version", "cipher", "sni", "alpn", "alpn_offered"] {
                        assert_eq!(tls[key], t[key], "{name} stream {stream} {key}");
                    }
                    checked += 1;
                }
            }
        }
        // The text table ends a TLS session's row with the same facts.
        let text = cli(&["flows", "--no-color"], &path, keys.as_deref());
        let text = String::from_utf8_lossy(&text.stdout);
        assert!(text.lines().next().unwrap().ends_with("  TLS"), "{name}");
        for t in want.values() {
            if let (Some(v), Some(sni)) = (t["version"].as_str(), t["sni"].as_str()) {
                let cell = format!("  {v} {sni}");
                assert!(text.contains(&cell), "{name}: no {cell:?} in\n{text}");
            }
        }
    }
    assert!(checked >= 30, "only {checked} TLS sessions");

    // TLS 1.3 hides the chosen ALPN: without the key only the offer is known.
    let path = corpus.capture_path(KEEPALIVE);
    let row = &json_lines(&cli(&["flows", "--json"], &path, None))[0];
    assert_eq!(row["tls"]["version"], "TLS 1.3");
    assert_eq!(row["tls"]["alpn"], Value::Null);
    let keys = corpus.keys_path(KEEPALIVE).unwrap();
    let row = &json_lines(&cli(&["flows", "--json"], &path, Some(&keys)))[0];
    assert_eq!(row["tls"]["alpn"], "http/1.1", "{row}");
}

#[test]
fn capture_shows_the_hellos_a_packet_carries() {
    let Some(corpus) = pcap_testkit::corpus_tls("capture_shows_the_hellos_a_packet_carries") else {
        return;
    };
    let path = corpus.capture_path(TLS12);
    let want = tls_records(&path, None);
    let t = want.values().next().unwrap();
    let sni = t["sni"].as_str().unwrap();
    let text = cli(&["capture"], &path, None);
    let text = String::from_utf8_lossy(&text.stdout);
    let hello = format!("TLS ClientHello sni={sni} alpn=");
    assert_eq!(text.matches(&hello).count(), 1, "{text}");
    let server = format!(
        "TLS ServerHello {} {}",
        t["version"].as_str().unwrap(),
        t["cipher"].as_str().unwrap()
    );
    assert_eq!(text.matches(&server).count(), 1, "{text}");
    // JSON: one tls member per hello, nothing on other packets.
    let lines = json_lines(&cli(&["capture", "--json"], &path, None));
    let hellos: Vec<&Value> = lines.iter().filter_map(|l| l.get("tls")).collect();
    assert_eq!(hellos.len(), 2, "{hellos:?}");
    assert_eq!(hellos[0]["handshake"], "client_hello");
    assert_eq!(hellos[0]["sni"], sni);
    assert_eq!(hellos[0]["alpn"], t["alpn_offered"]);
    assert!(
        hellos[0]["versions"]
            .as_array()
            .unwrap()
            .contains(&t["version"])
    );
    assert_eq!(hellos[1]["handshake"], "server_hello");
    assert_eq!(hellos[1]["version"], t["version"]);
    assert_eq!(hellos[1]["cipher"], t["cipher"]);

    // A ClientHello spread over segments says so rather than nothing.
    let huge = corpus.capture_path("tls-tls13-huge-ch-12seg.pcapng");
    let text = cli(&["capture"], &huge, None);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("TLS ClientHello (partial record: "), "{text}");

    // Every capture of the corpus: each ClientHello packet's SNI is one http-trace saw.
    for name in corpus.captures() {
        let path = corpus.capture_path(&name);
        let snis: Vec<Value> = tls_records(&path, None)
            .values()
            .map(|t| t["sni"].clone())
            .collect();
        for l in json_lines(&cli(&["capture", "--json"], &path, None)) {
            if l["tls"]["handshake"] == "client_hello" && l["tls"].get("partial").is_none() {
                assert!(snis.contains(&l["tls"]["sni"]), "{name}: {l}");
            }
        }
    }
}

#[test]
fn grep_searches_decrypted_bytes_at_plaintext_offsets() {
    let Some(corpus) =
        pcap_testkit::corpus_tls("grep_searches_decrypted_bytes_at_plaintext_offsets")
    else {
        return;
    };
    let path = corpus.capture_path(KEEPALIVE);
    let keys = corpus.keys_path(KEEPALIVE).unwrap();
    // Without the key the pattern is nowhere (exit code 1).
    let o = cli(&["grep", "HTTP/1\\.1 200", "--json"], &path, None);
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    let o = cli(&["grep", "HTTP/1\\.1 200", "--json"], &path, Some(&keys));
    assert!(o.status.success(), "{o:?}");
    let hits = json_lines(&o);
    assert!(!hits.is_empty());
    // The plaintext as follow --decrypted writes it holds each match at its offset.
    let dir = scratch("grep");
    let f = Command::new(env!("CARGO_BIN_EXE_pcap-cli"))
        .args(["follow", "--decrypted", "-q", "-o"])
        .arg(&dir)
        .arg("-r")
        .arg(&path)
        .arg("--keylog")
        .arg(&keys)
        .output()
        .unwrap();
    assert!(f.status.success(), "{f:?}");
    let index = std::fs::read_to_string(dir.join("index.jsonl")).unwrap();
    let index: Vec<Value> = index
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for h in &hits {
        assert_eq!(h["tls"], true, "{h}");
        assert_eq!(h["dir"], "s2c");
        let entry = index.iter().find(|e| e["stream"] == h["stream"]).unwrap();
        assert_eq!(entry["client"], h["client"]);
        let file = entry["s2c_tls_file"].as_str().unwrap();
        let plain = std::fs::read(dir.join(file)).unwrap();
        let at = h["offset"].as_u64().unwrap() as usize;
        assert_eq!(&plain[at..at + 15], b"HTTP/1.1 200 OK", "{h}");
    }
    // Text marks them.
    let o = cli(
        &["grep", "HTTP/1\\.1 200", "--no-color"],
        &path,
        Some(&keys),
    );
    let text = String::from_utf8_lossy(&o.stdout);
    assert_eq!(text.lines().count(), hits.len());
    assert!(text.lines().all(|l| l.contains(" [tls]: ")), "{text}");
    // --packet searches raw payloads only.
    let o = cli(&["grep", "HTTP/1\\.1 200", "--packet"], &path, Some(&keys));
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn follow_decrypted_writes_plaintext_beside_the_raw_files() {
    let Some(corpus) =
        pcap_testkit::corpus_tls("follow_decrypted_writes_plaintext_beside_the_raw_files")
    else {
        return;
    };
    let mut decrypted = 0;
    for name in corpus.captures() {
        let Some(keys) = corpus.keys_path(&name) else {
            continue;
        };
        let path = corpus.capture_path(&name);
        let want = tls_records(&path, Some(&keys));
        let (plain_dir, tls_dir) = (scratch("plain"), scratch("tls"));
        for (dir, extra) in [(&plain_dir, None), (&tls_dir, Some("--decrypted"))] {
            let mut cmd = Command::new(env!("CARGO_BIN_EXE_pcap-cli"));
            cmd.args(["follow", "-q", "-o"])
                .arg(dir)
                .arg("-r")
                .arg(&path);
            cmd.arg("--keylog").arg(&keys).env_remove("SSLKEYLOGFILE");
            if let Some(e) = extra {
                cmd.arg(e);
            }
            let o = cmd.output().unwrap();
            assert!(o.status.success(), "{name}: {o:?}");
        }
        // The raw files are the same with --decrypted.
        let plain_index = std::fs::read_to_string(plain_dir.join("index.jsonl")).unwrap();
        for line in plain_index.lines() {
            let v: Value = serde_json::from_str(line).unwrap();
            assert!(v.get("c2s_tls_file").is_none());
            for key in ["c2s_file", "s2c_file"] {
                if let Some(f) = v[key].as_str() {
                    assert_eq!(
                        std::fs::read(plain_dir.join(f)).unwrap(),
                        std::fs::read(tls_dir.join(f)).unwrap(),
                        "{name} {f}"
                    );
                }
            }
        }
        let index = std::fs::read_to_string(tls_dir.join("index.jsonl")).unwrap();
        for line in index.lines() {
            let v: Value = serde_json::from_str(line).unwrap();
            let stream = v["stream"].as_u64().unwrap();
            let was_decrypted = want.get(&stream).is_some_and(|t| t["decrypted"] == true);
            for dir in ["c2s", "s2c"] {
                let file = &v[format!("{dir}_tls_file")];
                let len = v[format!("{dir}_tls_bytes")].as_u64().unwrap();
                match file.as_str() {
                    Some(f) => {
                        assert!(was_decrypted, "{name} {stream}: {v}");
                        assert!(f.ends_with(&format!("-{dir}-tls")), "{f}");
                        let bytes = std::fs::read(tls_dir.join(f)).unwrap();
                        assert_eq!(bytes.len() as u64, len, "{name} {f}");
                    }
                    None => assert_eq!(len, 0),
                }
            }
            if was_decrypted && v["c2s_tls_file"].is_string() {
                decrypted += 1;
            }
        }
        let _ = std::fs::remove_dir_all(&plain_dir);
        let _ = std::fs::remove_dir_all(&tls_dir);
    }
    assert!(decrypted >= 20, "only {decrypted} sessions decrypted");

    // An HTTP/1.1 session's plaintext is the request, then the response.
    let path = corpus.capture_path(KEEPALIVE);
    let keys = corpus.keys_path(KEEPALIVE).unwrap();
    let dir = scratch("keepalive");
    let o = Command::new(env!("CARGO_BIN_EXE_pcap-cli"))
        .args(["follow", "--decrypted", "-o"])
        .arg(&dir)
        .arg("-r")
        .arg(&path)
        .arg("--keylog")
        .arg(&keys)
        .output()
        .unwrap();
    assert!(o.status.success(), "{o:?}");
    let v: Value = serde_json::from_str(
        std::fs::read_to_string(dir.join("index.jsonl"))
            .unwrap()
            .trim(),
    )
    .unwrap();
    let c2s = std::fs::read(dir.join(v["c2s_tls_file"].as_str().unwrap())).unwrap();
    let s2c = std::fs::read(dir.join(v["s2c_tls_file"].as_str().unwrap())).unwrap();
    assert!(c2s.starts_with(b"GET "), "{:?}", &c2s[..16.min(c2s.len())]);
    assert!(
        s2c.starts_with(b"HTTP/1.1 "),
        "{:?}",
        &s2c[..16.min(s2c.len())]
    );
    // --force semantics hold for the new files too: a second run into the same directory
    // is refused, and with --force replaces them.
    let again = |force: bool| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_pcap-cli"));
        cmd.args(["follow", "--decrypted", "-q", "-o"]).arg(&dir);
        cmd.arg("-r").arg(&path).arg("--keylog").arg(&keys);
        if force {
            cmd.arg("--force");
        }
        cmd.output().unwrap()
    };
    assert_eq!(again(false).status.code(), Some(2));
    let o = again(true);
    assert!(o.status.success(), "{o:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The blocks of a little-endian pcapng file: (type, body).
fn pcapng_blocks(bytes: &[u8]) -> Vec<(u32, &[u8])> {
    let mut blocks = Vec::new();
    let mut at = 0;
    while at + 12 <= bytes.len() {
        let ty = u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap());
        let len = u32::from_le_bytes(bytes[at + 4..at + 8].try_into().unwrap()) as usize;
        assert!(
            len >= 12 && len % 4 == 0 && at + len <= bytes.len(),
            "block at {at}"
        );
        let trailer = u32::from_le_bytes(bytes[at + len - 4..at + len].try_into().unwrap());
        assert_eq!(trailer as usize, len, "block at {at}");
        blocks.push((ty, &bytes[at + 8..at + len - 4]));
        at += len;
    }
    assert_eq!(at, bytes.len());
    blocks
}

#[test]
fn capture_w_keylog_embeds_the_keys_and_http_trace_decrypts_without_them() {
    let Some(corpus) =
        pcap_testkit::corpus_tls("capture_w_keylog_embeds_the_keys_and_http_trace_decrypts")
    else {
        return;
    };
    let dir = scratch("dsb");
    let mut converted = 0;
    for name in corpus.captures() {
        let Some(keys) = corpus.keys_path(&name) else {
            continue;
        };
        let path = corpus.capture_path(&name);
        let out = dir.join(format!("{name}.pcapng"));
        let o = cli(
            &["capture", "-w", out.to_str().unwrap()],
            &path,
            Some(&keys),
        );
        assert!(o.status.success(), "{name}: {o:?}");
        // Wireshark's layout (pcapng spec, Decryption Secrets Block): type 0x0000000A,
        // secrets type "TLSK", secrets length, the key log padded to 4 bytes, before the
        // first packet.
        let bytes = std::fs::read(&out).unwrap();
        let blocks = pcapng_blocks(&bytes);
        let dsb = blocks.iter().position(|b| b.0 == 0x0000_000A).unwrap();
        let first_packet = blocks.iter().position(|b| b.0 == 6).unwrap();
        assert!(dsb < first_packet, "{name}");
        let body = blocks[dsb].1;
        assert_eq!(
            u32::from_le_bytes(body[0..4].try_into().unwrap()),
            0x544c_534b
        );
        let len = u32::from_le_bytes(body[4..8].try_into().unwrap()) as usize;
        let key_log = std::fs::read(&keys).unwrap();
        let whole = key_log
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        assert_eq!(&body[8..8 + len], &key_log[..whole], "{name}");
        assert_eq!(body.len(), 8 + len.next_multiple_of(4));
        // Read back without --keylog: the same transactions and TLS records.
        let strip = |o: Output| -> Vec<String> {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .map(str::to_owned)
                .collect()
        };
        let want = strip(cli(&["http-trace", "--json"], &path, Some(&keys)));
        let got = strip(cli(&["http-trace", "--json"], &out, None));
        assert_eq!(got, want, "{name}");
        converted += 1;
    }
    assert!(converted >= 20, "only {converted} captures");
    // Without --keylog the output stays classic pcap.
    let path = corpus.capture_path(KEEPALIVE);
    let out = dir.join("plain.pcap");
    let o = cli(&["capture", "-w", out.to_str().unwrap()], &path, None);
    assert!(o.status.success(), "{o:?}");
    let magic = std::fs::read(&out).unwrap()[..4].to_vec();
    assert_ne!(magic, [0x0a, 0x0d, 0x0d, 0x0a], "pcapng without keys");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn live_capture_w_keylog_writes_appended_keys_in_a_new_block() {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::{TcpListener, TcpStream};
    use std::process::Stdio;
    use std::time::Duration;

    if !nix::unistd::geteuid().is_root() {
        eprintln!("SKIPPED live_capture_w_keylog_writes_appended_keys: live capture needs root");
        return;
    }
    let dir = scratch("live");
    let keys = dir.join("keys.log");
    let line = |n: u8| {
        format!(
            "CLIENT_RANDOM {} {}\n",
            format!("{n:02x}").repeat(32),
            "ab".repeat(48)
        )
    };
    std::fs::write(&keys, line(1)).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let out = dir.join("out.pcapng");
    let mut child = Command::new(env!("CARGO_BIN_EXE_pcap-cli"))
        .args(["capture", "-i", "lo", "-q", "-f"])
        .arg(format!("tcp port {port}"))
        .arg("-w")
        .arg(&out)
        .arg("--keylog")
        .arg(&keys)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut first = String::new();
    stderr.read_line(&mut first).unwrap();
    if !first.contains("listening on lo") {
        let _ = child.kill();
        let _ = child.wait();
        eprintln!("SKIPPED live_capture_w_keylog_writes_appended_keys: {first}");
        return;
    }
    let mut client = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let (mut server, _) = listener.accept().unwrap();
    let mut buf = [0u8; 16];
    client.write_all(b"before").unwrap();
    server.read_exact(&mut buf[..6]).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    // A program writes its next key while the capture runs (the last line in two writes).
    let mut log = std::fs::OpenOptions::new()
        .append(true)
        .open(&keys)
        .unwrap();
    let second = line(2);
    log.write_all(&second.as_bytes()[..20]).unwrap();
    log.write_all(&second.as_bytes()[20..]).unwrap();
    drop(log);
    std::thread::sleep(Duration::from_millis(300));
    client.write_all(b"after").unwrap();
    server.read_exact(&mut buf[..5]).unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let killed = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).unwrap();
    assert!(child.wait().unwrap().success(), "{rest}");

    let bytes = std::fs::read(&out).unwrap();
    let blocks = pcapng_blocks(&bytes);
    let dsbs: Vec<usize> = (0..blocks.len()).filter(|&i| blocks[i].0 == 0xA).collect();
    assert_eq!(
        dsbs.len(),
        2,
        "{:?}",
        blocks.iter().map(|b| b.0).collect::<Vec<_>>()
    );
    let data = |i: usize| {
        let body = blocks[i].1;
        let len = u32::from_le_bytes(body[4..8].try_into().unwrap()) as usize;
        body[8..8 + len].to_vec()
    };
    assert_eq!(data(dsbs[0]), line(1).into_bytes());
    assert_eq!(data(dsbs[1]), second.into_bytes());
    let packets = |range: std::ops::Range<usize>| blocks[range].iter().filter(|b| b.0 == 6).count();
    assert_eq!(
        packets(0..dsbs[0]),
        0,
        "the first block comes before any packet"
    );
    assert!(packets(dsbs[0]..dsbs[1]) > 0, "packets before the new key");
    assert!(packets(dsbs[1]..blocks.len()) > 0, "packets after it");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The Decryption Secrets Block is byte for byte the one Wireshark's `editcap
/// --inject-secrets tls,KEYS` writes for the same key log, and comes at the same place
/// (after the Section Header Block, before the interfaces). Skipped without editcap.
#[test]
fn the_secrets_block_is_the_one_editcap_writes() {
    let Some(corpus) = pcap_testkit::corpus_tls("the_secrets_block_is_the_one_editcap_writes")
    else {
        return;
    };
    if Command::new("editcap").arg("-h").output().is_err() {
        eprintln!("SKIPPED the_secrets_block_is_the_one_editcap_writes: no editcap");
        return;
    }
    let dir = scratch("editcap");
    let path = corpus.capture_path(KEEPALIVE);
    let keys = corpus.keys_path(KEEPALIVE).unwrap();
    let ours = dir.join("ours.pcapng");
    let theirs = dir.join("theirs.pcapng");
    let o = cli(
        &["capture", "-w", ours.to_str().unwrap()],
        &path,
        Some(&keys),
    );
    assert!(o.status.success(), "{o:?}");
    let o = Command::new("editcap")
        .arg("--inject-secrets")
        .arg(format!("tls,{}", keys.display()))
        .arg(&path)
        .arg(&theirs)
        .output()
        .unwrap();
    assert!(o.status.success(), "{o:?}");
    let (ours, theirs) = (std::fs::read(ours).unwrap(), std::fs::read(theirs).unwrap());
    let (ours, theirs) = (pcapng_blocks(&ours), pcapng_blocks(&theirs));
    let types = |b: &[(u32, &[u8])]| b.iter().map(|b| b.0).take(3).collect::<Vec<_>>();
    assert_eq!(types(&ours), types(&theirs));
    let dsb = |b: &[(u32, &[u8])]| b.iter().find(|b| b.0 == 0xA).unwrap().1.to_vec();
    assert_eq!(dsb(&ours), dsb(&theirs));
    let _ = std::fs::remove_dir_all(&dir);
}

/// The plaintext files are made as safely as the raw ones: with --force a symbolic link
/// planted under a `-tls` name is removed, never followed, and what it pointed to is left
/// alone; without --force the run refuses the directory.
#[test]
fn follow_decrypted_never_writes_through_a_planted_link() {
    let Some(corpus) =
        pcap_testkit::corpus_tls("follow_decrypted_never_writes_through_a_planted_link")
    else {
        return;
    };
    let path = corpus.capture_path(KEEPALIVE);
    let keys = corpus.keys_path(KEEPALIVE).unwrap();
    let run = |dir: &Path, force: bool| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_pcap-cli"));
        cmd.args(["follow", "--decrypted", "-q", "-o"]).arg(dir);
        cmd.arg("-r").arg(&path).arg("--keylog").arg(&keys);
        if force {
            cmd.arg("--force");
        }
        cmd.output().unwrap()
    };
    let first = scratch("planted-first");
    assert!(run(&first, false).status.success());
    let index = std::fs::read_to_string(first.join("index.jsonl")).unwrap();
    let v: Value = serde_json::from_str(index.trim()).unwrap();
    let name = v["s2c_tls_file"].as_str().unwrap().to_owned();

    let dir = scratch("planted");
    let outside = scratch("planted-outside").join("precious");
    std::fs::write(&outside, b"precious").unwrap();
    std::os::unix::fs::symlink(&outside, dir.join(&name)).unwrap();
    let o = run(&dir, false);
    assert_eq!(o.status.code(), Some(2), "{o:?}");
    let o = run(&dir, true);
    assert!(o.status.success(), "{o:?}");
    assert_eq!(std::fs::read(&outside).unwrap(), b"precious");
    let meta = std::fs::symlink_metadata(dir.join(&name)).unwrap();
    assert!(meta.file_type().is_file());
    assert_eq!(
        std::fs::read(dir.join(&name)).unwrap(),
        std::fs::read(first.join(&name)).unwrap()
    );
    for d in [first, dir, outside.parent().unwrap().to_owned()] {
        let _ = std::fs::remove_dir_all(d);
    }
}

/// A plaintext file that cannot be written (here the file size limit) skips its session
/// as a raw file does: a warning naming it, an `error` in the index, exit code 0.
#[test]
fn follow_decrypted_skips_a_session_whose_plaintext_file_cannot_be_written() {
    let Some(corpus) =
        pcap_testkit::corpus_tls("follow_decrypted_skips_a_session_on_a_write_error")
    else {
        return;
    };
    let name = "ooo-tls13-aes128gcm-http1-big.pcap";
    let (path, keys) = (corpus.capture_path(name), corpus.keys_path(name).unwrap());
    let dir = scratch("efbig");
    let out = dir.join("out");
    // Writes past 8 KiB fail with EFBIG (SIGXFSZ ignored): the 105 KB of decrypted response.
    let script = format!(
        "ulimit -f 8 && trap '' XFSZ && exec '{}' follow --decrypted -q -r '{}' --keylog '{}' -o '{}'",
        env!("CARGO_BIN_EXE_pcap-cli"),
        path.display(),
        keys.display(),
        out.display()
    );
    let o = Command::new("bash").args(["-c", &script]).output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(err.contains("skipping stream 0: "), "{err}");
    assert!(err.contains("-s2c-tls: File too large"), "{err}");
    let index = std::fs::read_to_string(out.join("index.jsonl")).unwrap();
    let v: Value = serde_json::from_str(index.trim()).unwrap();
    assert!(
        v["error"]
            .as_str()
            .unwrap()
            .ends_with("-s2c-tls: File too large (os error 27)"),
        "{v}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
