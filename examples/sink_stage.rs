//! A sink stage written with `#[handler_supervised]`: it stores what arrives, ignores heartbeats, fails on a poison
//! record (running its failure actions), and completes at end of stream.
//!
//! Run with `cargo run --example sink_stage`.

use std::sync::{Arc, Mutex};

use stagewise::{
    spawn_handler_supervised, Action, BoxError, Directive, EventVariant, Lifecycle, SpawnOptions, Stage, StageId,
    VariantName,
};
use tokio::sync::mpsc::{channel, Receiver};

#[stagewise::handler_supervised(
    stage = Store, event = Ev, action = Act, context = Ctx,
    failure = Ev::Error,
    on_failure = [Act::Rollback],
    control(drain = Ev::EndOfStream),
)]
#[derive(Clone, Debug, PartialEq)]
pub enum StoreState {
    #[initial]
    #[dispatch(Store::receive)]
    #[on(Ev::Record(record) => stay, actions = [Act::Append(record)])]
    #[on(Ev::EndOfStream => Committing)]
    #[ignore(Ev::Heartbeat)]
    Receiving,
    #[dispatch(emit = Ev::Committed)]
    #[on(Ev::Committed => Done, actions = [Act::Commit])]
    Committing,
    #[terminal]
    Done,
    #[failed]
    Failed(String),
}

#[derive(Stage)]
pub struct Store {
    #[stage_id]
    id: StageId,
    input: Receiver<Option<String>>,
}

impl Store {
    /// The next record; `None` on the wire is a heartbeat, a closed channel the end of the stream.
    async fn receive(&mut self, _ctx: &mut Ctx) -> Result<Directive<Ev>, BoxError> {
        Ok(Directive::Transition(match self.input.recv().await {
            Some(Some(record)) if record == "poison" => return Err("poison record".into()),
            Some(Some(record)) => Ev::Record(record),
            Some(None) => Ev::Heartbeat,
            None => Ev::EndOfStream,
        }))
    }
}

#[derive(Debug, EventVariant)]
pub enum Ev {
    Record(String),
    Heartbeat,
    EndOfStream,
    Committed,
    Error(String),
}

#[derive(Debug, VariantName)]
pub enum Act {
    Append(String),
    Commit,
    Rollback,
}

/// What the sink writes to: staged records, and the table they are committed to.
#[derive(Clone, Default)]
pub struct Ctx {
    staged: Vec<String>,
    table: Arc<Mutex<Vec<String>>>,
}

impl Action<Ctx> for Act {
    fn name(&self) -> &'static str {
        self.variant_name()
    }

    async fn execute(self, ctx: &mut Ctx) -> Result<(), BoxError> {
        match self {
            Act::Append(record) => ctx.staged.push(record),
            Act::Commit => ctx.table.lock().map_err(|_| "table poisoned")?.append(&mut ctx.staged),
            Act::Rollback => ctx.staged.clear(),
        }
        Ok(())
    }
}

async fn run(records: &[Option<&str>]) -> (Lifecycle, Vec<String>) {
    let (tx, input) = channel(8);
    let ctx = Ctx::default();
    let table = ctx.table.clone();
    let mut handle =
        spawn_handler_supervised(Store { id: StageId(3), input }, StoreState::INITIAL, ctx, SpawnOptions::default());
    for record in records {
        tx.send(record.map(str::to_owned)).await.expect("sink reads");
    }
    drop(tx);
    let record = handle.outcome().await.expect("no escalation");
    let rows = table.lock().unwrap().clone();
    (record.lifecycle, rows)
}

#[tokio::main]
async fn main() {
    let (lifecycle, rows) = run(&[Some("a"), None, Some("b"), None, Some("c")]).await;
    println!("{lifecycle:?} {rows:?}");
    assert_eq!(lifecycle, Lifecycle::Completed);
    assert_eq!(rows, ["a", "b", "c"]);

    let (lifecycle, rows) = run(&[Some("a"), Some("poison"), Some("b")]).await;
    println!("{lifecycle:?} {rows:?}");
    assert!(matches!(lifecycle, Lifecycle::Failed { ref error, escalation: None } if error.contains("poison record")));
    assert!(rows.is_empty(), "rolled back, never committed");
}
