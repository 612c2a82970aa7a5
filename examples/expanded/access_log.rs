// @generated from examples/access_log/stages.rs by tests/expanded.rs: the stagewise macros expanded, nothing else.
// Not compiled. Refresh with `STAGEWISE_BLESS=1 cargo test --test expanded`.

//! The three stages of the access-log pipeline, each one state enum annotated with `#[handler_supervised]`: the
//! enum says what each state does, which events move it where with which actions, how it treats control messages and
//! how a run ending there ends; the macro writes the supervisor (Machine, Supervisor, HandlerSupervised).
//!
//! read (source) --lines--> parse (transform) --hits--> aggregate (sink)
//!
//! Each follows the pipeline stage convention of `stagewise::pipeline`: Idle blocks until Start; Drain makes the
//! source stop and the others finish the stream; end of stream is forwarded only on completion; Stop cancels; any
//! error takes the stage to Failed, reporting it on stderr.
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::sync::{Arc, Mutex};
use stagewise::pipeline::{Batch, ErrorJournal, Inlet, Message, Outlet};
use stagewise::{
    Action, BoxError, ChainEvent, Directive, ErrorKind, EventIds, EventVariant, Stage,
    StageContext, StageId, VariantName,
};
use crate::work::{parse_batch, AggregateSummary, Aggregator, Hit};
/// Where the lines come from.
pub enum Input {
    /// The generated log, lines `next..total`.
    Generated { next: u64, total: u64 },
    /// A file, line by line.
    File(BufReader<File>),
}
impl Input {
    /// The next batch of up to `max` lines; empty at the end of the input.
    pub fn next_batch(
        &mut self,
        max: usize,
        ids: &mut EventIds,
        context: &StageContext,
    ) -> std::io::Result<Batch<String>> {
        let mut batch = Vec::with_capacity(max);
        match self {
            Input::Generated { next, total } => {
                let end = (*next + max as u64).min(*total);
                for index in *next..end {
                    batch
                        .push(
                            ChainEvent::new(
                                ids.next_id(),
                                context.clone(),
                                crate::work::generate_line(index),
                            ),
                        );
                }
                *next = end;
            }
            Input::File(reader) => {
                while batch.len() < max {
                    let mut bytes = Vec::new();
                    if reader.read_until(b'\n', &mut bytes)? == 0 {
                        break;
                    }
                    while bytes.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
                        bytes.pop();
                    }
                    let id = ids.next_id();
                    batch
                        .push(
                            match String::from_utf8(bytes) {
                                Ok(line) => ChainEvent::new(id, context.clone(), line),
                                Err(e) => {
                                    let line = String::from_utf8_lossy(e.as_bytes())
                                        .into_owned();
                                    let why = format!("line {}: not valid UTF-8", id.seq + 1);
                                    ChainEvent::new(id, context.clone(), line)
                                        .into_error(ErrorKind::Parse, why)
                                }
                            },
                        );
                }
            }
        }
        Ok(batch)
    }
}
/// The source's states.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReadState {
    Idle,
    Reading,
    Done,
    Failed(String),
    Cancelled,
}
#[automatically_derived]
#[allow(
    unused_variables,
    unreachable_patterns,
    clippy::match_same_arms,
    clippy::single_match,
    clippy::too_many_lines,
    clippy::manual_async_fn,
    clippy::used_underscore_binding,
    clippy::no_effect_underscore_binding,
    clippy::match_single_binding
)]
impl ::stagewise::__private::StateVariant for ReadState {
    fn name(&self) -> &'static str {
        match self {
            ReadState::Idle { .. } => "Idle",
            ReadState::Reading { .. } => "Reading",
            ReadState::Done { .. } => "Done",
            ReadState::Failed { .. } => "Failed",
            ReadState::Cancelled { .. } => "Cancelled",
        }
    }
    fn ending(&self) -> ::core::option::Option<::stagewise::__private::Ending> {
        match self {
            ReadState::Idle { .. } => ::core::option::Option::None,
            ReadState::Reading { .. } => ::core::option::Option::None,
            ReadState::Done { .. } => {
                ::core::option::Option::Some(::stagewise::__private::Ending::Completed)
            }
            ReadState::Failed { .. } => {
                ::core::option::Option::Some(::stagewise::__private::Ending::Failed)
            }
            ReadState::Cancelled { .. } => {
                ::core::option::Option::Some(::stagewise::__private::Ending::Cancelled)
            }
        }
    }
    fn control_policy(&self) -> ::stagewise::__private::ControlPolicy {
        match self {
            ReadState::Idle { .. } => ::stagewise::__private::ControlPolicy::Block,
            ReadState::Reading { .. } => ::stagewise::__private::ControlPolicy::Poll,
            ReadState::Done { .. } => ::stagewise::__private::ControlPolicy::Ignore,
            ReadState::Failed { .. } => ::stagewise::__private::ControlPolicy::Ignore,
            ReadState::Cancelled { .. } => ::stagewise::__private::ControlPolicy::Ignore,
        }
    }
}
#[automatically_derived]
#[allow(dead_code)]
impl ReadState {
    /// The state a run starts in: the `#[initial]` one.
    pub const INITIAL: Self = ReadState::Idle;
    /// This machine as a Mermaid `stateDiagram-v2`: declared transitions, the states function transitions
    /// may choose, and the generated failure edges, labelled `(failure)`.
    pub const MERMAID: &'static str = "stateDiagram-v2\n    [*] --> Idle\n    Idle --> Reading: Start\n    Idle --> Done: Drain\n    Idle --> Cancelled: Stop\n    Reading --> Reading: Read (stay)\n    Reading --> Done: Exhausted, Drain\n    Reading --> Reading: Start (stay)\n    Reading --> Cancelled: Stop\n    Done --> [*]\n    Failed --> [*]\n    Cancelled --> [*]\n    %% generated: the failure transition from every state\n    Idle --> Failed: Failure (failure)\n    Reading --> Failed: Failure (failure)\n    Done --> Failed: Failure (failure)\n    Cancelled --> Failed: Failure (failure)\n    classDef failure fill:#fde2e2,stroke:#c0392b\n    class Failed failure\n";
}
#[automatically_derived]
#[allow(
    unused_variables,
    unreachable_patterns,
    clippy::match_same_arms,
    clippy::single_match,
    clippy::too_many_lines,
    clippy::manual_async_fn,
    clippy::used_underscore_binding,
    clippy::no_effect_underscore_binding,
    clippy::match_single_binding
)]
impl ::stagewise::__private::Machine for Read {
    type State = ReadState;
    type Event = ReadEvent;
    type Context = ReadContext;
    type Action = ReadAction;
    fn transition(
        state: &Self::State,
        event: Self::Event,
        ctx: &mut Self::Context,
    ) -> ::stagewise::__private::Decision<Self::State, Self::Action> {
        match (state, event) {
            (ReadState::Idle { .. }, ReadEvent::Start { .. }) => {
                ::stagewise::__private::Decision::goto(ReadState::Reading)
            }
            (ReadState::Idle { .. }, ReadEvent::Drain { .. }) => {
                ::stagewise::__private::Decision::goto_with(
                    ReadState::Done,
                    [ReadAction::EndOfStream],
                )
            }
            (ReadState::Idle { .. }, ReadEvent::Stop { .. }) => {
                ::stagewise::__private::Decision::goto(ReadState::Cancelled)
            }
            (ReadState::Reading { .. }, ReadEvent::Read(batch)) => {
                ::stagewise::__private::Decision::stay_with([ReadAction::Send(batch)])
            }
            (
                ReadState::Reading { .. },
                ReadEvent::Exhausted { .. } | ReadEvent::Drain { .. },
            ) => {
                ::stagewise::__private::Decision::goto_with(
                    ReadState::Done,
                    [ReadAction::EndOfStream],
                )
            }
            (ReadState::Reading { .. }, ReadEvent::Start { .. }) => {
                ::stagewise::__private::Decision::Stay {
                    actions: ::stagewise::__private::Actions::new(),
                }
            }
            (ReadState::Reading { .. }, ReadEvent::Stop { .. }) => {
                ::stagewise::__private::Decision::goto(ReadState::Cancelled)
            }
            (ReadState::Failed { .. }, ReadEvent::Failure { .. }) => {
                ::stagewise::__private::Decision::Stay {
                    actions: ::stagewise::__private::Actions::new(),
                }
            }
            (_, ReadEvent::Failure(message)) => {
                let next = ReadState::Failed(::core::clone::Clone::clone(&message));
                ::stagewise::__private::Decision::goto_with(
                    next,
                    [ReadAction::Report(message)],
                )
            }
            _ => ::stagewise::__private::Decision::Unhandled,
        }
    }
    fn control_event(
        control: ::stagewise::__private::Control,
    ) -> ::core::option::Option<Self::Event> {
        match control {
            ::stagewise::__private::Control::Start => {
                ::core::option::Option::Some(ReadEvent::Start)
            }
            ::stagewise::__private::Control::Drain => {
                ::core::option::Option::Some(ReadEvent::Drain)
            }
            ::stagewise::__private::Control::Stop => {
                ::core::option::Option::Some(ReadEvent::Stop)
            }
        }
    }
}
#[automatically_derived]
#[allow(
    unused_variables,
    unreachable_patterns,
    clippy::match_same_arms,
    clippy::single_match,
    clippy::too_many_lines,
    clippy::manual_async_fn,
    clippy::used_underscore_binding,
    clippy::no_effect_underscore_binding,
    clippy::match_single_binding
)]
impl ::stagewise::__private::Supervisor for Read {
    fn name(&self) -> &'static str {
        "read"
    }
}
#[automatically_derived]
#[allow(
    unused_variables,
    unreachable_patterns,
    clippy::match_same_arms,
    clippy::single_match,
    clippy::too_many_lines,
    clippy::manual_async_fn,
    clippy::used_underscore_binding,
    clippy::no_effect_underscore_binding,
    clippy::match_single_binding
)]
impl ::stagewise::__private::HandlerSupervised for Read {
    fn dispatch_state(
        &mut self,
        state: &Self::State,
        ctx: &mut Self::Context,
    ) -> impl ::core::future::Future<
        Output = ::core::result::Result<
            ::stagewise::__private::Directive<Self::Event>,
            ::stagewise::__private::BoxError,
        >,
    > + ::core::marker::Send {
        async move {
            match state {
                ReadState::Idle { .. } => ::core::future::pending().await,
                ReadState::Reading { .. } => {
                    ::stagewise::__private::dispatch_result(
                        Read::next_batch(self, ctx).await,
                    )
                }
                ReadState::Done { .. } => {
                    ::core::result::Result::Ok(
                        ::stagewise::__private::Directive::Terminate,
                    )
                }
                ReadState::Failed { .. } => {
                    ::core::result::Result::Ok(
                        ::stagewise::__private::Directive::Terminate,
                    )
                }
                ReadState::Cancelled { .. } => {
                    ::core::result::Result::Ok(
                        ::stagewise::__private::Directive::Terminate,
                    )
                }
            }
        }
    }
    fn stage_id(&self) -> ::stagewise::__private::StageId {
        <Self as ::stagewise::__private::StageFields>::stage_id(self)
    }
    fn writer_id(&self) -> ::stagewise::__private::WriterId {
        <Self as ::stagewise::__private::StageFields>::writer_id(self)
    }
    fn event_for_action_error(
        &self,
        message: ::stagewise::__private::String,
    ) -> Self::Event {
        ReadEvent::Failure(message)
    }
}
/// The source stage.
pub struct Read {
    id: StageId,
    batch: usize,
}
#[automatically_derived]
impl ::stagewise::__private::StageFields for Read {
    fn stage_id(&self) -> ::stagewise::__private::StageId {
        self.id
    }
}
impl Read {
    /// The next batch of lines, or `Exhausted` at the end of the input.
    async fn next_batch(
        &mut self,
        ctx: &mut ReadContext,
    ) -> Result<Directive<ReadEvent>, BoxError> {
        let batch = ctx.input.next_batch(self.batch, &mut ctx.ids, &ctx.context)?;
        Ok(
            Directive::Transition(
                if batch.is_empty() {
                    ReadEvent::Exhausted
                } else {
                    ReadEvent::Read(batch)
                },
            ),
        )
    }
}
/// What the source reads and writes.
pub struct ReadContext {
    input: Input,
    out: Outlet<String>,
    ids: EventIds,
    context: StageContext,
}
/// The source's events.
#[derive(Debug)]
pub enum ReadEvent {
    Start,
    Read(Batch<String>),
    Exhausted,
    Drain,
    Stop,
    Failure(String),
}
#[automatically_derived]
impl ::stagewise::__private::EventVariant for ReadEvent {
    fn name(&self) -> &'static str {
        match self {
            ReadEvent::Start { .. } => "Start",
            ReadEvent::Read { .. } => "Read",
            ReadEvent::Exhausted { .. } => "Exhausted",
            ReadEvent::Drain { .. } => "Drain",
            ReadEvent::Stop { .. } => "Stop",
            ReadEvent::Failure { .. } => "Failure",
        }
    }
}
/// The source's effects.
pub enum ReadAction {
    Send(Batch<String>),
    EndOfStream,
    Report(String),
}
#[automatically_derived]
#[allow(dead_code)]
impl ReadAction {
    /// The variant's name, for logs (e.g. `Action::name`).
    #[must_use]
    pub const fn variant_name(&self) -> &'static str {
        match self {
            ReadAction::Send { .. } => "Send",
            ReadAction::EndOfStream { .. } => "EndOfStream",
            ReadAction::Report { .. } => "Report",
        }
    }
}
impl Action<ReadContext> for ReadAction {
    fn name(&self) -> &'static str {
        self.variant_name()
    }
    async fn execute(self, ctx: &mut ReadContext) -> Result<(), BoxError> {
        match self {
            ReadAction::Send(batch) => ctx.out.send(batch).await?,
            ReadAction::EndOfStream => ctx.out.end_of_stream().await?,
            ReadAction::Report(why) => report("read", &why),
        }
        Ok(())
    }
}
/// The source stage, ready for a pipeline.
pub fn read(id: StageId, input: Input, batch: usize, out: Outlet<String>) -> Stage {
    let ctx = ReadContext {
        input,
        out,
        ids: EventIds::new(id.into()),
        context: StageContext::new(id, "read"),
    };
    Stage::new(Read { id, batch }, ReadState::INITIAL, ctx)
}
/// The events of a stage that consumes a stream of `P`.
#[derive(Debug)]
pub enum StreamEvent<P> {
    Start,
    Batch(Batch<P>),
    EndOfStream,
    UpstreamClosed,
    Drain,
    Stop,
    Failure(String),
}
#[automatically_derived]
impl<P> ::stagewise::__private::EventVariant for StreamEvent<P> {
    fn name(&self) -> &'static str {
        match self {
            StreamEvent::Start { .. } => "Start",
            StreamEvent::Batch { .. } => "Batch",
            StreamEvent::EndOfStream { .. } => "EndOfStream",
            StreamEvent::UpstreamClosed { .. } => "UpstreamClosed",
            StreamEvent::Drain { .. } => "Drain",
            StreamEvent::Stop { .. } => "Stop",
            StreamEvent::Failure { .. } => "Failure",
        }
    }
}
/// The next message on `inlet`. A closed inlet is the end of the stream while draining (the stage before was
/// stopped), and otherwise an error: the stage before failed.
async fn next_message<P>(
    inlet: &mut Inlet<P>,
    draining: bool,
) -> Result<Directive<StreamEvent<P>>, BoxError> {
    Ok(
        Directive::Transition(
            match inlet.recv().await {
                Some(Message::Events(batch)) => StreamEvent::Batch(batch),
                Some(Message::EndOfStream) => StreamEvent::EndOfStream,
                None if draining => StreamEvent::UpstreamClosed,
                None => return Err("upstream closed without end of stream".into()),
            },
        ),
    )
}
/// The failure action of every stage: say so on stderr (the lifecycle record holds the same message).
fn report(stage: &str, why: &str) {
    eprintln!("stage {stage} failed: {why}");
}
/// The parse stage's states.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParseState {
    Idle,
    Running,
    Draining,
    Done,
    Failed(String),
    Cancelled,
}
#[automatically_derived]
#[allow(
    unused_variables,
    unreachable_patterns,
    clippy::match_same_arms,
    clippy::single_match,
    clippy::too_many_lines,
    clippy::manual_async_fn,
    clippy::used_underscore_binding,
    clippy::no_effect_underscore_binding,
    clippy::match_single_binding
)]
impl ::stagewise::__private::StateVariant for ParseState {
    fn name(&self) -> &'static str {
        match self {
            ParseState::Idle { .. } => "Idle",
            ParseState::Running { .. } => "Running",
            ParseState::Draining { .. } => "Draining",
            ParseState::Done { .. } => "Done",
            ParseState::Failed { .. } => "Failed",
            ParseState::Cancelled { .. } => "Cancelled",
        }
    }
    fn ending(&self) -> ::core::option::Option<::stagewise::__private::Ending> {
        match self {
            ParseState::Idle { .. } => ::core::option::Option::None,
            ParseState::Running { .. } => ::core::option::Option::None,
            ParseState::Draining { .. } => ::core::option::Option::None,
            ParseState::Done { .. } => {
                ::core::option::Option::Some(::stagewise::__private::Ending::Completed)
            }
            ParseState::Failed { .. } => {
                ::core::option::Option::Some(::stagewise::__private::Ending::Failed)
            }
            ParseState::Cancelled { .. } => {
                ::core::option::Option::Some(::stagewise::__private::Ending::Cancelled)
            }
        }
    }
    fn control_policy(&self) -> ::stagewise::__private::ControlPolicy {
        match self {
            ParseState::Idle { .. } => ::stagewise::__private::ControlPolicy::Block,
            ParseState::Running { .. } => ::stagewise::__private::ControlPolicy::Poll,
            ParseState::Draining { .. } => ::stagewise::__private::ControlPolicy::Poll,
            ParseState::Done { .. } => ::stagewise::__private::ControlPolicy::Ignore,
            ParseState::Failed { .. } => ::stagewise::__private::ControlPolicy::Ignore,
            ParseState::Cancelled { .. } => ::stagewise::__private::ControlPolicy::Ignore,
        }
    }
}
#[automatically_derived]
#[allow(dead_code)]
impl ParseState {
    /// The state a run starts in: the `#[initial]` one.
    pub const INITIAL: Self = ParseState::Idle;
    /// This machine as a Mermaid `stateDiagram-v2`: declared transitions, the states function transitions
    /// may choose, and the generated failure edges, labelled `(failure)`.
    pub const MERMAID: &'static str = "stateDiagram-v2\n    [*] --> Idle\n    Idle --> Running: Start\n    Idle --> Draining: Drain\n    Idle --> Cancelled: Stop\n    Running --> Running: Batch (stay)\n    Running --> Done: EndOfStream\n    Running --> Draining: Drain\n    Running --> Running: Start (stay)\n    Running --> Cancelled: Stop\n    Draining --> Draining: Batch (stay)\n    Draining --> Done: EndOfStream, UpstreamClosed\n    Draining --> Draining: Start, Drain (stay)\n    Draining --> Cancelled: Stop\n    Done --> [*]\n    Failed --> [*]\n    Cancelled --> [*]\n    %% generated: the failure transition from every state\n    Idle --> Failed: Failure (failure)\n    Running --> Failed: Failure (failure)\n    Draining --> Failed: Failure (failure)\n    Done --> Failed: Failure (failure)\n    Cancelled --> Failed: Failure (failure)\n    classDef failure fill:#fde2e2,stroke:#c0392b\n    class Failed failure\n";
}
#[automatically_derived]
#[allow(
    unused_variables,
    unreachable_patterns,
    clippy::match_same_arms,
    clippy::single_match,
    clippy::too_many_lines,
    clippy::manual_async_fn,
    clippy::used_underscore_binding,
    clippy::no_effect_underscore_binding,
    clippy::match_single_binding
)]
impl ::stagewise::__private::Machine for Parse {
    type State = ParseState;
    type Event = StreamEvent<String>;
    type Context = ParseContext;
    type Action = ParseAction;
    fn transition(
        state: &Self::State,
        event: Self::Event,
        ctx: &mut Self::Context,
    ) -> ::stagewise::__private::Decision<Self::State, Self::Action> {
        match (state, event) {
            (ParseState::Idle { .. }, StreamEvent::Start { .. }) => {
                ::stagewise::__private::Decision::goto(ParseState::Running)
            }
            (ParseState::Idle { .. }, StreamEvent::Drain { .. }) => {
                ::stagewise::__private::Decision::goto(ParseState::Draining)
            }
            (ParseState::Idle { .. }, StreamEvent::Stop { .. }) => {
                ::stagewise::__private::Decision::goto(ParseState::Cancelled)
            }
            (ParseState::Running { .. }, StreamEvent::Batch(lines)) => {
                ::stagewise::__private::Decision::stay_with([ParseAction::Parse(lines)])
            }
            (ParseState::Running { .. }, StreamEvent::EndOfStream { .. }) => {
                ::stagewise::__private::Decision::goto_with(
                    ParseState::Done,
                    [ParseAction::EndOfStream],
                )
            }
            (ParseState::Running { .. }, StreamEvent::Drain { .. }) => {
                ::stagewise::__private::Decision::goto(ParseState::Draining)
            }
            (ParseState::Running { .. }, StreamEvent::Start { .. }) => {
                ::stagewise::__private::Decision::Stay {
                    actions: ::stagewise::__private::Actions::new(),
                }
            }
            (ParseState::Running { .. }, StreamEvent::Stop { .. }) => {
                ::stagewise::__private::Decision::goto(ParseState::Cancelled)
            }
            (ParseState::Draining { .. }, StreamEvent::Batch(lines)) => {
                ::stagewise::__private::Decision::stay_with([ParseAction::Parse(lines)])
            }
            (
                ParseState::Draining { .. },
                StreamEvent::EndOfStream { .. } | StreamEvent::UpstreamClosed { .. },
            ) => {
                ::stagewise::__private::Decision::goto_with(
                    ParseState::Done,
                    [ParseAction::EndOfStream],
                )
            }
            (
                ParseState::Draining { .. },
                StreamEvent::Start { .. } | StreamEvent::Drain { .. },
            ) => {
                ::stagewise::__private::Decision::Stay {
                    actions: ::stagewise::__private::Actions::new(),
                }
            }
            (ParseState::Draining { .. }, StreamEvent::Stop { .. }) => {
                ::stagewise::__private::Decision::goto(ParseState::Cancelled)
            }
            (ParseState::Failed { .. }, StreamEvent::Failure { .. }) => {
                ::stagewise::__private::Decision::Stay {
                    actions: ::stagewise::__private::Actions::new(),
                }
            }
            (_, StreamEvent::Failure(message)) => {
                let next = ParseState::Failed(::core::clone::Clone::clone(&message));
                ::stagewise::__private::Decision::goto_with(
                    next,
                    [ParseAction::Report(message)],
                )
            }
            _ => ::stagewise::__private::Decision::Unhandled,
        }
    }
    fn control_event(
        control: ::stagewise::__private::Control,
    ) -> ::core::option::Option<Self::Event> {
        match control {
            ::stagewise::__private::Control::Start => {
                ::core::option::Option::Some(StreamEvent::Start)
            }
            ::stagewise::__private::Control::Drain => {
                ::core::option::Option::Some(StreamEvent::Drain)
            }
            ::stagewise::__private::Control::Stop => {
                ::core::option::Option::Some(StreamEvent::Stop)
            }
        }
    }
}
#[automatically_derived]
#[allow(
    unused_variables,
    unreachable_patterns,
    clippy::match_same_arms,
    clippy::single_match,
    clippy::too_many_lines,
    clippy::manual_async_fn,
    clippy::used_underscore_binding,
    clippy::no_effect_underscore_binding,
    clippy::match_single_binding
)]
impl ::stagewise::__private::Supervisor for Parse {
    fn name(&self) -> &'static str {
        "parse"
    }
}
#[automatically_derived]
#[allow(
    unused_variables,
    unreachable_patterns,
    clippy::match_same_arms,
    clippy::single_match,
    clippy::too_many_lines,
    clippy::manual_async_fn,
    clippy::used_underscore_binding,
    clippy::no_effect_underscore_binding,
    clippy::match_single_binding
)]
impl ::stagewise::__private::HandlerSupervised for Parse {
    fn dispatch_state(
        &mut self,
        state: &Self::State,
        ctx: &mut Self::Context,
    ) -> impl ::core::future::Future<
        Output = ::core::result::Result<
            ::stagewise::__private::Directive<Self::Event>,
            ::stagewise::__private::BoxError,
        >,
    > + ::core::marker::Send {
        async move {
            match state {
                ParseState::Idle { .. } => ::core::future::pending().await,
                ParseState::Running { .. } => {
                    ::stagewise::__private::dispatch_result(Parse::next(self, ctx).await)
                }
                ParseState::Draining { .. } => {
                    ::stagewise::__private::dispatch_result(
                        Parse::next_draining(self, ctx).await,
                    )
                }
                ParseState::Done { .. } => {
                    ::core::result::Result::Ok(
                        ::stagewise::__private::Directive::Terminate,
                    )
                }
                ParseState::Failed { .. } => {
                    ::core::result::Result::Ok(
                        ::stagewise::__private::Directive::Terminate,
                    )
                }
                ParseState::Cancelled { .. } => {
                    ::core::result::Result::Ok(
                        ::stagewise::__private::Directive::Terminate,
                    )
                }
            }
        }
    }
    fn stage_id(&self) -> ::stagewise::__private::StageId {
        <Self as ::stagewise::__private::StageFields>::stage_id(self)
    }
    fn writer_id(&self) -> ::stagewise::__private::WriterId {
        <Self as ::stagewise::__private::StageFields>::writer_id(self)
    }
    fn event_for_action_error(
        &self,
        message: ::stagewise::__private::String,
    ) -> Self::Event {
        StreamEvent::Failure(message)
    }
}
/// The parse stage.
pub struct Parse {
    id: StageId,
}
#[automatically_derived]
impl ::stagewise::__private::StageFields for Parse {
    fn stage_id(&self) -> ::stagewise::__private::StageId {
        self.id
    }
}
impl Parse {
    async fn next(
        &mut self,
        ctx: &mut ParseContext,
    ) -> Result<Directive<StreamEvent<String>>, BoxError> {
        next_message(&mut ctx.inlet, false).await
    }
    async fn next_draining(
        &mut self,
        ctx: &mut ParseContext,
    ) -> Result<Directive<StreamEvent<String>>, BoxError> {
        next_message(&mut ctx.inlet, true).await
    }
}
/// What the parse stage reads and writes.
pub struct ParseContext {
    inlet: Inlet<String>,
    out: Outlet<Hit>,
    ids: EventIds,
    context: StageContext,
}
/// The parse stage's effects.
pub enum ParseAction {
    Parse(Batch<String>),
    EndOfStream,
    Report(String),
}
#[automatically_derived]
#[allow(dead_code)]
impl ParseAction {
    /// The variant's name, for logs (e.g. `Action::name`).
    #[must_use]
    pub const fn variant_name(&self) -> &'static str {
        match self {
            ParseAction::Parse { .. } => "Parse",
            ParseAction::EndOfStream { .. } => "EndOfStream",
            ParseAction::Report { .. } => "Report",
        }
    }
}
impl Action<ParseContext> for ParseAction {
    fn name(&self) -> &'static str {
        self.variant_name()
    }
    async fn execute(self, ctx: &mut ParseContext) -> Result<(), BoxError> {
        match self {
            ParseAction::Parse(lines) => {
                ctx.out.send(parse_batch(lines, &mut ctx.ids, &ctx.context)).await?
            }
            ParseAction::EndOfStream => ctx.out.end_of_stream().await?,
            ParseAction::Report(why) => report("parse", &why),
        }
        Ok(())
    }
}
/// The parse stage, ready for a pipeline.
pub fn parse(id: StageId, inlet: Inlet<String>, out: Outlet<Hit>) -> Stage {
    let ctx = ParseContext {
        inlet,
        out,
        ids: EventIds::new(id.into()),
        context: StageContext::new(id, "parse"),
    };
    Stage::new(Parse { id }, ParseState::INITIAL, ctx)
}
/// The aggregate stage's states.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AggregateState {
    Idle,
    Running,
    Draining,
    Done,
    Failed(String),
    Cancelled,
}
#[automatically_derived]
#[allow(
    unused_variables,
    unreachable_patterns,
    clippy::match_same_arms,
    clippy::single_match,
    clippy::too_many_lines,
    clippy::manual_async_fn,
    clippy::used_underscore_binding,
    clippy::no_effect_underscore_binding,
    clippy::match_single_binding
)]
impl ::stagewise::__private::StateVariant for AggregateState {
    fn name(&self) -> &'static str {
        match self {
            AggregateState::Idle { .. } => "Idle",
            AggregateState::Running { .. } => "Running",
            AggregateState::Draining { .. } => "Draining",
            AggregateState::Done { .. } => "Done",
            AggregateState::Failed { .. } => "Failed",
            AggregateState::Cancelled { .. } => "Cancelled",
        }
    }
    fn ending(&self) -> ::core::option::Option<::stagewise::__private::Ending> {
        match self {
            AggregateState::Idle { .. } => ::core::option::Option::None,
            AggregateState::Running { .. } => ::core::option::Option::None,
            AggregateState::Draining { .. } => ::core::option::Option::None,
            AggregateState::Done { .. } => {
                ::core::option::Option::Some(::stagewise::__private::Ending::Completed)
            }
            AggregateState::Failed { .. } => {
                ::core::option::Option::Some(::stagewise::__private::Ending::Failed)
            }
            AggregateState::Cancelled { .. } => {
                ::core::option::Option::Some(::stagewise::__private::Ending::Cancelled)
            }
        }
    }
    fn control_policy(&self) -> ::stagewise::__private::ControlPolicy {
        match self {
            AggregateState::Idle { .. } => ::stagewise::__private::ControlPolicy::Block,
            AggregateState::Running { .. } => ::stagewise::__private::ControlPolicy::Poll,
            AggregateState::Draining { .. } => {
                ::stagewise::__private::ControlPolicy::Poll
            }
            AggregateState::Done { .. } => ::stagewise::__private::ControlPolicy::Ignore,
            AggregateState::Failed { .. } => {
                ::stagewise::__private::ControlPolicy::Ignore
            }
            AggregateState::Cancelled { .. } => {
                ::stagewise::__private::ControlPolicy::Ignore
            }
        }
    }
}
#[automatically_derived]
#[allow(dead_code)]
impl AggregateState {
    /// The state a run starts in: the `#[initial]` one.
    pub const INITIAL: Self = AggregateState::Idle;
    /// This machine as a Mermaid `stateDiagram-v2`: declared transitions, the states function transitions
    /// may choose, and the generated failure edges, labelled `(failure)`.
    pub const MERMAID: &'static str = "stateDiagram-v2\n    [*] --> Idle\n    Idle --> Running: Start\n    Idle --> Draining: Drain\n    Idle --> Cancelled: Stop\n    Running --> Running: Batch (stay)\n    Running --> Done: EndOfStream\n    Running --> Draining: Drain\n    Running --> Running: Start (stay)\n    Running --> Cancelled: Stop\n    Draining --> Draining: Batch (stay)\n    Draining --> Done: EndOfStream, UpstreamClosed\n    Draining --> Draining: Start, Drain (stay)\n    Draining --> Cancelled: Stop\n    Done --> [*]\n    Failed --> [*]\n    Cancelled --> [*]\n    %% generated: the failure transition from every state\n    Idle --> Failed: Failure (failure)\n    Running --> Failed: Failure (failure)\n    Draining --> Failed: Failure (failure)\n    Done --> Failed: Failure (failure)\n    Cancelled --> Failed: Failure (failure)\n    classDef failure fill:#fde2e2,stroke:#c0392b\n    class Failed failure\n";
}
#[automatically_derived]
#[allow(
    unused_variables,
    unreachable_patterns,
    clippy::match_same_arms,
    clippy::single_match,
    clippy::too_many_lines,
    clippy::manual_async_fn,
    clippy::used_underscore_binding,
    clippy::no_effect_underscore_binding,
    clippy::match_single_binding
)]
impl ::stagewise::__private::Machine for Aggregate {
    type State = AggregateState;
    type Event = StreamEvent<Hit>;
    type Context = AggregateContext;
    type Action = AggregateAction;
    fn transition(
        state: &Self::State,
        event: Self::Event,
        ctx: &mut Self::Context,
    ) -> ::stagewise::__private::Decision<Self::State, Self::Action> {
        match (state, event) {
            (AggregateState::Idle { .. }, StreamEvent::Start { .. }) => {
                ::stagewise::__private::Decision::goto(AggregateState::Running)
            }
            (AggregateState::Idle { .. }, StreamEvent::Drain { .. }) => {
                ::stagewise::__private::Decision::goto(AggregateState::Draining)
            }
            (AggregateState::Idle { .. }, StreamEvent::Stop { .. }) => {
                ::stagewise::__private::Decision::goto(AggregateState::Cancelled)
            }
            (AggregateState::Running { .. }, StreamEvent::Batch(hits)) => {
                ::stagewise::__private::Decision::stay_with([
                    AggregateAction::Aggregate(hits),
                ])
            }
            (AggregateState::Running { .. }, StreamEvent::EndOfStream { .. }) => {
                ::stagewise::__private::Decision::goto_with(
                    AggregateState::Done,
                    [AggregateAction::Finish],
                )
            }
            (AggregateState::Running { .. }, StreamEvent::Drain { .. }) => {
                ::stagewise::__private::Decision::goto(AggregateState::Draining)
            }
            (AggregateState::Running { .. }, StreamEvent::Start { .. }) => {
                ::stagewise::__private::Decision::Stay {
                    actions: ::stagewise::__private::Actions::new(),
                }
            }
            (AggregateState::Running { .. }, StreamEvent::Stop { .. }) => {
                ::stagewise::__private::Decision::goto(AggregateState::Cancelled)
            }
            (AggregateState::Draining { .. }, StreamEvent::Batch(hits)) => {
                ::stagewise::__private::Decision::stay_with([
                    AggregateAction::Aggregate(hits),
                ])
            }
            (
                AggregateState::Draining { .. },
                StreamEvent::EndOfStream { .. } | StreamEvent::UpstreamClosed { .. },
            ) => {
                ::stagewise::__private::Decision::goto_with(
                    AggregateState::Done,
                    [AggregateAction::Finish],
                )
            }
            (
                AggregateState::Draining { .. },
                StreamEvent::Start { .. } | StreamEvent::Drain { .. },
            ) => {
                ::stagewise::__private::Decision::Stay {
                    actions: ::stagewise::__private::Actions::new(),
                }
            }
            (AggregateState::Draining { .. }, StreamEvent::Stop { .. }) => {
                ::stagewise::__private::Decision::goto(AggregateState::Cancelled)
            }
            (AggregateState::Failed { .. }, StreamEvent::Failure { .. }) => {
                ::stagewise::__private::Decision::Stay {
                    actions: ::stagewise::__private::Actions::new(),
                }
            }
            (_, StreamEvent::Failure(message)) => {
                let next = AggregateState::Failed(::core::clone::Clone::clone(&message));
                ::stagewise::__private::Decision::goto_with(
                    next,
                    [AggregateAction::Report(message)],
                )
            }
            _ => ::stagewise::__private::Decision::Unhandled,
        }
    }
    fn control_event(
        control: ::stagewise::__private::Control,
    ) -> ::core::option::Option<Self::Event> {
        match control {
            ::stagewise::__private::Control::Start => {
                ::core::option::Option::Some(StreamEvent::Start)
            }
            ::stagewise::__private::Control::Drain => {
                ::core::option::Option::Some(StreamEvent::Drain)
            }
            ::stagewise::__private::Control::Stop => {
                ::core::option::Option::Some(StreamEvent::Stop)
            }
        }
    }
}
#[automatically_derived]
#[allow(
    unused_variables,
    unreachable_patterns,
    clippy::match_same_arms,
    clippy::single_match,
    clippy::too_many_lines,
    clippy::manual_async_fn,
    clippy::used_underscore_binding,
    clippy::no_effect_underscore_binding,
    clippy::match_single_binding
)]
impl ::stagewise::__private::Supervisor for Aggregate {
    fn name(&self) -> &'static str {
        "aggregate"
    }
}
#[automatically_derived]
#[allow(
    unused_variables,
    unreachable_patterns,
    clippy::match_same_arms,
    clippy::single_match,
    clippy::too_many_lines,
    clippy::manual_async_fn,
    clippy::used_underscore_binding,
    clippy::no_effect_underscore_binding,
    clippy::match_single_binding
)]
impl ::stagewise::__private::HandlerSupervised for Aggregate {
    fn dispatch_state(
        &mut self,
        state: &Self::State,
        ctx: &mut Self::Context,
    ) -> impl ::core::future::Future<
        Output = ::core::result::Result<
            ::stagewise::__private::Directive<Self::Event>,
            ::stagewise::__private::BoxError,
        >,
    > + ::core::marker::Send {
        async move {
            match state {
                AggregateState::Idle { .. } => ::core::future::pending().await,
                AggregateState::Running { .. } => {
                    ::stagewise::__private::dispatch_result(
                        Aggregate::next(self, ctx).await,
                    )
                }
                AggregateState::Draining { .. } => {
                    ::stagewise::__private::dispatch_result(
                        Aggregate::next_draining(self, ctx).await,
                    )
                }
                AggregateState::Done { .. } => {
                    ::core::result::Result::Ok(
                        ::stagewise::__private::Directive::Terminate,
                    )
                }
                AggregateState::Failed { .. } => {
                    ::core::result::Result::Ok(
                        ::stagewise::__private::Directive::Terminate,
                    )
                }
                AggregateState::Cancelled { .. } => {
                    ::core::result::Result::Ok(
                        ::stagewise::__private::Directive::Terminate,
                    )
                }
            }
        }
    }
    fn stage_id(&self) -> ::stagewise::__private::StageId {
        <Self as ::stagewise::__private::StageFields>::stage_id(self)
    }
    fn writer_id(&self) -> ::stagewise::__private::WriterId {
        <Self as ::stagewise::__private::StageFields>::writer_id(self)
    }
    fn event_for_action_error(
        &self,
        message: ::stagewise::__private::String,
    ) -> Self::Event {
        StreamEvent::Failure(message)
    }
}
/// The aggregate stage.
pub struct Aggregate {
    id: StageId,
}
#[automatically_derived]
impl ::stagewise::__private::StageFields for Aggregate {
    fn stage_id(&self) -> ::stagewise::__private::StageId {
        self.id
    }
}
impl Aggregate {
    async fn next(
        &mut self,
        ctx: &mut AggregateContext,
    ) -> Result<Directive<StreamEvent<Hit>>, BoxError> {
        next_message(&mut ctx.inlet, false).await
    }
    async fn next_draining(
        &mut self,
        ctx: &mut AggregateContext,
    ) -> Result<Directive<StreamEvent<Hit>>, BoxError> {
        next_message(&mut ctx.inlet, true).await
    }
}
/// What the aggregate stage reads and writes.
pub struct AggregateContext {
    inlet: Inlet<Hit>,
    aggregator: Aggregator,
    errors: ErrorJournal,
    summary: Arc<Mutex<Option<AggregateSummary>>>,
}
/// The aggregate stage's effects.
pub enum AggregateAction {
    Aggregate(Batch<Hit>),
    Finish,
    Report(String),
}
#[automatically_derived]
#[allow(dead_code)]
impl AggregateAction {
    /// The variant's name, for logs (e.g. `Action::name`).
    #[must_use]
    pub const fn variant_name(&self) -> &'static str {
        match self {
            AggregateAction::Aggregate { .. } => "Aggregate",
            AggregateAction::Finish { .. } => "Finish",
            AggregateAction::Report { .. } => "Report",
        }
    }
}
impl Action<AggregateContext> for AggregateAction {
    fn name(&self) -> &'static str {
        self.variant_name()
    }
    async fn execute(self, ctx: &mut AggregateContext) -> Result<(), BoxError> {
        match self {
            AggregateAction::Aggregate(batch) => {
                ctx.aggregator.add_batch(batch, &*ctx.errors)?
            }
            AggregateAction::Finish => {
                let summary = ctx.aggregator.finish()?;
                *ctx.summary.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(
                    summary,
                );
            }
            AggregateAction::Report(why) => report("aggregate", &why),
        }
        Ok(())
    }
}
/// The aggregate stage, ready for a pipeline; `summary` receives what it saw once the stream is complete.
pub fn aggregate(
    id: StageId,
    inlet: Inlet<Hit>,
    aggregator: Aggregator,
    errors: ErrorJournal,
    summary: Arc<Mutex<Option<AggregateSummary>>>,
) -> Stage {
    let ctx = AggregateContext {
        inlet,
        aggregator,
        errors,
        summary,
    };
    Stage::new(Aggregate { id }, AggregateState::INITIAL, ctx)
}
