//! OpenAPI schemas for the core's types, written here because the core stays free of HTTP and
//! documentation dependencies. Field names and types mirror the core's serde forms; the tests
//! in `tests/api_docs.rs` check real responses against these schemas.

#![allow(dead_code)]

use serde::Serialize;
use utoipa::ToSchema;

/// An RFC 9457 problem document.
#[derive(Serialize, ToSchema)]
#[schema(as = Problem)]
pub struct ProblemDoc {
    /// A link to the code's entry on `/docs`.
    #[serde(rename = "type")]
    #[schema(example = "/docs#error-party_too_large")]
    pub type_uri: String,
    pub title: String,
    pub status: u16,
    /// What went wrong, for people.
    pub detail: String,
    /// The stable machine-readable code (see `/docs#errors`).
    #[schema(example = "party_too_large")]
    pub code: String,
    /// Field-level problems (validation).
    #[schema(nullable = false)]
    pub errors: Option<Vec<FieldErrorDoc>>,
    /// Start times that would work instead (`HH:MM`), when the domain offers them.
    #[schema(nullable = false)]
    pub alternatives: Option<Vec<String>>,
}

#[derive(Serialize, ToSchema)]
#[schema(as = FieldError)]
pub struct FieldErrorDoc {
    pub code: String,
    pub message: String,
    /// The offending field, e.g. `party_size` or `tables[2].seats`.
    #[schema(nullable = false)]
    pub field: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[schema(as = Table)]
pub struct TableDoc {
    /// Unique within the restaurant: 1–64 of letters, digits and `- _ . ~ @ +`.
    #[schema(example = "T1")]
    pub id: String,
    /// 1 to 100.
    pub seats: u16,
    #[schema(nullable = false)]
    pub area: Option<String>,
}

/// Two or more tables that together seat `seats` (used only when no single table fits).
#[derive(Serialize, ToSchema)]
#[schema(as = Combination)]
pub struct CombinationDoc {
    #[schema(example = json!(["T3", "T4"]))]
    pub tables: Vec<String>,
    pub seats: u16,
}

/// Ranges per weekday as `HH:MM-HH:MM`; a range ending at or before its start runs past
/// midnight and belongs to the day it opens. Missing days are closed.
#[derive(Serialize, ToSchema)]
#[schema(as = WeeklyHours, example = json!({"monday": ["12:00-15:00", "19:00-23:30"], "saturday": ["18:00-02:00"]}))]
pub struct WeeklyHoursDoc {
    pub monday: Option<Vec<String>>,
    pub tuesday: Option<Vec<String>>,
    pub wednesday: Option<Vec<String>>,
    pub thursday: Option<Vec<String>>,
    pub friday: Option<Vec<String>>,
    pub saturday: Option<Vec<String>>,
    pub sunday: Option<Vec<String>>,
}

/// A dated exception: closed all day, or other hours.
#[derive(Serialize, ToSchema)]
#[schema(as = Exception)]
pub struct ExceptionDoc {
    #[schema(format = Date, example = "2026-12-24")]
    pub date: String,
    #[schema(nullable = false)]
    pub closed: Option<bool>,
    #[schema(nullable = false)]
    pub hours: Option<Vec<String>>,
}

#[derive(Serialize, ToSchema)]
#[schema(as = TurnBand)]
pub struct TurnBandDoc {
    pub min_party: u16,
    pub max_party: u16,
    pub turn_minutes: u16,
}

#[derive(Serialize, ToSchema)]
#[schema(as = Pacing)]
pub struct PacingDoc {
    /// At most this many guests may start in any 15-minute interval.
    pub max_guests: u16,
}

/// The booking policy; every field has a default.
#[derive(Serialize, ToSchema)]
#[schema(as = BookingPolicy)]
pub struct PolicyDoc {
    /// How long a party holds its table (5–720, default 60).
    pub turn_minutes: Option<u16>,
    /// Turn times by party size.
    pub turn_by_party_size: Option<Vec<TurnBandDoc>>,
    /// Minutes a table stays free after a party (default 0).
    pub buffer_minutes: Option<u16>,
    /// How far a requested time may move to fit, in steps of 15 (default 15).
    pub flex_minutes: Option<u16>,
    /// Minimum notice in minutes (default 0).
    pub lead_minutes: Option<u16>,
    /// How many days ahead bookings are taken (default 90).
    pub horizon_days: Option<u16>,
    #[schema(nullable = false)]
    pub max_party_size: Option<u16>,
    #[schema(nullable = false)]
    pub pacing: Option<PacingDoc>,
}

/// A restaurant's configuration (the core's `Restaurant`).
#[derive(Serialize, ToSchema)]
#[schema(as = RestaurantConfig)]
pub struct RestaurantConfigDoc {
    pub id: String,
    pub name: String,
    /// IANA time-zone name; every date and time of the restaurant is wall-clock time there.
    #[schema(example = "Europe/Berlin")]
    pub timezone: String,
    pub tables: Vec<TableDoc>,
    pub combinations: Vec<CombinationDoc>,
    pub opening_hours: WeeklyHoursDoc,
    pub exceptions: Vec<ExceptionDoc>,
    pub policy: PolicyDoc,
}

#[derive(Serialize, ToSchema)]
#[schema(as = ReservationCounts)]
pub struct CountsDoc {
    pub total: u64,
    pub confirmed: u64,
    pub rejected: u64,
    pub cancelled: u64,
    pub seated: u64,
    pub completed: u64,
    pub no_show: u64,
    /// Confirmed reservations that have not started yet.
    pub upcoming: u64,
}

/// A restaurant: its configuration plus derived figures.
#[derive(Serialize, ToSchema)]
#[schema(as = Restaurant)]
pub struct RestaurantDoc {
    pub id: String,
    pub name: String,
    #[schema(example = "Europe/Berlin")]
    pub timezone: String,
    pub tables: Vec<TableDoc>,
    pub combinations: Vec<CombinationDoc>,
    pub opening_hours: WeeklyHoursDoc,
    pub exceptions: Vec<ExceptionDoc>,
    pub policy: PolicyDoc,
    /// The biggest party that can be booked.
    pub largest_party: u16,
    pub reservations: CountsDoc,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = ReservationStatus)]
