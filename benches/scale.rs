//! The scale curves of issue 14, measured and drawn: ns per transition against the number of concurrent stages (1 to
//! 100,000), pipeline throughput against batch size and link capacity, and journal appends per second against record
//! size. Each point is a comparison of the interleaved harness (`benches/harness/`: median and range over rounds), its
//! baseline beside it. Writes the data as CSV and the charts as SVG into `docs/figures/`, with `scale-run.txt` saying
//! how many rounds and at what load. Run: `cargo bench --bench scale` (a few minutes); `-- stages`, `-- pipeline`
//! or `-- journal` measure one curve (the others' files are left as they are). `cargo test --benches` makes a smoke
//! run of small sizes into `target/stagewise-bench/figures/` instead.

#[path = "../tests/support/counting.rs"]
#[allow(dead_code)]
mod counting;
#[path = "harness/mod.rs"]
mod harness;
#[path = "scale/journal.rs"]
mod journal_curve;
#[path = "pipelines/mod.rs"]
mod pipelines;
#[path = "scale/plot.rs"]
mod plot;
#[path = "scale/stages.rs"]
mod stages_curve;
#[path = "scale/throughput.rs"]
mod throughput_curve;

// The access-log example's modules, at the crate root as `pipelines` expects.
#[path = "../examples/access_log/calendar.rs"]
#[allow(dead_code)]
mod calendar;
#[path = "../examples/access_log/chaos.rs"]
#[allow(dead_code)]
mod chaos;
#[path = "../examples/access_log/parse.rs"]
#[allow(dead_code)]
mod parse;
#[path = "../examples/access_log/stages.rs"]
#[allow(dead_code)]
mod stages;
#[path = "../examples/access_log/work.rs"]
#[allow(dead_code)]
mod work;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use harness::{Bench, Clock};
use plot::{Chart, Series};
use plotters::chart::SeriesLabelPosition;

/// Rounds kept per point unless `STAGEWISE_BENCH_ROUNDS` says otherwise: enough for a median and a range, few enough
/// for the whole run to take minutes.
const ROUNDS: usize = 5;

