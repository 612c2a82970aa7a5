//! A stay and a goto take the same paths through the run loop, though the loop runs a stay's actions in an action loop
//! of its own (issue 14's hot path): lists of any length run in order, an action that fails or panics takes failure
//! path B with the same records and skips the rest, control that arrives while a turn's actions run is taken after
//! them, and an abort in the middle of a stay's actions records Cancelled and runs no more of them. Also: a stage whose
//! dispatch always has an event ready still lets its worker run other tasks.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use stagewise::{
    spawn_handler_supervised, Action, BoxError, Control, Decision, Directive, Ending, EventVariant, HandlerSupervised,
    Lifecycle, LifecycleRecord, Machine, MemoryJournal, SpawnOptions, StageId, StateVariant, Supervision, Supervisor,
    Unhandled,
};
use tokio::sync::Notify;

#[derive(Clone, Copy, Debug, PartialEq)]
enum St {
    Work,
    Other,
    Done,
    Stopped,
    Failed,
}

impl StateVariant for St {
    fn name(&self) -> &'static str {
        match self {
            St::Work => "Work",
            St::Other => "Other",
            St::Done => "Done",
            St::Stopped => "Stopped",
            St::Failed => "Failed",
        }
    }
    fn ending(&self) -> Option<Ending> {
        match self {
            St::Done => Some(Ending::Completed),
            St::Stopped => Some(Ending::Cancelled),
            St::Failed => Some(Ending::Failed),
            St::Work | St::Other => None,
        }
    }
}

#[derive(Debug)]
enum Ev {
    /// Stay, running these actions.
    Stay(Vec<Act>),
    /// Leave Work for Other (exit and entry actions around these).
    Goto(Vec<Act>),
    /// Not handled; ignored by policy.
    Noise,
    Finish,
    Stop,
    // The message is for logs; these tests read the record instead.
    Failure(#[allow(dead_code)] String),
}

impl EventVariant for Ev {
    fn name(&self) -> &'static str {
        match self {
            Ev::Stay(_) => "Stay",
            Ev::Goto(_) => "Goto",
            Ev::Noise => "Noise",
            Ev::Finish => "Finish",
            Ev::Stop => "Stop",
            Ev::Failure(_) => "Failure",
        }
    }
}

#[derive(Debug, Clone)]
enum Act {
    Log(String),
    Fail(&'static str),
    Panic(&'static str),
    /// Says it started, then waits to be released.
    Gate,
}

fn logs(prefix: &str, n: usize) -> Vec<Act> {
    (0..n).map(|i| Act::Log(format!("{prefix}{i}"))).collect()
}

#[derive(Default)]
struct Ctx {
    log: Arc<Mutex<Vec<String>>>,
    gate_reached: Arc<Notify>,
    gate_open: Arc<Notify>,
}

impl Action<Ctx> for Act {
    fn name(&self) -> &'static str {
        match self {
            Act::Log(_) => "Log",
            Act::Fail(_) => "Fail",
            Act::Panic(_) => "Panic",
            Act::Gate => "Gate",
        }
    }
    async fn execute(self, ctx: &mut Ctx) -> Result<(), BoxError> {
        match self {
            Act::Log(line) => ctx.log.lock().unwrap().push(line),
            Act::Fail(why) => return Err(why.into()),
            Act::Panic(why) => panic!("{why}"),
            Act::Gate => {
                ctx.gate_reached.notify_one();
                ctx.gate_open.notified().await;
                ctx.log.lock().unwrap().push("gate".into());
            }
        }
        Ok(())
    }
}

/// Dispatches its script, then terminates in a terminal state or waits forever in an active one.
struct Turns(VecDeque<Ev>);

impl Machine for Turns {
    type State = St;
    type Event = Ev;
    type Context = Ctx;
    type Action = Act;
    type ActionCapacity = stagewise::DefaultCapacity;

