//! Curve 1: ns per transition against the number of concurrent stages (1 to 100,000), beside plain tokio tasks doing
//! the same turns. Every stage is the counting stage whose dispatch yields once a turn, so all of them are live at once
//! and take turns on one thread (a current-thread runtime: the thread's CPU time is the work's). The time runs from
//! the first poll to the last stage's end, so it holds each stage's Started and Completed records too (a sample gives
//! every stage at least 100 turns, which keeps that share small); spawning is left out.

use std::sync::Arc;

use stagewise::{
    BoxError, Decision, Directive, HandlerSupervised, Journal, JournalError, LifecycleRecord, Machine, StageId,
    Supervision, Supervisor,
};

use crate::counting::{CountEv, CountState, Counter, Increment};
use crate::harness::{ratio, timed, Bench, Stopwatch};

/// The stage counts: 1 to 100,000.
pub const STAGES: [u64; 6] = [1, 10, 100, 1_000, 10_000, 100_000];
/// Turns per sample, spread over the stages (each gets at least `MIN_TURNS`).
pub const TURNS: u64 = 1_000_000;
const MIN_TURNS: u64 = 100;

/// The counting stage, yielding to the other stages before every dispatch.
struct Yielding {
    limit: u64,
}

impl Machine for Yielding {
    type State = CountState;
    type Event = CountEv;
    type Context = u64;
    type Action = Increment;
    type ActionCapacity = stagewise::DefaultCapacity;

    fn transition(state: &CountState, event: CountEv, count: &mut u64) -> Decision<CountState, Increment> {
        <Counter as Machine>::transition(state, event, count)
    }
}

impl Supervisor for Yielding {
    fn name(&self) -> &'static str {
        "yielding"
    }
    async fn dispatch_state(&mut self, state: &CountState, count: &mut u64) -> Result<Directive<CountEv>, BoxError> {
        tokio::task::yield_now().await;
        Ok(match state {
            CountState::Counting if *count < self.limit => Directive::Transition(CountEv::Tick),
            CountState::Counting => Directive::Transition(CountEv::Finish),
            CountState::Done | CountState::Failed => Directive::Terminate,
        })
    }
    fn event_for_action_error(&self, _message: String) -> CountEv {
        CountEv::Error
    }
}

impl HandlerSupervised for Yielding {
    fn stage_id(&self) -> StageId {
        StageId(1)
    }
}

/// A lifecycle journal that keeps nothing: what a journal stores is its own cost, not the stages'.
struct Discard(tokio::sync::watch::Sender<u64>);

impl Journal<LifecycleRecord> for Discard {
    fn append(&self, _record: LifecycleRecord) -> Result<u64, JournalError> {
        Ok(0)
    }
    fn read_from(&self, _position: u64) -> Result<Vec<LifecycleRecord>, JournalError> {
        Ok(Vec::new())
    }
    fn len(&self) -> u64 {
        0
    }
    fn subscribe(&self) -> tokio::sync::watch::Receiver<u64> {
        self.0.subscribe()
    }
}

/// One point of the curve: median and range of ns per transition, supervised and plain.
pub struct Point {
    pub stages: u64,
    pub supervised: [f64; 3],
    pub plain: [f64; 3],
}

/// Measures every stage count in `counts`, about `turns` transitions a sample.
pub fn curve(bench: &Bench, counts: &[u64], turns: u64) -> Vec<Point> {
    let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().expect("runtime");
    let journal: Arc<dyn Journal<LifecycleRecord>> = Arc::new(Discard(tokio::sync::watch::channel(0).0));
    let mut points = Vec::new();
    for &stages in counts {
        let limit = (turns / stages).max(MIN_TURNS);
        // `limit` Ticks and one Finish per stage.
        let units = stages * (limit + 1);
        let supervised = timed("supervised", |_| {
            rt.block_on(async {
                let runs: Vec<_> = (0..stages)
                    .map(|_| {
                        let run = stagewise::run_handler_supervised(
                            Yielding { limit },
                            CountState::Counting,
                            0,
                            Supervision::new(journal.clone()),
                        );
                        tokio::spawn(run)
                    })
                    .collect();
                let watch = Stopwatch::start();
                for run in runs {
                    let record = run.await.expect("task").expect("no escalation");
                    assert_eq!(record.counters.transitions, limit + 1);
                }
                watch.elapsed()
            })
        })
        .units(units);
        let plain = timed("plain tokio tasks", |_| {
            rt.block_on(async {
                let tasks: Vec<_> = (0..stages)
                    .map(|_| {
                        tokio::spawn(async move {
                            let mut count = 0u64;
                            for _ in 0..=limit {
                                tokio::task::yield_now().await;
                                count = std::hint::black_box(count + 1);
                            }
                            count
                        })
                    })
                    .collect();
                let watch = Stopwatch::start();
                for task in tasks {
                    assert_eq!(task.await.expect("task"), limit + 1);
                }
                watch.elapsed()
            })
        })
        .units(units);
        let comparison = format!("stages_{stages}");
        let Some(m) = bench.compare(
            &comparison,
            "transition",
            vec![supervised, plain],
            &[ratio("supervised / plain", "supervised", "plain tokio tasks")],
        ) else {
            continue;
        };
        let spread = |name: &str| {
            let s = m.spread(name);
            [s.median, s.min, s.max]
        };
        points.push(Point { stages, supervised: spread("supervised"), plain: spread("plain tokio tasks") });
    }
    points
}
