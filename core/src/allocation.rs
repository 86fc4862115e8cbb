//! Table allocation and availability: one code path decides whether a party can start at a
//! given minute, and both the booking decision and the availability list ask it.

use jiff::civil::{Date, DateTime};
use serde::Serialize;
use std::cell::OnceCell;

use crate::day_book::{DayBook, Hold, free_of};
use crate::error::{DomainError, ErrorCode};
use crate::ids::{ReservationId, TableId};
use crate::json::from_json_names;
use crate::restaurant::{Combination, Restaurant, Table};
use crate::small_sort;

use crate::time::{
    ClockTime, MINUTES_PER_DAY, Minute, SLOT_MINUTES, days_between, format_date, minute_of,
};

/// Alternatives offered with a rejection.
pub const MAX_ALTERNATIVES: usize = 3;

/// What a party asks for, in the restaurant's civil time.
#[derive(Debug, Clone, Copy)]
pub struct Ask<'a> {
    pub date: Date,
    pub time: ClockTime,
    pub party_size: u16,
    pub now: DateTime,
    /// A reservation being modified: its own hold does not count against it.
    pub ignore: Option<&'a ReservationId>,
}

/// Where a party was seated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seating {
    pub start: Minute,
    pub held_until: Minute,
    pub table_ids: Vec<TableId>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RejectionReason {
    /// No table or combination was free at any acceptable time.
    NoTableAvailable,
    /// A table was free, but too many guests already start in that interval.
    PacingLimitReached,
}

from_json_names!(RejectionReason {
    "no_table_available" => NoTableAvailable,
    "pacing_limit_reached" => PacingLimitReached,
});

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Allocation {
    Confirmed(Seating),
    Rejected {
        reason: RejectionReason,
        alternatives: Vec<ClockTime>,
    },
}

/// Decides where (and whether) a party is seated. Invalid asks are errors and record nothing;
/// a valid ask that does not fit is a rejection with alternatives.
pub fn allocate(
    restaurant: &Restaurant,
    day: &DayBook,
    ask: &Ask<'_>,
) -> Result<Allocation, DomainError> {
    let plan = Plan::new(
        restaurant,
        day,
        ask.date,
        ask.party_size,
        ask.now,
        ask.ignore,
    )?;
    let requested = plan.requested_minute(ask.time);
    if i64::from(requested) < plan.now {
        let field = if ask.date < ask.now.date() {
            "date"
        } else {
            "time"
        };
        return Err(DomainError::new(
            ErrorCode::InThePast,
            "the requested time has already passed",
        )
        .with_field(field));
    }
    if i64::from(requested) < plan.earliest {
        return Err(DomainError::new(
            ErrorCode::InsufficientNotice,
            format!(
                "bookings need {} minutes' notice",
                restaurant.policy.lead_minutes
            ),
        )
        .with_field("time"));
    }
    if days_between(ask.now.date(), ask.date) > i64::from(restaurant.policy.horizon_days) {
        return Err(DomainError::new(
            ErrorCode::BeyondHorizon,
            format!(
                "bookings are taken up to {} days ahead",
                restaurant.policy.horizon_days
            ),
        )
        .with_field("date"));
    }
    if plan.spans.is_empty() {
        return Err(DomainError::new(
            ErrorCode::ClosedOnDate,
            format!("the restaurant is closed on {}", format_date(ask.date)),
        )
        .with_field("date"));
    }
    let candidates: Vec<Minute> = candidates(requested, restaurant.policy.flex_minutes)
        .filter(|&c| plan.within_hours(c))
        .collect();
    if candidates.is_empty() {
        return Err(DomainError::new(
            ErrorCode::OutsideOpeningHours,
            "the restaurant does not seat parties at that time",
        )
        .with_field("time"));
    }
    let mut pacing_blocked = false;
    for &start in candidates
        .iter()
        .filter(|&&c| i64::from(c) >= plan.earliest)
    {
        match plan.try_start(start) {
            Fit::Seated(choice) => {
                return Ok(Allocation::Confirmed(Seating {
                    start,
                    held_until: start + plan.hold,
                    table_ids: choice.table_ids(),
                }));
            }
            Fit::PacingFull => pacing_blocked = true,
            Fit::NoTable => {}
        }
    }
    let reason = if pacing_blocked {
        RejectionReason::PacingLimitReached
    } else {
        RejectionReason::NoTableAvailable
    };
    Ok(Allocation::Rejected {
        reason,
        alternatives: plan.alternatives(requested),
    })
}

