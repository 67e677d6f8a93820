//! Which way bytes travel within a TCP session.

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
