//! Runs the same runs on every host and compares the canonical transcripts with the native
//! one. On a mismatch it shrinks the run by dropping calls while the host still disagrees, and
//! reports the smallest failing run with the first call whose answers differ.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::edge::Edge;
use crate::js::{self, JsHost, Mode, Outcome};
use crate::native::canonical;
use crate::run::{self, Run, Transcript};

/// The non-native hosts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Host {
    Edge,
    Js(JsHost),
}

impl Host {
    pub const ALL: [Host; 3] = [
        Host::Edge,
        Host::Js(JsHost::Node),
        Host::Js(JsHost::Chromium),
    ];

    pub fn name(self) -> &'static str {
        match self {
            Host::Edge => "wasmtime",
            Host::Js(js) => js.name(),
        }
    }
}

/// One run on which a host disagrees with native.
#[derive(Debug, Clone)]
pub struct Mismatch {
    pub host: Host,
    pub index: usize,
    pub detail: String,
}

/// What a comparison found.
#[derive(Debug, Default)]
pub struct Report {
    pub runs: usize,
    pub calls: usize,
    pub native: Vec<Transcript>,
    pub mismatches: Vec<Mismatch>,
    pub timings: Vec<(&'static str, Duration)>,
}

impl Report {
    pub fn summary(&self) -> String {
        let mut out = format!("{} runs, {} calls;", self.runs, self.calls);
        for (host, time) in &self.timings {
            let _ = write!(out, " {host} {:.1}s", time.as_secs_f64());
        }
        out
    }
}

/// How many mismatching runs per host are shrunk and reported.
const REPORTED: usize = 3;

/// Runs `runs` natively and on `hosts`, and compares. `label(i)` names run `i` in reports (its
/// seed or scenario), so that it can be replayed.
pub fn compare(
    runs: &[Run],
    hosts: &[Host],
    label: &dyn Fn(usize) -> String,
) -> Result<Report, String> {
    let started = Instant::now();
    // The JS hosts work in their own processes while this thread runs native and wasmtime.
    let jobs: Vec<(JsHost, Instant, js::Job)> = hosts
        .iter()
        .filter_map(|h| match h {
            Host::Js(js) => Some(*js),
            Host::Edge => None,
        })
        .map(|js| js::start(js, runs, Mode::Digest).map(|job| (js, Instant::now(), job)))
        .collect::<Result<_, _>>()?;
    let mut report = Report {
        runs: runs.len(),
        calls: runs.iter().map(|r| r.ops.len()).sum(),
        ..Report::default()
    };

    let t = Instant::now();
    report.native = runs.iter().map(run::native).collect();
    let native_text: Vec<String> = report.native.iter().map(Transcript::canonical).collect();
    report.timings.push(("native", t.elapsed()));

    let mut failing: Vec<(Host, usize, String)> = Vec::new();
    if hosts.contains(&Host::Edge) {
        let t = Instant::now();
        let mut edge = Edge::new()?;
        for (i, run) in runs.iter().enumerate() {
            match edge.run(run) {
                Ok(transcript) if transcript.canonical() == native_text[i] => {}
                Ok(_) => failing.push((Host::Edge, i, String::new())),
                Err(e) => failing.push((Host::Edge, i, e)),
            }
        }
        report.timings.push(("wasmtime", t.elapsed()));
    }

    let native_digest: Vec<String> = native_text.iter().map(|t| run::digest(t)).collect();
    for (host, t, job) in jobs {
        let outcomes = job.wait()?;
        report.timings.push((host.name(), t.elapsed()));
        for (i, outcome) in outcomes.into_iter().enumerate() {
            match outcome {
                Outcome::Digest(d) if d == native_digest[i] => {}
                Outcome::Failed(e) => failing.push((Host::Js(host), i, e)),
                _ => failing.push((Host::Js(host), i, String::new())),
            }
        }
    }

    for host in hosts {
        let mine: Vec<&(Host, usize, String)> =
            failing.iter().filter(|(h, _, _)| h == host).collect();
        for (_, index, error) in mine.iter().take(REPORTED) {
            let detail = explain(*host, &runs[*index], error, &label(*index))?;
            report.mismatches.push(Mismatch {
                host: *host,
                index: *index,
                detail,
            });
        }
        if mine.len() > REPORTED {
            report.mismatches.push(Mismatch {
                host: *host,
                index: usize::MAX,
                detail: format!(
                    "… and {} more runs on which {} disagrees",
                    mine.len() - REPORTED,
                    host.name()
                ),
            });
        }
    }
    report.timings.push(("total", started.elapsed()));
    Ok(report)
}

/// Whether `host` disagrees with native on each of `runs`.
fn disagrees(host: Host, runs: &[Run]) -> Result<Vec<bool>, String> {
    let native: Vec<String> = runs.iter().map(|r| run::native(r).canonical()).collect();
    match host {
        Host::Edge => {
            let mut edge = Edge::new()?;
            Ok(runs
                .iter()
                .zip(&native)
                .map(|(run, want)| edge.run(run).map_or(true, |t| &t.canonical() != want))
                .collect())
        }
        Host::Js(js) => Ok(js::run(js, runs, Mode::Digest)?
            .into_iter()
            .zip(&native)
            .map(|(outcome, want)| !matches!(outcome, Outcome::Digest(d) if d == run::digest(want)))
            .collect()),
    }
}

/// `host`'s full transcript of `run`.
fn transcript(host: Host, run: &Run) -> Result<Transcript, String> {
    match host {
        Host::Edge => Edge::new()?.run(run),
        Host::Js(js) => match js::run(js, std::slice::from_ref(run), Mode::Full)?.pop() {
            Some(Outcome::Transcript(t)) => Ok(t),
            Some(Outcome::Failed(e)) => Err(e),
            other => Err(format!("unexpected outcome {other:?}")),
        },
    }
}

/// Drops calls while `host` still disagrees: the smallest failing run.
pub fn shrink(host: Host, run: &Run) -> Result<Run, String> {
    let mut current = run.clone();
    loop {
        let mut candidates: Vec<Run> = (0..current.ops.len())
            .map(|skip| Run {
                state: current.state.clone(),
                ops: current
                    .ops
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| *i != skip)
                    .map(|(_, op)| op.clone())
                    .collect(),
            })
            .collect();
        if candidates.is_empty() {
            return Ok(current);
        }
        match disagrees(host, &candidates)?.iter().position(|&d| d) {
            Some(i) => current = candidates.swap_remove(i),
            None => return Ok(current),
        }
    }
}

