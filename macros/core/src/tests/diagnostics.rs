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
fn every_missing_key_is_reported_in_one_error() {
    let e = errors(quote!(stage = Up), uppercase());
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(e[0].starts_with("#[handler_supervised] is missing the keys `event`, `action`, `context`, `failure`:"));
    let e = errors(quote!(stage = Up, event = Ev, action = Act, context = Ctx), uppercase());
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(e[0].starts_with("#[handler_supervised] is missing the key `failure`:"), "{e:?}");
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
    assert!(out.contains("(Self :: next , __stage , __ctx) . await)"), "{out}");
    assert!(out.contains("(Self :: decide , __state , __event , __ctx)"), "{out}");
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

fn two_state_enum() -> TokenStream {
    quote! {
        enum S {
            #[initial] #[on(Ev::Start => Done)] Idle,
            #[terminal] Done,
            #[failed] Failed(String),
        }
    }
}

#[test]
fn a_misspelt_key_is_read_as_the_key_it_meant() {
    let args = quote!(stgae = Up, event = Ev, action = Act, context = Ctx, failure = Ev::Error);
    let out = expand(Mode::Handler, args, two_state_enum());
    let e = messages(&out);
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(e[0].starts_with("unknown key `stgae` in #[handler_supervised]: did you mean `stage`?"), "{e:?}");
    assert!(out.to_string().contains("HandlerSupervised for Up"), "the stubs are there for the stage");
}

#[test]
fn a_type_written_as_a_string_is_one_error_and_read_as_the_type() {
    let args = quote!(stage = Up, event = "Ev", action = Act, context = Ctx, failure = Ev::Error);
    let out = expand(Mode::Handler, args, two_state_enum());
    assert_eq!(messages(&out), ["write the type itself, not a string: `event = Ev`"]);
    assert!(out.to_string().contains("type Event = Ev"));
    let args = quote!(stage = Up, event = 1, action = Act, context = Ctx, failure = Ev::Error);
    let out = expand(Mode::Handler, args, two_state_enum());
    assert_eq!(messages(&out), ["`event` takes a type, e.g. `event = Event`"]);
    assert!(out.to_string().contains("type Event = :: stagewise :: __private :: Unknown"), "a placeholder stands in");
}

#[test]
fn the_attribute_applied_twice_is_one_error_on_the_second() {
    let item = quote! {
        #[stagewise::handler_supervised(stage = Up, event = Ev, action = Act, context = Ctx, failure = Ev::Error)]
        enum S {
            #[initial] #[on(Ev::Start => Done)] Idle,
            #[terminal] Done,
            #[failed] Failed(String),
        }
    };
    let out = expand(Mode::Handler, keys(), item);
    assert_eq!(messages(&out), ["#[handler_supervised] is applied twice to this enum: remove this one"]);
    let text = out.to_string();
    assert!(!text.contains("# [stagewise :: handler_supervised"), "the second is removed, so it does not run");
    assert_eq!(text.matches("impl :: stagewise :: __private :: Machine for Up").count(), 1);
}

#[test]
fn a_transition_an_earlier_one_shadows_is_an_error() {
    let item = |first: TokenStream, second: TokenStream| {
        quote! {
            enum S {
                #[initial] #[on(#first => Done)] #[on(#second => stay)] Idle,
                #[terminal] Done,
                #[failed] Failed(String),
            }
        }
    };
    let shadowed = [
        (quote!(Ev::Line), quote!(Ev::Line(line))),
        (quote!(Ev::Line(_)), quote!(Ev::Line(x))),
        (quote!(Ev::Line(l)), quote!(Ev::Line(Some(x)))),
        (quote!(Ev::Start), quote!(Ev::Start)),
        (quote!(Ev::Failed { .. }), quote!(Ev::Failed { message })),
    ];
    for (first, second) in shadowed {
        let e = errors(keys(), item(first.clone(), second.clone()));
        assert_eq!(e.len(), 1, "{first} then {second}: {e:?}");
        assert!(e[0].starts_with("this transition never fires: state `Idle` already has one on"), "{e:?}");
    }
    let reachable = [
        (quote!(Ev::Line(Some(x))), quote!(Ev::Line(line))),
        (quote!(Ev::Line(None)), quote!(Ev::Line(l))),
        (quote!(Ev::Start), quote!(Ev::Line(l))),
    ];
    for (first, second) in reachable {
        assert_eq!(errors(keys(), item(first.clone(), second.clone())), Vec::<String>::new(), "{first} then {second}");
    }
}

#[test]
fn a_generic_state_enum_is_one_error_and_its_impls_name_it_concretely() {
    let item = quote! {
        enum S<T> {
            #[initial] #[on(Ev::Start => Done)] Idle,
            #[terminal] Done,
            #[failed] Failed(String),
            Never(T),
        }
    };
    let out = expand(Mode::Handler, keys(), item);
    assert_eq!(messages(&out).len(), 1);
    let text = out.to_string();
    assert!(text.contains("StateVariant for S < () >"), "{text}");
    assert!(text.contains("type State = S < () >"), "{text}");
}

#[test]
fn action_lists_are_checked() {
    let with = |lists: TokenStream| {
        let args = quote!(stage = Up, event = Ev, action = Act, context = Ctx, failure = Ev::Error, #lists);
        errors(args, two_state_enum())
    };
    assert_eq!(with(quote!(action_lists(a = [Act::X], a = [Act::Y]))), ["the action list `a` is declared twice"]);
    assert_eq!(with(quote!(action_lists(a = Act::X))), ["an action list is a list in brackets: `a = [Action::Close]`"]);
    assert_eq!(with(quote!(ignore = Ev::Tick)).len(), 1);
    let item = quote! {
        enum S {
            #[initial] #[on(Ev::Start => Done)] Idle,
            #[terminal] Done,
            #[failed] Failed(String, u32),
        }
    };
    let e = errors(keys(), item);
    assert_eq!(e.len(), 1);
    assert!(e[0].ends_with("to carry more, name a function that builds it: `#[failed(Stage::failed_state)]`"), "{e:?}");
}

#[test]
fn inbox_takes_a_field_name_and_a_transposed_key_is_read_as_it() {
    let mut args = keys();
    args.extend(quote!(, inbox = self.events));
    assert_eq!(
        errors(args, uppercase()),
        ["`inbox` names the stage's field that holds its `EventInbox`: `inbox = events`"]
    );
    let mut args = keys();
    args.extend(quote!(, inbxo = events));
    let e = errors(args, uppercase());
    assert_eq!(e.len(), 1, "read as `inbox`, nothing more: {e:?}");
    assert!(e[0].starts_with("unknown key `inbxo` in #[handler_supervised]: did you mean `inbox`?"), "{e:?}");
}
