//! Integration tests of what surrounds the loop: state timeouts, idling, the control channel, state publishing,
//! counters, aborts, Send futures on a multi-threaded runtime, self-supervised orchestrators, and the pure machine.

mod support;

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use stagewise::machine::Step;
use stagewise::{
    spawn_handler_supervised, Actions, BoxError, Control, Decision, Directive, Ending, EventVariant, HandleError,
    Lifecycle, Machine, MemoryJournal, SelfSupervised, SelfSupervisedExt, SpawnOptions, StateMachine, StateVariant,
    Supervision, Supervisor,
};
use support::{run_probe, Act, Ctx, Ev, Log, Probe, Script, St};

#[tokio::test(start_paused = true)]
async fn state_timeout_fires_under_paused_time() {
    let started = tokio::time::Instant::now();
    let ran = run_probe(Probe::new([Script::Emit(Ev::Wait)]), St::Running, Ctx::default()).await;
    assert_eq!(ran.result.expect("completes").state, "Done");
    assert!(ran.log.contains(&"tick".to_owned()), "the timeout's Tick event drove Waiting -> Done: {:?}", ran.log);
    assert_eq!(started.elapsed(), Duration::from_secs(5), "fired exactly at the declared timeout");
}

#[tokio::test(start_paused = true)]
async fn state_timeout_is_cancelled_when_the_state_is_left() {
    // Waiting for 3 s then Work leaves Waiting before its 5 s timeout; the timeout must not fire later in Running.
    let probe = Probe::new([
        Script::Emit(Ev::Wait),
        Script::Sleep(Duration::from_secs(3)),
        Script::Emit(Ev::Work),
        Script::Sleep(Duration::from_secs(10)),
        Script::Emit(Ev::Finish),
    ]);
    let ran = run_probe(probe, St::Running, Ctx::default()).await;
    assert!(!ran.log.contains(&"tick".to_owned()), "{:?}", ran.log);
    assert!(ran.log.contains(&"finish".to_owned()));
}

#[tokio::test(start_paused = true)]
async fn idle_stage_awaits_instead_of_spinning() {
    let probe = Probe::new([]);
    let dispatches = probe.dispatches.clone();
    let handle = spawn_handler_supervised(probe, St::Running, Ctx::default(), SpawnOptions::default());
    tokio::time::sleep(Duration::from_secs(1)).await;
    let turns = handle.counters().loop_turns;
    assert!(turns <= 2, "an idle stage turned its loop {turns} times in a paused second");
    assert!(dispatches.load(Ordering::Relaxed) <= 2);
    handle.abort();
}

/// Runs `scenario` on a one-thread runtime of its own thread, and fails if it has not finished within 20 s: a stage
/// that never yields would otherwise hang the suite instead of failing it.
fn on_one_thread_within_20s<T: Send + 'static>(
    scenario: impl FnOnce() -> std::pin::Pin<Box<dyn std::future::Future<Output = T>>> + Send + 'static,
) -> T {
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().start_paused(true).build().unwrap();
        let _ = done.send(rt.block_on(scenario()));
    });
    finished.recv_timeout(Duration::from_secs(20)).expect("the scenario did not finish within 20 s")
}

#[test]
fn continue_without_awaiting_still_lets_other_tasks_run() {
    // One worker thread: if the spinning stage never yielded, the scenario's own task would never run again.
    let record = on_one_thread_within_20s(|| {
        Box::pin(async {
            let mut handle = spawn_handler_supervised(
                Probe::new([Script::Spin]),
                St::Running,
                Ctx::default(),
                SpawnOptions::default(),
            );
            while handle.counters().loop_turns < 1_000 {
                tokio::task::yield_now().await;
            }
            handle.send(Control::Stop).await.expect("running");
            handle.outcome().await
        })
    });
    assert!(matches!(record.expect("ends").lifecycle, Lifecycle::Cancelled { .. }));
}

