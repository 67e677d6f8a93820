//! HAR 1.2 output for `http-trace --har FILE`: the transactions in the format browser
//! devtools import ("HTTP Archive", W3C draft of 2012).
//!
//! The archive is written while the capture is read, so that the file, not memory, grows
//! with the number of requests (keeping every entry until the end took 5.7 GB for a capture
//! of 500k requests): the file is created and the document head written before the first
//! packet, each entry is written (compact, one per line) when its transaction completes, and
//! the document is closed at the end, also when reading stopped at an error or the run
//! returns early, so the file is valid JSON with everything decoded up to then.
//!
//! Entries are therefore in the order transactions complete (the order of `--json` lines),
//! not sorted by `startedDateTime`: sessions overlap, so a later request can complete first.
//! HAR 1.2 calls sorted entries "preferred" and adds that "the reader application should
//! always make sure the array is sorted (if required for the import)". Bodies are included
//! only as far as `--body-limit` allows. Strings escape C1 and bidi controls as `\uXXXX`, as
//! every JSON output does (see [`crate::render::escape`]).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use pcap_analyzer::Stream;
use pcap_http_ws::Transaction;
use serde_json::{Value, json};

use crate::error::CliError;

/// Everything before the first entry: the members the archive had when it was written in
/// one piece (`browser` and `comment` are optional), with `entries` last (then, keys were
/// sorted) so that entries can follow.
const HEAD: &str = concat!(
    r#"{"log":{"version":"1.2","creator":{"name":"pcap-cli","version":""#,
    env!("CARGO_PKG_VERSION"),
    r#""},"pages":[],"entries":["#
);

/// Everything after the last entry.
const TAIL: &str = "\n]}}\n";

/// Write buffer: entries are a few hundred bytes to a few kB (bodies up to `--body-limit`).
const BUFFER: usize = 64 * 1024;

/// A HAR file being written.
#[derive(Debug)]
pub struct Har {
    out: BufWriter<File>,
    path: PathBuf,
    /// An entry has been written: the next one needs a comma.
    any: bool,
    /// The first write error, until [`Har::check`] or [`Har::finish`] reports it. Nothing
    /// more is written after it: the document is broken.
    error: Option<std::io::Error>,
    /// Nothing more is to be written: the document is closed, or a write failed.
    done: bool,
}

impl Har {
    /// Creates (or truncates) `path` and writes the document head, so that a path that
    /// cannot be written is reported before any packet is read.
    pub fn create(path: &Path) -> Result<Har, CliError> {
        let io_err = |source| CliError::Io {
            path: path.to_owned(),
            source,
        };
        let file = File::create(path).map_err(io_err)?;
        let mut out = BufWriter::with_capacity(BUFFER, file);
        out.write_all(HEAD.as_bytes()).map_err(io_err)?;
        Ok(Har {
            out,
            path: path.to_owned(),
            any: false,
            error: None,
            done: false,
        })
    }

