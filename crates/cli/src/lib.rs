//! The `pcap-cli` binary's implementation, kept in a library so that integration tests and
//! the `serve` web view can reach its parts.
#![forbid(unsafe_code)]

pub mod serve;
