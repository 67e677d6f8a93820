//! Every session's windows, and the memory budget they share.

use std::collections::HashMap;

use pcap_tcp_reassembly::{Direction, MemoryBudget, PerDir};

use super::WINDOW;
use super::matcher::Matcher;
use super::window::{Found, LAST, Window, heap};

/// One window per direction of a session.
pub(super) type Windows = PerDir<Window>;

/// What a session costs in the table, per bucket: the key, the box pointer and hashbrown's
/// control byte.
const SLOT: usize = size_of::<(u64, Box<Windows>)>() + 1;

/// Bytes both windows of a session hold.
pub(super) fn windows_cost(ws: &Windows) -> usize {
    ws.iter().map(Window::cost).sum()
}

/// In-order bytes of one direction of a session.
#[derive(Debug, Clone, Copy)]
pub(super) struct Segment<'a> {
    pub(super) dir: Direction,
    /// Stream offset of `bytes[0]`.
    pub(super) offset: u64,
    pub(super) bytes: &'a [u8],
    /// Packet time.
    pub(super) ts_ns: i64,
}

/// The sessions' windows, and the memory budget they share.
///
/// Under the budget the windows are [`WINDOW`]s, as without one. Over it, in this order,
/// after each event: the direction fed gives back its spare capacity; every direction is cut
/// to its [`share`](Streams::share) of the budget (a sweep over all sessions, done only when
/// the share has at least halved or as many `Data` events as there are sessions have passed
/// since the last one, so it costs O(1) per event); and if that is still too much (the
/// smallest windows do not fit), the session fed loses its windows, as at a gap.
#[derive(Debug)]
pub(super) struct Streams {
    /// The windows of the sessions that carried bytes, made on their first bytes (a
    /// session without bytes, such as a SYN flood's, costs nothing here) and dropped when
    /// the session ends. Boxed: the table has up to twice as many slots as sessions, and a
    /// slot then costs 16 bytes, not 152. Hashed with a fixed seed: session numbers are
    /// the reassembler's, not chosen on the wire, and a fixed seed makes the table grow,
    /// and so the budget cut windows, the same way on every run over the same capture.
    pub(super) map: HashMap<u64, Box<Windows>, foldhash::fast::FixedState>,
    /// What the state holds: every window's buffer and time list (their capacities), each
    /// charged as it changes, and the table (its boxes and slots) as one more holder.
    pub(super) budget: MemoryBudget,
    /// The table's charge in `budget`: [`Streams::fixed`] when last synced.
    table: usize,
    /// Each direction's window now: [`WINDOW`] until the sessions exceed the budget.
    pub(super) window: usize,
    /// The smallest `window` used.
    pub(super) smallest: usize,
    /// How many times a session lost its windows to the budget.
    pub(super) dropped: u64,
    /// `Data` events since the last sweep.
    since_sweep: usize,
}

impl Streams {
    pub(super) fn new(limit: usize) -> Streams {
        Streams {
            map: HashMap::default(),
            budget: MemoryBudget::new(limit),
            table: 0,
            window: WINDOW,
            smallest: WINDOW,
            dropped: 0,
            since_sweep: 0,
        }
    }

    /// Bytes the sessions' boxes and table slots hold (hashbrown fills its buckets to 7/8).
    pub(super) fn fixed(&self) -> usize {
        let buckets = self.map.capacity() + self.map.capacity() / 7;
        self.map.len() * heap(size_of::<Windows>()) + buckets * SLOT
    }

    /// Charges the table's boxes and slots anew, after sessions came or went.
    fn sync_table(&mut self) {
        self.table = self.budget.recharge(self.table, self.fixed());
    }

    /// Bytes the windows hold (their buffers and time lists).
    pub(super) fn windows_held(&self) -> usize {
        self.budget.held().saturating_sub(self.table)
    }

    /// Bytes held now: the windows, and the sessions' boxes and table slots.
    #[cfg(test)]
    pub(super) fn total(&self) -> usize {
        self.budget.held()
    }

    /// True when the windows and the table together hold more than the budget.
    fn over(&self) -> bool {
        debug_assert_eq!(self.table, self.fixed(), "table charge out of date");
        self.budget.is_over()
    }

    /// Notes that a window's cost went from `before` to `after`.
    fn account(&mut self, before: usize, after: usize) {
        debug_assert!(
            self.windows_held() >= before,
            "held {} < {before}",
            self.windows_held()
        );
        self.budget.recharge(before, after);
    }

    /// The window each direction would get if the budget were shared out now: what the
    /// sessions' boxes and slots leave, halved (headroom, so that sessions can come and
    /// windows grow before the next sweep), split over two directions per session, less
    /// the time list. Not yet kept between the pattern's floor and [`WINDOW`].
    pub(super) fn share(&self) -> usize {
        let room = self.budget.limit().saturating_sub(self.fixed());
        let share = room / 4 / self.map.len().max(1);
        // A window of w bytes costs at most w + w / 16 (its times), plus 55 of rounding (see
        // `heap`).
        share.saturating_sub(56) / 17 * 16
    }

