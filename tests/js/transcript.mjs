// Replays runs through the npm package's API and encodes answers canonically. Shared by the
// Node harness and the Chromium page, so both hosts are driven by the very same code.
//
// A run is { state, ops }: the state JSON the host starts from and the calls it makes (see
// tests/src/native.rs). `decide` and `evolve` act on the running state: after an ok `decide`
// the events are folded in with `evolve`, as a client holding its own events would.

/**
 * The canonical encoding, identical to `canonical` in tests/src/native.rs: object keys sorted,
 * null (and undefined) members dropped, and the host-specific message and field of a
 * malformed_input error dropped.
 */
export function canonical(value) {
  if (value === null || value === undefined) return 'null';
  if (value instanceof Map) value = Object.fromEntries(value);
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  switch (typeof value) {
    case 'string':
    case 'number':
    case 'boolean':
      return JSON.stringify(value);
    case 'object': {
      const malformed = value.code === 'malformed_input';
      const keys = Object.keys(value)
        .filter((k) => value[k] !== null && value[k] !== undefined)
        .filter((k) => !(malformed && (k === 'message' || k === 'field')))
        .sort();
      return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`).join(',')}}`;
    }
    default:
      throw new TypeError(`cannot encode a ${typeof value}`);
  }
}

/** One call; a typed misuse error becomes the same malformed_input answer the other hosts give. */
function answer(call) {
  try {
    return call();
  } catch (error) {
    if (error !== null && typeof error === 'object' && error.code === 'malformed_input') {
      return { type: 'error', errors: [{ code: 'malformed_input', message: String(error.message), field: error.field ?? null }] };
    }
    throw error;
  }
}

/** Replays one run with `api` (the package's exports); returns { answers, state }. */
export function replay(api, run) {
  let state = run.state;
  const answers = [];
  for (const op of run.ops) {
    switch (op.op) {
      case 'decide': {
        const decided = answer(() => api.decide(state, op.command));
        if (decided.type === 'ok') {
          for (const event of decided.events) state = api.evolve(state, event);
        }
        answers.push(decided);
        break;
      }
      case 'evolve': {
        const evolved = answer(() => ({ type: 'ok', state: api.evolve(state, op.event) }));
        if (evolved.type === 'ok') state = evolved.state;
        answers.push(evolved);
        break;
      }
      case 'preview':
        answers.push(answer(() => api.previewReservation(op.snapshot, op.request, op.now)));
        break;
      case 'availability':
        answers.push(answer(() => api.availability(op.snapshot, op.party_size, op.now)));
        break;
      case 'validate':
        answers.push(answer(() => api.validateReservation(op.request)));
        break;
      default:
        throw new Error(`unknown op ${JSON.stringify(op.op)}`);
    }
  }
  return { answers, state };
}

/**
 * Replays `runs`; per run, { digest } (SHA-256 of the canonical transcript, via `sha256`) or the
 * transcript itself ("full" mode), or { error } when the host threw anything else.
 */
export async function replayAll(api, runs, mode, sha256) {
  const results = [];
  for (const run of runs) {
    try {
      const transcript = replay(api, run);
      results.push(mode === 'digest' ? { digest: await sha256(canonical(transcript)) } : transcript);
    } catch (error) {
      results.push({ error: String(error?.stack ?? error) });
    }
  }
  return results;
}
