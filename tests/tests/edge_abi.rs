//! The edge module's ABI (edge/ABI.md) as any runtime sees it: no imports, the documented
//! exports, answers for any input (never a trap), wrong pointers answered, no leaks, and the
//! same bytes as the same code compiled natively. Also loaded by V8 with no glue at all.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use reservation_conformance::edge::{EXPORTS, Edge, module};
use reservation_conformance::generator::{Rng, sequence};
use reservation_conformance::paths;
use serde_json::{Value, json};
use wasmtime::{ExternType, ValType};

fn edge() -> Edge {
    Edge::new().unwrap_or_else(|e| panic!("{e}"))
}

/// The same JSON entry points compiled natively.
fn native(index: usize, input: &[u8]) -> Vec<u8> {
    use reservation_edge::api;
    [
        api::decide,
        api::evolve,
        api::preview,
        api::availability,
        api::validate,
    ][index](input)
}

#[test]
fn the_module_imports_nothing() {
    let module = &module().unwrap_or_else(|e| panic!("{e}")).module;
    let imports: Vec<String> = module
        .imports()
        .map(|i| format!("{}::{}", i.module(), i.name()))
        .collect();
    assert!(
        imports.is_empty(),
        "the edge module must import nothing, it imports {imports:?}"
    );
}

#[test]
fn the_module_exports_the_documented_abi() {
    let module = &module().unwrap_or_else(|e| panic!("{e}")).module;
    let func = |name: &str| match module.get_export(name) {
        Some(ExternType::Func(f)) => (
            f.params().map(|p| p.to_string()).collect::<Vec<_>>(),
            f.results().map(|r| r.to_string()).collect::<Vec<_>>(),
        ),
        other => panic!("{name}: {other:?}"),
    };
    let i32 = ValType::I32.to_string();
    let i64 = ValType::I64.to_string();
    assert_eq!(func("alloc"), (vec![i32.clone()], vec![i32.clone()]));
    assert_eq!(func("dealloc"), (vec![i32.clone(), i32.clone()], vec![]));
    assert_eq!(func("abi_version"), (vec![], vec![i32.clone()]));
    for name in EXPORTS {
        assert_eq!(
            func(name),
            (vec![i32.clone(), i32.clone()], vec![i64.clone()]),
            "{name}"
        );
    }
    assert!(matches!(
        module.get_export("memory"),
        Some(ExternType::Memory(_))
    ));
}

/// Inputs of every wrong kind, and valid inputs cut and bit-flipped.
fn garbage() -> Vec<Vec<u8>> {
    let mut inputs: Vec<Vec<u8>> = vec![
        b"".to_vec(),
        b"{".to_vec(),
        b"null".to_vec(),
        b"[]".to_vec(),
        b"\"state\"".to_vec(),
        b"{\"state\":{},\"command\":null}".to_vec(),
        b"{\"state\":[],\"command\":{}}".to_vec(),
        b"{\"state\":{},\"command\":{\"type\":\"request_reservation\"}}".to_vec(),
        b"{\"snapshot\":{},\"request\":{},\"now\":\"2026-12-08T18:00:00\"}".to_vec(),
        b"{\"snapshot\":{},\"party_size\":1e308,\"now\":7}".to_vec(),
        b"{\"request\":{\"name\":\"\\ud800\",\"party_size\":2,\"date\":\"2026-12-08\",\"time\":\"19:00\"}}".to_vec(),
        vec![0xff, 0xfe, 0x00, 0x7b],
        "[".repeat(100_000).into_bytes(),
        format!("{{\"request\":{{\"name\":\"{}\",\"party_size\":2,\"date\":\"2026-12-08\",\"time\":\"19:00\"}}}}", "é".repeat(50_000)).into_bytes(),
        format!("{{\"request\":{{\"name\":\"A\",\"party_size\":{},\"date\":\"2026-12-08\",\"time\":\"19:00\"}}}}", "9".repeat(400)).into_bytes(),
    ];
    let mut rng = Rng::new(6);
    for seed in 0..40 {
        let run = sequence(seed);
        for op in run.ops.iter().take(6) {
            let text = op.to_string().into_bytes();
            let cut = rng.range(0, text.len() as i64) as usize;
            inputs.push(text[..cut].to_vec());
            let mut flipped = text.clone();
            for _ in 0..3 {
                let at = rng.range(0, flipped.len() as i64 - 1) as usize;
                flipped[at] ^= 1 << rng.range(0, 7);
            }
            inputs.push(flipped);
        }
    }
    inputs
}

