//! One summary line per packet, like node_pcap's `simple_capture`: frame number, timestamp,
//! then every decoded layer (addresses, ports, TCP flags, DNS questions, ...).
//!
//! Shows the two bottom crates on their own: [`Source`] yields packets from a file or a live
//! device, [`decode_packet`] decodes them without copying, and [`write_summary`] formats them
//! without allocating. (Inside the pipeline, `Handler::packet` gets the same [`Decoded`].)
//!
//! ```text
//! $ cargo run -p pcap-analyzer --example simple_capture -- tests/data/sample-http-ws.pcap
//! 1 1700000000.000025 02:00:00:00:fe:01 -> 02:00:00:00:00:01 [2001:db8:1::1]:36510 -> [2001:db8:ffff::82]:80 TCP [S] seq 328182931 win 65535 len 0
//! $ sudo target/debug/examples/simple_capture -i lo    # live; Ctrl-C stops
//! ```
//!
//! [`Decoded`]: pcap_decode::Decoded

use std::io::Write;

use pcap_capture::Source;
use pcap_capture::live::LiveOptions;
use pcap_decode::{decode_packet, write_summary};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut source = match args.as_slice() {
        [flag, device] if flag == "-i" => Source::open_live(device, &LiveOptions::default())?,
        [path] => Source::open_file(path)?,
        _ => return Err("usage: simple_capture FILE | simple_capture -i IFACE".into()),
    };
    // Written through a lock with `?`, so `| head` ends the program quietly.
    let mut out = std::io::stdout().lock();
    let mut frame = 0u64;
    let mut line = String::new();
    while let Some(packet) = source.next_packet()? {
        frame += 1;
        let decoded = decode_packet(packet.link_type, packet.data);
        line.clear();
        write_summary(&mut line, &decoded)?;
        let (secs, ns) = (
            packet.ts_ns.div_euclid(1_000_000_000),
            packet.ts_ns.rem_euclid(1_000_000_000),
        );
        writeln!(out, "{frame} {secs}.{:06} {line}", ns / 1000)?;
    }
    Ok(())
}
