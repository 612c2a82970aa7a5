//! What the parser reads into the model: keys, states, transitions, names, event patterns.
#![allow(unused_imports)]

use proc_macro2::{TokenStream, TokenTree};
use quote::quote;

use super::*;
use crate::expand::{analyze, expand};
use crate::model::{Dispatch, EndingKind, FailureShape, Mode, Policy, Target};
use crate::{derive, mermaid};

#[test]
fn model_reads_keys_states_and_transitions_in_source_order() {
    let m = model(keys(), uppercase());
    assert_eq!(m.ident, "UppercaseState");
    assert_eq!(m.default_supervisor_name(), "up");
    assert_eq!(crate::model::snake_case("AccessLog"), "access_log");
    assert_eq!(crate::model::snake_case("HTTPServer"), "http_server");
    assert_eq!(m.args.on_failure.len(), 1);
    assert_eq!(m.args.failure.as_ref().unwrap().shape, FailureShape::Tuple);
    let names: Vec<String> = m.states.iter().map(|s| s.ident.to_string()).collect();
    assert_eq!(names, ["Created", "Running", "Drained", "Failed"]);
    assert_eq!(m.initial().unwrap().ident, "Created");
    assert_eq!(m.failed().unwrap().ident, "Failed");
    assert_eq!(m.states[0].policy(), Policy::Block);
    assert_eq!(m.states[1].policy(), Policy::Poll);
    let waits = model(
        keys(),
        quote!(
            enum S {
                #[initial]
                #[on(Ev::Start => B)]
                A,
                #[dispatch(emit = Ev::Eof)]
                B,
                #[failed]
                F,
            }
        ),
    );
    assert_eq!(waits.states[0].policy(), Policy::Block, "a state with no work waits for control messages");
    assert_eq!(waits.states[1].policy(), Policy::Poll);
    assert_eq!(m.states[2].policy(), Policy::Ignore, "terminal states ignore the control channel");
    assert_eq!(m.states[2].ending_kind(), Some(EndingKind::Completed));
    assert!(matches!(m.states[1].dispatch, Some((Dispatch::Call(_), _))));
    let running = &m.states[1];
    assert!(matches!(&running.transitions[0].target, Target::Call(p) if quote!(#p).to_string() == "Up :: on_line"));
    assert_eq!(running.transitions[0].to.as_ref().unwrap()[0], "Running");
    assert!(matches!(&running.transitions[1].target, Target::State(s) if s == "Drained"));
    assert_eq!(running.transitions[1].actions.len(), 1);
    assert!(running.on_failure.is_some());
}

#[test]
fn variant_attributes_are_stripped_and_others_kept() {
    let out = expand(Mode::Handler, keys(), uppercase()).to_string();
    assert!(!out.contains("# [initial]"), "{out}");
    assert!(!out.contains("# [on ("), "{out}");
    assert!(out.contains("# [derive (Clone , Debug)]"));
}

#[test]
fn struct_failure_event_and_generic_stage_are_parsed() {
    let m = model(
        quote!(stage = <H: Handler + 'static> Worker<H>, event = Ev, action = Act, context = Ctx<H>, failure = Ev::Failed { reason }),
        quote!(
            enum S {
                #[initial]
                #[dispatch(wait)]
                A,
                #[failed]
                F { why: String },
            }
        ),
    );
    assert_eq!(m.args.failure.as_ref().unwrap().shape, FailureShape::Named(syn::parse_quote!(reason)));
    assert_eq!(m.args.stage.as_ref().unwrap().generics.params.len(), 1);
    assert_eq!(m.default_supervisor_name(), "worker");
}

#[test]
fn name_is_a_literal_or_a_constant_of_the_stage_parameters() {
    let item = quote!(
        enum S {
            #[initial]
            #[dispatch(wait)]
            A,
            #[failed]
            F(String),
        }
    );
    let generic = quote!(stage = <W: Work> Consume<W>, event = Ev, action = Act, context = W, failure = Ev::Error);
    let named = |name: TokenStream| {
        let mut args = generic.clone();
        args.extend(quote!(, name = #name));
        expand(Mode::Handler, args, item.clone()).to_string()
    };
    let supervisor = |out: &str| {
        let at = out.find("Supervisor for Consume < W >").expect("impl Supervisor");
        out[at..].split("fn name (& self) -> & 'static str {").nth(1).unwrap().split('}').next().unwrap().to_owned()
    };
    assert_eq!(
        supervisor(&named(quote!(W::NAME))).trim(),
        ":: stagewise :: __private :: SupervisorName :: name (W :: NAME)",
        "one name per instance of the stage"
    );
    assert_eq!(supervisor(&named(quote!("consume"))).trim(), "\"consume\"");
    assert_eq!(supervisor(&expand(Mode::Handler, generic, item).to_string()).trim(), "\"consume\"", "the default");
}

#[test]
fn event_patterns_bind_data_for_actions() {
    let m = model(
        keys(),
        quote!(
            enum S {
                #[initial]
                #[dispatch(wait)]
                #[on(Ev::Line(line) | Ev::Other { line, .. } => stay, actions = [Act::Store(line)])]
                A,
                #[failed]
                F,
            }
        ),
    );
    assert_eq!(m.states[0].transitions[0].events.len(), 2);
    let out = expand(
        Mode::Handler,
        keys(),
        quote!(
            enum S {
                #[initial]
                #[dispatch(wait)]
                #[on(Ev::Line(line) => stay, actions = [Act::Store(line)])]
                A,
                #[failed]
                F,
            }
        ),
    )
    .to_string();
    let arm = format!(
        "(S :: A {{ .. }} , Ev :: Line (line)) => :: stagewise :: __private :: Decision :: stay_with ({})",
        action_list(&["Act :: Store (line)"])
    );
    assert!(out.contains(&arm), "{out}");
    let e = errors(
        keys(),
        quote!(
            enum S {
                #[initial]
                #[on(Ev::Line(l) => Up::f, to = [A])]
                A,
                #[failed]
                F,
            }
        ),
    );
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(e[0].starts_with("a function transition receives the whole event"));
    let e = errors(
        keys(),
        quote!(
            enum S {
                #[initial]
                #[on(start => A)]
                A,
                #[failed]
                F,
            }
        ),
    );
    assert!(e[0].starts_with("write the event as its variant's path"), "{e:?}");
}
