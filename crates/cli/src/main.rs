//! `pcap-cli`: capture, decode and analyse packets from the terminal.
//!
//! Every error ends the program with one line on stderr and exit code 2, after whatever was
//! decoded before it has been printed; a closed output pipe ends it quietly.

use clap::Parser;
use pcap_cli::args::Cli;

fn main() {
    let cli = Cli::parse();
    match pcap_cli::run(cli) {
        Ok(()) => {}
        Err(e) if e.is_broken_pipe() => {}
        Err(e) => {
            eprintln!("pcap-cli: {e}");
            std::process::exit(2);
        }
    }
}
