// Node flavour (ESM): wasm-bindgen's `nodejs` output, loaded synchronously at import.
import { createRequire } from 'node:module';
import { makeApi, MalformedInputError, toRestaurantTime } from '../api.js';

const raw = createRequire(import.meta.url)('./reservation_wasm.cjs');

export const {
  validateReservation,
  previewReservation,
  availability,
  decide,
  evolve,
  evolveAll,
  PreparedSnapshot,
} = makeApi(raw);
export { MalformedInputError, toRestaurantTime };

/** Ready at import; kept so that code written for the web flavour runs unchanged. */
export default async function init() {}
export function initSync() {}
