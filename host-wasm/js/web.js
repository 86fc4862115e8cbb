// Browser and edge flavour (ESM): wasm-bindgen's `web` output. Call `await init()` (which
// fetches `reservation_wasm_bg.wasm` next to this file) or `initSync({ module })` with the
// bytes or a compiled `WebAssembly.Module` (edge runtimes that import .wasm as modules).
import rawInit, * as raw from './reservation_wasm.js';
import { makeApi, MalformedInputError, toRestaurantTime } from '../api.js';

let initialized = false;

export default async function init(options) {
  await rawInit(options);
  initialized = true;
}

export function initSync(options) {
  raw.initSync(options);
  initialized = true;
}

function ready() {
  if (!initialized) {
    throw new Error('reservation-wasm: call `await init()` (or `initSync(...)`) before using the web flavour');
  }
}

export const {
  validateReservation,
  previewReservation,
  availability,
  decide,
  evolve,
  evolveAll,
  PreparedSnapshot,
} = makeApi(raw, ready);
export { MalformedInputError, toRestaurantTime };