#[test]
fn state_timeout_fires_while_dispatch_never_waits() {
    // Waiting's dispatch returns Continue at once, forever: its 5 s timeout must fire from the clock alone.
    let record = on_one_thread_within_20s(|| {
        Box::pin(async {
            let mut handle = spawn_handler_supervised(
                Probe::new([Script::Emit(Ev::Wait), Script::Spin]),
                St::Running,
                Ctx::default(),
                SpawnOptions::default(),
            );
            while handle.state().name != "Waiting" {
                tokio::task::yield_now().await;
            }
            tokio::time::advance(Duration::from_secs(6)).await;
            handle.outcome().await
        })
    });
    let record = record.expect("ends");
    assert_eq!(record.lifecycle, Lifecycle::Completed);
    assert_eq!(record.state, "Done", "the timeout's Tick drove Waiting -> Done");
}

#[tokio::test(start_paused = true)]
async fn block_state_waits_for_a_control_message_without_dispatching() {
    let probe = Probe::new([Script::Emit(Ev::Finish)]);
    let dispatches = probe.dispatches.clone();
    let mut handle = spawn_handler_supervised(probe, St::Idle, Ctx::default(), SpawnOptions::default());
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(handle.state().name, "Idle");
    assert_eq!(dispatches.load(Ordering::Relaxed), 0, "a Block state does not dispatch");
    handle.send(Control::Start).await.expect("running");
    let record = handle.outcome().await.expect("completes");
    assert_eq!(record.lifecycle, Lifecycle::Completed);
}

#[tokio::test]
async fn control_message_is_taken_before_the_next_dispatch_in_a_poll_state() {
    let probe = Probe::new([Script::Emit(Ev::Work), Script::Emit(Ev::Finish)]);
    let mut handle = spawn_handler_supervised(probe, St::Running, Ctx::default(), SpawnOptions::default());
    handle.send(Control::Stop).await.expect("running");
    let record = handle.outcome().await.expect("ends");
    assert_eq!(
        record.lifecycle,
        Lifecycle::Cancelled { reason: "stopped in state Stopped after a Stop control message".into() },
        "{record}"
    );
    assert_eq!(record.counters.transitions, 1, "only Stop was fed; the scripted Work never ran");
}

#[tokio::test]
async fn terminal_state_ignores_control_messages() {
    // Done's dispatch terminates on its own; a Stop queued before the run starts must not turn Completed into anything else.
    let probe = Probe::new([Script::Continue, Script::Terminate]);
    let mut handle = spawn_handler_supervised(probe, St::Done, Ctx::default(), SpawnOptions::default());
    let _ = handle.try_send(Control::Stop);
    let record = handle.outcome().await.expect("completes");
    assert_eq!(record.lifecycle, Lifecycle::Completed);
    assert_eq!(record.counters.transitions, 0, "the control message was not fed to the machine");
}

