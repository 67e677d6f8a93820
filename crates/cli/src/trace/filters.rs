//! `http-trace`'s filters: regexes on a transaction's request fields, and its final status
//! and duration.

use pcap_http_ws::{RequestHead, RequestView, TransactionRecord};
use regex::Regex;

use crate::args::{HttpTraceArgs, StatusList};
use crate::error::CliError;

/// The regex filters: a transaction is shown when every "only" filter matches and no
/// "ignore" filter does. A missing field (no request seen) fails an "only" filter.
#[derive(Debug, Default, Clone)]
pub(crate) struct Filters {
    method: (Option<Regex>, Option<Regex>),
    host: (Option<Regex>, Option<Regex>),
    url: (Option<Regex>, Option<Regex>),
    user_agent: (Option<Regex>, Option<Regex>),
    /// `--status`: the final status must be in one of these.
    status: Option<StatusList>,
    /// `--min-duration`, in nanoseconds.
    min_duration: Option<u64>,
}

impl Filters {
    pub(crate) fn new(a: &HttpTraceArgs) -> Result<Filters, CliError> {
        let compile = |option: &'static str, re: &Option<String>| {
            re.as_deref()
                .map(Regex::new)
                .transpose()
                .map_err(|e| CliError::Regex {
                    option,
                    pattern: re.clone().unwrap_or_default(),
                    source: Box::new(e),
                })
        };
        Ok(Filters {
            method: (
                compile("--method", &a.method)?,
                compile("--method-ignore", &a.method_ignore)?,
            ),
            host: (
                compile("--host", &a.host)?,
                compile("--host-ignore", &a.host_ignore)?,
            ),
            url: (
                compile("--url", &a.url)?,
                compile("--url-ignore", &a.url_ignore)?,
            ),
            user_agent: (
                compile("--user-agent", &a.user_agent)?,
                compile("--user-agent-ignore", &a.user_agent_ignore)?,
            ),
            status: a.status.clone(),
            min_duration: a.min_duration,
        })
    }

    /// A finished transaction's status and duration against `--status` and
    /// `--min-duration` (true when neither is set).
    pub(crate) fn matches_record(&self, rec: &TransactionRecord) -> bool {
        let status = match (&self.status, rec.status) {
            (None, _) => true,
            (Some(list), Some(s)) => list.iter().any(|r| r.contains(&s)),
            (Some(_), None) => false,
        };
        let duration = match (self.min_duration, rec.request_start_ns, rec.response_end_ns) {
            (None, ..) => true,
            (Some(min), Some(start), Some(end)) => {
                u64::try_from(end.saturating_sub(start)).is_ok_and(|d| d >= min)
            }
            (Some(_), ..) => false,
        };
        status && duration
    }

    /// Whether a filter on what only a finished transaction shows is set: a TLS session
    /// line, which has no status, is then hidden.
    pub(crate) fn on_record(&self) -> bool {
        self.status.is_some() || self.min_duration.is_some()
    }

    /// True when no filter is set: nothing to evaluate.
    fn is_empty(&self) -> bool {
        [&self.method, &self.host, &self.url, &self.user_agent]
            .iter()
            .all(|f| f.0.is_none() && f.1.is_none())
    }

    /// A transaction's request (`None`: not seen) against the filters. Header values are
    /// matched as text, invalid UTF-8 replaced.
    pub(crate) fn matches(&self, request: Option<RequestView<'_>>) -> bool {
        if self.is_empty() {
            return true;
        }
        let Some(r) = request else {
            return self.matches_fields(None, None, None, None);
        };
        let host = r.host().map(String::from_utf8_lossy);
        let user_agent = r.user_agent().map(String::from_utf8_lossy);
        self.matches_fields(
            Some(r.method),
            host.as_deref(),
            Some(r.uri),
            user_agent.as_deref(),
        )
    }

    /// [`Filters::matches`] for a request head as it arrives.
    pub(crate) fn matches_head(&self, r: &RequestHead<'_>) -> bool {
        if self.is_empty() {
            return true;
        }
        let host = r.host().map(String::from_utf8_lossy);
        let user_agent = r.headers.get("user-agent").map(String::from_utf8_lossy);
        self.matches_fields(
            Some(r.method),
            host.as_deref(),
            Some(r.uri),
            user_agent.as_deref(),
        )
    }

    /// A TLS session's line against the filters: `--host` matches the SNI; a filter on
    /// what only a decrypted request shows (method, URL, User-Agent) hides it.
    pub(crate) fn matches_tls(&self, sni: Option<&str>) -> bool {
        !self.on_record() && (self.is_empty() || self.matches_fields(None, sni, None, None))
    }

    fn matches_fields(
        &self,
        method: Option<&str>,
        host: Option<&str>,
        uri: Option<&str>,
        user_agent: Option<&str>,
    ) -> bool {
        fn one(f: &(Option<Regex>, Option<Regex>), v: Option<&str>) -> bool {
            let only = match (&f.0, v) {
                (Some(re), Some(v)) => re.is_match(v),
                (Some(_), None) => false,
                (None, _) => true,
            };
            let ignored = matches!((&f.1, v), (Some(re), Some(v)) if re.is_match(v));
            only && !ignored
        }
        one(&self.method, method)
            && one(&self.host, host)
            && one(&self.url, uri)
            && one(&self.user_agent, user_agent)
    }
}

