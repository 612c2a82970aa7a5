//! Events per second through the access-log example's pipeline (read -> parse -> aggregate), supervised by stagewise,
//! beside the same work as plain tokio tasks and bounded channels with no stagewise type at all (the limit), run
//! interleaved by the harness (`benches/harness/`). Run: `cargo bench --bench pipeline`.

#[path = "../examples/access_log/calendar.rs"]
#[allow(dead_code)]
mod calendar;
#[path = "../examples/access_log/chaos.rs"]
#[allow(dead_code)]
mod chaos;
#[path = "harness/mod.rs"]
mod harness;
#[path = "../examples/access_log/parse.rs"]
#[allow(dead_code)]
mod parse;
#[path = "pipelines/mod.rs"]
mod pipelines;
#[path = "../examples/access_log/stages.rs"]
#[allow(dead_code)]
mod stages;
#[path = "../examples/access_log/work.rs"]
#[allow(dead_code)]
mod work;

use harness::{ratio, variant, Bench, Clock};
use work::{BATCH, LINK_CAPACITY};

const LINES: u64 = 200_000;

fn main() {
    let bench = Bench::from_env("pipeline");
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let lines = if bench.settings.smoke { 20_000 } else { LINES };
    let run = |supervised: bool| {
        let rt = &rt;
        move |n: u64| {
            let seen = rt.block_on(async {
                if supervised {
                    pipelines::supervised(n, BATCH, LINK_CAPACITY).await
                } else {
                    pipelines::plain(n, BATCH, LINK_CAPACITY).await
                }
            });
            assert_eq!(seen, n, "every line is a hit or an error");
        }
    };
    // Throughput on the wall clock; cost in CPU time of the whole process (every worker), steadier on a shared machine.
    for (clock, comparison, label) in [
        (Clock::Wall, "access_log", "throughput, supervised / plain tokio"),
        (Clock::ProcessCpu, "access_log_cpu", "CPU time per line, plain tokio / supervised"),
    ] {
        bench.clone().clock(clock).compare(
            comparison,
            "line",
            vec![variant("supervised", run(true)).units(lines), variant("plain tokio", run(false)).units(lines)],
            &[ratio(label, "plain tokio", "supervised")],
        );
    }
}
