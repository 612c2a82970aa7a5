//! The per-event work of the access-log example, free of any runtime: a deterministic log generator, a line parser
//! and a per-(minute, status, path) aggregator. The supervised stages and the plain-tokio benchmark baseline both call
//! exactly these functions, so the two do the same work per event.

use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasherDefault, Hasher};
use std::io::{self, Write as _};

use serde::{Deserialize, Serialize};
use stagewise::pipeline::{journal_if_error, Batch, ErrorRecord};
use stagewise::{ChainEvent, ErrorKind, EventIds, Journal, StageContext};

/// Lines per batch on the links between stages.
pub const BATCH: usize = 512;
/// Batches each link holds.
pub const LINK_CAPACITY: usize = 16;

// ---------------------------------------------------------------------------------------------------------------
// Dates: days since 1970-01-01 to and from the civil calendar (proleptic Gregorian; Howard Hinnant's algorithms).

fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { yoe + era * 400 + 1 } else { yoe + era * 400 }, m, d)
}

const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/// A minute since 1970-01-01T00:00Z as `2026-11-26T09:00Z`.
pub fn minute_iso(minute: u32) -> String {
    let (y, m, d) = civil_from_days(i64::from(minute / 1440));
    let in_day = minute % 1440;
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}Z", in_day / 60, in_day % 60)
}

// ---------------------------------------------------------------------------------------------------------------
// The generator: a deterministic access log, one line per index, a few percent malformed.

const PATHS: [&str; 24] = [
    "/",
    "/index.html",
    "/about",
    "/login",
    "/logout",
    "/search",
    "/cart",
    "/checkout",
    "/api/users",
    "/api/users/me",
    "/api/orders",
    "/api/orders/recent",
    "/api/products",
    "/api/products/search",
    "/api/health",
    "/static/app.js",
    "/static/app.css",
    "/static/logo.png",
    "/favicon.ico",
    "/robots.txt",
    "/blog",
    "/blog/feed.xml",
    "/docs",
    "/docs/getting-started",
];

/// Seconds since 1970 of the first generated line: 2026-11-26T00:00:00Z.
const GENERATED_START: i64 = 20_783 * 86_400;

/// Percent of generated lines that are malformed.
pub const MALFORMED_PERCENT: u64 = 3;

