//! Everything the subcommands print about packets: the one-line summaries of `capture`, the
//! JSON lines writer shared by every `--json`, DNS as text and JSON, and the escaping of
//! strings that came off the wire ([`escape`]).
//!
//! `pcap-decode` hands over parsed data only; how it looks on a terminal or in JSON is
//! decided here.

pub mod direction;
pub mod dns;
pub mod dump;
pub mod escape;
pub mod icmp;
pub mod json;
pub mod numbers;
pub mod summary;
pub mod tls;
pub mod verbose;

pub use json::{write_json, write_json_with};
pub use summary::{write_summary, write_summary_with};
