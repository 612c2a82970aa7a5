//! What an orchestrator across processes knows of each process of the pipeline and what it decides from it: each
//! process's last lifecycle record per supervisor, its last sign of life, its restarts; from them, the records to
//! write and the requests to send when a process's pipeline ends or its heartbeat stops. No I/O here: the
//! [`ProcessOrchestrator`](super::ProcessOrchestrator) feeds it and carries its decisions out.

use std::collections::BTreeMap;
use std::time::Duration;

use tokio::time::Instant;

use super::member::Request;
use super::names::process_of;
use super::stead::{about, back_records, describe, gone_records, WITH_SIBLING};
use crate::lifecycle::{Lifecycle, LifecycleRecord};
use crate::pipeline::FailurePolicy;
use crate::restart::{BackoffClock, IntensityWindow, Restart, RestartStrategy};

/// What the orchestrator does about a decision.
#[derive(Debug)]
pub(crate) enum Effect {
    /// Append this record to the orchestrator's lifecycle subject.
    Record(LifecycleRecord),
    /// Send this request to the named process.
    Send(String, Request),
    /// Start the named process through the orchestrator's launcher.
    Launch(String),
}

/// Where a process is, as the orchestrator sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// No record or heartbeat from it yet.
    Unseen,
    Running,
    /// Its run ended or it stopped heartbeating (`gone`, also once one whose run ended is silent: it exited), or it
    /// is restarted `with_sibling` (the strategy's doing: it runs, and stops to run again); a restart is requested
    /// at `request_at` (a gone one is started through the launcher, if there is one) and it must have started again
    /// by `deadline`.
    Restarting {
        request_at: Instant,
        deadline: Instant,
        requested: bool,
        gone: bool,
        with_sibling: bool,
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
    /// Its restarts so far, its own and those with a sibling: the attempt number of the next.
    attempts: u32,
    backoff: BackoffClock,
}

impl Process {
    /// Its own pipeline's last record is a terminal one: it ended, rather than being given up for gone.
    fn ended_itself(&self) -> bool {
        self.supervisors.values().any(|r| r.stage.is_none() && r.lifecycle.is_terminal())
    }
}

/// The policies an orchestrator applies across processes.
#[derive(Clone, Debug)]
pub(crate) struct Policies {
    pub(crate) pipeline: String,
    pub(crate) failure: FailurePolicy,
    pub(crate) restart: Restart,
    /// Which other processes restart with one that is restarted, the processes' order being the pipeline's.
    pub(crate) strategy: RestartStrategy,
    /// How long a process may take to start again after a restart was requested.
    pub(crate) come_back: Duration,
    /// No sign of life for this long: the process is gone.
    pub(crate) silence: Duration,
    /// The orchestrator has a launcher: a gone process it restarts is started through it, not sent a request.
    pub(crate) launching: bool,
    /// With a launcher: the processes not seen this long after the orchestrator started are started through it.
    pub(crate) launch_unseen: Option<Duration>,
}

