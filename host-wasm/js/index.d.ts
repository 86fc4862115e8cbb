// Types of `reservation-wasm`, shared by every flavour (node, web, bundler).
// They describe the JSON forms of reservation-core (snake_case, as the server speaks them).
// Checked by `tsc --noEmit` against host-wasm/test/types/consumer.ts.

// --- Scalars -----------------------------------------------------------------------------

/** A civil date, `YYYY-MM-DD`. */
export type CivilDate = string;
/** A time of day, `HH:MM` (24-hour clock). */
export type ClockTime = string;
/** A civil date-time in the restaurant's own zone, `YYYY-MM-DDTHH:MM:SS`. */
export type CivilDateTime = string;
/** An opening range, `HH:MM-HH:MM`; an end at or before the start runs past midnight. */
export type TimeRange = string;

/**
 * When the question is asked: the restaurant's civil date-time (`"2026-12-08T18:00:00"`), or an
 * instant (a `Date` or an RFC 3339 string with `Z` or an offset) that is converted to the
 * restaurant's civil time with `Intl` and the snapshot's `restaurant.timezone`.
 */
export type Now = CivilDateTime | Date;

// --- Errors and answers ------------------------------------------------------------------

/** The stable error codes, the same as the server's. */
export type ErrorCode =
  | 'invalid_id'
  | 'invalid_name'
  | 'invalid_party_size'
  | 'party_too_large'
  | 'invalid_date'
  | 'invalid_time'
  | 'invalid_timezone'
  | 'in_the_past'
  | 'insufficient_notice'
  | 'beyond_horizon'
  | 'closed_on_date'
  | 'outside_opening_hours'
  | 'invalid_tables'
  | 'invalid_combination'
  | 'invalid_opening_hours'
  | 'invalid_policy'
  | 'restaurant_not_found'
  | 'restaurant_already_registered'
  | 'reservation_not_found'
  | 'reservation_id_conflict'
  | 'not_cancellable'
  | 'not_modifiable'
  | 'not_seatable'
  | 'not_completable'
  | 'no_show_not_allowed'
  | 'no_table_available'
  | 'malformed_input';

/** A refusal by the domain. */
export interface DomainError {
  code: ErrorCode;
  message: string;
  /** The offending field, when there is one (`"party_size"`, `"policy.flex_minutes"`). */
  field?: string;
  /** Other start times that would work, nearest first (refused modifications only). */
  alternatives?: ClockTime[];
}

/** The core refused: nothing would be recorded. */
export interface Refused {
  type: 'error';
  errors: DomainError[];
}

/** Every answer: `{type: "ok", ...payload}` or `{type: "error", errors}`. */
export type Answer<T> = ({ type: 'ok' } & T) | Refused;

/** Thrown only for misuse: an argument of the wrong shape. Answers never throw. */
export class MalformedInputError extends TypeError {
  readonly name: 'MalformedInputError';
  readonly code: 'malformed_input';
  /** The argument or path at fault (`"request"`, `"now"`, `"snapshot.restaurant.timezone"`). */
  readonly field: string | null;
  constructor(message: string, field?: string | null);
}

// --- Restaurants -------------------------------------------------------------------------

export interface Table {
  id: string;
  seats: number;
  area?: string;
}

export interface Combination {
  tables: string[];
  seats: number;
}

/** Ranges per weekday; a missing weekday is closed. */
export interface WeeklyHours {
  monday?: TimeRange[];
  tuesday?: TimeRange[];
  wednesday?: TimeRange[];
  thursday?: TimeRange[];
  friday?: TimeRange[];
  saturday?: TimeRange[];
  sunday?: TimeRange[];
}

/** A dated exception: closed all day, or other ranges for that date. */
export interface Exception {
  date: CivilDate;
  closed?: boolean;
  hours?: TimeRange[];
}

export interface TurnBand {
  min_party: number;
  max_party: number;
  turn_minutes: number;
}

/** Every field has a default (turn 60, buffer 0, flex 15, lead 0, horizon 90 days). */
export interface BookingPolicy {
  turn_minutes?: number;
  turn_by_party_size?: TurnBand[];
  buffer_minutes?: number;
  flex_minutes?: number;
  lead_minutes?: number;
  horizon_days?: number;
  max_party_size?: number;
  pacing?: { max_guests: number };
}

export interface Restaurant {
  id: string;
  name: string;
  /** IANA time-zone name. */
  timezone: string;
  tables: Table[];
  combinations?: Combination[];
  opening_hours?: WeeklyHours;
  exceptions?: Exception[];
  policy?: BookingPolicy;
}

// --- Requests, snapshots, previews -------------------------------------------------------

