//! Properties of the generated code: determinism, paths, the failure edge, dispatch, the Mermaid diagram.
#![allow(unused_imports)]

use proc_macro2::{TokenStream, TokenTree};
use quote::quote;

use super::*;
use crate::expand::{analyze, expand};
use crate::model::{Dispatch, EndingKind, FailureShape, Mode, Policy, Target};
use crate::{derive, mermaid};

#[test]
fn expansion_is_deterministic() {
    let a = expand(Mode::Handler, keys(), uppercase()).to_string();
    let b = expand(Mode::Handler, keys(), uppercase()).to_string();
    assert_eq!(a, b);
}

/// Every absolute path in generated code starts with `::core` or the runtime crate path.
fn absolute_roots(tokens: TokenStream, out: &mut Vec<String>) {
    let trees: Vec<TokenTree> = tokens.into_iter().collect();
    for (i, tt) in trees.iter().enumerate() {
        if let TokenTree::Group(g) = tt {
            absolute_roots(g.stream(), out);
        }
        let is_colon = |t: Option<&TokenTree>| matches!(t, Some(TokenTree::Punct(p)) if p.as_char() == ':');
        let prev_is_path = i > 0
            && matches!(trees.get(i - 1), Some(TokenTree::Ident(_) | TokenTree::Punct(_)))
            && !matches!(trees.get(i - 1), Some(TokenTree::Punct(p)) if p.as_char() != ':' && p.as_char() != '>');
        if is_colon(Some(tt)) && is_colon(trees.get(i + 1)) && !prev_is_path && !is_colon(trees.get(i.wrapping_sub(1)))
        {
            if let Some(TokenTree::Ident(root)) = trees.get(i + 2) {
                out.push(root.to_string());
            }
        }
    }
}

#[test]
fn generated_code_names_only_core_and_the_runtime() {
    let item = uppercase();
    let out = expand(Mode::Handler, keys(), item);
    let mut roots = Vec::new();
    absolute_roots(out, &mut roots);
    assert!(!roots.is_empty());
    for root in roots {
        assert!(root == "core" || root == "stagewise", "generated code names ::{root}");
    }
}

#[test]
fn crate_override_changes_every_runtime_path() {
    let args = quote!(stage = Up, event = Ev, action = Act, context = Ctx, failure = Ev::Error, crate = ::sw);
    let out = expand(Mode::Handler, args, uppercase()).to_string();
    assert!(out.contains(":: sw :: __private :: Machine"));
    assert!(!out.contains("stagewise"));
}

/// How the failed state's field receives the message.
const FIELD: &str = "< String as :: stagewise :: __private :: FailedStateField > :: from_failure (message)";

/// How every failure arm reads the message out of the failure event.
const CODEC: &str = ":: stagewise :: __private :: failure_codec (__Failure :: Error , | __event | match __event { __Failure :: Error (__field) => __field , _ => :: core :: unreachable ! (\"the failure event\") , }) . take (__event) ;";

#[test]
fn failure_transition_is_generated_once_idempotent_and_overridable() {
    let out = expand(Mode::Handler, keys(), uppercase()).to_string();
    let idempotent =
        "(UppercaseState :: Failed { .. } , __Failure :: Error (..)) => :: stagewise :: __private :: Decision :: Stay";
    let take = format!("let message : :: stagewise :: __private :: String = {CODEC}");
    let override_ = format!("(UppercaseState :: Running {{ .. }} , __event @ __Failure :: Error (..)) => {{ {take} let next = UppercaseState :: Failed ({FIELD}) ; :: stagewise :: __private :: Decision :: goto_with (next , {}) }}", action_list(&["Act :: Flush"]));
    let any = format!("(_ , __event @ __Failure :: Error (..)) => {{ {take} let next = UppercaseState :: Failed ({FIELD}) ; :: stagewise :: __private :: Decision :: goto_with (next , {}) }}", action_list(&["Act :: Cleanup"]));
    let (i, o, a) = (out.find(idempotent), out.find(&override_), out.find(&any));
    assert!(i.is_some() && o.is_some() && a.is_some(), "{out}");
    assert!(i < o && o < a, "failed state first, per-state overrides next, the any-state edge last");
    assert_eq!(out.matches("__event @ __Failure :: Error (..)) =>").count(), 2);
}

