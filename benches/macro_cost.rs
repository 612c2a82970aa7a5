//! The macro's run-time cost: the counting stage written with `#[handler_supervised]` against its hand-written twin
//! (same states, events, actions, context; `tests/support/counting_twins.rs`), run interleaved by the harness
//! (`benches/harness/`, rotated, first round discarded) on the thread's CPU clock. Target: macro / hand within 3%,
//! the macro twin's step a `sync` method; the same machine with an `async` step is measured too, as information.
//! Run: `cargo bench --bench macro_cost`.
//!
//! Under load, time ratios of two near-equal loops still spread by a few percent; instruction counts do not. One side
//! alone, for `valgrind --tool=callgrind` (per-transition instructions = the difference of two lengths over their
//! difference, which cancels set-up):
//! `STAGEWISE_MACRO_COST_ONLY=macro STAGEWISE_MACRO_COST_N=200000 valgrind --tool=callgrind <bench binary> --bench`
//! (`macro`, `async-macro` or `hand`).

#[path = "../tests/support/counting_twins.rs"]
mod counting_twins;
#[path = "harness/mod.rs"]
mod harness;

use harness::{ratio, variant, Bench, Clock, Target};

fn main() {
    // Every variant runs on this thread (a current-thread runtime), so its CPU time is the work's.
    let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().expect("runtime");
    if let Ok(side) = std::env::var("STAGEWISE_MACRO_COST_ONLY") {
        let n = std::env::var("STAGEWISE_MACRO_COST_N").ok().and_then(|n| n.parse().ok()).unwrap_or(100_000);
        let made = match side.as_str() {
            "macro" => rt.block_on(counting_twins::count_with_macro(n)),
            "async-macro" => rt.block_on(counting_twins::count_with_async_macro(n)),
            "hand" => rt.block_on(counting_twins::count_by_hand(n)),
            other => panic!("STAGEWISE_MACRO_COST_ONLY is `macro`, `async-macro` or `hand`, not {other:?}"),
        };
        println!("{side}: {made} transitions");
        return;
    }
    assert_eq!(
        rt.block_on(counting_twins::count_with_macro(1000)),
        rt.block_on(counting_twins::count_by_hand(1000)),
        "the twins make the same transitions"
    );
    assert_eq!(
        rt.block_on(counting_twins::count_with_async_macro(1000)),
        rt.block_on(counting_twins::count_by_hand(1000)),
        "the twins make the same transitions"
    );
    let bench = Bench::from_env("macro_cost").clock(Clock::ThreadCpu);
    bench.compare(
        "twins",
        "transition",
        vec![
            variant("by hand", |n| {
                std::hint::black_box(rt.block_on(counting_twins::count_by_hand(std::hint::black_box(n))));
            }),
            variant("with the macro", |n| {
                std::hint::black_box(rt.block_on(counting_twins::count_with_macro(std::hint::black_box(n))));
            }),
            variant("with the macro, async step", |n| {
                std::hint::black_box(rt.block_on(counting_twins::count_with_async_macro(std::hint::black_box(n))));
            }),
        ],
        &[
            ratio("macro / hand", "with the macro", "by hand").target(Target::AtMost(1.03)),
            ratio("async-step macro / hand", "with the macro, async step", "by hand"),
        ],
    );
}