    /// Writes one transaction. A transaction without a seen request has no HAR form and is
    /// skipped (HAR entries are requests first).
    pub fn add(&mut self, stream: &Stream, tx: &Transaction) {
        if self.done || self.error.is_some() {
            return;
        }
        let rec = &tx.record;
        let (Some(method), Some(start)) = (&tx.method, rec.request_start_ns) else {
            return;
        };
        let uri = tx.uri.as_deref().unwrap_or("/");
        let url = if uri.starts_with('/') {
            let host = tx.host.clone().unwrap_or_else(|| stream.server.to_string());
            format!("http://{host}{uri}")
        } else {
            uri.to_owned()
        };
        let ms = |from: Option<i64>, to: Option<i64>| match (from, to) {
            (Some(a), Some(b)) => (b.saturating_sub(a)) as f64 / 1e6,
            _ => -1.0,
        };
        let send = ms(rec.request_start_ns, rec.request_end_ns).max(0.0);
        let wait = ms(rec.request_end_ns, rec.response_start_ns).max(0.0);
        let receive = ms(rec.response_start_ns, rec.response_end_ns).max(0.0);
        let headers = |h: &[(String, Vec<u8>)]| -> Vec<Value> {
            h.iter()
                .map(|(n, v)| json!({"name": n, "value": String::from_utf8_lossy(v)}))
                .collect()
        };
        let header_value = |h: &[(String, Vec<u8>)], name: &str| {
            h.iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
        };
        let query: Vec<Value> = uri
            .split_once('?')
            .map(|(_, q)| {
                q.split('&')
                    .filter(|p| !p.is_empty())
                    .map(|p| {
                        let (n, v) = p.split_once('=').unwrap_or((p, ""));
                        json!({"name": n, "value": v})
                    })
                    .collect()
            })
            .unwrap_or_default();
        let mut request = json!({
            "method": method,
            "url": url,
            "httpVersion": version(tx.request_version),
            "cookies": [],
            "headers": headers(&tx.request_headers),
            "queryString": query,
            "headersSize": rec.request_head_len,
            "bodySize": rec.request_body_len,
        });
        if let Some(body) = tx.request_body.as_deref().filter(|b| !b.is_empty()) {
            request["postData"] = json!({
                "mimeType": header_value(&tx.request_headers, "content-type").unwrap_or_default(),
                "text": String::from_utf8_lossy(body),
            });
        }
        let mime = header_value(&tx.response_headers, "content-type").unwrap_or_default();
        let mut content = json!({
            "size": rec.response_decoded_len.unwrap_or(rec.response_body_len),
            "mimeType": mime,
        });
        if let Some(body) = tx.response_body.as_deref().filter(|b| !b.is_empty()) {
            match std::str::from_utf8(body) {
                Ok(text) => content["text"] = json!(text),
                Err(_) => {
                    use base64::Engine as _;
                    content["text"] = json!(base64::engine::general_purpose::STANDARD.encode(body));
                    content["encoding"] = json!("base64");
                }
            }
        }
        let response = json!({
            "status": rec.status.unwrap_or(0),
            "statusText": tx.reason.as_deref().unwrap_or(""),
            "httpVersion": version(tx.response_version),
            "cookies": [],
            "headers": headers(&tx.response_headers),
            "content": content,
            "redirectURL": header_value(&tx.response_headers, "location").unwrap_or_default(),
            "headersSize": if rec.status.is_some() { rec.response_head_len as i64 } else { -1 },
            "bodySize": if rec.status.is_some() { rec.response_wire_len as i64 } else { -1 },
        });
        let entry = json!({
            "startedDateTime": iso8601(start),
            "time": send + wait + receive,
            "request": request,
            "response": response,
            "cache": {},
            "timings": {"send": send, "wait": wait, "receive": receive},
            "serverIPAddress": stream.server.ip().to_string(),
            "connection": stream.id.to_string(),
        });
        if let Err(e) = self.write_entry(&entry) {
            self.error = Some(e);
        }
    }

    /// One entry on its own line, after a comma from the second on.
    fn write_entry(&mut self, entry: &Value) -> std::io::Result<()> {
        self.out.write_all(if self.any { b",\n" } else { b"\n" })?;
        self.any = true;
        crate::render::escape::write_safe_json(&mut self.out, entry)?;
        Ok(())
    }

    /// Reports a write error, once: called per packet, so that a full disk stops a live
    /// capture instead of being noticed at its end.
    pub fn check(&mut self) -> Result<(), CliError> {
        match self.error.take() {
            Some(source) => {
                self.done = true;
                Err(self.io_error(source))
            }
            None => Ok(()),
        }
    }

    /// Closes the document and writes out what the buffer holds. After a write error that
    /// [`Har::check`] already reported there is nothing to do.
    pub fn finish(mut self) -> Result<(), CliError> {
        self.check()?;
        if self.done {
            return Ok(());
        }
        self.done = true;
        self.close().map_err(|source| self.io_error(source))
    }

    fn close(&mut self) -> std::io::Result<()> {
        self.out.write_all(TAIL.as_bytes())?;
        self.out.flush()
    }

    fn io_error(&self, source: std::io::Error) -> CliError {
        CliError::Io {
            path: self.path.clone(),
            source,
        }
    }
}

impl Drop for Har {
    /// A run that returns early without [`Har::finish`] (standard output closed or failing)
    /// still leaves a valid document with the entries written so far. A failure here is not
    /// reported: the run is already ending, with its own error or quietly (closed pipe).
    fn drop(&mut self) {
        if !self.done && self.error.is_none() {
            let _ = self.close();
        }
    }
}

fn version(minor: Option<u8>) -> &'static str {
    minor.map_or("HTTP/1.1", pcap_http_ws::version_name)
}

/// `2023-11-14T22:13:20.000025Z` for a time in ns since the epoch (UTC, microseconds).
fn iso8601(ts_ns: i64) -> String {
    let secs = ts_ns.div_euclid(1_000_000_000);
    let micros = ts_ns.rem_euclid(1_000_000_000) / 1000;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{micros:06}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Year, month, day of a day count since 1970-01-01 (proleptic Gregorian; H. Hinnant's
/// algorithm).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_utc_iso8601() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00.000000Z");
        // 1700000000 s is 2023-11-14 22:13:20 UTC.
        assert_eq!(
            iso8601(1_700_000_000_000_025_000),
            "2023-11-14T22:13:20.000025Z"
        );
        // A leap day.
        assert_eq!(
            iso8601(951_782_400_000_000_000),
            "2000-02-29T00:00:00.000000Z"
        );
        assert_eq!(iso8601(-1_000), "1969-12-31T23:59:59.999999Z");
    }
}
