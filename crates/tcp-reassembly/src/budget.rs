//! One way of counting memory against a cap shared by many holders (sessions, decoders,
//! search windows): each holder's charge is replaced as it grows or shrinks, and the total
//! is compared to the limit. The reassembler's buffered bytes, the analyzer's protocol
//! decoders and stream search all count this way.

/// A memory limit and what its holders hold together, in bytes.
///
/// ```
/// use pcap_tcp_reassembly::MemoryBudget;
///
/// let mut budget = MemoryBudget::new(100);
/// let mut charged = 0;
/// charged = budget.recharge(charged, 60); // one holder grows to 60 bytes
/// assert!(!budget.is_over());
/// let other = budget.recharge(0, 50); // another takes the total to 110
/// assert!(budget.is_over());
/// budget.release(other);
/// assert_eq!((budget.held(), budget.room()), (60, 40));
/// # let _ = charged;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryBudget {
    limit: usize,
    held: usize,
}

impl MemoryBudget {
    /// A budget of `limit` bytes, nothing held yet.
    pub const fn new(limit: usize) -> MemoryBudget {
        MemoryBudget { limit, held: 0 }
    }

    /// The limit.
    pub const fn limit(&self) -> usize {
        self.limit
    }

    /// What the holders hold together.
    pub const fn held(&self) -> usize {
        self.held
    }

    /// What can still be taken before the limit (0 once over it).
    pub const fn room(&self) -> usize {
        self.limit.saturating_sub(self.held)
    }

    /// True when the holders together hold more than the limit.
    pub const fn is_over(&self) -> bool {
        self.held > self.limit
    }

    /// A holder charged `old` bytes now holds `new`: the total follows, and `new` is
    /// returned, to keep as the holder's charge.
    pub fn recharge(&mut self, old: usize, new: usize) -> usize {
        self.held = self.held.saturating_sub(old).saturating_add(new);
        new
    }

    /// A holder charged `charge` bytes gives them all back.
    pub fn release(&mut self, charge: usize) {
        self.held = self.held.saturating_sub(charge);
    }
}