/// `--status`: `5xx`, `404`, `400-499`, separated by `,` or `|`.
pub(crate) fn parse_status(s: &str) -> Result<StatusList, String> {
    let code = |t: &str| {
        t.parse::<u16>()
            .ok()
            .filter(|c| (100..=999).contains(c))
            .ok_or_else(|| format!("{t:?} is not a status code (100-999)"))
    };
    s.split([',', '|'])
        .map(str::trim)
        .map(|item| {
            if let Some(class) = item.strip_suffix("xx").or_else(|| item.strip_suffix("XX")) {
                let d = class
                    .parse::<u16>()
                    .ok()
                    .filter(|d| (1..=9).contains(d))
                    .ok_or_else(|| format!("{item:?} is not a status class such as 5xx"))?;
                Ok(d * 100..=d * 100 + 99)
            } else if let Some((lo, hi)) = item.split_once('-') {
                let (lo, hi) = (code(lo.trim())?, code(hi.trim())?);
                if lo > hi {
                    return Err(format!("{item:?}: the range is empty"));
                }
                Ok(lo..=hi)
            } else {
                code(item).map(|c| c..=c)
            }
        })
        .collect()
}

/// `--min-duration`: a number and a unit (`ns`, `us`, `ms`, `s`, `m`), in nanoseconds.
pub(crate) fn parse_duration(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .ok_or_else(|| format!("{s:?} needs a unit: ns, us, ms, s or m (e.g. 200ms)"))?;
    let (number, unit) = t.split_at(split);
    let scale = match unit.trim() {
        "ns" => 1.0,
        "us" | "µs" => 1e3,
        "ms" => 1e6,
        "s" => 1e9,
        "m" | "min" => 60e9,
        u => return Err(format!("unknown unit {u:?}: use ns, us, ms, s or m")),
    };
    let n: f64 = number
        .parse()
        .map_err(|_| format!("{number:?} is not a number"))?;
    let ns = n * scale;
    if !(0.0..=1e18).contains(&ns) {
        return Err(format!("{s:?} is out of range"));
    }
    // In range and not negative: the cast keeps the value, rounded down.
    Ok(ns as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_lists() {
        assert_eq!(parse_status("5xx"), Ok(vec![500..=599]));
        assert_eq!(
            parse_status("404, 429|400-403"),
            Ok(vec![404..=404, 429..=429, 400..=403])
        );
        assert!(parse_status("6").is_err());
        assert!(parse_status("0xx").is_err());
        assert!(parse_status("499-400").is_err());
        assert!(parse_status("").is_err());
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("200ms"), Ok(200_000_000));
        assert_eq!(parse_duration("1.5s"), Ok(1_500_000_000));
        assert_eq!(parse_duration("3 us"), Ok(3_000));
        assert_eq!(parse_duration("2m"), Ok(120_000_000_000));
        assert!(parse_duration("200").is_err());
        assert!(parse_duration("2h").is_err());
        assert!(parse_duration("ms").is_err());
    }

    #[test]
    fn record_filters() {
        let f = Filters {
            status: Some(vec![500..=599]),
            min_duration: Some(1_000),
            ..Filters::default()
        };
        let mut rec = TransactionRecord::default();
        assert!(!f.matches_record(&rec), "no response");
        rec.status = Some(503);
        rec.request_start_ns = Some(10);
        rec.response_end_ns = Some(2_000);
        assert!(f.matches_record(&rec));
        rec.response_end_ns = Some(900);
        assert!(!f.matches_record(&rec), "too quick");
        rec.response_end_ns = Some(2_000);
        rec.status = Some(200);
        assert!(!f.matches_record(&rec), "not a 5xx");
        assert!(Filters::default().matches_record(&rec));
    }
}
