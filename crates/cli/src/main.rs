//! `pcap-cli`: capture, decode and analyse packets from the terminal.

use clap::Parser;
use pcap_cli::args::Cli;

fn main() {
    let cli = Cli::parse();
    eprintln!("pcap-cli: {:?} not yet implemented", cli.command);
    std::process::exit(2);
}
