// The Node side of host-wasm/bench.sh: the npm package (node flavour) asked the same questions
// on the same snapshot as examples/bench_native.rs, timed the same way.
//   node bench/node.mjs BENCH_JSON
// Prints one JSON line per measurement: {"name", "median_us", "runs"}. Times are the process's
// CPU time (process.cpuUsage, so a busy machine does not inflate them).
import { readFileSync } from 'node:fs';
import { previewReservation, PreparedSnapshot, availability } from 'reservation-wasm';

const RUNS = 9;

function measure(name, f) {
  const start = performance.now();
  let calls = 0;
  while (performance.now() - start < 200) {
    f();
    calls += 1;
  }
  const perRun = Math.max(10, Math.floor((calls * 3) / 2));
  const runs = [];
  for (let r = 0; r < RUNS; r += 1) {
    const t0 = process.cpuUsage();
    for (let i = 0; i < perRun; i += 1) f();
    const { user, system } = process.cpuUsage(t0);
    runs.push((user + system) / perRun);
  }
  runs.sort((a, b) => a - b);
  console.log(JSON.stringify({ name, median_us: runs[Math.floor(RUNS / 2)], runs, calls_per_run: perRun }));
}

const bench = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const { snapshot, request, now, party_size: partySize } = bench;
const prepared = new PreparedSnapshot(snapshot);
let sink = 0;
const check = (answer) => {
  if (answer.type !== 'ok') throw new Error(JSON.stringify(answer));
  sink += 1;
};

measure('preview', () => check(prepared.preview(request, now)));
measure('availability', () => check(prepared.availability(partySize, now)));
measure('preview_from_json', () => check(previewReservation(snapshot, request, now)));
measure('availability_from_json', () => check(availability(snapshot, partySize, now)));
if (sink === 0) throw new Error('nothing measured');