/** A reservation request as a guest's frontend sends it. */
export interface ReservationRequest {
  /** A client-chosen reservation id, for idempotent retries. */
  id?: string;
  user_id?: string;
  name: string;
  party_size: number;
  date: CivilDate;
  time: ClockTime;
}

/** A hold on tables over `[starts_at, held_until)`. */
export interface Occupancy {
  reservation_id?: string;
  table_ids: string[];
  starts_at: CivilDateTime;
  held_until: CivilDateTime;
  party_size: number;
}

/** `GET /restaurants/{id}/days/{date}/snapshot`: a restaurant and one day's holds, without guest data. */
export interface DaySnapshot {
  snapshot_version: number;
  restaurant: Restaurant;
  date: CivilDate;
  occupancy: Occupancy[];
}

export type RejectionReason = 'no_table_available' | 'pacing_limit_reached';

/** What the server would decide. */
export type Preview =
  | {
      status: 'confirmed';
      date: CivilDate;
      party_size: number;
      requested_time: ClockTime;
      /** The assigned start; may differ from the requested time by up to the flex. */
      time: ClockTime;
      starts_at: CivilDateTime;
      table_ids: string[];
    }
  | {
      status: 'rejected';
      date: CivilDate;
      party_size: number;
      requested_time: ClockTime;
      reason: RejectionReason;
      /** Up to three bookable start times that day, nearest first. */
      alternatives: ClockTime[];
    };

export type ValidateAnswer = Answer<{ request: ReservationRequest }>;
export type PreviewAnswer = Answer<{ preview: Preview }>;
export type AvailabilityAnswer = Answer<{ date: CivilDate; party_size: number; times: ClockTime[] }>;

// --- Reservations, state, commands, events -----------------------------------------------

export type Actor = 'guest' | 'staff';
export type ReservationStatus = 'confirmed' | 'rejected' | 'cancelled' | 'seated' | 'completed' | 'no_show';

export interface Reservation {
  id: string;
  restaurant_id: string;
  user_id: string;
  guest_name: string;
  party_size: number;
  date: CivilDate;
  requested_time: ClockTime;
  time?: ClockTime;
  starts_at?: CivilDateTime;
  table_ids: string[];
  status: ReservationStatus;
  reason?: RejectionReason;
  alternatives?: ClockTime[];
  history: {
    at: CivilDateTime;
    change: 'confirmed' | 'rejected' | 'cancelled' | 'modified' | 'seated' | 'completed' | 'no_show';
    by?: Actor;
  }[];
}

export interface DayBook {
  restaurant_id: string;
  date: CivilDate;
  bookings: Occupancy[];
}

/** The loaded streams of one restaurant, as `evolve` returns it. */
export interface State {
  restaurant: Restaurant | null;
  day_books: Record<CivilDate, DayBook>;
  reservations: Record<string, Reservation>;
}

/** What `decide`/`evolve` accept: every field may be left out (`{}` is the empty state). */
export type StateInput = Partial<State>;

/** The wire envelope: `type`, and `version` (the current one when left out). */
type Versioned<T extends string, Fields> = { type: T; version?: number } & Fields;

export type Command =
  | Versioned<'register_restaurant', { restaurant: Restaurant }>
  | Versioned<'change_tables', { restaurant_id: string; tables: Table[]; combinations?: Combination[] }>
  | Versioned<'change_opening_hours', { restaurant_id: string; opening_hours: WeeklyHours; exceptions?: Exception[] }>
  | Versioned<'change_policy', { restaurant_id: string; policy: BookingPolicy }>
  | Versioned<
      'request_reservation',
      {
        reservation_id: string;
        restaurant_id: string;
        user_id: string;
        guest_name: string;
        party_size: number;
        date: CivilDate;
        time: ClockTime;
        now: CivilDateTime;
      }
    >
  | Versioned<'cancel_reservation', { reservation_id: string; by: Actor; now: CivilDateTime }>
  | Versioned<
      'modify_reservation',
      { reservation_id: string; date?: CivilDate; time?: ClockTime; party_size?: number; by: Actor; now: CivilDateTime }
    >
  | Versioned<'seat_reservation', { reservation_id: string; now: CivilDateTime }>
  | Versioned<'complete_reservation', { reservation_id: string; now: CivilDateTime }>
  | Versioned<'mark_no_show', { reservation_id: string; now: CivilDateTime }>;

