//! # reservation-wasm
//!
//! `reservation-core` for JavaScript: browsers, Node and edge runtimes validate and preview
//! reservation requests with exactly the server's rules, offline. This crate is only the
//! boundary: it converts values between JS and the core's types and tags the answers. Every rule
//! lives in the core.
//!
//! The exports below are the *raw* layer. The npm package (`host-wasm/build.sh`) wraps them in a
//! small JS layer (`host-wasm/js/api.js`) that converts `now` from an instant to the
//! restaurant's civil time with `Intl`, and rethrows misuse as `MalformedInputError`.
//!
//! - `validateReservation` is in [`request`];
//! - `previewReservation`, `availability` and `PreparedSnapshot` are in [`snapshot`];
//! - `decide`, `evolve` and `evolveAll` are in [`decider`];
//! - the tagged answers, the JSON boundary and the typed misuse error are in [`answer`].

pub mod answer;
pub mod decider;
pub mod request;
pub mod snapshot;