#[test]
fn failure_actions_may_use_the_message() {
    let args = keys_with(quote!(on_failure = [Act::Report(message), Act::Close]));
    let out = expand(Mode::Handler, args.clone(), uppercase()).to_string();
    let message = format!("let message : :: stagewise :: __private :: String = {CODEC}");
    let arm = format!("(_ , __event @ __Failure :: Error (..)) => {{ {message} let next = UppercaseState :: Failed (< String as :: stagewise :: __private :: FailedStateField > :: from_failure (:: core :: clone :: Clone :: clone (& message))) ; :: stagewise :: __private :: Decision :: goto_with (next , {}) }}", action_list(&["Act :: Report (message)", "Act :: Close"]));
    assert!(out.contains(&arm), "{out}");
    // A unit failed state binds it too: the actions still get the message.
    let unit = quote! {
        enum S {
            #[initial] #[on(Ev::Start => Done)] Idle,
            #[terminal] Done,
            #[failed] Failed,
        }
    };
    let out = expand(Mode::Handler, args, unit).to_string();
    let arm = format!("(_ , __event @ __Failure :: Error (..)) => {{ {message} let next = S :: Failed ; :: stagewise :: __private :: Decision :: goto_with (next , {}) }}", action_list(&["Act :: Report (message)", "Act :: Close"]));
    assert!(out.contains(&arm), "{out}");
}

#[test]
fn blocking_and_plain_states_wait_and_terminal_states_terminate() {
    let out = expand(Mode::Handler, keys(), uppercase()).to_string();
    assert!(out.contains("UppercaseState :: Created { .. } => :: core :: future :: pending () . await"));
    assert!(out.contains("UppercaseState :: Drained { .. } => :: core :: result :: Result :: Ok (:: stagewise :: __private :: Directive :: Terminate)"));
    // The method's own future, awaited in the dispatch block with no wrapper future, its output mapped by a function.
    assert!(out.contains("UppercaseState :: Running { .. } => :: stagewise :: __private :: dispatched (:: stagewise :: __private :: dispatch :: < Self , Self :: Context , Self :: Event , _ > (Up :: next_line , __stage , __ctx) . await)"), "{out}");
}

#[test]
fn mermaid_draws_declared_to_list_failure_initial_and_terminal_edges() {
    let m = model(keys(), uppercase());
    let d = mermaid::diagram(&m);
    let expected = "stateDiagram-v2
    [*] --> Created
    Created --> Running: Start
    Running --> Running: Line / Up::on_line()
    Running --> Drained: Eof
    Drained --> [*]
    Failed --> [*]
    %% generated: the failure transition from every state that is not terminal
    Created --> Failed: Error (failure)
    Running --> Failed: Error (failure)
    classDef failure fill:#fde2e2,stroke:#c0392b
    class Failed failure
";
    assert_eq!(d, expected);
}

#[test]
fn self_supervised_has_no_stage_id() {
    let out = expand(Mode::SelfSupervised, keys(), uppercase()).to_string();
    assert!(out.contains("SelfSupervised for Up"));
    assert!(!out.contains("StageFields"));
    assert!(!out.contains("HandlerSupervised"));
}

#[test]
fn state_enum_rustdoc_draws_the_machine_with_dashed_failure_edges() {
    let out = expand(Mode::Handler, keys(), uppercase());
    let item: syn::File = syn::parse2(out).expect("expansion parses");
    let syn::Item::Enum(e) = &item.items[0] else { panic!("the enum comes first") };
    let docs: Vec<String> = e
        .attrs
        .iter()
        .filter_map(|a| match &a.meta {
            syn::Meta::NameValue(nv) if nv.path.is_ident("doc") => match &nv.value {
                syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(s), .. }) => Some(s.value()),
                _ => None,
            },
            _ => None,
        })
        .collect();
    assert_eq!(docs.len(), 1, "one doc attribute: {docs:?}");
    let doc = &docs[0];
    assert!(doc.starts_with("\n<pre class=\"mermaid\">\nflowchart TD\n"), "{doc}");
    assert!(doc.contains("s_Created --&gt;|\"Start\"| s_Running"), "declared edge solid: {doc}");
    assert!(doc.contains("s_Running -.-&gt;|\"Error (failure)\"| s_Failed"), "failure edge dashed: {doc}");
    assert!(!doc.contains("s_Drained -.-&gt;"), "no failure edge leaves a terminal state: {doc}");
    assert!(doc.contains("start_((\" \")) --&gt; s_Created"), "{doc}");
    assert!(!doc.contains('<') || doc.matches('<').count() == 2, "only the pre tags are HTML: {doc}");
    assert!(doc.contains("</pre>"));
}

