//! One module per subcommand.

pub mod capture;
pub mod devices;
pub mod flows;
pub mod follow;
pub mod follow_print;
pub mod grep;
pub mod http_trace;
pub mod rotate;
pub mod serve;
pub(crate) mod sessions;
pub mod stats;
