//! Canonical, direction-free flow keys.

use std::net::SocketAddr;

/// The 4-tuple of a TCP connection, stored with the lower endpoint first.
///
/// Both directions of a connection map to the same key (so the hash is symmetric by
/// construction), and the key is a fixed-size `Copy` value: looking a flow up allocates
/// nothing. IPv4 and IPv6 endpoints never compare equal, even for v4-mapped addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FlowKey {
    lo: SocketAddr,
    hi: SocketAddr,
}

impl FlowKey {
    /// The key of the flow between `src` and `dst`, and whether `src` is the lower endpoint
    /// (the direction bit).
    pub fn new(src: SocketAddr, dst: SocketAddr) -> (FlowKey, bool) {
        if src <= dst {
            (FlowKey { lo: src, hi: dst }, true)
        } else {
            (FlowKey { lo: dst, hi: src }, false)
        }
    }

    /// The lower endpoint.
    pub fn lo(&self) -> SocketAddr {
        self.lo
    }

    /// The higher endpoint.
    pub fn hi(&self) -> SocketAddr {
        self.hi
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::hash_map::DefaultHasher;
    use std::hash::{Hash, Hasher};

    fn hash(k: &FlowKey) -> u64 {
        let mut h = DefaultHasher::new();
        k.hash(&mut h);
        h.finish()
    }

    #[test]
    fn both_directions_same_key_and_hash() {
        let a: SocketAddr = "10.0.0.2:40000".parse().unwrap();
        let b: SocketAddr = "10.0.0.1:80".parse().unwrap();
        let (k1, lo1) = FlowKey::new(a, b);
        let (k2, lo2) = FlowKey::new(b, a);
        assert_eq!(k1, k2);
        assert_eq!(hash(&k1), hash(&k2));
        assert_ne!(lo1, lo2);
        assert_eq!(k1.lo(), b);
    }

    #[test]
    fn v4_and_v6_differ() {
        let a: SocketAddr = "1.2.3.4:1".parse().unwrap();
        let b: SocketAddr = "[::ffff:1.2.3.4]:1".parse().unwrap();
        let c: SocketAddr = "5.6.7.8:2".parse().unwrap();
        assert_ne!(FlowKey::new(a, c).0, FlowKey::new(b, c).0);
    }
}
