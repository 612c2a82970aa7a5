//! The macro's run-time cost: the counting stage written with `#[handler_supervised]` against its hand-written twin
//! (same states, events, actions, context), run interleaved in one process (A, B, A, B, ..), the first round
//! discarded. Prints the median and range of the per-round ratio macro / hand. Run: `cargo bench --bench macro_cost`.

use std::time::{Duration, Instant};

#[path = "../tests/support/counting_twins.rs"]
mod counting_twins;

const TRANSITIONS: u64 = 100_000;
const ROUNDS: usize = 21;
const RUNS_PER_SIDE: u32 = 5;

fn time(run: impl Fn() -> u64) -> Duration {
    let start = Instant::now();
    for _ in 0..RUNS_PER_SIDE {
        std::hint::black_box(run());
    }
    start.elapsed()
}

fn main() {
    // `cargo test --benches` runs this with `--bench` absent: one quick round proves it works.
    let quick = !std::env::args().any(|a| a == "--bench");
    let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().expect("runtime");
    let limit = if quick { 1_000 } else { TRANSITIONS };
    let with_macro = || rt.block_on(counting_twins::count_with_macro(std::hint::black_box(limit)));
    let by_hand = || rt.block_on(counting_twins::count_by_hand(std::hint::black_box(limit)));
    assert_eq!(with_macro(), by_hand(), "the twins make the same transitions");
    let rounds = if quick { 2 } else { ROUNDS };
    let mut ratios = Vec::with_capacity(rounds);
    let mut ns = (Vec::with_capacity(rounds), Vec::with_capacity(rounds));
    for round in 0..rounds {
        let hand = time(by_hand);
        let mac = time(with_macro);
        if round == 0 {
            continue; // warm-up
        }
        let per = |d: Duration| d.as_secs_f64() * 1e9 / f64::from(RUNS_PER_SIDE) / limit as f64;
        ns.0.push(per(hand));
        ns.1.push(per(mac));
        ratios.push(mac.as_secs_f64() / hand.as_secs_f64());
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        (v[v.len() / 2], v[0], v[v.len() - 1])
    };
    let (r, r_lo, r_hi) = median(&mut ratios);
    let (h, _, _) = median(&mut ns.0);
    let (m, _, _) = median(&mut ns.1);
    println!(
        "macro_cost: {} rounds of {limit} transitions x {RUNS_PER_SIDE} runs a side: by hand {h:.2} ns/transition, \
         with the macro {m:.2} ns/transition; ratio macro/hand median {r:.3} (range {r_lo:.3} .. {r_hi:.3})",
        ratios.len()
    );
}
