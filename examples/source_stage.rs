//! A source stage written with `#[handler_supervised]`: it waits for Start (or gives up after a timeout), writes
//! numbered lines downstream, and completes when it has none left; Stop cancels it.
//!
//! Run with `cargo run --example source_stage`.

use stagewise::{
    spawn_handler_supervised, Action, BoxError, ChainEvent, Control, Directive, EventIds, EventVariant, Lifecycle,
    SpawnOptions, Stage, StageContext, StageId, VariantName, WriterId,
};
use tokio::sync::mpsc::{channel, Sender};

#[stagewise::handler_supervised(
    stage = Lines, event = Ev, action = Act, context = Ctx,
    failure = Ev::Error,
    on_failure = [Act::CloseOutput],
    control(start = Ev::Start, stop = Ev::Stop),
)]
#[derive(Clone, Debug, PartialEq)]
pub enum LinesState {
    #[initial]
    #[control(block)]
    #[timeout(secs = 5, event = Ev::Stop)]
    #[on(Ev::Start => Reading)]
    #[on(Ev::Stop => Stopped)]
    Created,
    #[dispatch(Lines::read)]
    #[on(Ev::Read(line) => stay, actions = [Act::Write(line)])]
    #[on(Ev::Exhausted => Done, actions = [Act::CloseOutput])]
    #[on(Ev::Stop => Stopped, actions = [Act::CloseOutput])]
    Reading,
    #[terminal]
    Done,
    #[terminal(cancelled)]
    Stopped,
    #[failed]
    Failed(String),
}

#[derive(Stage)]
pub struct Lines {
    #[stage_id]
    id: StageId,
    pending: std::vec::IntoIter<String>,
}

impl Lines {
    /// The next line, or `Exhausted`. A real source would await a file or a socket here.
    async fn read(&mut self, _ctx: &mut Ctx) -> Result<Directive<Ev>, BoxError> {
        tokio::task::yield_now().await;
        Ok(Directive::Transition(self.pending.next().map_or(Ev::Exhausted, Ev::Read)))
    }
}

#[derive(Debug, EventVariant)]
pub enum Ev {
    Start,
    Read(String),
    Exhausted,
    Stop,
    Error(String),
}

#[derive(Debug, VariantName)]
pub enum Act {
    Write(String),
    CloseOutput,
}

pub struct Ctx {
    output: Option<Sender<ChainEvent<String>>>,
    ids: EventIds,
    context: StageContext,
}

impl Action<Ctx> for Act {
    fn name(&self) -> &'static str {
        self.variant_name()
    }

    async fn execute(self, ctx: &mut Ctx) -> Result<(), BoxError> {
        match self {
            Act::Write(line) => {
                let event = ChainEvent::new(ctx.ids.next_id(), ctx.context.clone(), line);
                let output = ctx.output.as_ref().ok_or("output already closed")?;
                output.send(event).await.map_err(|_| "downstream hung up")?;
            }
            Act::CloseOutput => ctx.output = None,
        }
        Ok(())
    }
}

#[tokio::main]
async fn main() {
    let (output, mut downstream) = channel(4);
    let id = StageId(1);
    let lines: Vec<String> = (1..=5).map(|i| format!("line {i}")).collect();
    let stage = Lines { id, pending: lines.into_iter() };
    let ctx =
        Ctx { output: Some(output), ids: EventIds::new(WriterId::Stage(id)), context: StageContext::new(id, "lines") };
    let mut handle = spawn_handler_supervised(stage, LinesState::INITIAL, ctx, SpawnOptions::default());
    handle.send(Control::Start).await.expect("source is waiting for Start");

    let mut received = Vec::new();
    while let Some(event) = downstream.recv().await {
        received.push((event.id.seq, event.payload));
    }
    let record = handle.outcome().await.expect("no escalation");
    println!("{received:?}\n{record}");
    assert_eq!(received.len(), 5);
    assert_eq!(received[4], (4, "line 5".to_owned()));
    assert_eq!(record.lifecycle, Lifecycle::Completed);
}
