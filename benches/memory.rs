//! Memory per idle supervised stage, with its handle, beside a plain tokio task awaiting an mpsc receiver (the limit),
//! and the time to spawn 100,000 of them. Each sample runs in a fresh child process (this binary, re-run with
//! `--child`), which spawns the tasks, lets each reach its first await, and reads its resident set from
//! `/proc/self/statm` before and after; the two kinds of child alternate, order rotated per round, the first round
//! discarded. Prints the size of the run-loop future too. Run: `cargo bench --bench memory`.
//!
//! The stages share one lifecycle journal that counts records and keeps none: what a journal stores is the journal's
//! cost (a file journal keeps nothing in memory), not the stage's.

#[path = "alloc_trace/mod.rs"]
mod alloc_trace;
#[path = "harness/mod.rs"]
mod harness;

use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use harness::{sig, Bench, Spread};
use stagewise::{
    BoxError, Decision, Directive, Ending, EventVariant, HandlerSupervised, Journal, LifecycleRecord, Machine,
    SpawnOptions, StageId, StateVariant, Supervision, Supervisor,
};
use tokio::sync::mpsc;

#[global_allocator]
static ALLOCATOR: alloc_trace::Traced = alloc_trace::Traced;

const STAGES: usize = 100_000;
/// The target per idle stage, handle included.
const TARGET_BYTES: f64 = 2048.0;
/// The target time to spawn 100,000 stages.
const TARGET_SPAWN_SECONDS: f64 = 0.3;

/// Waiting for input, which never comes while it is measured.
#[derive(Debug, PartialEq)]
enum IdleState {
    Waiting,
    Done,
    Failed,
}

impl StateVariant for IdleState {
    fn name(&self) -> &'static str {
        match self {
            IdleState::Waiting => "Waiting",
            IdleState::Done => "Done",
            IdleState::Failed => "Failed",
        }
    }
    fn ending(&self) -> Option<Ending> {
        match self {
            IdleState::Waiting => None,
            IdleState::Done => Some(Ending::Completed),
            IdleState::Failed => Some(Ending::Failed),
        }
    }
}

enum IdleEvent {
    Got,
    Closed,
    Error,
}

impl EventVariant for IdleEvent {
    fn name(&self) -> &'static str {
        match self {
            IdleEvent::Got => "Got",
            IdleEvent::Closed => "Closed",
            IdleEvent::Error => "Error",
        }
    }
}

struct NoAction;

impl stagewise::Action<()> for NoAction {
    fn name(&self) -> &'static str {
        "NoAction"
    }
    async fn execute(self, _ctx: &mut ()) -> Result<(), BoxError> {
        Ok(())
    }
}

/// The smallest useful stage: dispatch awaits its input.
struct Idle {
    input: mpsc::Receiver<u8>,
}

impl Machine for Idle {
    type State = IdleState;
    type Event = IdleEvent;
    type Context = ();
    type Action = NoAction;
    type ActionCapacity = stagewise::DefaultCapacity;

    fn transition(state: &IdleState, event: IdleEvent, _ctx: &mut ()) -> Decision<IdleState, NoAction> {
        match (state, event) {
            (IdleState::Waiting, IdleEvent::Got) => Decision::stay_with([]),
            (IdleState::Waiting, IdleEvent::Closed) => Decision::goto(IdleState::Done),
            (_, IdleEvent::Error) => Decision::goto(IdleState::Failed),
            _ => Decision::Unhandled,
        }
    }
}

impl Supervisor for Idle {
    fn name(&self) -> &'static str {
        "idle"
    }
    async fn dispatch_state(&mut self, state: &IdleState, _ctx: &mut ()) -> Result<Directive<IdleEvent>, BoxError> {
        Ok(match state {
            IdleState::Waiting => match self.input.recv().await {
                Some(_) => Directive::Transition(IdleEvent::Got),
                None => Directive::Transition(IdleEvent::Closed),
            },
            IdleState::Done | IdleState::Failed => Directive::Terminate,
        })
    }
    fn event_for_action_error(&self, _message: String) -> IdleEvent {
        IdleEvent::Error
    }
}

impl HandlerSupervised for Idle {
    fn stage_id(&self) -> StageId {
        StageId(0)
    }
}

