//! Seeded random command sequences over random restaurants.
//!
//! Each sequence registers a random restaurant (random tables, combinations, opening hours with
//! ranges past midnight, dated exceptions, policies with buffers, flex, lead time, horizon, party
//! bands and pacing) and then makes random calls against it: requests (new ids, retries, id
//! conflicts), cancellations by guests and staff, modifications, seating, completion, no-shows,
//! configuration changes, previews and availability on the day's snapshot, request validation,
//! replayed events, and a few malformed inputs. The sequence is produced while running natively,
//! so the generator can pick existing reservations and build real snapshots; the result is a
//! plain [`Run`] that any host replays.
//!
//! The random source is a SplitMix64 written here, so a seed means the same sequence on every
//! machine and every version of every dependency.

use reservation_core::ids::TableId;
use reservation_core::opening_hours::{Exception, Schedule, WeeklyHours};
use reservation_core::policy::{BookingPolicy, Pacing, TurnBand};
use reservation_core::reservation::Status;
use reservation_core::restaurant::{Combination, Table};
use reservation_core::snapshot::DaySnapshot;
use reservation_core::time::TimeRange;
use reservation_core::{Date, DateTime, State};
use serde_json::{Value, json};

use crate::native::Native;
use crate::run::Run;

/// The seed used when `CONFORMANCE_SEED` is not set.
pub const DEFAULT_SEED: u64 = 0x5eed_2026_1208;

/// SplitMix64: tiny, fast, and fully determined by its seed.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..=hi` (`lo` when the range is empty).
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        let span = (hi - lo) as u64 + 1;
        lo + (self.next_u64() % span) as i64
    }

    /// True with probability `percent`/100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.range(0, items.len() as i64 - 1) as usize]
    }
}

/// The seed of sequence `index` of a suite seeded with `seed`: sequences are independent, so one
/// can be replayed alone.
pub fn sequence_seed(seed: u64, index: u64) -> u64 {
    Rng::new(seed ^ index.wrapping_mul(0xd6e8_feb8_6659_fd93)).next_u64()
}

/// `count` sequences of the suite seeded with `seed`.
pub fn sequences(seed: u64, count: usize) -> Vec<Run> {
    (0..count as u64)
        .map(|i| sequence(sequence_seed(seed, i)))
        .collect()
}

const ZONES: [&str; 6] = [
    "Europe/Berlin",
    "America/New_York",
    "Asia/Tokyo",
    "UTC",
    "Australia/Lord_Howe",
    "America/Argentina/Buenos_Aires",
];
const NAMES: [&str; 8] = [
    "Ada",
    "Grace Hopper",
    "Zoë",
    "李雷",
    "O'Brien",
    "  Émile  ",
    "Ngũgĩ",
    "Bob",
];
const AREAS: [&str; 3] = ["terrace", "bar", "main room"];

/// One random sequence.
pub fn sequence(seed: u64) -> Run {
    let mut g = Gen {
        rng: Rng::new(seed),
        native: Native::default(),
        ops: Vec::new(),
        clock: base_clock(seed),
        requests: Vec::new(),
        events: Vec::new(),
        popular: Vec::new(),
    };
    let restaurant = g.restaurant();
    g.decide(json!({"type": "register_restaurant", "version": 1, "restaurant": restaurant}));
    // A few popular times that many parties ask for, so that they compete for tables.
    let day = g.clock.date();
    g.popular = (0..3).map(|_| g.time(day)).collect();
    let steps = g.rng.range(3, 28);
    for _ in 0..steps {
        g.advance_clock();
        match g.rng.range(0, 99) {
            0..=33 => g.request(),
            34..=41 => g.cancel(),
            42..=51 => g.modify(),
            52..=57 => g.seat(),
            58..=61 => g.complete(),
            62..=65 => g.no_show(),
            66..=67 => g.change_tables(),
            68..=69 => g.change_hours(),
            70..=72 => g.change_policy(),
            73 => g.register_again(),
            74..=81 => g.preview(),
            82..=89 => g.availability(),
            90..=93 => g.validate(),
            94..=95 => g.replay_event(),
            _ => g.malformed(),
        }
    }
    Run {
        state: json!({}),
        ops: g.ops,
    }
}

