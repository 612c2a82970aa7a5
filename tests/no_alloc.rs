//! Proves that a steady-state transition of the supervised loop allocates nothing: runs of many more transitions
//! allocate exactly as many heap blocks as a short one. Counted by dhat's global allocator in testing mode.
//!
//! Runs without the libtest harness (`harness = false`): dhat counts every allocation in the process, and the
//! harness's own threads allocate at moments of their choosing.

#[path = "support/counting.rs"]
#[allow(dead_code)]
mod counting;

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

fn blocks_allocated_by(rt: &tokio::runtime::Runtime, limit: u64) -> u64 {
    let before = dhat::HeapStats::get().total_blocks;
    let transitions = rt.block_on(counting::count_supervised(limit));
    assert_eq!(transitions, limit + 1);
    dhat::HeapStats::get().total_blocks - before
}

fn steady_state_transitions_allocate_nothing() {
    let _profiler = dhat::Profiler::builder().testing().build();
    let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
    // Warm up lazily initialised statics (tracing callsites, thread locals).
    blocks_allocated_by(&rt, 10);
    let short = blocks_allocated_by(&rt, 100);
    assert!(short > 0, "a run does allocate its setup (journal records, names)");
    for long in [10_100, 100_100] {
        let blocks = blocks_allocated_by(&rt, long);
        assert_eq!(blocks, short, "{} extra transitions allocated {} extra blocks", long - 100, blocks.abs_diff(short));
    }
}

fn main() {
    steady_state_transitions_allocate_nothing();
    println!("test steady_state_transitions_allocate_nothing ... ok");
    println!("1 passed, 0 failed");
}