pub enum StatusDoc {
    Confirmed,
    Rejected,
    Cancelled,
    Seated,
    Completed,
    NoShow,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = RejectionReason)]
pub enum ReasonDoc {
    NoTableAvailable,
    PacingLimitReached,
}

/// A reservation as it now is.
#[derive(Serialize, ToSchema)]
#[schema(as = Reservation)]
pub struct ReservationDoc {
    pub id: String,
    pub restaurant_id: String,
    pub user_id: String,
    /// The guest's name.
    pub name: String,
    pub party_size: u16,
    /// The service date.
    #[schema(format = Date, example = "2026-12-08")]
    pub date: String,
    #[schema(example = "19:30")]
    pub requested_time: String,
    /// The assigned start (`HH:MM`); absent when rejected.
    #[schema(nullable = false, example = "19:30")]
    pub time: Option<String>,
    /// The assigned start as a civil date-time (differs from `date` after midnight).
    #[schema(nullable = false, example = "2026-12-08T19:30:00")]
    pub starts_at: Option<String>,
    pub status: StatusDoc,
    pub table_ids: Vec<String>,
    #[schema(nullable = false)]
    pub reason: Option<ReasonDoc>,
    /// Up to three other start times that day, nearest first (rejected requests only).
    #[schema(nullable = false)]
    pub alternatives: Option<Vec<String>>,
}

