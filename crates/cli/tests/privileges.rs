//! `capture -i lo --user NAME`: the device is opened as root, then the process switches to
//! NAME before decoding anything (like `tcpdump -Z`). Needs root; skipped loudly otherwise.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::UdpSocket;
use std::process::{Command, Stdio};
use std::thread::sleep;
use std::time::Duration;

fn is_root(test: &str) -> bool {
    let root = nix::unistd::geteuid().is_root();
    if !root {
        eprintln!("SKIPPED {test}: needs root to open a live device");
    }
    root
}

#[test]
fn capture_as_nobody_after_opening_lo() {
    if !is_root("capture_as_nobody_after_opening_lo") {
        return;
    }
    // A bound receiver gives a free port, and the datagrams are delivered (no ICMP noise).
    let receiver = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = receiver.local_addr().unwrap().port();
    let sender = UdpSocket::bind("127.0.0.1:0").unwrap();
    let filter = format!("udp port {port}");
    let mut child = Command::new(env!("CARGO_BIN_EXE_pcap-cli"))
        .args([
            "capture", "-i", "lo", "-c", "1", "--user", "nobody", "-f", &filter,
        ])
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The capture starts at an unknown moment: send until it has seen one packet.
    // Loop guard: 300 tries at 100 ms.
    let mut status = None;
    for _ in 0..300 {
        sender.send_to(b"privileges", ("127.0.0.1", port)).unwrap();
        sleep(Duration::from_millis(100));
        if let Some(s) = child.try_wait().unwrap() {
            status = Some(s);
            break;
        }
    }
    if status.is_none() {
        let _ = child.kill();
    }
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        status.is_some(),
        "capture never saw a packet; stderr: {stderr}"
    );
    assert!(out.status.success(), "exit {:?}: {stderr}", out.status);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "one packet with -c 1: {stdout}");
    assert!(
        lines[0].contains("UDP") && lines[0].contains(&format!(":{port}")),
        "{stdout}"
    );
}

#[test]
fn capture_as_unknown_user_fails_cleanly() {
    if !is_root("capture_as_unknown_user_fails_cleanly") {
        return;
    }
    let user = "no-such-user-pcap-cli";
    let out = Command::new(env!("CARGO_BIN_EXE_pcap-cli"))
        .args(["capture", "-i", "lo", "-c", "1", "--user", user])
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    // The "listening on lo" notice (as tcpdump prints) may come first; then one error line.
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|l| !l.starts_with("pcap-cli: listening on"))
        .collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(
        lines[0].contains(user) && lines[0].contains("no such user"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty(), "nothing captured before the switch");
}
