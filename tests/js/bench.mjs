// The Node side of `cargo bench -p reservation-conformance --bench decision`: median time per
// preview decision with the npm package, for the snapshot, request and now in the given file.
// Prints {previewReservation, prepared, answer} (seconds per call, and the preview decided).
import { readFileSync } from 'node:fs';
import { previewReservation, PreparedSnapshot } from 'reservation-wasm';

const { snapshot, request, now, samples } = JSON.parse(readFileSync(process.argv[2], 'utf8'));

function median(batch, f) {
  for (let i = 0; i < batch * 5; i++) f();
  const times = [];
  for (let s = 0; s < samples; s++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < batch; i++) f();
    times.push(Number(process.hrtime.bigint() - start) / 1e9 / batch);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(samples / 2)];
}

const answer = previewReservation(snapshot, request, now);
if (answer.type !== 'ok') throw new Error(`unexpected answer ${JSON.stringify(answer)}`);
const prepared = new PreparedSnapshot(snapshot);
const result = {
  previewReservation: median(20, () => previewReservation(snapshot, request, now)),
  prepared: median(50, () => prepared.preview(request, now)),
  answer: JSON.parse(JSON.stringify(answer.preview)),
};
prepared.free();
process.stdout.write(JSON.stringify(result));
