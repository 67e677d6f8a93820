//! TCP session tracking and ordered byte-stream reassembly with bounded memory.
#![forbid(unsafe_code)]

mod direction;

pub use direction::Direction;