fn base_clock(seed: u64) -> DateTime {
    let mut rng = Rng::new(seed ^ 0xc10c);
    let day = reservation_core::Date::constant(2026, 1, 1)
        .checked_add(jiff_days(rng.range(0, 364)))
        .unwrap_or(reservation_core::Date::constant(2026, 1, 1));
    day.at(rng.range(0, 23) as i8, (rng.range(0, 11) * 5) as i8, 0, 0)
}

fn jiff_days(days: i64) -> jiff::Span {
    jiff::Span::new().days(days)
}

/// What the generator remembers of a request, to retry it or reuse its id.
#[derive(Debug, Clone)]
struct Asked {
    command: Value,
}

struct Gen {
    rng: Rng,
    native: Native,
    ops: Vec<Value>,
    clock: DateTime,
    requests: Vec<Asked>,
    events: Vec<Value>,
    popular: Vec<String>,
}

impl Gen {
    fn push(&mut self, op: Value) {
        let answer = self.native.call(&op);
        if op["op"] == "decide" && answer["type"] == "ok" {
            self.events
                .extend(answer["events"].as_array().into_iter().flatten().cloned());
        }
        self.ops.push(op);
    }

    fn decide(&mut self, command: Value) {
        self.push(json!({"op": "decide", "command": command}));
    }

    fn state(&self) -> &State {
        &self.native.state
    }

    fn restaurant_id(&self) -> String {
        self.state()
            .restaurant
            .as_ref()
            .map_or_else(|| "r1".to_string(), |r| r.id.to_string())
    }

    fn now(&self) -> String {
        self.clock.to_string()
    }

    fn advance_clock(&mut self) {
        let minutes = match self.rng.range(0, 9) {
            0..=5 => self.rng.range(0, 45),
            6..=8 => self.rng.range(30, 300),
            _ => self.rng.range(600, 3000),
        };
        self.clock = add_minutes(self.clock, minutes);
    }

    // ---- restaurants ----

    fn restaurant(&mut self) -> Value {
        let id = format!("r{}", self.rng.range(1, 9));
        let name = if self.rng.chance(2) {
            " ".to_string()
        } else {
            format!("Chez {}", self.rng.range(1, 99))
        };
        let timezone = if self.rng.chance(2) {
            "Not a zone".to_string()
        } else {
            self.rng.pick(&ZONES).to_string()
        };
        let (tables, combinations) = self.tables();
        let (opening_hours, exceptions) = self.hours();
        let policy = self.policy();
        let mut restaurant = json!({
            "id": id, "name": name, "timezone": timezone, "tables": tables, "combinations": combinations,
            "opening_hours": opening_hours, "exceptions": exceptions, "policy": policy,
        });
        if self.rng.chance(10) {
            // Defaults for everything optional.
            for key in ["combinations", "exceptions", "policy"] {
                if let Some(fields) = restaurant.as_object_mut() {
                    fields.remove(key);
                }
            }
        }
        restaurant
    }

