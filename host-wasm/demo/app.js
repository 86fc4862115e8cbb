// The guest's booking page: pick a date and a party size, see the bookable times, preview a
// booking. Every answer comes from reservation-wasm (the reservation core in WebAssembly), from
// the day's snapshot: no server round trip per question.
//
// Snapshots come from ./snapshots/{date}.json (made by the native core), or from the server's
// `GET /restaurants/{id}/days/{date}/snapshot` with `?server=http://host:port&restaurant=ID`.
// `?now=<RFC 3339 instant>` sets the clock (default: the sample's clock, or the real one with a
// server).
import init, { MalformedInputError, PreparedSnapshot, toRestaurantTime, validateReservation } from 'reservation-wasm';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const server = params.get('server');
const restaurantId = params.get('restaurant');

const days = new Map(); // date -> { json, snapshot }
let current = null;

function element(tag, props = {}, ...children) {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
}

function weekdayLabel(date) {
  const [y, m, d] = date.split('-').map(Number);
  return new Date(Date.UTC(y, m - 1, d)).toLocaleDateString('en-GB', { weekday: 'short', day: 'numeric', month: 'short', timeZone: 'UTC' });
}

/** The day's snapshot: its JSON (for table areas) and the wasm's prepared copy. */
async function loadDay(date) {
  if (!days.has(date)) {
    const url = server
      ? `${server}/restaurants/${encodeURIComponent(restaurantId)}/days/${date}/snapshot`
      : `snapshots/${date}.json`;
    const response = await fetch(url);
    if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
    const json = await response.json();
    days.set(date, { json, snapshot: new PreparedSnapshot(json) });
  }
  return days.get(date);
}

function describeTables(tableIds) {
  const tables = current.json.restaurant.tables;
  return tableIds
    .map((id) => {
      const table = tables.find((t) => t.id === id);
      return table?.area ? `${id} (${table.area})` : id;
    })
    .join(' + ');
}

function showErrors(target, errors) {
  target.className = 'result refused';
  target.replaceChildren(
    ...errors.map((e) => element('div', {}, element('code', { textContent: e.code }), ` ${e.message}`)),
  );
}

async function refreshTimes() {
  const date = $('date').value;
  const party = Number($('party').value);
  $('result').replaceChildren();
  $('result').className = 'result';
  const { json, snapshot } = await loadDay(date);
  current = { date, party, json, snapshot };
  $('times-heading').textContent = `Available times for ${party} on ${weekdayLabel(date)}`;
  const answer = snapshot.availability(party, now);
  const slots = $('times');
  if (answer.type === 'error') {
    slots.replaceChildren();
    showErrors($('result'), answer.errors);
    return;
  }
  if (answer.times.length === 0) {
    slots.replaceChildren(element('span', { className: 'empty', textContent: `No table for ${party} on this day.` }));
    return;
  }
  slots.replaceChildren(
    ...answer.times.map((time) =>
      element('button', { type: 'button', className: 'slot', textContent: time, onclick: () => pick(time) }),
    ),
  );
}

function pick(time) {
  $('time').value = time;
  preview();
}

function preview() {
  const result = $('result');
  const request = { name: $('name').value, party_size: current.party, date: current.date, time: $('time').value };
  const checked = validateReservation(request);
  if (checked.type === 'error') {
    showErrors(result, checked.errors);
    return;
  }
  let answer;
  try {
    answer = current.snapshot.preview(checked.request, now);
  } catch (error) {
    if (error instanceof MalformedInputError) {
      showErrors(result, [{ code: error.code, message: error.message }]);
      return;
    }
    throw error;
  }
  if (answer.type === 'error') {
    showErrors(result, answer.errors);
    return;
  }
  const p = answer.preview;
  if (p.status === 'confirmed') {
    result.className = 'result confirmed';
    const moved = p.time === p.requested_time ? '' : ` (you asked for ${p.requested_time})`;
    result.replaceChildren(
      element('strong', { textContent: `Confirmed at ${p.time}` }),
      `${moved} — table ${describeTables(p.table_ids)}, for ${p.party_size}.`,
    );
  } else {
    result.className = 'result rejected';
    const why = p.reason === 'pacing_limit_reached' ? 'too many guests arrive then' : 'no table is free then';
    result.replaceChildren(
      element('strong', { textContent: `Not available at ${p.requested_time}` }),
      ` — ${why}.`,
      p.alternatives.length
        ? element(
            'div',
            { className: 'alternatives' },
            'Try ',
            ...p.alternatives.map((time) =>
              element('button', { type: 'button', className: 'alternative', textContent: time, onclick: () => pick(time) }),
            ),
          )
        : '',
    );
  }
}

let now;

async function main() {
  await init();
  let dates;
  if (server) {
    now = params.get('now') ?? new Date().toISOString();
    const first = new Date(now);
    dates = Array.from({ length: 14 }, (_, i) => new Date(first.getTime() + i * 86_400_000).toISOString().slice(0, 10));
    $('source').textContent = `snapshots from ${server}`;
  } else {
    const manifest = await (await fetch('snapshots/index.json')).json();
    now = params.get('now') ?? manifest.now;
    dates = manifest.dates;
    $('source').textContent = 'sample snapshots made by the native core';
  }
  for (const date of dates) $('date').append(element('option', { value: date, textContent: weekdayLabel(date) }));
  for (let n = 1; n <= 10; n += 1) $('party').append(element('option', { value: String(n), textContent: `${n} ${n === 1 ? 'guest' : 'guests'}` }));
  $('party').value = '2';

  const first = await loadDay(dates[0]);
  $('restaurant-name').textContent = first.json.restaurant.name;
  const zone = first.snapshot.timezone;
  $('clock').textContent = `Restaurant time: ${toRestaurantTime(now, zone).replace('T', ' ')} (${zone})`;

  $('date').addEventListener('change', refreshTimes);
  $('party').addEventListener('change', refreshTimes);
  $('booking').addEventListener('submit', preview);
  await refreshTimes();
  $('status').textContent = 'ready';
  document.body.dataset.ready = 'true';
}

main().catch((error) => {
  $('status').textContent = `failed: ${error.message}`;
  document.body.dataset.ready = 'failed';
  throw error;
});
