//! Requests and responses: the pending-request queue, pairing each response with its
//! request, and the record that closes each exchange.

use super::*;

impl HttpSession {
    /// Emits the record of a request that will get no response (the stream ended, or the
    /// pipeline cap pushed it out).
    pub(super) fn close_unanswered(
        &mut self,
        p: Pending,
        ts_ns: i64,
        sink: &mut impl FnMut(HttpEvent<'_>),
    ) {
        let r = Responding {
            req: Some(p),
            status: 0,
            start_ns: 0,
            head_len: 0,
        };
        self.emit_record(r, None, ts_ns, false, sink);
    }

    pub(super) fn request_head(
        &mut self,
        ts_ns: i64,
        info: HeadInfo,
        sink: &mut impl FnMut(HttpEvent<'_>),
    ) {
        let (start_ns, start_off) = self.dirs[Direction::ClientToServer].msg_start;
        if self.pending.len() >= self.cfg.max_pending_requests {
            // Reported once per session (a request-only capture would repeat it forever);
            // the oldest request is closed as a transaction without a response.
            if !std::mem::replace(&mut self.pipeline_overflowed, true) {
                let max = self.cfg.max_pending_requests;
                error(
                    Direction::ClientToServer,
                    ts_ns,
                    start_off,
                    HttpError::TooManyPendingRequests { max },
                    sink,
                );
            }
            if let Some(p) = self.pending.pop_front() {
                self.close_unanswered(p, ts_ns, sink);
            }
        }
        let method = info.method.unwrap_or(Method::Other);
        push_waiting(
            &mut self.pending,
            Pending {
                index: self.next_index,
                method,
                start_ns,
                end_ns: None,
                head_len: info.len as u64,
                body_len: 0,
                wire_len: 0,
                decoded_len: None,
                complete: false,
                upgrade: info.upgrade || method == Method::Connect,
                ws_key: info.ws_key,
                first_response_ns: None,
                interim: Vec::new(),
            },
        );
        self.next_index = self.next_index.saturating_add(1);
        let framing = if info.chunked {
            Some(Framing::Chunked(Box::new(Chunked::new())))
        } else {
            match info.content_length {
                Some(n) if n > 0 => Some(Framing::Length(n)),
                _ => None,
            }
        };
        let done = framing.is_none();
        self.dirs[Direction::ClientToServer].state =
            State::Body(self.new_body(framing.unwrap_or(Framing::Length(0)), info.coding));
        if done {
            self.finish_message(Direction::ClientToServer, ts_ns, true, sink);
        }
    }

    pub(super) fn response_head(
        &mut self,
        ts_ns: i64,
        info: HeadInfo,
        sink: &mut impl FnMut(HttpEvent<'_>),
    ) {
        let s = Direction::ServerToClient;
        let (start_ns, _) = self.dirs[s].msg_start;
        let status = info.status;
        if (100..200).contains(&status) && status != 101 {
            if let Some(p) = self.pending.front_mut() {
                p.first_response_ns.get_or_insert(start_ns);
                if p.interim.len() < MAX_INTERIM {
                    p.interim.push(status);
                }
            }
            self.dirs[s].state = State::Head;
            return;
        }
        let req = self.pending.pop_front();
        let method = req.as_ref().map_or(Method::Other, |r| r.method);
        let req_upgrade = req.as_ref().is_some_and(|r| r.upgrade);
        let ws_key = req.as_ref().and_then(|r| r.ws_key.clone());
        self.responding = Some(Responding {
            start_ns: req
                .as_ref()
                .and_then(|r| r.first_response_ns)
                .unwrap_or(start_ns),
            req,
            status,
            head_len: info.len as u64,
        });
        if status == 101 && (req_upgrade || info.upgrade) {
            self.dirs[s].state = State::Body(self.new_body(Framing::Length(0), None));
            self.finish_message(Direction::ServerToClient, ts_ns, true, sink);
            if info.upgrade_ws {
                let accept_valid = match (&ws_key, &info.ws_accept) {
                    (Some(k), Some(a)) => Some(websocket::accept_key(k).as_bytes() == &**a),
                    (Some(_), None) => Some(false),
                    _ => None,
                };
                if accept_valid == Some(false) {
                    error(
                        Direction::ServerToClient,
                        ts_ns,
                        self.dirs[s].msg_start.1,
                        HttpError::AcceptMismatch,
                        sink,
                    );
                }
                sink(HttpEvent::WsUpgrade(WsHandshake {
                    ts_ns,
                    accept_valid,
                    permessage_deflate: info.deflate,
                }));
                for dir in [Direction::ClientToServer, Direction::ServerToClient] {
                    let ws = WsDecoder::new(
                        dir,
                        info.deflate,
                        self.cfg.ws_max_frame,
                        self.cfg.ws_max_message,
                    );
                    self.switch(dir, State::WebSocket(Box::new(ws)), ts_ns, sink);
                }
            } else {
                self.switch(Direction::ClientToServer, State::Tunnel, ts_ns, sink);
                self.switch(Direction::ServerToClient, State::Tunnel, ts_ns, sink);
            }
            return;
        }
        if method == Method::Connect && (200..300).contains(&status) {
            self.dirs[s].state = State::Body(self.new_body(Framing::Length(0), None));
            self.finish_message(Direction::ServerToClient, ts_ns, true, sink);
            self.switch(Direction::ClientToServer, State::Tunnel, ts_ns, sink);
            self.switch(Direction::ServerToClient, State::Tunnel, ts_ns, sink);
            return;
        }
        let bodyless = method == Method::Head || status == 204 || status == 304 || status < 200;
        let framing = if bodyless {
            Framing::Length(0)
        } else if info.chunked {
            Framing::Chunked(Box::new(Chunked::new()))
        } else if let (Some(n), false) = (info.content_length, info.other_te) {
            Framing::Length(n)
        } else {
            Framing::Close
        };
        let done = matches!(framing, Framing::Length(0));
        self.dirs[s].state = State::Body(self.new_body(framing, info.coding));
        if done {
            self.finish_message(Direction::ServerToClient, ts_ns, true, sink);
        }
    }

    /// Ends the current message of `dir` (its body state), emitting completion events and,
    /// for responses, the transaction record.
    pub(super) fn finish_message(
        &mut self,
        dir: Direction,
        ts_ns: i64,
        complete: bool,
        sink: &mut impl FnMut(HttpEvent<'_>),
    ) {
        let offset = self.dirs[dir].offset;
        let State::Body(mut body) = std::mem::replace(&mut self.dirs[dir].state, State::Head)
        else {
            return;
        };
        if let Some(mut dec) = body.decoder.take() {
            let r = dec.finish();
            drain(dir, ts_ns, &mut dec, sink);
            body.decoded_len = Some(dec.total());
            if let Err(stop) = r {
                body.decoded_truncated = true;
                report_stop(
                    dir,
                    ts_ns,
                    offset,
                    stop,
                    &dec,
                    self.cfg.max_decoded_body,
                    sink,
                );
            }
        }
        let mc = MessageComplete {
            dir,
            ts_ns,
            body_len: body.len,
            wire_len: body.wire,
            decoded_len: body.decoded_len,
            decoded_truncated: body.decoded_truncated,
            complete,
        };
        sink(HttpEvent::MessageComplete(mc));
        if dir == Direction::ClientToServer {
            let waiting = self.pending.back_mut().filter(|p| p.end_ns.is_none());
            let mut upgrade = false;
            if let Some(p) = waiting {
                p.end_ns = Some(ts_ns);
                p.body_len = body.len;
                p.wire_len = body.wire;
                p.decoded_len = body.decoded_len;
                p.complete = complete;
                upgrade = p.upgrade;
            } else if let Some(p) = self
                .responding
                .as_mut()
                .and_then(|r| r.req.as_mut())
                .filter(|p| p.end_ns.is_none())
            {
                p.end_ns = Some(ts_ns);
                p.body_len = body.len;
                p.wire_len = body.wire;
                p.decoded_len = body.decoded_len;
                p.complete = complete;
            }
            if upgrade {
                self.dirs[dir].state = State::Await { lost: false };
            }
        } else if let Some(r) = self.responding.take() {
            self.emit_record(r, Some(mc), ts_ns, complete, sink);
            // An Upgrade/CONNECT that was refused: held client bytes are HTTP again.
            let c = Direction::ClientToServer;
            if matches!(self.dirs[c].state, State::Await { .. }) && self.pending.is_empty() {
                self.switch(Direction::ClientToServer, State::Head, ts_ns, sink);
            }
        }
    }

    pub(super) fn emit_record(
        &mut self,
        mut r: Responding,
        resp: Option<MessageComplete>,
        ts_ns: i64,
        complete: bool,
        sink: &mut impl FnMut(HttpEvent<'_>),
    ) {
        let index = match &r.req {
            Some(p) => p.index,
            None => {
                let n = self.next_index;
                self.next_index = n.saturating_add(1);
                n
            }
        };
        let interim = r
            .req
            .as_mut()
            .map(|p| std::mem::take(&mut p.interim))
            .unwrap_or_default();
        let rec = TransactionRecord {
            index,
            interim,
            request_start_ns: r.req.as_ref().map(|p| p.start_ns),
            request_end_ns: r.req.as_ref().and_then(|p| p.end_ns),
            response_start_ns: resp
                .map(|_| r.start_ns)
                .or(r.req.as_ref().and_then(|p| p.first_response_ns)),
            response_end_ns: resp.map(|_| ts_ns),
            status: resp.map(|_| r.status),
            request_head_len: r.req.as_ref().map_or(0, |p| p.head_len),
            request_body_len: r.req.as_ref().map_or(0, |p| p.body_len),
            request_wire_len: r.req.as_ref().map_or(0, |p| p.wire_len),
            request_decoded_len: r.req.as_ref().and_then(|p| p.decoded_len),
            response_head_len: r.head_len,
            response_body_len: resp.map_or(0, |m| m.body_len),
            response_wire_len: resp.map_or(0, |m| m.wire_len),
            response_decoded_len: resp.and_then(|m| m.decoded_len),
            request_complete: r.req.as_ref().is_some_and(|p| p.complete),
            response_complete: complete && resp.is_some(),
            complete: complete && r.req.as_ref().is_some_and(|p| p.complete),
        };
        sink(HttpEvent::Transaction(rec));
    }
}
