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

/// A TLS client that logs its secrets to argv[2], makes two requests, then (the session still
/// open) copies its key log to argv[3], the file the capture watches, and makes a third: the
/// secrets are not in the watched file when the ServerHello is decoded, so the session must
/// hold its records until they are. (A build that looks the secrets up once, at the
/// ServerHello, decrypts none of the three.)
const LATE_CLIENT: &str = r#"
import shutil, socket, ssl, sys, time
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
ctx.keylog_filename = sys.argv[2]
s = ctx.wrap_socket(socket.create_connection(('127.0.0.1', int(sys.argv[1]))))
def get(path):
    s.sendall(b'GET ' + path + b' HTTP/1.1\r\nHost: late.test\r\n\r\n')
    buf = b''
    while b'\r\n\r\n' not in buf:
        buf += s.recv(4096)
    head, _, rest = buf.partition(b'\r\n\r\n')
    n = int([l.split(b':')[1] for l in head.split(b'\r\n') if l.lower().startswith(b'content-length')][0])
    while len(rest) < n:
        rest += s.recv(4096)
get(b'/first')
time.sleep(0.3)
get(b'/ping')
time.sleep(0.3)
shutil.copy(sys.argv[2], sys.argv[3])
time.sleep(0.3)
get(b'/second')
s.close()
"#;

#[test]
fn live_capture_decrypts_a_session_whose_key_is_logged_late() {
    let skip = |why: &str| {
        eprintln!("SKIPPED live_capture_decrypts_a_session_whose_key_is_logged_late: {why}");
    };
    if !nix::unistd::geteuid().is_root() {
        return skip("live capture needs root");
    }
    for program in ["openssl", "python3"] {
        if !have(program) {
            return skip(&format!("no {program}"));
        }
    }
    let dir = std::env::temp_dir().join(format!("pcap-cli-late-test.{}", std::process::id()));
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
    let port = port.trim().to_owned();
    let (written, watched) = (dir.join("client.keys"), dir.join("watched.keys"));
    std::fs::write(&watched, "").unwrap();

    let mut trace = Command::new(env!("CARGO_BIN_EXE_pcap-cli"))
        .args(["http-trace", "-i", "lo", "--json", "-f"])
        .arg(format!("tcp port {port}"))
        .arg("--keylog")
        .arg(&watched)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(trace.stderr.take().unwrap());
    let mut first = String::new();
    stderr.read_line(&mut first).unwrap();
    if !first.contains("listening on lo") {
        let _ = trace.kill();
        let _ = trace.wait();
        return skip(&first);
    }
    let status = Command::new("python3")
        .args(["-c", LATE_CLIENT, &port])
        .arg(&written)
        .arg(&watched)
        .status()
        .unwrap();
    assert!(status.success());

    let (tx, rx) = std::sync::mpsc::channel();
    let stdout = BufReader::new(trace.stdout.take().unwrap());
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
        if rx.recv_timeout(std::time::Duration::from_secs(30)).is_err() {
            break;
        }
    }
    let pid = nix::unistd::Pid::from_raw(i32::try_from(trace.id()).unwrap());
    Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status()
        .unwrap();
    trace.wait().unwrap();
    let lines = reader.join().unwrap();
    let all = lines.join("\n");
    let mut uris: Vec<String> = lines
        .iter()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v["type"] == "http")
        .map(|v| {
            assert_eq!(v["scheme"], "https", "{all}");
            v["request"]["uri"]
                .as_str()
                .unwrap_or_else(|| panic!("{all}"))
                .to_owned()
        })
        .collect();
    uris.sort();
    assert_eq!(uris, ["/first", "/ping", "/second"], "{all}");
    let _ = std::fs::remove_dir_all(&dir);
}
