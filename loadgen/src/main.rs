//! Load generator for `reservation-server`.
//!
//! Registers `--restaurants` restaurants (time zone UTC, open 10:00-23:00 every day), then books
//! from `--connections` keep-alive HTTP/1.1 connections for `--duration`, spread uniformly over
//! the restaurants, `--days` service dates (tomorrow onwards) and the 15-minute grid, and reports
//! confirmed and rejected bookings per second, errors, and latency percentiles.
//!
//! `--prior K` then seeds K reservations into one restaurant and compares booking latency there
//! with a restaurant that has none. `--server-pid PID` samples the server's memory from
//! `/proc/PID/status` (peak `VmHWM`, largest `VmRSS` seen) and its CPU time from
//! `/proc/PID/stat` over the measured period, reported per booking beside loadgen's own: on one
//! machine the two share the cores, so both decide the rate.
//!
//! ```text
//! cargo run --release -p loadgen -- --url http://127.0.0.1:8080 --connections 64 --duration 20s
//! ```

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use bytes::Bytes;
use clap::Parser;
use hdrhistogram::Histogram;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::header::HeaderValue;
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use serde::Deserialize;
use serde_json::json;

#[derive(Debug, Clone, Parser)]
#[command(about = "Load generator for reservation-server")]
struct Args {
    /// Base URL of the server (http only).
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    url: String,
    /// Concurrent keep-alive connections.
    #[arg(long, default_value_t = 16)]
    connections: usize,
    /// How long to fire bookings (e.g. 20s, 1m, 500ms).
    #[arg(long, default_value = "20s", value_parser = parse_duration)]
    duration: Duration,
    /// Bookings before the measured period (not counted).
    #[arg(long, default_value = "2s", value_parser = parse_duration)]
    warmup: Duration,
    /// Restaurants to register and spread bookings over.
    #[arg(long, default_value_t = 200)]
    restaurants: usize,
    /// Service dates to spread bookings over: tomorrow and the following days (at most 89).
    #[arg(long, default_value_t = 60)]
    days: u32,
    /// Tables per restaurant (a mix of 2, 4, 6 and 8 seats).
    #[arg(long, default_value_t = 20)]
    tables: usize,
    /// Largest party booked (parties are 1..=this, mostly small).
    #[arg(long, default_value_t = 6)]
    max_party: u16,
    /// Distinct guests (user ids) the bookings come from.
    #[arg(long, default_value_t = 100_000)]
    users: u32,
    /// Bearer token sent as `Authorization: Bearer TOKEN`.
    #[arg(long)]
    token: Option<String>,
    /// The server's process id: sample its memory (/proc/PID/status) and its CPU time over the
    /// measured period (/proc/PID/stat).
    #[arg(long)]
    server_pid: Option<u32>,
    /// Seed this many reservations into one restaurant, then compare booking latency there with
    /// an empty restaurant (0: skip).
    #[arg(long, default_value_t = 0)]
    prior: usize,
    /// Bookings per restaurant in the comparison.
    #[arg(long, default_value_t = 3000)]
    compare_requests: usize,
    /// In the `--prior` comparison, seed the prior reservations on the same dates that are then
    /// measured (a fuller day book), instead of on other dates (history only: the default).
    #[arg(long)]
    prior_same_days: bool,
    /// Skip the main run (e.g. only the `--prior` comparison).
    #[arg(long)]
    skip_main: bool,
    /// Print the summary as one JSON object too.
    #[arg(long)]
    json: bool,
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration like 20s"))?;
    let seconds = match unit {
        "ms" => value / 1000.0,
        "" | "s" => value,
        "m" => value * 60.0,
        _ => return Err(format!("unknown unit {unit:?} (ms, s, m)")),
    };
    Duration::try_from_secs_f64(seconds).map_err(|e| e.to_string())
}

/// Where the server is.
#[derive(Debug, Clone)]
struct Target {
    addr: String,
    host_header: HeaderValue,
    /// `Bearer <token>`, made once rather than per request.
    authorization: Option<HeaderValue>,
}

