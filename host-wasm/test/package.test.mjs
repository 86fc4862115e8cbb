// The built npm package, imported by its name as a consumer would (node flavour, through the
// package's `exports` map), against answers the *native* core wrote (examples/fixtures.rs).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as wasm from 'reservation-wasm';
import { argsOf, byName, loadFixtures } from './helpers.mjs';

const { cases, history } = loadFixtures();
const NOW = '2026-12-01T10:00:00';

/** Answers must be plain JSON: no `undefined`, `Map`, class instances or non-finite numbers. */
function assertPlainJson(value) {
  assert.deepStrictEqual(JSON.parse(JSON.stringify(value)), value);
}

describe('every fixture: the package answers what the native core answers', () => {
  assert.ok(cases.length >= 50, `only ${cases.length} fixtures`);
  for (const testCase of cases) {
    test(`${testCase.call}: ${testCase.name}`, () => {
      const answer = wasm[testCase.call](...argsOf(testCase));
      assertPlainJson(answer);
      assert.deepStrictEqual(answer, testCase.expected);
    });
  }

  test('every function is covered', () => {
    const called = new Set(cases.map((c) => c.call));
    for (const name of ['validateReservation', 'previewReservation', 'availability', 'decide', 'evolve', 'evolveAll']) {
      assert.ok(called.has(name), name);
    }
  });
});

describe('the DOMAIN.md examples, stated literally', () => {
  const ask = (prefix, patch = {}) => {
    const [snapshot, request, now] = byName(cases, prefix).args;
    return wasm.previewReservation(snapshot, { ...request, ...patch }, now);
  };

  test('a 6-seat table booked 15:00: a request for 15:45 is seated at 16:00', () => {
    const answer = ask('15:45 next to');
    assert.equal(answer.type, 'ok');
    assert.equal(answer.preview.status, 'confirmed');
    assert.equal(answer.preview.requested_time, '15:45');
    assert.equal(answer.preview.time, '16:00');
    assert.equal(answer.preview.starts_at, '2026-12-08T16:00:00');
    assert.deepEqual(answer.preview.table_ids, ['T6']);
  });

  test('17:15 between bookings at 16:00 and 18:00 moves to 17:00', () => {
    const answer = ask('17:15 between');
    assert.equal(answer.preview.status, 'confirmed');
    assert.equal(answer.preview.time, '17:00');
  });

  test('intervals are half-open: 16:00 after 15:00-16:00 and 14:00-15:00 before it fit exactly', () => {
    assert.equal(ask('half-open: 16:00').preview.time, '16:00');
    assert.equal(ask('half-open: 14:00').preview.time, '14:00');
  });

  test('nothing fits: rejected with up to three alternatives, nearest first', () => {
    const { preview } = ask('nothing fits');
    assert.equal(preview.status, 'rejected');
    assert.equal(preview.reason, 'no_table_available');
    assert.deepEqual(preview.alternatives, ['14:00', '19:00', '13:45']);
  });

  test('refusals carry the server\'s codes and the field', () => {
    const expectRefusal = (answer, code, field) => {
      assert.equal(answer.type, 'error');
      assert.equal(answer.errors[0].code, code);
      assert.equal(answer.errors[0].field, field);
      assert.equal(typeof answer.errors[0].message, 'string');
    };
    expectRefusal(ask('party too large'), 'party_too_large', 'party_size');
    expectRefusal(ask('a closed day'), 'closed_on_date', 'date');
    expectRefusal(ask('in the past'), 'in_the_past', 'time');
    expectRefusal(ask('outside opening hours'), 'outside_opening_hours', 'time');
    expectRefusal(ask('beyond the horizon'), 'beyond_horizon', 'date');
  });

  test('validation reports every bad field at once', () => {
    const answer = wasm.validateReservation({ id: 'a b', user_id: '', name: ' ', party_size: 0, date: '2026-13-01', time: '7pm' });
    assert.equal(answer.type, 'error');
    assert.deepEqual(
      answer.errors.map((e) => [e.code, e.field]),
      [
        ['invalid_id', 'id'],
        ['invalid_id', 'user_id'],
        ['invalid_name', 'name'],
        ['invalid_party_size', 'party_size'],
        ['invalid_date', 'date'],
        ['invalid_time', 'time'],
      ],
    );
    const ok = wasm.validateReservation({ name: '  Ada ', party_size: 2, date: '2026-12-08', time: '19:00' });
    assert.deepEqual(ok, { type: 'ok', request: { name: 'Ada', party_size: 2, date: '2026-12-08', time: '19:00' } });
  });
});

