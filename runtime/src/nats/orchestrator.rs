//! An orchestrator for a pipeline whose stages run in several processes: it follows every process's lifecycle
//! records (one stream, one subject per process) and heartbeats, takes a process whose heartbeat stopped for gone
//! and records that in its stead, and applies the pipeline's restart and failure policies across processes by
//! requests ([`Request`](super::Request)) the processes obey.

use std::time::Duration;

use async_nats::connection::State;
use async_nats::jetstream;
use futures_util::StreamExt;
use tokio::time::Instant;

use super::error::NatsError;
use super::launch::{Launch, Launcher};
use super::member::{check_interval, lifecycle_stream, send, Member};
use super::names::{check_pipeline, check_token, subject};
use super::outage::{Outage, Patience};
use super::reader::Follower;
use super::roster::{Effect, Policies, Roster};
use super::stead::about;
use crate::lifecycle::{Lifecycle, LifecycleRecord};
use crate::pipeline::FailurePolicy;
use crate::restart::{Restart, RestartStrategy};

/// Records the orchestrator holds before it takes them.
const FOLLOW_BUFFER: usize = 1024;

/// Follows the processes of one pipeline (each joined as a [`Member`](super::Member)) and applies the pipeline's
/// policies to them, from any process.
///
/// - **A process that disappears** (killed, its machine lost): no heartbeat for `every × missed`
///   ([`heartbeat`](Self::heartbeat)) and it is gone. The orchestrator appends, to its own subject of the lifecycle
///   stream, a Failed record in its stead for each of its supervisors that had not ended (same supervisor name,
///   writer and stage, state `Gone`, error `process NAME stopped heartbeating (...)`). A process taken for gone that
///   beats again (it was only paused, swapped out or cut off; or it was started again) is running: in its stead
///   the orchestrator records each of those supervisors as it was (state `Back`) and `PIPELINE@PROCESS` Started
///   (state `Back`), and no longer waits for it to start again. While the orchestrator's own
///   connection is down, and for a grace period after it is back, it judges no one: a server restart silences
///   every heartbeat at once. Nor while the server relays none of its own heartbeats (it publishes one, on
///   `PIPELINE.heartbeat.NAME`, at each interval and receives it back with the processes' ones) for more than
///   two intervals, and for one silence after: a stalled or paused server silences them all while every
///   connection stays up.
/// - **A process's pipeline ends** (its pipeline's terminal record) Failed or Cancelled, or the process is gone: if
///   the [`restart`](Self::restart) policy's type restarts after that ending and its intensity allows, the
///   orchestrator records `Restarting` (supervisor `PIPELINE@PROCESS`), waits the backoff, and sends
///   [`Request::Restart`](super::Request::Restart): a live process runs its pipeline again; a gone one cannot obey, so the
///   orchestrator's [`launcher`](Self::launcher), if it has one, or something else (a process manager, an operator)
///   starts it again, and the orchestrator counts it back when it records Started.
///   The [`strategy`](Self::strategy) names the other processes restarted with it (by default none).
///   Not back within `come_back` of the request, or no restart allowed: the [failure policy](Self::policy) applies.
/// - **Failure policy**: [`FailurePolicy::FailPipeline`] sends [`Request::Stop`](super::Request::Stop) to every process still running (again
///   at each heartbeat interval until each has ended), [`FailurePolicy::LetOthersFinish`] lets them run to their end.
/// - **Outcome**: once every process has completed or ended for good, the orchestrator records its own terminal
///   record (supervisor `PIPELINE@NAME`) and returns it: Completed, Failed naming the first failure no restart
///   covered, or Cancelled.
///
/// **One at a time.** It claims its own name (default `orchestrator`) as a process does
/// ([`Member::join`](super::Member::join), heartbeat `every`): a second orchestrator of the pipeline started beside it
/// waits for that claim to expire and is refused ([`NatsError::Claimed`]) instead of recording and asking everything
/// a second time; one paused until another took its name over is fenced ([`NatsError::Fenced`]).
///
/// **Runs.** The lifecycle stream is kept across runs of the pipeline. An orchestrator that starts a run
/// ([`new_run`](Self::new_run)) judges nothing from the records already there: it follows the stream from its end
/// and marks the start of the run with its own Started record (state `NewRun`); processes that joined before it
/// count as running by their heartbeats. Started again without `new_run` (within a run), the orchestrator catches
/// up from the records of the current run, from the last such mark on, its own earlier ones included: a process it
/// had taken for gone or asked to restart is restarting still (not judged a second time; the restart counts against
/// the intensity). Requests are plain NATS messages, not stored:
/// a process not connected when one is sent misses it (a restart then gives up at `come_back`; a stop is sent again).
///
/// ```no_run
/// use std::time::Duration;
/// use stagewise_runtime::nats::{connect, ProcessOrchestrator};
/// use stagewise_runtime::restart::Restart;
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let js = connect("nats://127.0.0.1:4222", Duration::from_secs(5)).await?;
/// let outcome = ProcessOrchestrator::new(&js, "access_log", ["read", "parse", "aggregate"])
///     .heartbeat(Duration::from_millis(200), 10)
///     .restart(Restart::transient(), Duration::from_secs(60))
///     .run()
///     .await?;
/// println!("the pipeline across processes: {outcome:?}");
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct ProcessOrchestrator {
    js: jetstream::Context,
    name: String,
    processes: Vec<String>,
    every: Duration,
    missed: u32,
    grace: Duration,
    outage: Duration,
    new_run: bool,
    policies: Policies,
    launcher: Option<Launcher>,
}

