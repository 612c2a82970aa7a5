//! `#[dispatch(Stage::method, sync)]`: the model it reads, the call it generates (no future, or a lazy one for the
//! inbox), and one error saying what to write for each mistake in the option.

use quote::quote;

use super::*;
use crate::model::{Dispatch, Policy};

fn machine(dispatch: TokenStream) -> TokenStream {
    quote! {
        enum S {
            #[initial] #[dispatch(#dispatch)] #[on(Ev::Eof => Done)] Running,
            #[terminal] Done,
            #[failed] Failed(String),
        }
    }
}

fn one(dispatch: TokenStream) -> String {
    let e = errors(keys(), machine(dispatch));
    assert_eq!(e.len(), 1, "{e:?}");
    e.into_iter().next().expect("one")
}

#[test]
fn sync_is_read_as_a_plain_method_that_polls() {
    for written in [quote!(Up::next, sync), quote!(Up::next, sync,)] {
        let m = model(keys(), machine(written));
        let (dispatch, _) = m.states[0].dispatch.as_ref().expect("a dispatch");
        assert!(matches!(dispatch, Dispatch::CallSync(path) if path.segments.len() == 2));
        assert_eq!(m.states[0].policy(), Policy::Poll);
    }
    let m = model(keys(), machine(quote!(Up::next)));
    assert!(matches!(m.states[0].dispatch, Some((Dispatch::Call(_), _))));
}

#[test]
fn a_sync_method_is_called_in_the_dispatch_block_without_a_future() {
    let out = expand(Mode::Handler, keys(), machine(quote!(Up::next, sync))).to_string();
    let p = ":: stagewise :: __private ::";
    let call = format!(
        "S :: Running {{ .. }} => {p} dispatched ({p} dispatch_sync :: < Self , Self :: Context , Self :: Event , _ > \
         (Up :: next , __stage , __ctx))"
    );
    assert!(out.contains(&call), "{out}");
    assert!(!out.contains(&format!("{p} dispatch ::")) && !out.contains(". await"), "no future awaited: {out}");
}

#[test]
fn with_an_inbox_a_sync_method_runs_when_its_future_is_first_polled() {
    let mut args = keys();
    args.extend(quote!(, inbox = events));
    let out = expand(Mode::Handler, args, machine(quote!(Up::next, sync))).to_string();
    let p = ":: stagewise :: __private ::";
    let raced = format!(
        "S :: Running {{ .. }} => {p} with_inbox :: < Self , _ > (__inbox , __state , {p} dispatch_sync_future :: < \
         Self , Self :: Context , Self :: Event , _ > (Up :: next , __stage , __ctx)) . await"
    );
    assert!(out.contains(&raced), "{out}");
}

#[test]
fn an_unknown_option_is_one_error_with_a_did_you_mean() {
    let e = one(quote!(Up::next, snyc));
    assert!(e.starts_with("unknown option `snyc` in #[dispatch]: did you mean `sync`?"), "{e}");
    assert!(e.contains("`#[dispatch(Stage::next, sync)]`"), "{e}");
    let e = one(quote!(Up::next, blocking));
    assert!(e.starts_with("unknown option `blocking` in #[dispatch]\n"), "{e}");
}

#[test]
fn a_missing_repeated_or_odd_option_is_one_error_saying_what_to_write() {
    let e = one(quote!(Up::next, sync, sync));
    assert!(e.starts_with("`sync` is written once"), "{e}");
    let e = one(quote!(Up::next, = sync));
    assert!(e.starts_with("the one option after the method is `sync`"), "{e}");
    let e = one(quote!(Up::next, sync = true));
    assert!(e.starts_with("the one option after the method is `sync`"), "{e}");
    for two in [quote!(Up::next Up::other), quote!(Up::next, Up::other), quote!(Up::next, ::up::Up::other)] {
        let e = one(two);
        assert!(e.starts_with("`#[dispatch]` takes one method path"), "{e}");
    }
}
