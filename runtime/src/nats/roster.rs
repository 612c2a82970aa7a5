//! What an orchestrator across processes knows of each process of the pipeline and what it decides from it: each
//! process's last lifecycle record per supervisor, its last sign of life, its restarts; from them, the records to
//! write and the requests to send when a process's pipeline ends or its heartbeat stops. No I/O here: the
//! [`ProcessOrchestrator`](super::ProcessOrchestrator) feeds it and carries its decisions out.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::time::Duration;

use tokio::time::Instant;

use super::member::Request;
use crate::counters::CounterSnapshot;
use crate::event::WriterId;
use crate::lifecycle::{Lifecycle, LifecycleRecord};
use crate::pipeline::FailurePolicy;
use crate::restart::{BackoffClock, IntensityWindow, Restart};

/// What the orchestrator does about a decision.
#[derive(Debug)]
pub(crate) enum Effect {
    /// Append this record to the orchestrator's lifecycle subject.
    Record(LifecycleRecord),
    /// Send this request to the named process.
    Send(String, Request),
}

/// Where a process is, as the orchestrator sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// No record or heartbeat from it yet.
    Unseen,
    Running,
    /// Its run ended or it stopped heartbeating; a restart is requested at `request_at` and it must have started
    /// again by `deadline`.
    Restarting {
        request_at: Instant,
        deadline: Instant,
        requested: bool,
    },
    Completed,
    /// Failed for good, or ended after the pipeline was stopped.
    Ended,
}

struct Process {
    phase: Phase,
    last_sign: Instant,
    /// The last record of each of its supervisors (its stages, its pipeline), by name.
    supervisors: BTreeMap<String, LifecycleRecord>,
    restarts: IntensityWindow,
    backoff: BackoffClock,
}

/// The policies an orchestrator applies across processes.
#[derive(Clone, Debug)]
pub(crate) struct Policies {
    pub(crate) pipeline: String,
    pub(crate) failure: FailurePolicy,
    pub(crate) restart: Restart,
    /// How long a process may take to start again after a restart was requested.
    pub(crate) come_back: Duration,
    /// No sign of life for this long: the process is gone.
    pub(crate) silence: Duration,
}

/// Every process of the pipeline and what became of it.
pub(crate) struct Roster {
    policies: Policies,
    processes: BTreeMap<String, Process>,
    /// The first failure no restart covers: the pipeline's outcome is Failed with it.
    failure: Option<String>,
    stopping: bool,
}

impl Roster {
    pub(crate) fn new(policies: Policies, names: &[String], now: Instant) -> Self {
        let processes = names
            .iter()
            .enumerate()
            .map(|(salt, name)| {
                let process = Process {
                    phase: Phase::Unseen,
                    last_sign: now,
                    supervisors: BTreeMap::new(),
                    restarts: IntensityWindow::new(policies.restart.intensity),
                    backoff: BackoffClock::new(policies.restart.backoff.clone(), salt as u64),
                };
                (name.clone(), process)
            })
            .collect();
        Self { policies, processes, failure: None, stopping: false }
    }

    /// `process` is alive: a heartbeat came from it.
    pub(crate) fn beat(&mut self, process: &str, now: Instant) {
        if let Some(p) = self.processes.get_mut(process) {
            p.last_sign = now;
            if p.phase == Phase::Unseen {
                p.phase = Phase::Running;
            }
        }
    }

    /// `process` wrote `record`.
    pub(crate) fn record(&mut self, process: &str, record: LifecycleRecord, now: Instant) -> Vec<Effect> {
        let Some(p) = self.processes.get_mut(process) else { return Vec::new() };
        p.last_sign = now;
        let pipeline_record = record.stage.is_none();
        let lifecycle = record.lifecycle.clone();
        p.supervisors.insert(record.supervisor.to_string(), record);
        match lifecycle {
            Lifecycle::Started => {
                if matches!(p.phase, Phase::Unseen | Phase::Restarting { .. }) {
                    p.phase = Phase::Running;
                    p.backoff.started(now);
                }
                Vec::new()
            }
            Lifecycle::Completed if pipeline_record => {
                p.phase = Phase::Completed;
                Vec::new()
            }
            ending if pipeline_record && ending.is_terminal() && p.phase != Phase::Ended => {
                let cause = format!("process {process}: {}", describe(&ending));
                self.ended(process, &ending, cause, now)
            }
            _ => Vec::new(),
        }
    }

