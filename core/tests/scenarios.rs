//! The shared scenario files (`tests/scenarios/*.json`) run through the native core. The same
//! files, read by the same code (`tests/src/native.rs`), run through every other host in the
//! conformance suite (`tests/`), so the core's own expectations and the hosts' are one set.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../../tests/src/native.rs"]
mod native;

use native::{Resolved, check, coverage_gaps, load_dir, scenario_dir};

fn resolved() -> Vec<Resolved> {
    let dir = scenario_dir(env!("CARGO_MANIFEST_DIR"));
    let scenarios = load_dir(&dir).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        scenarios.len() >= 30,
        "only {} scenarios in {}",
        scenarios.len(),
        dir.display()
    );
    scenarios
        .iter()
        .map(|s| s.resolve().unwrap_or_else(|e| panic!("{e}")))
        .collect()
}

#[test]
fn every_scenario_gives_its_expected_answers() {
    let mut failures = Vec::new();
    let mut steps = 0;
    for scenario in resolved() {
        for (i, (expected, answer)) in scenario.expected.iter().zip(&scenario.answers).enumerate() {
            steps += 1;
            if let Err(difference) = check(expected, answer) {
                failures.push(format!("{} step {i}: {difference}", scenario.name));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {steps} steps differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn scenarios_cover_every_command_and_every_error_code() {
    let dir = scenario_dir(env!("CARGO_MANIFEST_DIR"));
    let unreachable: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("_unreachable.json")).unwrap())
            .unwrap();
    let gaps = coverage_gaps(&resolved(), &unreachable);
    assert!(gaps.is_empty(), "coverage gaps:\n{}", gaps.join("\n"));
}