#[tokio::test]
async fn closed_control_channel_takes_the_failure_path() {
    let journal = Arc::new(MemoryJournal::new());
    let (tx, rx) = stagewise::control_channel(1);
    drop(tx);
    let ctx = Ctx { on_failure: vec![Act::Log("report")], ..Ctx::default() };
    let record = stagewise::run_handler_supervised(
        Probe::new([]),
        St::Running,
        ctx,
        Supervision::new(journal.clone()).with_control(rx),
    )
    .await
    .expect("handled failure");
    match record.lifecycle {
        Lifecycle::Failed { error, escalation: None } => assert_eq!(error, "control channel closed in state Running"),
        other => panic!("expected Failed, got {other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn state_is_published_right_after_each_transition() {
    let probe = Probe::new([Script::Emit(Ev::Wait)]);
    let handle = spawn_handler_supervised(probe, St::Running, Ctx::default(), SpawnOptions::default());
    let mut states = handle.subscribe();
    let mut seen = vec![states.borrow_and_update().name];
    while states.changed().await.is_ok() {
        seen.push(states.borrow_and_update().name);
    }
    assert_eq!(seen, ["Running", "Waiting", "Done"]);
    assert_eq!(handle.state().ending, Some(Ending::Completed));
}

#[tokio::test(start_paused = true)]
async fn counters_are_readable_while_the_stage_runs() {
    let ctx = Ctx { on_work: vec![Act::Log("w")], ..Ctx::default() };
    let mut script: Vec<Script> = (0..10).map(|_| Script::Emit(Ev::Work)).collect();
    script.push(Script::Sleep(Duration::from_secs(60)));
    script.push(Script::Emit(Ev::Finish));
    let mut handle = spawn_handler_supervised(Probe::new(script), St::Running, ctx, SpawnOptions::default());
    tokio::time::sleep(Duration::from_secs(30)).await;
    let mid = handle.counters();
    assert_eq!(mid.transitions, 10, "{mid:?}");
    assert!(mid.loop_turns >= 11);
    let end = handle.outcome().await.expect("completes").counters;
    assert_eq!(end.transitions, 11);
}

#[tokio::test(start_paused = true)]
async fn abort_records_cancelled_and_the_handle_reports_it() {
    let journal = Arc::new(MemoryJournal::new());
    let options = SpawnOptions::default().journal(journal.clone());
    let mut handle = spawn_handler_supervised(Probe::new([]), St::Running, Ctx::default(), options);
    tokio::time::sleep(Duration::from_millis(10)).await;
    handle.abort();
    let record = handle.outcome().await.expect("abort still yields a record");
    assert_eq!(record.lifecycle, Lifecycle::Cancelled { reason: "task aborted".into() });
    let terminal: Vec<_> = journal.records().into_iter().filter(|r| r.lifecycle.is_terminal()).collect();
    assert_eq!(terminal.len(), 1);
    assert!(
        matches!(handle.send(Control::Stop).await, Err(HandleError::Ended { .. })),
        "a handle outliving its task errs"
    );
}

#[tokio::test]
async fn waiting_on_a_handle_again_returns_the_same_outcome() {
    let mut handle = spawn_handler_supervised(
        Probe::new([Script::Emit(Ev::Finish)]),
        St::Running,
        Ctx::default(),
        SpawnOptions::default(),
    );
    let first = handle.outcome().await.expect("completes");
    let again = handle.outcome().await.expect("same outcome");
    assert_eq!(first, again);
    assert!(handle.is_finished());
}

fn assert_send<T: Send>(_: &T) {}

#[test]
fn run_future_is_send() {
    let future = stagewise::run_handler_supervised(Probe::new([]), St::Running, Ctx::default(), Supervision::default());
    assert_send(&future);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stages_run_on_a_multi_threaded_runtime() {
    let mut handles: Vec<_> = (0..8)
        .map(|_| {
            let script: Vec<Script> =
                (0..100).map(|_| Script::Emit(Ev::Work)).chain([Script::Emit(Ev::Finish)]).collect();
            spawn_handler_supervised(Probe::new(script), St::Running, Ctx::default(), SpawnOptions::default())
        })
        .collect();
    for handle in &mut handles {
        let record = handle.outcome().await.expect("completes");
        assert_eq!(record.counters.transitions, 101);
    }
}

/// A tiny orchestrator: counts down, then completes.
struct Countdown {
    from: u32,
}

#[derive(Debug, PartialEq)]
enum Cd {
    Counting(u32),
    Finished,
    Broken,
}

impl StateVariant for Cd {
    fn name(&self) -> &'static str {
        match self {
            Cd::Counting(_) => "Counting",
            Cd::Finished => "Finished",
            Cd::Broken => "Broken",
        }
    }
    fn ending(&self) -> Option<Ending> {
        match self {
            Cd::Counting(_) => None,
            Cd::Finished => Some(Ending::Completed),
            Cd::Broken => Some(Ending::Failed),
        }
    }
}

enum CdEv {
    Tick,
    Fail,
}

impl EventVariant for CdEv {
    fn name(&self) -> &'static str {
        match self {
            CdEv::Tick => "Tick",
            CdEv::Fail => "Fail",
        }
    }
}

struct Note;

impl stagewise::Action<Log> for Note {
    fn name(&self) -> &'static str {
        "Note"
    }
    async fn execute(self, log: &mut Log) -> Result<(), BoxError> {
        log.push("tick");
        Ok(())
    }
}

