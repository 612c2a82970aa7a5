//! The side-by-side harness every benchmark that claims a ratio uses: its variants run interleaved in one process
//! (A, B, A, B, ..., the order rotated each round, the first round discarded), repeated, and each ratio is reported as
//! the median and range of its per-round values, so load from other processes on a shared machine falls on both sides
//! alike.
//!
//! A benchmark includes it with `#[path = "harness/mod.rs"] mod harness;`, builds a [`Bench`] from the command line,
//! and hands [`Bench::compare`] its variants: each is a closure that does `n` units of work (transitions, lines,
//! appends), timed by the harness ([`variant`]) or by itself with a [`Stopwatch`] ([`timed`], to leave set-up out).
//! The harness picks `n` per variant so that one sample takes about [`Settings::sample`], prints ns per unit of each
//! variant and every ratio asked for (with its target, if any), and writes the raw samples and the ratios as CSV under
//! `target/stagewise-bench/` (or `$STAGEWISE_BENCH_OUT`).
//!
//! Two clocks are read around every sample: the wall clock, and the calling thread's CPU time. A comparison whose
//! variants all run on the calling thread (a current-thread runtime, a synchronous journal) takes its ratios from the
//! CPU time ([`Clock::ThreadCpu`]): on a machine shared with other work it leaves out the time the thread waited for a
//! core, which the wall clock counts at random. Work spread over threads (a multi-threaded pipeline) reports the wall
//! clock (throughput) and the whole process's CPU time ([`Clock::ProcessCpu`], the cost, steadier under load). The CSV
//! keeps all three.
//!
//! ```text
//! cargo bench --bench transition                 # full run: 21 rounds of ~20 ms samples per variant
//! cargo bench --bench transition -- control      # only comparisons whose name contains "control"
//! STAGEWISE_BENCH_ROUNDS=41 cargo bench --bench transition
//! cargo test --benches                           # smoke run: 3 rounds of ~1 ms samples, checks that all runs
//! ```
//!
//! Environment: `STAGEWISE_BENCH_ROUNDS` (rounds kept, default 21), `STAGEWISE_BENCH_SAMPLE_MS` (target length of one
//! sample, default 20), `STAGEWISE_BENCH_OUT` (CSV folder).

#![allow(dead_code)] // Each benchmark uses part of it.

pub mod encode;

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use cpu_time::{ProcessTime, ThreadTime};

/// How many rounds, how long a sample, where the CSV goes.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Rounds kept (one more, the first, runs and is discarded).
    pub rounds: usize,
    /// Target length of one sample of one variant.
    pub sample: Duration,
    /// Folder for the CSV files.
    pub out: PathBuf,
    /// Only comparisons whose name contains this run.
    pub filter: Option<String>,
    /// True when run by `cargo test` (no `--bench`): a short smoke run.
    pub smoke: bool,
    /// The clock ratios come from.
    pub clock: Clock,
}

impl Settings {
    /// From the command line (`cargo bench` passes `--bench`; `cargo test --benches` does not) and the environment.
    pub fn from_env() -> Self {
        let args: Vec<String> = std::env::args().skip(1).collect();
        let smoke = !args.iter().any(|a| a == "--bench");
        let filter = args.iter().find(|a| !a.starts_with('-')).cloned();
        let number = |key: &str, default: u64| std::env::var(key).ok().and_then(|v| v.parse().ok()).unwrap_or(default);
        let (rounds, sample_ms) = if smoke { (3, 1) } else { (21, 20) };
        let out = std::env::var_os("STAGEWISE_BENCH_OUT")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/stagewise-bench"));
        Self {
            rounds: number("STAGEWISE_BENCH_ROUNDS", rounds).max(1) as usize,
            sample: Duration::from_millis(number("STAGEWISE_BENCH_SAMPLE_MS", sample_ms).max(1)),
            out,
            filter,
            smoke,
            clock: Clock::Wall,
        }
    }
}

/// Which clock a comparison's ratios come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Clock {
    /// Elapsed real time.
    Wall,
    /// CPU time of the calling thread: for work that runs on it alone.
    ThreadCpu,
    /// CPU time of the whole process, every thread.
    ProcessCpu,
}

/// Both clocks at one moment.
#[derive(Clone, Copy, Debug)]
pub struct Stopwatch {
    wall: Instant,
    cpu: ThreadTime,
    process: ProcessTime,
}

