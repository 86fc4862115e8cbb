// Shared by the node tests: the fixtures written by the native core (examples/fixtures.rs).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const generated = process.env.RESERVATION_WASM_FIXTURES
  ?? fileURLToPath(new URL('./generated/', import.meta.url));

export function loadFixtures() {
  return JSON.parse(readFileSync(`${generated}/cases.json`, 'utf8'));
}

/** Cases named `[instant X] ...` are asked with the instant X instead of the civil `now`. */
export function argsOf(testCase) {
  const instant = /^\[instant ([^\]]+)\]/.exec(testCase.name);
  if (!instant) return testCase.args;
  const args = [...testCase.args];
  args[args.length - 1] = instant[1];
  return args;
}

export function byName(cases, prefix) {
  const found = cases.find((c) => c.name.startsWith(prefix));
  if (!found) throw new Error(`no fixture ${prefix}`);
  return found;
}