impl Machine for Countdown {
    type State = Cd;
    type Event = CdEv;
    type Context = Log;
    type Action = Note;
    type ActionCapacity = stagewise::DefaultCapacity;
    fn transition(state: &Cd, event: CdEv, _log: &mut Log) -> Decision<Cd, Note> {
        match (state, event) {
            (Cd::Counting(0), CdEv::Tick) => Decision::goto(Cd::Finished),
            (Cd::Counting(n), CdEv::Tick) => Decision::goto_with(Cd::Counting(n - 1), [Note]),
            (_, CdEv::Fail) => Decision::goto(Cd::Broken),
            _ => Decision::Unhandled,
        }
    }
}

impl Supervisor for Countdown {
    fn name(&self) -> &'static str {
        "countdown"
    }
    async fn dispatch_state(&mut self, state: &Cd, _log: &mut Log) -> Result<Directive<CdEv>, BoxError> {
        Ok(match state {
            Cd::Counting(_) => Directive::Transition(CdEv::Tick),
            _ => Directive::Terminate,
        })
    }
    fn event_for_action_error(&self, _message: String) -> CdEv {
        CdEv::Fail
    }
}

impl SelfSupervised for Countdown {}

#[tokio::test]
async fn self_supervised_orchestrator_runs_through_the_same_loop() {
    let log = Log::default();
    let countdown = Countdown { from: 3 };
    let from = countdown.from;
    let record = countdown.run(Cd::Counting(from), log.clone()).await.expect("completes");
    assert_eq!(record.lifecycle, Lifecycle::Completed);
    assert_eq!(record.writer, stagewise::WriterId::System);
    assert_eq!(record.stage, None);
    assert_eq!(log.lines().len(), 3);
}

#[test]
fn machine_decides_without_a_runtime() {
    let mut ctx = Ctx { on_work: vec![Act::Log("w")], ..Ctx::default() };
    let mut machine: StateMachine<Probe> = StateMachine::new(St::Running);
    match machine.handle(Ev::Work, &mut ctx) {
        Step::Turned { actions, entered } => {
            assert_eq!(actions.into_vec(), vec![Act::Log("w")]);
            assert!(!entered, "Stay neither exits nor enters");
        }
        other => panic!("{other:?}"),
    }
    match machine.handle(Ev::Finish, &mut ctx) {
        Step::Turned { actions, entered } => {
            assert_eq!(actions.into_vec(), vec![Act::Log("exit Running"), Act::Log("finish")]);
            assert!(entered);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(*machine.state(), St::Done);
    assert!(matches!(machine.handle(Ev::Noise, &mut ctx), Step::Ignored { state: "Done", event: "Noise" }));
    assert!(matches!(machine.handle(Ev::Stray, &mut ctx), Step::Rejected { state: "Done", event: "Stray" }));
}

#[test]
fn failure_event_in_the_failed_state_is_idempotent() {
    let mut ctx = Ctx { on_failure: vec![Act::Log("report")], ..Ctx::default() };
    let mut machine: StateMachine<Probe> = StateMachine::new(St::Failed("first".into()));
    match machine.handle(Ev::Error("again".into()), &mut ctx) {
        Step::Turned { actions, entered } => {
            assert!(actions.is_empty(), "no failure actions run twice");
            assert!(!entered);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(*machine.state(), St::Failed("first".into()));
}

#[test]
fn actions_of_one_transition_fit_inline() {
    let actions: Actions<Act> = [Act::Log("a"), Act::Log("b"), Act::Log("c"), Act::Log("d")].into_iter().collect();
    assert!(!actions.spilled());
    assert_eq!(stagewise::INLINE_ACTIONS, 4);
}

#[tokio::test]
async fn cancelled_reason_names_only_the_control_message_that_stopped_the_run() {
    // Start wakes Idle; dispatch itself then emits Stop. The Start did not stop the run, so the record must not say so.
    let mut handle = spawn_handler_supervised(
        Probe::new([Script::Emit(Ev::Stop)]),
        St::Idle,
        Ctx::default(),
        SpawnOptions::default(),
    );
    handle.send(Control::Start).await.expect("running");
    let record = handle.outcome().await.expect("ends");
    assert_eq!(record.lifecycle, Lifecycle::Cancelled { reason: "stopped in state Stopped".into() }, "{record}");
}

/// A machine whose hooks panic: `control_event` always, `on_entry` when entering `Entered`, `on_exit` when leaving
/// `Exiting` (which times out at once).
mod panicky {
    use stagewise::{
        Actions, BoxError, Control, Decision, Directive, Ending, EventVariant, HandlerSupervised, Machine, StageId,
        StateVariant, Supervisor,
    };

    #[derive(Debug, PartialEq)]
    pub enum S {
        Run,
        Entered,
        Exiting,
        Failed,
    }

    impl StateVariant for S {
        fn name(&self) -> &'static str {
            match self {
                S::Run => "Run",
                S::Entered => "Entered",
                S::Exiting => "Exiting",
                S::Failed => "Failed",
            }
        }
        fn ending(&self) -> Option<Ending> {
            (*self == S::Failed).then_some(Ending::Failed)
        }
    }

    pub struct Failure;

    impl EventVariant for Failure {
        fn name(&self) -> &'static str {
            "Failure"
        }
    }

    pub enum NoAction {}

    impl stagewise::Action<()> for NoAction {
        fn name(&self) -> &'static str {
            match *self {}
        }
        async fn execute(self, _: &mut ()) -> Result<(), BoxError> {
            match self {}
        }
    }

    pub struct Panicky;

    impl Machine for Panicky {
        type State = S;
        type Event = Failure;
        type Context = ();
        type Action = NoAction;
        type ActionCapacity = stagewise::DefaultCapacity;
        fn transition(_: &S, _: Failure, _: &mut ()) -> Decision<S, NoAction> {
            Decision::goto(S::Failed)
        }
        fn on_entry(state: &S, _: &mut Actions<NoAction>) {
            assert!(*state != S::Entered, "bug in on_entry");
        }
        fn on_exit(state: &S, _: &mut Actions<NoAction>) {
            assert!(*state != S::Exiting, "bug in on_exit");
        }
        fn timeout(state: &S) -> Option<stagewise::StateTimeout<Failure>> {
            (*state == S::Exiting)
                .then_some(stagewise::StateTimeout { after: std::time::Duration::ZERO, event: Failure })
        }
        fn control_event(_: Control) -> Option<Failure> {
            panic!("bug in control_event")
        }
    }

    impl Supervisor for Panicky {
        fn name(&self) -> &'static str {
            "panicky"
        }
        async fn dispatch_state(&mut self, state: &S, _: &mut ()) -> Result<Directive<Failure>, BoxError> {
            match state {
                S::Failed => Ok(Directive::Terminate),
                _ => std::future::pending().await,
            }
        }
        fn event_for_action_error(&self, _message: String) -> Failure {
            Failure
        }
    }

    impl HandlerSupervised for Panicky {
        fn stage_id(&self) -> StageId {
            StageId(3)
        }
    }
}