    fn tables(&mut self) -> (Vec<Table>, Vec<Combination>) {
        // Mostly small rooms, so that parties compete for tables.
        let count = if self.rng.chance(60) {
            self.rng.range(1, 4)
        } else {
            self.rng.range(5, 10)
        };
        let naming = self.rng.range(0, 2);
        let tables: Vec<Table> = (1..=count)
            .filter_map(|i| {
                let id = match naming {
                    0 => format!("T{i}"),
                    1 => format!("table-{:02}", 20 - i),
                    _ => format!("{}{i}", ["a", "B", "z"][(i % 3) as usize]),
                };
                let seats = *self.rng.pick(&[1, 2, 2, 2, 4, 4, 4, 6, 6, 8, 10]);
                let area = self
                    .rng
                    .chance(30)
                    .then(|| self.rng.pick(&AREAS).to_string());
                // Every generated id is valid; parse only to get the type.
                Some(Table {
                    id: TableId::parse(id).ok()?,
                    seats,
                    area,
                })
            })
            .collect();
        let mut combinations: Vec<Combination> = Vec::new();
        for _ in 0..self.rng.range(0, 4) {
            if tables.len() < 2 {
                break;
            }
            let size = self.rng.range(2, 3.min(tables.len() as i64)) as usize;
            let mut chosen: Vec<usize> = Vec::new();
            while chosen.len() < size {
                let i = self.rng.range(0, tables.len() as i64 - 1) as usize;
                if !chosen.contains(&i) {
                    chosen.push(i);
                }
            }
            let sum: i64 = chosen.iter().map(|&i| i64::from(tables[i].seats)).sum();
            let seats = self.rng.range((sum - 2).max(1), sum) as u16;
            let combination = Combination {
                tables: chosen.iter().map(|&i| tables[i].id.clone()).collect(),
                seats,
            };
            let duplicate = combinations.iter().any(|c| {
                c.tables.len() == combination.tables.len()
                    && c.tables.iter().all(|t| combination.tables.contains(t))
            });
            if !duplicate {
                combinations.push(combination);
            }
        }
        if self.rng.chance(3) {
            // An invalid layout: refused with invalid_tables / invalid_combination.
            let mut tables = tables;
            if let Some(first) = tables.first().cloned() {
                tables.push(first);
            }
            return (tables, combinations);
        }
        (tables, combinations)
    }

    fn day_ranges(&mut self) -> Vec<TimeRange> {
        let templates: [&[&str]; 12] = [
            &[],
            &["12:00-15:00"],
            &["12:00-15:00", "18:00-23:00"],
            &["18:00-02:00"],
            &["11:30-14:30", "17:00-22:45"],
            &["17:00-01:30"],
            &["20:00-00:00"],
            &["00:00-24:00"],
            &["06:00-10:00", "12:00-14:00", "19:00-23:30"],
            &["22:00-04:00"],
            &["16:00-18:00"],
            &["12:00-23:00"],
        ];
        if self.rng.chance(15) {
            // Off-grid ranges: starts and ends between the 15-minute marks.
            let start = self.rng.range(6 * 60, 20 * 60);
            let end = (start + self.rng.range(60, 8 * 60)) % 1440;
            let range = format!("{}-{}", hhmm(start), hhmm(end));
            return TimeRange::parse(&range).into_iter().collect();
        }
        let template = *self.rng.pick(&templates);
        template
            .iter()
            .filter_map(|r| TimeRange::parse(r).ok())
            .collect()
    }

    fn hours(&mut self) -> (WeeklyHours, Vec<Exception>) {
        for _ in 0..20 {
            let weekly = WeeklyHours {
                monday: self.day_ranges(),
                tuesday: self.day_ranges(),
                wednesday: self.day_ranges(),
                thursday: self.day_ranges(),
                friday: self.day_ranges(),
                saturday: self.day_ranges(),
                sunday: self.day_ranges(),
            };
            let mut exceptions = Vec::new();
            for _ in 0..self.rng.range(0, 2) {
                let date = add_days(self.clock.date(), self.rng.range(0, 10));
                if exceptions.iter().any(|e: &Exception| e.date == date) {
                    continue;
                }
                let closed = self.rng.chance(60);
                let hours = if closed {
                    Vec::new()
                } else {
                    self.day_ranges()
                };
                exceptions.push(Exception {
                    date,
                    closed: closed || hours.is_empty(),
                    hours,
                });
            }
            let valid = Schedule {
                weekly: &weekly,
                exceptions: &exceptions,
            }
            .validate()
            .is_ok();
            if valid || self.rng.chance(3) {
                return (weekly, exceptions);
            }
        }
        let lunch = TimeRange::parse("12:00-15:00")
            .into_iter()
            .collect::<Vec<_>>();
        let every = WeeklyHours {
            monday: lunch.clone(),
            tuesday: lunch.clone(),
            wednesday: lunch.clone(),
            thursday: lunch.clone(),
            friday: lunch.clone(),
            saturday: lunch.clone(),
            sunday: lunch,
        };
        (every, Vec::new())
    }