    fn transition(state: &St, event: Ev, _ctx: &mut Ctx) -> Decision<St, Act> {
        match (state, event) {
            (St::Failed, Ev::Failure(_)) => Decision::stay_with([]),
            (_, Ev::Failure(_)) => Decision::goto_with(St::Failed, [Act::Log("report".into())]),
            (St::Work | St::Other, Ev::Stay(actions)) => Decision::stay_with(actions),
            (St::Work, Ev::Goto(actions)) => Decision::goto_with(St::Other, actions),
            (St::Work | St::Other, Ev::Finish) => Decision::goto_with(St::Done, [Act::Log("finish".into())]),
            (St::Work | St::Other, Ev::Stop) => Decision::goto(St::Stopped),
            _ => Decision::Unhandled,
        }
    }
    fn on_entry(state: &St, actions: &mut stagewise::Actions<Act>) {
        if *state == St::Other {
            actions.push(Act::Log("enter Other".into()));
        }
    }
    fn on_exit(state: &St, actions: &mut stagewise::Actions<Act>) {
        if *state == St::Work {
            actions.push(Act::Log("exit Work".into()));
        }
    }
    fn unhandled(_state: &St, event: &Ev) -> Unhandled {
        if matches!(event, Ev::Noise) {
            Unhandled::Ignore
        } else {
            Unhandled::Fail
        }
    }
    fn control_event(control: Control) -> Option<Ev> {
        match control {
            Control::Stop => Some(Ev::Stop),
            Control::Drain => Some(Ev::Finish),
            // A control message whose transition is a stay, one of whose actions fails.
            Control::Start => {
                Some(Ev::Stay(vec![Act::Log("c0".into()), Act::Fail("control broke"), Act::Log("never".into())]))
            }
            _ => None,
        }
    }
}

impl Supervisor for Turns {
    fn name(&self) -> &'static str {
        "turns"
    }
    async fn dispatch_state(&mut self, state: &St, _ctx: &mut Ctx) -> Result<Directive<Ev>, BoxError> {
        match self.0.pop_front() {
            _ if state.ending().is_some() => Ok(Directive::Terminate),
            Some(event) => Ok(Directive::Transition(event)),
            None => std::future::pending().await,
        }
    }
    fn event_for_action_error(&self, message: String) -> Ev {
        Ev::Failure(message)
    }
    async fn write_completion_event(&mut self, ctx: &mut Ctx) -> Result<(), BoxError> {
        ctx.log.lock().unwrap().push("completion".into());
        Ok(())
    }
}

impl HandlerSupervised for Turns {
    fn stage_id(&self) -> StageId {
        StageId(3)
    }
}

struct Ran {
    result: stagewise::RunResult,
    log: Vec<String>,
    records: Vec<LifecycleRecord>,
}

async fn run(script: Vec<Ev>) -> Ran {
    let journal = Arc::new(MemoryJournal::new());
    let ctx = Ctx::default();
    let log = ctx.log.clone();
    let result =
        stagewise::run_handler_supervised(Turns(script.into()), St::Work, ctx, Supervision::new(journal.clone())).await;
    let log = log.lock().unwrap().clone();
    Ran { result, log, records: journal.records() }
}

fn strings(lines: &[&str]) -> Vec<String> {
    lines.iter().map(|s| (*s).to_owned()).collect()
}

#[tokio::test]
async fn a_stay_runs_lists_of_any_length_in_order_and_counts_one_transition() {
    for n in [0, 1, 4, 5, 9, 33] {
        let ran = run(vec![Ev::Stay(logs("a", n)), Ev::Noise, Ev::Stay(logs("b", n)), Ev::Finish]).await;
        let record = ran.result.expect("completes");
        assert_eq!(record.lifecycle, Lifecycle::Completed, "{n} actions");
        assert_eq!(record.counters.transitions, 3, "two stays and a goto, the ignored event not counted: {n} actions");
        let mut expected: Vec<String> = (0..n).map(|i| format!("a{i}")).collect();
        expected.extend((0..n).map(|i| format!("b{i}")));
        expected.extend(strings(&["exit Work", "finish", "completion"]));
        assert_eq!(ran.log, expected, "{n} actions");
    }
}

#[tokio::test]
async fn a_goto_runs_exit_transition_and_entry_actions_in_order_for_lists_of_any_length() {
    for n in [0, 1, 3, 4, 9] {
        let ran = run(vec![Ev::Goto(logs("a", n)), Ev::Stay(logs("b", n)), Ev::Finish]).await;
        let record = ran.result.expect("completes");
        assert_eq!(record.counters.transitions, 3, "{n} actions");
        let mut expected = strings(&["exit Work"]);
        expected.extend((0..n).map(|i| format!("a{i}")));
        expected.push("enter Other".into());
        expected.extend((0..n).map(|i| format!("b{i}")));
        expected.extend(strings(&["finish", "completion"]));
        assert_eq!(ran.log, expected, "{n} actions");
    }
}

