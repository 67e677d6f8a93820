//! Several capture files read as one (`-r` repeated, a directory, a glob): rotated pieces
//! of one capture, cut in the middle of TCP sessions, must give what the whole capture
//! gives; damaged pieces are warned about and skipped; non-captures in a directory are
//! skipped with a note.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use pcap_capture::{
    DecryptionSecrets, FileFormat, FileReader, LinkType, Packet, PcapNgWriter, PcapWriter,
};

const BIN: &str = env!("CARGO_BIN_EXE_pcap-cli");

/// A packet read off a file, owned.
#[derive(Debug, Clone)]
struct Owned {
    ts_ns: i64,
    orig_len: u32,
    link_type: LinkType,
    data: Vec<u8>,
}

impl Owned {
    fn packet(&self) -> Packet<'_> {
        Packet {
            ts_ns: self.ts_ns,
            caplen: self.data.len() as u32,
            orig_len: self.orig_len,
            link_type: self.link_type,
            interface: 0,
            fcs_len: 0,
            data: &self.data,
        }
    }
}

/// Every packet of a capture, and its snapshot length.
fn read_all(path: &Path) -> (Vec<Owned>, u32) {
    let mut r = FileReader::open(path).unwrap();
    let snaplen = match r.format() {
        FileFormat::Pcap { snaplen, .. } => snaplen,
        _ => 262_144,
    };
    let mut all = Vec::new();
    while let Some(p) = r.next_packet().unwrap() {
        all.push(Owned {
            ts_ns: p.ts_ns,
            orig_len: p.orig_len,
            link_type: p.link_type,
            data: p.data.to_vec(),
        });
    }
    (all, snaplen)
}

fn write_pcap(path: &Path, packets: &[Owned], snaplen: u32) {
    let mut w = PcapWriter::new(Vec::new(), packets[0].link_type, snaplen).unwrap();
    for p in packets {
        w.write_packet(&p.packet()).unwrap();
    }
    std::fs::write(path, w.into_inner().unwrap()).unwrap();
}

/// Cuts the sample capture into files of the packets `[..cuts[0]]`, `[cuts[0]..cuts[1]]`,
/// ..., named `rot-0.pcap`, `rot-1.pcap`, ... in `dir`.
fn rotate(dir: &Path, whole: &Path, cuts: &[usize]) -> Vec<PathBuf> {
    let (all, snaplen) = read_all(whole);
    let mut bounds = vec![0];
    bounds.extend_from_slice(cuts);
    bounds.push(all.len());
    bounds
        .windows(2)
        .enumerate()
        .map(|(i, w)| {
            let path = dir.join(format!("rot-{i}.pcap"));
            write_pcap(&path, &all[w[0]..w[1]], snaplen);
            path
        })
        .collect()
}

fn sample() -> PathBuf {
    pcap_testkit::test_data("sample-http-ws.pcap")
}

fn tmp_dir(test: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join(test);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Runs the binary with `args`, then `-r` for each of `inputs`.
fn run(args: &[&str], inputs: &[&Path]) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.args(args).env_remove("SSLKEYLOGFILE");
    for i in inputs {
        cmd.arg("-r").arg(i);
    }
    cmd.output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The TCP sessions of `flows --json` whose first and last packets lie on either side of
/// `ts_ns`: they cross a cut made there.
fn sessions_across(flows_json: &str, ts_ns: i64) -> usize {
    let ts = ts_ns as f64 / 1e9;
    flows_json
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|f| {
            let start = f["start_ts"].as_f64().unwrap_or(f64::MAX);
            let end = f["end_ts"].as_f64().unwrap_or(f64::MIN);
            start < ts && ts <= end
        })
        .count()
}

/// The outputs that must not change when the capture comes in pieces.
const VIEWS: [&[&str]; 4] = [
    &["http-trace", "--json"],
    &["flows", "--json"],
    &["capture", "--json"],
    &["grep", "--json", "HTTP/1.1 [0-9]+"],
];

#[test]
fn rotated_pieces_cut_inside_sessions_read_as_the_whole_capture() {
    let dir = tmp_dir("rotated_pieces");
    let (all, _) = read_all(&sample());
    let cuts = [all.len() / 3, 2 * all.len() / 3];
    let pieces = rotate(&dir, &sample(), &cuts);
    // The cuts really fall inside sessions.
    let whole_flows = run(&["flows", "--json"], &[&sample()]);
    for c in cuts {
        assert!(
            sessions_across(&stdout(&whole_flows), all[c].ts_ns) > 0,
            "no session crosses the cut at packet {c}"
        );
    }
    // Given in reverse order: the files are put in time order.
    let reversed: Vec<&Path> = pieces.iter().rev().map(PathBuf::as_path).collect();
    for view in VIEWS {
        let whole = run(view, &[&sample()]);
        let pieces = run(view, &reversed);
        assert!(whole.status.success(), "{view:?}: {}", stderr(&whole));
        assert!(pieces.status.success(), "{view:?}: {}", stderr(&pieces));
        assert!(!stdout(&whole).is_empty(), "{view:?}");
        assert_eq!(stdout(&pieces), stdout(&whole), "{view:?}");
        // The closing line too: packets, sessions, transactions.
        assert_eq!(stderr(&pieces), stderr(&whole), "{view:?}");
    }
}

