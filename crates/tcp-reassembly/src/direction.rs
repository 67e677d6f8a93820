//! Which way bytes travel within a TCP session, and a value per direction.

use std::ops::{Index, IndexMut};

/// The direction of a segment or of a byte stream within a session.
///
/// The client is the side that sent the first SYN (or, for a session picked up mid-stream,
/// the side chosen by the reassembler's documented heuristic).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// From the client to the server ("c2s").
    ClientToServer,
    /// From the server to the client ("s2c").
    ServerToClient,
}

impl Direction {
    /// The other direction.
    pub fn reverse(self) -> Direction {
        match self {
            Direction::ClientToServer => Direction::ServerToClient,
            Direction::ServerToClient => Direction::ClientToServer,
        }
    }

    /// The short name used in JSON output: `"c2s"` or `"s2c"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::ClientToServer => "c2s",
            Direction::ServerToClient => "s2c",
        }
    }
}

impl Direction {
    /// Both directions, client to server first (the order [`PerDir`] iterates in).
    pub const BOTH: [Direction; 2] = [Direction::ClientToServer, Direction::ServerToClient];
}

/// One value per direction of a session, indexed by [`Direction`]: `per[dir]`.
///
/// ```
/// use pcap_tcp_reassembly::{Direction, PerDir};
///
/// let mut bytes = PerDir::<u64>::default();
/// bytes[Direction::ServerToClient] += 512;
/// assert_eq!(bytes, PerDir::new(0, 512));
/// assert_eq!(bytes.map(|n| n * 2).iter().sum::<u64>(), 1024);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct PerDir<T> {
    /// The client-to-server value.
    pub c2s: T,
    /// The server-to-client value.
    pub s2c: T,
}

impl<T> PerDir<T> {
    /// The pair from its two values.
    pub const fn new(c2s: T, s2c: T) -> PerDir<T> {
        PerDir { c2s, s2c }
    }

    /// Applies `f` to each value, client to server first.
    pub fn map<U>(self, mut f: impl FnMut(T) -> U) -> PerDir<U> {
        let c2s = f(self.c2s);
        PerDir::new(c2s, f(self.s2c))
    }

    /// Borrows both values.
    pub const fn as_ref(&self) -> PerDir<&T> {
        PerDir::new(&self.c2s, &self.s2c)
    }

    /// Borrows both values mutably.
    pub fn as_mut(&mut self) -> PerDir<&mut T> {
        PerDir::new(&mut self.c2s, &mut self.s2c)
    }

    /// The values, client to server first.
    pub fn iter(&self) -> std::array::IntoIter<&T, 2> {
        [&self.c2s, &self.s2c].into_iter()
    }

    /// The values, mutably, client to server first.
    pub fn iter_mut(&mut self) -> std::array::IntoIter<&mut T, 2> {
        [&mut self.c2s, &mut self.s2c].into_iter()
    }
}

impl<T> Index<Direction> for PerDir<T> {
    type Output = T;

    #[inline]
    fn index(&self, dir: Direction) -> &T {
        match dir {
            Direction::ClientToServer => &self.c2s,
            Direction::ServerToClient => &self.s2c,
        }
    }
}

impl<T> IndexMut<Direction> for PerDir<T> {
    #[inline]
    fn index_mut(&mut self, dir: Direction) -> &mut T {
        match dir {
            Direction::ClientToServer => &mut self.c2s,
            Direction::ServerToClient => &mut self.s2c,
        }
    }
}

impl<T> IntoIterator for PerDir<T> {
    type Item = T;
    type IntoIter = std::array::IntoIter<T, 2>;

    fn into_iter(self) -> Self::IntoIter {
        [self.c2s, self.s2c].into_iter()
    }
}

impl<'a, T> IntoIterator for &'a PerDir<T> {
    type Item = &'a T;
    type IntoIter = std::array::IntoIter<&'a T, 2>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<'a, T> IntoIterator for &'a mut PerDir<T> {
    type Item = &'a mut T;
    type IntoIter = std::array::IntoIter<&'a mut T, 2>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter_mut()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_dir_is_indexed_by_direction() {
        let mut p = PerDir::new("a".to_string(), "b".to_string());
        p[Direction::ClientToServer].push('1');
        p[Direction::ServerToClient.reverse()].push('2');
        assert_eq!(p.as_ref().map(String::as_str), PerDir::new("a12", "b"));
        for (dir, v) in Direction::BOTH.into_iter().zip(&mut p) {
            v.push_str(dir.as_str());
        }
        assert_eq!(p.iter().collect::<Vec<_>>(), ["a12c2s", "bs2c"]);
        assert_eq!(p.into_iter().collect::<Vec<_>>(), ["a12c2s", "bs2c"]);
        let mut order = Vec::new();
        PerDir::new(1, 2).map(|n| order.push(n));
        assert_eq!(order, [1, 2]);
    }
}