#[test]
fn any_input_gets_an_answer_never_a_trap() {
    let mut edge = edge();
    for input in garbage() {
        for (index, name) in EXPORTS.iter().enumerate() {
            let answer = edge.call_raw(index, &input).unwrap_or_else(|e| {
                panic!(
                    "{name} on {:?}: {e}",
                    String::from_utf8_lossy(&input[..input.len().min(200)])
                )
            });
            let value: Value = serde_json::from_slice(&answer)
                .unwrap_or_else(|e| panic!("{name}: not JSON ({e})"));
            assert!(
                value["type"] == "ok" || value["type"] == "error",
                "{name}: {value}"
            );
            assert_eq!(
                answer,
                native(index, &input),
                "{name}: wasmtime and native answer differently"
            );
        }
    }
}

#[test]
fn malformed_input_is_a_typed_error() {
    let mut edge = edge();
    let answer = edge
        .call_json(
            0,
            "{\"state\":{},\"command\":{\"type\":\"launch_rocket\",\"version\":1}}",
        )
        .unwrap();
    assert_eq!(answer["type"], "error");
    assert_eq!(answer["errors"][0]["code"], "malformed_input");
    assert!(
        answer["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("launch_rocket")
    );
}

#[test]
fn a_buffer_outside_memory_is_an_error_answer() {
    let mut edge = edge();
    let size = edge.memory_size() as u32;
    for (ptr, len) in [(size - 4, 100), (size, 1), (u32::MAX - 10, 20), (0, 16)] {
        let answer: Value = serde_json::from_slice(&edge.call_at(4, ptr, len).unwrap()).unwrap();
        assert_eq!(answer["type"], "error", "ptr {ptr} len {len}");
        assert_eq!(answer["errors"][0]["code"], "malformed_input");
    }
}

#[test]
fn memory_does_not_grow_with_use() {
    let mut edge = edge();
    let run = sequence(11);
    let inputs: Vec<String> = run
        .ops
        .iter()
        .filter(|op| op["op"] != "decide" && op["op"] != "evolve")
        .map(|op| {
            let mut args = op.clone();
            args.as_object_mut().unwrap().remove("op");
            args.to_string()
        })
        .collect();
    let call_all = |edge: &mut Edge| {
        for (op, input) in run
            .ops
            .iter()
            .filter(|op| op["op"] != "decide" && op["op"] != "evolve")
            .zip(&inputs)
        {
            let index = EXPORTS
                .iter()
                .position(|e| e.starts_with(op["op"].as_str().unwrap()))
                .unwrap();
            edge.call_raw(index, input.as_bytes()).unwrap();
        }
        let state = json!({}).to_string();
        edge.call_raw(0, format!("{{\"state\":{state},\"command\":{{\"type\":\"seat_reservation\",\"version\":1,\"reservation_id\":\"x\",\"now\":\"2026-12-08T19:00:00\"}}}}").as_bytes()).unwrap();
    };
    for _ in 0..50 {
        call_all(&mut edge);
    }
    let warm = edge.memory_size();
    for _ in 0..500 {
        call_all(&mut edge);
    }
    assert_eq!(
        edge.memory_size(),
        warm,
        "memory grew from {warm} bytes: a buffer is not freed"
    );
}

#[test]
fn v8_runs_the_module_without_glue() {
    // Node instantiates the module with an empty import object and calls it through the ABI only.
    let output =
        std::process::Command::new(std::env::var("NODE").unwrap_or_else(|_| "node".into()))
            .current_dir(paths::js_dir())
            .arg("edge-raw.mjs")
            .arg(paths::edge_wasm())
            .output()
            .unwrap_or_else(|e| panic!("cannot run node: {e}"));
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let answers: Value = serde_json::from_slice(&output.stdout).unwrap();
    let mut edge = edge();
    for (name, input, answer) in answers.as_array().unwrap().iter().map(|a| {
        (
            a["export"].as_str().unwrap(),
            a["input"].to_string(),
            &a["answer"],
        )
    }) {
        let index = EXPORTS.iter().position(|e| *e == name).unwrap();
        assert_eq!(
            &edge.call_json(index, &input).unwrap(),
            answer,
            "{name}: V8 and wasmtime answer differently"
        );
    }
}
