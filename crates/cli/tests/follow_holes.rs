//! `follow -o` on a session whose client acknowledges past holes the capture missed
//! (`pcap_testkit::adversarial::ack_past_holes`): each hole is a gap longer than `MAX_HOLE`,
//! so it is listed in the index instead of written as zeros, and the files stay the size of
//! the data that was captured.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_pcap-cli");

/// Bytes of every file under `dir`.
fn total_size(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let m = e.metadata().unwrap();
            if m.is_dir() {
                total_size(&e.path())
            } else {
                m.len()
            }
        })
        .sum()
}

#[test]
fn acks_past_holes_do_not_grow_follow_files() {
    let n = 20u64;
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("acks_past_holes");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut file = Vec::new();
    pcap_testkit::adversarial::ack_past_holes(&mut file, n).unwrap();
    let capture = dir.join("holes.pcap");
    std::fs::write(&capture, file).unwrap();
    let out_dir = dir.join("out");
    let out = Command::new(BIN)
        .args(["follow", "-q", "-r", capture.to_str().unwrap(), "-o"])
        .arg(&out_dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // 20 holes of 4 MiB (`ACK_HOLE`) written as zeros would be 80 MiB; the data is 20
    // bytes, plus the index listing the skips.
    let size = total_size(&out_dir);
    assert!(size < 64 * 1024, "{size} bytes written");
}
