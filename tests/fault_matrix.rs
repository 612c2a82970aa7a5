//! The run loop's fault matrix: a macro-written stage of seven states, every fault kind injected in each of its four
//! active states, and the completion-write fault also in the state that completes (65 cells). Every cell checks one `Started` then one terminal record of the right kind, the run's outcome equal
//! to that record, how many times the failure actions ran, and that the run returned before a deadline. All cells
//! run; the test fails listing every failing cell.
//!
//! The clock is paused (tokio's test clock): a run that hangs lets the clock run to the deadline, so a hang shows as a
//! failing cell rather than a stuck test, and nothing here measures time.

mod fault_matrix_support;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use fault_matrix_support::{Expected, Lifecycles};
use stagewise::journal::{Journal, MemoryJournal};
use stagewise::{
    run_handler_supervised, BoxError, Control, Directive, EventVariant, Stage, StageId, StateSnapshot, Supervision,
    VariantName,
};
use tokio::sync::watch;

/// One kind of fault, injected in one active state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fault {
    DispatchErr,
    DispatchPanic,
    ActionErr,
    ActionPanic,
    FailureActionErr,
    FailureActionPanic,
    ControlClosed,
    Stop,
    Drain,
    Abort,
    UnhandledEvent,
    StateTimeout,
    LifecycleJournalErr,
    ExitHookPanic,
    EntryHookPanic,
    /// The stage's completion (`completion = Walker::finish`) fails: in an active state after dispatch said
    /// Terminate, and in Done after a whole walk.
    CompletionErr,
}

const FAULTS: [Fault; 16] = [
    Fault::DispatchErr,
    Fault::DispatchPanic,
    Fault::ActionErr,
    Fault::ActionPanic,
    Fault::FailureActionErr,
    Fault::FailureActionPanic,
    Fault::ControlClosed,
    Fault::Stop,
    Fault::Drain,
    Fault::Abort,
    Fault::UnhandledEvent,
    Fault::StateTimeout,
    Fault::LifecycleJournalErr,
    Fault::ExitHookPanic,
    Fault::EntryHookPanic,
    Fault::CompletionErr,
];

const ACTIVE: [&str; 4] = ["A", "B", "C", "D"];

/// The cell being run: which fault, in which state. Cells run one after another.
static PLAN: Mutex<Option<(Fault, &str)>> = Mutex::new(None);
/// How many times the failure action ran in the current cell.
static FAILURE_ACTIONS: AtomicU32 = AtomicU32::new(0);

fn fault_in(state: &str) -> Option<Fault> {
    match *PLAN.lock().unwrap() {
        Some((fault, at)) if at == state => Some(fault),
        _ => None,
    }
}

#[derive(Debug, EventVariant)]
enum Ev {
    Go,
    Stray,
    Stop,
    Drain,
    Error(String),
}

#[derive(Debug, VariantName)]
enum Act {
    /// The action of the transition leaving a state.
    Step(&'static str),
    /// A hook's action; does nothing.
    Hook,
    /// The failure action.
    OnFailure,
}

impl stagewise::Action<()> for Act {
    fn name(&self) -> &'static str {
        self.variant_name()
    }

    async fn execute(self, _: &mut ()) -> Result<(), BoxError> {
        match self {
            Act::Step(state) => match fault_in(state) {
                Some(Fault::ActionErr) => Err(format!("step out of {state} refused").into()),
                Some(Fault::ActionPanic) => panic!("step out of {state} panicked"),
                _ => Ok(()),
            },
            Act::Hook => Ok(()),
            Act::OnFailure => {
                FAILURE_ACTIONS.fetch_add(1, Ordering::SeqCst);
                let planned = PLAN.lock().unwrap().map(|(fault, _)| fault);
                match planned {
                    Some(Fault::FailureActionErr) => Err("failure action refused".into()),
                    Some(Fault::FailureActionPanic) => panic!("failure action panicked"),
                    _ => Ok(()),
                }
            }
        }
    }
}

/// The entry (`entering`) or exit hook of `state`; panics when the cell says so.
fn hook(entering: bool, state: &'static str) -> Act {
    match fault_in(state) {
        Some(Fault::EntryHookPanic) if entering => panic!("entry hook of {state} panicked"),
        Some(Fault::ExitHookPanic) if !entering => panic!("exit hook of {state} panicked"),
        _ => Act::Hook,
    }
}

/// Walks A -> B -> C -> D -> Done, doing in the planned state what the planned fault needs.
#[derive(Stage)]
struct Walker {
    id: StageId,
}

