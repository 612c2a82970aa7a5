//! Proves that a steady-state transition of the supervised loop allocates nothing: a run of many more transitions
//! allocates exactly as many heap blocks as a short one. Counted by dhat's global allocator in testing mode.

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

#[test]
fn steady_state_transitions_allocate_nothing() {
    let _profiler = dhat::Profiler::builder().testing().build();
    let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
    // Warm up lazily initialised statics (tracing callsites, thread locals).
    blocks_allocated_by(&rt, 10);
    let short = blocks_allocated_by(&rt, 100);
    let long = blocks_allocated_by(&rt, 100_100);
    assert!(short > 0, "a run does allocate its setup (journal records, names)");
    assert_eq!(long, short, "100,000 extra transitions allocated {} extra blocks", long.saturating_sub(short));
}
