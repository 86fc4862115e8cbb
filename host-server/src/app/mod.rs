//! The application layer between HTTP and the core: loads streams, asks the core to decide,
//! appends the events, retries on conflicts. No HTTP types here.

pub mod cache;
pub mod clock;
pub mod ids;
mod service;

pub use clock::{Clock, FixedClock, SystemClock};
pub use service::{App, AppError, MAX_ATTEMPTS, Outcome, decode};
