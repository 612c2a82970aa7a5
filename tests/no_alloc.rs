//! Proves that a steady-state transition of the supervised loop allocates nothing: runs of many more transitions
//! allocate exactly as many heap blocks as a short one. Counted by dhat's global allocator in testing mode. Also for a
//! macro-written stage whose transitions run six and seven actions: more than the default inline capacity, so its
//! action lists are sized to the longest one instead of spilling to the heap.
//!
//! Runs without the libtest harness (`harness = false`): dhat counts every allocation in the process, and the
//! harness's own threads allocate at moments of their choosing.

#[path = "support/counting.rs"]
#[allow(dead_code)]
mod counting;

use stagewise::{BoxError, Directive, Stage, StageId};

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
    // The short run is long enough to yield once: a busy stage spends tokio's cooperative budget and yields every few
    // thousand turns, and the first yield inside a `block_on` allocates the list of wakers it defers (once per
    // `block_on`, not per yield: on a worker thread the list lives as long as the runtime).
    let short = blocks_allocated_by(&rt, 10_100);
    assert!(short > 0, "a run does allocate its setup (journal records, names)");
    for long in [100_100, 1_000_100] {
        let blocks = blocks_allocated_by(&rt, long);
        assert_eq!(
            blocks,
            short,
            "{} extra transitions allocated {} extra blocks",
            long - 10_100,
            blocks.abs_diff(short)
        );
    }
}

/// A stage whose every tick runs six actions, and whose last turn leaves a state with two exit actions through a
/// transition of three for a state with two entry actions: seven in one list.
#[derive(Stage)]
struct Burst {
    id: StageId,
    limit: u64,
}

#[derive(Debug, stagewise::EventVariant)]
enum BurstEv {
    Tick,
    Finish,
    Error(String),
}

/// Adds its amount to the total; not a zero-sized type, so a spilled list would copy real data.
#[derive(Debug)]
struct Add(u64);

impl stagewise::Action<u64> for Add {
    fn name(&self) -> &'static str {
        "Add"
    }
    async fn execute(self, total: &mut u64) -> Result<(), BoxError> {
        *total += self.0;
        Ok(())
    }
}

impl Burst {
    async fn next(&mut self, total: &mut u64) -> Result<Directive<BurstEv>, BoxError> {
        Ok(Directive::Transition(if *total < self.limit * 6 { BurstEv::Tick } else { BurstEv::Finish }))
    }
}

#[stagewise::handler_supervised(stage = Burst, event = BurstEv, action = Add, context = u64, failure = BurstEv::Error)]
#[derive(Debug)]
enum BurstState {
    #[initial]
    #[dispatch(Burst::next)]
    #[on(BurstEv::Tick => stay, actions = [Add(1), Add(1), Add(1), Add(1), Add(1), Add(1)])]
    #[on(BurstEv::Finish => Done, actions = [Add(0), Add(0), Add(0)])]
    #[exit(Add(0), Add(0))]
    Counting,
    #[terminal]
    #[entry(Add(0), Add(0))]
    Done,
    #[failed]
    Failed,
}

/// Runs the burst stage for `ticks` ticks; returns its transitions.
async fn burst(ticks: u64) -> u64 {
    let stage = Burst { id: StageId(2), limit: ticks };
    let record = stagewise::run_handler_supervised(stage, BurstState::INITIAL, 0, stagewise::Supervision::default());
    record.await.expect("the burst stage completes").counters.transitions
}

fn burst_blocks(rt: &tokio::runtime::Runtime, ticks: u64) -> u64 {
    let before = dhat::HeapStats::get().total_blocks;
    assert_eq!(rt.block_on(burst(ticks)), ticks + 1);
    dhat::HeapStats::get().total_blocks - before
}

fn transitions_of_six_and_seven_actions_allocate_nothing() {
    let _profiler = dhat::Profiler::builder().testing().build();
    let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
    burst_blocks(&rt, 10);
    // Both yield (see above), so both allocate the list of deferred wakers once.
    let short = burst_blocks(&rt, 10_100);
    let long = burst_blocks(&rt, 100_100);
    assert_eq!(long, short, "90,000 extra turns of six actions allocated {} extra blocks", long.abs_diff(short));
}

fn main() {
    steady_state_transitions_allocate_nothing();
    println!("test steady_state_transitions_allocate_nothing ... ok");
    transitions_of_six_and_seven_actions_allocate_nothing();
    println!("test transitions_of_six_and_seven_actions_allocate_nothing ... ok");
    println!("2 passed, 0 failed");
}