    /// Time passed: processes silent too long are gone; restarts due are requested; restarts not taken up give up.
    pub(crate) fn tick(&mut self, now: Instant, judging: bool) -> Vec<Effect> {
        let mut effects = Vec::new();
        let names: Vec<String> = self.processes.keys().cloned().collect();
        for name in names {
            let Some(p) = self.processes.get_mut(&name) else { continue };
            match p.phase {
                Phase::Running if judging && now.saturating_duration_since(p.last_sign) >= self.policies.silence => {
                    let cause =
                        format!("process {name} stopped heartbeating (nothing for {:?})", self.policies.silence);
                    effects.extend(gone_records(p, &name, &self.policies.pipeline, &cause));
                    let failed = Lifecycle::Failed { error: cause.clone(), escalation: None };
                    effects.extend(self.ended(&name, &failed, cause, now));
                }
                Phase::Unseen if judging && now.saturating_duration_since(p.last_sign) >= self.policies.come_back => {
                    let cause = format!("process {name} never showed up (nothing for {:?})", self.policies.come_back);
                    let failed = Lifecycle::Failed { error: cause.clone(), escalation: None };
                    effects.push(Effect::Record(about(&name, &self.policies.pipeline, "Gone", failed)));
                    effects.extend(self.give_up(&name, cause));
                }
                Phase::Restarting { request_at, deadline, requested } => {
                    if !requested && now >= request_at {
                        p.phase = Phase::Restarting { request_at, deadline, requested: true };
                        effects.push(Effect::Send(name.clone(), Request::Restart));
                    } else if now >= deadline {
                        let cause = format!("process {name} did not start again within {:?}", self.policies.come_back);
                        effects.extend(self.give_up(&name, cause));
                    }
                }
                _ => {}
            }
        }
        if self.stopping {
            // Requests are not stored: ask again until each has ended.
            let running = self.processes.iter().filter(|(_, p)| matches!(p.phase, Phase::Running | Phase::Unseen));
            effects.extend(running.map(|(name, _)| Effect::Send(name.clone(), Request::Stop)));
        }
        effects
    }

    /// Every process has completed or ended for good: the pipeline's outcome.
    pub(crate) fn outcome(&self) -> Option<Lifecycle> {
        if !self.processes.values().all(|p| matches!(p.phase, Phase::Completed | Phase::Ended)) {
            return None;
        }
        Some(match &self.failure {
            Some(error) => Lifecycle::Failed { error: error.clone(), escalation: None },
            None if self.stopping => Lifecycle::Cancelled { reason: "stopped".to_owned() },
            None => Lifecycle::Completed,
        })
    }

    /// `process`'s pipeline ended with `ending` (or the process is gone): restart it if the policy allows.
    fn ended(&mut self, process: &str, ending: &Lifecycle, cause: String, now: Instant) -> Vec<Effect> {
        let Some(p) = self.processes.get_mut(process) else { return Vec::new() };
        if self.stopping || !self.policies.restart.kind.restarts_after(ending) || !p.restarts.admit(now) {
            return self.give_up(process, cause);
        }
        let delay = p.backoff.next_delay(now);
        p.restarts.waited(delay);
        let deadline = now + delay + self.policies.come_back;
        p.phase = Phase::Restarting { request_at: now + delay, deadline, requested: false };
        let attempt = p.restarts.total();
        let restarting = Lifecycle::Restarting { attempt, delay, cause };
        vec![Effect::Record(about(process, &self.policies.pipeline, "Restarting", restarting))]
    }

    /// No restart covers `process`'s ending: apply the failure policy.
    fn give_up(&mut self, process: &str, cause: String) -> Vec<Effect> {
        if let Some(p) = self.processes.get_mut(process) {
            p.phase = Phase::Ended;
        }
        if self.stopping {
            return Vec::new();
        }
        self.failure.get_or_insert(cause);
        if self.policies.failure == FailurePolicy::FailPipeline {
            self.stopping = true;
        }
        Vec::new()
    }
}

/// A record the orchestrator writes about `process`'s pipeline (or, for its own name, about itself).
pub(crate) fn about(process: &str, pipeline: &str, state: &'static str, lifecycle: Lifecycle) -> LifecycleRecord {
    LifecycleRecord {
        supervisor: Cow::Owned(format!("{pipeline}@{process}")),
        writer: WriterId::System,
        stage: None,
        state: Cow::Borrowed(state),
        lifecycle,
        counters: CounterSnapshot::default(),
    }
}

/// Failed records, in the gone process's stead, for each of its supervisors that had not ended.
fn gone_records(p: &Process, process: &str, pipeline: &str, cause: &str) -> Vec<Effect> {
    let failed = || Lifecycle::Failed { error: cause.to_owned(), escalation: None };
    let open: Vec<Effect> = p
        .supervisors
        .values()
        .filter(|r| !r.lifecycle.is_terminal())
        .map(|r| Effect::Record(LifecycleRecord { state: Cow::Borrowed("Gone"), lifecycle: failed(), ..r.clone() }))
        .collect();
    match open.is_empty() {
        false => open,
        true => vec![Effect::Record(about(process, pipeline, "Gone", failed()))],
    }
}

fn describe(ending: &Lifecycle) -> String {
    match ending {
        Lifecycle::Failed { error, .. } => format!("failed: {error}"),
        Lifecycle::Cancelled { reason } => format!("cancelled: {reason}"),
        other => format!("{other:?}"),
    }
}