#[test]
fn unhandled_key_hands_every_event_no_transition_takes_to_the_stage_hook() {
    let args = quote!(stage = Up, event = Ev, action = Act, context = Ctx, failure = Ev::Error, unhandled = Up::stray);
    let out = expand(Mode::Handler, args, uppercase()).to_string();
    // The last arm of the transition, after the generated failure edge: the hook decides, with the event and context.
    let decide = ":: stagewise :: __private :: decide :: < Self :: State , Self :: Event , Self :: Context , Self :: Action , _ >";
    assert!(
        out.contains(&format!("(__state , __event) => {decide} (Up :: stray , __state , __event , __ctx) ,")),
        "{out}"
    );
    assert!(!out.contains("_ => :: stagewise :: __private :: Decision :: Unhandled"), "no second catch-all: {out}");
    let failure_edge = out.find("__event @ __Failure :: Error").expect("failure edge");
    assert!(failure_edge < out.find("Up :: stray").unwrap(), "the failure event never reaches the hook: {out}");
    let default = expand(Mode::Handler, keys(), uppercase()).to_string();
    assert!(default.contains("_ => :: stagewise :: __private :: Decision :: Unhandled"), "default kept: {default}");
    let args = quote!(stage = Up, event = Ev, action = Act, context = Ctx, failure = Ev::Error, unhandled = stray);
    let out = expand(Mode::Handler, args, uppercase()).to_string();
    assert!(out.contains("(Self :: stray , __state , __event , __ctx)"), "a bare name is the stage's own: {out}");
}

#[test]
fn completion_key_writes_the_completion_through_the_stage_method() {
    let args =
        quote!(stage = Up, event = Ev, action = Act, context = Ctx, failure = Ev::Error, completion = Up::finish);
    let out = expand(Mode::Handler, args, uppercase()).to_string();
    assert!(out.contains("fn write_completion_event (& mut self , __ctx : & mut Self :: Context ,)"), "{out}");
    let complete = ":: stagewise :: __private :: complete :: < Self , Self :: Context , _ >";
    assert!(out.contains(&format!("async move {{ {complete} (Up :: finish , self , __ctx) . await }}")), "{out}");
    assert!(!expand(Mode::Handler, keys(), uppercase()).to_string().contains("write_completion_event"), "default kept");
    let out = expand(
        Mode::SelfSupervised,
        quote!(stage = Up, event = Ev, action = Act, context = Ctx, failure = Ev::Error, completion = finish),
        uppercase(),
    )
    .to_string();
    assert!(out.contains("(Self :: finish , self , __ctx)"), "a bare name is the stage's own: {out}");
}

#[test]
fn enum_level_ignore_list_is_dropped_in_every_state_after_the_states_own() {
    let args = keys_with(quote!(ignore = [Ev::Tick, Ev::Noise]));
    let item = quote! {
        enum S {
            #[initial] #[ignore(Ev::Line)] #[on(Ev::Start => Done)] Idle,
            #[terminal] Done,
            #[failed] Failed(String),
        }
    };
    let out = expand(Mode::Handler, args, item).to_string();
    let own = "(S :: Idle { .. } , Ev :: Line { .. }) => :: stagewise :: __private :: Unhandled :: Ignore";
    let every = "(_ , Ev :: Tick { .. } | Ev :: Noise { .. }) => :: stagewise :: __private :: Unhandled :: Ignore";
    let (o, e) = (out.find(own), out.find(every));
    assert!(o.is_some() && e.is_some() && o < e, "{out}");
}