/// A list of `n` logged actions with `bad` at `at`, then one more that must never run.
fn broken(n: usize, at: usize, bad: Act) -> Vec<Act> {
    let mut actions = logs("a", n);
    actions.insert(at, bad);
    actions.push(Act::Log("never".into()));
    actions
}

#[tokio::test]
async fn an_action_that_fails_or_panics_in_a_stay_takes_failure_path_b_as_in_a_goto() {
    for (bad, message) in
        [(Act::Fail("broke"), "action Fail failed: broke"), (Act::Panic("blew up"), "action Panic panicked: blew up")]
    {
        for (n, at) in [(0, 0), (3, 0), (3, 2), (4, 4), (8, 5)] {
            let stay = run(vec![Ev::Stay(broken(n, at, bad.clone()))]).await;
            let goto = run(vec![Ev::Goto(broken(n, at, bad.clone()))]).await;
            let ran: Vec<String> = (0..at).map(|i| format!("a{i}")).collect();
            let mut expected = ran.clone();
            expected.extend(strings(&["exit Work", "report", "completion"]));
            assert_eq!(stay.log, expected, "stay, {message} at {at} of {n}");
            let mut expected = strings(&["exit Work"]);
            expected.extend(ran);
            expected.extend(strings(&["report", "completion"]));
            assert_eq!(goto.log, expected, "goto, {message} at {at} of {n}");

            for ran in [&stay, &goto] {
                let record = ran.result.as_ref().expect("a handled failure is not an escalation");
                assert_eq!(record.lifecycle, Lifecycle::Failed { error: message.into(), escalation: None });
                assert_eq!(record.state, "Failed");
                assert_eq!(record.counters.failures, 1);
                assert_eq!(record.counters.transitions, 2, "the turn and the failure transition");
            }
            let lifecycles = |ran: &Ran| ran.records.iter().map(|r| r.lifecycle.clone()).collect::<Vec<_>>();
            assert_eq!(lifecycles(&stay), lifecycles(&goto), "the same records: {message} at {at} of {n}");
            assert_eq!(stay.records.len(), 2, "Started and Failed: {:?}", stay.records);
        }
    }
}

/// Spawns a run whose first turn (`first`) waits at a gate; returns its handle, journal, log and gate.
async fn spawn_at_gate(
    first: Ev,
) -> (stagewise::StageHandle, Arc<MemoryJournal<LifecycleRecord>>, Arc<Mutex<Vec<String>>>, Arc<Notify>) {
    let journal = Arc::new(MemoryJournal::new());
    let ctx = Ctx::default();
    let (log, reached, open) = (ctx.log.clone(), ctx.gate_reached.clone(), ctx.gate_open.clone());
    let options = SpawnOptions::default().control_capacity(4).journal(journal.clone());
    let handle = spawn_handler_supervised(Turns(VecDeque::from([first])), St::Work, ctx, options);
    reached.notified().await;
    (handle, journal, log, open)
}

#[tokio::test]
async fn control_that_arrives_during_a_turn_s_actions_is_taken_after_them_in_a_stay_as_in_a_goto() {
    let turns = [
        (
            Ev::Stay(vec![Act::Log("a".into()), Act::Gate, Act::Log("b".into())]),
            &["a", "gate", "b", "exit Work", "completion"][..],
        ),
        (
            Ev::Goto(vec![Act::Log("a".into()), Act::Gate, Act::Log("b".into())]),
            &["exit Work", "a", "gate", "b", "enter Other", "completion"][..],
        ),
    ];
    for (first, expected) in turns {
        let (mut handle, _journal, log, open) = spawn_at_gate(first).await;
        handle.send(Control::Stop).await.expect("the channel has room");
        open.notify_one();
        let record = handle.outcome().await.expect("not escalated");
        match &record.lifecycle {
            Lifecycle::Cancelled { reason } => assert!(reason.contains("Stopped"), "{reason}"),
            other => panic!("expected Cancelled, got {other:?}"),
        }
        assert_eq!(*log.lock().unwrap(), strings(expected), "every action of the turn ran before the Stop");
        assert_eq!(record.counters.transitions, 2, "the turn, then Stop");
    }
}