fn explain(host: Host, run: &Run, error: &str, label: &str) -> Result<String, String> {
    let smallest = shrink(host, run)?;
    let mut out = format!(
        "MISMATCH on {}: {label}\nsmallest failing run ({} of {} calls):\n{}\n",
        host.name(),
        smallest.ops.len(),
        run.ops.len(),
        serde_json::to_string(&smallest).unwrap_or_default()
    );
    if !error.is_empty() {
        let _ = writeln!(out, "the host failed on the original run: {error}");
    }
    let native = run::native(&smallest);
    match transcript(host, &smallest) {
        Err(e) => {
            let _ = writeln!(out, "{} failed: {e}", host.name());
        }
        Ok(theirs) => {
            let first = native
                .answers
                .iter()
                .zip(&theirs.answers)
                .position(|(a, b)| canonical(a) != canonical(b));
            match first {
                Some(i) => {
                    let _ = write!(
                        out,
                        "first different answer, call {i}: {}\n  native:   {}\n  {:<9} {}\n",
                        canonical(smallest.ops.get(i).unwrap_or(&Value::Null)),
                        canonical(&native.answers[i]),
                        format!("{}:", host.name()),
                        canonical(&theirs.answers[i])
                    );
                }
                None => {
                    let _ = write!(
                        out,
                        "same answers, different final state\n  native:   {}\n  {:<9} {}\n",
                        canonical(&native.state),
                        format!("{}:", host.name()),
                        canonical(&theirs.state)
                    );
                }
            }
        }
    }
    Ok(out)
}
