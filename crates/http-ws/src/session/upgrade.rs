//! Upgrades: after a 101 or a CONNECT 2xx, both directions switch to WebSocket frames or
//! an opaque tunnel, and client bytes held while the answer was awaited are replayed.

use super::*;

impl HttpSession {
    /// Moves `dir` to `state`; held client bytes are replayed into it.
    pub(super) fn switch(
        &mut self,
        dir: Direction,
        state: State,
        ts_ns: i64,
        sink: &mut impl FnMut(HttpEvent<'_>),
    ) {
        let lost = match self.dirs[dir].state {
            State::Dead => return,
            State::Await { lost } => lost,
            _ => false,
        };
        self.dirs[dir].state = if lost { State::Dead } else { state };
        self.replay(dir, ts_ns, sink);
    }

    /// Feeds the bytes held in `buf` (while awaiting an upgrade answer) to the current state.
    pub(super) fn replay(
        &mut self,
        dir: Direction,
        ts_ns: i64,
        sink: &mut impl FnMut(HttpEvent<'_>),
    ) {
        let held = std::mem::take(&mut self.dirs[dir].buf);
        if held.is_empty() {
            return;
        }
        let d = &mut self.dirs[dir];
        d.offset = d.offset.saturating_sub(held.len() as u64);
        self.feed(dir, ts_ns, &held, sink);
    }
}
