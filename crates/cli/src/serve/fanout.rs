//! Fan-out of feed items to every connected browser, each through its own bounded queue.
//!
//! The capture side must never wait for a browser, so publishing never blocks: each client
//! queue holds at most `cap` items and, when full, the oldest item is dropped and counted.
//! The count travels to that client with its next message so the page can show it.
//! A short history of recent items is replayed to a browser that connects late (a file
//! replayed with `--fast` may be finished before anyone opens the page).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::Notify;

use super::{CaptureStats, ClientStats, ServeStats};

/// Which list of the page an item belongs to; packets and transactions keep separate
/// histories so that a flood of packets does not push the last transactions out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Lane {
    /// Packet list.
    Packets,
    /// HTTP / WebSocket / TCP transaction list.
    Transactions,
}

/// One wrapped item (`{"kind":..,"data":..}`) shared by all queues that hold it.
type Item = Arc<str>;

/// Locks a mutex, recovering the data if a panicking thread poisoned it: every critical
/// section here leaves the queue consistent, so the data is still valid.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A bounded queue for one browser: drop-oldest when full.
#[derive(Debug)]
struct ClientQueue {
    items: VecDeque<Item>,
    cap: usize,
    dropped: u64,
    high_water: usize,
    sent: u64,
}

impl ClientQueue {
    fn push(&mut self, item: Item) {
        if self.items.len() >= self.cap {
            self.items.pop_front();
            self.dropped = self.dropped.saturating_add(1);
        }
        self.items.push_back(item);
        self.high_water = self.high_water.max(self.items.len());
    }
}

/// The shared part of one connected browser: its queue and the wake-up for its writer task.
#[derive(Debug)]
pub(crate) struct ClientSlot {
    id: u64,
    queue: Mutex<ClientQueue>,
    notify: Notify,
}

/// What a writer task takes from its queue in one go.
#[derive(Debug, Default)]
pub(crate) struct Batch {
    /// Items in arrival order.
    pub items: Vec<Item>,
    /// Items dropped from this client's queue since it connected (cumulative).
    pub dropped: u64,
}

impl ClientSlot {
    /// This client's connection number.
    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    /// Waits until something was queued since the last take (no lost wake-ups: `Notify`
    /// keeps a permit when nobody is waiting).
    pub(crate) async fn notified(&self) {
        self.notify.notified().await;
    }

    /// Takes up to `max_items` items or about `max_bytes` bytes, whichever comes first
    /// (at least one item if any is queued).
    pub(crate) fn take_batch(&self, max_items: usize, max_bytes: usize) -> Batch {
        let mut q = lock(&self.queue);
        let mut items = Vec::new();
        let mut bytes = 0usize;
        while items.len() < max_items && (items.is_empty() || bytes < max_bytes) {
            let Some(item) = q.items.pop_front() else {
                break;
            };
            bytes = bytes.saturating_add(item.len());
            items.push(item);
        }
        q.sent = q.sent.saturating_add(items.len() as u64);
        Batch {
            items,
            dropped: q.dropped,
        }
    }

    /// Cumulative drops of this client, for stats-only messages.
    pub(crate) fn dropped(&self) -> u64 {
        lock(&self.queue).dropped
    }

    fn stats(&self) -> ClientStats {
        let q = lock(&self.queue);
        ClientStats {
            id: self.id,
            queued: q.items.len(),
            high_water: q.high_water,
            capacity: q.cap,
            dropped: q.dropped,
            sent: q.sent,
        }
    }
}

#[derive(Debug, Default)]
struct HubInner {
    clients: Vec<Arc<ClientSlot>>,
    /// (sequence number, item) of the most recent packets.
    packet_history: VecDeque<(u64, Item)>,
    /// (sequence number, item) of the most recent transactions.
    tx_history: VecDeque<(u64, Item)>,
    next_seq: u64,
    next_client: u64,
}

/// The fan-out hub: one per server.
#[derive(Debug)]
pub(crate) struct Hub {
    inner: Mutex<HubInner>,
    client_queue: usize,
    history: usize,
    published: AtomicU64,
    rejected: AtomicU64,
    cut: AtomicU64,
    capture: Mutex<CaptureStats>,
    ended: AtomicBool,
}

impl Hub {
    /// A hub whose clients get queues of `client_queue` items and which replays the last
    /// `history` packets and `history` transactions to new clients.
    pub(crate) fn new(client_queue: usize, history: usize) -> Self {
        Self {
            inner: Mutex::default(),
            client_queue: client_queue.max(1),
            history,
            published: AtomicU64::new(0),
            rejected: AtomicU64::new(0),
            cut: AtomicU64::new(0),
            capture: Mutex::default(),
            ended: AtomicBool::new(false),
        }
    }