impl Walker {
    async fn play(&mut self, state: &'static str) -> Result<Directive<Ev>, BoxError> {
        match fault_in(state) {
            None | Some(Fault::ActionErr | Fault::ActionPanic | Fault::ExitHookPanic | Fault::EntryHookPanic) => {
                Ok(Directive::Transition(Ev::Go))
            }
            Some(Fault::DispatchErr | Fault::FailureActionErr | Fault::FailureActionPanic) => {
                Err(format!("dispatch refused in {state}").into())
            }
            Some(Fault::DispatchPanic) => panic!("dispatch panicked in {state}"),
            Some(Fault::UnhandledEvent) => Ok(Directive::Transition(Ev::Stray)),
            Some(Fault::LifecycleJournalErr | Fault::CompletionErr) => Ok(Directive::Terminate),
            // Wait here for the test's control message, abort or closed channel, or for the state timeout.
            Some(Fault::ControlClosed | Fault::Stop | Fault::Drain | Fault::Abort | Fault::StateTimeout) => {
                std::future::pending().await
            }
        }
    }
    /// The completion, written once when the run ends; refused in the completion cells.
    async fn finish(&mut self, _: &mut ()) -> Result<(), BoxError> {
        match *PLAN.lock().unwrap() {
            Some((Fault::CompletionErr, _)) => Err("completion refused".into()),
            _ => Ok(()),
        }
    }
    async fn in_a(&mut self, _: &mut ()) -> Result<Directive<Ev>, BoxError> {
        self.play("A").await
    }
    async fn in_b(&mut self, _: &mut ()) -> Result<Directive<Ev>, BoxError> {
        self.play("B").await
    }
    async fn in_c(&mut self, _: &mut ()) -> Result<Directive<Ev>, BoxError> {
        self.play("C").await
    }
    async fn in_d(&mut self, _: &mut ()) -> Result<Directive<Ev>, BoxError> {
        self.play("D").await
    }
}

#[stagewise::handler_supervised(
    stage = Walker, event = Ev, action = Act, context = (),
    failure = Ev::Error,
    completion = Walker::finish,
    on_failure = [Act::OnFailure],
    control(drain = Ev::Drain, stop = Ev::Stop),
)]
#[derive(Debug, PartialEq)]
enum S {
    #[initial]
    #[dispatch(Walker::in_a)]
    #[entry(hook(true, "A"))]
    #[exit(hook(false, "A"))]
    #[timeout(secs = 3600, event = Ev::Error("timed out in A".into()))]
    #[on(Ev::Go => B, actions = [Act::Step("A")])]
    #[on(Ev::Stop => Stopped)]
    #[on(Ev::Drain => Done)]
    A,
    #[dispatch(Walker::in_b)]
    #[entry(hook(true, "B"))]
    #[exit(hook(false, "B"))]
    #[timeout(secs = 3600, event = Ev::Error("timed out in B".into()))]
    #[on(Ev::Go => C, actions = [Act::Step("B")])]
    #[on(Ev::Stop => Stopped)]
    #[on(Ev::Drain => Done)]
    B,
    #[dispatch(Walker::in_c)]
    #[entry(hook(true, "C"))]
    #[exit(hook(false, "C"))]
    #[timeout(secs = 3600, event = Ev::Error("timed out in C".into()))]
    #[on(Ev::Go => D, actions = [Act::Step("C")])]
    #[on(Ev::Stop => Stopped)]
    #[on(Ev::Drain => Done)]
    C,
    #[dispatch(Walker::in_d)]
    #[entry(hook(true, "D"))]
    #[exit(hook(false, "D"))]
    #[timeout(secs = 3600, event = Ev::Error("timed out in D".into()))]
    #[on(Ev::Go => Done, actions = [Act::Step("D")])]
    #[on(Ev::Stop => Stopped)]
    #[on(Ev::Drain => Done)]
    D,
    #[terminal]
    Done,
    #[terminal(cancelled)]
    Stopped,
    #[failed]
    Failed(String),
}