fn mix(mut x: u64) -> u64 {
    // splitmix64: a fixed, well-spread function of the line index, so line i is the same on every run.
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// Line `index` of the generated log. Lines are 60 ms apart, so a million lines span about 17 hours.
pub fn generate_line(index: u64) -> String {
    let r = mix(index);
    let mut line = String::with_capacity(112);
    let secs = GENERATED_START + (index * 60 / 1000) as i64;
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let in_day = secs.rem_euclid(86_400);
    let method = match r % 20 {
        0 | 1 => "POST",
        2 => "PUT",
        _ => "GET",
    };
    let path = PATHS[((r >> 8) % PATHS.len() as u64) as usize];
    let status = match (r >> 16) % 100 {
        0..=77 => 200,
        78..=85 => 304,
        86..=92 => 404,
        93..=95 => 301,
        _ => 500,
    };
    // Written field by field: `write!` with a dozen arguments costs more than the rest of the pipeline's work.
    line.push_str("10.");
    push_number(&mut line, (r >> 24) & 255);
    line.push('.');
    push_number(&mut line, (r >> 32) & 255);
    line.push('.');
    push_number(&mut line, (r >> 40) & 255);
    line.push_str(" - - [");
    push_two_digits(&mut line, u64::from(d));
    line.push('/');
    line.push_str(MONTHS[(m - 1) as usize]);
    line.push('/');
    push_number(&mut line, y as u64);
    for part in [in_day / 3600, in_day / 60 % 60, in_day % 60] {
        line.push(':');
        push_two_digits(&mut line, part as u64);
    }
    line.push_str(" +0000] \"");
    line.push_str(method);
    line.push(' ');
    line.push_str(path);
    if r & (1 << 50) != 0 {
        line.push_str("?id=");
        push_number(&mut line, (r >> 51) % 1000);
    }
    line.push_str(" HTTP/1.1\" ");
    push_number(&mut line, status);
    line.push(' ');
    push_number(&mut line, (r >> 20) % 50_000);
    // A second, independent draw decides damage, so malformed lines are spread evenly over paths and statuses.
    let damage = mix(!index);
    if damage % 100 < MALFORMED_PERCENT {
        corrupt(&mut line, damage >> 8);
    }
    line
}

fn push_number(line: &mut String, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    loop {
        start -= 1;
        digits[start] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    line.extend(digits[start..].iter().map(|&b| char::from(b)));
}

fn push_two_digits(line: &mut String, n: u64) {
    line.push(char::from(b'0' + (n / 10 % 10) as u8));
    line.push(char::from(b'0' + (n % 10) as u8));
}

/// Damages a line the ways real logs are damaged: cut short, a garbled status, a lost quote, noise.
fn corrupt(line: &mut String, r: u64) {
    match r % 4 {
        0 => line.truncate(line.len() / 2),
        1 => {
            let quote = line.rfind('"').unwrap_or(0);
            line.truncate(quote + 1);
            line.push_str(" OK -");
        }
        2 => *line = line.replacen('"', "", 1),
        _ => *line = String::from("\u{fffd}\u{fffd} connection reset by peer"),
    }
}

// ---------------------------------------------------------------------------------------------------------------
// The parser.

/// One parsed request. It keeps its line (the payload's own allocation), and points into it for the path.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hit {
    line: String,
    path: (u32, u32),
    /// Minutes since 1970-01-01T00:00Z.
    pub minute: u32,
    /// HTTP status.
    pub status: u16,
    /// Response bytes.
    pub bytes: u64,
}

impl Hit {
    /// The request path, without its query string.
    pub fn path(&self) -> &str {
        &self.line[self.path.0 as usize..self.path.1 as usize]
    }
}

fn digits<T: std::str::FromStr>(s: &str) -> Option<T> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Parses a Common Log Format line: `ip - - [26/Nov/2026:09:00:00 +0000] "GET /path HTTP/1.1" 200 1234`.
/// The zone is taken as UTC.
pub fn parse_line(line: String) -> Result<Hit, (String, &'static str)> {
    match parse_fields(&line) {
        Ok(Fields { path, minute, status, bytes }) => Ok(Hit { line, path, minute, status, bytes }),
        Err(why) => Err((line, why)),
    }
}

/// The fields of a line, before they join the line in a [`Hit`].
struct Fields {
    path: (u32, u32),
    minute: u32,
    status: u16,
    bytes: u64,
}

fn parse_fields(line: &str) -> Result<Fields, &'static str> {
    let open = line.find('[').ok_or("no timestamp")?;
    let close = open + line[open..].find(']').ok_or("unterminated timestamp")?;
    let ts = &line[open + 1..close];
    if ts.len() < 17 || !ts.is_char_boundary(17) {
        return Err("bad timestamp");
    }
    let day: u32 = digits(&ts[0..2]).ok_or("bad day")?;
    let month = MONTHS.iter().position(|m| *m == &ts[3..6]).ok_or("bad month")? as u32 + 1;
    let year: i64 = digits(&ts[7..11]).ok_or("bad year")?;
    let hour: u32 = digits(&ts[12..14]).ok_or("bad hour")?;
    let min: u32 = digits(&ts[15..17]).ok_or("bad minute")?;
    if !(1..=31).contains(&day) || hour > 23 || min > 59 {
        return Err("timestamp out of range");
    }
    let minute = u32::try_from(days_from_civil(year, month, day) * 1440 + i64::from(hour * 60 + min))
        .map_err(|_| "timestamp out of range")?;

    let rest = line[close + 1..].strip_prefix(" \"").ok_or("no request")?;
    let end = rest.find('"').ok_or("unterminated request")?;
    let mut request = rest[..end].split(' ');
    let (_method, target) = (request.next().ok_or("no method")?, request.next().ok_or("no path")?);
    if !target.starts_with('/') || request.next().is_none() {
        return Err("bad request line");
    }
    let path_len = target.find('?').unwrap_or(target.len());
    let path_start = (line.len() - rest.len()) + (target.as_ptr() as usize - rest.as_ptr() as usize);

    let mut tail = rest[end + 1..].split_ascii_whitespace();
    let status: u16 = tail.next().and_then(digits).ok_or("bad status")?;
    if !(100..=599).contains(&status) {
        return Err("status out of range");
    }
    let bytes = match tail.next().ok_or("no size")? {
        "-" => 0,
        size => digits(size).ok_or("bad size")?,
    };
    Ok(Fields { path: (path_start as u32, (path_start + path_len) as u32), minute, status, bytes })
}