#[tokio::test]
async fn panic_in_control_event_takes_the_failure_path() {
    let mut handle = spawn_handler_supervised(panicky::Panicky, panicky::S::Run, (), SpawnOptions::default());
    handle.send(Control::Stop).await.expect("running");
    let record = handle.outcome().await.expect("a caught panic is not an escalation");
    assert_eq!(
        record.lifecycle,
        Lifecycle::Failed {
            error: "control_event panicked in state Run: bug in control_event".into(),
            escalation: None
        }
    );
}

#[tokio::test]
async fn panic_in_the_initial_states_entry_takes_the_failure_path() {
    let mut handle = spawn_handler_supervised(panicky::Panicky, panicky::S::Entered, (), SpawnOptions::default());
    let record = handle.outcome().await.expect("a caught panic is not an escalation");
    assert_eq!(
        record.lifecycle,
        Lifecycle::Failed { error: "on_entry panicked in state Entered: bug in on_entry".into(), escalation: None }
    );
}

#[tokio::test]
async fn panic_in_an_exit_hook_takes_the_failure_path_once() {
    let mut handle = spawn_handler_supervised(panicky::Panicky, panicky::S::Exiting, (), SpawnOptions::default());
    let record = handle.outcome().await.expect("the exit hook's panic is handled once, not escalated");
    assert_eq!(
        record.lifecycle,
        Lifecycle::Failed {
            error: "transition on event Failure panicked in state Exiting: bug in on_exit".into(),
            escalation: None
        }
    );
    assert_eq!(record.counters.failures, 1, "one failure path, no second panic");
}
