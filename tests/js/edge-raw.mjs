// The edge module in V8 with no glue at all: instantiated with an empty import object and called
// through the ABI of edge/ABI.md only. Prints [{export, input, answer}] for the Rust test
// (tests/tests/edge_abi.rs), which checks that wasmtime gives the same answers.
//
//   node edge-raw.mjs ../../edge/dist/reservation_edge.wasm
import { readFile } from 'node:fs/promises';

const { instance } = await WebAssembly.instantiate(await readFile(process.argv[2]), {});
const { memory, alloc, dealloc, abi_version } = instance.exports;
if (abi_version() !== 1) throw new Error(`ABI version ${abi_version()}`);

function call(name, args) {
  const input = new TextEncoder().encode(JSON.stringify(args));
  const ptr = alloc(input.length);
  if (ptr === 0) throw new Error('out of memory');
  new Uint8Array(memory.buffer, ptr, input.length).set(input);
  const packed = instance.exports[name](ptr, input.length);
  dealloc(ptr, input.length);
  const out = Number(packed >> 32n);
  const len = Number(packed & 0xffffffffn);
  const answer = JSON.parse(new TextDecoder().decode(new Uint8Array(memory.buffer, out, len)));
  dealloc(out, len);
  return { export: name, input: args, answer };
}

const restaurant = {
  id: 'r1', name: 'Chez Test', timezone: 'Europe/Berlin', tables: [{ id: 'T1', seats: 2 }, { id: 'T6', seats: 6 }],
  opening_hours: { tuesday: ['12:00-15:00', '18:00-02:00'] },
};
const registered = call('decide_json', { state: {}, command: { type: 'register_restaurant', version: 1, restaurant } });
const state = call('evolve_json', { state: {}, event: registered.answer.events[0] }).answer.state;
const request = {
  type: 'request_reservation', version: 1, reservation_id: 'res-1', restaurant_id: 'r1', user_id: 'u1',
  guest_name: 'Ada', party_size: 2, date: '2026-12-08', time: '01:00', now: '2026-12-01T10:00:00',
};
const snapshot = { snapshot_version: 1, restaurant, date: '2026-12-08', occupancy: [] };
const answers = [
  registered,
  call('decide_json', { state, command: request }),
  call('preview_json', { snapshot, request: { name: 'Ada', party_size: 6, date: '2026-12-08', time: '19:00' }, now: '2026-12-01T10:00:00' }),
  call('availability_json', { snapshot, party_size: 2, now: '2026-12-08T23:10:00' }),
  call('validate_json', { request: { name: ' ', party_size: 0, date: 'x', time: 'y' } }),
  call('decide_json', { state, command: { type: 'launch_rocket' } }),
];
for (const { export: name, answer } of answers) {
  if (answer.type !== 'ok' && answer.type !== 'error') throw new Error(`${name}: ${JSON.stringify(answer)}`);
}
process.stdout.write(JSON.stringify(answers));
