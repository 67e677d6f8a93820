//! Live capture on `lo`, as root: `http-trace` sees HTTP requests made to a local server
//! while it runs, and Ctrl-C (SIGINT) ends it cleanly with libpcap's statistics.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::Duration;

/// Serves `count` connections: reads a request head, answers `200 OK` with the path as body.
fn serve(listener: TcpListener, count: usize) {
    for stream in listener.incoming().take(count) {
        let mut stream = stream.unwrap();
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap() == 1 {
            head.push(byte[0]);
        }
        let line = String::from_utf8_lossy(&head);
        let path = line.split(' ').nth(1).unwrap_or("/").to_owned();
        let response = format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{path}",
            path.len()
        );
        stream.write_all(response.as_bytes()).unwrap();
    }
}

#[test]
fn http_trace_on_loopback_sees_local_requests() {
    if !nix::unistd::geteuid().is_root() {
        eprintln!("SKIPPED http_trace_on_loopback_sees_local_requests: live capture needs root");
        return;
    }
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || serve(listener, 3));

    let mut child = Command::new(env!("CARGO_BIN_EXE_pcap-cli"))
        .args(["http-trace", "-i", "lo", "--json", "-f"])
        .arg(format!("tcp port {port}"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The capture is open once it says where it listens.
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut first = String::new();
    stderr.read_line(&mut first).unwrap();
    if first.contains("permission") || first.contains("no such device") {
        let _ = child.kill();
        let _ = child.wait();
        eprintln!("SKIPPED http_trace_on_loopback_sees_local_requests: {first}");
        return;
    }
    assert!(first.contains("listening on lo"), "{first}");

    for i in 0..3 {
        let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        write!(
            s,
            "GET /live/{i} HTTP/1.1\r\nHost: localhost:{port}\r\n\r\n"
        )
        .unwrap();
        let mut answer = String::new();
        s.read_to_string(&mut answer).unwrap();
        assert!(answer.ends_with(&format!("/live/{i}")));
    }
    server.join().unwrap();
    // Wait (boundedly: the machine may be loaded) until the three transactions are out,
    // then stop the capture as a user would, with Ctrl-C.
    let (tx, rx) = std::sync::mpsc::channel();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let reader = std::thread::spawn(move || {
        let mut all = Vec::new();
        for line in stdout.lines() {
            let line = line.unwrap();
            if line.contains("\"type\":\"http\"") {
                let _ = tx.send(());
            }
            all.push(line);
        }
        all
    });
    for _ in 0..3 {
        rx.recv_timeout(Duration::from_secs(30))
            .expect("http-trace reports each transaction");
    }
    let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id()).unwrap());
    Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status()
        .unwrap();
    let status = child.wait().unwrap();
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).unwrap();
    assert!(status.success(), "exit {status:?}: {rest}");
    assert!(rest.contains("packets dropped by kernel"), "{rest}");

    let stdout = reader.join().unwrap().join("\n");
    let mut uris: Vec<String> = stdout
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v["type"] == "http")
        .map(|v| {
            assert_eq!(v["response"]["status"], 200);
            assert_eq!(v["server"], format!("127.0.0.1:{port}"));
            v["request"]["uri"]
                .as_str()
                .unwrap_or_else(|| panic!("{stdout}"))
                .to_owned()
        })
        .collect();
    uris.sort();
    assert_eq!(uris, ["/live/0", "/live/1", "/live/2"], "{stdout}");
}
