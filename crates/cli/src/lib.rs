//! The `pcap-cli` binary's implementation, kept in a library so that integration tests and
//! the `serve` web view can reach its parts.
#![forbid(unsafe_code)]

pub mod args;
pub mod cmd;
pub mod color;
mod defrag;
pub mod error;
pub mod exec;
#[cfg(feature = "parquet")]
mod export;
pub mod har;
pub mod input;
pub mod keys;
pub mod output;
mod parallel;
pub mod progress;
pub mod render;
pub mod serve;
mod summary;
mod trace;

use args::{Cli, Command};
use error::CliError;

/// Runs the parsed command line.
pub fn run(cli: Cli) -> Result<(), CliError> {
    if let Some(o) = cli.command.output() {
        output::set_time_format(o.time, o.utc);
    }
    match cli.command {
        Command::Devices(a) => cmd::devices::run(&a),
        Command::Capture(a) => cmd::capture::run(&a),
        Command::HttpTrace(a) => cmd::http_trace::run(&a),
        Command::Serve(a) => cmd::serve::run(&a),
        Command::Grep(a) => cmd::grep::run(&a),
        Command::Flows(a) => cmd::flows::run(&a),
        Command::Follow(a) => cmd::follow::run(&a),
        Command::Stats(a) => cmd::stats::run(&a),
        #[cfg(feature = "parquet")]
        Command::Export(a) => export::run(&a),
    }
}