#[test]
fn files_that_overlap_in_time_are_merged_by_timestamp() {
    let dir = tmp_dir("overlap");
    let (all, snaplen) = read_all(&sample());
    // Every other packet to each file: both span the whole capture.
    let (even, odd): (Vec<_>, Vec<_>) = all
        .iter()
        .cloned()
        .enumerate()
        .partition(|(i, _)| i % 2 == 0);
    let strip = |v: Vec<(usize, Owned)>| v.into_iter().map(|(_, p)| p).collect::<Vec<_>>();
    let (a, b) = (dir.join("a.pcap"), dir.join("b.pcap"));
    write_pcap(&a, &strip(even), snaplen);
    write_pcap(&b, &strip(odd), snaplen);
    for view in VIEWS {
        let whole = run(view, &[&sample()]);
        let merged = run(view, &[&b, &a]);
        assert_eq!(stdout(&merged), stdout(&whole), "{view:?}");
    }
}

#[test]
fn capture_w_writes_the_pieces_into_one_file() {
    let dir = tmp_dir("capture_w");
    let (all, _) = read_all(&sample());
    let pieces = rotate(&dir, &sample(), &[50, 51, 120]);
    let one = dir.join("one.pcap");
    let joined = dir.join("joined.pcap");
    let o = run(&["capture", "-w", one.to_str().unwrap()], &[&sample()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let inputs: Vec<&Path> = pieces.iter().map(PathBuf::as_path).collect();
    let o = run(&["capture", "-w", joined.to_str().unwrap()], &inputs);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(&format!("{} packets written", all.len())),
        "{}",
        stderr(&o)
    );
    assert_eq!(
        std::fs::read(&joined).unwrap(),
        std::fs::read(&one).unwrap()
    );
}

/// `capture -w` does not copy the input's Decryption Secrets Blocks, and says so rather than
/// leaving a file that no longer decrypts without a word; an input without any says nothing.
#[test]
fn capture_w_says_the_inputs_secrets_were_not_copied() {
    let dir = tmp_dir("capture_w_secrets");
    let (all, snaplen) = read_all(&sample());
    let with_keys = dir.join("keys.pcapng");
    let mut w = PcapNgWriter::new(Vec::new(), snaplen).unwrap();
    for (i, p) in all.iter().enumerate() {
        if i == 1 || i == 3 {
            w.write_secrets(&DecryptionSecrets::new(
                DecryptionSecrets::TLS_KEY_LOG,
                b"CLIENT_RANDOM 00 11\n".to_vec(),
            ))
            .unwrap();
        }
        w.write_packet(&p.packet()).unwrap();
    }
    std::fs::write(&with_keys, w.into_inner().unwrap()).unwrap();
    let out = dir.join("out.pcap");
    let o = run(&["capture", "-w", out.to_str().unwrap()], &[&with_keys]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(
            "warning: 2 Decryption Secrets Blocks in the input not written to the output: \
             give the key log with --keylog to embed it"
        ),
        "{}",
        stderr(&o)
    );
    assert_eq!(read_all(&out).0.len(), all.len());

    let o = run(&["capture", "-w", out.to_str().unwrap()], &[&sample()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!stderr(&o).contains("Decryption Secrets"), "{}", stderr(&o));
}

#[test]
fn a_damaged_middle_file_is_warned_about_and_the_later_ones_are_read() {
    let dir = tmp_dir("damaged");
    let (all, _) = read_all(&sample());
    let pieces = rotate(&dir, &sample(), &[60, 120]);
    // Cut the middle file inside its last packet.
    let bytes = std::fs::read(&pieces[1]).unwrap();
    std::fs::write(&pieces[1], &bytes[..bytes.len() - 10]).unwrap();
    let inputs: Vec<&Path> = pieces.iter().map(PathBuf::as_path).collect();
    let o = run(&["capture", "--json"], &inputs);
    let err = stderr(&o);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 3, "{err}");
    let warning = lines[0];
    assert!(warning.starts_with("pcap-cli: warning: "), "{err}");
    assert!(warning.contains("rot-1.pcap"), "{err}");
    assert!(warning.contains("truncated"), "{err}");
    assert!(warning.contains("after packet 59"), "{err}");
    // The last record, less its last 10 bytes, is what was not read.
    let lost = 16 + all[119].data.len() - 10;
    assert!(
        warning.contains(&format!("its last {lost} bytes not read")),
        "{err}"
    );
    // Every other packet was read, frame numbers going on across the lost one.
    let frames: Vec<u64> = stdout(&o)
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["frame"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert_eq!(frames.len(), all.len() - 1);
    assert_eq!(frames.last(), Some(&(all.len() as u64 - 1)));
    assert_eq!(
        lines[1],
        format!("pcap-cli: {} packets, 1 damaged file", all.len() - 1)
    );
    assert_eq!(
        lines[2],
        "pcap-cli: 1 of 3 capture files damaged (see the warnings above)"
    );
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn a_directory_is_read_whole_and_its_other_files_are_skipped_with_a_note() {
    let dir = tmp_dir("directory");
    rotate(&dir, &sample(), &[40, 90, 140]);
    std::fs::write(dir.join("README"), "rotated by the test\n").unwrap();
    std::fs::write(dir.join("empty"), "").unwrap();
    std::fs::create_dir(dir.join("sub")).unwrap();
    let whole = run(&["http-trace", "--json"], &[&sample()]);
    let o = run(&["http-trace", "--json"], &[&dir]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), stdout(&whole));
    let err = stderr(&o);
    let notes: Vec<&str> = err
        .lines()
        .filter(|l| l.contains("note: skipping"))
        .collect();
    assert_eq!(notes.len(), 2, "{err}");
    assert!(
        notes[0].contains("README") && notes[0].contains("not a pcap"),
        "{err}"
    );
    assert!(
        notes[1].contains("empty") && notes[1].contains("not a capture"),
        "{err}"
    );
}

#[test]
fn a_glob_the_shell_left_alone_is_expanded() {
    let dir = tmp_dir("glob");
    rotate(&dir, &sample(), &[30, 100]);
    std::fs::write(dir.join("notes.txt"), "not a capture\n").unwrap();
    let whole = run(&["flows", "--json"], &[&sample()]);
    let o = run(&["flows", "--json"], &[&dir.join("rot-*.pcap")]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), stdout(&whole));
    assert!(!stderr(&o).contains("note"), "{}", stderr(&o));
    // Two of the three pieces, by a character class: fewer packets.
    let o = run(&["capture", "-q"], &[&dir.join("rot-[01].pcap")]);
    assert_eq!(stdout(&o).lines().count(), 100);
    // A glob that matches nothing is an error before anything runs.
    let o = run(&["capture"], &[&dir.join("rot-*.pcapng")]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stdout(&o).is_empty());
    assert!(stderr(&o).contains("no file matches"), "{}", stderr(&o));
}

#[test]
fn a_missing_or_foreign_file_named_explicitly_is_an_error_before_anything_runs() {
    let dir = tmp_dir("missing");
    let pieces = rotate(&dir, &sample(), &[90]);
    let readme = dir.join("README");
    std::fs::write(&readme, "text\n").unwrap();
    for bad in [dir.join("absent.pcap"), readme] {
        let o = run(&["capture"], &[&pieces[0], &bad, &pieces[1]]);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert!(stdout(&o).is_empty());
        let err = stderr(&o);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.contains(bad.file_name().unwrap().to_str().unwrap()),
            "{err}"
        );
    }
    let o = run(&["capture"], &[&pieces[0], Path::new("-")]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("standard input"), "{}", stderr(&o));
}

