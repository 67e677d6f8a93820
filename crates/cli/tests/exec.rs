//! `http-trace --exec`, live on loopback as root: curl against a local TLS server made by
//! the test (Python's `ssl`, a self-signed certificate from `openssl req`) is decrypted with
//! the key log curl writes to the private file `--exec` gives it, the capture stops when
//! curl exits, and pcap-cli exits with curl's status. Under sudo (SUDO_UID/SUDO_GID) the
//! program runs as the invoking user and can still write its key log.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// A one-file HTTPS server: answers every GET with 200 and the path as body, keep-alive.
const SERVER: &str = r#"
import http.server, ssl, sys
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    def do_GET(self):
        body = self.path.encode()
        self.send_response(200)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
s = http.server.HTTPServer(('127.0.0.1', 0), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[1], sys.argv[2])
s.socket = ctx.wrap_socket(s.socket, server_side=True)
print(s.server_address[1], flush=True)
s.serve_forever()
"#;

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn skip(why: &str) {
    eprintln!("SKIPPED exec_decrypts_the_programs_https: {why}");
}

fn have(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

/// A self-signed certificate and its key in `dir`.
fn certificate(dir: &Path) -> (String, String) {
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let status = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        ])
        .args(["-subj", "/CN=localhost", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "openssl req failed");
    (
        cert.to_string_lossy().into_owned(),
        key.to_string_lossy().into_owned(),
    )
}

/// Runs `http-trace --exec -- sh -c SCRIPT` with `env` added; returns exit code, stdout and
/// stderr.
fn trace(script: &str, env: &[(&str, &str)]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_pcap-cli"))
        .args(["http-trace", "--exec", "--", "sh", "-c", script])
        .envs(env.iter().copied())
        .env_remove("SSLKEYLOGFILE")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn exec_decrypts_the_programs_https() {
    if !nix::unistd::geteuid().is_root() {
        return skip("live capture needs root");
    }
    for program in ["curl", "openssl", "python3"] {
        if !have(program) {
            return skip(&format!("no {program}"));
        }
    }
    let dir = std::env::temp_dir().join(format!("pcap-cli-exec-test.{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (cert, key) = certificate(&dir);
    let mut child = Command::new("python3")
        .args(["-c", SERVER, &cert, &key])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut port = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut port)
        .unwrap();
    let _server = Server(child);
    let port: u16 = port.trim().parse().unwrap();
    let url = format!("https://127.0.0.1:{port}/x");
    let seen = dir.join("seen");

    // As root: the program sees where its key log is; the file is private and removed
    // at the end.
    let script = format!(
        "stat -c '%a %U' \"$SSLKEYLOGFILE\" \"$(dirname \"$SSLKEYLOGFILE\")\" > {seen}; \
         echo \"$SSLKEYLOGFILE|$NODE_OPTIONS\" >> {seen}; curl -sk {url}",
        seen = seen.display()
    );
    let (code, stdout, stderr) = trace(&script, &[("NODE_OPTIONS", "--no-warnings")]);
    if stderr.contains("permission") || stderr.contains("no such device") {
        return skip(&stderr);
    }
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(stderr.contains("listening on any"), "{stderr}");
    let want = format!("GET https://127.0.0.1:{port}/x -> 200");
    assert!(stdout.contains(&want), "no {want:?} in\n{stdout}\n{stderr}");
    let seen_text = std::fs::read_to_string(&seen).unwrap();
    let lines: Vec<&str> = seen_text.lines().collect();
    assert_eq!(lines[..2], ["600 root", "700 root"], "{seen_text}");
    let (file, node) = lines[2].split_once('|').unwrap();
    assert_eq!(node, format!("--no-warnings --tls-keylog={file}"));
    assert!(!Path::new(file).exists(), "{file} left behind");
    assert!(!Path::new(file).parent().unwrap().exists());

    // Through sudo: the program runs as the invoking user (nobody here), can write its key
    // log, and its exit status becomes ours.
    let script = format!("id -u; curl -sk {url}; exit 3");
    let (code, stdout, stderr) = trace(&script, &[("SUDO_UID", "65534"), ("SUDO_GID", "65534")]);
    assert_eq!(code, 3, "{stdout}\n{stderr}");
    assert!(stdout.lines().any(|l| l == "65534"), "{stdout}");
    assert!(stdout.contains(&want), "no {want:?} in\n{stdout}\n{stderr}");

    // A program that cannot be started is our error.
    let out = Command::new(env!("CARGO_BIN_EXE_pcap-cli"))
        .args([
            "http-trace",
            "-i",
            "lo",
            "--exec",
            "--",
            "/nonexistent/program",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("cannot run /nonexistent/program"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
