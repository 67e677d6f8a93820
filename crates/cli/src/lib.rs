//! The `pcap-cli` binary's implementation, kept in a library so that integration tests and
//! the `serve` web view can reach its parts.
#![forbid(unsafe_code)]

pub mod args;
pub mod cmd;
pub mod color;
pub mod error;
pub mod input;
pub mod output;

use args::{Cli, Command};
use error::CliError;

/// Runs the parsed command line.
pub fn run(cli: Cli) -> Result<(), CliError> {
    match cli.command {
        Command::Devices(a) => cmd::devices::run(&a),
        Command::Capture(a) => cmd::capture::run(&a),
        Command::Grep(a) => cmd::grep::run(&a),
        Command::Flows(a) => cmd::flows::run(&a),
        Command::Follow(a) => cmd::follow::run(&a),
        other => Err(CliError::Serve(format!("{other:?}: not implemented yet"))),
    }
}