    fn policy(&mut self) -> BookingPolicy {
        let turn_minutes = *self.rng.pick(&[30, 45, 60, 60, 60, 90, 120, 150, 5, 720]);
        let turn_by_party_size = if self.rng.chance(25) {
            vec![
                TurnBand {
                    min_party: 5,
                    max_party: 8,
                    turn_minutes: 90,
                },
                TurnBand {
                    min_party: 9,
                    max_party: 40,
                    turn_minutes: 120,
                },
            ]
        } else {
            Vec::new()
        };
        let mut policy = BookingPolicy {
            turn_minutes,
            turn_by_party_size,
            buffer_minutes: *self.rng.pick(&[0, 0, 0, 10, 15, 30]),
            flex_minutes: *self.rng.pick(&[0, 15, 15, 15, 30, 60]),
            lead_minutes: *self.rng.pick(&[0, 0, 0, 30, 60, 120, 1440]),
            horizon_days: *self.rng.pick(&[1, 3, 7, 30, 90, 90, 365]),
            max_party_size: self.rng.chance(15).then(|| self.rng.range(1, 8) as u16),
            pacing: self.rng.chance(25).then(|| Pacing {
                max_guests: self.rng.range(1, 16) as u16,
            }),
        };
        if self.rng.chance(3) {
            policy.flex_minutes = 10; // invalid: not a multiple of 15
        }
        policy
    }

    // ---- reservations ----

    /// A service date near the clock: mostly the next few days, sometimes past or beyond.
    fn date(&mut self) -> Date {
        let horizon = self
            .state()
            .restaurant
            .as_ref()
            .map_or(90, |r| i64::from(r.policy.horizon_days));
        let offset = match self.rng.range(0, 9) {
            0..=5 => self.rng.range(0, 2),
            6 | 7 => self.rng.range(0, horizon.min(14)),
            8 => self.rng.range(horizon - 1, horizon + 2),
            _ => self.rng.range(-2, -1),
        };
        add_days(self.clock.date(), offset)
    }

    /// A time on `date`: mostly on the grid inside opening hours, sometimes anywhere.
    fn time(&mut self, date: Date) -> String {
        let spans = self
            .state()
            .restaurant
            .as_ref()
            .map(|r| r.schedule().spans_on(date))
            .unwrap_or_default();
        if !self.popular.is_empty() && self.rng.chance(40) {
            return self.rng.pick(&self.popular).clone();
        }
        if spans.is_empty() || self.rng.chance(12) {
            let minute = if self.rng.chance(50) {
                self.rng.range(0, 95) * 15
            } else {
                self.rng.range(0, 1439)
            };
            return hhmm(minute);
        }
        let (start, end) = *self.rng.pick(&spans);
        let minute = self.rng.range(i64::from(start), i64::from(end));
        let minute = if self.rng.chance(85) {
            minute / 15 * 15
        } else {
            minute
        };
        hhmm(minute.rem_euclid(1440))
    }

    fn party_size(&mut self) -> u16 {
        let largest = self
            .state()
            .restaurant
            .as_ref()
            .map_or(4, |r| i64::from(r.largest_party()));
        match self.rng.range(0, 19) {
            0 => 0,
            1 => (largest + 1) as u16,
            2..=13 => self.rng.range(1, 4.min(largest.max(1))) as u16,
            _ => self.rng.range(1, largest.max(1)) as u16,
        }
    }