/// A lifecycle journal that counts appends and keeps nothing.
struct Counting {
    appended: std::sync::atomic::AtomicU64,
    len: tokio::sync::watch::Sender<u64>,
}

impl Journal<LifecycleRecord> for Counting {
    fn append(&self, _record: LifecycleRecord) -> Result<u64, stagewise::JournalError> {
        Ok(self.appended.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
    }
    fn read_from(&self, _position: u64) -> Result<Vec<LifecycleRecord>, stagewise::JournalError> {
        Ok(Vec::new())
    }
    fn len(&self) -> u64 {
        self.appended.load(std::sync::atomic::Ordering::Relaxed)
    }
    fn subscribe(&self) -> tokio::sync::watch::Receiver<u64> {
        self.len.subscribe()
    }
}

fn resident_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("/proc/self/statm");
    let pages: u64 = statm.split_whitespace().nth(1).and_then(|p| p.parse().ok()).expect("resident pages");
    pages * 4096
}

/// In a child: spawns `count` tasks of `kind`, lets each reach its first await, prints
/// `bytes_per_task spawn_seconds`.
fn child(kind: &str, count: usize) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    rt.block_on(async {
        // One lifecycle journal for all, as a pipeline has, keeping no records.
        let journal: Arc<dyn Journal<LifecycleRecord>> =
            Arc::new(Counting { appended: 0.into(), len: tokio::sync::watch::channel(0).0 });
        let trace_one = count == 0;
        let count = if trace_one { 101 } else { count };
        let mut senders = Vec::with_capacity(count);
        let mut handles = Vec::with_capacity(count);
        let mut tasks = Vec::with_capacity(count);
        let mut runs = Vec::with_capacity(if kind == "loop" { count } else { 0 });
        let before = resident_bytes();
        let start = Instant::now();
        let cpu = cpu_time::ProcessTime::now();
        for i in 0..count {
            if trace_one && i == count - 1 {
                // Warm: the runtime's own first-time allocations are behind, and every earlier task has reached its
                // first await (a current-thread runtime polls a bounded batch per yield); trace the last spawn alone.
                for _ in 0..8 {
                    tokio::task::yield_now().await;
                }
                alloc_trace::start();
            }
            let (tx, rx) = mpsc::channel::<u8>(1);
            senders.push(tx);
            match kind {
                "stage" => {
                    let options = SpawnOptions::default().journal(journal.clone());
                    handles.push(stagewise::spawn_handler_supervised(
                        Idle { input: rx },
                        IdleState::Waiting,
                        (),
                        options,
                    ));
                }
                "loop" => {
                    // The run loop alone, without control channel, state watch or handle: where the rest goes.
                    let supervision = Supervision::new(journal.clone());
                    let run =
                        stagewise::run_handler_supervised(Idle { input: rx }, IdleState::Waiting, (), supervision);
                    // Spawned as it is: an `async move { run.await }` around it would hold the future twice.
                    runs.push(tokio::spawn(run));
                }
                _ => tasks.push(tokio::spawn(async move {
                    let mut rx = rx;
                    while rx.recv().await.is_some() {}
                })),
            }
        }
        // Every task runs to its first await before this one goes on.
        for _ in 0..3 {
            tokio::task::yield_now().await;
        }
        if trace_one {
            let sizes = alloc_trace::stop();
            let total: usize = sizes.iter().map(|(size, _)| size).sum();
            let list: Vec<String> = sizes.iter().map(|(size, align)| format!("{size}@{align}")).collect();
            println!("{} allocations, {total} B requested: {}", sizes.len(), list.join(" "));
            std::process::exit(0);
        }
        let seconds = start.elapsed().as_secs_f64();
        let cpu_seconds = cpu.elapsed().as_secs_f64();
        let after = resident_bytes();
        if kind == "stage" {
            assert!(handles.iter().all(|h| !h.is_finished() && h.state().name == "Waiting"), "stages are idle");
        }
        println!("{} {seconds} {cpu_seconds}", (after - before) as f64 / count as f64);
        std::hint::black_box((&senders, &handles, &tasks, &runs));
        std::process::exit(0); // Dropping 100,000 tasks is not measured.
    });
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|a| a == "--child") {
        child(&args[at + 1], args[at + 2].parse().expect("count"));
        return;
    }
    let bench = Bench::from_env("memory");
    let rounds = if bench.settings.smoke { 1 } else { bench.settings.rounds.min(7) };
    let count = if bench.settings.smoke { 1_000 } else { STAGES };
    let future = stagewise::run_handler_supervised(
        Idle { input: mpsc::channel(1).1 },
        IdleState::Waiting,
        (),
        Supervision::default(),
    );
    println!("\nmemory/idle: run-loop future of the idle stage: {} bytes", std::mem::size_of_val(&future));
    println!("memory/idle: StageHandle: {} bytes", std::mem::size_of::<stagewise::StageHandle>());
    drop(future);
    let exe = std::env::current_exe().expect("this benchmark's path");
    for kind in ["stage", "plain"] {
        let out = Command::new(&exe).args(["--child", kind, "0"]).output().expect("child");
        assert!(out.status.success(), "child failed: {}", String::from_utf8_lossy(&out.stderr));
        print!("memory/idle: one {kind} spawned: {}", String::from_utf8_lossy(&out.stdout));
    }
    let kinds = ["stage", "plain", "loop"];
    let mut bytes = [Vec::new(), Vec::new(), Vec::new()];
    let mut seconds = [Vec::new(), Vec::new(), Vec::new()];
    let mut cpu = [Vec::new(), Vec::new(), Vec::new()];
    let mut csv = String::from("round,kind,tasks,bytes_per_task,spawn_seconds,spawn_cpu_seconds\n");
    for round in 0..=rounds {
        for position in 0..kinds.len() {
            let k = (round + position) % kinds.len();
            let out = Command::new(&exe).args(["--child", kinds[k], &count.to_string()]).output().expect("child");
            assert!(out.status.success(), "child failed: {}", String::from_utf8_lossy(&out.stderr));
            let text = String::from_utf8_lossy(&out.stdout);
            let mut fields = text.split_whitespace().map(|f| f.parse::<f64>().expect("number"));
            let (b, s) = (fields.next().expect("bytes"), fields.next().expect("seconds"));
            let c = fields.next().expect("cpu seconds");
            csv.push_str(&format!("{round},{},{count},{b:.1},{s:.4},{c:.4}\n", kinds[k]));
            if round > 0 {
                bytes[k].push(b);
                seconds[k].push(s);
                cpu[k].push(c);
            }
        }
    }
    println!(
        "memory/idle: {count} tasks per child process, {rounds} rounds kept (first discarded), kinds alternating{}",
        if bench.settings.smoke { " [smoke run: not a measurement]" } else { "" }
    );
    for (k, kind) in kinds.iter().enumerate() {
        let (b, s) = (Spread::of(&bytes[k]).expect("bytes"), Spread::of(&seconds[k]).expect("seconds"));
        let c = Spread::of(&cpu[k]).expect("cpu seconds");
        let label = match *kind {
            "stage" => "idle supervised stage + handle",
            "plain" => "plain tokio task + mpsc",
            _ => "run loop alone (no control/watch/handle)",
        };
        println!(
            "  {label:<41} {} B resident per task median (range {}-{}); spawn {count}: {} s wall (range {}-{}), {} s CPU \
             (range {}-{})",
            sig(b.median),
            sig(b.min),
            sig(b.max),
            sig(s.median),
            sig(s.min),
            sig(s.max),
            sig(c.median),
            sig(c.min),
            sig(c.max)
        );
    }
    let (b, s) = (Spread::of(&bytes[0]).expect("bytes"), Spread::of(&cpu[0]).expect("cpu seconds"));
    let verdict = |met: bool| if met { "MET" } else { "MISSED" };
    println!(
        "  target <= {TARGET_BYTES} B per stage: {} ({}x of it); target spawn 100,000 < {TARGET_SPAWN_SECONDS} s (CPU): {}",
        verdict(b.median <= TARGET_BYTES),
        sig(b.median / TARGET_BYTES),
        if count == STAGES { verdict(s.median < TARGET_SPAWN_SECONDS) } else { "not run (smoke)" }
    );
    bench.write_csv("memory-idle.csv", &csv);
}
