// A struct failure event (`Ev::Failed { message }`), control mapping, a closed channel, ignore lists, timeouts.
#![deny(warnings)]

#[path = "../common/mod.rs"]
mod common;
use common::*;
use stagewise::{Control, ControlPolicy, Machine, StateVariant, Unhandled};

#[stagewise::handler_supervised(
    stage = Up, event = Ev, action = Act, context = Ctx,
    failure = Ev::Failed { message },
    on_failure = [Act::Cleanup],
    control(start = Ev::Start, drain = Ev::Eof),
    closed = Ev::Eof,
)]
#[derive(Debug, PartialEq)]
pub enum S {
    #[initial]
    #[control(block)]
    #[timeout(millis = 250, event = Ev::Eof)]
    #[on(Ev::Start => Running)]
    #[on(Ev::Eof => Done)]
    Idle,
    #[dispatch(Up::next)]
    #[control(ignore, closed = Ev::Start)]
    #[ignore(Ev::Line)]
    #[on(Ev::Eof => Done, actions = [Act::Flush])]
    Running,
    #[terminal]
    Done,
    #[failed]
    Failed { why: String },
}

fn main() {
    let mut ctx = Ctx;
    assert_eq!(S::Idle.control_policy(), ControlPolicy::Block);
    assert_eq!(S::Running.control_policy(), ControlPolicy::Ignore);
    assert_eq!(S::Done.control_policy(), ControlPolicy::Ignore);
    assert!(matches!(<Up as Machine>::control_event(Control::Stop), None));
    assert!(matches!(<Up as Machine>::control_closed(&S::Running), Some(Ev::Start)));
    assert!(matches!(<Up as Machine>::control_closed(&S::Idle), Some(Ev::Eof)));
    assert_eq!(<Up as Machine>::timeout(&S::Idle).unwrap().after.as_millis(), 250);
    assert_eq!(<Up as Machine>::unhandled(&S::Running, &Ev::Line("x".into())), Unhandled::Ignore);
    let failed = <Up as Machine>::transition(&S::Running, Ev::Failed { message: "m".into() }, &mut ctx);
    match failed {
        stagewise::Decision::Goto { next, actions } => {
            assert_eq!(next, S::Failed { why: "m".into() });
            assert_eq!(actions.len(), 1);
        }
        _ => panic!("expected the failure transition"),
    }
    // Idempotent in the failed state.
    let again = <Up as Machine>::transition(&S::Failed { why: "m".into() }, Ev::Failed { message: "n".into() }, &mut ctx);
    assert!(matches!(again, stagewise::Decision::Stay { .. }));
}
