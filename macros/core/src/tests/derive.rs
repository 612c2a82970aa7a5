//! The companion derives: `Stage`'s id fields, `EventVariant`'s names.
#![allow(unused_imports)]

use proc_macro2::{TokenStream, TokenTree};
use quote::quote;

use super::*;
use crate::expand::{analyze, expand};
use crate::model::{Dispatch, EndingKind, FailureShape, Mode, Policy, Target};
use crate::{derive, mermaid};

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
