//! Curve 2: lines per second through the access-log pipeline (read -> parse -> aggregate) against the batch size, one
//! line per link capacity, supervised and as plain tokio tasks over bounded channels (`benches/pipelines/`), on a
//! 2-worker runtime. Each point has two rates: lines per second of the process's CPU time (the cost, steady on a
//! machine shared with other work: what the chart shows) and lines per wall-clock second (the throughput, which
//! swings with that work's load; in the CSV).

use crate::harness::{ratio, variant, Bench};
use crate::pipelines;

/// Lines a batch carries.
pub const BATCHES: [usize; 5] = [1, 8, 64, 256, 1024];
/// Batches a link holds.
pub const CAPACITIES: [usize; 3] = [1, 8, 64];
/// Lines per sample.
pub const LINES: u64 = 100_000;

/// One point: median and range of lines per CPU-second and per wall-clock second, supervised and plain.
pub struct Point {
    pub batch: usize,
    pub capacity: usize,
    pub supervised: [f64; 3],
    pub plain: [f64; 3],
    pub supervised_wall: [f64; 3],
    pub plain_wall: [f64; 3],
}

/// Measures every (batch, capacity) pair.
pub fn curve(bench: &Bench, batches: &[usize], capacities: &[usize], lines: u64) -> Vec<Point> {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let mut points = Vec::new();
    // Batch size outside: the capacities of one batch size are measured close together, so a change of load on the
    // shared machine moves them alike.
    for &batch in batches {
        for &capacity in capacities {
            let run = |supervised: bool| {
                let rt = &rt;
                move |n: u64| {
                    let seen = rt.block_on(async {
                        if supervised {
                            pipelines::supervised(n, batch, capacity).await
                        } else {
                            pipelines::plain(n, batch, capacity).await
                        }
                    });
                    assert_eq!(seen, n, "every line is a hit or an error");
                }
            };
            let comparison = format!("pipeline_batch{batch}_capacity{capacity}");
            let variants =
                vec![variant("supervised", run(true)).units(lines), variant("plain tokio", run(false)).units(lines)];
            let Some(m) = bench.compare(
                &comparison,
                "line",
                variants,
                &[ratio("lines per CPU-second, supervised / plain tokio", "plain tokio", "supervised")],
            ) else {
                continue;
            };
            // ns per line -> lines per second; the fastest sample is the smallest time.
            let per_second = |s: crate::harness::Spread| [1e9 / s.median, 1e9 / s.max, 1e9 / s.min];
            points.push(Point {
                batch,
                capacity,
                supervised: per_second(m.spread("supervised")),
                plain: per_second(m.spread("plain tokio")),
                supervised_wall: per_second(m.wall_spread("supervised")),
                plain_wall: per_second(m.wall_spread("plain tokio")),
            });
        }
    }
    points
}