/// Time taken by one sample, on both clocks.
#[derive(Clone, Copy, Debug)]
pub struct Elapsed {
    /// Real time.
    pub wall: Duration,
    /// The calling thread's CPU time.
    pub cpu: Duration,
    /// The process's CPU time.
    pub process: Duration,
}

impl Stopwatch {
    /// Starts both clocks.
    pub fn start() -> Self {
        Self { wall: Instant::now(), cpu: ThreadTime::now(), process: ProcessTime::now() }
    }

    /// Time since [`start`](Self::start) on both clocks.
    pub fn elapsed(&self) -> Elapsed {
        Elapsed { wall: self.wall.elapsed(), cpu: self.cpu.elapsed(), process: self.process.elapsed() }
    }
}

impl Elapsed {
    fn on(&self, clock: Clock) -> Duration {
        match clock {
            Clock::Wall => self.wall,
            Clock::ThreadCpu => self.cpu,
            Clock::ProcessCpu => self.process,
        }
    }
}

/// One side of a comparison: a name and a closure that does `n` units of work and returns the time they took.
pub struct Variant<'a> {
    name: &'static str,
    run: Box<dyn FnMut(u64) -> Elapsed + 'a>,
    units: Option<u64>,
}

/// A variant timed by the closure itself with a [`Stopwatch`] (so it can leave set-up and tear-down out of the time).
pub fn timed<'a>(name: &'static str, run: impl FnMut(u64) -> Elapsed + 'a) -> Variant<'a> {
    Variant { name, run: Box::new(run), units: None }
}

impl Variant<'_> {
    /// Every sample does exactly `units` units instead of a calibrated number (for work with a fixed size, such as a
    /// whole pipeline run).
    pub fn units(mut self, units: u64) -> Self {
        self.units = Some(units.max(1));
        self
    }
}

/// A variant timed around the whole closure call.
pub fn variant<'a>(name: &'static str, mut run: impl FnMut(u64) + 'a) -> Variant<'a> {
    timed(name, move |n| {
        let watch = Stopwatch::start();
        run(n);
        watch.elapsed()
    })
}

/// What a ratio must be to meet its target.
#[derive(Clone, Copy, Debug)]
pub enum Target {
    /// The median must be at most this.
    AtMost(f64),
    /// The median must be at least this.
    AtLeast(f64),
}

impl Target {
    fn met(self, value: f64) -> bool {
        match self {
            Target::AtMost(limit) => value <= limit,
            Target::AtLeast(limit) => value >= limit,
        }
    }

    fn describe(self) -> String {
        match self {
            Target::AtMost(limit) => format!("<= {limit}x"),
            Target::AtLeast(limit) => format!(">= {limit}x"),
        }
    }
}

/// A ratio to report: ns per unit of `numerator` over ns per unit of `denominator`, taken within each round.
#[derive(Clone, Debug)]
pub struct Ratio {
    /// What the ratio says, e.g. "run loop / bare loop".
    pub label: &'static str,
    /// The variant whose time is on top.
    pub numerator: &'static str,
    /// The variant whose time is below.
    pub denominator: &'static str,
    /// The target the median must meet, if any.
    pub target: Option<Target>,
}

/// `numerator` / `denominator` time per unit, with no target.
pub fn ratio(label: &'static str, numerator: &'static str, denominator: &'static str) -> Ratio {
    Ratio { label, numerator, denominator, target: None }
}

impl Ratio {
    /// The same ratio with a target.
    pub fn target(mut self, target: Target) -> Self {
        self.target = Some(target);
        self
    }
}

/// Median, minimum and maximum of some values.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Spread {
    /// The median (the mean of the middle two for an even count).
    pub median: f64,
    /// The smallest value.
    pub min: f64,
    /// The largest value.
    pub max: f64,
}

impl Spread {
    /// The spread of `values`; `None` when there are none.
    pub fn of(values: &[f64]) -> Option<Self> {
        let mut sorted: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
        if sorted.is_empty() {
            return None;
        }
        sorted.sort_by(f64::total_cmp);
        let mid = sorted.len() / 2;
        let median = if sorted.len().is_multiple_of(2) { (sorted[mid - 1] + sorted[mid]) / 2.0 } else { sorted[mid] };
        Some(Self { median, min: sorted[0], max: sorted[sorted.len() - 1] })
    }
}

/// What one comparison measured: ns per unit of each variant, per kept round.
#[derive(Clone, Debug)]
pub struct Measured {
    /// The variants' names, in the order given.
    pub names: Vec<&'static str>,
    /// `ns_per_unit[v][r]`: variant `v` in kept round `r`, on the comparison's clock.
    pub ns_per_unit: Vec<Vec<f64>>,
    /// The same on the wall clock (equal to `ns_per_unit` when that is the wall clock).
    pub wall_ns_per_unit: Vec<Vec<f64>>,
}