fn main() {
    let mut bench = Bench::from_env("scale");
    if std::env::var_os("STAGEWISE_BENCH_ROUNDS").is_none() {
        bench.settings.rounds = if bench.settings.smoke { 1 } else { ROUNDS };
    }
    let smoke = bench.settings.smoke;
    let out = if smoke {
        bench.settings.out.join("figures")
    } else {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/figures")
    };
    std::fs::create_dir_all(&out).expect("figures folder");
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let mut run = format!(
        "command: cargo bench --bench scale{}\nrounds kept per point: {} (first discarded)\nload average before: {}",
        bench.settings.filter.as_deref().map(|f| format!(" -- {f}")).unwrap_or_default(),
        bench.settings.rounds,
        load
    );

    let (counts, turns): (&[u64], u64) =
        if smoke { (&[1, 10], 10_000) } else { (&stages_curve::STAGES, stages_curve::TURNS) };
    let points = stages_curve::curve(&bench.clone().clock(Clock::ThreadCpu), counts, turns);
    if !points.is_empty() {
        let mut csv = String::from(
            "stages,supervised_ns_median,supervised_ns_min,supervised_ns_max,plain_ns_median,plain_ns_min,plain_ns_max\n",
        );
        for p in &points {
            let [a, b, c] = p.supervised;
            let [d, e, f] = p.plain;
            let _ = writeln!(csv, "{},{a:.2},{b:.2},{c:.2},{d:.2},{e:.2},{f:.2}", p.stages);
        }
        let line = |label: &str, dashed, pick: fn(&stages_curve::Point) -> f64| Series {
            label: label.into(),
            points: points.iter().map(|p| (p.stages as f64, pick(p))).collect(),
            dashed,
            colour: if dashed { 1 } else { 0 },
        };
        let series = [
            line("supervised counting stages", false, |p| p.supervised[0]),
            line("plain tokio tasks (the limit)", true, |p| p.plain[0]),
        ];
        let chart = Chart {
            title: "ns per transition vs concurrent stages (each yields once a turn; 1 thread, CPU time)",
            x: "concurrent stages",
            y: "ns per transition (median)",
            legend: SeriesLabelPosition::UpperLeft,
        };
        save(&out, "stages_transition", &csv, &chart, &series);
    }

    let (batches, capacities, lines): (&[usize], &[usize], u64) = if smoke {
        (&[1, 64], &[8], 2_000)
    } else {
        (&throughput_curve::BATCHES, &throughput_curve::CAPACITIES, throughput_curve::LINES)
    };
    let points = throughput_curve::curve(&bench.clone().clock(Clock::ProcessCpu), batches, capacities, lines);
    if !points.is_empty() {
        let mut csv = String::from(
            "batch,capacity,supervised_lines_per_cpu_s_median,supervised_lines_per_cpu_s_min,\
             supervised_lines_per_cpu_s_max,plain_lines_per_cpu_s_median,plain_lines_per_cpu_s_min,\
             plain_lines_per_cpu_s_max,supervised_lines_per_wall_s_median,supervised_lines_per_wall_s_min,\
             supervised_lines_per_wall_s_max,plain_lines_per_wall_s_median,plain_lines_per_wall_s_min,\
             plain_lines_per_wall_s_max\n",
        );
        let mut series = Vec::new();
        for (i, &capacity) in capacities.iter().enumerate() {
            let at: Vec<_> = points.iter().filter(|p| p.capacity == capacity).collect();
            for p in &at {
                let _ = write!(csv, "{},{capacity}", p.batch);
                for rate in [p.supervised, p.plain, p.supervised_wall, p.plain_wall].iter().flatten() {
                    let _ = write!(csv, ",{rate:.0}");
                }
                csv.push('\n');
            }
            let line = |dashed: bool| Series {
                label: format!("{} capacity {capacity}", if dashed { "plain tokio," } else { "supervised," }),
                points: at
                    .iter()
                    .map(|p| (p.batch as f64, if dashed { p.plain[0] } else { p.supervised[0] }))
                    .collect(),
                dashed,
                colour: i,
            };
            series.push(line(false));
            series.push(line(true));
        }
        let chart = Chart {
            title: "access-log pipeline: lines per CPU-second vs batch size, per link capacity (2 workers)",
            x: "lines per batch",
            y: "lines per second of process CPU time (median)",
            legend: SeriesLabelPosition::UpperLeft,
        };
        save(&out, "pipeline_throughput", &csv, &chart, &series);
    }

    let sizes: &[usize] = if smoke { &[16, 4096] } else { &journal_curve::SIZES };
    let points = journal_curve::curve(&bench.clone().clock(Clock::ThreadCpu), sizes);
    if !points.is_empty() {
        let mut csv = String::from(
            "record_bytes,journal_appends_per_s_median,journal_appends_per_s_min,journal_appends_per_s_max,\
             limit_appends_per_s_median,limit_appends_per_s_min,limit_appends_per_s_max\n",
        );
        for p in &points {
            let [a, b, c] = p.journal;
            let [d, e, f] = p.limit;
            let _ = writeln!(csv, "{},{a:.0},{b:.0},{c:.0},{d:.0},{e:.0},{f:.0}", p.bytes);
        }
        let line = |label: &str, dashed, pick: fn(&journal_curve::Point) -> f64| Series {
            label: label.into(),
            points: points.iter().map(|p| (p.bytes as f64, pick(p))).collect(),
            dashed,
            colour: if dashed { 1 } else { 0 },
        };
        let series = [
            line("FileJournal, Durability::Os", false, |p| p.journal[0]),
            line("postcard encode + BufWriter (the limit)", true, |p| p.limit[0]),
        ];
        let chart = Chart {
            title: "journal appends/s vs record size (Os: no sync; 1 thread, CPU time)",
            x: "record payload, bytes",
            y: "appends per second (median)",
            legend: SeriesLabelPosition::UpperRight,
        };
        save(&out, "journal_record_size", &csv, &chart, &series);
    }

    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let _ = write!(run, "load average after: {load}");
    // A run of one curve adds its lines to the full run's: the other curves' data is still the full run's.
    let path = out.join("scale-run.txt");
    if bench.settings.filter.is_some() {
        run = format!("{}\n{run}", std::fs::read_to_string(&path).unwrap_or_default());
    }
    write(&path, &run);
}

/// Writes `name`.csv and `name`.svg into `out`.
fn save(out: &Path, name: &str, csv: &str, chart: &Chart<'_>, series: &[Series]) {
    write(&out.join(format!("{name}.csv")), csv);
    let svg = out.join(format!("{name}.svg"));
    match plot::draw(&svg, chart, series) {
        Ok(()) => println!("  svg: {}", svg.display()),
        Err(e) => panic!("could not draw {}: {e}", svg.display()),
    }
}

fn write(path: &Path, contents: &str) {
    std::fs::write(path, contents).unwrap_or_else(|e| panic!("could not write {}: {e}", path.display()));
    println!("  written: {}", path.display());
}
