//! The process allocator: mimalloc, told to give freed memory back to the OS sooner.
//!
//! glibc malloc spent about 25 % of a booking's CPU (fastbin consolidation), so the server uses
//! mimalloc, without transparent huge pages (2 MiB pages would hold on to memory the process no
//! longer uses). mimalloc v3 returns an emptied page to the OS only after it stayed empty for a
//! second; under load pages empty and fill again all the time, so the process kept about 4 MiB
//! it was not using. With 10 ms (v2's delay) the peak RSS at 64 connections is 56.9 MiB instead
//! of 60.4, at no measurable CPU cost. mimalloc v2 itself gave the same memory but 4 % more CPU
//! per booking.
//!
//! The delay is set through mimalloc's C API, hence the one `unsafe` block of the server.
//! `MIMALLOC_PURGE_DELAY` in the environment still wins.

#![allow(unsafe_code)]

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay`: its place in mimalloc's `mi_option_t` (the same in v2 and v3). The
/// Rust bindings do not name it; the test below checks it against the option's default.
const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Milliseconds an emptied page stays mapped before it goes back to the OS.
const PURGE_DELAY_MS: std::ffi::c_long = 10;

/// Sets the purge delay unless the environment chose one. Call it first thing in `main`, while
/// no other thread exists: mimalloc's option setters are not thread safe.
pub fn return_freed_memory_sooner() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
        return;
    }
    // SAFETY: stores an integer in mimalloc's option table; the index is a valid option (see
    // the test), and `main` calls this before it starts any thread.
    unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, PURGE_DELAY_MS) };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_option_set_is_the_purge_delay() {
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
            return;
        }
        // SAFETY: reads an integer from mimalloc's option table; no other test sets options.
        let default = unsafe { libmimalloc_sys::mi_option_get(PURGE_DELAY) };
        assert_eq!(default, 1000, "mimalloc v3's purge delay, in milliseconds");
        return_freed_memory_sooner();
        // SAFETY: as above.
        let set = unsafe { libmimalloc_sys::mi_option_get(PURGE_DELAY) };
        assert_eq!(set, PURGE_DELAY_MS);
    }
}
