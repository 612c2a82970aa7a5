//! The errors the expansion reports: all at once, on the wrong token, saying what to write.
#![allow(unused_imports)]

use proc_macro2::{TokenStream, TokenTree};
use quote::quote;

use super::*;
use crate::expand::{analyze, expand};
use crate::model::{Dispatch, EndingKind, FailureShape, Mode, Policy, Target};
use crate::{derive, mermaid};

#[test]
fn unknown_key_suggests_the_closest_and_lists_all() {
    let e = errors(quote!(stage = Up, evnt = Ev, action = Act, context = Ctx, failure = Ev::Error), uppercase());
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(e[0].starts_with("unknown key `evnt` in #[handler_supervised]: did you mean `event`?"));
    assert!(e[0].contains("valid keys: `stage`, `event`"));
}

#[test]
fn duplicate_key_is_reported_on_the_second() {
    let e = errors(
        quote!(stage = Up, event = Ev, action = Act, context = Ctx, failure = Ev::Error, stage = Up),
        uppercase(),
    );
    assert_eq!(e, ["duplicate key `stage`: it is already set earlier in this attribute"]);
}

#[test]
fn every_missing_key_is_reported() {
    let e = errors(quote!(stage = Up), uppercase());
    assert_eq!(e.len(), 4, "{e:?}");
    for key in ["event", "action", "context", "failure"] {
        assert!(e.iter().any(|m| m.contains(&format!("missing the key `{key}`"))), "{key}: {e:?}");
    }
}

#[test]
fn initial_and_failed_states_are_counted() {
    let e = errors(
        keys(),
        quote!(
            enum S {
                A,
                #[terminal]
                B,
            }
        ),
    );
    assert_eq!(e.len(), 2, "{e:?}");
    assert!(e[0].starts_with("no initial state"));
    assert!(e[1].starts_with("no failed state"));
    let e = errors(
        keys(),
        quote!(
            enum S {
                #[initial]
                A,
                #[initial]
                B,
                #[failed]
                F,
                #[failed]
                G,
            }
        ),
    );
    assert_eq!(e.len(), 2, "{e:?}");
    assert!(e[0].starts_with("a second `#[initial]` state: `A` is already initial"));
    assert!(e[1].starts_with("a second `#[failed]` state: `F` is already the failed state"));
}

#[test]
fn attribute_on_a_function_or_struct_is_rejected_and_the_item_kept() {
    let out = expand(
        Mode::Handler,
        keys(),
        quote!(
            fn f() {}
        ),
    );
    assert_eq!(messages(&out), ["#[handler_supervised] goes on the state enum of a stage, not on a function"]);
    assert!(out.to_string().contains("fn f () { }"));
    let e = errors(
        keys(),
        quote!(
            struct S(u32);
        ),
    );
    assert!(e[0].contains("not on a struct"));
}

#[test]
fn transition_targets_are_checked() {
    let e = errors(
        keys(),
        quote!(
            enum S {
                #[initial]
                #[on(Ev::Start => Runing)]
                #[on(Ev::Line => Up::decide)]
                A,
                #[dispatch(wait)]
                #[on(Ev::Eof => Up::decide, to = [Nowhere], actions = [Act::Flush])]
                Running,
                #[failed]
                F(String),
            }
        ),
    );
    assert_eq!(e.len(), 4, "{e:?}");
    assert!(e[0].starts_with("there is no state `Runing`: did you mean `Running`?"));
    assert!(e[1].starts_with("`Up::decide` decides the next state at run time"));
    assert!(e[2].starts_with("there is no state `Nowhere`"));
    assert!(e[3].starts_with("a function transition returns its own actions"));
}

#[test]
fn terminal_states_take_no_dispatch_control_or_transitions() {
    let e = errors(
        keys(),
        quote!(
            enum S {
                #[initial]
                A,
                #[terminal]
                #[dispatch(Up::next)]
                #[control(poll)]
                #[on(Ev::Start => A)]
                Done,
                #[failed]
                F,
            }
        ),
    );
    assert_eq!(e.len(), 3, "{e:?}");
    assert!(e[0].contains("cannot have a dispatch"));
    assert!(e[1].contains("never reads the control channel"));
    assert!(e[2].contains("is never left"));
}

#[test]
fn three_mistakes_are_reported_together_with_the_item_and_stubs() {
    let out = expand(
        Mode::Handler,
        quote!(stage = Up, event = Ev, action = Act, context = Ctx, failure = Ev::Error, colour = 1),
        quote!(
            enum S {
                #[initial]
                #[on(Ev::Start => Runing)]
                Idle,
                Running,
                #[terminal]
                Done,
            }
        ),
    );
    let e = messages(&out);
    assert_eq!(e.len(), 3, "{e:?}");
    let out = out.to_string();
    assert!(out.contains("enum S"), "the item is still emitted");
    assert!(out.contains("impl :: stagewise :: __private :: Machine for Up"), "stub impls avoid a cascade");
    assert!(out.contains("pub const INITIAL : Self = S :: Idle"));
}

#[test]
fn failure_of_the_wrong_shape_says_what_to_write() {
    let e =
        errors(quote!(stage = Up, event = Ev, action = Act, context = Ctx, failure = Ev::Error { a, b }), uppercase());
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(e[0].starts_with("the failure event must carry the error message in one field"));
}

#[test]
fn bare_method_names_are_the_stages_own_and_near_miss_attributes_are_caught() {
    let out = expand(
        Mode::Handler,
        keys(),
        quote!(
            enum S {
                #[initial]
                #[dispatch(next)]
                #[on(Ev::Line => decide, to = [A])]
                A,
                #[failed]
                F,
            }
        ),
    )
    .to_string();
    assert!(out.contains("dispatch_result (Self :: next (self , ctx) . await)"), "{out}");
    assert!(out.contains("Self :: decide (state , event , ctx)"), "{out}");
    let e = errors(
        keys(),
        quote!(
            enum S {
                #[intial]
                A,
                #[doc = "kept"]
                #[failed]
                F,
            }
        ),
    );
    assert!(e[0].starts_with("unknown state attribute `#[intial]`: did you mean `#[initial]`?"), "{e:?}");
    let e = errors(
        keys(),
        quote!(
            enum S {
                #[initial]
                #[dispatch]
                A,
                #[failed]
                F,
            }
        ),
    );
    assert!(e[0].starts_with("write what the state does"), "{e:?}");
}