/// The state of the Started record of an orchestrator that starts a run: records before it belong to earlier runs.
pub(crate) const NEW_RUN: &str = "NewRun";

impl ProcessOrchestrator {
    /// The orchestrator of `processes` (their names as they [joined](super::Member::join)) of the pipeline called
    /// `pipeline`. By default: heartbeats expected every 200 ms, gone after 10 missed; [`FailurePolicy::FailPipeline`];
    /// no restarts ([`Restart::temporary`]); its own name `orchestrator`.
    pub fn new(
        js: &jetstream::Context,
        pipeline: &str,
        processes: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        let (every, missed) = (Duration::from_millis(200), 10);
        Self {
            js: js.clone(),
            name: "orchestrator".to_owned(),
            processes: processes.into_iter().map(Into::into).collect(),
            every,
            missed,
            grace: Duration::from_secs(30),
            outage: super::DEFAULT_OUTAGE,
            new_run: false,
            policies: Policies {
                pipeline: pipeline.to_owned(),
                failure: FailurePolicy::FailPipeline,
                restart: Restart::temporary(),
                strategy: RestartStrategy::OnlyFailed,
                come_back: Duration::from_secs(60),
                silence: every * missed,
                launching: false,
                launch_unseen: None,
            },
            launcher: None,
        }
    }

    /// The processes publish a heartbeat every `every` ([`Member::join`](super::Member::join)), and so does the
    /// orchestrator (its claim lives as long as theirs: the pipeline's claims bucket exists with their interval's
    /// time-to-live, [`NatsError::Mismatch`] at [`run`](Self::run) for another `every`); one silent for
    /// `missed` of them (at least 1) is gone. `every` must be more than zero: [`run`](Self::run) refuses a zero one.
    #[must_use]
    pub fn heartbeat(mut self, every: Duration, missed: u32) -> Self {
        self.every = every;
        self.missed = missed.max(1);
        self.policies.launch_unseen = self.policies.launch_unseen.map(|_| every * 2);
        self.policies.silence = every * self.missed;
        self
    }

    /// What to do when a process's pipeline fails for good.
    #[must_use]
    pub fn policy(mut self, failure: FailurePolicy) -> Self {
        self.policies.failure = failure;
        self
    }

    /// Restart a process's pipeline after the endings `restart`'s type names, within its intensity, after its
    /// backoff; a process must have started again within `come_back` of the request.
    #[must_use]
    pub fn restart(mut self, restart: Restart, come_back: Duration) -> Self {
        self.policies.restart = restart;
        self.policies.come_back = come_back;
        self
    }

