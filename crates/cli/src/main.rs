//! `pcap-cli`: capture, decode and analyse packets from the terminal.
//!
//! Every error ends the program with one line on stderr and exit code 2, after whatever was
//! decoded before it has been printed; a closed output pipe ends it quietly. `grep` exits 1
//! without a message when nothing matched.

use clap::Parser;
use pcap_cli::args::Cli;
use pcap_cli::error::CliError;

fn main() {
    let cli = Cli::parse();
    match pcap_cli::run(cli) {
        Ok(()) => {}
        Err(e) if e.is_broken_pipe() => {}
        Err(CliError::NoMatch) => std::process::exit(1),
        Err(e) => {
            eprintln!("pcap-cli: {e}");
            std::process::exit(2);
        }
    }
}
