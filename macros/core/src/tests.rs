//! Unit tests of the pure expansion on `parse_quote!` input: the model it reads, the errors it reports (all at once),
//! and properties of what it generates. Fast, and independent of the compiler's own messages.

use proc_macro2::{TokenStream, TokenTree};
use quote::quote;

use crate::model::{Dispatch, EndingKind, FailureShape, Mode, Model, Policy, Target};
use crate::{analyze, derive, expand, mermaid};

fn model(args: TokenStream, item: TokenStream) -> Model {
    match analyze(Mode::Handler, args, item) {
        (Ok(model), _) => model,
        (Err(errors), _) => panic!("expected a valid model, got errors: {:?}", messages(&errors)),
    }
}

/// The messages of every `compile_error!` in `tokens`, in order.
fn messages(tokens: &TokenStream) -> Vec<String> {
    let mut out = Vec::new();
    let trees: Vec<TokenTree> = tokens.clone().into_iter().collect();
    for (i, tt) in trees.iter().enumerate() {
        match tt {
            TokenTree::Ident(ident) if ident == "compile_error" => {
                if let Some(TokenTree::Group(group)) = trees.get(i + 2) {
                    let lit: syn::LitStr = syn::parse2(group.stream()).expect("a string literal");
                    out.push(lit.value());
                }
            }
            TokenTree::Group(group) => out.extend(messages(&group.stream())),
            _ => {}
        }
    }
    out
}

fn errors(args: TokenStream, item: TokenStream) -> Vec<String> {
    messages(&expand(Mode::Handler, args, item))
}

fn keys() -> TokenStream {
    quote!(stage = Up, event = Ev, action = Act, context = Ctx, failure = Ev::Error, on_failure = [Act::Cleanup])
}

fn uppercase() -> TokenStream {
    quote! {
        #[derive(Clone, Debug)]
        pub enum UppercaseState {
            #[initial] #[control(block)]
            #[on(Ev::Start => Running)]
            Created,
            #[dispatch(Up::next_line)]
            #[on(Ev::Line => Up::on_line, to = [Running])]
            #[on(Ev::Eof => Drained, actions = [Act::Flush])]
            #[on_failure(Act::Flush)]
            Running,
            #[terminal] Drained,
            #[failed] Failed(String),
        }
    }
}

#[test]
fn model_reads_keys_states_and_transitions_in_source_order() {
    let m = model(keys(), uppercase());
    assert_eq!(m.ident, "UppercaseState");
    assert_eq!(m.supervisor_name().to_string(), "\"up\"");
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
    assert_eq!(m.supervisor_name().to_string(), "\"worker\"");
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
    assert_eq!(supervisor(&named(quote!(W::NAME))).trim(), "W :: NAME", "one name per instance of the stage");
    assert_eq!(supervisor(&named(quote!("consume"))).trim(), "\"consume\"");
    assert_eq!(supervisor(&expand(Mode::Handler, generic, item).to_string()).trim(), "\"consume\"", "the default");
}

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

#[test]
fn failure_transition_is_generated_once_idempotent_and_overridable() {
    let out = expand(Mode::Handler, keys(), uppercase()).to_string();
    let idempotent =
        "(UppercaseState :: Failed { .. } , Ev :: Error { .. }) => :: stagewise :: __private :: Decision :: Stay";
    let override_ = "(UppercaseState :: Running { .. } , Ev :: Error (message)) => :: stagewise :: __private :: Decision :: goto_with (UppercaseState :: Failed (message) , [Act :: Flush])";
    let any = "(_ , Ev :: Error (message)) => :: stagewise :: __private :: Decision :: goto_with (UppercaseState :: Failed (message) , [Act :: Cleanup])";
    let (i, o, a) = (out.find(idempotent), out.find(override_), out.find(any));
    assert!(i.is_some() && o.is_some() && a.is_some(), "{out}");
    assert!(i < o && o < a, "failed state first, per-state overrides next, the any-state edge last");
    assert_eq!(out.matches("Ev :: Error (message)) =>").count(), 2);
}