/// Parses a batch of lines into hits; a malformed line becomes an error event (kind Parse) that still carries its
/// line, so the run goes on. Writes the new events' ids from `ids`. An event that arrives with an error status passes
/// untouched: same id, context and status, its line carried in an empty hit.
pub fn parse_batch(lines: Batch<String>, ids: &mut EventIds, context: &StageContext) -> Batch<Hit> {
    let mut out = Vec::with_capacity(lines.len());
    for event in lines {
        if event.is_error() {
            let ChainEvent { id, context, payload, status } = event;
            out.push(ChainEvent { id, context, payload: Hit { line: payload, ..Hit::default() }, status });
            continue;
        }
        let seq = event.id.seq;
        out.push(match parse_line(event.payload) {
            Ok(hit) => ChainEvent::new(ids.next_id(), context.clone(), hit),
            Err((line, why)) => {
                let shown: String = line.chars().take(60).collect();
                let hit = Hit { line, ..Hit::default() };
                ChainEvent::new(ids.next_id(), context.clone(), hit)
                    .into_error(ErrorKind::Parse, format!("line {}: {why}: {shown:?}", seq + 1))
            }
        });
    }
    out
}

// ---------------------------------------------------------------------------------------------------------------
// The aggregator.

/// FxHash: a fast hasher for small keys we make ourselves (no untrusted input reaches a table as a key it controls
/// the hash of in a way that matters here).
#[derive(Default, Clone, Copy)]
pub struct FxHasher(u64);

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(word));
        }
    }
    fn write_u8(&mut self, i: u8) {
        self.write_u64(u64::from(i));
    }
    fn write_u16(&mut self, i: u16) {
        self.write_u64(u64::from(i));
    }
    fn write_u32(&mut self, i: u32) {
        self.write_u64(u64::from(i));
    }
    fn write_u64(&mut self, i: u64) {
        self.0 = (self.0.rotate_left(5) ^ i).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
    fn write_usize(&mut self, i: usize) {
        self.write_u64(i as u64);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

type Fx = BuildHasherDefault<FxHasher>;

#[derive(Default, Clone, Copy, Serialize, Deserialize)]
struct Cell {
    hits: u64,
    bytes: u64,
}

/// What the aggregator saw, for the summary.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct AggregateSummary {
    /// Successful hits aggregated.
    pub hits: u64,
    /// Error events written to the error journal.
    pub errors: u64,
    /// (minute, status, path) rows produced.
    pub rows: u64,
    /// Hits per status.
    pub statuses: BTreeMap<u16, u64>,
    /// The most requested paths, most first.
    pub top_paths: Vec<(String, u64)>,
}

/// Counts hits and bytes per (minute, status, path). Logs are in time order, so a minute is closed once a hit two
/// minutes later arrives: its rows are written out and dropped, and memory holds only the open minutes (a late hit for
/// a closed minute starts a new row for it).
pub struct Aggregator {
    tally: Tally,
    out: Option<Box<dyn io::Write + Send>>,
}

/// Everything the aggregator counts: what a checkpoint stores, so a resumed run goes on exactly where it was.
#[derive(Default, Clone, Serialize, Deserialize)]
pub struct Tally {
    paths: HashMap<Box<str>, u32, Fx>,
    names: Vec<Box<str>>,
    path_hits: Vec<u64>,
    open: BTreeMap<u32, HashMap<(u16, u32), Cell, Fx>>,
    latest: u32,
    summary: AggregateSummary,
}

impl Aggregator {
    /// An aggregator writing CSV rows (`minute,status,path,hits,bytes`) to `out`, if any.
    pub fn new(mut out: Option<Box<dyn io::Write + Send>>) -> io::Result<Self> {
        if let Some(out) = &mut out {
            writeln!(out, "minute,status,path,hits,bytes")?;
        }
        Ok(Self { tally: Tally::default(), out })
    }

    /// An aggregator going on from `tally`, writing further rows to `out` (no header: it was written before).
    pub fn resume(tally: Tally, out: Option<Box<dyn io::Write + Send>>) -> Self {
        Self { tally, out }
    }

    /// What it has counted so far.
    pub fn tally(&self) -> &Tally {
        &self.tally
    }

    /// Hands the rows written so far to the output's file.
    pub fn flush(&mut self) -> io::Result<()> {
        match &mut self.out {
            Some(out) => out.flush(),
            None => Ok(()),
        }
    }

    /// Aggregates a batch: hits are counted, error events go to `errors` untouched.
    pub fn add_batch(&mut self, batch: Batch<Hit>, errors: &dyn Journal<ErrorRecord>) -> io::Result<()> {
        for event in batch {
            match journal_if_error(errors, event).map_err(io::Error::other)? {
                Some(event) => self.add(&event.payload)?,
                None => self.tally.summary.errors += 1,
            }
        }
        Ok(())
    }

    fn add(&mut self, hit: &Hit) -> io::Result<()> {
        let path = match self.tally.paths.get(hit.path()) {
            Some(&id) => id,
            None => {
                let id = self.tally.names.len() as u32;
                self.tally.names.push(hit.path().into());
                self.tally.path_hits.push(0);
                self.tally.paths.insert(hit.path().into(), id);
                id
            }
        };
        if hit.minute > self.tally.latest {
            self.tally.latest = hit.minute;
            self.close_before(hit.minute.saturating_sub(1))?;
        }
        let cell = self.tally.open.entry(hit.minute).or_default().entry((hit.status, path)).or_default();
        cell.hits += 1;
        cell.bytes += hit.bytes;
        self.tally.path_hits[path as usize] += 1;
        *self.tally.summary.statuses.entry(hit.status).or_default() += 1;
        self.tally.summary.hits += 1;
        Ok(())
    }

    /// Writes out and drops every minute before `minute`.
    fn close_before(&mut self, minute: u32) -> io::Result<()> {
        while let Some(entry) = self.tally.open.first_entry() {
            if *entry.key() >= minute {
                break;
            }
            let (closed, cells) = entry.remove_entry();
            self.tally.summary.rows += cells.len() as u64;
            if let Some(out) = &mut self.out {
                let when = minute_iso(closed);
                let mut rows: Vec<_> = cells.into_iter().collect();
                rows.sort_unstable_by_key(|&((status, path), _)| (status, path));
                for ((status, path), cell) in rows {
                    writeln!(out, "{when},{status},{},{},{}", self.tally.names[path as usize], cell.hits, cell.bytes)?;
                }
            }
        }
        Ok(())
    }

    /// Closes every minute, flushes the output and returns the summary.
    pub fn finish(&mut self) -> io::Result<AggregateSummary> {
        self.close_before(u32::MAX)?;
        if let Some(out) = &mut self.out {
            out.flush()?;
        }
        let mut top: Vec<_> =
            self.tally.names.iter().zip(&self.tally.path_hits).map(|(n, &h)| (n.to_string(), h)).collect();
        top.sort_unstable_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        top.truncate(5);
        self.tally.summary.top_paths = top;
        Ok(self.tally.summary.clone())
    }
}
