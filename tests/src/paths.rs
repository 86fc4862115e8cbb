//! Where the suite's artefacts are, and the message when one is missing.

use std::path::PathBuf;

/// The workspace root.
pub fn root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(PathBuf::from).unwrap_or(manifest)
}

/// The optimised edge module built by `edge/build.sh` (or `RESERVATION_EDGE_WASM`).
pub fn edge_wasm() -> PathBuf {
    std::env::var_os("RESERVATION_EDGE_WASM")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            root()
                .join("edge")
                .join("dist")
                .join("reservation_edge.wasm")
        })
}

/// The npm package built by `host-wasm/build.sh`.
pub fn npm_package() -> PathBuf {
    root().join("host-wasm").join("pkg")
}

/// The JS harness and its `node_modules`.
pub fn js_dir() -> PathBuf {
    root().join("tests").join("js")
}

pub fn scenarios() -> PathBuf {
    root().join("tests").join("scenarios")
}

/// What to run when an artefact is missing.
pub const SETUP_HINT: &str = "run tests/setup.sh once (it builds edge/dist, host-wasm/pkg and installs tests/js/node_modules), or tests/run.sh for the whole suite";