impl Target {
    fn parse(url: &str, token: Option<String>) -> Result<Self> {
        let uri: hyper::Uri = url.parse().with_context(|| format!("bad --url {url:?}"))?;
        if uri.scheme_str() != Some("http") {
            bail!("--url must be http://HOST:PORT");
        }
        let host = uri.host().ok_or_else(|| anyhow!("--url has no host"))?;
        let port = uri.port_u16().unwrap_or(80);
        let authorization = token
            .map(|token| HeaderValue::try_from(format!("Bearer {token}")))
            .transpose()
            .context("--token is not a valid header value")?;
        Ok(Target {
            addr: format!("{host}:{port}"),
            host_header: HeaderValue::try_from(format!("{host}:{port}"))?,
            authorization,
        })
    }
}

/// One keep-alive HTTP/1.1 connection; reconnects after a failure.
struct Client {
    target: Arc<Target>,
    sender: Option<SendRequest<Full<Bytes>>>,
}

impl Client {
    fn new(target: Arc<Target>) -> Self {
        Client {
            target,
            sender: None,
        }
    }

    async fn connect(&self) -> Result<SendRequest<Full<Bytes>>> {
        let stream = tokio::net::TcpStream::connect(&self.target.addr)
            .await
            .with_context(|| format!("connecting to {}", self.target.addr))?;
        stream.set_nodelay(true)?;
        let (sender, connection) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        Ok(sender)
    }

    async fn request(
        &mut self,
        method: Method,
        path: &str,
        body: Option<String>,
    ) -> Result<(StatusCode, Bytes)> {
        let mut sender = match self.sender.take() {
            Some(sender) if !sender.is_closed() => sender,
            _ => self.connect().await?,
        };
        sender.ready().await?;
        let mut request = Request::builder()
            .method(method)
            .uri(path)
            .header(hyper::header::HOST, &self.target.host_header);
        if let Some(authorization) = &self.target.authorization {
            request = request.header(hyper::header::AUTHORIZATION, authorization);
        }
        let request = match body {
            Some(body) => request
                .header(hyper::header::CONTENT_TYPE, "application/json")
                .body(Full::new(Bytes::from(body)))?,
            None => request.body(Full::new(Bytes::new()))?,
        };
        let response = sender.send_request(request).await?;
        let status = response.status();
        let body = response.into_body().collect().await?.to_bytes();
        self.sender = Some(sender);
        Ok((status, body))
    }
}

/// The booking workload: which restaurants, dates, times and parties.
struct Workload {
    restaurants: Vec<String>,
    dates: Vec<String>,
    /// Start times on the 15-minute grid at which a 60-minute turn ends by 23:00.
    times: Vec<String>,
    max_party: u16,
    users: u32,
}

impl Workload {
    fn new(restaurants: Vec<String>, args: &Args) -> Result<Self> {
        let today = jiff::tz::TimeZone::UTC
            .to_datetime(jiff::Timestamp::now())
            .date();
        let days = args.days.clamp(1, 89);
        let dates = (1..=days)
            .map(|d| {
                today
                    .checked_add(jiff::Span::new().days(i64::from(d)))
                    .map(|date| date.to_string())
            })
            .collect::<Result<Vec<_>, _>>()?;
        let times = (10 * 60..=22 * 60)
            .step_by(15)
            .map(|m| format!("{:02}:{:02}", m / 60, m % 60))
            .collect();
        Ok(Workload {
            restaurants,
            dates,
            times,
            max_party: args.max_party.max(1),
            users: args.users.max(1),
        })
    }

    fn pick(items: &[String]) -> &str {
        items
            .get(fastrand::usize(..items.len().max(1)))
            .map_or("", String::as_str)
    }