#[test]
fn pieces_with_different_link_types_are_read_as_one_capture() {
    let dir = tmp_dir("link_types");
    let (all, snaplen) = read_all(&sample());
    // The second half as raw IP: the Ethernet header dropped (every packet of the sample
    // is untagged Ethernet, so the IP header starts at byte 14).
    let cut = all.len() / 2;
    assert!(
        all.iter()
            .all(|p| matches!(&p.data[12..14], [0x08, 0x00] | [0x86, 0xdd]))
    );
    let raw: Vec<Owned> = all[cut..]
        .iter()
        .map(|p| Owned {
            ts_ns: p.ts_ns,
            orig_len: p.orig_len - 14,
            link_type: LinkType::RAW,
            data: p.data[14..].to_vec(),
        })
        .collect();
    let (a, b) = (dir.join("eth.pcap"), dir.join("raw.pcap"));
    write_pcap(&a, &all[..cut], snaplen);
    write_pcap(&b, &raw, snaplen);
    let whole = run(&["http-trace", "--json"], &[&sample()]);
    let o = run(&["http-trace", "--json"], &[&a, &b]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), stdout(&whole));
    // Saved as one file: pcapng, whose interfaces keep both link types.
    let out = dir.join("mixed.pcapng");
    let o = run(&["capture", "-w", out.to_str().unwrap()], &[&a, &b]);
    assert!(o.status.success(), "{}", stderr(&o));
    let (back, _) = read_all(&out);
    assert_eq!(back.len(), all.len());
    assert_eq!(back[cut - 1].link_type, LinkType::ETHERNET);
    assert_eq!(back[cut].link_type, LinkType::RAW);
    let again = run(&["http-trace", "--json"], &[&out]);
    assert_eq!(stdout(&again), stdout(&whole));
}

