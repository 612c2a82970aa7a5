//! The machine's inline action capacity: the default unless a declared transition runs more actions (exit, own and
//! entry together, failure edges included), and decisions of function transitions fitted to it.

use quote::quote;

use super::{keys, keys_with, model, uppercase};
use crate::codegen::longest_action_list;
use crate::expand::expand;
use crate::model::Mode;

const DEFAULT: &str = "type ActionCapacity = :: stagewise :: __private :: DefaultCapacity ;";

#[test]
fn a_machine_whose_lists_fit_the_default_keeps_it() {
    let out = expand(Mode::Handler, keys(), uppercase()).to_string();
    assert!(out.contains(DEFAULT), "{out}");
    assert!(!out.contains("into_capacity"), "decisions pass through unchanged: {out}");
    assert_eq!(longest_action_list(&model(keys(), uppercase())), 1);
}

#[test]
fn six_actions_on_a_stay_size_the_capacity_to_six() {
    let item = quote! {
        enum S {
            #[initial]
            #[on(Ev::Tick => stay, actions = [Act::A, Act::B, Act::C, Act::D, Act::E, Act::F])]
            #[on(Ev::Start => Done)]
            Idle,
            #[terminal] Done,
            #[failed] Failed(String),
        }
    };
    let out = expand(Mode::Handler, keys(), item).to_string();
    assert!(out.contains("type ActionCapacity = :: stagewise :: __private :: Inline < 6 > ;"), "{out}");
    assert!(
        out.contains(
            "-> :: stagewise :: __private :: Decision < Self :: State , Self :: Action , Self :: ActionCapacity >"
        ),
        "{out}"
    );
}

#[test]
fn exit_own_and_entry_actions_of_one_transition_count_together() {
    // Idle -> Done runs Idle's two exit actions, its own three and Done's two entry actions: seven in one list.
    let item = quote! {
        enum S {
            #[initial]
            #[exit(Act::A, Act::B)]
            #[on(Ev::Start => Done, actions = [Act::C, Act::D, Act::E])]
            Idle,
            #[terminal]
            #[entry(Act::F, Act::G)]
            Done,
            #[failed] Failed(String),
        }
    };
    assert_eq!(longest_action_list(&model(keys(), item.clone())), 7);
    let out = expand(Mode::Handler, keys(), item).to_string();
    assert!(out.contains("Inline < 7 >"), "{out}");
}

#[test]
fn a_failure_edge_counts_the_failing_states_exit_its_failure_actions_and_the_failed_entry() {
    let args = keys_with(quote!(on_failure = [Act::A, Act::B, Act::C]));
    let item = quote! {
        enum S {
            #[initial]
            #[exit(Act::X)]
            #[on(Ev::Start => Done)]
            Idle,
            #[terminal] Done,
            #[failed]
            #[entry(Act::Y)]
            Failed(String),
        }
    };
    // Idle fails: its exit, the three failure actions, the failed state's entry. The failed state ignores the event.
    assert_eq!(longest_action_list(&model(args.clone(), item)), 5);
}

#[test]
fn a_function_transitions_decision_is_fitted_to_a_larger_capacity() {
    let item = quote! {
        enum S {
            #[initial]
            #[on(Ev::Tick => stay, actions = [Act::A, Act::B, Act::C, Act::D, Act::E])]
            #[on(Ev::Line => Up::on_line, to = [Done])]
            Idle,
            #[terminal] Done,
            #[failed] Failed(String),
        }
    };
    let out = expand(Mode::Handler, keys(), item).to_string();
    assert!(out.contains("Inline < 5 >"), "{out}");
    // Function transitions return the default capacity (their authors cannot know the machine's); it is moved over.
    assert!(out.contains(":: stagewise :: __private :: Decision :: into_capacity (__decision)"), "{out}");
}
