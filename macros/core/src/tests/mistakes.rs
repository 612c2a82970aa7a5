//! Mistakes a new user makes, each one error saying what to write, and read as what was meant where it is clear.

use quote::quote;

use super::*;

fn with_running(running: TokenStream) -> TokenStream {
    quote! {
        enum S {
            #[initial] #[on(Ev::Start => Running)] Idle,
            #running
            Running,
            #[terminal] Done,
            #[failed] Failed(String),
        }
    }
}

fn one(args: TokenStream, item: TokenStream) -> String {
    let e = errors(args, item);
    assert_eq!(e.len(), 1, "{e:?}");
    e.into_iter().next().expect("one")
}

#[test]
fn dispatch_written_as_a_call_or_on_self_or_emit_without_equals() {
    let e = one(keys(), with_running(quote!(#[dispatch(Up::next())])));
    assert!(e.starts_with("name the method without calling it: `#[dispatch(Up::next)]`"), "{e}");
    let e = one(keys(), with_running(quote!(#[dispatch(self.next)])));
    assert!(e.starts_with("`#[dispatch]` names the method by its path, not a call on `self`"), "{e}");
    let e = one(keys(), with_running(quote!(#[dispatch(emit Ev::Eof)])));
    assert!(e.starts_with("write `emit = Event::X`"), "{e}");
}

#[test]
fn transitions_say_the_arrow_and_the_lists_to_write() {
    let e = one(keys(), with_running(quote!(#[on(Ev::Eof -> Done)])));
    assert!(e.starts_with("write `=>` between the events and the target"), "{e}");
    let e = one(keys(), with_running(quote!(#[on(Ev::Eof => Done, actions = Act::Flush)])));
    assert!(e.starts_with("`actions` lists actions in brackets: `actions = [Action::Flush]`"), "{e}");
    let e = one(keys(), with_running(quote!(#[on(Ev::Eof => Done, to = [Done])])));
    assert!(e.starts_with("`Done` is a state: `=> Done` goes there"), "{e}");
}

#[test]
fn timeout_keys_are_checked_and_a_near_miss_read_as_meant() {
    let e = one(keys(), with_running(quote!(#[timeout(secs = 1, evnet = Ev::Eof)])));
    assert!(e.starts_with("unknown key `evnet` in #[timeout]: did you mean `event`?"), "{e}");
    let e = one(keys(), with_running(quote!(#[timeout(secs = 1.5, event = Ev::Eof)])));
    assert!(e.starts_with("`secs` takes a whole number"), "{e}");
    let e = one(keys(), with_running(quote!(#[timeout(5, Ev::Eof)])));
    assert!(e.starts_with("`#[timeout]` takes keys"), "{e}");
}

#[test]
fn keys_misspelt_or_written_as_references_are_read_as_meant() {
    let mut args = keys();
    args.extend(quote!(, control(strat = Ev::Start)));
    let e = one(args, with_running(quote!()));
    assert!(e.starts_with("unknown control message `strat`: did you mean `start`?"), "{e}");
    let e = one(
        quote!(stage = Up, event = Ev, action = Act, context = &mut Ctx, failure = Ev::Error),
        with_running(quote!()),
    );
    assert!(e.starts_with("`context` takes the type itself, not a reference: `context = Ctx`"), "{e}");
    let mut args = keys();
    args.extend(quote!(, ignore = Ev::Tick));
    let e = one(args, with_running(quote!()));
    assert!(e.starts_with("`ignore` lists events in brackets"), "{e}");
}

#[test]
fn a_transition_on_the_failure_event_names_it() {
    let args = quote!(stage = Up, event = Ev, action = Act, context = Ctx, failure = Ev::Eof);
    let e = one(args, with_running(quote!(#[on(Ev::Eof => Done)])));
    assert!(e.starts_with("`Ev::Eof` is the failure event (`failure = ..`)"), "{e}");
}

#[test]
fn a_struct_failure_variant_may_be_written_as_rustc_suggests_it() {
    let args = quote!(stage = Up, event = Ev, action = Act, context = Ctx, failure = Ev::Failed { message: _ });
    let m = model(args, with_running(quote!()));
    let failure = m.args.failure.expect("parsed");
    assert_eq!(failure.shape, crate::model::FailureShape::Named(syn::parse_quote!(message)));
}

#[test]
fn a_key_with_a_colon_or_abbreviated_is_one_error_and_still_read() {
    let args = quote!(stage: Up, event = Ev, action = Act, context = Ctx, failure = Ev::Error);
    let e = one(args.clone(), with_running(quote!()));
    assert!(e.starts_with("write `stage = ..`: a key takes its value after `=`, not `:`"), "{e}");
    let (model, _) = analyze(Mode::Handler, args, with_running(quote!()));
    assert!(model.is_err(), "an error");
    let args = quote!(stage = Up, event = Ev, action = Act, ctx = Ctx, failure = Ev::Error);
    let e = one(args, with_running(quote!()));
    assert!(e.starts_with("unknown key `ctx` in #[handler_supervised]: did you mean `context`?"), "{e}");
}

#[test]
fn an_ignored_event_written_as_a_pattern_is_one_error_saying_the_path() {
    let args = keys_with(quote!(ignore = [Ev::Line(_), Ev::Eof]));
    let e = one(args, with_running(quote!()));
    assert!(
        e.starts_with("an ignore list names the event's variant, which drops it whatever it carries: write `Ev::Line`"),
        "{e}"
    );
    let e = one(keys(), with_running(quote!(#[ignore(Ev::Tick, Ev::Bad { .. })])));
    assert!(e.ends_with("write `Ev::Bad`"), "{e}");
}

#[test]
fn an_ignore_that_never_applies_is_one_error() {
    let args = keys_with(quote!(ignore = [Ev::Error, Ev::Tick]));
    let e = one(args, with_running(quote!()));
    assert!(e.starts_with("the failure event takes the failure path in every state: it cannot be ignored"), "{e}");
    let e = one(keys(), with_running(quote!(#[ignore(Ev::Eof)] #[on(Ev::Eof => Done)])));
    assert!(e.starts_with("state `Running` has a transition on `Ev::Eof` that takes every one"), "{e}");
    // A transition that takes some values leaves the ignore the rest.
    assert!(errors(keys(), with_running(quote!(#[ignore(Ev::Code)] #[on(Ev::Code(3) => Done)]))).is_empty());
}
