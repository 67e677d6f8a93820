//! `pcap-cli`: capture, decode and analyse packets from the terminal.
//!
//! Every error ends the program with one line on stderr and exit code 2, after whatever was
//! decoded before it has been printed; a closed output pipe ends it quietly. `grep` exits 1
//! without a message when nothing matched.

use clap::Parser;
use pcap_cli::args::{self, Cli};
use pcap_cli::error::CliError;

fn main() {
    let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let cli = match Cli::try_parse_from(&argv) {
        Ok(cli) => cli,
        Err(e) if args::is_old_grep_ignore_case(&e, &argv) => {
            eprintln!("pcap-cli: {}", args::GREP_I_MOVED);
            std::process::exit(2);
        }
        Err(e) => e.exit(),
    };
    match pcap_cli::run(cli) {
        Ok(()) => {}
        Err(e) if e.is_broken_pipe() => {}
        Err(CliError::NoMatch) => std::process::exit(1),
        Err(CliError::Exited(code)) => std::process::exit(code),
        Err(e) => {
            eprintln!("pcap-cli: {e}");
            std::process::exit(2);
        }
    }
}