    fn guest_name(&mut self) -> String {
        if self.rng.chance(3) {
            return self.rng.pick(&["", "   ", "tab\there"]).to_string();
        }
        self.rng.pick(&NAMES).to_string()
    }

    fn request(&mut self) {
        let retry = !self.requests.is_empty() && self.rng.chance(8);
        if retry {
            let i = self.rng.range(0, self.requests.len() as i64 - 1) as usize;
            let mut command = self.requests[i].command.clone();
            command["now"] = json!(self.now());
            if self.rng.chance(50) {
                command["party_size"] = json!(self.party_size()); // same id, other details
            }
            self.decide(command);
            return;
        }
        let id = format!("res-{}", self.ops.len());
        let date = self.date();
        let time = self.time(date);
        let restaurant_id = if self.rng.chance(3) {
            "unknown-r".to_string()
        } else {
            self.restaurant_id()
        };
        let command = json!({
            "type": "request_reservation", "version": 1,
            "reservation_id": id, "restaurant_id": restaurant_id,
            "user_id": format!("u{}", self.rng.range(1, 5)), "guest_name": self.guest_name(),
            "party_size": self.party_size(), "date": date, "time": time, "now": self.now(),
        });
        self.requests.push(Asked {
            command: command.clone(),
        });
        self.decide(command);
    }

    /// An existing reservation id (preferring ones in `statuses`), or sometimes an unknown one.
    fn reservation(
        &mut self,
        statuses: &[Status],
    ) -> (String, Option<reservation_core::reservation::Reservation>) {
        let all: Vec<_> = self.state().reservations.values().cloned().collect();
        if all.is_empty() || self.rng.chance(5) {
            return (format!("nobody-{}", self.rng.range(1, 3)), None);
        }
        let preferred: Vec<_> = all
            .iter()
            .filter(|r| statuses.contains(&r.status))
            .cloned()
            .collect();
        let pool = if !preferred.is_empty() && self.rng.chance(85) {
            preferred
        } else {
            all
        };
        let r = self.rng.pick(&pool).clone();
        (r.id.to_string(), Some(r))
    }

    /// Moves the clock to around a reservation's start, sometimes.
    fn near_start(
        &mut self,
        r: &Option<reservation_core::reservation::Reservation>,
        before: i64,
        after: i64,
    ) {
        if let Some(start) = r.as_ref().and_then(|r| r.starts_at)
            && self.rng.chance(70)
        {
            let at = add_minutes(start, self.rng.range(-before, after));
            self.clock = self.clock.max(at);
        }
    }

    fn cancel(&mut self) {
        let (id, r) = self.reservation(&[Status::Confirmed]);
        let by = if self.rng.chance(60) {
            "guest"
        } else {
            "staff"
        };
        self.near_start(&r, 120, 30);
        self.decide(json!({"type": "cancel_reservation", "version": 1, "reservation_id": id, "by": by, "now": self.now()}));
    }

    fn modify(&mut self) {
        let (id, r) = self.reservation(&[Status::Confirmed]);
        let mut command = json!({"type": "modify_reservation", "version": 1, "reservation_id": id, "by": "guest", "now": self.now()});
        let date = r.as_ref().map_or_else(|| self.date(), |r| r.date);
        let date = if self.rng.chance(20) {
            self.date()
        } else {
            date
        };
        if date != r.as_ref().map_or(date, |r| r.date) || self.rng.chance(10) {
            command["date"] = json!(date);
        }
        if self.rng.chance(70) {
            let time = match r.as_ref().and_then(|r| r.time) {
                Some(t) if self.rng.chance(60) => {
                    hhmm(i64::from(t.minutes()) + self.rng.range(-6, 6) * 15)
                }
                _ => self.time(date),
            };
            command["time"] = json!(time);
        }
        if self.rng.chance(40) {
            command["party_size"] = json!(self.party_size());
        }
        if self.rng.chance(30) {
            command["by"] = json!("staff");
        }
        self.decide(command);
    }