/// Every start time on the 15-minute grid at which a party of `party_size` would be confirmed
/// exactly as asked. Dates in the past or beyond the horizon have none.
pub fn availability(
    restaurant: &Restaurant,
    day: &DayBook,
    party_size: u16,
    now: DateTime,
) -> Result<Vec<ClockTime>, DomainError> {
    let date = day.date();
    let plan = Plan::new(restaurant, day, date, party_size, now, None)?;
    if days_between(now.date(), date) > i64::from(restaurant.policy.horizon_days) {
        return Ok(Vec::new());
    }
    Ok(plan.bookable_starts().map(ClockTime::from_minute).collect())
}

/// The requested time first, then earlier and later by 15 minutes, up to the flex.
fn candidates(requested: Minute, flex_minutes: u16) -> impl Iterator<Item = Minute> {
    let steps = i32::from(flex_minutes) / SLOT_MINUTES;
    std::iter::once(requested).chain(
        (1..=steps).flat_map(move |k| [requested - k * SLOT_MINUTES, requested + k * SLOT_MINUTES]),
    )
}

enum Fit<'a> {
    Seated(Choice<'a>),
    PacingFull,
    NoTable,
}

/// Everything about one party on one day that does not depend on the start time.
struct Plan<'a> {
    day: &'a DayBook,
    party_size: u16,
    turn: Minute,
    hold: Minute,
    pacing: Option<u32>,
    spans: Vec<(Minute, Minute)>,
    now: i64,
    earliest: i64,
    /// The day book's slot of the reservation being moved, whose own holds do not count.
    ignore: Option<u32>,
    /// Tables that seat the party, each with its holds. Unordered: a pick takes the smallest
    /// free one by (seats, id), which is the first in DOMAIN.md's order without sorting.
    singles: Vec<(&'a Table, &'a [Hold])>,
    /// Combinations that seat the party with their tables' holds; looked up only once no single
    /// table fits, which is rare.
    combinations: OnceCell<Vec<CombinationHolds<'a>>>,
    restaurant: &'a Restaurant,
}

/// A combination with the holds of each of its tables.
type CombinationHolds<'a> = (&'a Combination, Vec<&'a [Hold]>);

/// What a party would be seated at.
#[derive(Clone, Copy)]
enum Choice<'a> {
    Single(&'a Table),
    Combination(&'a Combination),
}

impl Choice<'_> {
    fn table_ids(self) -> Vec<TableId> {
        match self {
            Choice::Single(table) => vec![table.id.clone()],
            Choice::Combination(combination) => combination.tables.clone(),
        }
    }
}

impl<'a> Plan<'a> {
    fn new(
        restaurant: &'a Restaurant,
        day: &'a DayBook,
        date: Date,
        party_size: u16,
        now: DateTime,
        ignore: Option<&'a ReservationId>,
    ) -> Result<Self, DomainError> {
        if party_size < 1 {
            return Err(DomainError::new(
                ErrorCode::InvalidPartySize,
                "a party has at least one guest",
            )
            .with_field("party_size"));
        }
        let largest = restaurant.largest_party();
        if party_size > largest {
            return Err(DomainError::new(
                ErrorCode::PartyTooLarge,
                format!("the largest party this restaurant seats is {largest}"),
            )
            .with_field("party_size"));
        }
        let policy = &restaurant.policy;
        let turn = policy.turn_for(party_size);
        let now = minute_of(date, now);
        // Sized for every table up front: one allocation instead of a doubling per fit.
        let mut singles = Vec::with_capacity(restaurant.tables.len());
        for table in &restaurant.tables {
            if table.seats >= party_size {
                singles.push((table, day.holds(&table.id)));
            }
        }
        Ok(Plan {
            day,
            party_size,
            turn,
            hold: turn + i32::from(policy.buffer_minutes),
            pacing: policy.pacing.as_ref().map(|p| u32::from(p.max_guests)),
            spans: restaurant.schedule().spans_on(date),
            now,
            earliest: now + i64::from(policy.lead_minutes),
            ignore: ignore.and_then(|id| day.slot_of(id)),
            singles,
            combinations: OnceCell::new(),
            restaurant,
        })
    }