    /// Sends one wrapped item to every client; never blocks on a client.
    pub(crate) fn publish(&self, lane: Lane, item: Item) {
        let mut inner = lock(&self.inner);
        let seq = inner.next_seq;
        inner.next_seq = seq.wrapping_add(1);
        if self.history > 0 {
            let hist = match lane {
                Lane::Packets => &mut inner.packet_history,
                Lane::Transactions => &mut inner.tx_history,
            };
            if hist.len() >= self.history {
                hist.pop_front();
            }
            hist.push_back((seq, Arc::clone(&item)));
        }
        for client in &inner.clients {
            lock(&client.queue).push(Arc::clone(&item));
            client.notify.notify_one();
        }
        drop(inner);
        self.published.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts an item that was not a JSON object and so was not sent.
    pub(crate) fn reject(&self) {
        self.rejected.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts an item that was over the size limit and sent with its long values cut.
    pub(crate) fn note_cut(&self) {
        self.cut.fetch_add(1, Ordering::Relaxed);
    }

    /// Items sent with their long values cut so far.
    pub(crate) fn cut(&self) -> u64 {
        self.cut.load(Ordering::Relaxed)
    }

    /// Records the capture side's latest counters.
    pub(crate) fn set_capture(&self, stats: CaptureStats) {
        *lock(&self.capture) = stats;
    }

    /// Records that the capture side has finished (file replayed or feed closed).
    pub(crate) fn end(&self) {
        self.ended.store(true, Ordering::Relaxed);
    }

    /// The capture side's latest counters.
    pub(crate) fn capture(&self) -> CaptureStats {
        *lock(&self.capture)
    }

    /// Whether the capture side has finished.
    pub(crate) fn ended(&self) -> bool {
        self.ended.load(Ordering::Relaxed)
    }

    /// Registers a new client whose queue starts with the history, oldest first
    /// (at most `client_queue` of it).
    pub(crate) fn subscribe(&self) -> Arc<ClientSlot> {
        let mut inner = lock(&self.inner);
        let id = inner.next_client;
        inner.next_client = id.wrapping_add(1);
        let mut history: Vec<&(u64, Item)> = inner
            .packet_history
            .iter()
            .chain(inner.tx_history.iter())
            .collect();
        history.sort_unstable_by_key(|(seq, _)| *seq);
        let skip = history.len().saturating_sub(self.client_queue);
        let items: VecDeque<Item> = history
            .into_iter()
            .skip(skip)
            .map(|(_, item)| Arc::clone(item))
            .collect();
        let slot = Arc::new(ClientSlot {
            id,
            queue: Mutex::new(ClientQueue {
                high_water: items.len(),
                items,
                cap: self.client_queue,
                dropped: 0,
                sent: 0,
            }),
            notify: Notify::new(),
        });
        slot.notify.notify_one();
        inner.clients.push(Arc::clone(&slot));
        slot
    }

    /// Forgets a client whose connection has ended.
    pub(crate) fn unsubscribe(&self, id: u64) {
        lock(&self.inner).clients.retain(|c| c.id != id);
    }

    /// A snapshot of every counter.
    pub(crate) fn stats(&self) -> ServeStats {
        let clients = lock(&self.inner)
            .clients
            .iter()
            .map(|c| c.stats())
            .collect();
        ServeStats {
            published: self.published.load(Ordering::Relaxed),
            rejected: self.rejected.load(Ordering::Relaxed),
            cut: self.cut(),
            capture: self.capture(),
            ended: self.ended(),
            clients,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(n: u32) -> Item {
        Arc::from(format!(
            "{{\"kind\":\"packet\",\"data\":{{\"frame\":{n}}}}}"
        ))
    }

    #[test]
    fn full_queue_drops_oldest_and_counts() {
        let hub = Hub::new(3, 0);
        let client = hub.subscribe();
        for n in 1..=5 {
            hub.publish(Lane::Packets, item(n));
        }
        let stats = hub.stats();
        assert_eq!(stats.clients[0].queued, 3);
        assert_eq!(stats.clients[0].high_water, 3);
        assert_eq!(stats.clients[0].dropped, 2);
        let batch = client.take_batch(10, usize::MAX);
        assert_eq!(batch.dropped, 2);
        assert_eq!(batch.items, vec![item(3), item(4), item(5)]);
    }

    #[test]
    fn batch_respects_item_and_byte_limits() {
        let hub = Hub::new(100, 0);
        let client = hub.subscribe();
        for n in 0..10 {
            hub.publish(Lane::Packets, item(n));
        }
        assert_eq!(client.take_batch(4, usize::MAX).items.len(), 4);
        // A byte limit smaller than one item still yields one item, so progress is made.
        assert_eq!(client.take_batch(100, 1).items, vec![item(4)]);
        assert_eq!(client.take_batch(100, usize::MAX).items.len(), 5);
        assert!(client.take_batch(100, usize::MAX).items.is_empty());
    }

    #[test]
    fn late_client_gets_history_of_both_lanes_in_order() {
        let hub = Hub::new(100, 2);
        hub.publish(Lane::Transactions, item(1));
        for n in 2..=6 {
            hub.publish(Lane::Packets, item(n));
        }
        let client = hub.subscribe();
        // The transaction survives the packet flood; only the last 2 packets are kept.
        assert_eq!(
            client.take_batch(100, usize::MAX).items,
            vec![item(1), item(5), item(6)]
        );
    }

    #[test]
    fn unsubscribed_client_gets_nothing_more() {
        let hub = Hub::new(10, 0);
        let a = hub.subscribe();
        let b = hub.subscribe();
        hub.unsubscribe(a.id);
        hub.publish(Lane::Packets, item(1));
        assert!(a.take_batch(10, usize::MAX).items.is_empty());
        assert_eq!(b.take_batch(10, usize::MAX).items, vec![item(1)]);
        assert_eq!(hub.stats().clients.len(), 1);
    }
}