    fn seat(&mut self) {
        let (id, r) = self.reservation(&[Status::Confirmed]);
        self.near_start(&r, 20, 30);
        self.decide(json!({"type": "seat_reservation", "version": 1, "reservation_id": id, "now": self.now()}));
    }

    fn complete(&mut self) {
        let (id, r) = self.reservation(&[Status::Seated]);
        self.near_start(&r, 0, 120);
        self.decide(json!({"type": "complete_reservation", "version": 1, "reservation_id": id, "now": self.now()}));
    }

    fn no_show(&mut self) {
        let (id, r) = self.reservation(&[Status::Confirmed]);
        self.near_start(&r, 15, 60);
        self.decide(
            json!({"type": "mark_no_show", "version": 1, "reservation_id": id, "now": self.now()}),
        );
    }

    // ---- configuration ----

    fn change_tables(&mut self) {
        let (mut tables, mut combinations) = self.tables();
        let current = self.state().restaurant.clone();
        if let Some(current) = current
            && self.rng.chance(50)
        {
            // Keep the current layout and change one table, so existing holds stay meaningful.
            tables = current.tables.clone();
            combinations = current.combinations.clone();
            if let Some(table) = tables.last_mut() {
                table.seats = self.rng.range(1, 12) as u16;
            }
            combinations.retain(|c| {
                let sum: u32 = c
                    .tables
                    .iter()
                    .filter_map(|id| tables.iter().find(|t| &t.id == id))
                    .map(|t| u32::from(t.seats))
                    .sum();
                u32::from(c.seats) <= sum
            });
        }
        self.decide(json!({"type": "change_tables", "version": 1, "restaurant_id": self.restaurant_id(), "tables": tables, "combinations": combinations}));
    }

    fn change_hours(&mut self) {
        let (opening_hours, exceptions) = self.hours();
        self.decide(json!({"type": "change_opening_hours", "version": 1, "restaurant_id": self.restaurant_id(), "opening_hours": opening_hours, "exceptions": exceptions}));
    }

    fn change_policy(&mut self) {
        let policy = self.policy();
        self.decide(json!({"type": "change_policy", "version": 1, "restaurant_id": self.restaurant_id(), "policy": policy}));
    }

    fn register_again(&mut self) {
        let restaurant = match self.state().restaurant.clone() {
            Some(current) if self.rng.chance(50) => {
                serde_json::to_value(current).unwrap_or(Value::Null)
            }
            _ => self.restaurant(),
        };
        self.decide(json!({"type": "register_restaurant", "version": 1, "restaurant": restaurant}));
    }

    // ---- previews ----

    fn snapshot(&mut self, date: Date) -> Value {
        let Some(restaurant) = self.state().restaurant.clone() else {
            return Value::Null;
        };
        let day = self.state().day_book(&restaurant.id, date);
        let mut snapshot =
            serde_json::to_value(DaySnapshot::of(&restaurant, &day)).unwrap_or(Value::Null);
        if self.rng.chance(2) {
            snapshot["snapshot_version"] = json!(2);
        }
        snapshot
    }

    fn raw_request(&mut self, date: Date) -> Value {
        let mut request = json!({
            "name": self.guest_name(),
            "party_size": self.party_size(),
            "date": date.to_string(),
            "time": self.time(date),
        });
        match self.rng.range(0, 19) {
            0 => {
                request["date"] = json!(
                    self.rng
                        .pick(&["2026-02-30", "tomorrow", "2026-1-5"])
                        .to_string()
                )
            }
            1 => {
                request["time"] = json!(
                    self.rng
                        .pick(&["7pm", "24:00", "19:60", "9:30"])
                        .to_string()
                )
            }
            2 => request["party_size"] = json!(self.rng.pick(&[-3, 0, 1001, 70000])),
            3 => request["id"] = json!(self.rng.pick(&["ok-id", "bad id", "a:b"]).to_string()),
            4 => request["user_id"] = json!("guest+1@example.com"),
            _ => {}
        }
        request
    }

