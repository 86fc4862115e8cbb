// A consumer of the package's types: `tsc --noEmit` must accept this file as it is, and must
// reject every line marked @ts-expect-error (so the types are the real shapes, not `any`).
import init, {
  availability,
  decide,
  evolve,
  evolveAll,
  MalformedInputError,
  PreparedSnapshot,
  previewReservation,
  toRestaurantTime,
  validateReservation,
  type Command,
  type DaySnapshot,
  type DecidedEvent,
  type DomainError,
  type ErrorCode,
  type Preview,
  type ReservationRequest,
  type State,
} from 'reservation-wasm';

declare const snapshot: DaySnapshot;

export async function bookingPage(): Promise<string[]> {
  await init();
  const request: ReservationRequest = { name: 'Ada', party_size: 4, date: '2026-12-08', time: '19:45' };

  const validated = validateReservation(request);
  if (validated.type === 'ok') {
    const trimmed: string = validated.request.name;
    void trimmed;
  } else {
    const fields: (string | undefined)[] = validated.errors.map((e: DomainError) => e.field);
    void fields;
  }

  const answer = previewReservation(snapshot, request, new Date());
  const lines: string[] = [];
  if (answer.type === 'error') {
    const codes: ErrorCode[] = answer.errors.map((e) => e.code);
    if (codes.includes('party_too_large')) lines.push('too many guests');
  } else {
    const preview: Preview = answer.preview;
    if (preview.status === 'confirmed') {
      lines.push(`${preview.time} on ${preview.table_ids.join('+')} (${preview.starts_at})`);
      // @ts-expect-error a confirmed preview has no alternatives
      lines.push(preview.alternatives.join());
    } else {
      const reason: 'no_table_available' | 'pacing_limit_reached' = preview.reason;
      lines.push(reason, ...preview.alternatives);
    }
  }

  const times = availability(snapshot, 2, '2026-12-08T18:00:00');
  if (times.type === 'ok') lines.push(...times.times, times.date, String(times.party_size));

  const prepared = new PreparedSnapshot(snapshot);
  const again = prepared.preview(request, toRestaurantTime(Date.now(), prepared.timezone));
  if (again.type === 'ok' && again.preview.status === 'rejected') lines.push(prepared.date);
  prepared.free();

  // @ts-expect-error party_size is a number
  validateReservation({ name: 'Ada', party_size: '4', date: '2026-12-08', time: '19:45' });
  // @ts-expect-error name is required
  previewReservation(snapshot, { party_size: 4, date: '2026-12-08', time: '19:45' }, new Date());
  // @ts-expect-error now is a Date or a string
  availability(snapshot, 2, 1733680000000);
  // @ts-expect-error answers are tagged: the payload is only there after narrowing
  void answer.preview;
  return lines;
}

export function staffTool(state: State, events: DecidedEvent[]): State {
  const command: Command = {
    type: 'cancel_reservation',
    reservation_id: 'a',
    by: 'staff',
    now: '2026-12-08T18:00:00',
  };
  const decided = decide(state, command);
  if (decided.type === 'error') {
    const refusal: ErrorCode = decided.errors[0].code;
    void refusal;
    return state;
  }
  for (const event of decided.events) {
    if (event.type === 'tables_released') {
      const from: string = event.from;
      void from;
    }
  }
  const next = evolveAll(evolve({}, events[0]), decided.events);
  const restaurantName: string | undefined = next.restaurant?.name;
  void restaurantName;
  // @ts-expect-error an unknown command type
  decide(state, { type: 'launch_rockets' });
  // @ts-expect-error by is "guest" or "staff"
  decide(state, { type: 'cancel_reservation', reservation_id: 'a', by: 'robot', now: '2026-12-08T18:00:00' });
  return next;
}

export function handle(error: unknown): string {
  if (error instanceof MalformedInputError) {
    const code: 'malformed_input' = error.code;
    return `${code} at ${error.field ?? '?'}`;
  }
  throw error;
}