#[tokio::test]
async fn an_abort_in_the_middle_of_a_stay_s_actions_records_cancelled_and_runs_no_more_of_them() {
    let (mut handle, journal, log, open) =
        spawn_at_gate(Ev::Stay(vec![Act::Log("a".into()), Act::Gate, Act::Log("never".into())])).await;
    handle.abort();
    let _ = handle.outcome().await;
    open.notify_one();
    tokio::task::yield_now().await;
    assert_eq!(*log.lock().unwrap(), strings(&["a"]));
    let records = journal.records();
    assert_eq!(records.first().map(|r| &r.lifecycle), Some(&Lifecycle::Started));
    let terminal: Vec<_> = records.iter().filter(|r| r.lifecycle.is_terminal()).collect();
    assert_eq!(terminal.len(), 1, "{records:?}");
    assert!(matches!(terminal[0].lifecycle, Lifecycle::Cancelled { .. }), "{records:?}");
}

#[tokio::test]
async fn a_control_message_whose_transition_is_a_stay_runs_its_actions_and_a_failing_one_takes_failure_path_b() {
    let (mut handle, journal, log, open) = spawn_at_gate(Ev::Stay(vec![Act::Gate])).await;
    handle.send(Control::Start).await.expect("the channel has room");
    open.notify_one();
    let record = handle.outcome().await.expect("a handled failure is not an escalation");
    assert_eq!(
        record.lifecycle,
        Lifecycle::Failed { error: "action Fail failed: control broke".into(), escalation: None }
    );
    assert_eq!(*log.lock().unwrap(), strings(&["gate", "c0", "exit Work", "report", "completion"]));
    assert_eq!(record.counters.transitions, 3, "the gate's stay, the control's stay, the failure transition");
    assert_eq!(record.counters.failures, 1);
    assert_eq!(journal.records().len(), 2, "Started and Failed");
}

/// Transitions forever, each at once: its dispatch awaits nothing, so only the loop can make it yield its worker.
struct Busy;
impl Machine for Busy {
    type State = St;
    type Event = Ev;
    type Context = Ctx;
    type Action = Act;
    type ActionCapacity = stagewise::DefaultCapacity;
    fn transition(state: &St, event: Ev, ctx: &mut Ctx) -> Decision<St, Act> {
        Turns::transition(state, event, ctx)
    }
    fn unhandled(state: &St, event: &Ev) -> Unhandled {
        Turns::unhandled(state, event)
    }
    fn control_event(control: Control) -> Option<Ev> {
        Turns::control_event(control)
    }
}
impl Supervisor for Busy {
    fn name(&self) -> &'static str {
        "busy"
    }
    async fn dispatch_state(&mut self, state: &St, _ctx: &mut Ctx) -> Result<Directive<Ev>, BoxError> {
        Ok(if state.ending().is_some() { Directive::Terminate } else { Directive::Transition(Ev::Stay(vec![])) })
    }
    fn event_for_action_error(&self, message: String) -> Ev {
        Ev::Failure(message)
    }
    async fn write_completion_event(&mut self, _ctx: &mut Ctx) -> Result<(), BoxError> {
        Ok(())
    }
}
impl HandlerSupervised for Busy {
    fn stage_id(&self) -> StageId {
        StageId(4)
    }
}

/// On a current-thread runtime of its own thread, a stage that never yields would keep the other task from ever
/// running: without the loop spending tokio's budget, that thread hangs, and this test fails when it has not
/// reported within a minute (instead of hanging with it: a starved runtime's own timers never fire).
#[test]
fn a_stage_that_always_has_a_transition_ready_still_lets_its_worker_run_other_tasks() {
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let lifecycle = rt.block_on(async {
            let mut handle = spawn_handler_supervised(Busy, St::Work, Ctx::default(), SpawnOptions::default());
            let other = tokio::spawn(async {});
            other.await.unwrap();
            handle.try_send(Control::Stop).unwrap();
            handle.outcome().await.unwrap().lifecycle
        });
        done.send(lifecycle).unwrap();
    });
    let lifecycle = finished
        .recv_timeout(std::time::Duration::from_secs(60))
        .expect("the other task never ran beside a stage that always has a transition ready");
    assert!(matches!(lifecycle, Lifecycle::Cancelled { .. }), "{lifecycle:?}");
}