fn expected(fault: Fault, state: &str) -> (Expected, u32) {
    let failed = |contains: String| (Expected::Failed { contains, escalated: false }, 1);
    match fault {
        Fault::DispatchErr => failed(format!("dispatch failed in state {state}")),
        Fault::DispatchPanic => failed(format!("dispatch panicked in state {state}")),
        Fault::ActionErr => failed(format!("step out of {state} refused")),
        Fault::ActionPanic => failed(format!("step out of {state} panicked")),
        Fault::FailureActionErr => (Expected::Failed { contains: "failure action refused".into(), escalated: true }, 1),
        Fault::FailureActionPanic => {
            (Expected::Failed { contains: "failure action panicked".into(), escalated: true }, 1)
        }
        Fault::ControlClosed => failed(format!("control channel closed in state {state}")),
        Fault::Stop => (Expected::Cancelled { contains: "Stop control message" }, 0),
        Fault::Drain => (Expected::Completed, 0),
        Fault::Abort => (Expected::Cancelled { contains: "task aborted" }, 0),
        Fault::UnhandledEvent => failed(format!("event Stray is not handled in state {state}")),
        Fault::StateTimeout => failed(format!("timed out in {state}")),
        Fault::LifecycleJournalErr => (Expected::NotJournaled, 0),
        Fault::ExitHookPanic => failed(format!("exit hook of {state} panicked")),
        Fault::EntryHookPanic => failed(format!("entry hook of {state} panicked")),
        Fault::CompletionErr => failed("write_completion_event failed: completion refused".into()),
    }
}

/// How long a run may take, on the paused clock; the state timeouts (an hour) fire before it.
const DEADLINE: Duration = Duration::from_secs(2 * 3600);

/// Runs one cell; `Err` lists what it got wrong.
async fn cell(fault: Fault, state: &'static str) -> Result<(), String> {
    *PLAN.lock().unwrap() = Some((fault, state));
    FAILURE_ACTIONS.store(0, Ordering::SeqCst);
    let journal =
        Arc::new(Lifecycles { inner: MemoryJournal::new(), refuse_terminal: fault == Fault::LifecycleJournalErr });
    let (control, control_rx) = stagewise::control_channel(4);
    let (state_tx, mut states) = watch::channel(StateSnapshot { name: "A", ending: None });
    let supervision = Supervision::new(journal.clone()).with_control(control_rx).with_state_watch(state_tx);
    let task = tokio::spawn(run_handler_supervised(Walker { id: StageId(9) }, S::A, (), supervision));
    let mut control = Some(control);

    if matches!(fault, Fault::ControlClosed | Fault::Stop | Fault::Drain | Fault::Abort) {
        let reached = tokio::time::timeout(DEADLINE, states.wait_for(|s| s.name == state)).await;
        if !matches!(reached, Ok(Ok(_))) {
            task.abort();
            return Err(format!("never reached state {state}"));
        }
        match fault {
            Fault::ControlClosed => drop(control.take()),
            Fault::Stop => control
                .as_ref()
                .unwrap()
                .send(Control::Stop)
                .await
                .map_err(|_| "the control channel closed early".to_owned())?,
            Fault::Drain => control
                .as_ref()
                .unwrap()
                .send(Control::Drain)
                .await
                .map_err(|_| "the control channel closed early".to_owned())?,
            _ => task.abort(),
        }
    }
    let joined = match tokio::time::timeout(DEADLINE, task).await {
        Ok(joined) => joined,
        Err(_) => return Err("the run did not return before the deadline".into()),
    };
    drop(control);

    let records = journal.read_from(0).map_err(|e| e.to_string())?;
    let (expected, failure_actions) = expected(fault, state);
    let outcome = match joined {
        Ok(result) => Some(result),
        // An aborted run returns nothing: its record is the outcome, as a handle says.
        Err(e) if e.is_cancelled() && fault == Fault::Abort => None,
        Err(e) => return Err(format!("the task died: {e}")),
    };
    let ran = FAILURE_ACTIONS.load(Ordering::SeqCst);
    fault_matrix_support::judge(&records, outcome, &expected, (ran, failure_actions))
}

#[test]
fn every_fault_in_every_active_state_ends_with_one_started_and_one_right_terminal_record() {
    // Panics are part of the matrix; keep their messages out of the test output.
    std::panic::set_hook(Box::new(|_| {}));
    let mut failing = Vec::new();
    let mut cells = 0;
    for fault in FAULTS {
        let states: &[&'static str] =
            if fault == Fault::CompletionErr { &["A", "B", "C", "D", "Done"] } else { &ACTIVE };
        for &state in states {
            cells += 1;
            let rt = tokio::runtime::Builder::new_current_thread().enable_time().start_paused(true).build().unwrap();
            if let Err(wrong) = rt.block_on(cell(fault, state)) {
                failing.push(format!("{fault:?} in {state}: {wrong}"));
            }
        }
    }
    let _ = std::panic::take_hook();
    assert_eq!(cells, FAULTS.len() * ACTIVE.len() + 1, "65 cells");
    assert!(failing.is_empty(), "{} of {cells} cells failed:\n{}", failing.len(), failing.join("\n"));
}
