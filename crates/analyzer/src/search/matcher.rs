//! The compiled pattern, and what the windows need to know about it.

use regex::bytes::{Regex, RegexBuilder};

use super::WINDOW;

/// Smallest window the budget cuts a direction to for an unbounded pattern, besides the
/// context on both sides: a smaller one would find little more than a per-packet search
/// does, so past that point dropping the session's windows after each segment is the better
/// trade.
const MIN_WINDOW: usize = 256;

/// A regular expression over bytes, and the longest match it can have when it bounds it.
///
/// A bounded pattern (a literal, `GET /[a-z]{1,20}`) lets a
/// [`StreamSearch`](super::StreamSearch) keep only that many bytes (plus the context) per
/// direction instead of a full window, and never lose a match to the memory budget.
#[derive(Debug, Clone)]
pub struct Pattern {
    regex: Regex,
    max_len: Option<usize>,
}

impl Pattern {
    /// Compiles `pattern` over bytes with Unicode off, as `pcap-cli grep` does: `.` matches
    /// any byte but `\n`, `ignore_case` folds ASCII case only, and `(?u)` in the pattern
    /// turns Unicode back on. The longest match is worked out from the same syntax.
    pub fn new(pattern: &str, ignore_case: bool) -> Result<Pattern, regex::Error> {
        let regex = RegexBuilder::new(pattern)
            .case_insensitive(ignore_case)
            .unicode(false)
            .build()?;
        let max_len = regex_syntax::ParserBuilder::new()
            .case_insensitive(ignore_case)
            .unicode(false)
            .utf8(false)
            .build()
            .parse(pattern)
            .ok()
            .and_then(|hir| hir.properties().maximum_len());
        Ok(Pattern { regex, max_len })
    }

    /// A regular expression compiled elsewhere. Its flags are not known here, so its
    /// matches are taken to have no length bound: each direction keeps a full window.
    pub fn from_regex(regex: Regex) -> Pattern {
        Pattern {
            regex,
            max_len: None,
        }
    }

    /// The compiled expression, for searching a payload alone.
    pub fn regex(&self) -> &Regex {
        &self.regex
    }

    /// The longest match, in bytes, when the pattern bounds it.
    pub fn max_len(&self) -> Option<usize> {
        self.max_len
    }
}

/// A pattern and the context wanted around its matches: how many bytes a window keeps.
#[derive(Debug)]
pub(super) struct Matcher {
    pub(super) pattern: Pattern,
    /// Bytes of context on each side.
    pub(super) context: usize,
}

impl Matcher {
    pub(super) fn regex(&self) -> &Regex {
        &self.pattern.regex
    }

    pub(super) fn max_len(&self) -> Option<usize> {
        self.pattern.max_len
    }

    /// For a bounded pattern, most bytes a window has to keep so that no match is missed:
    /// the longest match and the context on both sides (a match held back for its
    /// after-context keeps its before-context too; see `Window::trim`).
    pub(super) fn needed(&self) -> Option<usize> {
        let context = self.context.max(1);
        self.max_len()
            .map(|l| l.saturating_add(context.saturating_mul(2)))
    }

    /// Smallest window the budget may cut a direction to.
    pub(super) fn floor(&self) -> usize {
        self.needed()
            .unwrap_or(MIN_WINDOW + 2 * self.context)
            .min(WINDOW)
    }

    /// Most bytes a trim to `window` keeps.
    pub(super) fn keep(&self, window: usize) -> usize {
        self.needed().map_or(window, |n| n.min(window))
    }
}
