//! The reservation service: hosts `reservation-core` behind an HTTP API, on an event store.

pub mod store;
pub mod view;
