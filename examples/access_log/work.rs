//! The per-event work of the access-log example, free of any runtime: a deterministic log generator and a
//! per-(minute, status, path) aggregator (the line parser is in `parse.rs`). The supervised stages and the plain-tokio
//! benchmark baseline both call exactly these functions, so the two do the same work per event.

use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasherDefault, Hasher};
use std::io::{self, Write as _};

use serde::{Deserialize, Serialize};
use stagewise::pipeline::{journal_if_error_async, Batch, ErrorRecord};
use stagewise::Journal;

use crate::calendar::{civil_from_days, minute_iso, MONTHS};
use crate::parse::Hit;

/// Lines per batch on the links between stages.
pub const BATCH: usize = 512;
/// Batches each link holds.
pub const LINK_CAPACITY: usize = 16;

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

    /// Aggregates a batch: hits are counted, error events go to `errors` untouched. Awaits the error journal's
    /// durability (`journal_if_error_async`), so a syncing error journal never blocks the stage's worker.
    pub async fn add_batch(&mut self, batch: Batch<Hit>, errors: &dyn Journal<ErrorRecord>) -> io::Result<()> {
        for event in batch {
            match journal_if_error_async(errors, event).await.map_err(io::Error::other)? {
                Some(event) => self.add(&event.payload)?,
                None => self.tally.summary.errors += 1,
            }
        }
        Ok(())
    }

    /// Counts one hit.
    pub fn add(&mut self, hit: &Hit) -> io::Result<()> {
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
