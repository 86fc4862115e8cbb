// The package's public API, shared by every flavour (node, web, bundler). It wraps the raw
// wasm-bindgen exports of `reservation-wasm` and adds only what belongs in JS:
//   - `now` may be a `Date` or an RFC 3339 instant; it is turned into the restaurant's civil
//     date-time with `Intl.DateTimeFormat` and the snapshot's `restaurant.timezone`, so no
//     time-zone database ships in the wasm. A civil string ("2026-12-08T18:00:00") is passed on.
//   - misuse (a value of the wrong shape) is thrown as a `MalformedInputError`.
// Every rule is decided in the wasm, by reservation-core.

/** Thrown for arguments of the wrong shape; answers never throw. */
export class MalformedInputError extends TypeError {
  constructor(message, field = null) {
    super(field ? `${field}: ${message}` : message);
    this.name = 'MalformedInputError';
    this.code = 'malformed_input';
    this.field = field;
  }
}

const INSTANT = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}:\d{2})$/;
const formats = new Map();

function isDate(value) {
  return Object.prototype.toString.call(value) === '[object Date]';
}

function formatFor(timeZone) {
  let format = formats.get(timeZone);
  if (format === undefined) {
    try {
      format = new Intl.DateTimeFormat('en-US', {
        timeZone,
        hourCycle: 'h23',
        era: 'short',
        year: 'numeric',
        month: '2-digit',
        day: '2-digit',
        hour: '2-digit',
        minute: '2-digit',
        second: '2-digit',
      });
    } catch {
      throw new MalformedInputError(`${JSON.stringify(timeZone)} is not a time zone this runtime knows`, 'timezone');
    }
    formats.set(timeZone, format);
  }
  return format;
}

/**
 * The civil date-time (`YYYY-MM-DDTHH:MM:SS`) that `instant` is in `timeZone`.
 * @param {Date | string | number} instant a Date, an RFC 3339 instant or epoch milliseconds
 * @param {string} timeZone an IANA time-zone name, e.g. the snapshot's `restaurant.timezone`
 */
export function toRestaurantTime(instant, timeZone) {
  let date = null;
  if (isDate(instant)) date = instant;
  else if (typeof instant === 'number') date = new Date(instant);
  else if (typeof instant === 'string' && INSTANT.test(instant)) date = new Date(instant.toUpperCase().replace(' ', 'T'));
  if (date === null || Number.isNaN(date.getTime())) {
    throw new MalformedInputError('expected a valid Date or RFC 3339 instant', 'now');
  }
  if (typeof timeZone !== 'string' || timeZone === '') {
    throw new MalformedInputError('expected an IANA time-zone name', 'timezone');
  }
  const parts = {};
  for (const { type, value } of formatFor(timeZone).formatToParts(date)) parts[type] = value;
  const year = Number(parts.year);
  if (parts.era !== 'AD' || !(year >= 1 && year <= 9999)) {
    throw new MalformedInputError('the instant is outside the years 1 to 9999', 'now');
  }
  const hour = parts.hour === '24' ? '00' : parts.hour;
  return `${String(year).padStart(4, '0')}-${parts.month}-${parts.day}T${hour}:${parts.minute}:${parts.second}`;
}

/** `now` as the restaurant's civil date-time; `zone()` is asked only for instants. */
function civilNow(now, zone) {
  if (typeof now === 'string' && !INSTANT.test(now)) return now; // civil: the wasm parses it
  if (typeof now === 'string' || isDate(now)) {
    const timeZone = zone();
    if (typeof timeZone !== 'string') {
      throw new MalformedInputError('an instant needs the snapshot\'s restaurant.timezone', 'snapshot.restaurant.timezone');
    }
    return toRestaurantTime(now, timeZone);
  }
  throw new MalformedInputError('expected a Date, an RFC 3339 instant or the restaurant\'s civil date-time', 'now');
}

function typed(error) {
  if (error instanceof MalformedInputError) return error;
  if (error !== null && typeof error === 'object' && error.code === 'malformed_input') {
    return new MalformedInputError(error.message, error.field ?? null);
  }
  return error;
}

/**
 * Builds the API over one instance's raw exports. `ready()` throws when the instance is not
 * initialized yet (the web flavour).
 */
export function makeApi(raw, ready = () => {}) {
  function call(run) {
    ready();
    try {
      return run();
    } catch (error) {
      throw typed(error);
    }
  }

  const zoneOf = (snapshot) => () => snapshot?.restaurant?.timezone;

  class PreparedSnapshot {
    #raw;
    #timezone;

    constructor(snapshot) {
      this.#raw = call(() => new raw.PreparedSnapshot(snapshot));
      this.#timezone = this.#raw.timezone;
    }

    get date() {
      return call(() => this.#raw.date);
    }

    get timezone() {
      return this.#timezone;
    }

    preview(request, now) {
      return call(() => this.#raw.preview(request, civilNow(now, () => this.#timezone)));
    }

    availability(partySize, now) {
      return call(() => this.#raw.availability(partySize, civilNow(now, () => this.#timezone)));
    }

    /** Frees the wasm memory now, rather than when the object is garbage-collected. */
    free() {
      this.#raw.free();
    }
  }

  return {
    validateReservation: (request) => call(() => raw.validateReservation(request)),
    previewReservation: (snapshot, request, now) =>
      call(() => raw.previewReservation(snapshot, request, civilNow(now, zoneOf(snapshot)))),
    availability: (snapshot, partySize, now) =>
      call(() => raw.availability(snapshot, partySize, civilNow(now, zoneOf(snapshot)))),
    decide: (state, command) => call(() => raw.decide(state, command)),
    evolve: (state, event) => call(() => raw.evolve(state, event)),
    evolveAll: (state, events) => call(() => raw.evolveAll(state, events)),
    PreparedSnapshot,
  };
}
