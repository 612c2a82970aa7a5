// The event, action, context and stage types the UI cases share, so each case shows only the attribute under test.
#![allow(dead_code)]

use stagewise::{Action, BoxError, Directive, StageId};

#[derive(Debug, stagewise::EventVariant)]
pub enum Ev {
    Start,
    Line(String),
    Eof,
    Error(String),
    Failed { message: String },
    Code(u32),
    Bad { code: u32 },
}

#[derive(Debug, stagewise::VariantName)]
pub enum Act {
    Flush,
    Cleanup,
    Log(String),
}

#[derive(Default)]
pub struct Ctx;

impl Action<Ctx> for Act {
    fn name(&self) -> &'static str {
        self.variant_name()
    }

    async fn execute(self, _ctx: &mut Ctx) -> Result<(), BoxError> {
        Ok(())
    }
}

#[derive(stagewise::Stage)]
pub struct Up {
    #[stage_id]
    pub id: StageId,
}

impl Up {
    pub async fn next(&mut self, _ctx: &mut Ctx) -> Result<Directive<Ev>, BoxError> {
        Ok(Directive::Transition(Ev::Eof))
    }
}

/// A stage to run.
pub fn up() -> Up {
    Up { id: StageId(1) }
}

/// Uses a stage the way a program does: its initial state, spawning it, sending it control, stopping it and awaiting
/// its end. A case whose mistake leaves follow-on errors at a use site shows them here.
pub fn use_stage<S: stagewise::HandlerSupervised>(stage: S, initial: S::State, ctx: S::Context) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().expect("a runtime");
    rt.block_on(async move {
        let mut handle = stagewise::spawn_handler_supervised(stage, initial, ctx, stagewise::SpawnOptions::default());
        let _ = handle.send(stagewise::Control::Start).await;
        // The cases' machines need not map control messages: stop the run rather than wait for it to end.
        handle.abort();
        let _ = handle.outcome().await;
    });
}
