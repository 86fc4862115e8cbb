//! The reservation service: hosts `reservation-core` behind an HTTP API, on an event store.

pub mod app;
pub mod auth;
pub mod config;
pub mod http;
pub mod projection;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod view;
mod wal_vfs;