describe('now: a civil date-time, or an instant converted with the restaurant\'s zone', () => {
  const [nySnapshot, request] = byName(cases, '[instant 2026-12-08T20:30:00Z] 15:45').args;

  test('a Date, an RFC 3339 string with Z or with an offset give the same answer as the civil time', () => {
    const civil = wasm.previewReservation(nySnapshot, request, '2026-12-08T15:30:00');
    assert.equal(civil.type, 'ok');
    for (const now of [new Date('2026-12-08T20:30:00Z'), '2026-12-08T20:30:00Z', '2026-12-08T15:30:00-05:00', '2026-12-08t20:30:00z', '2026-12-08T21:30:00.000+01:00']) {
      assert.deepEqual(wasm.previewReservation(nySnapshot, request, now), civil, String(now));
    }
    const early = { ...request, time: '15:15' };
    assert.equal(wasm.previewReservation(nySnapshot, early, new Date('2026-12-08T20:30:00Z')).errors[0].code, 'in_the_past');
    // The same instant is 21:30 in Berlin: a Berlin snapshot refuses 19:00 as passed.
    const [berlin] = byName(cases, 'party too large').args;
    const late = { ...request, time: '19:00' };
    assert.equal(wasm.previewReservation(berlin, late, '2026-12-08T20:30:00Z').errors[0].code, 'in_the_past');
    assert.equal(wasm.previewReservation(berlin, late, '2026-12-08T17:30:00Z').type, 'ok');
  });

  test('toRestaurantTime follows daylight saving time and writes midnight as 00', () => {
    assert.equal(wasm.toRestaurantTime('2026-03-29T00:30:00Z', 'Europe/Berlin'), '2026-03-29T01:30:00');
    assert.equal(wasm.toRestaurantTime('2026-03-29T01:30:00Z', 'Europe/Berlin'), '2026-03-29T03:30:00');
    assert.equal(wasm.toRestaurantTime('2026-10-25T00:30:00Z', 'Europe/Berlin'), '2026-10-25T02:30:00');
    assert.equal(wasm.toRestaurantTime('2026-10-25T01:30:00Z', 'Europe/Berlin'), '2026-10-25T02:30:00');
    assert.equal(wasm.toRestaurantTime(new Date('2026-12-08T23:00:00Z'), 'Europe/Berlin'), '2026-12-09T00:00:00');
    assert.equal(wasm.toRestaurantTime(Date.UTC(2026, 11, 8, 12, 5, 9), 'Asia/Kolkata'), '2026-12-08T17:35:09');
    assert.equal(wasm.toRestaurantTime(new Date('0999-06-01T12:00:00Z'), 'UTC'), '0999-06-01T12:00:00');
  });

  test('bad instants and unknown zones are misuse', () => {
    const [snapshot, req] = byName(cases, 'party too large').args;
    for (const now of [new Date(Number.NaN), 42, null, undefined, {}, '2026-12-08T25:00:00Z', 'tomorrow', '2026-12-08T19:00:00Europe/Berlin']) {
      assert.throws(() => wasm.previewReservation(snapshot, req, now), { name: 'MalformedInputError', field: 'now' }, String(now));
    }
    const mars = { ...snapshot, restaurant: { ...snapshot.restaurant, timezone: 'Mars/Olympus_Mons' } };
    assert.throws(() => wasm.previewReservation(mars, req, new Date()), { name: 'MalformedInputError', field: 'timezone' });
    assert.throws(() => wasm.availability({}, 2, new Date()), { name: 'MalformedInputError', field: 'snapshot.restaurant.timezone' });
    assert.throws(() => wasm.toRestaurantTime('2026-12-08T20:30:00Z', 42), { code: 'malformed_input' });
  });
});