impl Measured {
    /// The spread of one variant's ns per unit.
    pub fn spread(&self, name: &str) -> Spread {
        Spread::of(&self.ns_per_unit[self.index(name)]).expect("a variant has samples")
    }

    /// The spread of one variant's ns per unit on the wall clock.
    pub fn wall_spread(&self, name: &str) -> Spread {
        Spread::of(&self.wall_ns_per_unit[self.index(name)]).expect("a variant has samples")
    }

    /// The per-round values of `numerator` / `denominator`.
    pub fn ratios(&self, numerator: &str, denominator: &str) -> Vec<f64> {
        let (n, d) = (self.index(numerator), self.index(denominator));
        self.ns_per_unit[n].iter().zip(&self.ns_per_unit[d]).map(|(a, b)| a / b).collect()
    }

    fn index(&self, name: &str) -> usize {
        self.names.iter().position(|n| *n == name).unwrap_or_else(|| panic!("no variant named {name}"))
    }
}

/// A benchmark binary: its name (for the CSV files) and its settings.
#[derive(Clone, Debug)]
pub struct Bench {
    /// The benchmark's name, e.g. "transition".
    pub name: &'static str,
    /// Its settings.
    pub settings: Settings,
}

impl Bench {
    /// Settings from the command line and environment; ratios from the wall clock.
    pub fn from_env(name: &'static str) -> Self {
        Self { name, settings: Settings::from_env() }
    }

    /// Takes the comparisons' ratios from `clock`.
    pub fn clock(mut self, clock: Clock) -> Self {
        self.settings.clock = clock;
        self
    }

    /// True when this comparison passes the command line's filter.
    pub fn wants(&self, comparison: &str) -> bool {
        self.settings.filter.as_deref().is_none_or(|f| comparison.contains(f))
    }

    /// Runs `variants` interleaved and reports `ratios`; `unit` names one unit of work ("transition", "line").
    /// Returns `None` when the filter skips it.
    pub fn compare(
        &self,
        comparison: &str,
        unit: &str,
        mut variants: Vec<Variant<'_>>,
        ratios: &[Ratio],
    ) -> Option<Measured> {
        if !self.wants(comparison) {
            return None;
        }
        let rounds = self.settings.rounds;
        let clock = self.settings.clock;
        let sizes: Vec<u64> =
            variants.iter_mut().map(|v| v.units.unwrap_or_else(|| calibrate(v, self.settings.sample, clock))).collect();
        let count = variants.len();
        let mut ns_per_unit = vec![Vec::with_capacity(rounds); count];
        let mut wall_ns_per_unit = vec![Vec::with_capacity(rounds); count];
        let mut samples = String::from(
            "bench,comparison,clock,round,position,variant,units,wall_ns,thread_cpu_ns,process_cpu_ns,wall_ns_per_unit,\
             thread_cpu_ns_per_unit,process_cpu_ns_per_unit\n",
        );
        // Round 0 runs and is discarded: caches, allocator and CPU frequency settle on every variant alike.
        for round in 0..=rounds {
            for position in 0..count {
                let v = (round + position) % count;
                let elapsed = (variants[v].run)(sizes[v]);
                let per_unit = |d: Duration| d.as_nanos() as f64 / sizes[v] as f64;
                let _ = writeln!(
                    samples,
                    "{},{comparison},{clock:?},{round},{position},{},{},{},{},{},{:.4},{:.4},{:.4}",
                    self.name,
                    variants[v].name,
                    sizes[v],
                    elapsed.wall.as_nanos(),
                    elapsed.cpu.as_nanos(),
                    elapsed.process.as_nanos(),
                    per_unit(elapsed.wall),
                    per_unit(elapsed.cpu),
                    per_unit(elapsed.process),
                );
                if round > 0 {
                    ns_per_unit[v].push(per_unit(elapsed.on(clock)));
                    wall_ns_per_unit[v].push(per_unit(elapsed.wall));
                }
            }
        }
        let names: Vec<&'static str> = variants.iter().map(|v| v.name).collect();
        let measured = Measured { names: names.clone(), ns_per_unit, wall_ns_per_unit: wall_ns_per_unit.clone() };
        let wall = Measured { names, ns_per_unit: wall_ns_per_unit.clone(), wall_ns_per_unit };
        self.report(comparison, unit, &measured, &wall, &sizes, ratios, &samples);
        Some(measured)
    }

