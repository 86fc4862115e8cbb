//! Any bytes: decode as a command, an event, a state, a snapshot or a request; whatever decodes
//! is decided, evolved, previewed. Nothing may panic, whatever the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use reservation_core::request::{ReservationRequest, preview};
use reservation_core::snapshot::DaySnapshot;
use reservation_core::{Command, Event, State, decide, evolve};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(value) = serde_json::from_str::<serde_json::Value>(text) else { return };
    let state: State = serde_json::from_value(value.get("state").cloned().unwrap_or_default()).unwrap_or_default();
    if let Ok(command) = serde_json::from_value::<Command>(value.get("command").cloned().unwrap_or_default()) {
        if let Ok(events) = decide(&command, &state) {
            let after = events.iter().fold(state.clone(), evolve);
            let _ = serde_json::to_string(&after);
        }
    }
    if let Ok(event) = serde_json::from_value::<Event>(value.get("event").cloned().unwrap_or_default()) {
        let _ = serde_json::to_string(&evolve(state.clone(), &event));
    }
    if let Ok(snapshot) = serde_json::from_value::<DaySnapshot>(value.get("snapshot").cloned().unwrap_or_default()) {
        let now = value
            .get("now")
            .and_then(|n| n.as_str())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| snapshot.date.at(10, 0, 0, 0));
        let _ = snapshot.availability(4, now);
        if let Ok(request) = serde_json::from_value::<ReservationRequest>(value.get("request").cloned().unwrap_or_default()) {
            let _ = preview(&snapshot, &request, now);
        }
    }
});
