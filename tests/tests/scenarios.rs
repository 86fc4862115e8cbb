//! The scenario files through every host: native (checked against each expected answer),
//! wasmtime, Node and Chromium (each checked to answer exactly as native does, after canonical
//! JSON encoding, which means each also meets the expectations).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use reservation_conformance::compare::{Host, compare};
use reservation_conformance::native::{Resolved, check, coverage_gaps, load_dir};
use reservation_conformance::paths;
use reservation_conformance::run::Run;

fn resolved() -> Vec<Resolved> {
    let scenarios = load_dir(&paths::scenarios()).unwrap_or_else(|e| panic!("{e}"));
    scenarios
        .iter()
        .map(|s| s.resolve().unwrap_or_else(|e| panic!("{e}")))
        .collect()
}

#[test]
fn native_answers_are_the_expected_ones() {
    let mut failures = Vec::new();
    for scenario in resolved() {
        for (i, (expected, answer)) in scenario.expected.iter().zip(&scenario.answers).enumerate() {
            if let Err(difference) = check(expected, answer) {
                failures.push(format!("{} step {i}: {difference}", scenario.name));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn scenarios_cover_every_command_and_error_code() {
    let text = std::fs::read_to_string(paths::scenarios().join("_unreachable.json")).unwrap();
    let gaps = coverage_gaps(&resolved(), &serde_json::from_str(&text).unwrap());
    assert!(gaps.is_empty(), "coverage gaps:\n{}", gaps.join("\n"));
}

#[test]
fn every_host_answers_every_scenario_like_native() {
    let scenarios = resolved();
    let runs: Vec<Run> = scenarios
        .iter()
        .map(|s| Run {
            state: s.initial_state.clone(),
            ops: s.ops.clone(),
        })
        .collect();
    let label = |i: usize| format!("scenario tests/scenarios/{}.json", scenarios[i].name);
    let report = compare(&runs, &Host::ALL, &label).unwrap_or_else(|e| panic!("{e}"));
    eprintln!("scenarios: {}", report.summary());
    let details: Vec<&str> = report
        .mismatches
        .iter()
        .map(|m| m.detail.as_str())
        .collect();
    assert!(details.is_empty(), "{}", details.join("\n"));
}
