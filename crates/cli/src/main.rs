//! `pcap-cli`: capture, decode and analyse packets from the terminal.

fn main() {
    eprintln!("pcap-cli: not yet implemented");
    std::process::exit(2);
}
