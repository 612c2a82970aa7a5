//! `unhandled = Stage::hook` under the real run loop: the hook sees every event no transition of the current state
//! takes, and may count it in the context, map it to another event, or leave it to the ignore lists and the failure
//! path.

use std::sync::{Arc, Mutex};

use stagewise::{
    run_handler_supervised, BoxError, Decision, Directive, EventVariant, Lifecycle, LifecycleRecord, Machine, Stage,
    StageId, Supervision, VariantName,
};

#[derive(Debug, EventVariant)]
enum Ev {
    Work,
    Legacy,
    Noise,
    Tick,
    Rogue,
    Finish,
    Error(String),
}

#[derive(Debug, VariantName)]
enum Act {
    Count,
}

/// What the hook saw, shared with the test (the context itself is moved into the run).
#[derive(Debug, Default)]
struct Ctx {
    strays: Arc<Mutex<Vec<&'static str>>>,
}

impl stagewise::Action<Ctx> for Act {
    fn name(&self) -> &'static str {
        self.variant_name()
    }

    async fn execute(self, _ctx: &mut Ctx) -> Result<(), BoxError> {
        Ok(())
    }
}

/// Plays a script of events, then finishes.
#[derive(Stage)]
struct Probe {
    id: StageId,
    script: std::vec::IntoIter<Ev>,
}

impl Probe {
    async fn play(&mut self, _ctx: &mut Ctx) -> Result<Directive<Ev>, BoxError> {
        Ok(Directive::Transition(self.script.next().unwrap_or(Ev::Finish)))
    }

    /// Records every stray event; the old name of `Work` is mapped to it; the rest is left to the policy.
    fn stray(state: &S, event: Ev, ctx: &mut Ctx) -> Decision<S, Act> {
        ctx.strays.lock().unwrap().push(event.name());
        match event {
            Ev::Legacy => Probe::transition(state, Ev::Work, ctx),
            _ => Decision::Unhandled,
        }
    }
}

#[stagewise::handler_supervised(
    stage = Probe, event = Ev, action = Act, context = Ctx, failure = Ev::Error,
    unhandled = Probe::stray, ignore = [Ev::Noise],
)]
#[derive(Debug, PartialEq)]
enum S {
    #[initial]
    #[dispatch(Probe::play)]
    #[on(Ev::Work => stay, actions = [Act::Count])]
    #[on(Ev::Finish => Done)]
    #[ignore(Ev::Tick)]
    Running,
    #[terminal]
    Done,
    #[failed]
    Failed(String),
}

async fn run(script: Vec<Ev>) -> (LifecycleRecord, Vec<&'static str>) {
    let stage = Probe { id: StageId(9), script: script.into_iter() };
    let ctx = Ctx::default();
    let strays = ctx.strays.clone();
    let record = run_handler_supervised(stage, S::INITIAL, ctx, Supervision::default()).await.unwrap();
    let strays = strays.lock().unwrap().clone();
    (record, strays)
}

#[tokio::test]
async fn the_hook_maps_counts_and_leaves_the_rest_to_the_ignore_lists() {
    let (record, strays) = run(vec![Ev::Work, Ev::Legacy, Ev::Noise, Ev::Tick, Ev::Work]).await;
    assert_eq!(record.lifecycle, Lifecycle::Completed, "{record}");
    assert_eq!(record.counters.transitions, 4, "Work, Legacy as Work, Work, Finish: {record}");
    assert_eq!(strays, ["Legacy", "Noise", "Tick"], "declared transitions never reach the hook");
}

#[tokio::test]
async fn an_event_the_hook_leaves_and_no_list_ignores_takes_the_failure_path() {
    let (record, strays) = run(vec![Ev::Work, Ev::Rogue]).await;
    assert_eq!(strays, ["Rogue"]);
    match record.lifecycle {
        Lifecycle::Failed { error, escalation: None } => {
            assert!(error.contains("event Rogue is not handled in state Running"), "{error}");
        }
        other => panic!("expected Failed, got {other:?}"),
    }
}