    /// In-order bytes of session `id`.
    pub(super) fn data(
        &mut self,
        m: &Matcher,
        id: u64,
        seg: Segment<'_>,
        emit: &mut impl FnMut(Direction, Found<'_>),
    ) {
        let Segment {
            dir,
            offset,
            bytes,
            ts_ns,
        } = seg;
        self.since_sweep = self.since_sweep.saturating_add(1);
        let window = self.window;
        let w = &mut self.map.entry(id).or_default()[dir];
        let before = w.cost();
        if offset != w.end() {
            if !w.buf.is_empty() {
                w.scan(m, LAST, |f| emit(dir, f));
            }
            w.reset(offset);
        }
        w.push(bytes, ts_ns, window, m.keep(window));
        // A window cut by the budget reports what it has found rather than give it up; a
        // full one holds everything back, as without the budget.
        let hold_from = if window < WINDOW {
            w.end().saturating_sub(window as u64)
        } else {
            0
        };
        w.scan(m, hold_from, |f| emit(dir, f));
        w.trim(m, window, false);
        let after = w.cost();
        self.account(before, after);
        self.sync_table();
        self.settle(m, id, dir, emit);
    }

    /// The direction of session `id` ends (`at: None`, its FIN) or skips to stream offset
    /// `at` (a gap): what is held back is reported as it stands.
    pub(super) fn cut(
        &mut self,
        m: &Matcher,
        id: u64,
        dir: Direction,
        at: Option<u64>,
        emit: &mut impl FnMut(Direction, Found<'_>),
    ) {
        let Some(ws) = self.map.get_mut(&id) else {
            return;
        };
        let w = &mut ws[dir];
        let before = w.cost();
        w.scan(m, LAST, |f| emit(dir, f));
        w.reset(at.unwrap_or(w.end()));
        let after = w.cost();
        self.account(before, after);
        self.settle(m, id, dir, emit);
    }

    /// Session `id` ended: what is held back is reported as it stands.
    pub(super) fn end(
        &mut self,
        m: &Matcher,
        id: u64,
        emit: &mut impl FnMut(Direction, Found<'_>),
    ) {
        let Some(mut ws) = self.map.remove(&id) else {
            return;
        };
        for dir in Direction::BOTH {
            ws[dir].scan(m, LAST, |f| emit(dir, f));
        }
        self.account(windows_cost(&ws), 0);
        self.sync_table();
        // Fewer sessions share the budget. Raised only once the share has doubled (or is a
        // full window), as it is cut only once halved: a session ending and another starting
        // at the edge would otherwise cost a sweep each.
        if self.window < WINDOW {
            let fair = self.share().clamp(m.floor(), WINDOW);
            if fair == WINDOW || fair / 2 >= self.window {
                self.window = fair;
            }
        }
    }

    /// Keeps the state within the budget after an event of session `id` in `dir`.
    fn settle(
        &mut self,
        m: &Matcher,
        id: u64,
        dir: Direction,
        emit: &mut impl FnMut(Direction, Found<'_>),
    ) {
        // Once cut, every direction fed is tightened, so that each holds at most its window.
        let cut = self.window < WINDOW;
        if !cut && !self.over() {
            return;
        }
        let window = self.window;
        if let Some(ws) = self.map.get_mut(&id) {
            let w = &mut ws[dir];
            let before = w.cost();
            w.tighten(m, window);
            let after = w.cost();
            self.account(before, after);
        }
        if !self.over() {
            return;
        }
        // Every direction fed since the window was cut is tight, so being over the budget
        // means the share has halved since, unless the windows are at their floor: then
        // only dropping helps, and a sweep waits for its O(1) per event.
        let share = self.share();
        let fair = share.clamp(m.floor(), WINDOW);
        let halved = fair < self.window && share < self.window / 2;
        if halved || self.since_sweep >= self.map.len() {
            self.sweep(m, fair);
            if !self.over() {
                return;
            }
        }
        if let Some(mut ws) = self.map.remove(&id) {
            for dir in Direction::BOTH {
                ws[dir].scan(m, LAST, |f| emit(dir, f));
            }
            self.account(windows_cost(&ws), 0);
            self.sync_table();
            self.dropped += 1;
        }
    }

    /// Cuts every direction to `window`, giving the spare capacity back.
    fn sweep(&mut self, m: &Matcher, window: usize) {
        self.since_sweep = 0;
        self.window = window;
        self.smallest = self.smallest.min(window);
        for w in self.map.values_mut().flat_map(|ws| ws.iter_mut()) {
            let before = w.cost();
            w.tighten(m, window);
            self.budget.recharge(before, w.cost());
        }
    }
}
