//! Bodies: framing by Content-Length, chunked or close, and content decoding.

use super::*;

pub(super) fn body_ref(s: &State) -> Option<&Framing> {
    match s {
        State::Body(b) => Some(&b.framing),
        _ => None,
    }
}

pub(super) fn drain(
    dir: Direction,
    ts_ns: i64,
    dec: &mut ContentDecoder,
    sink: &mut impl FnMut(HttpEvent<'_>),
) {
    if let Some(out) = dec.output() {
        if !out.is_empty() {
            sink(HttpEvent::Body {
                dir,
                ts_ns,
                data: out,
                decoded: true,
            });
            out.clear();
        }
    }
}

pub(super) fn report_stop(
    dir: Direction,
    ts_ns: i64,
    offset: u64,
    stop: Stop,
    dec: &ContentDecoder,
    max: u64,
    sink: &mut impl FnMut(HttpEvent<'_>),
) {
    let e = match stop {
        Stop::Cap => HttpError::DecodedBodyTooLarge { max },
        Stop::Corrupt => HttpError::ContentDecode {
            encoding: dec.coding().name(),
        },
        Stop::Window { window } => HttpError::BrotliWindowTooLarge { window, max },
    };
    error(dir, ts_ns, offset, e, sink);
}

/// Reports transfer-decoded body bytes and, when decoding, their decoded form.
pub(super) fn emit_body(
    dir: Direction,
    ts_ns: i64,
    offset: u64,
    data: &[u8],
    body: &mut Body,
    sink: &mut impl FnMut(HttpEvent<'_>),
) {
    body.len = body.len.saturating_add(data.len() as u64);
    sink(HttpEvent::Body {
        dir,
        ts_ns,
        data,
        decoded: false,
    });
    if let Some(dec) = body.decoder.as_mut() {
        let max_window = dec.max_window();
        let r = dec.feed(data);
        drain(dir, ts_ns, dec, sink);
        body.decoded_len = Some(dec.total());
        if let Err(stop) = r {
            let max = match stop {
                Stop::Cap => dec.total(),
                Stop::Corrupt => 0,
                Stop::Window { .. } => max_window,
            };
            report_stop(dir, ts_ns, offset, stop, dec, max, sink);
            body.decoded_truncated = true;
            body.decoder = None;
        }
    }
}

impl HttpSession {
    pub(super) fn new_body(&self, framing: Framing, coding: Option<Coding>) -> Body {
        let decoder = coding.filter(|_| self.cfg.decode_content).map(|c| {
            Box::new(ContentDecoder::new(
                c,
                self.cfg.max_decoded_body,
                self.cfg.max_brotli_window,
            ))
        });
        Body {
            framing,
            len: 0,
            wire: 0,
            decoded_len: decoder.as_ref().map(|_| 0),
            decoder,
            decoded_truncated: false,
        }
    }

    pub(super) fn body(
        &mut self,
        dir: Direction,
        ts_ns: i64,
        input: &[u8],
        sink: &mut impl FnMut(HttpEvent<'_>),
    ) -> usize {
        let max_line = self.cfg.max_head_bytes;
        let offset = self.dirs[dir].offset;
        let State::Body(body) = &mut self.dirs[dir].state else {
            return 0;
        };
        let (used, data, end, err) = match &mut body.framing {
            Framing::Length(rem) => {
                let n = usize::try_from(*rem).unwrap_or(usize::MAX).min(input.len());
                *rem -= n as u64;
                (n, n, *rem == 0, None)
            }
            Framing::Close => (input.len(), input.len(), false, None),
            Framing::Chunked(c) => match c.step(input, max_line) {
                (n, chunked::Out::Data) => (n, n, false, None),
                (n, chunked::Out::Nothing) => (n, 0, false, None),
                (n, chunked::Out::End) => {
                    let trailer = c.trailer();
                    if !trailer.is_empty() {
                        let mut storage = [httparse::EMPTY_HEADER; MAX_HEADERS];
                        match httparse::parse_headers(trailer, &mut storage) {
                            Ok(httparse::Status::Complete((_, hs))) => sink(HttpEvent::Trailers {
                                dir,
                                ts_ns,
                                headers: Headers::new(hs),
                            }),
                            Ok(httparse::Status::Partial) => {}
                            Err(e) => error(dir, ts_ns, offset, HttpError::Trailer(e), sink),
                        }
                    }
                    (n, 0, true, None)
                }
                (n, chunked::Out::Error(e)) => (n, 0, false, Some(e)),
            },
        };
        body.wire = body.wire.saturating_add(used as u64);
        if data > 0 {
            emit_body(
                dir,
                ts_ns,
                offset,
                input.get(..data).unwrap_or_default(),
                body,
                sink,
            );
        }
        if let Some(e) = err {
            error(dir, ts_ns, offset, e, sink);
            self.finish_message(dir, ts_ns, false, sink);
            self.dirs[dir].state = State::Resync { line_start: false };
        } else if end {
            self.finish_message(dir, ts_ns, true, sink);
        }
        used
    }
}
