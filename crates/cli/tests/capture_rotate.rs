//! `capture -w` with tcpdump's rotation options: `-C` (size), `-G` (time, strftime names),
//! `-W` (ring with -C, file count with -G), on captures built here with known sizes and
//! times; every file is read back.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use pcap_capture::{FileReader, LinkType, Packet, PcapWriter};
use pcap_decode::build::{self, FrameSpec, TcpSpec};

const BIN: &str = env!("CARGO_BIN_EXE_pcap-cli");
/// 2023-11-14 22:13:20 UTC.
const T0: i64 = 1_700_000_000_000_000_000;
const MS: i64 = 1_000_000;

fn dir(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("capture_rotate")
        .join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A pcap of TCP frames with `payload` bytes each, at the given times (ms after T0); the
/// sequence number says which frame it is.
fn input(dir: &Path, times_ms: &[i64], payload: usize) -> PathBuf {
    let path = dir.join("in.pcap");
    let mut w = PcapWriter::new(Vec::new(), LinkType::ETHERNET, 65535).unwrap();
    for (i, t) in times_ms.iter().enumerate() {
        let tcp = TcpSpec {
            seq: i as u32,
            ..TcpSpec::default()
        };
        let data = build::tcp_frame(&FrameSpec::default(), &tcp, &vec![b'x'; payload]);
        w.write_packet(&Packet {
            ts_ns: T0 + t * MS,
            caplen: data.len() as u32,
            orig_len: data.len() as u32,
            link_type: LinkType::ETHERNET,
            interface: 0,
            fcs_len: 0,
            data: &data,
        })
        .unwrap();
    }
    std::fs::write(&path, w.into_inner().unwrap()).unwrap();
    path
}

fn run(args: &[&str], input: &Path, out: &Path) -> Output {
    Command::new(BIN)
        .arg("capture")
        .arg("-r")
        .arg(input)
        .arg("-w")
        .arg(out)
        .args(args)
        .output()
        .unwrap()
}

/// The frame numbers (sequence numbers) in a file written by capture.
fn frames(path: &Path) -> Vec<u32> {
    let mut r = FileReader::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut out = Vec::new();
    while let Some(p) = r.next_packet().unwrap() {
        let seq_at = 14 + 20 + 4;
        out.push(u32::from_be_bytes(
            p.data[seq_at..seq_at + 4].try_into().unwrap(),
        ));
    }
    out
}

/// The files in `dir` but the input, sorted by name.
fn outputs(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n != "in.pcap")
        .collect();
    names.sort();
    names
}

#[test]
fn size_rotation_starts_a_file_once_one_is_larger_than_c() {
    let d = dir("size");
    // 20 frames of 14 + 20 + 20 + 1000 bytes: 1070-byte pcap records with their 16-byte
    // headers, so a 5 KiB (5120-byte) limit is passed by the 5th record of a file (24-byte
    // file header + 5 x 1070 = 5374 > 5120 after 5; 4304 after 4).
    let input = input(&d, &(0..20).collect::<Vec<_>>(), 1000);
    let o = run(&["-C", "5k"], &input, &d.join("t.pcap"));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(outputs(&d), ["t.pcap", "t.pcap1", "t.pcap2", "t.pcap3"]);
    assert_eq!(frames(&d.join("t.pcap")), [0, 1, 2, 3, 4]);
    assert_eq!(frames(&d.join("t.pcap1")), [5, 6, 7, 8, 9]);
    assert_eq!(frames(&d.join("t.pcap3")), [15, 16, 17, 18, 19]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("20 packets written to 4 files"), "{err}");
}

#[test]
fn size_ring_with_w_keeps_the_last_files() {
    let d = dir("ring");
    let input = input(&d, &(0..20).collect::<Vec<_>>(), 1000);
    let o = run(&["-C", "5k", "-W", "3"], &input, &d.join("r"));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(outputs(&d), ["r0", "r1", "r2"]);
    // Files 0, 1, 2, then 3 overwrites r0.
    assert_eq!(frames(&d.join("r0")), [15, 16, 17, 18, 19]);
    assert_eq!(frames(&d.join("r1")), [5, 6, 7, 8, 9]);
    assert_eq!(frames(&d.join("r2")), [10, 11, 12, 13, 14]);
}

#[test]
fn time_rotation_names_files_by_strftime_at_their_first_packet() {
    let d = dir("time");
    let input = input(&d, &[0, 500, 1000, 2500, 2600], 10);
    let pattern = d.join("c-%H%M%S.pcap");
    let o = run(&["-G", "1", "--utc"], &input, &pattern);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        outputs(&d),
        ["c-221320.pcap", "c-221321.pcap", "c-221322.pcap"]
    );
    assert_eq!(frames(&d.join("c-221320.pcap")), [0, 1]);
    assert_eq!(frames(&d.join("c-221321.pcap")), [2]);
    assert_eq!(frames(&d.join("c-221322.pcap")), [3, 4]);
}

#[test]
fn time_rotation_with_w_stops_after_count_files() {
    let d = dir("count");
    let input = input(&d, &[0, 1000, 2000, 3000], 10);
    let o = run(&["-G", "1", "-W", "2"], &input, &d.join("t"));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // No % in the name: numbered files.
    assert_eq!(outputs(&d), ["t", "t1"]);
    assert_eq!(frames(&d.join("t")), [0]);
    assert_eq!(frames(&d.join("t1")), [1]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("2 packets written to 2 files"), "{err}");
}

#[test]
fn rotation_options_that_cannot_work_are_refused() {
    let d = dir("refused");
    let input = input(&d, &[0], 10);
    for (args, out, says) in [
        (&["-W", "2"][..], "t", "-W needs -G or -C"),
        (&["-G", "1"][..], "-", "standard output cannot be rotated"),
        (&["-C", "0"][..], "t", "must be more than 0"),
        (&["-G", "0"][..], "t", "rotate-seconds"),
    ] {
        let o = run(args, &input, Path::new(out));
        assert!(!o.status.success(), "{args:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(says), "{args:?}: {err}");
    }
    // -G without -w is refused by the argument parser.
    let o = Command::new(BIN)
        .args(["capture", "-G", "1", "-r"])
        .arg(&input)
        .output()
        .unwrap();
    assert!(!o.status.success());
}
