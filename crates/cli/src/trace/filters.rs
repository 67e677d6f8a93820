//! `http-trace`'s regex filters on a transaction's request fields.

use pcap_http_ws::{RequestHead, RequestView};
use regex::Regex;

use crate::args::HttpTraceArgs;
use crate::error::CliError;

/// The regex filters: a transaction is shown when every "only" filter matches and no
/// "ignore" filter does. A missing field (no request seen) fails an "only" filter.
#[derive(Debug, Default)]
pub(crate) struct Filters {
    method: (Option<Regex>, Option<Regex>),
    host: (Option<Regex>, Option<Regex>),
    url: (Option<Regex>, Option<Regex>),
    user_agent: (Option<Regex>, Option<Regex>),
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
        })
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
        self.is_empty() || self.matches_fields(None, sni, None, None)
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
