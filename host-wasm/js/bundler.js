// Bundler flavour (ESM): wasm-bindgen's `bundler` output, which imports the .wasm as an ES
// module (webpack 5 `experiments.asyncWebAssembly`, Vite with a wasm plugin, Node with
// `--experimental-wasm-modules`). Ready at import.
import * as raw from './reservation_wasm.js';
import { makeApi, MalformedInputError, toRestaurantTime } from '../api.js';

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
