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
}

#[derive(Debug, stagewise::VariantName)]
pub enum Act {
    Flush,
    Cleanup,
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