export type Event =
  | Versioned<'restaurant_registered', { restaurant: Restaurant }>
  | Versioned<'tables_changed', { restaurant_id: string; tables: Table[]; combinations: Combination[] }>
  | Versioned<'opening_hours_changed', { restaurant_id: string; opening_hours: WeeklyHours; exceptions: Exception[] }>
  | Versioned<'booking_policy_changed', { restaurant_id: string; policy: BookingPolicy }>
  | Versioned<
      'tables_allocated',
      {
        restaurant_id: string;
        date: CivilDate;
        reservation_id: string;
        table_ids: string[];
        party_size: number;
        starts_at: CivilDateTime;
        held_until: CivilDateTime;
      }
    >
  | Versioned<'tables_released', { restaurant_id: string; date: CivilDate; reservation_id: string; from: CivilDateTime }>
  | Versioned<
      'reservation_confirmed',
      {
        reservation_id: string;
        restaurant_id: string;
        user_id: string;
        guest_name: string;
        party_size: number;
        date: CivilDate;
        requested_time: ClockTime;
        time: ClockTime;
        starts_at: CivilDateTime;
        table_ids: string[];
        at: CivilDateTime;
      }
    >
  | Versioned<
      'reservation_rejected',
      {
        reservation_id: string;
        restaurant_id: string;
        user_id: string;
        guest_name: string;
        party_size: number;
        date: CivilDate;
        requested_time: ClockTime;
        reason: RejectionReason;
        alternatives: ClockTime[];
        at: CivilDateTime;
      }
    >
  | Versioned<'reservation_cancelled', { reservation_id: string; restaurant_id: string; by: Actor; at: CivilDateTime }>
  | Versioned<
      'reservation_modified',
      {
        reservation_id: string;
        restaurant_id: string;
        party_size: number;
        date: CivilDate;
        requested_time: ClockTime;
        time: ClockTime;
        starts_at: CivilDateTime;
        table_ids: string[];
        by: Actor;
        at: CivilDateTime;
      }
    >
  | Versioned<'reservation_seated', { reservation_id: string; restaurant_id: string; at: CivilDateTime }>
  | Versioned<'reservation_completed', { reservation_id: string; restaurant_id: string; at: CivilDateTime }>
  | Versioned<'reservation_marked_no_show', { reservation_id: string; restaurant_id: string; at: CivilDateTime }>;

/** Events as the core writes them: always with their `version`. */
export type DecidedEvent = Event & { version: number };

export type DecideAnswer = Answer<{ events: DecidedEvent[] }>;

// --- Functions ---------------------------------------------------------------------------

/** The server's field-level checks: every bad field with its code, or the request as it will be read. */
export function validateReservation(request: ReservationRequest): ValidateAnswer;

/** What the server would decide now for `request` against `snapshot`; records nothing. */
export function previewReservation(snapshot: DaySnapshot, request: ReservationRequest, now: Now): PreviewAnswer;

/** Bookable start times on the snapshot's date for `partySize`, as the server lists them at `now`. */
export function availability(snapshot: DaySnapshot, partySize: number, now: Now): AvailabilityAnswer;

/** The events `command` produces against `state` (none for a repeat), or why it is refused. */
export function decide(state: StateInput, command: Command): DecideAnswer;

/** The state after `event`. */
export function evolve(state: StateInput, event: Event): State;

/** The state after `events`, in order. */
export function evolveAll(state: StateInput, events: Event[]): State;

/** A snapshot read once, for many previews and availability lists (a booking page). */
export class PreparedSnapshot {
  constructor(snapshot: DaySnapshot);
  /** The service date. */
  readonly date: CivilDate;
  /** The restaurant's IANA time-zone name. */
  readonly timezone: string;
  preview(request: ReservationRequest, now: Now): PreviewAnswer;
  availability(partySize: number, now: Now): AvailabilityAnswer;
  /** Frees the wasm memory now rather than at garbage collection. */
  free(): void;
}

/** The civil date-time (`YYYY-MM-DDTHH:MM:SS`) that `instant` is in `timeZone` (via `Intl`). */
export function toRestaurantTime(instant: Date | string | number, timeZone: string): CivilDateTime;

/**
 * A compiled `WebAssembly.Module`, or anything `WebAssembly.instantiate` takes. Structural, so
 * that the types need neither the DOM library nor @types/node.
 */
export type WasmModuleSource = ArrayBuffer | ArrayBufferView | object;

/** Options of wasm-bindgen's `init` (web flavour): where to load the .wasm from. */
export interface InitOptions {
  /** A URL (string or `URL`) to fetch, a `Response` or a promise of one, the bytes, or a module. */
  module_or_path?: string | WasmModuleSource | PromiseLike<unknown>;
}

/**
 * Loads the .wasm. Required once before use in the web flavour (browsers, edge runtimes); a
 * no-op in the node and bundler flavours, which are ready at import.
 */
export default function init(options?: InitOptions): Promise<void>;

/** Synchronous `init` from bytes or a compiled module (e.g. an edge runtime's .wasm import). */
export function initSync(options: { module: WasmModuleSource }): void;
