//! # reservation-core
//!
//! The restaurant-reservation domain as pure functions: no IO, no clock, no randomness. Hosts
//! load the streams a command needs, call [`decide`], append the events it returns, and fold
//! them with [`evolve`]. Times are civil (wall-clock) values in the restaurant's own zone; hosts
//! pass `now` and new ids in.
//!
//! - [`restaurant`], [`opening_hours`], [`policy`]: configuration.
//! - [`day_book`]: one service date's table occupancy, the consistency boundary of a booking.
//! - [`allocation`]: where a party sits, and availability, by one code path.
//! - [`reservation`]: a reservation's lifecycle.
//! - [`command`], [`event`]: the versioned wire vocabulary (see `core/EVENTS.md`).
//! - [`decider`]: `decide` and `evolve`.
//! - [`snapshot`], [`request`]: what browsers and edge functions preview against.
//! - [`json`]: decoding from a parsed JSON tree (small hand-written decoders, for the wasm hosts).

pub mod allocation;
pub mod command;
pub mod day_book;
pub mod decider;
pub mod error;
pub mod event;
pub mod ids;
pub mod json;
pub mod opening_hours;
pub mod policy;
pub mod request;
pub mod reservation;
pub mod restaurant;
mod small_sort;
pub mod snapshot;
pub mod specification;
pub mod stream;
pub mod time;
mod wire;

#[cfg(test)]
mod fixtures;

pub use command::Command;
pub use decider::{State, decide, evolve, streams_to_load};
pub use error::{DomainError, ErrorCode, ErrorKind};
pub use event::Event;
pub use wire::Upcaster;

/// Re-exported so hosts use the same civil types as the core.
pub use jiff::civil::{Date, DateTime};
