//! # reservation-edge
//!
//! `reservation-core` for any WebAssembly runtime: a `wasm32-unknown-unknown` module with no
//! imports at all and a plain JSON-in / JSON-out ABI, documented in `edge/ABI.md`. It is as thin as
//! the npm package: it decodes JSON, calls the core and encodes the core's answer in the same
//! tagged form (`{"type":"ok",…}` / `{"type":"error","errors":[…]}`).
//!
//! - [`api`]: the safe functions, bytes in, bytes out; they never panic.
//! - `abi`: the exported `extern "C"` functions (`alloc`, `dealloc`, `decide_json`, …), the only
//!   `unsafe` code.

mod abi;
pub mod api;