describe('misuse throws a typed error; answers never throw', () => {
  const [snapshot, request] = byName(cases, '15:45 next to').args;
  const misuse = (run, field) =>
    assert.throws(run, (error) => {
      assert.ok(error instanceof wasm.MalformedInputError, `${error}`);
      assert.ok(error instanceof TypeError);
      assert.equal(error.name, 'MalformedInputError');
      assert.equal(error.code, 'malformed_input');
      assert.equal(error.field, field);
      assert.ok(error.message.startsWith(`${field}: `), error.message);
      return true;
    });

  test('requests of the wrong shape', () => {
    misuse(() => wasm.validateReservation(undefined), 'request');
    misuse(() => wasm.validateReservation('Ada, 4 people'), 'request');
    misuse(() => wasm.validateReservation({ name: 'Ada', date: '2026-12-08', time: '19:00' }), 'request');
    misuse(() => wasm.validateReservation({ ...request, party_size: '4' }), 'request');
    misuse(() => wasm.validateReservation({ ...request, party_size: 4.5 }), 'request');
    misuse(() => wasm.validateReservation({ ...request, table: 'by the window' }), 'request');
    misuse(() => wasm.previewReservation(snapshot, { ...request, party_size: 10n }, NOW), 'request');
  });

  test('snapshots, states, commands and events of the wrong shape', () => {
    misuse(() => wasm.previewReservation(null, request, NOW), 'snapshot');
    misuse(() => wasm.previewReservation({ ...snapshot, occupancy: 'none' }, request, NOW), 'snapshot');
    misuse(() => wasm.availability({ ...snapshot, extra: 1 }, 2, NOW), 'snapshot');
    misuse(() => new wasm.PreparedSnapshot([]), 'snapshot');
    misuse(() => wasm.decide('empty', { type: 'seat_reservation', reservation_id: 'a', now: NOW }), 'state');
    misuse(() => wasm.decide({}, { type: 'launch_rockets' }), 'command');
    misuse(() => wasm.decide({}, { type: 'seat_reservation', reservation_id: 'a' }), 'command');
    misuse(() => wasm.decide({}, { type: 'seat_reservation', version: 2, reservation_id: 'a', now: NOW }), 'command');
    misuse(() => wasm.evolve({}, { type: 'reservation_seated', reservation_id: 'a:b', restaurant_id: 'r1', at: NOW }), 'event');
    misuse(() => wasm.evolveAll({}, { type: 'reservation_seated' }), 'events');
  });

  test('party sizes: non-integers are misuse, out-of-range integers are the core\'s refusals', () => {
    misuse(() => wasm.availability(snapshot, 2.5, NOW), 'partySize');
    misuse(() => wasm.availability(snapshot, '2', NOW), 'partySize');
    misuse(() => wasm.availability(snapshot, Number.NaN, NOW), 'partySize');
    assert.equal(wasm.availability(snapshot, 0, NOW).errors[0].code, 'invalid_party_size');
    assert.equal(wasm.availability(snapshot, -3, NOW).errors[0].code, 'invalid_party_size');
    assert.equal(wasm.availability(snapshot, 1e12, NOW).errors[0].code, 'party_too_large');
  });

  test('hostile values are refused and the module keeps working', () => {
    let deep = {};
    const root = deep;
    for (let i = 0; i < 200_000; i += 1) deep = deep.a = {};
    const cyclic = { ...request };
    cyclic.self = cyclic;
    let nested = '[]';
    for (let i = 0; i < 200; i += 1) nested = `{"restaurant":${nested}}`;
    misuse(() => wasm.decide({}, { type: 'register_restaurant', restaurant: root }), 'command');
    misuse(() => wasm.decide({}, JSON.parse(`{"type":"register_restaurant","restaurant":${nested}}`)), 'command');
    misuse(() => wasm.validateReservation(cyclic), 'request');
    misuse(() => wasm.previewReservation(snapshot, { ...request, name: 'x'.repeat(5_000_000) }, 'noon'), 'now');
    assert.equal(wasm.validateReservation({ ...request, name: 'x'.repeat(5_000_000) }).errors[0].code, 'invalid_name');
    // Still healthy: the same question gets the same answer.
    assert.deepEqual(wasm.previewReservation(snapshot, request, NOW), byName(cases, '15:45 next to').expected);
  });

  test('a snapshot of another version is refused as data, not thrown', () => {
    const answer = wasm.previewReservation({ ...snapshot, snapshot_version: 2 }, request, NOW);
    assert.equal(answer.type, 'error');
    assert.equal(answer.errors[0].code, 'malformed_input');
    assert.equal(answer.errors[0].field, 'snapshot_version');
  });
});

