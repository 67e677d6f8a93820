//! One module per subcommand.

pub mod capture;
pub mod devices;
pub mod http_trace;
pub mod serve;
