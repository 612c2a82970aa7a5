//! ns per transition of the supervised run loop on the counting stage (dispatch, transition, one action), beside its
//! limit, a bare async `match` loop doing the same work, and its anchor, the reference loop on `obzenflow-fsm`
//! (`benches/reference/`). All run interleaved by the harness (`benches/harness/`), which reports each ratio's median
//! and range. Run: `cargo bench --bench transition`.
//!
//! For a profiler, one variant alone, `n` transitions, no harness: `cargo bench --bench transition -- --profile
//! "run loop" 100000` (e.g. under `valgrind --tool=callgrind`; two values of `n` give instructions per transition).

#[path = "../tests/support/counting.rs"]
mod counting;
#[path = "harness/mod.rs"]
mod harness;
#[path = "reference/mod.rs"]
mod reference;

use harness::{ratio, variant, Bench, Clock, Target};

fn main() {
    // Every variant runs on this thread (a current-thread runtime), so its CPU time is the work's.
    let bench = Bench::from_env("transition").clock(Clock::ThreadCpu);
    let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().expect("runtime");
    if let Some((name, n)) = profile_request() {
        let reached = match name.as_str() {
            "run loop" => rt.block_on(counting::count_supervised(n)),
            "run loop with control" => rt.block_on(counting::count_supervised_with_control(n)),
            "bare loop" => rt.block_on(counting::count_bare(n)),
            "reference loop" => rt.block_on(reference::count_reference(n)),
            other => panic!("no variant named {other}"),
        };
        println!("{name}: {reached} transitions");
        return;
    }
    // Each variant makes `n` Ticks and one Finish.
    for (name, reached) in [
        ("run loop", rt.block_on(counting::count_supervised(1000))),
        ("run loop with control", rt.block_on(counting::count_supervised_with_control(1000))),
        ("bare loop", rt.block_on(counting::count_bare(1000))),
        ("reference loop", rt.block_on(reference::count_reference(1000))),
    ] {
        assert_eq!(reached, 1001, "{name} made the wrong number of transitions");
    }
    bench.compare(
        "counting",
        "transition",
        vec![
            variant("run loop", |n| {
                std::hint::black_box(rt.block_on(counting::count_supervised(std::hint::black_box(n))));
            }),
            variant("run loop with control", |n| {
                std::hint::black_box(rt.block_on(counting::count_supervised_with_control(std::hint::black_box(n))));
            }),
            variant("bare loop", |n| {
                std::hint::black_box(rt.block_on(counting::count_bare(std::hint::black_box(n))));
            }),
            variant("reference loop", |n| {
                std::hint::black_box(rt.block_on(reference::count_reference(std::hint::black_box(n))));
            }),
        ],
        &[
            ratio("run loop / bare loop", "run loop", "bare loop").target(Target::AtMost(8.0)),
            ratio("run loop with control / bare loop", "run loop with control", "bare loop")
                .target(Target::AtMost(8.0)),
            ratio("reference loop / run loop (times faster)", "reference loop", "run loop")
                .target(Target::AtLeast(20.0)),
            ratio("reference loop / run loop with control", "reference loop", "run loop with control"),
        ],
    );
}

/// `--profile VARIANT N` on the command line: run that variant alone for `N` transitions.
fn profile_request() -> Option<(String, u64)> {
    let args: Vec<String> = std::env::args().collect();
    let at = args.iter().position(|a| a == "--profile")?;
    let name = args.get(at + 1).expect("--profile VARIANT N").clone();
    let n = args.get(at + 2).and_then(|n| n.parse().ok()).expect("--profile VARIANT N: N transitions");
    Some((name, n))
}
