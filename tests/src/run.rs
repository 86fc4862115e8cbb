//! A run: a starting state and the calls made from it, in the JSON form every host reads.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::native::{Native, canonical};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Run {
    /// The state JSON the host starts from (`{}`: nothing known).
    pub state: Value,
    pub ops: Vec<Value>,
}

/// What a host answered to a run: one answer per call, and the state it ended with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transcript {
    pub answers: Vec<Value>,
    pub state: Value,
}

impl Transcript {
    /// The canonical encoding of the whole transcript.
    pub fn canonical(&self) -> String {
        canonical(&json!({"answers": self.answers, "state": self.state}))
    }

    /// SHA-256 of [`Transcript::canonical`], hex: what the JS hosts report for each run.
    pub fn digest(&self) -> String {
        digest(&self.canonical())
    }
}

pub fn digest(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Runs `run` natively.
pub fn native(run: &Run) -> Transcript {
    let mut host = match serde_json::from_value(run.state.clone()) {
        Ok(state) => Native::new(state),
        Err(_) => Native::default(),
    };
    // The final state is the JSON the host holds: the starting state until a call changes it,
    // as for every other host.
    let mut state = run.state.clone();
    let mut answers = Vec::with_capacity(run.ops.len());
    for op in &run.ops {
        let answer = host.call(op);
        let changed = answer["type"] == "ok"
            && (op["op"] == "evolve"
                || answer["events"]
                    .as_array()
                    .is_some_and(|events| !events.is_empty()));
        if changed {
            state = serde_json::to_value(&host.state).unwrap_or(Value::Null);
        }
        answers.push(answer);
    }
    Transcript { answers, state }
}
