//! A stage type one typo away from the type the machine's methods name: stubs on that type too, guarded.

use quote::quote;

use super::*;
use crate::stage_typo::suspect;

fn machine(dispatch: TokenStream) -> TokenStream {
    quote! {
        enum S {
            #[initial] #[on(Ev::Start => Running)] Idle,
            #[dispatch(#dispatch)] #[on(Ev::Eof => Done)] Running,
            #[terminal] Done,
            #[failed] Failed(String),
        }
    }
}

fn args(stage: TokenStream) -> TokenStream {
    quote!(stage = #stage, event = Ev, action = Act, context = Ctx, failure = Ev::Error, on_failure = [])
}

fn flat(tokens: &TokenStream) -> String {
    tokens.to_string().replace(' ', "")
}

#[test]
fn a_method_of_a_type_one_typo_from_the_stage_gets_guarded_stubs() {
    let m = model(args(quote!(Upp)), machine(quote!(Up::next)));
    assert_eq!(suspect(&m).map(ToString::to_string).as_deref(), Some("Up"));
    let out = flat(&expand(Mode::Handler, args(quote!(Upp)), machine(quote!(Up::next))));
    assert!(out.contains("::stagewise::__private::MachineforUpwhereUp:::stagewise::__private::StageMethodOf<Upp>"));
    assert!(out.contains("::stagewise::__private::HandlerSupervisedforUpwhereUp"));
    // Called as `<Up>::next`, so a missing `Up` is the stubs' own "cannot find type" error, reported once.
    assert!(out.contains("(<Up>::next,"), "{out}");
    // The supervisor itself is still for the stage as written.
    assert!(out.contains("::stagewise::__private::MachineforUpp{"));
}

#[test]
fn the_stage_own_methods_and_other_paths_are_not_suspects() {
    for dispatch in [quote!(Up::next), quote!(next), quote!(Self::next), quote!(up::next), quote!(crate::Upp::next)] {
        let m = model(args(quote!(Up)), machine(dispatch.clone()));
        assert_eq!(suspect(&m), None, "{dispatch}");
    }
    // A type far from the stage's name is another type's function, taken as written.
    let m = model(args(quote!(Up)), machine(quote!(Reader::next)));
    assert_eq!(suspect(&m), None);
    let out = flat(&expand(Mode::Handler, args(quote!(Up)), machine(quote!(Reader::next))));
    assert!(!out.contains("StageMethodOf"));
}

#[test]
fn beside_errors_the_suspect_gets_the_stubs_too() {
    let out = expand(
        Mode::Handler,
        args(quote!(Upp)),
        quote!(
            enum S {
                #[dispatch(Up::next)]
                Running,
            }
        ),
    );
    assert!(!messages(&out).is_empty());
    assert!(flat(&out).contains("MachineforUpwhereUp:::stagewise::__private::StageMethodOf<Upp>"));
}
