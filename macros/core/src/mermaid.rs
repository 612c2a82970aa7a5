//! The Mermaid `stateDiagram-v2` of a machine: declared edges, the `to` lists of function transitions, and the
//! generated failure edges (labelled and styled apart), initial and terminal states.

use std::fmt::Write;

use quote::ToTokens;

use crate::model::{last_ident, Model, Target};

/// The diagram of `model`, in source order.
pub fn diagram(model: &Model) -> String {
    let mut out = String::from("stateDiagram-v2\n");
    if let Some(initial) = model.initial() {
        let _ = writeln!(out, "    [*] --> {}", initial.ident);
    }
    for state in &model.states {
        for t in &state.transitions {
            let events = t.events.iter().map(|e| last_ident(&e.path)).collect::<Vec<_>>().join(", ");
            match &t.target {
                Target::State(to) => {
                    let _ = writeln!(out, "    {} --> {to}: {events}", state.ident);
                }
                Target::Stay(_) => {
                    let _ = writeln!(out, "    {0} --> {0}: {events} (stay)", state.ident);
                }
                Target::Call(path) => {
                    let function = path.to_token_stream().to_string().replace(' ', "");
                    for to in t.to.iter().flatten() {
                        let _ = writeln!(out, "    {} --> {to}: {events} / {function}()", state.ident);
                    }
                }
            }
        }
    }
    for state in model.states.iter().filter(|s| s.is_terminal()) {
        let _ = writeln!(out, "    {} --> [*]", state.ident);
    }
    if let (Some(failed), Some(failure)) = (model.failed(), &model.args.failure) {
        let event = last_ident(&failure.path);
        out.push_str("    %% generated: the failure transition from every state\n");
        for state in model.states.iter().filter(|s| !s.is_failed()) {
            let _ = writeln!(out, "    {} --> {}: {event} (failure)", state.ident, failed.ident);
        }
        let _ = writeln!(out, "    classDef failure fill:#fde2e2,stroke:#c0392b\n    class {} failure", failed.ident);
    }
    out
}