describe('PreparedSnapshot reads a snapshot once and answers like the functions', () => {
  test('same answers as previewReservation and availability', () => {
    for (const testCase of cases.filter((c) => c.call === 'previewReservation' || c.call === 'availability')) {
      const [snapshot, question, now] = argsOf(testCase);
      const prepared = new wasm.PreparedSnapshot(snapshot);
      assert.equal(prepared.date, snapshot.date);
      assert.equal(prepared.timezone, snapshot.restaurant.timezone);
      const answer = testCase.call === 'availability' ? prepared.availability(question, now) : prepared.preview(question, now);
      assert.deepEqual(answer, testCase.expected, testCase.name);
      prepared.free();
    }
  });

  test('misuse is typed; a freed snapshot cannot be used', () => {
    const [snapshot, request] = byName(cases, '15:45 next to').args;
    const prepared = new wasm.PreparedSnapshot(snapshot);
    assert.throws(() => prepared.preview({ name: 'Ada' }, NOW), { name: 'MalformedInputError', field: 'request' });
    assert.throws(() => prepared.availability(2, 'noon'), { name: 'MalformedInputError', field: 'now' });
    prepared.free();
    assert.throws(() => prepared.preview(request, NOW));
  });
});

describe('decide and evolve for clients that hold events themselves', () => {
  test('evolve one event at a time equals evolveAll, and both equal the native fold', () => {
    const stepwise = history.reduce((state, event) => wasm.evolve(state, event), {});
    assert.deepEqual(stepwise, wasm.evolveAll({}, history));
    assert.deepEqual(stepwise, byName(cases, 'evolveAll over the whole history').expected);
    assert.equal(stepwise.reservations.a.status, 'completed');
  });

  test('decide then evolve: a booking, its retry and a competing request', () => {
    const registered = wasm.evolveAll({}, history.slice(0, 1));
    const command = {
      type: 'request_reservation', reservation_id: 'z', restaurant_id: 'r1', user_id: 'u9', guest_name: 'Grace',
      party_size: 6, date: '2026-12-08', time: '19:45', now: NOW,
    };
    const decided = wasm.decide(registered, command);
    assert.equal(decided.type, 'ok');
    assert.deepEqual(decided.events.map((e) => [e.type, e.version]), [['tables_allocated', 1], ['reservation_confirmed', 1]]);
    const booked = wasm.evolveAll(registered, decided.events);
    assert.equal(booked.reservations.z.time, '19:45');
    assert.deepEqual(wasm.decide(booked, command), { type: 'ok', events: [] });
    const rival = wasm.decide(booked, { ...command, reservation_id: 'y', time: '20:00' });
    assert.equal(rival.events[0].type, 'reservation_rejected');
    assert.equal(wasm.decide(booked, { ...command, party_size: 2 }).errors[0].code, 'reservation_id_conflict');
  });
});
