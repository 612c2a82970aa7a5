//! Behaviour of machines written with `#[handler_supervised]`, run by the real run loop: the generated failure edge,
//! `to`-list checks, timeouts, ignore lists, control mapping, closed channels and the blocking default of wait states.

use std::time::Duration;

use stagewise::{
    run_handler_supervised, BoxError, Control, Decision, Directive, EventVariant, HandlerSupervisedExt, Lifecycle,
    LifecycleRecord, Stage, StageId, Supervision, VariantName,
};

#[derive(Debug, EventVariant)]
enum Ev {
    Start,
    Tick,
    Noise,
    Work(u32),
    Drain,
    TimedOut,
    Error(String),
}

#[derive(Debug, VariantName)]
enum Act {
    Count,
    Fail,
    Record(String),
}

#[derive(Debug, Default)]
struct Ctx {
    counted: u32,
    failures: Vec<String>,
}

impl stagewise::Action<Ctx> for Act {
    fn name(&self) -> &'static str {
        self.variant_name()
    }

    async fn execute(self, ctx: &mut Ctx) -> Result<(), BoxError> {
        match self {
            Act::Count => ctx.counted += 1,
            Act::Fail => return Err("action refused".into()),
            Act::Record(message) => ctx.failures.push(message),
        }
        Ok(())
    }
}

/// Plays a script of events, then waits forever.
#[derive(Stage)]
struct Probe {
    id: StageId,
    script: std::vec::IntoIter<Ev>,
}

impl Probe {
    fn new(script: Vec<Ev>) -> Self {
        Self { id: StageId(5), script: script.into_iter() }
    }

    async fn play(&mut self, _ctx: &mut Ctx) -> Result<Directive<Ev>, BoxError> {
        match self.script.next() {
            Some(event) => Ok(Directive::Transition(event)),
            None => std::future::pending().await,
        }
    }

    /// Odd work stays, even work finishes, 13 goes somewhere its `to` list does not allow.
    fn decide(_state: &S, event: Ev, _ctx: &mut Ctx) -> Decision<S, Act> {
        match event {
            Ev::Work(13) => Decision::goto(S::Waiting),
            Ev::Work(n) if n % 2 == 1 => Decision::stay_with([Act::Count]),
            _ => Decision::goto(S::Done),
        }
    }
}

#[stagewise::handler_supervised(
    stage = Probe, event = Ev, action = Act, context = Ctx,
    failure = Ev::Error,
    on_failure = [Act::Record(message)],
    control(start = Ev::Start, drain = Ev::Drain),
    closed = Ev::Drain,
)]
#[derive(Debug, PartialEq)]
enum S {
    #[initial]
    #[on(Ev::Start => Running)]
    #[on(Ev::Drain => Done)]
    Idle,
    #[dispatch(Probe::play)]
    #[on(Ev::Work => Probe::decide, to = [Running, Done])]
    #[on(Ev::Tick => stay, actions = [Act::Count])]
    #[on(Ev::Drain => Done)]
    #[on(Ev::TimedOut => Waiting)]
    #[on(Ev::Start => stay, actions = [Act::Fail])]
    #[ignore(Ev::Noise)]
    Running,
    #[timeout(millis = 50, event = Ev::TimedOut)]
    #[on(Ev::TimedOut => Done, actions = [Act::Count])]
    Waiting,
    #[terminal]
    Done,
    #[timeout(millis = 1, event = Ev::Error("lease expired".into()))]
    Expiring,
    #[failed]
    Failed(String),
}

/// Runs the probe from `state` with an open control channel (`closed = false`) or a closed one.
async fn run_from(state: S, script: Vec<Ev>, closed: bool) -> LifecycleRecord {
    let (tx, rx) = stagewise::control_channel(4);
    let run =
        run_handler_supervised(Probe::new(script), state, Ctx::default(), Supervision::default().with_control(rx));
    let kept = if closed {
        drop(tx);
        None
    } else {
        Some(tx)
    };
    let record = tokio::time::timeout(Duration::from_secs(5), run).await.expect("no hang").expect("no escalation");
    drop(kept);
    record
}

