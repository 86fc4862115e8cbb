//! The exported ABI, documented in `edge/ABI.md`. This is the crate's only `unsafe` code: it turns
//! the host's (pointer, length) pairs into byte slices and hands answers out as owned buffers.
//!
//! Every buffer crossing the boundary is an allocation of exactly its length with alignment 1,
//! made by [`alloc`] (inputs) or by an entry point (answers), and freed by the host with
//! [`dealloc`]`(ptr, len)`. Inputs are only read during the call; the host still owns them.
#![allow(unsafe_code)]

use std::alloc::Layout;
use std::ptr::NonNull;

use reservation_core::{DomainError, ErrorCode};

use crate::api;

/// The version of this ABI; bumped on any incompatible change of the exports or answer form.
pub const ABI_VERSION: u32 = 1;

#[unsafe(no_mangle)]
pub extern "C" fn abi_version() -> u32 {
    ABI_VERSION
}

/// Allocates `len` bytes for the host to write an input into. Returns 0 when out of memory.
#[unsafe(no_mangle)]
pub extern "C" fn alloc(len: usize) -> *mut u8 {
    if len == 0 {
        return NonNull::<u8>::dangling().as_ptr();
    }
    match Layout::array::<u8>(len) {
        // SAFETY: the layout has a non-zero size; a null result (out of memory) is passed on.
        Ok(layout) => unsafe { std::alloc::alloc(layout) },
        Err(_) => std::ptr::null_mut(),
    }
}

/// Frees a buffer of `len` bytes returned by [`alloc`] or by an entry point.
///
/// # Safety
/// `ptr` must come from `alloc(len)` or be an answer's pointer with its exact length, and must not
/// be freed twice. Null pointers and zero lengths are ignored.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dealloc(ptr: *mut u8, len: usize) {
    if ptr.is_null() || len == 0 {
        return;
    }
    if let Ok(layout) = Layout::array::<u8>(len) {
        // SAFETY: the caller guarantees that `ptr` was allocated with this exact layout (both
        // `alloc` and answers use `Layout::array::<u8>(len)`) and is still live.
        unsafe { std::alloc::dealloc(ptr, layout) }
    }
}

/// # Safety
/// `ptr` must point to `len` readable bytes written by the host (normally from [`alloc`]).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn decide_json(ptr: *const u8, len: usize) -> u64 {
    // SAFETY: forwarded from this function's contract.
    unsafe { call(ptr, len, api::decide) }
}

/// # Safety
/// As [`decide_json`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn evolve_json(ptr: *const u8, len: usize) -> u64 {
    // SAFETY: forwarded from this function's contract.
    unsafe { call(ptr, len, api::evolve) }
}

/// # Safety
/// As [`decide_json`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn preview_json(ptr: *const u8, len: usize) -> u64 {
    // SAFETY: forwarded from this function's contract.
    unsafe { call(ptr, len, api::preview) }
}

/// # Safety
/// As [`decide_json`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn availability_json(ptr: *const u8, len: usize) -> u64 {
    // SAFETY: forwarded from this function's contract.
    unsafe { call(ptr, len, api::availability) }
}

/// # Safety
/// As [`decide_json`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn validate_json(ptr: *const u8, len: usize) -> u64 {
    // SAFETY: forwarded from this function's contract.
    unsafe { call(ptr, len, api::validate) }
}

/// Reads the input, runs `entry` and hands its answer out as `(ptr << 32) | len`; 0 when the
/// answer could not be handed out.
///
/// # Safety
/// `ptr` must point to `len` readable bytes that stay unchanged during the call.
unsafe fn call(ptr: *const u8, len: usize, entry: fn(&[u8]) -> Vec<u8>) -> u64 {
    let answer = if len == 0 {
        entry(&[])
    } else if ptr.is_null() || !in_memory(ptr, len) {
        api::errors(&[DomainError::new(
            ErrorCode::MalformedInput,
            "the input buffer lies outside the module's memory",
        )])
    } else {
        // SAFETY: `ptr` is non-null, `u8` needs no alignment, the range lies inside linear memory
        // (checked above on wasm32) and the caller guarantees it holds `len` initialised bytes
        // that nothing writes during the call (wasm is single-threaded here).
        entry(unsafe { std::slice::from_raw_parts(ptr, len) })
    };
    hand_out(answer)
}

/// Whether `[ptr, ptr + len)` lies inside linear memory, so a wrong pointer gives an error
/// answer instead of a trap.
#[cfg(target_arch = "wasm32")]
fn in_memory(ptr: *const u8, len: usize) -> bool {
    let size = core::arch::wasm32::memory_size(0).saturating_mul(65_536);
    (ptr as usize)
        .checked_add(len)
        .is_some_and(|end| end <= size)
}

/// Natively there is no linear memory to check against: the caller's contract is all there is.
#[cfg(not(target_arch = "wasm32"))]
fn in_memory(ptr: *const u8, len: usize) -> bool {
    (ptr as usize).checked_add(len).is_some()
}

/// Leaks the answer as a buffer of exactly its length and packs its address and length.
fn hand_out(answer: Vec<u8>) -> u64 {
    let len = answer.len();
    // `into_boxed_slice` shrinks the allocation to exactly `len`: `Layout::array::<u8>(len)`.
    let ptr = Box::into_raw(answer.into_boxed_slice()).cast::<u8>();
    match (u32::try_from(ptr as usize), u32::try_from(len)) {
        (Ok(address), Ok(length)) => (u64::from(address) << 32) | u64::from(length),
        _ => {
            // Only on 64-bit native builds, where the packed form cannot name the buffer.
            // SAFETY: `ptr` and `len` are the boxed slice leaked just above.
            drop(unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(ptr, len)) });
            0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_round_trip_through_alloc_and_dealloc() {
        let input =
            br#"{"request":{"name":"Ada","party_size":2,"date":"2026-12-08","time":"19:00"}}"#;
        let ptr = alloc(input.len());
        assert!(!ptr.is_null());
        // SAFETY: `ptr` holds `input.len()` bytes just allocated.
        unsafe {
            std::ptr::copy_nonoverlapping(input.as_ptr(), ptr, input.len());
            // Natively the 64-bit answer pointer does not fit the packed form: 0, nothing leaked.
            let packed = validate_json(ptr, input.len());
            if cfg!(target_pointer_width = "32") {
                assert_ne!(packed, 0);
            }
            dealloc(ptr, input.len());
        }
        assert_eq!(abi_version(), 1);
        // SAFETY: zero lengths and null pointers are ignored.
        unsafe { dealloc(std::ptr::null_mut(), 4) };
        assert!(!alloc(0).is_null());
    }
}