    fn preview(&mut self) {
        let date = self.date();
        let snapshot = self.snapshot(date);
        let request_date = if self.rng.chance(5) {
            add_days(date, 1)
        } else {
            date
        };
        let request = self.raw_request(request_date);
        self.push(
            json!({"op": "preview", "snapshot": snapshot, "request": request, "now": self.now()}),
        );
    }

    fn availability(&mut self) {
        let date = self.date();
        let snapshot = self.snapshot(date);
        let party_size = if self.rng.chance(5) {
            json!(self.rng.pick(&[-1, 0, 500, 100000]))
        } else {
            json!(self.party_size())
        };
        self.push(json!({"op": "availability", "snapshot": snapshot, "party_size": party_size, "now": self.now()}));
    }

    fn validate(&mut self) {
        let date = self.date();
        let request = self.raw_request(date);
        self.push(json!({"op": "validate", "request": request}));
    }

    fn replay_event(&mut self) {
        if self.events.is_empty() {
            return self.validate();
        }
        let event = self.rng.pick(&self.events).clone();
        self.push(json!({"op": "evolve", "event": event}));
    }

    /// Inputs of the wrong shape: every host must refuse them as `malformed_input`.
    fn malformed(&mut self) {
        let id = self.restaurant_id();
        let op = match self.rng.range(0, 5) {
            0 => {
                json!({"op": "decide", "command": {"type": "request_reservation", "version": 1, "reservation_id": "x", "restaurant_id": id, "user_id": "u", "guest_name": "A", "party_size": 2, "date": "2026-02-30", "time": "19:00", "now": self.now()}})
            }
            1 => json!({"op": "decide", "command": {"type": "launch_rocket", "version": 1}}),
            2 => {
                json!({"op": "decide", "command": {"type": "seat_reservation", "version": 9, "reservation_id": "x", "now": self.now()}})
            }
            3 => {
                json!({"op": "decide", "command": {"type": "cancel_reservation", "version": 1, "reservation_id": "x", "by": "robot", "now": self.now()}})
            }
            4 => {
                json!({"op": "evolve", "event": {"type": "tables_released", "version": 1, "restaurant_id": id}})
            }
            _ => {
                json!({"op": "validate", "request": {"name": "A", "party_size": "two", "date": "2026-12-08", "time": "19:00"}})
            }
        };
        self.push(op);
    }
}

fn hhmm(minute: i64) -> String {
    let minute = minute.rem_euclid(1440);
    format!("{:02}:{:02}", minute / 60, minute % 60)
}

fn add_days(date: Date, days: i64) -> Date {
    date.checked_add(jiff_days(days)).unwrap_or(date)
}

fn add_minutes(at: DateTime, minutes: i64) -> DateTime {
    at.checked_add(jiff::Span::new().minutes(minutes))
        .unwrap_or(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seed_is_one_sequence() {
        assert_eq!(sequence(7), sequence(7));
        assert_ne!(sequence(7), sequence(8));
        assert_eq!(sequences(1, 3)[2], sequence(sequence_seed(1, 2)));
    }

    #[test]
    fn rng_is_splitmix64() {
        // Reference values of SplitMix64 seeded with 0.
        let mut rng = Rng::new(0);
        assert_eq!(rng.next_u64(), 0xe220_a839_7b1d_cdaf);
        assert_eq!(rng.next_u64(), 0x6e78_9e6a_a1b9_65f4);
    }

    #[test]
    fn clock_times_format() {
        assert_eq!(hhmm(1500), "01:00");
        assert_eq!(hhmm(-15), "23:45");
        assert!(reservation_core::time::ClockTime::parse(&hhmm(615)).is_ok());
    }
}