    /// A booking request: (path, body).
    fn booking(&self, restaurant: Option<&str>) -> (String, String) {
        let restaurant = restaurant.unwrap_or_else(|| Self::pick(&self.restaurants));
        // Mostly couples and small groups, like real demand.
        let party = match fastrand::u8(..10) {
            0..=4 => 2,
            5..=6 => 4,
            7 => 1,
            8 => 3,
            _ => fastrand::u16(1..=self.max_party),
        }
        .min(self.max_party);
        let body = json!({
            "user_id": format!("u{}", fastrand::u32(..self.users)),
            "name": "Load Test",
            "party_size": party,
            "date": Self::pick(&self.dates),
            "time": Self::pick(&self.times),
        });
        (
            format!("/restaurants/{restaurant}/reservations"),
            body.to_string(),
        )
    }
}

fn restaurant_body(id: &str, tables: usize) -> String {
    let seats = [2u16, 2, 4, 4, 2, 4, 6, 4, 2, 8];
    let tables: Vec<_> = (0..tables.max(1))
        .map(|i| json!({ "id": format!("T{}", i + 1), "seats": seats[i % seats.len()] }))
        .collect();
    let hours = json!(["10:00-23:00"]);
    json!({
        "id": id,
        "name": format!("Loadgen {id}"),
        "timezone": "UTC",
        "tables": tables,
        "opening_hours": {
            "monday": hours, "tuesday": hours, "wednesday": hours, "thursday": hours,
            "friday": hours, "saturday": hours, "sunday": hours,
        },
        "policy": { "turn_minutes": 60, "flex_minutes": 15, "buffer_minutes": 0 },
    })
    .to_string()
}

