//! stagewise: supervised, long-running async stages as explicit state machines.
//!
//! This facade re-exports the runtime ([`stagewise_runtime`]) and the macros ([`handler_supervised`],
//! [`self_supervised`], and the derives [`Stage`](macro@Stage), [`EventVariant`](macro@EventVariant) and
//! [`VariantName`](macro@VariantName)). The rest of this page is a guide: read it top to bottom once, then use it as a
//! map.
//!
//! # What a stage is
//!
//! A stage is one part of an event pipeline (a source, a transform, a sink, or an orchestrator of other stages) that
//! runs as a tokio task for a long time and must end well. It is written as an explicit state machine with four types:
//!
//! - a **state** enum (`Created`, `Running`, `Draining`, `Done`, `Failed(String)`, ...): what the stage is doing;
//! - an **event** enum (`Line(..)`, `Eof`, `Error(String)`, ...): what happened;
//! - an **action** enum (`Write(..)`, `Flush`, ...): the effects a transition asks for, run by the loop
//!   ([`Action::execute`]);
//! - a **context**: what actions read and write (an output channel, a file, counters).
//!
//! The machine ([`Machine::transition`]) is a pure decision from (state, event, context) to the next state plus the
//! actions to run. The stage's struct says what each state *does* each turn ([`Supervisor::dispatch_state`]):
//! await input and return a [`Directive`] (`Continue`, `Transition(event)` or `Terminate`).
//!
//! # The loop's contract
//!
//! One generic run loop ([`run_handler_supervised`]) drives every stage. Each turn it asks the state what it does,
//! feeds the event to the machine and runs the actions in order. Only the loop feeds the machine and runs actions, so it
//! can keep these promises for every stage:
//!
//! - **Errors drive the machine.** An error or a panic in dispatch, in an action or in the machine's own code, a
//!   rejected event, a closed control channel: each becomes the stage's failure event
//!   ([`Supervisor::event_for_action_error`]) and takes the machine down its failure path to its failed state.
//! - **Escalation, never a hang.** A failure while handling a failure stops the loop at once and records both errors.
//! - **Exactly one terminal record per run**: [`Lifecycle::Completed`], [`Lifecycle::Failed`] or
//!   [`Lifecycle::Cancelled`], after one [`Lifecycle::Started`], written to a [`Journal`]; an aborted task still
//!   records `Cancelled`.
//! - **Control** messages ([`Control::Start`], [`Control::Drain`], [`Control::Stop`]) reach the machine as events,
//!   per the state's [`ControlPolicy`]; state timeouts ([`StateTimeout`]) fire; an idle stage sleeps.
//! - **The hot path allocates nothing**: no boxed future and no heap allocation per steady-state transition.
//!
//! The whole contract is in the README's "The contract the run loop keeps".
//!
//! # Writing a stage with the macro
//!
//! The state enum is the single source of truth; [`handler_supervised`] writes the supervisor from it (the transition
//! `match`, the failure edge from every state, dispatch, ids, control policy, and a Mermaid diagram of the machine,
//! `MERMAID`). Its keys and per-state attributes are described on [`handler_supervised`] and in `macros/README.md`.
//!
//! ```
//! use stagewise::{Action, BoxError, Directive, EventVariant, HandlerSupervisedExt, Lifecycle, Stage, StageId};
//!
//! #[stagewise::handler_supervised(
//!     stage = Countdown, event = Ev, action = Act, context = u32,
//!     failure = Ev::Error, on_failure = [Act::Log(message)],
//! )]
//! #[derive(Debug)]
//! enum CountdownState {
//!     #[initial]
//!     #[dispatch(tick)] // `Countdown::tick`, awaited each turn
//!     #[on(Ev::Tick => stay, actions = [Act::Count])]
//!     #[on(Ev::Zero => Done)]
//!     Counting,
//!     #[terminal]
//!     Done,
//!     #[failed]
//!     Failed(String),
//! }
//!
//! #[derive(Stage)]
//! struct Countdown {
//!     id: StageId,
//!     left: u32,
//! }
//!
//! impl Countdown {
//!     async fn tick(&mut self, _ticks: &mut u32) -> Result<Directive<Ev>, BoxError> {
//!         tokio::task::yield_now().await;
//!         self.left = self.left.saturating_sub(1);
//!         Ok(Directive::Transition(if self.left == 0 { Ev::Zero } else { Ev::Tick }))
//!     }
//! }
//!
//! #[derive(Debug, EventVariant)]
//! enum Ev { Tick, Zero, Error(String) }
//!
//! #[derive(Debug, stagewise::VariantName)]
//! enum Act { Count, Log(String) }
//!
//! impl Action<u32> for Act {
//!     fn name(&self) -> &'static str {
//!         self.variant_name()
//!     }
//!     async fn execute(self, ticks: &mut u32) -> Result<(), BoxError> {
//!         match self {
//!             Act::Count => *ticks += 1,
//!             Act::Log(message) => eprintln!("countdown failed: {message}"),
//!         }
//!         Ok(())
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let record = Countdown { id: StageId(1), left: 3 }.run(CountdownState::INITIAL, 0).await.unwrap();
//! assert_eq!(record.lifecycle, Lifecycle::Completed);
//! assert_eq!(record.counters.transitions, 3); // Tick, Tick, Zero
//! assert!(CountdownState::MERMAID.contains("Counting --> Done: Zero"));
//! # }
//! ```
//!
//! # Running a stage: spawn, control, watch, await
//!
//! [`spawn_handler_supervised`] puts a stage on the tokio runtime and hands back a [`StageHandle`]: send it
//! [`Control`] messages, read its state and counters while it runs, and await its final [`LifecycleRecord`].
//!
//! ```
//! use stagewise::{
//!     spawn_handler_supervised, Action, BoxError, Control, Directive, EventVariant, Lifecycle, SpawnOptions, Stage,
//!     StageId, VariantName,
//! };
//! use tokio::sync::mpsc;
//!
//! /// Sums what arrives on a channel; waits for Start, finishes on Drain or when the senders hang up.
//! #[stagewise::handler_supervised(
//!     stage = Summer, event = Ev, action = Act, context = u64,
//!     failure = Ev::Error,
//!     control(start = Ev::Start, drain = Ev::Drain),
//! )]
//! #[derive(Debug)]
//! enum SummerState {
//!     #[initial]
//!     #[on(Ev::Start => Summing)]
//!     Waiting, // no dispatch: blocks on the control channel
//!     #[dispatch(next)]
//!     #[on(Ev::Number(n) => stay, actions = [Act::Add(n)])]
//!     #[on(Ev::Closed | Ev::Drain => Done)]
//!     Summing,
//!     #[terminal]
//!     Done,
//!     #[failed]
//!     Failed(String),
//! }
//!
//! #[derive(Stage)]
//! struct Summer {
//!     id: StageId,
//!     input: mpsc::Receiver<u64>,
//! }
//!
//! impl Summer {
//!     async fn next(&mut self, _sum: &mut u64) -> Result<Directive<Ev>, BoxError> {
//!         Ok(Directive::Transition(self.input.recv().await.map_or(Ev::Closed, Ev::Number)))
//!     }
//! }
//!
//! #[derive(Debug, EventVariant)]
//! enum Ev { Start, Number(u64), Closed, Drain, Error(String) }
//!
//! #[derive(Debug, VariantName)]
//! enum Act { Add(u64) }
//!
//! impl Action<u64> for Act {
//!     fn name(&self) -> &'static str {
//!         self.variant_name()
//!     }
//!     async fn execute(self, sum: &mut u64) -> Result<(), BoxError> {
//!         let Act::Add(n) = self;
//!         *sum = sum.checked_add(n).ok_or("sum overflowed")?; // an error here takes the failure path
//!         Ok(())
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let (tx, input) = mpsc::channel(8);
//! let stage = Summer { id: StageId(7), input };
//! let mut handle = spawn_handler_supervised(stage, SummerState::INITIAL, 0, SpawnOptions::default());
//! assert_eq!(handle.state().name, "Waiting");
//!
//! handle.send(Control::Start).await.unwrap();
//! for n in 1..=4 {
//!     tx.send(n).await.unwrap();
//! }
//! drop(tx); // the input closes: Summing -> Done
//!
//! let record = handle.outcome().await.unwrap();
//! assert_eq!(record.lifecycle, Lifecycle::Completed);
//! assert_eq!(record.state, "Done");
//! assert_eq!(handle.counters().transitions, 6); // Start, four numbers, Closed
//! # }
//! ```
//!
//! # Testing a machine without a runtime
//!
//! Decisions are pure, so a machine is tested by feeding it events through a [`StateMachine`]: no tokio, no task.
//!
//! ```
//! use stagewise::machine::Step;
//! use stagewise::{Action, BoxError, Directive, EventVariant, Stage, StageId, StateMachine, StateVariant, VariantName};
//!
//! #[stagewise::handler_supervised(stage = Door, event = Ev, action = Act, context = (), failure = Ev::Error)]
//! #[derive(Debug, PartialEq)]
//! enum DoorState {
//!     #[initial]
//!     #[on(Ev::Open => Open, actions = [Act::Creak])]
//!     Closed,
//!     #[on(Ev::Close => Closed)]
//!     Open,
//!     #[failed]
//!     Broken(String),
//! }
//!
//! #[derive(Stage)]
//! struct Door { id: StageId }
//!
//! #[derive(Debug, EventVariant)]
//! enum Ev { Open, Close, Error(String) }
//!
//! #[derive(Debug, PartialEq, VariantName)]
//! enum Act { Creak }
//!
//! impl Action<()> for Act {
//!     fn name(&self) -> &'static str {
//!         self.variant_name()
//!     }
//!     async fn execute(self, _: &mut ()) -> Result<(), BoxError> {
//!         Ok(())
//!     }
//! }
//!
//! let mut door = StateMachine::<Door>::new(DoorState::INITIAL);
//! match door.handle(Ev::Open, &mut ()) {
//!     Step::Turned { actions, .. } => assert_eq!(actions.as_slice(), [Act::Creak]),
//!     other => panic!("expected a turn, got {other:?}"),
//! }
//! assert_eq!(door.state(), &DoorState::Open);
//! // Opening an open door has no transition: the loop would take the failure path.
//! assert!(matches!(door.handle(Ev::Open, &mut ()), Step::Rejected { state: "Open", event: "Open" }));
//! // The generated failure edge goes from every state to the failed one.
//! door.handle(Ev::Error("hinge".into()), &mut ());
//! assert_eq!(door.state().name(), "Broken");
//! ```
//!
//! # Wiring a pipeline
//!
//! [`Pipeline::builder`] connects a source, transforms and a sink with bounded [`link`](pipeline::link())s (a full
//! link makes its sender wait, so memory stays bounded) and runs them under an orchestrator that starts them, drains
//! them in order and applies a [`FailurePolicy`]. Each stage is built by a function of its links, so the compiler
//! checks that neighbouring stages agree on the payload type; the function hands back a
//! [`PipelineStage`] (named apart from `#[derive(Stage)]`, which marks a stage struct).
//! Stages built for pipelines follow the convention described in [`pipeline`]: wait for `Start`, forward end of
//! stream when done.
//!
//! ```
//! use std::sync::atomic::{AtomicU64, Ordering};
//! use std::sync::Arc;
//!
//! use stagewise::pipeline::{Batch, Inlet, Message, Outlet, Pipeline, PipelineStage};
//! use stagewise::{
//!     Action, BoxError, ChainEvent, Directive, EventIds, EventVariant, Stage, StageContext, StageId, VariantName,
//! };
//!
//! // The source: sends 1..=100 in batches of 10, then end of stream.
//! #[stagewise::handler_supervised(
//!     stage = Numbers, event = SrcEv, action = SrcAct, context = Outlet<u64>,
//!     failure = SrcEv::Error,
//!     control(start = SrcEv::Start, drain = SrcEv::Drain),
//! )]
//! #[derive(Debug)]
//! enum NumbersState {
//!     #[initial]
//!     #[on(SrcEv::Start => Sending)]
//!     Idle,
//!     #[dispatch(next_batch)]
//!     #[on(SrcEv::Batch(batch) => stay, actions = [SrcAct::Send(batch)])]
//!     #[on(SrcEv::Exhausted | SrcEv::Drain => Done, actions = [SrcAct::EndOfStream])]
//!     Sending,
//!     #[terminal]
//!     Done,
//!     #[failed]
//!     Failed(String),
//! }
//!
//! #[derive(Stage)]
//! struct Numbers { id: StageId, ids: EventIds, next: u64 }
//!
//! impl Numbers {
//!     async fn next_batch(&mut self, _out: &mut Outlet<u64>) -> Result<Directive<SrcEv>, BoxError> {
//!         if self.next > 100 {
//!             return Ok(Directive::Transition(SrcEv::Exhausted));
//!         }
//!         let context = StageContext::new(self.id, "numbers");
//!         let batch = (self.next..self.next + 10)
//!             .map(|n| ChainEvent::new(self.ids.next_id(), context.clone(), n))
//!             .collect();
//!         self.next += 10;
//!         Ok(Directive::Transition(SrcEv::Batch(batch)))
//!     }
//! }
//!
//! #[derive(Debug, EventVariant)]
//! enum SrcEv { Start, Drain, Batch(Batch<u64>), Exhausted, Error(String) }
//!
//! #[derive(Debug, VariantName)]
//! enum SrcAct { Send(Batch<u64>), EndOfStream }
//!
//! impl Action<Outlet<u64>> for SrcAct {
//!     fn name(&self) -> &'static str {
//!         self.variant_name()
//!     }
//!     async fn execute(self, out: &mut Outlet<u64>) -> Result<(), BoxError> {
//!         match self {
//!             SrcAct::Send(batch) => out.send(batch).await?,
//!             SrcAct::EndOfStream => out.end_of_stream().await?,
//!         }
//!         Ok(())
//!     }
//! }
//!
//! // The sink: adds every payload into a shared total until end of stream.
//! #[stagewise::handler_supervised(
//!     stage = Total, event = SinkEv, action = SinkAct, context = Arc<AtomicU64>,
//!     failure = SinkEv::Error,
//!     control(start = SinkEv::Start, drain = SinkEv::Drain),
//! )]
//! #[derive(Debug)]
//! enum TotalState {
//!     #[initial]
//!     #[on(SinkEv::Start => Adding)]
//!     Idle,
//!     #[dispatch(next_message)]
//!     #[on(SinkEv::Batch(batch) => stay, actions = [SinkAct::Add(batch)])]
//!     #[on(SinkEv::EndOfStream => Done)]
//!     #[ignore(SinkEv::Drain)] // drained, a sink goes on until end of stream
//!     Adding,
//!     #[terminal]
//!     Done,
//!     #[failed]
//!     Failed(String),
//! }
//!
//! #[derive(Stage)]
//! struct Total { id: StageId, input: Inlet<u64> }
//!
//! impl Total {
//!     async fn next_message(&mut self, _total: &mut Arc<AtomicU64>) -> Result<Directive<SinkEv>, BoxError> {
//!         Ok(Directive::Transition(match self.input.recv().await {
//!             Some(Message::Events(batch)) => SinkEv::Batch(batch),
//!             Some(Message::EndOfStream) => SinkEv::EndOfStream,
//!             None => SinkEv::Error("the source hung up without end of stream".into()),
//!         }))
//!     }
//! }
//!
//! #[derive(Debug, EventVariant)]
//! enum SinkEv { Start, Drain, Batch(Batch<u64>), EndOfStream, Error(String) }
//!
//! #[derive(Debug, VariantName)]
//! enum SinkAct { Add(Batch<u64>) }
//!
//! impl Action<Arc<AtomicU64>> for SinkAct {
//!     fn name(&self) -> &'static str {
//!         self.variant_name()
//!     }
//!     async fn execute(self, total: &mut Arc<AtomicU64>) -> Result<(), BoxError> {
//!         let SinkAct::Add(batch) = self;
//!         total.fetch_add(batch.iter().map(|e| e.payload).sum(), Ordering::Relaxed);
//!         Ok(())
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let total = Arc::new(AtomicU64::new(0));
//! let outcome = Pipeline::builder("sum")
//!     .capacity(4) // at most 4 batches wait on each link
//!     .source(|out| {
//!         let id = StageId(0);
//!         PipelineStage::new(Numbers { id, ids: EventIds::new(id.into()), next: 1 }, NumbersState::INITIAL, out)
//!     })
//!     .sink(|input| PipelineStage::new(Total { id: StageId(1), input }, TotalState::INITIAL, total.clone()))
//!     .run()
//!     .await
//!     .unwrap();
//!
//! assert!(outcome.is_completed(), "{outcome}");
//! assert_eq!(total.load(Ordering::Relaxed), 5050);
//! # }
//! ```
//!
//! # Journals
//!
//! Lifecycle records go to a [`Journal`]: [`MemoryJournal`] for tests, [`FileJournal`] for records that must survive
//! a crash (append-only segment files, framed with checksums, synced per its [`Durability`], recovered on open). The
//! same journals hold any serde type, such as a pipeline's error events ([`pipeline::ErrorRecord`]).
//!
//! ```
//! use std::sync::Arc;
//!
//! use stagewise::{
//!     spawn_handler_supervised, Action, BoxError, Directive, Durability, EventVariant, FileJournal, Journal,
//!     JournalOptions, Lifecycle, LifecycleRecord, SpawnOptions, Stage, StageId, VariantName,
//! };
//!
//! #[stagewise::handler_supervised(stage = Once, event = Ev, action = Act, context = (), failure = Ev::Error)]
//! #[derive(Debug)]
//! enum OnceState {
//!     #[initial]
//!     #[dispatch(emit = Ev::Done)]
//!     #[on(Ev::Done => Finished)]
//!     Working,
//!     #[terminal]
//!     Finished,
//!     #[failed]
//!     Failed(String),
//! }
//!
//! #[derive(Stage)]
//! struct Once { id: StageId }
//!
//! #[derive(Debug, EventVariant)]
//! enum Ev { Done, Error(String) }
//!
//! #[derive(Debug, VariantName)]
//! enum Act {}
//!
//! impl Action<()> for Act {
//!     fn name(&self) -> &'static str {
//!         self.variant_name()
//!     }
//!     async fn execute(self, _: &mut ()) -> Result<(), BoxError> {
//!         match self {}
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! let journal = Arc::new(FileJournal::<LifecycleRecord>::open(
//!     dir.path(),
//!     JournalOptions::with_durability(Durability::EveryAppend), // synced before `append` returns
//! )?);
//! let options = SpawnOptions::default().journal(journal.clone());
//! spawn_handler_supervised(Once { id: StageId(1) }, OnceState::INITIAL, (), options).outcome().await?;
//! drop(journal);
//!
//! // Another process (or this one, after a crash) reads the records back.
//! let reopened = FileJournal::<LifecycleRecord>::open_default(dir.path())?;
//! let records = reopened.read_from(0)?;
//! assert_eq!(records.len(), 2);
//! assert_eq!(records[0].lifecycle, Lifecycle::Started);
//! assert_eq!(records[1].lifecycle, Lifecycle::Completed);
//! println!("{}", records[1]); // "once (stage-1) in Finished: completed [turns .., transitions 1, failures 0]"
//! assert_eq!(records[1].counters.transitions, 1);
//! # Ok(())
//! # }
//! ```
//!
//! # Where to go next
//!
//! - `examples/access_log/`: the main example, three macro-written stages in a supervised pipeline over a million
//!   log lines, with durable journals and Ctrl-C drain: `cargo run --release --example access_log`.
//! - `examples/hand_written.rs` beside `examples/transform_stage.rs`: one stage written against the runtime traits
//!   ([`Machine`], [`Supervisor`], [`HandlerSupervised`]) and with the macro; `examples/expanded/` shows what the
//!   macro writes.
//! - [`handler_supervised`]: every key and per-state attribute of the macro; `macros/README.md`: its diagnostics.
//! - [`machine`], [`pipeline`], [`journal`], [`handle`]: the runtime's modules, each with its own examples.
//! - The README: the contract in full, the design choices, and the measured figures with the commands that reproduce
//!   them.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub use stagewise_macros::{self_supervised, Stage, VariantName};

#[doc = include_str!("macro_reference.md")]
pub use stagewise_macros::handler_supervised;
pub use stagewise_runtime::*;

/// Derives [`EventVariant`](trait@EventVariant) for an event enum (same name as the trait, as with serde).
pub use stagewise_macros::EventVariant;
