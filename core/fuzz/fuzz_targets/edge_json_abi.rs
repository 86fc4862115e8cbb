//! Any bytes into every JSON entry point of the edge module (`reservation-edge`, called natively:
//! the same safe functions the wasm exports wrap). Nothing may panic, and every answer must be a
//! JSON object tagged `ok` or `error`, whatever the input.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    type Entry = fn(&[u8]) -> Vec<u8>;
    let entries: [(&str, Entry); 5] = [
        ("decide", reservation_edge::api::decide),
        ("evolve", reservation_edge::api::evolve),
        ("preview", reservation_edge::api::preview),
        ("availability", reservation_edge::api::availability),
        ("validate", reservation_edge::api::validate),
    ];
    for (name, entry) in entries {
        let answer = entry(data);
        let value: serde_json::Value = match serde_json::from_slice(&answer) {
            Ok(value) => value,
            Err(e) => panic!("{name} answered with invalid JSON ({e}): {}", String::from_utf8_lossy(&answer)),
        };
        let tag = value.get("type").and_then(|t| t.as_str());
        assert!(
            matches!(tag, Some("ok" | "error")),
            "{name} answered without an ok/error tag: {value}"
        );
    }
});
