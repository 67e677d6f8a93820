//! Canonical, direction-free flow keys.

use std::hash::{Hash, Hasher};
use std::net::SocketAddr;

/// The 4-tuple of a TCP connection, stored with the lower endpoint first.
///
/// Both directions of a connection map to the same key (so the hash is symmetric by
/// construction), and the key is a fixed-size `Copy` value: looking a flow up allocates
/// nothing. IPv4 and IPv6 endpoints never compare equal, even for v4-mapped addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct FlowKey {
    lo: SocketAddr,
    hi: SocketAddr,
    /// The tunnel id (0: not tunnelled), the same in both directions.
    tunnel: u64,
}

/// One word per IPv4 endpoint (address and port) instead of the derived hash's five
/// writes: the key is hashed for every packet. Equal keys hash equally (the fields
/// hashed are a subset of those compared; IPv6 flow labels and scopes are not hashed).
impl Hash for FlowKey {
    // Inlined into the table lookup, where the hasher is known: out of line, the hash of
    // every packet's key costs about 50 instructions more (callgrind, mf60k).
    #[inline]
    fn hash<H: Hasher>(&self, state: &mut H) {
        for end in [self.lo, self.hi] {
            match end {
                SocketAddr::V4(a) => {
                    state.write_u64(u64::from(a.ip().to_bits()) << 16 | u64::from(a.port()));
                }
                SocketAddr::V6(a) => {
                    state.write_u128(a.ip().to_bits());
                    state.write_u16(a.port());
                }
            }
        }
        // Not hashed for untunnelled flows: the common case pays one compare.
        if self.tunnel != 0 {
            state.write_u64(self.tunnel);
        }
    }
}

impl FlowKey {
    /// The key of the flow between `src` and `dst` in tunnel `tunnel` (0 for none), and
    /// whether `src` is the lower endpoint (the direction bit).
    pub fn new(src: SocketAddr, dst: SocketAddr, tunnel: u64) -> (FlowKey, bool) {
        if src <= dst {
            (
                FlowKey {
                    lo: src,
                    hi: dst,
                    tunnel,
                },
                true,
            )
        } else {
            (
                FlowKey {
                    lo: dst,
                    hi: src,
                    tunnel,
                },
                false,
            )
        }
    }

    /// The tunnel id (0: not tunnelled).
    pub fn tunnel(&self) -> u64 {
        self.tunnel
    }

    /// The lower endpoint.
    pub fn lo(&self) -> SocketAddr {
        self.lo
    }

    /// Whether `a` and `b`, in either order, are this key's endpoints (no canonical key
    /// needed: the table compares keys against sessions' endpoints on every lookup).
    pub fn is(&self, a: SocketAddr, b: SocketAddr, tunnel: u64) -> bool {
        self.tunnel == tunnel && ((self.lo == a && self.hi == b) || (self.lo == b && self.hi == a))
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
        let (k1, lo1) = FlowKey::new(a, b, 0);
        let (k2, lo2) = FlowKey::new(b, a, 0);
        assert_eq!(k1, k2);
        assert_eq!(hash(&k1), hash(&k2));
        assert_ne!(lo1, lo2);
        assert_eq!(k1.lo(), b);
    }

    #[test]
    fn is_matches_either_order_only() {
        let a: SocketAddr = "10.0.0.2:40000".parse().unwrap();
        let b: SocketAddr = "10.0.0.1:80".parse().unwrap();
        let c: SocketAddr = "10.0.0.1:81".parse().unwrap();
        let (k, _) = FlowKey::new(a, b, 0);
        assert!(k.is(a, b, 0) && k.is(b, a, 0));
        assert!(!k.is(a, c, 0) && !k.is(a, a, 0) && !k.is(a, b, 7));
    }

    #[test]
    fn v4_and_v6_differ() {
        let a: SocketAddr = "1.2.3.4:1".parse().unwrap();
        let b: SocketAddr = "[::ffff:1.2.3.4]:1".parse().unwrap();
        let c: SocketAddr = "5.6.7.8:2".parse().unwrap();
        assert_ne!(FlowKey::new(a, c, 0).0, FlowKey::new(b, c, 0).0);
    }
}