#[test]
fn named_action_lists_are_spliced_wherever_actions_are_listed() {
    let args = keys_with(quote!(
        action_lists(teardown = [Act::Flush, Act::Close], note = [Act::Log(message)]),
        on_failure = [note, teardown],
    ));
    let item = quote! {
        enum S {
            #[initial]
            #[entry(teardown)]
            #[on(Ev::Start => Done, actions = [Act::Open, teardown])]
            #[on_failure(teardown)]
            Idle,
            #[terminal] Done,
            #[failed] Failed(String),
        }
    };
    let m = model(args, item);
    let text = |exprs: &[syn::Expr]| quote!(#(#exprs),*).to_string();
    assert_eq!(text(&m.args.on_failure), "Act :: Log (message) , Act :: Flush , Act :: Close");
    assert_eq!(text(&m.states[0].entry), "Act :: Flush , Act :: Close");
    assert_eq!(text(&m.states[0].transitions[0].actions), "Act :: Open , Act :: Flush , Act :: Close");
    assert_eq!(text(&m.states[0].on_failure.as_ref().unwrap().0), "Act :: Flush , Act :: Close");
}

#[test]
fn a_failed_state_carrying_more_is_built_by_the_users_function() {
    let item = quote! {
        enum S {
            #[initial] #[on(Ev::Start => Done)] Idle,
            #[terminal] Done,
            #[failed(Up::failed_state)] Failed { reason: String, attempts: u32 },
        }
    };
    let out = expand(Mode::Handler, keys(), item);
    assert_eq!(messages(&out), Vec::<String>::new(), "any shape, with a builder");
    let out = out.to_string();
    let build = ":: stagewise :: __private :: build_failed :: < Self :: State , Self :: Context , _ >";
    assert!(out.contains(&format!("let next = {build} (Up :: failed_state , __state , message , __ctx) ;")), "{out}");
}

#[test]
fn inbox_key_races_the_stages_own_events_under_each_states_policy() {
    let mut args = keys();
    args.extend(quote!(, inbox = events));
    let m = model(args.clone(), uppercase());
    assert!(matches!(&m.args.inbox, Some(syn::Member::Named(field)) if field == "events"));
    let out = expand(Mode::Handler, args, uppercase()).to_string();
    let p = ":: stagewise :: __private ::";
    assert!(
        out.contains(&format!("let __inbox = {p} InboxReader :: < Self :: Event > :: of (& __stage . events) ;")),
        "{out}"
    );
    // The blocking state waits for an event (told to the run loop as polling, so its dispatch is called)...
    assert!(
        out.contains(&format!(
            "UppercaseState :: Created {{ .. }} => {p} wait_inbox :: < Self > (__inbox , __state) . await"
        )),
        "{out}"
    );
    assert!(out.contains(&format!("UppercaseState :: Created {{ .. }} => {p} ControlPolicy :: Poll")), "{out}");
    // ...the polling state races its work against the inbox, and the terminal state never reads it.
    assert!(
        out.contains(&format!(
            "UppercaseState :: Running {{ .. }} => {p} with_inbox :: < Self , _ > (__inbox , __state , {p} dispatch_future"
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "UppercaseState :: Drained {{ .. }} => :: core :: result :: Result :: Ok ({p} Directive :: Terminate)"
        )),
        "{out}"
    );

    // A state that ignores control leaves the inbox unread; without the key, nothing reads one.
    let ignoring = quote! {
        pub enum S {
            #[initial] #[control(ignore)] #[dispatch(Up::next)] #[on(Ev::Eof => Done)] Busy,
            #[terminal] Done,
            #[failed] Failed(String),
        }
    };
    let mut args = keys();
    args.extend(quote!(, inbox = events));
    let out = expand(Mode::Handler, args, ignoring.clone()).to_string();
    assert!(!out.contains("with_inbox") && !out.contains("wait_inbox"), "{out}");
    let plain = expand(Mode::Handler, keys(), uppercase()).to_string();
    assert!(!plain.contains("InboxReader"), "{plain}");
    assert!(plain.contains(&format!("UppercaseState :: Created {{ .. }} => {p} ControlPolicy :: Block")), "{plain}");
}

#[test]
fn a_tuple_failure_path_is_checked_once_and_named_through_the_checked_alias() {
    let out = expand(Mode::Handler, keys(), uppercase()).to_string();
    let check = "type __Failure = < Ev as :: stagewise :: __private :: CheckedFailure < { let _ = | __event : Ev | match __event { Ev :: Error (__field) => { let _ = __field ; } _ => { } } ; 0 } >> :: Out ;";
    // Declared in both functions that name the variant, the same tokens (rustc reports a failed check once).
    assert_eq!(out.matches(check).count(), 2, "{out}");
    assert_eq!(out.matches("Ev :: Error").count(), 2, "the written path is used in the checks alone: {out}");
    // A generic stage cannot name its event type in a constant: the path is used as written.
    let generic = quote!(stage = <T> Up<T>, event = Ev, action = Act, context = Ctx, failure = Ev::Error);
    let out = expand(Mode::Handler, generic, uppercase()).to_string();
    assert!(!out.contains("__Failure") && out.contains("__event @ Ev :: Error { .. }"), "{out}");
    // So is a struct variant's (`failure = Ev::Error { message }`).
    let named = quote!(stage = Up, event = Ev, action = Act, context = Ctx, failure = Ev::Error { message });
    let out = expand(Mode::Handler, named, uppercase()).to_string();
    assert!(!out.contains("__Failure") && out.contains("Ev :: Error { message : __field }"), "{out}");
}

#[test]
fn an_emitted_event_is_the_dispatch_blocks_value_and_a_future_only_for_the_inbox() {
    let states = quote! {
        enum S {
            #[initial] #[dispatch(emit = Ev::Start)] #[on(Ev::Start => Done)] Idle,
            #[terminal] Done,
            #[failed] Failed(String),
        }
    };
    let out = expand(Mode::Handler, keys(), states.clone()).to_string();
    let value = "S :: Idle { .. } => :: core :: result :: Result :: Ok (:: stagewise :: __private :: Directive :: Transition ({ let __emitted : Self :: Event = Ev :: Start ; __emitted }))";
    assert!(out.contains(value) && !out.contains("future :: ready"), "no `ready(..).await`: {out}");
    let args = quote!(stage = Up, event = Ev, action = Act, context = Ctx, failure = Ev::Error, inbox = events);
    let out = expand(Mode::Handler, args, states).to_string();
    assert!(out.contains("with_inbox :: < Self , _ > (__inbox , __state , :: core :: future :: ready (:: core :: result :: Result :: Ok"), "{out}");
}