    /// The minute a clock time names on this service day: after midnight when only a range
    /// running past midnight covers it.
    fn requested_minute(&self, time: ClockTime) -> Minute {
        let t = time.minutes();
        let covered = |m: Minute| self.spans.iter().any(|&(s, e)| s <= m && m < e);
        if !covered(t) && covered(t + MINUTES_PER_DAY) {
            t + MINUTES_PER_DAY
        } else {
            t
        }
    }

    /// The whole turn lies inside one opening range.
    fn within_hours(&self, start: Minute) -> bool {
        self.spans
            .iter()
            .any(|&(s, e)| s <= start && start + self.turn <= e)
    }

    fn try_start(&self, start: Minute) -> Fit<'a> {
        let end = start + self.hold;
        let free = |holds: &[Hold]| free_of(holds, start, end, self.ignore);
        let mut single: Option<&Table> = None;
        for &(table, holds) in &self.singles {
            let better =
                single.is_none_or(|best| (table.seats, &table.id) < (best.seats, &best.id));
            if better && free(holds) {
                single = Some(table);
            }
        }
        let choice = single.map(Choice::Single).or_else(|| {
            let mut best: Option<&Combination> = None;
            for (combination, holds) in self.combinations() {
                let better = best.is_none_or(|b| {
                    (combination.seats, &combination.tables) < (b.seats, &b.tables)
                });
                if better && holds.iter().all(|h| free(h)) {
                    best = Some(combination);
                }
            }
            best.map(Choice::Combination)
        });
        match (choice, self.pacing) {
            (None, _) => Fit::NoTable,
            (Some(_), Some(max))
                if self.day.guests_starting_near_slot(start, self.ignore)
                    + u32::from(self.party_size)
                    > max =>
            {
                Fit::PacingFull
            }
            (Some(choice), _) => Fit::Seated(choice),
        }
    }

    fn combinations(&self) -> &[CombinationHolds<'a>] {
        self.combinations.get_or_init(|| {
            let party_size = self.party_size;
            let day = self.day;
            self.restaurant
                .combinations
                .iter()
                .filter(|c| c.seats >= party_size)
                .map(|c| (c, c.tables.iter().map(|t| day.holds(t)).collect()))
                .collect()
        })
    }

    /// Grid starts whose whole turn lies in opening hours and that respect the notice.
    fn grid_starts(&self) -> impl Iterator<Item = Minute> + '_ {
        self.spans
            .iter()
            .flat_map(|&(s, e)| {
                let first = (s + SLOT_MINUTES - 1).div_euclid(SLOT_MINUTES) * SLOT_MINUTES;
                (0..)
                    .map(move |k| first + k * SLOT_MINUTES)
                    .take_while(move |&start| start < e)
            })
            .filter(|&start| i64::from(start) >= self.earliest && self.within_hours(start))
    }

    fn bookable_starts(&self) -> impl Iterator<Item = Minute> + '_ {
        self.grid_starts()
            .filter(|&start| matches!(self.try_start(start), Fit::Seated(_)))
    }

    /// Up to three bookable starts, nearest to the requested minute first (earlier on a tie).
    /// Starts are tried outward from the request, so a busy day stops at the first three.
    fn alternatives(&self, requested: Minute) -> Vec<ClockTime> {
        let mut starts: Vec<Minute> = self.grid_starts().collect();
        // Already ascending when the opening hours are valid; then walk outward from the
        // request, which is the order of (distance, start).
        small_sort::sort(&mut starts);
        let mut after = starts.partition_point(|&s| s < requested);
        let mut before = after;
        let mut found = Vec::with_capacity(MAX_ALTERNATIVES);
        while found.len() < MAX_ALTERNATIVES {
            let earlier = before.checked_sub(1).and_then(|i| starts.get(i)).copied();
            let later = starts.get(after).copied();
            let start = match (earlier, later) {
                (Some(e), Some(l)) if requested - e <= l - requested => {
                    before -= 1;
                    e
                }
                (Some(e), None) => {
                    before -= 1;
                    e
                }
                (_, Some(l)) => {
                    after += 1;
                    l
                }
                (None, None) => break,
            };
            if matches!(self.try_start(start), Fit::Seated(_)) {
                found.push(ClockTime::from_minute(start));
            }
        }
        found
    }
}
