//! A scripted test stage: its dispatch follows a script and its actions log, fail or panic on demand, so each
//! integration test can pin one behaviour of the run loop.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use stagewise::{
    BoxError, Control, ControlPolicy, Decision, Directive, Ending, EventVariant, HandlerSupervised, Lifecycle,
    LifecycleRecord, Machine, MemoryJournal, StageId, StateTimeout, StateVariant, Supervision, Supervisor, Unhandled,
};

/// States of the probe machine.
#[derive(Clone, Debug, PartialEq)]
pub enum St {
    /// Blocks on the control channel until Start.
    Idle,
    /// Works; polls control.
    Running,
    /// Has a 5 s timeout that feeds `Tick`.
    Waiting,
    /// Terminal, completed.
    Done,
    /// Terminal, cancelled.
    Stopped,
    /// The failed state.
    Failed(String),
}

impl StateVariant for St {
    fn name(&self) -> &'static str {
        match self {
            St::Idle => "Idle",
            St::Running => "Running",
            St::Waiting => "Waiting",
            St::Done => "Done",
            St::Stopped => "Stopped",
            St::Failed(_) => "Failed",
        }
    }
    fn ending(&self) -> Option<Ending> {
        match self {
            St::Done => Some(Ending::Completed),
            St::Stopped => Some(Ending::Cancelled),
            St::Failed(_) => Some(Ending::Failed),
            _ => None,
        }
    }
    fn control_policy(&self) -> ControlPolicy {
        match self {
            St::Idle => ControlPolicy::Block,
            _ => ControlPolicy::Poll,
        }
    }
}

/// Events of the probe machine.
#[derive(Clone, Debug, PartialEq)]
pub enum Ev {
    Start,
    Work,
    Wait,
    Tick,
    Finish,
    Stop,
    /// Not handled anywhere; the failure policy applies.
    Stray,
    /// Not handled anywhere; ignored by policy.
    Noise,
    /// Its transition panics: a bug in a decision.
    Explode,
    Error(String),
}

impl EventVariant for Ev {
    fn name(&self) -> &'static str {
        match self {
            Ev::Start => "Start",
            Ev::Work => "Work",
            Ev::Wait => "Wait",
            Ev::Tick => "Tick",
            Ev::Finish => "Finish",
            Ev::Stop => "Stop",
            Ev::Stray => "Stray",
            Ev::Noise => "Noise",
            Ev::Explode => "Explode",
            Ev::Error(_) => "Error",
        }
    }
}

