//! Packet capture: pcap and pcapng files (pure Rust) and live devices (libpcap).
//!
//! Every packet, wherever it comes from, is a [`Packet`]: a nanosecond timestamp, the
//! captured and original lengths, the link type, the interface index and the bytes, borrowed
//! from the reader.
#![forbid(unsafe_code)]

mod packet;

pub use packet::{LinkType, Packet};
