//! # reservation-conformance
//!
//! One core, every host. The same calls run through:
//!
//! - **native**: `reservation-core` called directly ([`native`]);
//! - **edge**: the import-free `edge/` module inside wasmtime, embedded here ([`edge`]);
//! - **node** and **chromium**: the npm package (`host-wasm/pkg`) in Node and in headless
//!   Chromium, driven by `tests/js/harness.mjs` ([`js`]).
//!
//! Every answer must be identical after one canonical JSON encoding ([`native::canonical`]).
//! The calls come from the scenario files (`tests/scenarios/*.json`, with expected answers) and
//! from a seeded generator of random command sequences over random restaurants ([`generator`]).
//! [`compare`] runs them everywhere and, on a mismatch, shrinks the sequence.

pub mod compare;
pub mod edge;
pub mod generator;
pub mod invariants;
pub mod js;
pub mod native;
pub mod paths;
pub mod run;
