//! `http-trace --json` `tls` records against tshark's handshake fields (`tls.tsv` of the TLS
//! corpus, made with the same key logs): per session, the ClientHello's SNI, offered ALPN
//! and JA3, the negotiated version and cipher suite, the chosen ALPN, the server
//! certificate's CN and DNS names where tshark saw them, resumption, and whether the
//! session was decrypted (every one whose capture comes with a key log).
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::process::Command;

use pcap_testkit::RowRef;
use serde_json::Value;

/// What tshark saw of one session, from its handshake message rows.
#[derive(Debug, Default)]
struct Expected {
    sni: Option<String>,
    alpn_offered: Option<String>,
    ja3: Option<String>,
    version: Option<String>,
    cipher: Option<String>,
    alpn: Option<String>,
    cert_cn: Option<String>,
    cert_dns: Vec<String>,
    resumed: bool,
}

fn nonempty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_owned())
}

fn version_name(hex: &str) -> Option<String> {
    let name = match hex {
        "0x0304" => "TLS 1.3",
        "0x0303" => "TLS 1.2",
        "0x0302" => "TLS 1.1",
        "0x0301" => "TLS 1.0",
        "0x0300" => "SSL 3.0",
        _ => return None,
    };
    Some(name.to_owned())
}

fn expected(rows: &[RowRef<'_>]) -> Expected {
    let mut e = Expected::default();
    let mut hello = false;
    for r in rows {
        match r.get("msg") {
            "client_hello" if !hello => {
                hello = true;
                e.sni = nonempty(r.get("server_name"));
                e.alpn_offered = nonempty(r.get("alpn"));
                e.ja3 = nonempty(r.get("ja3"));
            }
            "server_hello" => {
                let v = match r.get("supported_versions") {
                    "" => r.get("tls.handshake.version"),
                    v => v,
                };
                e.version = version_name(v);
                e.cipher = nonempty(r.get("ciphersuite_name"));
                e.alpn = nonempty(r.get("alpn")).or(e.alpn.take());
                e.resumed |= r.get("detail").split(';').any(|d| d == "resumed");
            }
            "encrypted_extensions" => e.alpn = nonempty(r.get("alpn")),
            "certificate" if e.cert_cn.is_none() => {
                e.cert_cn = nonempty(r.get("cert_subject_cn"));
                e.cert_dns = r
                    .get("cert_san_dns")
                    .split(',')
                    .filter(|n| !n.is_empty())
                    .map(str::to_owned)
                    .collect();
            }
            _ => {}
        }
    }
    e
}

fn str_of(v: &Value) -> Option<String> {
    v.as_str().map(str::to_owned)
}

/// The differences between our record and tshark's rows, as text.
fn compare(ours: &Value, want: &Expected, keyed: bool) -> Vec<String> {
    let mut diffs = Vec::new();
    let mut check = |what: &str, got: Option<String>, want: &Option<String>| {
        if want.is_some() && &got != want {
            diffs.push(format!("{what}: ours {got:?}, tshark {want:?}"));
        }
    };
    check("sni", str_of(&ours["sni"]), &want.sni);
    let offered = ours["alpn_offered"].as_array().map(|a| {
        a.iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(",")
    });
    check(
        "alpn_offered",
        offered.filter(|s| !s.is_empty()),
        &want.alpn_offered,
    );
    check("ja3", str_of(&ours["ja3"]), &want.ja3);
    check("version", str_of(&ours["version"]), &want.version);
    check("cipher", str_of(&ours["cipher"]), &want.cipher);
    check("alpn", str_of(&ours["alpn"]), &want.alpn);
    if let Some(cn) = &want.cert_cn {
        let subject = ours["cert"]["subject"].as_str().unwrap_or("");
        if !subject.split(", ").any(|p| p == format!("CN={cn}")) {
            diffs.push(format!("cert: ours {:?}, tshark CN {cn:?}", ours["cert"]));
        }
        let san: Vec<&str> = ours["cert"]["san"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        for name in &want.cert_dns {
            if !san.contains(&name.as_str()) {
                diffs.push(format!("cert san: ours {san:?} lacks {name:?}"));
            }
        }
    }
    if ours["resumed"].as_bool() != Some(want.resumed) {
        diffs.push(format!(
            "resumed: ours {}, tshark {}",
            ours["resumed"], want.resumed
        ));
    }
    if keyed && want.version.is_some() && ours["decrypted"] != true {
        diffs.push(format!("not decrypted: {}", ours["error"]));
    }
    diffs
}

#[test]
fn tls_records_agree_with_tshark() {
    let Some(corpus) = pcap_testkit::corpus_tls("tls_records_agree_with_tshark") else {
        return;
    };
    let (mut sessions, mut failures) = (0, Vec::new());
    for name in corpus.captures() {
        let Some(tsv) = corpus.oracle_tsv(&name, "tls.tsv") else {
            continue;
        };
        let keys = corpus.keys_path(&name);
        let path = corpus.capture_path(&name);
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_pcap-cli"));
        cmd.args(["http-trace", "--json", "-q", "-r"]).arg(&path);
        if let Some(k) = &keys {
            cmd.arg("--keylog").arg(k);
        }
        let o = cmd.output().unwrap();
        let ours: BTreeMap<u64, Value> = String::from_utf8_lossy(&o.stdout)
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .filter(|v| v["type"] == "tls")
            .map(|v| (v["stream"].as_u64().unwrap(), v))
            .collect();
        let mut by_stream: BTreeMap<u64, Vec<RowRef<'_>>> = BTreeMap::new();
        for r in tsv.rows() {
            by_stream
                .entry(r.get("tcp.stream").parse().unwrap())
                .or_default()
                .push(r);
        }
        for (stream, rows) in &by_stream {
            sessions += 1;
            let want = expected(rows);
            match ours.get(stream) {
                None => failures.push(format!("{name} stream {stream}: no tls record")),
                Some(v) => {
                    for d in compare(v, &want, keys.is_some()) {
                        failures.push(format!("{name} stream {stream}: {d}"));
                    }
                }
            }
        }
    }
    eprintln!(
        "tls records vs tshark: {sessions} sessions, {} differences",
        failures.len()
    );
    assert!(sessions >= 30, "only {sessions} sessions");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
