#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(clippy::indexing_slicing)]

mod config;
mod error;
mod event;
pub mod frame;
pub mod grpc;
pub mod hpack;
mod session;
mod stream;

pub use config::H2Config;
pub use error::{FrameError, H2Error, HpackError};
pub use event::{EndReason, GrpcMessage, GrpcStatus, H2Event};
pub use session::{H2Session, PREFACE};
