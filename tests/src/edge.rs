//! The edge module (`edge/`) inside wasmtime, through its documented ABI (`edge/ABI.md`) and
//! nothing else: a bare `Linker` with no imports, `alloc`/`dealloc` and the `*_json` exports.

use std::sync::OnceLock;

use serde_json::Value;
use wasmtime::{Engine, Instance, Linker, Memory, Module, Store, TypedFunc};

use crate::paths;
use crate::run::{Run, Transcript};

/// The engine and the compiled module, shared by every instance of the process: compiling
/// takes a while, instantiating does not.
pub struct EdgeModule {
    pub engine: Engine,
    pub module: Module,
    /// The optimised `.wasm` as built, for size checks.
    pub bytes: Vec<u8>,
}

static MODULE: OnceLock<Result<EdgeModule, String>> = OnceLock::new();

/// The module at [`paths::edge_wasm`], compiled once.
pub fn module() -> Result<&'static EdgeModule, String> {
    MODULE
        .get_or_init(|| {
            let path = paths::edge_wasm();
            let bytes = std::fs::read(&path).map_err(|e| {
                format!(
                    "cannot read the edge module {}: {e}; {}",
                    path.display(),
                    paths::SETUP_HINT
                )
            })?;
            let engine = Engine::default();
            let module = Module::new(&engine, &bytes)
                .map_err(|e| format!("cannot compile {}: {e:#}", path.display()))?;
            Ok(EdgeModule {
                engine,
                module,
                bytes,
            })
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// The entry points, in the order of [`crate::native::OPS`].
pub const EXPORTS: [&str; 5] = [
    "decide_json",
    "evolve_json",
    "preview_json",
    "availability_json",
    "validate_json",
];

/// One instance of the edge module, with a running state for `decide`/`evolve` runs.
pub struct Edge {
    store: Store<()>,
    memory: Memory,
    alloc: TypedFunc<u32, u32>,
    dealloc: TypedFunc<(u32, u32), ()>,
    entries: Vec<TypedFunc<(u32, u32), u64>>,
}

impl Edge {
    pub fn new() -> Result<Edge, String> {
        let shared = module()?;
        let mut store = Store::new(&shared.engine, ());
        // No imports are defined: instantiation fails if the module needs any.
        let linker: Linker<()> = Linker::new(&shared.engine);
        let instance: Instance = linker
            .instantiate(&mut store, &shared.module)
            .map_err(|e| format!("instantiate: {e:#}"))?;
        let memory = instance
            .get_memory(&mut store, "memory")
            .ok_or("the module exports no memory")?;
        let alloc = instance
            .get_typed_func(&mut store, "alloc")
            .map_err(|e| format!("alloc: {e:#}"))?;
        let dealloc = instance
            .get_typed_func(&mut store, "dealloc")
            .map_err(|e| format!("dealloc: {e:#}"))?;
        let entries = EXPORTS
            .iter()
            .map(|name| {
                instance
                    .get_typed_func(&mut store, name)
                    .map_err(|e| format!("{name}: {e:#}"))
            })
            .collect::<Result<_, _>>()?;
        Ok(Edge {
            store,
            memory,
            alloc,
            dealloc,
            entries,
        })
    }

    /// Calls export `index` of [`EXPORTS`] with `input`, returning the answer's bytes. A trap or
    /// a broken ABI promise is an `Err`.
    pub fn call_raw(&mut self, index: usize, input: &[u8]) -> Result<Vec<u8>, String> {
        let entry = self.entries.get(index).ok_or("no such export")?.clone();
        let len = u32::try_from(input.len()).map_err(|_| "input over 4 GiB")?;
        let ptr = self
            .alloc
            .call(&mut self.store, len)
            .map_err(|e| format!("alloc trapped: {e:#}"))?;
        if ptr == 0 {
            return Err("alloc returned 0".into());
        }
        self.memory
            .write(&mut self.store, ptr as usize, input)
            .map_err(|e| format!("write: {e}"))?;
        let packed = entry
            .call(&mut self.store, (ptr, len))
            .map_err(|e| format!("{} trapped: {e:#}", EXPORTS[index]));
        self.dealloc
            .call(&mut self.store, (ptr, len))
            .map_err(|e| format!("dealloc trapped: {e:#}"))?;
        let packed = packed?;
        let (out_ptr, out_len) = ((packed >> 32) as u32, packed as u32);
        if out_ptr == 0 {
            return Err("the answer could not be handed out (0)".into());
        }
        let mut answer = vec![0; out_len as usize];
        self.memory
            .read(&self.store, out_ptr as usize, &mut answer)
            .map_err(|e| format!("read: {e}"))?;
        self.dealloc
            .call(&mut self.store, (out_ptr, out_len))
            .map_err(|e| format!("dealloc trapped: {e:#}"))?;
        Ok(answer)
    }

    /// Calls export `index` on a buffer the caller names itself (possibly a wrong one), and returns
    /// the answer's bytes.
    pub fn call_at(&mut self, index: usize, ptr: u32, len: u32) -> Result<Vec<u8>, String> {
        let entry = self.entries.get(index).ok_or("no such export")?.clone();
        let packed = entry
            .call(&mut self.store, (ptr, len))
            .map_err(|e| format!("{} trapped: {e:#}", EXPORTS[index]))?;
        let (out_ptr, out_len) = ((packed >> 32) as u32, packed as u32);
        let mut answer = vec![0; out_len as usize];
        self.memory
            .read(&self.store, out_ptr as usize, &mut answer)
            .map_err(|e| format!("read: {e}"))?;
        self.dealloc
            .call(&mut self.store, (out_ptr, out_len))
            .map_err(|e| format!("dealloc trapped: {e:#}"))?;
        Ok(answer)
    }

    /// Calls an entry point with a JSON input and parses its answer.
    pub fn call_json(&mut self, index: usize, input: &str) -> Result<Value, String> {
        let answer = self.call_raw(index, input.as_bytes())?;
        serde_json::from_slice(&answer)
            .map_err(|e| format!("{} answered non-JSON: {e}", EXPORTS[index]))
    }

    /// The linear memory's size in bytes, to check that calls do not leak.
    pub fn memory_size(&self) -> usize {
        self.memory.data_size(&self.store)
    }

    /// Runs `run`, keeping the state as JSON text between calls like any host without Rust types.
    pub fn run(&mut self, run: &Run) -> Result<Transcript, String> {
        let mut state = run.state.to_string();
        let mut answers = Vec::with_capacity(run.ops.len());
        for op in &run.ops {
            let (answer, next) = self.step(&state, op)?;
            answers.push(answer);
            if let Some(next) = next {
                state = next;
            }
        }
        let state = serde_json::from_str(&state).map_err(|e| format!("state is not JSON: {e}"))?;
        Ok(Transcript { answers, state })
    }

    /// One call; returns the answer and, for `decide`/`evolve`, the new state text.
    fn step(&mut self, state: &str, op: &Value) -> Result<(Value, Option<String>), String> {
        let field = |name: &str| op.get(name).unwrap_or(&Value::Null).to_string();
        match op.get("op").and_then(Value::as_str) {
            Some("decide") => {
                let input = format!("{{\"state\":{state},\"command\":{}}}", field("command"));
                let answer = self.call_json(0, &input)?;
                let mut state = state.to_string();
                if answer["type"] == "ok" {
                    for event in answer["events"].as_array().into_iter().flatten() {
                        state = self.evolve(&state, &event.to_string())?;
                    }
                }
                Ok((answer, Some(state)))
            }
            Some("evolve") => {
                let input = format!("{{\"state\":{state},\"event\":{}}}", field("event"));
                let answer = self.call_json(1, &input)?;
                let next = (answer["type"] == "ok").then(|| answer["state"].to_string());
                Ok((answer, next))
            }
            Some("preview") => {
                let input = format!(
                    "{{\"snapshot\":{},\"request\":{},\"now\":{}}}",
                    field("snapshot"),
                    field("request"),
                    field("now")
                );
                Ok((self.call_json(2, &input)?, None))
            }
            Some("availability") => {
                let input = format!(
                    "{{\"snapshot\":{},\"party_size\":{},\"now\":{}}}",
                    field("snapshot"),
                    field("party_size"),
                    field("now")
                );
                Ok((self.call_json(3, &input)?, None))
            }
            Some("validate") => Ok((
                self.call_json(4, &format!("{{\"request\":{}}}", field("request")))?,
                None,
            )),
            other => Err(format!("unknown op {other:?}")),
        }
    }

    fn evolve(&mut self, state: &str, event: &str) -> Result<String, String> {
        let answer = self.call_json(1, &format!("{{\"state\":{state},\"event\":{event}}}"))?;
        if answer["type"] != "ok" {
            return Err(format!("evolve refused an event decide produced: {answer}"));
        }
        Ok(answer["state"].to_string())
    }
}
