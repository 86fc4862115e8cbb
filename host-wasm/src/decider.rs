//! `decide(state, command)` and `evolve(state, event)` for clients that hold events themselves.
//! State, commands and events have the core's documented JSON forms.

use reservation_core::{Command, Event, State, decide as core_decide, evolve as core_evolve};
use serde::Serialize;
use wasm_bindgen::prelude::*;

use crate::answer::{Answer, from_js, to_js};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decided {
    pub events: Vec<Event>,
}

pub fn decide_answer(state: &State, command: &Command) -> Answer<Decided> {
    core_decide(command, state)
        .map(|events| Decided { events })
        .into()
}

/// `{type: "ok", events}` (possibly none: a repeat changes nothing) or `{type: "error", errors}`.
#[wasm_bindgen(js_name = decide)]
pub fn decide(state: JsValue, command: JsValue) -> Result<JsValue, JsValue> {
    let state: State = from_js(&state, "state")?;
    let command: Command = from_js(&command, "command")?;
    to_js(&decide_answer(&state, &command))
}

/// The state after one event. Total: only a value of the wrong shape is refused (thrown).
#[wasm_bindgen(js_name = evolve)]
pub fn evolve(state: JsValue, event: JsValue) -> Result<JsValue, JsValue> {
    let state: State = from_js(&state, "state")?;
    let event: Event = from_js(&event, "event")?;
    to_js(&core_evolve(state, &event))
}

/// The state after several events, in order, converted once.
#[wasm_bindgen(js_name = evolveAll)]
pub fn evolve_all(state: JsValue, events: JsValue) -> Result<JsValue, JsValue> {
    let state: State = from_js(&state, "state")?;
    let events: Vec<Event> = from_js(&events, "events")?;
    to_js(&events.iter().fold(state, core_evolve))
}
