//! Writes the HTTP/2 bench capture and its HTTP/1.1 twin (`pcap_testkit::bench_h2`).
//!
//! ```text
//! gen-h2-bench OUTDIR [CONNECTIONS [REQUESTS_PER_CONNECTION]]   # default 10000 x 25
//! ```
//! Writes OUTDIR/h2c.pcap and OUTDIR/h2-twin-http1.pcap.

use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;
use std::process::ExitCode;

use pcap_testkit::bench_h2::{h2c, http1};

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(dir) = args
        .next()
        .filter(|a| !a.starts_with('-'))
        .map(PathBuf::from)
    else {
        eprintln!("usage: gen-h2-bench OUTDIR [CONNECTIONS [REQUESTS_PER_CONNECTION]]");
        return ExitCode::from(2);
    };
    let conns: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let reqs: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(25);
    let write = |name: &str,
                 f: fn(
        &mut dyn std::io::Write,
        u64,
        u64,
    ) -> Result<(), pcap_capture::CaptureError>| {
        let path = dir.join(name);
        let file = match File::create(&path) {
            Ok(f) => f,
            Err(e) => {
                eprintln!("gen-h2-bench: {}: {e}", path.display());
                return false;
            }
        };
        let mut w = BufWriter::new(file);
        if let Err(e) = f(&mut w, conns, reqs) {
            eprintln!("gen-h2-bench: {}: {e}", path.display());
            return false;
        }
        println!("{}\t{} requests", path.display(), conns * reqs);
        true
    };
    if write("h2c.pcap", h2c) && write("h2-twin-http1.pcap", http1) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
