//! Heads: detecting HTTP by content, resynchronising after a gap, parsing request and
//! status lines and the headers that drive framing and upgrades.

use super::*;

/// Does `b` start like a request (`client`) or response line? `None`: need more bytes.
pub(super) fn plausible_start(client: bool, b: &[u8]) -> Option<bool> {
    if client {
        for (i, &c) in b.iter().enumerate() {
            match c {
                b'A'..=b'Z' | b'-' | b'_' if i < MAX_METHOD_LEN => {}
                b' ' if i > 0 => return Some(true),
                _ => return Some(false),
            }
        }
        None
    } else {
        let want = b"HTTP/1.";
        let n = want.len().min(b.len());
        if b.get(..n) != want.get(..n) {
            Some(false)
        } else if n == want.len() {
            Some(true)
        } else {
            None
        }
    }
}

/// For a stream not yet known to be HTTP: once its first line is complete, is it a
/// request line ending in `HTTP/1.x`? `None`: line not complete yet.
pub(super) fn first_line_ok(client: bool, b: &[u8]) -> Option<bool> {
    if !client {
        return Some(true);
    }
    let nl = memchr::memchr(b'\n', b)?;
    let line = trim(b.get(..nl).unwrap_or_default());
    Some(
        line.len() >= 8 && line.get(line.len() - 8..line.len() - 1) == Some(b"HTTP/1.".as_slice())
            || simple_request(b).is_some(),
    )
}

/// An HTTP/0.9 simple request at the start of `b` (RFC 1945 section 4.1): the line
/// `GET <uri>` with no version, then CRLF (or LF). Returns the URI and the line's length.
/// The URI must be an absolute path or URL of visible ASCII, so that another protocol's
/// line starting with `GET ` is not taken for one.
pub(super) fn simple_request(b: &[u8]) -> Option<(&str, usize)> {
    let nl = memchr::memchr(b'\n', b)?;
    let line = b.get(..nl)?;
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let uri = line.strip_prefix(b"GET ")?;
    let visible = uri.iter().all(|c| c.is_ascii_graphic());
    if !visible || !(uri.starts_with(b"/") || uri.starts_with(b"http://")) {
        return None;
    }
    Some((std::str::from_utf8(uri).ok()?, nl.saturating_add(1)))
}

/// Index just past the blank line ending a head, searching from `from`.
pub(super) fn find_head_end(b: &[u8], from: usize) -> Option<usize> {
    let hay = b.get(from..)?;
    for p in memchr::memchr_iter(b'\n', hay) {
        let at = from.saturating_add(p);
        match (b.get(at + 1), b.get(at + 2)) {
            (Some(b'\n'), _) => return Some(at + 2),
            (Some(b'\r'), Some(b'\n')) => return Some(at + 3),
            _ => {}
        }
    }
    None
}

pub(super) fn map_httparse(e: httparse::Error, max: usize) -> HttpError {
    match e {
        httparse::Error::TooManyHeaders => HttpError::TooManyHeaders { max },
        e => HttpError::Head(e),
    }
}

pub(super) fn parse_u64(v: &[u8]) -> Option<u64> {
    let v = trim(v);
    if v.is_empty() || v.len() > 19 || !v.iter().all(u8::is_ascii_digit) {
        return None;
    }
    v.iter().try_fold(0u64, |acc, &d| {
        acc.checked_mul(10)?.checked_add(u64::from(d - b'0'))
    })
}

pub(super) fn has_token(v: &[u8], token: &[u8]) -> bool {
    v.split(|&b| b == b',')
        .any(|t| trim(t).eq_ignore_ascii_case(token))
}