#[test]
fn decryption_secrets_in_a_later_file_decrypt_its_sessions() {
    let Some(corpus) =
        pcap_testkit::corpus_tls("decryption_secrets_in_a_later_file_decrypt_its_sessions")
    else {
        return;
    };
    let dir = tmp_dir("secrets");
    let mut tried = 0;
    for name in corpus.captures() {
        let Some(keys) = corpus.keys_path(&name) else {
            continue;
        };
        let path = corpus.capture_path(&name);
        let (all, snaplen) = read_all(&path);
        if all.len() < 2 {
            continue;
        }
        // The first packet (a SYN or ClientHello) alone, then the rest in pcapng after a
        // Decryption Secrets Block with the keys.
        let first = dir.join(format!("{name}-0.pcap"));
        write_pcap(&first, &all[..1], snaplen);
        let rest = dir.join(format!("{name}-1.pcapng"));
        let mut w = PcapNgWriter::new(Vec::new(), snaplen).unwrap();
        w.write_secrets(&DecryptionSecrets::new(
            DecryptionSecrets::TLS_KEY_LOG,
            std::fs::read(&keys).unwrap(),
        ))
        .unwrap();
        for p in &all[1..] {
            w.write_packet(&p.packet()).unwrap();
        }
        std::fs::write(&rest, w.into_inner().unwrap()).unwrap();
        let want = Command::new(BIN)
            .args(["http-trace", "--json", "-r"])
            .arg(&path)
            .arg("--keylog")
            .arg(&keys)
            .output()
            .unwrap();
        let got = run(&["http-trace", "--json"], &[&first, &rest]);
        assert!(got.status.success(), "{name}: {}", stderr(&got));
        assert!(stdout(&want).contains("\"tls\""), "{name}: not decrypted");
        assert_eq!(stdout(&got), stdout(&want), "{name}");
        tried += 1;
    }
    assert!(tried >= 10, "only {tried} captures with keys");
}

#[test]
fn help_says_how_to_read_several_files() {
    for sub in ["capture", "http-trace", "flows", "grep", "follow", "serve"] {
        let o = Command::new(BIN).args([sub, "--help"]).output().unwrap();
        let help = stdout(&o);
        assert!(help.contains("Repeat it, give a"), "{sub}: {help}");
        assert!(help.contains("time order"), "{sub}: {help}");
    }
}

/// `serve --fast` on `inputs` until it has read them all: its `/api/stats`.
fn serve_stats(inputs: &[&Path]) -> serde_json::Value {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::TcpStream;
    use std::process::Stdio;
    /// Stops the server even when an assertion fails.
    struct Server(std::process::Child);
    impl Drop for Server {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let mut cmd = Command::new(BIN);
    cmd.args(["serve", "--fast", "--listen", "127.0.0.1:0"]);
    for i in inputs {
        cmd.arg("-r").arg(i);
    }
    let mut server = Server(
        cmd.stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut stderr = BufReader::new(server.0.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no address in {line:?}"));
    let (addr, token) = url
        .strip_prefix("http://")
        .and_then(|u| u.split_once("/?token="))
        .unwrap();
    for _ in 0..2000 {
        let mut s = TcpStream::connect(addr).unwrap();
        write!(
            s,
            "GET /api/stats HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
             Connection: close\r\n\r\n"
        )
        .unwrap();
        let mut response = String::new();
        s.read_to_string(&mut response).unwrap();
        let body = response.split_once("\r\n\r\n").unwrap().1;
        let stats: serde_json::Value =
            serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {response}"));
        if stats["ended"] == true {
            return stats;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    panic!("serve did not finish reading");
}

#[test]
fn serve_reads_the_pieces_as_the_whole_capture() {
    let dir = tmp_dir("serve");
    let pieces = rotate(&dir, &sample(), &[70, 130]);
    let inputs: Vec<&Path> = pieces.iter().map(PathBuf::as_path).collect();
    let whole = serve_stats(&[&sample()]);
    let got = serve_stats(&inputs);
    assert!(whole["published"].as_u64().unwrap() > 0, "{whole}");
    assert_eq!(got["capture"], whole["capture"]);
    assert_eq!(got["published"], whole["published"]);
}