/// Actions of the probe machine.
#[derive(Clone, Debug, PartialEq)]
pub enum Act {
    Log(&'static str),
    Fail(&'static str),
    Panic(&'static str),
}

impl stagewise::Action<Ctx> for Act {
    fn name(&self) -> &'static str {
        match self {
            Act::Log(_) => "Log",
            Act::Fail(_) => "Fail",
            Act::Panic(_) => "Panic",
        }
    }
    async fn execute(self, ctx: &mut Ctx) -> Result<(), BoxError> {
        match self {
            Act::Log(what) => {
                ctx.log.push(what);
                Ok(())
            }
            Act::Fail(what) => Err(what.into()),
            Act::Panic(what) => panic!("{what}"),
        }
    }
}

/// A log shared between the context (which the run consumes) and the test.
#[derive(Clone, Debug, Default)]
pub struct Log(Arc<std::sync::Mutex<Vec<String>>>);

impl Log {
    pub fn push(&self, line: &str) {
        self.0.lock().unwrap().push(line.to_owned());
    }
    pub fn lines(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

/// The probe's context: what actions log, and knobs for the machine.
#[derive(Debug, Default)]
pub struct Ctx {
    pub log: Log,
    /// Actions of the any-state failure transition.
    pub on_failure: Vec<Act>,
    /// Actions of Running + Work.
    pub on_work: Vec<Act>,
    /// Misroute the failure event to Running instead of Failed.
    pub misroute_failure: bool,
}

/// One step of a dispatch script.
#[derive(Debug)]
pub enum Script {
    Emit(Ev),
    Continue,
    Terminate,
    Error(&'static str),
    Panic(&'static str),
    /// Sleep this long (tokio time), then continue.
    Sleep(Duration),
    /// Return Continue at once, forever (stays at the front of the script).
    Spin,
}

/// The probe stage.
#[derive(Debug)]
pub struct Probe {
    pub script: VecDeque<Script>,
    /// Completion fails with this message.
    pub completion_error: Option<&'static str>,
    pub dispatches: Arc<std::sync::atomic::AtomicU64>,
}

impl Probe {
    pub fn new(script: impl IntoIterator<Item = Script>) -> Self {
        Self { script: script.into_iter().collect(), completion_error: None, dispatches: Arc::default() }
    }
}

impl Machine for Probe {
    type State = St;
    type Event = Ev;
    type Context = Ctx;
    type Action = Act;
    type ActionCapacity = stagewise::DefaultCapacity;

    fn transition(state: &St, event: Ev, ctx: &mut Ctx) -> Decision<St, Act> {
        match (state, event) {
            (St::Failed(_), Ev::Error(_)) => Decision::stay_with([]),
            (_, Ev::Error(_)) if ctx.misroute_failure => Decision::goto_with(St::Running, [Act::Log("misrouted")]),
            (_, Ev::Error(message)) => Decision::goto_with(St::Failed(message), ctx.on_failure.clone()),
            (St::Idle, Ev::Start) => Decision::goto_with(St::Running, [Act::Log("start")]),
            (St::Running, Ev::Work) => Decision::stay_with(ctx.on_work.clone()),
            (St::Running, Ev::Wait) => Decision::goto(St::Waiting),
            (St::Waiting, Ev::Tick) => Decision::goto_with(St::Done, [Act::Log("tick")]),
            (St::Waiting, Ev::Work) => Decision::goto(St::Running),
            (St::Running | St::Waiting, Ev::Finish) => Decision::goto_with(St::Done, [Act::Log("finish")]),
            (St::Idle | St::Running | St::Waiting, Ev::Stop) => Decision::goto(St::Stopped),
            (_, Ev::Explode) => panic!("decision bug"),
            _ => Decision::Unhandled,
        }
    }

    fn on_entry(state: &St, actions: &mut stagewise::Actions<Act>) {
        if *state == St::Running {
            actions.push(Act::Log("enter Running"));
        }
    }

    fn on_exit(state: &St, actions: &mut stagewise::Actions<Act>) {
        if *state == St::Running {
            actions.push(Act::Log("exit Running"));
        }
    }

    fn timeout(state: &St) -> Option<StateTimeout<Ev>> {
        (*state == St::Waiting).then_some(StateTimeout { after: Duration::from_secs(5), event: Ev::Tick })
    }

    fn unhandled(_state: &St, event: &Ev) -> Unhandled {
        if *event == Ev::Noise {
            Unhandled::Ignore
        } else {
            Unhandled::Fail
        }
    }

    fn control_event(control: Control) -> Option<Ev> {
        match control {
            Control::Start => Some(Ev::Start),
            Control::Drain => Some(Ev::Finish),
            Control::Stop => Some(Ev::Stop),
            _ => None,
        }
    }
}

impl Supervisor for Probe {
    fn name(&self) -> &'static str {
        "probe"
    }
    async fn dispatch_state(&mut self, state: &St, _ctx: &mut Ctx) -> Result<Directive<Ev>, BoxError> {
        self.dispatches.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if matches!(self.script.front(), Some(Script::Spin)) {
            return Ok(if state.ending().is_some() { Directive::Terminate } else { Directive::Continue });
        }
        if state.ending().is_some() && matches!(self.script.front(), Some(Script::Emit(_))) {
            // A terminal state terminates; scripted events are for the active states.
            return Ok(Directive::Terminate);
        }
        match self.script.pop_front() {
            Some(Script::Emit(ev)) => Ok(Directive::Transition(ev)),
            Some(Script::Continue) => Ok(Directive::Continue),
            Some(Script::Terminate) => Ok(Directive::Terminate),
            Some(Script::Error(msg)) => Err(msg.into()),
            Some(Script::Panic(msg)) => panic!("{msg}"),
            Some(Script::Spin) => unreachable!("handled above"),
            Some(Script::Sleep(d)) => {
                tokio::time::sleep(d).await;
                Ok(Directive::Continue)
            }
            None if state.ending().is_some() => Ok(Directive::Terminate),
            // Nothing scripted: an idle stage awaits (here, forever) rather than spinning.
            None => std::future::pending().await,
        }
    }

    fn event_for_action_error(&self, message: String) -> Ev {
        Ev::Error(message)
    }

    async fn write_completion_event(&mut self, ctx: &mut Ctx) -> Result<(), BoxError> {
        ctx.log.push("completion");
        match self.completion_error {
            Some(msg) => Err(msg.into()),
            None => Ok(()),
        }
    }
}

impl HandlerSupervised for Probe {
    fn stage_id(&self) -> StageId {
        StageId(7)
    }
}

/// What one probe run left behind.
#[derive(Debug)]
pub struct Ran {
    pub result: stagewise::RunResult,
    pub log: Vec<String>,
    pub records: Vec<LifecycleRecord>,
}

impl Ran {
    /// The terminal lifecycle records.
    pub fn terminal(&self) -> Vec<&Lifecycle> {
        self.records.iter().map(|r| &r.lifecycle).filter(|l| l.is_terminal()).collect()
    }

    /// The one terminal record; panics unless there is exactly one.
    pub fn ending(&self) -> &Lifecycle {
        let terminal = self.terminal();
        assert_eq!(terminal.len(), 1, "exactly one terminal lifecycle record: {:?}", self.records);
        terminal[0]
    }
}

/// Runs `probe` from `initial` with a fresh journal.
pub async fn run_probe(probe: Probe, initial: St, ctx: Ctx) -> Ran {
    let journal = Arc::new(MemoryJournal::new());
    let log = ctx.log.clone();
    let result = stagewise::run_handler_supervised(probe, initial, ctx, Supervision::new(journal.clone())).await;
    Ran { result, log: log.lines(), records: journal.records() }
}
