//! The process allocator: jemalloc, one arena per CPU.
//!
//! glibc malloc spent about 25 % of a booking's CPU (fastbin consolidation). mimalloc, which
//! replaced it, spent about 18 %, a third of it in its slow path: a booking's buffers are allocated
//! on one thread and freed on another (the request's worker, the event store's writer, the
//! projector), and mimalloc collects such frees only when the allocating thread runs out of
//! room. Side by side (32 connections each) jemalloc took 0.90–0.93× the server's CPU per
//! booking (`host-server/PERFORMANCE.md`, section 16).
//!
//! jemalloc's default of four arenas per CPU spread the server's few threads over arenas of
//! their own and raised the peak RSS by up to 5 MiB; one arena per CPU (`percpu_arena`) kept it
//! within about 3 MiB of mimalloc's at the same CPU, and grows with the machine. Transparent huge
//! pages are off, as they were for mimalloc: a 2 MiB page holds on to memory the process no
//! longer uses. `_RJEM_MALLOC_CONF` in the environment still wins over these settings.

#![allow(unsafe_code)]

#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc's compiled-in options (its `malloc_conf`, under the `_rjem_` prefix that
/// tikv-jemalloc-sys gives every symbol): a C string, read once when the allocator starts.
// SAFETY: the symbol is read by jemalloc as a `const char *`; a reference to a byte array is
// that pointer, and the bytes end with the NUL it looks for. Nothing else defines the name.
#[unsafe(export_name = "_rjem_malloc_conf")]
static MALLOC_CONF: &[u8; 30] = b"percpu_arena:percpu,thp:never\0";

#[cfg(test)]
mod tests {
    use std::ffi::{CStr, c_char, c_void};

    /// Reads a string option of the running allocator.
    fn string_option(name: &CStr) -> String {
        let mut value: *const c_char = std::ptr::null();
        let mut size = std::mem::size_of::<*const c_char>();
        // SAFETY: `name` is a NUL-terminated option whose value is a `const char *`; `value`
        // and `size` describe room for exactly that pointer, and nothing is written.
        let status = unsafe {
            tikv_jemalloc_sys::mallctl(
                name.as_ptr(),
                (&raw mut value).cast::<c_void>(),
                &raw mut size,
                std::ptr::null_mut(),
                0,
            )
        };
        assert_eq!(status, 0, "mallctl {name:?}");
        assert!(!value.is_null());
        // SAFETY: jemalloc answered with a pointer to one of its static option names.
        unsafe { CStr::from_ptr(value) }
            .to_string_lossy()
            .into_owned()
    }

    #[test]
    fn the_compiled_in_options_are_in_effect() {
        if std::env::var_os("_RJEM_MALLOC_CONF").is_some() {
            return;
        }
        assert_eq!(string_option(c"opt.percpu_arena"), "percpu");
        assert_eq!(string_option(c"opt.thp"), "never");
    }
}
