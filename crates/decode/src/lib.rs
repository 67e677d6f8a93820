//! Zero-copy, never-panicking packet decoding from link layer to DNS.
#![forbid(unsafe_code)]

pub mod defrag;
pub mod dns;