#[tokio::test]
async fn scripted_events_follow_the_declared_transitions() {
    let record = run_from(S::Running, vec![Ev::Tick, Ev::Noise, Ev::Work(3), Ev::Work(4)], false).await;
    assert_eq!(record.lifecycle, Lifecycle::Completed);
    assert_eq!(record.state, "Done");
    assert_eq!(record.supervisor, "probe", "the default name is the stage type in snake case");
    assert_eq!(record.counters.failures, 0, "Noise is on Running's ignore list");
}

#[tokio::test]
async fn an_action_error_takes_the_generated_failure_edge_with_its_message() {
    let record = run_from(S::Running, vec![Ev::Start], false).await;
    match record.lifecycle {
        Lifecycle::Failed { error, escalation: None } => assert!(error.contains("action refused"), "{error}"),
        other => panic!("expected Failed, got {other:?}"),
    }
    assert_eq!(record.state, "Failed");
}

#[tokio::test]
async fn the_failure_event_itself_leads_to_the_failed_state_and_timeouts_fire() {
    let record = run_from(S::Running, vec![Ev::Work(2), Ev::Error("boom".into())], false).await;
    assert_eq!(record.lifecycle, Lifecycle::Completed, "Work(2) finished before the error was read");
    let record = run_from(S::Running, vec![Ev::Error("boom".into())], false).await;
    assert!(matches!(record.lifecycle, Lifecycle::Failed { .. }), "{record}");
    assert_eq!(record.state, "Failed");
    let record = run_from(S::Waiting, vec![], false).await;
    assert_eq!(record.lifecycle, Lifecycle::Completed, "Waiting's timeout fired and led to Done");
}

#[cfg(debug_assertions)]
#[tokio::test]
async fn a_function_transition_outside_its_to_list_is_caught_in_debug_builds() {
    let record = run_from(S::Running, vec![Ev::Work(13)], false).await;
    match record.lifecycle {
        Lifecycle::Failed { error, .. } => assert!(error.contains("`to = [..]` list does not name"), "{error}"),
        other => panic!("expected Failed, got {other:?}"),
    }
}

#[tokio::test]
async fn a_closed_control_channel_becomes_the_declared_event() {
    let record = run_from(S::Idle, vec![], true).await;
    assert_eq!(record.lifecycle, Lifecycle::Completed, "Idle blocks, the channel closes, Drain leads to Done");
}

#[tokio::test]
async fn control_messages_map_to_events() {
    let (tx, rx) = stagewise::control_channel(4);
    let run = tokio::spawn(run_handler_supervised(
        Probe::new(vec![Ev::Tick]),
        S::INITIAL,
        Ctx::default(),
        Supervision::default().with_control(rx),
    ));
    tx.send(Control::Start).await.unwrap();
    tx.send(Control::Drain).await.unwrap();
    let record = run.await.unwrap().expect("no escalation");
    assert_eq!(record.lifecycle, Lifecycle::Completed);
    assert_eq!(record.counters.transitions, 2, "Start, then Drain (taken before the next dispatch)");
}

#[tokio::test]
async fn a_wait_state_without_a_control_channel_fails_fast_instead_of_hanging() {
    let run = Probe::new(vec![]).run(S::INITIAL, Ctx::default());
    let record = tokio::time::timeout(Duration::from_secs(5), run).await.expect("no hang").expect("no escalation");
    match record.lifecycle {
        Lifecycle::Failed { error, .. } => assert!(error.contains("blocks on the control channel"), "{error}"),
        other => panic!("expected Failed, got {other:?}"),
    }
}

#[test]
fn the_diagram_shows_declared_function_and_failure_edges() {
    let d = S::MERMAID;
    assert!(d.contains("[*] --> Idle"));
    assert!(d.contains("Running --> Done: Work / Probe::decide()"));
    assert!(d.contains("Running --> Running: Tick (stay)"));
    assert!(d.contains("Waiting --> Failed: Error (failure)"));
    assert!(d.contains("Done --> [*]"));
    assert!(!d.contains("Done --> Failed"), "a terminal state ends the run: no failure edge leaves it\n{d}");
}

#[tokio::test]
async fn failed_record_keeps_the_message_of_a_timeout_that_fed_the_failure_event() {
    let record = run_from(S::Expiring, vec![], false).await;
    assert_eq!(record.lifecycle, Lifecycle::Failed { error: "lease expired".into(), escalation: None }, "{record}");
}
