//! HAR 1.2 output for `http-trace --har FILE`: the transactions in the format browser
//! devtools import ("HTTP Archive", W3C draft of 2012).
//!
//! Entries are kept in memory until the end of the capture, as a HAR file is one JSON
//! document; bodies are included only as far as `--body-limit` allows.

use std::path::Path;

use pcap_http_ws::Transaction;
use pcap_http_ws::pipeline::Stream;
use serde_json::{Value, json};

use crate::error::CliError;

/// The entries collected so far.
#[derive(Debug, Default)]
pub struct Har {
    entries: Vec<Value>,
}

impl Har {
    /// Adds one transaction. A transaction without a seen request has no HAR form and is
    /// skipped (HAR entries are requests first).
    pub fn add(&mut self, stream: &Stream, tx: &Transaction) {
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
        self.entries.push(json!({
            "startedDateTime": iso8601(start),
            "time": send + wait + receive,
            "request": request,
            "response": response,
            "cache": {},
            "timings": {"send": send, "wait": wait, "receive": receive},
            "serverIPAddress": stream.server.ip().to_string(),
            "connection": stream.id.to_string(),
        }));
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when no entry was added.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Writes the archive to `path`.
    pub fn write(&self, path: &Path) -> Result<(), CliError> {
        let doc = json!({
            "log": {
                "version": "1.2",
                "creator": {"name": "pcap-cli", "version": env!("CARGO_PKG_VERSION")},
                "pages": [],
                "entries": self.entries,
            }
        });
        let io_err = |source| CliError::Io {
            path: path.to_owned(),
            source,
        };
        let text = serde_json::to_vec_pretty(&doc).map_err(|e| io_err(e.into()))?;
        std::fs::write(path, text).map_err(io_err)
    }
}

fn version(minor: Option<u8>) -> &'static str {
    match minor {
        Some(0) => "HTTP/1.0",
        _ => "HTTP/1.1",
    }
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