/// Every process of the pipeline and what became of it.
pub(crate) struct Roster {
    policies: Policies,
    processes: BTreeMap<String, Process>,
    /// The processes' names in pipeline order (source first), as the strategy reads them.
    order: Vec<String>,
    /// The first failure no restart covers: the pipeline's outcome is Failed with it.
    failure: Option<String>,
    stopping: bool,
    /// When the processes not seen by then are started through the launcher (once).
    launch_unseen_at: Option<Instant>,
    /// Replaying an earlier orchestrator's records: the last was a Gone record (the next Restarting is a gone one's).
    replayed_gone: bool,
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
                    attempts: 0,
                    backoff: BackoffClock::new(policies.restart.backoff.clone(), salt as u64),
                };
                (name.clone(), process)
            })
            .collect();
        let order = names.to_vec();
        let launch_unseen_at = policies.launch_unseen.filter(|_| policies.launching).map(|after| now + after);
        Self { policies, processes, order, failure: None, stopping: false, launch_unseen_at, replayed_gone: false }
    }

    /// `process` is alive: a heartbeat came from it. One taken for gone that beats again was only slow (paused,
    /// swapped out, cut off for a while) or was started again: it runs, and the records in its stead say it is back.
    /// One given up for gone while the pipeline stops runs too: it is asked to stop with the others, and the outcome
    /// waits for its end (else it would run on, its neighbours stopped, with nobody to stop it).
    pub(crate) fn beat(&mut self, process: &str, now: Instant) -> Vec<Effect> {
        let Some(p) = self.processes.get_mut(process) else { return Vec::new() };
        p.last_sign = now;
        match p.phase {
            Phase::Unseen => p.phase = Phase::Running,
            Phase::Ended if self.stopping && !p.ended_itself() => p.phase = Phase::Running,
            Phase::Restarting { gone: true, .. } => {
                p.phase = Phase::Running;
                p.backoff.started(now);
                return records(back_records(&p.supervisors, process, &self.policies.pipeline));
            }
            _ => {}
        }
        Vec::new()
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
            // Asked to restart while it ran (with a sibling), or its ending already taken: the run it stopped.
            ending if pipeline_record && matches!(p.phase, Phase::Restarting { gone: false, .. }) => {
                tracing::debug!(process, ?ending, "the run of a process restarting ended");
                Vec::new()
            }
            ending if pipeline_record && ending.is_terminal() && p.phase != Phase::Ended => {
                let cause = format!("process {process}: {}", describe(&ending));
                self.ended(process, &ending, cause, false, now)
            }
            _ => Vec::new(),
        }
    }

    /// A record an earlier orchestrator of the pipeline wrote (this one was started again): a process it took for
    /// gone or asked to restart is restarting still (its own restart counted, not one with a sibling), not judged a
    /// second time; one it recorded back is running.
    pub(crate) fn replay(&mut self, record: &LifecycleRecord, now: Instant) {
        let gone = std::mem::replace(&mut self.replayed_gone, record.state == "Gone");
        let with_sibling = record.state == WITH_SIBLING;
        let process = process_of(&self.policies.pipeline, &record.supervisor);
        let Some(p) = process.and_then(|name| self.processes.get_mut(name)) else {
            return;
        };
        match (&record.lifecycle, record.state.as_ref()) {
            (Lifecycle::Restarting { .. }, _) => {
                if !with_sibling {
                    p.restarts.admit(now);
                }
                p.attempts += 1;
                let deadline = now + self.policies.come_back;
                p.phase = Phase::Restarting { request_at: now, deadline, requested: false, gone, with_sibling };
            }
            (Lifecycle::Started, "Back") => p.phase = Phase::Running,
            _ => {}
        }
    }

    /// Time passed: processes silent too long are gone; restarts due are requested; restarts not taken up give up.
    pub(crate) fn tick(&mut self, now: Instant, judging: bool) -> Vec<Effect> {
        let mut effects = self.launch_unseen(now, judging);
        let names: Vec<String> = self.processes.keys().cloned().collect();
        for name in names {
            let Some(p) = self.processes.get_mut(&name) else { continue };
            match p.phase {
                Phase::Running if judging && now.saturating_duration_since(p.last_sign) >= self.policies.silence => {
                    let cause =
                        format!("process {name} stopped heartbeating (nothing for {:?})", self.policies.silence);
                    effects.extend(records(gone_records(&p.supervisors, &name, &self.policies.pipeline, &cause)));
                    let failed = Lifecycle::Failed { error: cause.clone(), escalation: None };
                    effects.extend(self.ended(&name, &failed, cause, true, now));
                }
                Phase::Unseen if judging && now.saturating_duration_since(p.last_sign) >= self.policies.come_back => {
                    let cause = format!("process {name} never showed up (nothing for {:?})", self.policies.come_back);
                    let failed = Lifecycle::Failed { error: cause.clone(), escalation: None };
                    effects.push(Effect::Record(about(&name, &self.policies.pipeline, "Gone", failed)));
                    effects.extend(self.give_up(&name, cause));
                }
                Phase::Restarting { request_at, mut deadline, requested, mut gone, with_sibling } => {
                    let silent = now.saturating_duration_since(p.last_sign) >= self.policies.silence;
                    if !gone && judging && silent && self.policies.launching {
                        // Silent before it started again: its run ended and it exited (or it missed the request).
                        // It cannot obey a request: the launcher starts it, as a gone one, now if it was due.
                        gone = true;
                        if requested {
                            deadline = deadline.max(now + self.policies.come_back);
                            effects.push(Effect::Launch(name.clone()));
                        }
                        p.phase = Phase::Restarting { request_at, deadline, requested, gone, with_sibling };
                    }
                    if !requested && now >= request_at {
                        p.phase = Phase::Restarting { request_at, deadline, requested: true, gone, with_sibling };
                        let request = if with_sibling { Request::RestartWithSibling } else { Request::Restart };
                        effects.push(match gone && self.policies.launching {
                            // It cannot obey a request: the launcher starts it again.
                            true => Effect::Launch(name.clone()),
                            false => Effect::Send(name.clone(), request),
                        });
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

    /// The processes not seen yet, to start through the launcher, once its time has come (and only while judging:
    /// a silent server hides the processes that run).
    fn launch_unseen(&mut self, now: Instant, judging: bool) -> Vec<Effect> {
        if !judging || self.launch_unseen_at.is_none_or(|at| now < at) {
            return Vec::new();
        }
        self.launch_unseen_at = None;
        let unseen =
            self.order.iter().filter(|name| self.processes.get(*name).is_some_and(|p| p.phase == Phase::Unseen));
        unseen.map(|name| Effect::Launch(name.clone())).collect()
    }

    /// The launcher could not start `process` (`why`): it will not come back, the failure policy applies.
    pub(crate) fn not_started(&mut self, process: &str, why: &str) -> Vec<Effect> {
        let waiting =
            self.processes.get(process).is_some_and(|p| matches!(p.phase, Phase::Unseen | Phase::Restarting { .. }));
        if !waiting {
            return Vec::new();
        }
        let cause = format!("process {process} could not be started: {why}");
        let failed = Lifecycle::Failed { error: cause.clone(), escalation: None };
        let mut effects = vec![Effect::Record(about(process, &self.policies.pipeline, "NotStarted", failed))];
        effects.extend(self.give_up(process, cause));
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

    /// `process`'s pipeline ended with `ending` (or the process is `gone`): restart it if the policy allows, and
    /// with it the siblings the strategy names.
    fn ended(&mut self, process: &str, ending: &Lifecycle, cause: String, gone: bool, now: Instant) -> Vec<Effect> {
        let Some(p) = self.processes.get_mut(process) else { return Vec::new() };
        if self.stopping || !self.policies.restart.kind.restarts_after(ending) || !p.restarts.admit(now) {
            return self.give_up(process, cause);
        }
        let delay = p.backoff.next_delay(now);
        p.restarts.waited(delay);
        let deadline = now + delay + self.policies.come_back;
        p.phase = Phase::Restarting { request_at: now + delay, deadline, requested: false, gone, with_sibling: false };
        p.attempts += 1;
        let restarting = Lifecycle::Restarting { attempt: p.attempts, delay, cause };
        let mut effects = vec![Effect::Record(about(process, &self.policies.pipeline, "Restarting", restarting))];
        let why = format!("restarted with process {process}, which {}", describe(ending));
        effects.extend(self.restart_siblings(process, &why, delay, now));
        effects
    }

    /// `process` is restarted: each sibling the strategy names (in pipeline order) that is running is asked to
    /// restart with it, when it is (after the same `delay`). Siblings that completed have nothing to redo, those
    /// restarting already or ended for good are left as they are. Their restarts count against no intensity but
    /// `process`'s own (one count per restart decision, as OTP counts one per supervisor restart).
    fn restart_siblings(&mut self, process: &str, why: &str, delay: Duration, now: Instant) -> Vec<Effect> {
        let Some(index) = self.order.iter().position(|name| name == process) else { return Vec::new() };
        let mut effects = Vec::new();
        for sibling in self.policies.strategy.affected(index, self.order.len()).filter(|&j| j != index) {
            let name = &self.order[sibling];
            let Some(p) = self.processes.get_mut(name).filter(|p| p.phase == Phase::Running) else { continue };
            let deadline = now + delay + self.policies.come_back;
            let request_at = now + delay;
            p.phase = Phase::Restarting { request_at, deadline, requested: false, gone: false, with_sibling: true };
            p.attempts += 1;
            let restarting = Lifecycle::Restarting { attempt: p.attempts, delay, cause: why.to_owned() };
            effects.push(Effect::Record(about(name, &self.policies.pipeline, WITH_SIBLING, restarting)));
        }
        effects
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

/// Records to append, as effects.
fn records(records: Vec<LifecycleRecord>) -> Vec<Effect> {
    records.into_iter().map(Effect::Record).collect()
}

#[cfg(test)]
mod tests;
