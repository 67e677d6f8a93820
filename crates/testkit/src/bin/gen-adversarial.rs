//! Writes the hostile captures of `pcap_testkit::adversarial` into a directory.
//!
//! ```text
//! gen-adversarial OUTDIR [CASE[=N]]...   # default: every case at its full size
//! gen-adversarial --list                 # the cases: name, full size, unit, target
//! ```
//! Prints one tab-separated line per case written: name, path, file size in bytes, n.

use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;
use std::process::ExitCode;

use pcap_testkit::adversarial::{CASES, case};

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let first = args.next();
    if first.as_deref() == Some("--list") {
        for c in CASES {
            println!("{}\t{}\t{}\t{}", c.name, c.full, c.unit, c.target);
        }
        return ExitCode::SUCCESS;
    }
    let Some(dir) = first.filter(|a| !a.starts_with('-')).map(PathBuf::from) else {
        eprintln!("usage: gen-adversarial OUTDIR [CASE[=N]]... | --list");
        return ExitCode::from(2);
    };
    let mut wanted: Vec<(&'static pcap_testkit::adversarial::Case, u64)> = Vec::new();
    for a in args {
        let (name, n) = a.split_once('=').unwrap_or((&a, ""));
        let Some(c) = case(name) else {
            eprintln!("gen-adversarial: no case {name:?}");
            return ExitCode::from(2);
        };
        let Ok(n) = (if n.is_empty() { Ok(c.full) } else { n.parse() }) else {
            eprintln!("gen-adversarial: bad size in {a:?}");
            return ExitCode::from(2);
        };
        wanted.push((c, n));
    }
    if wanted.is_empty() {
        wanted = CASES.iter().map(|c| (c, c.full)).collect();
    }
    if let Err(e) = std::fs::create_dir_all(&dir) {
        eprintln!("gen-adversarial: {}: {e}", dir.display());
        return ExitCode::from(2);
    }
    for (c, n) in wanted {
        let path = dir.join(format!("{}.pcap", c.name));
        let result = File::create(&path)
            .map_err(pcap_capture::CaptureError::from)
            .and_then(|f| {
                let mut w = BufWriter::with_capacity(1 << 20, f);
                (c.write)(&mut w, n)
            });
        if let Err(e) = result {
            eprintln!("gen-adversarial: {}: {e}", path.display());
            return ExitCode::from(2);
        }
        let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        println!("{}\t{}\t{size}\t{n}", c.name, path.display());
    }
    ExitCode::SUCCESS
}