    #[allow(clippy::too_many_arguments)]
    fn report(
        &self,
        comparison: &str,
        unit: &str,
        m: &Measured,
        wall: &Measured,
        sizes: &[u64],
        ratios: &[Ratio],
        samples: &str,
    ) {
        let clock = match self.settings.clock {
            Clock::Wall => "wall clock",
            Clock::ThreadCpu => "thread CPU time",
            Clock::ProcessCpu => "process CPU time",
        };
        println!(
            "\n{}/{comparison}: {} rounds kept (first discarded), variants interleaved, order rotated; {clock}{}",
            self.name,
            self.settings.rounds,
            if self.settings.smoke { " [smoke run: not a measurement]" } else { "" }
        );
        let width = m.names.iter().map(|n| n.len()).max().unwrap_or(0);
        for (name, size) in m.names.iter().zip(sizes) {
            let s = m.spread(name);
            println!(
                "  {name:<width$}  {} ns/{unit} median (range {}-{}), {size} {unit}s per sample",
                sig(s.median),
                sig(s.min),
                sig(s.max)
            );
        }
        let mut csv =
            String::from("bench,comparison,clock,ratio,numerator,denominator,median,min,max,target,met,wall_median\n");
        for r in ratios {
            let s = Spread::of(&m.ratios(r.numerator, r.denominator)).expect("ratios");
            let verdict = match r.target {
                Some(t) if t.met(s.median) => format!("  target {}: MET", t.describe()),
                Some(t) => {
                    let limit = match t {
                        Target::AtMost(l) | Target::AtLeast(l) => l,
                    };
                    format!("  target {}: MISSED by {:.0}%", t.describe(), (s.median / limit - 1.0).abs() * 100.0)
                }
                None => String::new(),
            };
            let on_wall = Spread::of(&wall.ratios(r.numerator, r.denominator)).expect("ratios");
            let wall_note = if self.settings.clock == Clock::Wall {
                String::new()
            } else {
                format!(" [wall clock: {}x]", sig(on_wall.median))
            };
            println!(
                "  {}: {}x median (range {}-{}x){verdict}{wall_note}",
                r.label,
                sig(s.median),
                sig(s.min),
                sig(s.max)
            );
            let (target, met) = match r.target {
                Some(t) => (t.describe(), t.met(s.median).to_string()),
                None => (String::new(), String::new()),
            };
            let _ = writeln!(
                csv,
                "{},{comparison},{:?},{},{},{},{:.4},{:.4},{:.4},{target},{met},{:.4}",
                self.name,
                self.settings.clock,
                r.label,
                r.numerator,
                r.denominator,
                s.median,
                s.min,
                s.max,
                on_wall.median
            );
        }
        let stem = format!("{}-{}", self.name, comparison.replace(['/', ' '], "_"));
        self.write_csv(&format!("{stem}-samples.csv"), samples);
        self.write_csv(&format!("{stem}-ratios.csv"), &csv);
    }

    /// Writes `contents` to `file` in the CSV folder; a failure to write is reported, not fatal.
    pub fn write_csv(&self, file: &str, contents: &str) {
        let path = self.settings.out.join(file);
        let written = std::fs::create_dir_all(&self.settings.out).and_then(|()| std::fs::write(&path, contents));
        match written {
            Ok(()) => println!("  csv: {}", path.display()),
            Err(e) => eprintln!("  could not write {}: {e}", path.display()),
        }
    }
}

/// The number of units for one sample of about `sample`: doubles from 1 until a run takes at least a tenth of it,
/// then scales. Each run on the way warms the variant up.
fn calibrate(variant: &mut Variant<'_>, sample: Duration, clock: Clock) -> u64 {
    let mut n = 1u64;
    loop {
        let elapsed = (variant.run)(n).on(clock);
        if elapsed >= sample / 10 || n >= 1 << 40 {
            let per_unit = elapsed.as_secs_f64() / n as f64;
            return ((sample.as_secs_f64() / per_unit.max(1e-12)) as u64).max(1);
        }
        n *= 2;
    }
}

/// A number with three significant digits, for reading.
pub fn sig(value: f64) -> String {
    let magnitude = value.abs();
    if magnitude >= 100.0 {
        format!("{value:.0}")
    } else if magnitude >= 10.0 {
        format!("{value:.1}")
    } else if magnitude >= 1.0 {
        format!("{value:.2}")
    } else {
        format!("{value:.3}")
    }
}
