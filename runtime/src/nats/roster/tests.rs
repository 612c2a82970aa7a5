//! The roster's decisions, without a server: the records and requests each sign of life, record and tick give.

use std::borrow::Cow;

use super::*;
use crate::counters::CounterSnapshot;
use crate::event::{StageId, WriterId};
use crate::restart::Backoff;

fn started(supervisor: &'static str, stage: Option<u32>) -> LifecycleRecord {
    LifecycleRecord {
        supervisor: Cow::Borrowed(supervisor),
        writer: stage.map_or(WriterId::System, |s| WriterId::Stage(StageId(s))),
        stage: stage.map(StageId),
        state: Cow::Borrowed("Running"),
        lifecycle: Lifecycle::Started,
        counters: CounterSnapshot::default(),
    }
}

/// Pipeline `p`, failing as a whole, one second of silence taken for gone, each process restarted alone by
/// `restart`, given `come_back` to show up again; no launcher.
fn policies(restart: Restart, come_back: Duration) -> Policies {
    Policies {
        pipeline: "p".to_owned(),
        failure: FailurePolicy::FailPipeline,
        restart,
        come_back,
        silence: Duration::from_secs(1),
        strategy: RestartStrategy::OnlyFailed,
        launching: false,
        launch_unseen: None,
    }
}

fn recorded(effects: &[Effect]) -> Vec<(&str, &str)> {
    let recorded = effects.iter().filter_map(|e| match e {
        Effect::Record(r) => Some((r.supervisor.as_ref(), r.state.as_ref())),
        Effect::Send(..) | Effect::Launch(_) => None,
    });
    recorded.collect()
}

#[test]
fn a_process_taken_for_gone_that_beats_again_is_back_and_not_given_up() {
    let second = Duration::from_secs(1);
    let policies = policies(Restart::transient().intensity(3, second * 600).backoff(Backoff::none()), second * 10);
    let t0 = Instant::now();
    let mut roster = Roster::new(policies, &["a".to_owned()], t0);
    roster.record("a", started("p", None), t0);
    roster.record("a", started("parse", Some(1)), t0);
    let gone = roster.tick(t0 + second * 2, true);
    assert_eq!(recorded(&gone), [("p", "Gone"), ("parse", "Gone"), ("p@a", "Restarting")]);

    // It was only paused: it beats again, after the restart request it cannot take as one.
    roster.tick(t0 + second * 3, true);
    let back = roster.beat("a", t0 + second * 4);
    assert_eq!(recorded(&back), [("p", "Back"), ("parse", "Back"), ("p@a", "Back")]);
    // Well past the time it had to start again, still beating: running, nothing given up.
    for s in 5..30 {
        roster.beat("a", t0 + second * s);
        assert!(recorded(&roster.tick(t0 + second * s, true)).is_empty());
    }
    assert_eq!(roster.outcome(), None);
    let completed = LifecycleRecord { lifecycle: Lifecycle::Completed, ..started("p", None) };
    roster.record("a", completed, t0 + second * 30);
    assert_eq!(roster.outcome(), Some(Lifecycle::Completed));
}

#[test]
fn a_process_given_up_for_gone_that_beats_again_while_the_pipeline_stops_is_stopped_too() {
    let second = Duration::from_secs(1);
    let policies = policies(Restart::temporary(), second * 10);
    let t0 = Instant::now();
    let names = ["a".to_owned(), "b".to_owned()];
    let mut roster = Roster::new(policies, &names, t0);
    for name in &names {
        roster.record(name, started("p", None), t0);
    }
    // `a` is silent (paused, or the orchestrator cut off from it), `b` beats: `a` is given up, `b` asked to stop.
    roster.beat("b", t0 + second * 2);
    roster.tick(t0 + second * 2, true);
    // `a` was only paused: it beats again and runs on, so it must be stopped as well, and the pipeline's outcome
    // waits for it.
    roster.beat("a", t0 + second * 3);
    roster.beat("b", t0 + second * 3);
    let stops = roster.tick(t0 + second * 3, true);
    let asked: Vec<&str> = stops
        .iter()
        .filter_map(|e| match e {
            Effect::Send(name, Request::Stop) => Some(name.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(asked, ["a", "b"]);
    let cancelled =
        || LifecycleRecord { lifecycle: Lifecycle::Cancelled { reason: "stopped".to_owned() }, ..started("p", None) };
    roster.record("b", cancelled(), t0 + second * 3);
    assert_eq!(roster.outcome(), None, "a runs still");
    roster.record("a", cancelled(), t0 + second * 4);
    assert!(matches!(roster.outcome(), Some(Lifecycle::Failed { .. })));
}

#[test]
fn a_process_whose_run_failed_and_that_exited_is_started_again_through_the_launcher_within_its_intensity() {
    let second = Duration::from_secs(1);
    let restart = Restart::transient().intensity(1, second * 600).backoff(Backoff::none());
    let policies = Policies { launching: true, ..policies(restart, second * 60) };
    let t0 = Instant::now();
    let mut roster = Roster::new(policies, &["a".to_owned()], t0);
    let failed = || LifecycleRecord {
        lifecycle: Lifecycle::Failed { error: "boom".to_owned(), escalation: None },
        ..started("p", None)
    };
    roster.record("a", started("p", None), t0);
    assert_eq!(recorded(&roster.record("a", failed(), t0)), [("p@a", "Restarting")]);
    // Alive when its restart is due: asked. But it exited (or missed the request): it beats no more.
    assert!(matches!(&roster.tick(t0, true)[..], [Effect::Send(name, Request::Restart)] if name == "a"));
    let launched = |effects: Vec<Effect>| effects.iter().filter(|e| matches!(e, Effect::Launch(n) if n == "a")).count();
    assert_eq!(launched(roster.tick(t0 + second / 2, true)), 0, "not silent long enough yet");
    assert_eq!(launched(roster.tick(t0 + second * 2, true)), 1, "silent as a gone one: started again");
    assert_eq!(launched(roster.tick(t0 + second * 3, true)), 0, "once");

    // Started again, it fails again: its one restart was that start, so the pipeline fails.
    roster.beat("a", t0 + second * 4);
    roster.record("a", started("p", None), t0 + second * 4);
    assert!(recorded(&roster.record("a", failed(), t0 + second * 5)).is_empty(), "no second restart");
    assert_eq!(launched(roster.tick(t0 + second * 9, true)), 0);
    assert!(matches!(roster.outcome(), Some(Lifecycle::Failed { error, .. }) if error.contains("boom")));
}