/// Reads the headers that drive framing and upgrades.
pub(super) fn head_info(
    headers: &[httparse::Header<'_>],
    info: &mut HeadInfo,
) -> Option<HttpError> {
    let mut err = None;
    let mut codings = 0;
    for h in headers {
        let n = h.name.as_bytes();
        let v = h.value;
        // Dispatch on the name length first: most headers are none of these.
        let is = |name: &[u8]| n.eq_ignore_ascii_case(name);
        match n.len() {
            14 if is(b"content-length") => match parse_u64(v) {
                None => err = Some(HttpError::InvalidContentLength),
                Some(len) => match info.content_length {
                    Some(prev) if prev != len => err = Some(HttpError::ConflictingContentLength),
                    Some(_) => {}
                    None => info.content_length = Some(len),
                },
            },
            17 if is(b"transfer-encoding") => {
                let last = v
                    .split(|&b| b == b',')
                    .next_back()
                    .map(trim)
                    .unwrap_or_default();
                if last.eq_ignore_ascii_case(b"chunked") {
                    info.chunked = true;
                } else if !trim(v).eq_ignore_ascii_case(b"identity") {
                    info.other_te = true;
                }
            }
            16 if is(b"content-encoding") => {
                codings += 1;
                info.coding = Coding::from_header(v);
            }
            7 if is(b"upgrade") => {
                info.upgrade = true;
                info.upgrade_ws |= has_token(v, b"websocket");
            }
            17 if is(b"sec-websocket-key") => info.ws_key = Some(trim(v).into()),
            20 if is(b"sec-websocket-accept") => info.ws_accept = Some(trim(v).into()),
            24 if is(b"sec-websocket-extensions") && info.deflate.is_none() => {
                info.deflate = PerMessageDeflate::from_header(v);
            }
            _ => {}
        }
    }
    if codings > 1 {
        info.coding = None;
    }
    err
}

impl HttpSession {
    pub(super) fn detect(
        &mut self,
        dir: Direction,
        ts_ns: i64,
        input: &[u8],
        after_gap: bool,
        sink: &mut impl FnMut(HttpEvent<'_>),
    ) -> usize {
        let client = dir == Direction::ClientToServer;
        if !client && self.answering_http09() {
            return self.http09_response(ts_ns, sink);
        }
        let d = &mut self.dirs[dir];
        if d.buf.is_empty() && d.confirmed {
            let skip = input
                .iter()
                .take_while(|&&b| b == b'\r' || b == b'\n')
                .count();
            if skip > 0 {
                return skip;
            }
        }
        let mut look = [0u8; DETECT_LOOKAHEAD];
        let have = d.buf.len().min(DETECT_LOOKAHEAD);
        let add = (DETECT_LOOKAHEAD - have).min(input.len());
        if let (Some(dst), Some(src)) = (look.get_mut(..have), d.buf.get(..have)) {
            dst.copy_from_slice(src);
        }
        if let (Some(dst), Some(src)) = (look.get_mut(have..have + add), input.get(..add)) {
            dst.copy_from_slice(src);
        }
        let look = look.get(..have + add).unwrap_or_default();
        let verdict = plausible_start(client, look);
        if verdict == Some(false) && !after_gap && self.can_swap(dir) {
            match plausible_start(!client, look) {
                Some(true) => {
                    // The reassembler's client sends responses (picked up mid-stream).
                    self.swapped = true;
                    self.swap_pending = true;
                    std::mem::swap(&mut self.dirs.c2s, &mut self.dirs.s2c);
                    return 0;
                }
                None if look.len() < DETECT_LOOKAHEAD => {
                    let d = &mut self.dirs[dir];
                    if d.buf.is_empty() {
                        d.msg_start = (ts_ns, d.offset);
                    }
                    d.buf.extend_from_slice(input);
                    return input.len();
                }
                _ => {}
            }
        }
        let d = &mut self.dirs[dir];
        match verdict {
            Some(true) => {
                if d.buf.is_empty() {
                    d.msg_start = (ts_ns, d.offset);
                }
                d.state = State::Head;
                0
            }
            None if have + add < DETECT_LOOKAHEAD => {
                if d.buf.is_empty() {
                    d.msg_start = (ts_ns, d.offset);
                }
                d.buf.extend_from_slice(input);
                input.len()
            }
            _ if after_gap => {
                d.buf.clear();
                d.state = State::Resync { line_start: false };
                0
            }
            _ => {
                self.give_up(dir);
                0
            }
        }
    }

    pub(super) fn resync(
        &mut self,
        dir: Direction,
        ts_ns: i64,
        input: &[u8],
        line_start: bool,
    ) -> usize {
        let client = dir == Direction::ClientToServer;
        let budget = self.cfg.resync_budget;
        let d = &mut self.dirs[dir];
        let mut at = 0usize;
        let mut at_line_start = line_start;
        loop {
            if at_line_start {
                let rest = input.get(at..).unwrap_or_default();
                let skip = rest
                    .iter()
                    .take_while(|&&b| b == b'\r' || b == b'\n')
                    .count();
                at = at.saturating_add(skip);
                let rest = input.get(at..).unwrap_or_default();
                if rest.is_empty() {
                    d.state = State::Resync { line_start: true };
                    break;
                }
                match plausible_start(client, rest) {
                    Some(true) => {
                        d.state = State::Detect { after_gap: true };
                        return at;
                    }
                    None => {
                        d.state = State::Detect { after_gap: true };
                        return at;
                    }
                    Some(false) => {}
                }
            }
            match memchr::memchr(b'\n', input.get(at..).unwrap_or_default()) {
                Some(p) => {
                    at = at.saturating_add(p).saturating_add(1);
                    at_line_start = true;
                }
                None => {
                    at = input.len();
                    d.state = State::Resync { line_start: false };
                    break;
                }
            }
        }
        if !d.confirmed {
            d.resync_scanned = d.resync_scanned.saturating_add(at);
            if d.resync_scanned > budget {
                self.give_up(dir);
            }
        }
        let _ = ts_ns;
        input.len()
    }

    pub(super) fn head(
        &mut self,
        dir: Direction,
        ts_ns: i64,
        input: &[u8],
        sink: &mut impl FnMut(HttpEvent<'_>),
    ) -> usize {
        let client = dir == Direction::ClientToServer;
        if !client && self.answering_http09() {
            return self.http09_response(ts_ns, sink);
        }
        let max = self.cfg.max_head_bytes;
        let d = &mut self.dirs[dir];
        if d.buf.is_empty() {
            let skip = input
                .iter()
                .take_while(|&&b| b == b'\r' || b == b'\n')
                .count();
            if skip > 0 {
                return skip;
            }
            d.msg_start = (ts_ns, d.offset);
            if !d.confirmed {
                match first_line_ok(client, input) {
                    Some(false) => {
                        self.give_up(dir);
                        return 0;
                    }
                    // A request line ending in HTTP/1.x: HTTP, even if httparse rejects it.
                    Some(true) => d.confirmed = true,
                    None => {}
                }
            }
            // Fast path: the whole head is in this chunk; parse it in place, no copy.
            let window = input.get(..max).unwrap_or(input);
            if let Some(end) = self.parse_head(dir, ts_ns, window, false, sink) {
                return end;
            }
            if input.len() > max {
                self.head_too_large(dir, ts_ns, sink);
                return 0;
            }
            self.dirs[dir].buf.extend_from_slice(input);
            return input.len();
        }
        let old = d.buf.len();
        let take = input.len().min(max.saturating_add(1).saturating_sub(old));
        d.buf
            .extend_from_slice(input.get(..take).unwrap_or_default());
        if !d.confirmed {
            match first_line_ok(client, &d.buf) {
                Some(false) => {
                    self.give_up(dir);
                    return 0;
                }
                Some(true) => d.confirmed = true,
                None => {}
            }
        }
        // An HTTP/0.9 simple request is one line, with no blank line after it.
        let simple = if client { simple_request(&d.buf) } else { None };
        let end = match simple {
            Some((_, n)) => Some(n),
            None => find_head_end(&d.buf, old.saturating_sub(3)),
        };
        match end {
            Some(end) if end <= max => {
                let buf = std::mem::take(&mut d.buf);
                self.parse_head(dir, ts_ns, buf.get(..end).unwrap_or_default(), true, sink);
                let mut buf = buf;
                buf.clear();
                if self.dirs[dir].buf.is_empty() {
                    self.dirs[dir].buf = buf;
                }
                end.saturating_sub(old)
            }
            _ if d.buf.len() > max => {
                d.buf.clear();
                self.head_too_large(dir, ts_ns, sink);
                take
            }
            _ => take,
        }
    }

    /// A head was parsed and reported: sets up what follows it; returns its length.
    fn head_parsed(
        &mut self,
        dir: Direction,
        ts_ns: i64,
        start_off: u64,
        info: HeadInfo,
        framing_error: Option<HttpError>,
        sink: &mut impl FnMut(HttpEvent<'_>),
    ) -> Option<usize> {
        let len = info.len;
        self.dirs[dir].confirmed = true;
        if let Some(e) = framing_error {
            error(dir, ts_ns, start_off, e, sink);
        }
        if dir == Direction::ClientToServer {
            self.request_head(ts_ns, info, sink);
        } else {
            self.response_head(ts_ns, info, sink);
        }
        Some(len)
    }

    /// The next response answers an HTTP/0.9 simple request and nothing of it was read yet.
    fn answering_http09(&self) -> bool {
        self.dirs[Direction::ServerToClient].buf.is_empty()
            && self
                .pending
                .front()
                .is_some_and(|p| p.method == Method::Simple)
    }

    /// Starts an HTTP/0.9 response, which has no head: reports a head of status 200 (see
    /// [`HTTP09`]) and reads the body up to the close. Consumes nothing.
    fn http09_response(&mut self, ts_ns: i64, sink: &mut impl FnMut(HttpEvent<'_>)) -> usize {
        let d = &mut self.dirs[Direction::ServerToClient];
        d.msg_start = (ts_ns, d.offset);
        d.confirmed = true;
        sink(HttpEvent::Response(ResponseHead {
            ts_ns,
            offset: d.offset,
            version: HTTP09,
            status: 200,
            reason: "",
            headers: Headers::new(&[]),
            head_len: 0,
            interim: false,
        }));
        let info = HeadInfo {
            status: 200,
            version: HTTP09,
            ..HeadInfo::default()
        };
        self.response_head(ts_ns, info, sink);
        0
    }

    pub(super) fn head_too_large(
        &mut self,
        dir: Direction,
        ts_ns: i64,
        sink: &mut impl FnMut(HttpEvent<'_>),
    ) {
        if !self.dirs[dir].confirmed {
            self.give_up(dir);
            return;
        }
        let max = self.cfg.max_head_bytes;
        error(
            dir,
            ts_ns,
            self.dirs[dir].msg_start.1,
            HttpError::HeadTooLarge { max },
            sink,
        );
        self.dirs[dir].buf.clear();
        self.dirs[dir].state = State::Resync { line_start: false };
    }

    /// Parses the head at the start of `head`, emits it and sets up framing; returns its
    /// length. `None` (nothing emitted) when the head is not complete yet, unless `whole`
    /// says `head` ends with the blank line, in which case a partial parse is an error.
    pub(super) fn parse_head(
        &mut self,
        dir: Direction,
        ts_ns: i64,
        head: &[u8],
        whole: bool,
        sink: &mut impl FnMut(HttpEvent<'_>),
    ) -> Option<usize> {
        let (start_ns, start_off) = self.dirs[dir].msg_start;
        let max_h = self.cfg.max_headers.min(MAX_HEADERS);
        // Uninitialised storage: no 3 KiB memset per head (httparse writes before reading).
        let mut storage =
            [const { std::mem::MaybeUninit::<httparse::Header<'_>>::uninit() }; MAX_HEADERS];
        let headers = storage.get_mut(..max_h).unwrap_or_default();
        let mut info = HeadInfo::default();
        let mut pc = httparse::ParserConfig::default();
        pc.allow_multiple_spaces_in_request_line_delimiters(true)
            .allow_multiple_spaces_in_response_status_delimiters(true)
            .allow_spaces_after_header_name_in_responses(true)
            .allow_obsolete_multiline_headers_in_responses(true)
            .ignore_invalid_headers_in_responses(true)
            .ignore_invalid_headers_in_requests(true);
        let result = if dir == Direction::ClientToServer {
            let mut req = httparse::Request::new(&mut []);
            let parsed = pc.parse_request_with_uninit_headers(&mut req, head, headers);
            // An HTTP/0.9 simple request is no HTTP/1.x request line: looked for only when
            // httparse did not find a whole head, so that HTTP/1.x heads pay nothing for it.
            let simple = match parsed {
                Ok(httparse::Status::Complete(_)) => None,
                _ => simple_request(head),
            };
            if let Some((uri, n)) = simple {
                info.len = n;
                info.version = HTTP09;
                info.method = Some(Method::Simple);
                sink(HttpEvent::Request(RequestHead {
                    index: self.next_index,
                    ts_ns: start_ns,
                    offset: start_off,
                    method: "GET",
                    uri,
                    version: HTTP09,
                    headers: Headers::new(&[]),
                    head_len: n,
                }));
                return self.head_parsed(dir, ts_ns, start_off, info, None, sink);
            }
            match parsed {
                Ok(httparse::Status::Complete(n)) => {
                    info.len = n;
                    info.version = req.version.unwrap_or(1);
                    let method = req.method.unwrap_or_default();
                    info.method = Some(match method {
                        "HEAD" => Method::Head,
                        "CONNECT" => Method::Connect,
                        _ => Method::Other,
                    });
                    let e = head_info(req.headers, &mut info);
                    sink(HttpEvent::Request(RequestHead {
                        index: self.next_index,
                        ts_ns: start_ns,
                        offset: start_off,
                        method,
                        uri: req.path.unwrap_or_default(),
                        version: info.version,
                        headers: Headers::new(req.headers),
                        head_len: n,
                    }));
                    Ok(e)
                }
                Ok(httparse::Status::Partial) if !whole => return None,
                Ok(httparse::Status::Partial) => Err(HttpError::Head(httparse::Error::NewLine)),
                Err(e) => Err(map_httparse(e, max_h)),
            }
        } else {
            let mut resp = httparse::Response::new(&mut []);
            match pc.parse_response_with_uninit_headers(&mut resp, head, headers) {
                Ok(httparse::Status::Complete(n)) => {
                    info.len = n;
                    info.version = resp.version.unwrap_or(1);
                    info.status = resp.code.unwrap_or_default();
                    let e = head_info(resp.headers, &mut info);
                    sink(HttpEvent::Response(ResponseHead {
                        ts_ns: start_ns,
                        offset: start_off,
                        version: info.version,
                        status: info.status,
                        reason: resp.reason.unwrap_or_default(),
                        headers: Headers::new(resp.headers),
                        head_len: n,
                        interim: (100..200).contains(&info.status) && info.status != 101,
                    }));
                    Ok(e)
                }
                Ok(httparse::Status::Partial) if !whole => return None,
                Ok(httparse::Status::Partial) => Err(HttpError::Head(httparse::Error::NewLine)),
                Err(e) => Err(map_httparse(e, max_h)),
            }
        };
        match result {
            Ok(framing_error) => self.head_parsed(dir, ts_ns, start_off, info, framing_error, sink),
            Err(e) => {
                // Skip the bad head (or at least its first line), then look for the next one.
                let skip = find_head_end(head, 0)
                    .or_else(|| memchr::memchr(b'\n', head).map(|p| p.saturating_add(1)))
                    .unwrap_or(head.len());
                if !self.dirs[dir].confirmed {
                    self.give_up(dir);
                    return Some(skip);
                }
                error(dir, ts_ns, start_off, e.clone(), sink);
                let first = memchr::memchr(b'\n', head).unwrap_or(head.len());
                let line = head.get(..first).unwrap_or_default();
                let line = line.strip_suffix(b"\r").unwrap_or(line);
                let shown = line.get(..BadHead::MAX_LINE).unwrap_or(line);
                sink(HttpEvent::BadHead(BadHead {
                    dir,
                    ts_ns,
                    offset: start_off,
                    line: shown,
                    cut: shown.len() < line.len(),
                    error: e,
                }));
                self.dirs[dir].state = State::Resync { line_start: true };
                Some(skip)
            }
        }
    }
}
