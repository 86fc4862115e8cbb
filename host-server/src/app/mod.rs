//! The application layer between HTTP and the core: loads streams, asks the core to decide,
//! appends the events, retries on conflicts. No HTTP types here.

pub mod cache;
pub mod clock;
pub mod ids;
mod service;

pub use clock::{Clock, FixedClock, SystemClock};
pub use service::{APPEND_DURATION, App, AppError, DAY_LINE_WAIT, MAX_ATTEMPTS, Outcome, decode};
