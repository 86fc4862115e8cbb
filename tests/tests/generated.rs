//! Seeded random command sequences over random restaurants, through every host.
//!
//!   CONFORMANCE_SEQUENCES=10000 cargo test -p reservation-conformance --test generated -- --nocapture
//!
//! `CONFORMANCE_SEQUENCES` (default 10000) sets how many sequences run, `CONFORMANCE_SEED`
//! (decimal or 0x-hex) the suite's seed, `CONFORMANCE_ONLY` one sequence's index to replay alone,
//! `CONFORMANCE_HOSTS` a comma-separated subset of wasmtime,node,chromium. A mismatch prints the
//! seed, the sequence and the smallest failing sequence (calls dropped while it still fails).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use reservation_conformance::compare::{Host, compare};
use reservation_conformance::generator::{DEFAULT_SEED, sequence, sequence_seed};
use reservation_conformance::invariants::{availability_disagreements, violations};
use reservation_conformance::run::Run;

fn env_u64(name: &str) -> Option<u64> {
    let text = std::env::var(name).ok()?;
    let text = text.trim();
    let parsed = match text.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => text.parse(),
    };
    Some(parsed.unwrap_or_else(|_| panic!("{name}={text} is not a number")))
}

fn hosts() -> Vec<Host> {
    match std::env::var("CONFORMANCE_HOSTS") {
        Err(_) => Host::ALL.to_vec(),
        Ok(list) => list
            .split(',')
            .map(|name| {
                Host::ALL
                    .into_iter()
                    .find(|h| h.name() == name.trim())
                    .unwrap_or_else(|| panic!("unknown host {name}"))
            })
            .collect(),
    }
}

#[test]
fn random_sequences_give_identical_answers_on_every_host() {
    let seed = env_u64("CONFORMANCE_SEED").unwrap_or(DEFAULT_SEED);
    let count = env_u64("CONFORMANCE_SEQUENCES").unwrap_or(10_000) as usize;
    let indices: Vec<u64> = match env_u64("CONFORMANCE_ONLY") {
        Some(only) => vec![only],
        None => (0..count as u64).collect(),
    };
    let started = std::time::Instant::now();
    let runs: Vec<Run> = indices
        .iter()
        .map(|&i| sequence(sequence_seed(seed, i)))
        .collect();
    let generated = started.elapsed();

    let broken: Vec<String> = runs
        .iter()
        .zip(&indices)
        .flat_map(|(run, i)| {
            violations(run)
                .into_iter()
                .map(move |v| format!("sequence {i}: {v}"))
        })
        .collect();
    assert!(
        broken.is_empty(),
        "invariants broken (seed {seed:#x}):\n{}",
        broken.join("\n")
    );

    let label = |k: usize| {
        format!(
            "seed {seed:#x}, sequence {} (replay: CONFORMANCE_SEED={seed:#x} CONFORMANCE_ONLY={})",
            indices[k], indices[k]
        )
    };
    let report = compare(&runs, &hosts(), &label).unwrap_or_else(|e| panic!("{e}"));
    eprintln!(
        "generated: seed {seed:#x}, {} sequences ({:.1}s to generate); {}",
        runs.len(),
        generated.as_secs_f64(),
        report.summary()
    );
    let details: Vec<&str> = report
        .mismatches
        .iter()
        .map(|m| m.detail.as_str())
        .collect();
    assert!(details.is_empty(), "{}", details.join("\n"));
}

#[test]
fn availability_lists_exactly_the_times_a_decision_confirms_unshifted() {
    // Every availability call of the first sequences, against a preview at every 15-minute mark.
    let seed = env_u64("CONFORMANCE_SEED").unwrap_or(DEFAULT_SEED);
    let count = env_u64("CONFORMANCE_SEQUENCES")
        .unwrap_or(10_000)
        .min(1_000);
    let broken: Vec<String> = (0..count)
        .flat_map(|i| {
            let run = sequence(sequence_seed(seed, i));
            availability_disagreements(&run)
                .into_iter()
                .map(move |d| format!("sequence {i}: {d}"))
        })
        .collect();
    assert!(broken.is_empty(), "seed {seed:#x}:\n{}", broken.join("\n"));
}

#[test]
fn the_generator_exercises_every_kind_of_call() {
    // Over a few hundred sequences every command, every other call and most outcomes occur, so a
    // generator change that stops producing one is noticed.
    let runs: Vec<Run> = (0..300)
        .map(|i| sequence(sequence_seed(DEFAULT_SEED, i)))
        .collect();
    let mut seen = std::collections::BTreeSet::new();
    for run in &runs {
        let transcript = reservation_conformance::run::native(run);
        for (op, answer) in run.ops.iter().zip(&transcript.answers) {
            let kind = op["op"].as_str().unwrap().to_string();
            let detail = match kind.as_str() {
                "decide" => op["command"]["type"].as_str().unwrap_or("?").to_string(),
                _ => kind.clone(),
            };
            seen.insert(format!("{detail}:{}", answer["type"].as_str().unwrap()));
            for error in answer["errors"].as_array().into_iter().flatten() {
                seen.insert(format!("code:{}", error["code"].as_str().unwrap()));
            }
            if let Some(events) = answer["events"].as_array() {
                for event in events {
                    seen.insert(format!("event:{}", event["type"].as_str().unwrap()));
                }
            }
        }
    }
    let wanted = [
        "register_restaurant:ok",
        "change_tables:ok",
        "change_opening_hours:ok",
        "change_policy:ok",
        "request_reservation:ok",
        "cancel_reservation:ok",
        "modify_reservation:ok",
        "seat_reservation:ok",
        "complete_reservation:ok",
        "mark_no_show:ok",
        "preview:ok",
        "availability:ok",
        "validate:ok",
        "evolve:ok",
        "event:reservation_confirmed",
        "event:reservation_rejected",
        "event:reservation_modified",
        "event:reservation_cancelled",
        "event:reservation_seated",
        "event:reservation_completed",
        "event:reservation_marked_no_show",
        "event:tables_released",
        "code:malformed_input",
        "code:no_table_available",
        "code:not_modifiable",
        "code:in_the_past",
        "code:beyond_horizon",
        "code:closed_on_date",
        "code:outside_opening_hours",
        "code:reservation_id_conflict",
        "code:invalid_party_size",
        "code:party_too_large",
        "code:invalid_name",
        "code:reservation_not_found",
    ];
    let missing: Vec<&str> = wanted
        .iter()
        .copied()
        .filter(|w| !seen.contains(*w))
        .collect();
    assert!(
        missing.is_empty(),
        "never generated: {missing:?}\nseen: {seen:?}"
    );
}