/// A restaurant's reservations on one service date, sorted by start time.
#[derive(Serialize, ToSchema)]
#[schema(as = DayListing)]
pub struct DayListingDoc {
    pub restaurant_id: String,
    #[schema(format = Date)]
    pub date: String,
    /// Present for temporal queries: the instant the listing reflects.
    #[schema(nullable = false, format = DateTime)]
    pub as_of: Option<String>,
    pub reservations: Vec<ReservationDoc>,
}

#[derive(Serialize, ToSchema)]
#[schema(as = UserListing)]
pub struct UserListingDoc {
    pub user_id: String,
    pub reservations: Vec<ReservationDoc>,
}

#[derive(Serialize, ToSchema)]
#[schema(as = Availability)]
pub struct AvailabilityDoc {
    #[schema(format = Date)]
    pub date: String,
    pub party_size: u16,
    /// Start times at which a booking would be confirmed exactly.
    #[schema(example = json!(["18:00", "18:15", "20:30"]))]
    pub times: Vec<String>,
}

#[derive(Serialize, ToSchema)]
#[schema(as = Occupancy)]
pub struct OccupancyDoc {
    pub table_ids: Vec<String>,
    #[schema(example = "2026-12-08T19:30:00")]
    pub starts_at: String,
    #[schema(example = "2026-12-08T20:30:00")]
    pub held_until: String,
    pub party_size: u16,
}

/// The PII-free day snapshot: what browsers and edge functions preview bookings against.
#[derive(Serialize, ToSchema)]
#[schema(as = DaySnapshot)]
pub struct SnapshotDoc {
    pub snapshot_version: u16,
    pub restaurant: RestaurantConfigDoc,
    #[schema(format = Date)]
    pub date: String,
    pub occupancy: Vec<OccupancyDoc>,
}

/// A recorded event: the core's wire form (`type`, `version` and the event's own fields, see
/// `core/EVENTS.md`) plus where and when it was stored.
#[derive(Serialize, ToSchema)]
#[schema(as = RecordedEvent, example = json!({
    "position": 42, "stream": "reservation:0192f4c8-6d3e-7a1b-9c2d-3e4f5a6b7c8d", "stream_version": 1,
    "recorded_at": "2026-12-01T10:15:00.123Z", "type": "reservation_cancelled", "version": 1,
    "reservation_id": "0192f4c8-6d3e-7a1b-9c2d-3e4f5a6b7c8d", "restaurant_id": "r1", "by": "guest",
    "at": "2026-12-01T11:15:00"
}))]
pub struct EventDoc {
    /// Position in the global log (strictly increasing).
    pub position: u64,
    pub stream: String,
    /// 1-based index within its stream.
    pub stream_version: u64,
    /// Commit time (RFC 3339, UTC).
    #[schema(format = DateTime)]
    pub recorded_at: String,
    /// The event type, e.g. `reservation_confirmed`.
    #[serde(rename = "type")]
    pub event_type: String,
    /// The event's schema version.
    pub version: u16,
}

#[derive(Serialize, ToSchema)]
#[schema(as = EventPage)]
pub struct EventPageDoc {
    pub events: Vec<EventDoc>,
    /// Pass as `after` to get the next page (the last position returned, or `after` if none).
    pub next_after: u64,
    /// The newest position in the log when the page was read.
    pub head: u64,
}

/// A reservation request.
#[derive(Serialize, ToSchema)]
#[schema(as = ReservationRequest, example = json!({"user_id": "u-42", "name": "Ada Lovelace", "party_size": 4, "date": "2026-12-08", "time": "19:30"}))]
pub struct ReservationRequestDoc {
    /// The guest.
    pub user_id: String,
    /// The guest's name as the restaurant should see it.
    pub name: String,
    pub party_size: i64,
    #[schema(format = Date)]
    pub date: String,
    /// `HH:MM`.
    pub time: String,
    /// Optional client-chosen reservation id, for idempotent retries.
    #[schema(nullable = false)]
    pub id: Option<String>,
}