#[test]
fn failure_actions_may_use_the_message() {
    let args = quote!(
        stage = Up,
        event = Ev,
        action = Act,
        context = Ctx,
        failure = Ev::Error,
        on_failure = [Act::Report(message), Act::Close]
    );
    let out = expand(Mode::Handler, args, uppercase()).to_string();
    let arm = "(_ , Ev :: Error (message)) => { let next = UppercaseState :: Failed (:: core :: clone :: Clone :: clone (& message)) ; :: stagewise :: __private :: Decision :: goto_with (next , [Act :: Report (message) , Act :: Close]) }";
    assert!(out.contains(arm), "{out}");
}

#[test]
fn blocking_and_plain_states_wait_and_terminal_states_terminate() {
    let out = expand(Mode::Handler, keys(), uppercase()).to_string();
    assert!(out.contains("UppercaseState :: Created { .. } => :: core :: future :: pending () . await"));
    assert!(out.contains("UppercaseState :: Drained { .. } => :: core :: result :: Result :: Ok (:: stagewise :: __private :: Directive :: Terminate)"));
    assert!(out.contains("dispatch_result (Up :: next_line (self , ctx) . await)"));
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
    %% generated: the failure transition from every state
    Created --> Failed: Error (failure)
    Running --> Failed: Error (failure)
    Drained --> Failed: Error (failure)
    classDef failure fill:#fde2e2,stroke:#c0392b
    class Failed failure
";
    assert_eq!(d, expected);
}

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
fn self_supervised_has_no_stage_id() {
    let out = expand(Mode::SelfSupervised, keys(), uppercase()).to_string();
    assert!(out.contains("SelfSupervised for Up"));
    assert!(!out.contains("StageFields"));
    assert!(!out.contains("HandlerSupervised"));
}

#[test]
fn stage_derive_checks_the_stage_id_field() {
    let ok = derive::stage(quote!(
        struct Up {
            #[stage_id]
            id: StageId,
            input: u8,
        }
    ))
    .to_string();
    assert!(ok.contains("fn stage_id (& self) -> :: stagewise :: __private :: StageId { self . id }"), "{ok}");
    let inferred = derive::stage(quote!(
        struct Up {
            input: u8,
            id: StageId,
        }
    ))
    .to_string();
    assert!(inferred.contains("self . id"), "the only StageId field is the stage id: {inferred}");
    let e = messages(&derive::stage(quote!(
        struct Up {
            input: u8,
        }
    )));
    assert_eq!(e.len(), 1);
    assert!(e[0].starts_with("stage `Up` has no stage id"));
    let e = messages(&derive::stage(quote!(
        struct Up {
            a: StageId,
            b: StageId,
        }
    )));
    assert!(e[0].starts_with("stage `Up` has several `StageId` fields"), "{e:?}");
    let e = messages(&derive::stage(quote!(
        struct Up {
            #[stage_id]
            id: u32,
            #[stage_id]
            other: StageId,
        }
    )));
    assert_eq!(e.len(), 2, "{e:?}");
    assert!(e[0].starts_with("the `#[stage_id]` field must be of type `StageId`"));
    assert!(e[1].starts_with("a second `#[stage_id]` field"));
    let tuple = derive::stage(quote!(
        struct Up(#[stage_id] StageId, #[writer_id] WriterId);
    ))
    .to_string();
    assert!(tuple.contains("self . 0") && tuple.contains("self . 1"), "{tuple}");
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
    assert!(out.contains("(S :: A { .. } , Ev :: Line (line)) => :: stagewise :: __private :: Decision :: stay_with ([Act :: Store (line)])"), "{out}");
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

#[test]
fn event_variant_derive_names_each_variant() {
    let out = derive::event_variant(quote!(
        enum Ev {
            Start,
            Line(String),
            Error { message: String },
        }
    ))
    .to_string();
    assert!(out.contains("Ev :: Start { .. } => \"Start\""));
    assert!(out.contains("Ev :: Error { .. } => \"Error\""));
    let e = messages(&derive::event_variant(quote!(
        struct NotAnEnum;
    )));
    assert_eq!(e.len(), 1);
}