/// Registers restaurants `ids` over up to `connections` connections.
async fn register(
    target: &Arc<Target>,
    ids: &[String],
    tables: usize,
    connections: usize,
) -> Result<()> {
    let chunks: Vec<Vec<String>> = ids
        .chunks(ids.len().div_ceil(connections.max(1)).max(1))
        .map(<[String]>::to_vec)
        .collect();
    let mut tasks = Vec::new();
    for chunk in chunks {
        let target = Arc::clone(target);
        tasks.push(tokio::spawn(async move {
            let mut client = Client::new(target);
            for id in chunk {
                let (status, body) = client
                    .request(
                        Method::POST,
                        "/restaurants",
                        Some(restaurant_body(&id, tables)),
                    )
                    .await?;
                if status != StatusCode::CREATED && status != StatusCode::OK {
                    bail!(
                        "registering {id}: {status} {}",
                        String::from_utf8_lossy(&body)
                    );
                }
            }
            Ok::<_, anyhow::Error>(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    Ok(())
}

#[derive(Deserialize)]
struct BookingAnswer {
    status: String,
}

/// What one connection saw.
struct Tally {
    confirmed: u64,
    rejected: u64,
    errors: u64,
    /// Non-201 answers by HTTP status.
    error_statuses: std::collections::BTreeMap<u16, u64>,
    first_error: Option<String>,
    latency: Histogram<u64>,
}

impl Tally {
    fn new() -> Result<Self> {
        Ok(Tally {
            confirmed: 0,
            rejected: 0,
            errors: 0,
            error_statuses: Default::default(),
            first_error: None,
            latency: Histogram::new_with_bounds(1, 60_000_000, 3)?,
        })
    }

    fn merge(&mut self, other: &Tally) -> Result<()> {
        self.confirmed += other.confirmed;
        self.rejected += other.rejected;
        self.errors += other.errors;
        for (status, n) in &other.error_statuses {
            *self.error_statuses.entry(*status).or_default() += n;
        }
        if self.first_error.is_none() {
            self.first_error.clone_from(&other.first_error);
        }
        self.latency.add(&other.latency)?;
        Ok(())
    }

    fn record(&mut self, started: Instant, outcome: Result<(StatusCode, Bytes)>) {
        let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        let _ = self.latency.record(micros.clamp(1, 60_000_000));
        match outcome {
            Ok((StatusCode::CREATED, body)) => match serde_json::from_slice::<BookingAnswer>(&body)
            {
                Ok(answer) if answer.status == "confirmed" => self.confirmed += 1,
                Ok(answer) if answer.status == "rejected" => self.rejected += 1,
                _ => self.error("201 with an unexpected body", Some(201), &body),
            },
            Ok((status, body)) => self.error("unexpected status", Some(status.as_u16()), &body),
            Err(e) => self.error(&format!("{e:#}"), None, &Bytes::new()),
        }
    }

    fn error(&mut self, what: &str, status: Option<u16>, body: &Bytes) {
        self.errors += 1;
        *self.error_statuses.entry(status.unwrap_or(0)).or_default() += 1;
        if self.first_error.is_none() {
            let body = String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned();
            self.first_error = Some(format!("{what} {status:?} {body}"));
        }
    }
}

/// Fires bookings from `connections` connections until `until`; requests that start before
/// `measure_from` are not counted.
async fn fire(
    target: &Arc<Target>,
    workload: &Arc<Workload>,
    connections: usize,
    measure_from: Instant,
    until: Instant,
    restaurant: Option<Arc<Vec<String>>>,
    max_requests: Option<usize>,
) -> Result<Vec<Tally>> {
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for connection in 0..connections.max(1) {
        let (target, workload, stop, restaurant) = (
            Arc::clone(target),
            Arc::clone(workload),
            Arc::clone(&stop),
            restaurant.clone(),
        );
        // With a request budget, each connection takes its share.
        let budget = max_requests
            .map(|n| n / connections.max(1) + usize::from(connection < n % connections.max(1)));
        tasks.push(tokio::spawn(async move {
            // One tally per restaurant in `restaurant` mode (the comparison), else one.
            let lanes = restaurant.as_ref().map_or(1, |r| r.len().max(1));
            let mut tallies = (0..lanes)
                .map(|_| Tally::new())
                .collect::<Result<Vec<_>>>()?;
            let mut client = Client::new(target);
            let mut sent = 0usize;
            while !stop.load(Ordering::Relaxed)
                && Instant::now() < until
                && budget.is_none_or(|b| sent < b)
            {
                let lane = sent % lanes;
                let (path, body) = workload.booking(
                    restaurant
                        .as_ref()
                        .and_then(|r| r.get(lane))
                        .map(String::as_str),
                );
                let started = Instant::now();
                let outcome = client.request(Method::POST, &path, Some(body)).await;
                if started >= measure_from
                    && let Some(tally) = tallies.get_mut(lane)
                {
                    tally.record(started, outcome);
                }
                sent += 1;
            }
            Ok::<_, anyhow::Error>(tallies)
        }));
    }
    let mut merged: Vec<Tally> = Vec::new();
    for task in tasks {
        for (lane, tally) in task.await??.into_iter().enumerate() {
            match merged.get_mut(lane) {
                Some(into) => into.merge(&tally)?,
                None => merged.push(tally),
            }
        }
    }
    stop.store(true, Ordering::Relaxed);
    Ok(merged)
}

/// Samples /proc/PID/status: (peak VmHWM, largest VmRSS seen), in KiB.
struct MemorySampler {
    stop: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<(u64, u64)>,
}

fn read_status_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find_map(|line| {
        let rest = line.strip_prefix(field)?.strip_prefix(':')?;
        rest.split_whitespace().next()?.parse().ok()
    })
}

/// CPU time (user + system, all threads, exited ones included) of a process so far.
fn process_cpu(pid: &str) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let ticks = cpu_ticks(&stat)?;
    let per_second = rustix::param::clock_ticks_per_second().max(1);
    Some(Duration::from_micros(ticks * 1_000_000 / per_second))
}

/// utime + stime, in clock ticks, from a `/proc/PID/stat` line.
fn cpu_ticks(stat: &str) -> Option<u64> {
    // The command name (field 2) may hold spaces and parentheses: count fields after its last
    // closing parenthesis, where utime and stime are the 12th and 13th.
    let mut fields = stat
        .get(stat.rfind(')')? + 1..)?
        .split_whitespace()
        .skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

/// CPU time of the server and of loadgen itself at one instant.
#[derive(Clone, Copy)]
struct CpuSample {
    server: Duration,
    loadgen: Duration,
}

impl CpuSample {
    fn take(server_pid: u32) -> Option<Self> {
        Some(CpuSample {
            server: process_cpu(&server_pid.to_string())?,
            loadgen: process_cpu("self")?,
        })
    }

    /// Microseconds of CPU per booking of each process between `self` and `end`.
    fn per_booking(self, end: CpuSample, bookings: u64) -> (f64, f64) {
        let per = |from: Duration, to: Duration| {
            to.saturating_sub(from).as_secs_f64() * 1e6 / (bookings.max(1) as f64)
        };
        (per(self.server, end.server), per(self.loadgen, end.loadgen))
    }
}

impl MemorySampler {
    fn start(pid: u32) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let task = tokio::spawn(async move {
            let (mut hwm, mut rss) = (0, 0);
            loop {
                hwm = hwm.max(read_status_kib(pid, "VmHWM").unwrap_or(0));
                rss = rss.max(read_status_kib(pid, "VmRSS").unwrap_or(0));
                if flag.load(Ordering::Relaxed) {
                    return (hwm, rss);
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        });
        MemorySampler { stop, task }
    }

    async fn finish(self) -> (u64, u64) {
        self.stop.store(true, Ordering::Relaxed);
        self.task.await.unwrap_or((0, 0))
    }
}

fn percentiles(h: &Histogram<u64>) -> serde_json::Value {
    let ms = |v: u64| (v as f64) / 1000.0;
    json!({
        "p50_ms": ms(h.value_at_quantile(0.50)),
        "p90_ms": ms(h.value_at_quantile(0.90)),
        "p99_ms": ms(h.value_at_quantile(0.99)),
        "max_ms": ms(h.max()),
        "mean_ms": h.mean() / 1000.0,
        "count": h.len(),
    })
}

fn describe(h: &Histogram<u64>) -> String {
    let ms = |v: u64| (v as f64) / 1000.0;
    format!(
        "p50 {:.2} ms  p90 {:.2} ms  p99 {:.2} ms  max {:.2} ms  (mean {:.2} ms, n={})",
        ms(h.value_at_quantile(0.50)),
        ms(h.value_at_quantile(0.90)),
        ms(h.value_at_quantile(0.99)),
        ms(h.max()),
        h.mean() / 1000.0,
        h.len()
    )
}

fn run_id() -> String {
    (0..6)
        .map(|_| fastrand::alphanumeric().to_ascii_lowercase())
        .collect()
}

async fn main_run(args: &Args, target: &Arc<Target>, run: &str) -> Result<serde_json::Value> {
    let ids: Vec<String> = (0..args.restaurants.max(1))
        .map(|i| format!("lg-{run}-{i}"))
        .collect();
    let started = Instant::now();
    register(target, &ids, args.tables, args.connections).await?;
    println!(
        "registered {} restaurants in {:.2?}",
        ids.len(),
        started.elapsed()
    );
    let workload = Arc::new(Workload::new(ids, args)?);
    let memory = args.server_pid.map(MemorySampler::start);
    let start = Instant::now();
    let measure_from = start + args.warmup;
    let until = measure_from + args.duration;
    // CPU is counted from the end of the warm-up, like the bookings.
    let cpu_at_start = args.server_pid.map(|pid| {
        tokio::spawn(async move {
            tokio::time::sleep_until(measure_from.into()).await;
            CpuSample::take(pid)
        })
    });
    let tallies = fire(
        target,
        &workload,
        args.connections,
        measure_from,
        until,
        None,
        None,
    )
    .await?;
    let elapsed = Instant::now()
        .saturating_duration_since(measure_from)
        .as_secs_f64()
        .max(1e-9);
    let cpu_at_end = args.server_pid.and_then(CpuSample::take);
    let cpu_at_start = match cpu_at_start {
        Some(task) => task.await.ok().flatten(),
        None => None,
    };
    let memory = match memory {
        Some(sampler) => Some(sampler.finish().await),
        None => None,
    };
    let mut total = Tally::new()?;
    for tally in &tallies {
        total.merge(tally)?;
    }
    let per_second = |n: u64| n as f64 / elapsed;
    println!(
        "\n== {} connections, {:.1} s measured ({} restaurants x {} days, {} tables each) ==",
        args.connections,
        elapsed,
        args.restaurants,
        workload.dates.len(),
        args.tables
    );
    println!(
        "confirmed  {:>10.0} /s  ({})",
        per_second(total.confirmed),
        total.confirmed
    );
    println!(
        "rejected   {:>10.0} /s  ({})",
        per_second(total.rejected),
        total.rejected
    );
    println!(
        "errors     {:>10.0} /s  ({}) {:?}",
        per_second(total.errors),
        total.errors,
        total.error_statuses
    );
    if let Some(error) = &total.first_error {
        println!("first error: {error}");
    }
    println!("latency    {}", describe(&total.latency));
    if let Some((hwm, rss)) = memory {
        println!(
            "server memory: peak VmHWM {:.1} MiB, largest VmRSS seen {:.1} MiB",
            hwm as f64 / 1024.0,
            rss as f64 / 1024.0
        );
    }
    let cpu = cpu_at_start
        .zip(cpu_at_end)
        .map(|(from, to)| from.per_booking(to, total.confirmed + total.rejected));
    if let Some((server, loadgen)) = cpu {
        println!("CPU per booking: server {server:.0} µs, loadgen {loadgen:.0} µs");
    }
    Ok(json!({
        "connections": args.connections,
        "seconds": elapsed,
        "restaurants": args.restaurants,
        "days": workload.dates.len(),
        "tables": args.tables,
        "confirmed": total.confirmed,
        "rejected": total.rejected,
        "errors": total.errors,
        "confirmed_per_s": per_second(total.confirmed),
        "rejected_per_s": per_second(total.rejected),
        "requests_per_s": per_second(total.confirmed + total.rejected + total.errors),
        "latency": percentiles(&total.latency),
        "server_vm_hwm_kib": memory.map(|m| m.0),
        "server_vm_rss_max_kib": memory.map(|m| m.1),
        "server_cpu_us_per_booking": cpu.map(|c| c.0),
        "loadgen_cpu_us_per_booking": cpu.map(|c| c.1),
    }))
}

async fn prior_run(args: &Args, target: &Arc<Target>, run: &str) -> Result<serde_json::Value> {
    // History only (default): the prior reservations go on the first half of the dates and
    // the comparison books the second half, empty in both restaurants. With
    // `--prior-same-days` both use every date, so the busy restaurant's day books are fuller.
    let all = Workload::new(Vec::new(), args)?.dates;
    let (seed_dates, measure_dates) = if args.prior_same_days || all.len() < 2 {
        (all.clone(), all)
    } else {
        let (first, second) = all.split_at(all.len() / 2);
        (first.to_vec(), second.to_vec())
    };
    // Enough tables that K prior reservations leave room for the comparison.
    let per_day = args.prior.div_ceil(seed_dates.len().max(1));
    // A day holds ~13 one-hour turns per table; keep the seeded days under half full.
    let tables = (per_day * 2 / 13 + 10).clamp(args.tables, 500);
    let busy = format!("lg-{run}-busy");
    let empty = format!("lg-{run}-empty");
    register(target, &[busy.clone(), empty.clone()], tables, 2).await?;
    let mut seeding = Workload::new(vec![busy.clone()], args)?;
    seeding.dates = seed_dates.clone();
    let workload = Arc::new(seeding);
    let started = Instant::now();
    let far = started + Duration::from_secs(3600);
    let seeded = fire(
        target,
        &workload,
        args.connections,
        started,
        far,
        Some(Arc::new(vec![busy.clone()])),
        Some(args.prior),
    )
    .await?;
    let mut seed = Tally::new()?;
    for tally in &seeded {
        seed.merge(tally)?;
    }
    println!(
        "\nseeded {} reservations into {busy} ({} confirmed, {} rejected, {} errors) in {:.2?}; {tables} tables",
        args.prior,
        seed.confirmed,
        seed.rejected,
        seed.errors,
        started.elapsed()
    );
    let mut measuring = Workload::new(vec![busy.clone()], args)?;
    measuring.dates = measure_dates.clone();
    let workload = Arc::new(measuring);
    println!(
        "seeded dates {}..{}, measured dates {}..{}",
        seed_dates.first().map_or("", String::as_str),
        seed_dates.last().map_or("", String::as_str),
        measure_dates.first().map_or("", String::as_str),
        measure_dates.last().map_or("", String::as_str)
    );
    // Interleave the two restaurants on the same connections, so both see the same load.
    let both = Arc::new(vec![busy.clone(), empty.clone()]);
    let now = Instant::now();
    let compared = fire(
        target,
        &workload,
        args.connections,
        now,
        now + Duration::from_secs(3600),
        Some(both),
        Some(args.compare_requests * 2),
    )
    .await?;
    let (Some(busy_tally), Some(empty_tally)) = (compared.first(), compared.get(1)) else {
        bail!("comparison produced no results");
    };
    let ratio = |q: f64| {
        busy_tally.latency.value_at_quantile(q) as f64
            / (empty_tally.latency.value_at_quantile(q).max(1) as f64)
    };
    println!(
        "\n== booking latency: {} prior reservations vs none ({} connections) ==",
        args.prior, args.connections
    );
    println!(
        "with prior   {}  ({} confirmed, {} rejected, {} errors)",
        describe(&busy_tally.latency),
        busy_tally.confirmed,
        busy_tally.rejected,
        busy_tally.errors
    );
    println!(
        "empty        {}  ({} confirmed, {} rejected, {} errors)",
        describe(&empty_tally.latency),
        empty_tally.confirmed,
        empty_tally.rejected,
        empty_tally.errors
    );
    println!(
        "ratio        p50 {:.2}x  p90 {:.2}x  p99 {:.2}x  mean {:.2}x",
        ratio(0.5),
        ratio(0.9),
        ratio(0.99),
        busy_tally.latency.mean() / empty_tally.latency.mean().max(1e-9)
    );
    Ok(json!({
        "prior": args.prior,
        "prior_same_days": args.prior_same_days,
        "seeded": { "confirmed": seed.confirmed, "rejected": seed.rejected, "errors": seed.errors },
        "with_prior": percentiles(&busy_tally.latency),
        "empty": percentiles(&empty_tally.latency),
        "ratio_p50": ratio(0.5),
        "ratio_p90": ratio(0.9),
        "ratio_p99": ratio(0.99),
        "ratio_mean": busy_tally.latency.mean() / empty_tally.latency.mean().max(1e-9),
    }))
}

fn main() -> Result<()> {
    let args = Args::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let target = Arc::new(Target::parse(&args.url, args.token.clone())?);
        let run = run_id();
        let mut summary = serde_json::Map::new();
        summary.insert("run".into(), json!(run));
        if !args.skip_main {
            summary.insert("main".into(), main_run(&args, &target, &run).await?);
        }
        if args.prior > 0 {
            summary.insert(
                "prior_comparison".into(),
                prior_run(&args, &target, &run).await?,
            );
        }
        if args.json {
            println!("{}", serde_json::Value::Object(summary));
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_ticks_are_utime_plus_stime_whatever_the_command_name() {
        let stat = "4242 (a (b) c) S 1 4242 4242 0 -1 4194560 2125 0 0 0 1234 567 0 0 20 0 9 0";
        assert_eq!(cpu_ticks(stat), Some(1234 + 567));
        assert_eq!(cpu_ticks("4242 (x) S 1"), None);
        assert_eq!(cpu_ticks("garbage"), None);
    }

    #[test]
    fn a_live_process_has_a_cpu_time() {
        assert!(process_cpu("self").is_some());
        assert!(process_cpu("no-such-process").is_none());
    }
}