    /// Which other processes restart with one that is restarted (default [`RestartStrategy::OnlyFailed`]), the
    /// processes' order as given to [`new`](Self::new) being the pipeline's (source first):
    /// [`All`](RestartStrategy::All) restarts every other, [`FailedAndDownstream`](RestartStrategy::FailedAndDownstream)
    /// those after it. Only siblings still running are asked to restart (recorded `Restarting` in their stead, state
    /// `WithSibling`, the cause naming the process that ended) and sent
    /// [`Request::RestartWithSibling`](super::Request::RestartWithSibling) when the process is sent its restart
    /// (after its backoff): one that
    /// completed has nothing to redo (unlike OTP's one-for-all, which restarts every child: a pipeline stage that
    /// completed has passed on all its work, and running it again would only read the end of its input again), one
    /// restarting already or ended for good is left as it is. A restart counts once, against the intensity of the
    /// process that ended (as OTP counts one restart per supervisor restart, whatever the strategy): the siblings'
    /// own intensity is not charged.
    ///
    /// A process asked to restart while its pipeline runs stops it ([`Control::Stop`](crate::Control::Stop)) and
    /// runs it again (see [`Member`](super::Member)); a durable stage resumes from what it committed, so what it had
    /// consumed but not committed is read again.
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use stagewise_runtime::nats::{connect, ProcessOrchestrator};
    /// use stagewise_runtime::restart::{Restart, RestartStrategy};
    ///
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let js = connect("nats://127.0.0.1:4222", Duration::from_secs(5)).await?;
    /// // parse fails: parse and aggregate restart, read goes on.
    /// let outcome = ProcessOrchestrator::new(&js, "access_log", ["read", "parse", "aggregate"])
    ///     .restart(Restart::transient(), Duration::from_secs(60))
    ///     .strategy(RestartStrategy::FailedAndDownstream)
    ///     .run()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn strategy(mut self, strategy: RestartStrategy) -> Self {
        self.policies.strategy = strategy;
        self
    }

    /// Starts processes itself through `launcher`: a process it restarts that is gone (its heartbeat stopped) is
    /// started through it, after the backoff, instead of being sent a restart it cannot obey; so is one whose run
    /// ended (failed) and that stopped heartbeating before it started again (it exited, or missed the request),
    /// once it has been silent as long as a gone one (the restart already counted); it must then record
    /// Started within the come-back time ([`restart`](Self::restart)), as any restarted process. A start that fails
    /// is recorded (`PIPELINE@PROCESS` Failed, state `NotStarted`, the launcher's error) and the failure policy
    /// applies. Without a launcher, something else (a process manager, an operator) starts gone processes again.
    /// See [`Launch`] for an example.
    #[must_use]
    pub fn launcher(mut self, launcher: impl Launch) -> Self {
        self.launcher = Some(Launcher::new(launcher));
        self.policies.launching = true;
        self
    }

    /// With a [`launcher`](Self::launcher), also starts each process not seen (no record, no heartbeat) within two
    /// heartbeat intervals of the start of [`run`](Self::run); processes already running are left as they are.
    #[must_use]
    pub fn launch_unseen(mut self) -> Self {
        self.policies.launch_unseen = Some(self.every * 2);
        self
    }

    /// How long, after its own connection is back, it waits before taking silent processes for gone (default 30 s:
    /// the others reconnect on their own schedule).
    #[must_use]
    pub fn reconnect_grace(mut self, grace: Duration) -> Self {
        self.grace = grace;
        self
    }

    /// How long it goes on while the server does not answer (its connection down, its records not stored, the
    /// lifecycle stream not followed) before [`run`](Self::run) fails with [`NatsError::Lost`] (default
    /// [`DEFAULT_OUTAGE`](super::DEFAULT_OUTAGE), 60 s). A server restarted within it is ridden out.
    #[must_use]
    pub fn outage(mut self, deadline: Duration) -> Self {
        self.outage = deadline;
        self
    }

    /// This orchestrator starts a new run of the pipeline: records already in the lifecycle stream (earlier runs')
    /// are not judged, and an orchestrator started again later catches up from this run's start only.
    #[must_use]
    pub fn new_run(mut self) -> Self {
        self.new_run = true;
        self
    }

    /// Its own subject is `PIPELINE.lifecycle.NAME` (default `orchestrator`).
    #[must_use]
    pub fn name(mut self, name: &str) -> Self {
        name.clone_into(&mut self.name);
        self
    }

    /// Runs until every process has completed or ended for good; returns (and records) the pipeline's outcome.
    ///
    /// # Errors
    /// [`NatsError::Invalid`] when a name is not one subject token (the pipeline's: letters, digits and `_`), it has no process, its own
    /// [`name`](Self::name) is one of its processes', or the [`heartbeat`](Self::heartbeat) interval is zero;
    /// [`NatsError::Claimed`] when another orchestrator of the pipeline runs under its name; [`NatsError::Fenced`]
    /// once another took its name over; another [`NatsError`] when the stream or subscriptions cannot be set up,
    /// or a record cannot be stored.
    pub async fn run(self) -> Result<Lifecycle, NatsError> {
        check_pipeline(&self.policies.pipeline)?;
        check_token("orchestrator", &self.name)?;
        for process in &self.processes {
            check_token("process", process)?;
        }
        check_interval("heartbeat", self.every)?;
        if self.processes.is_empty() {
            return Err(NatsError::invalid("processes []", "at least one process to follow"));
        }
        if self.processes.contains(&self.name) {
            let why = "a name none of its processes has (its records and heartbeat would pass for that process's)";
            return Err(NatsError::invalid(format!("orchestrator {:?}", self.name), why));
        }
        let pipeline = self.policies.pipeline.clone();
        let spec = lifecycle_stream(&pipeline)?;
        let mut stream = spec.ensure(&self.js).await?;
        // What an earlier orchestrator of this pipeline wrote (this one was started again) is stored up to here; a new
        // run starts past it. Read before joining, which may wait for an earlier orchestrator's claim to expire: the
        // processes' records meanwhile are this run's.
        let earlier = stream.info().await.map_err(|e| NatsError::request(format!("stream {}", spec.name), e))?;
        let earlier = earlier.state.last_sequence;
        let own = subject(&pipeline, "lifecycle", &self.name);
        // Its name is claimed as a process's is: a second orchestrator of the pipeline is refused, and one whose claim
        // another took over (it was paused) is fenced. Its member's heartbeat is the one it expects back.
        let member = Member::join(&self.js, &pipeline, &self.name, self.every).await?.outage(self.outage);
        let journal = member.lifecycle();
        let patience = Patience::default();
        patience.set(self.outage);
        let client = self.js.client();
        let mut beats = client
            .subscribe(subject(&pipeline, "heartbeat", "*"))
            .await
            .map_err(|e| NatsError::request(format!("heartbeats of {pipeline}"), e))?;
        let all = subject(&pipeline, "lifecycle", ">");
        let outage = Outage::new(self.js.client(), &patience);
        let from = if self.new_run { earlier + 1 } else { 1 };
        let mut records = Follower::start(&stream, &all, from, FOLLOW_BUFFER, None, outage).await?;
        let mut connection = Outage::new(client.clone(), &patience);
        let store = |record: LifecycleRecord| {
            let journal = &journal;
            async move {
                let what = format!("recording {record}");
                journal.append_acked(record).await.map_err(|e| NatsError::request(what, e))
            }
        };
        let state = if self.new_run { NEW_RUN } else { "Running" };
        store(about(&self.name, &pipeline, state, Lifecycle::Started)).await?;
        let mut roster = Roster::new(self.policies.clone(), &self.processes, Instant::now());
        let mut tick = tokio::time::interval(self.every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut quiet_until = Instant::now();
        // Its own heartbeat (its member's), received back through the server with the processes' ones: while the
        // server relays none (stalled, paused: its connections stay up), every process is silent, none is gone.
        let own_beat = subject(&pipeline, "heartbeat", &self.name);
        let mut relayed = Instant::now();
        // The launcher's starts that failed, with why: each start runs on a task of its own.
        let (launched, mut not_started) = tokio::sync::mpsc::unbounded_channel::<(String, String)>();
        loop {
            let effects = tokio::select! {
                Some((process, why)) = not_started.recv() => roster.not_started(&process, &why),
                delivered = records.next() => {
                    let delivered = delivered?;
                    let process = delivered.subject.rsplit('.').next().unwrap_or_default().to_owned();
                    match super::decode::<LifecycleRecord>(&delivered.payload) {
                        Ok(record) if delivered.subject.as_str() == own => {
                            if delivered.sequence <= earlier && record.state == NEW_RUN {
                                // A run started here: what came before was an earlier run's.
                                roster = Roster::new(self.policies.clone(), &self.processes, Instant::now());
                            } else if delivered.sequence <= earlier {
                                roster.replay(&record, Instant::now());
                            }
                            continue;
                        }
                        Ok(record) => roster.record(&process, record, Instant::now()),
                        Err(e) => {
                            tracing::warn!(subject = %delivered.subject, error = %e, "not a lifecycle record");
                            continue;
                        }
                    }
                }
                Some(beat) = beats.next() => {
                    if beat.subject.as_str() == own_beat {
                        relayed = Instant::now();
                        continue;
                    }
                    roster.beat(beat.subject.rsplit('.').next().unwrap_or_default(), Instant::now())
                }
                _ = tick.tick() => {
                    let now = Instant::now();
                    if client.connection_state() == State::Connected {
                        connection.answered();
                    } else {
                        quiet_until = now + self.grace;
                        connection.failed("its connection is down");
                    }
                    if now.saturating_duration_since(relayed) > self.every * 2 {
                        // The processes' heartbeats come back with its own, a silence later at the latest.
                        quiet_until = quiet_until.max(now + self.policies.silence);
                    }
                    if let Some(fenced) = member.fenced() {
                        return Err(fenced);
                    }
                    connection.check(|| format!("orchestrating {pipeline}"))?;
                    roster.tick(now, now >= quiet_until)
                }
            };
            for effect in effects {
                match effect {
                    Effect::Record(record) => {
                        tracing::info!(%record, "orchestrator across processes");
                        store(record).await?;
                    }
                    Effect::Send(process, request) => send(&client, &pipeline, &process, request).await,
                    Effect::Launch(process) => match &self.launcher {
                        Some(launcher) => launcher.spawn(process, launched.clone()),
                        None => tracing::debug!(process, "no launcher to start it"),
                    },
                }
            }
            if let Some(outcome) = roster.outcome() {
                store(about(&self.name, &pipeline, outcome.kind(), outcome.clone())).await?;
                return Ok(outcome);
            }
        }
    }
}
