// The smallest machine: an initial state that waits for Start, a terminal and a failed state.
#![deny(warnings)]

#[path = "../common/mod.rs"]
mod common;
use common::*;

#[stagewise::handler_supervised(stage = Up, event = Ev, action = Act, context = Ctx, failure = Ev::Error)]
#[derive(Debug)]
pub enum S {
    #[initial]
    #[on(Ev::Start => Done)]
    Idle,
    #[terminal]
    Done,
    #[failed]
    Failed(String),
}

fn main() {
    use stagewise::{Machine, StateVariant};
    let mut ctx = Ctx;
    let decision = <Up as Machine>::transition(&S::INITIAL, Ev::Start, &mut ctx);
    assert!(matches!(decision, stagewise::Decision::Goto { next: S::Done, .. }));
    assert_eq!(S::Failed("x".into()).ending(), Some(stagewise::Ending::Failed));
    assert!(S::MERMAID.starts_with("stateDiagram-v2"));
}
