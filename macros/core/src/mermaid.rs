//! The machine as a picture: its edges (declared, the `to` lists of function transitions, the generated failure
//! edges) drawn as a Mermaid `stateDiagram-v2` (the `MERMAID` constant) and as a flowchart for the state enum's rustdoc,
//! where failure edges are dashed (state diagrams cannot dash an edge).

use std::fmt::Write;

use quote::ToTokens;

use crate::model::{last_ident, Model, Target};

/// One arrow of the picture.
struct Edge {
    from: String,
    to: String,
    label: String,
    /// A generated failure edge, drawn apart.
    failure: bool,
}

/// Every edge of `model`, in source order, the generated failure edges last.
fn edges(model: &Model) -> Vec<Edge> {
    let mut out = Vec::new();
    for state in &model.states {
        let from = state.ident.to_string();
        for t in &state.transitions {
            let events = t.events.iter().map(|e| last_ident(&e.path)).collect::<Vec<_>>().join(", ");
            match &t.target {
                Target::State(to) => {
                    out.push(Edge { from: from.clone(), to: to.to_string(), label: events, failure: false });
                }
                Target::Stay(_) => {
                    let label = format!("{events} (stay)");
                    out.push(Edge { from: from.clone(), to: from.clone(), label, failure: false });
                }
                Target::Call(path) => {
                    let function = path.to_token_stream().to_string().replace(' ', "");
                    for to in t.to.iter().flatten() {
                        let label = format!("{events} / {function}()");
                        out.push(Edge { from: from.clone(), to: to.to_string(), label, failure: false });
                    }
                }
            }
        }
    }
    if let (Some(failed), Some(failure)) = (model.failed(), &model.args.failure) {
        let event = last_ident(&failure.path);
        // A terminal state ends the run: no failure edge leaves it. (A failure of the actions on the way into one is
        // fed in that state and still reaches the failed state, but it is the failure of the transition that led
        // there, which the source state's failure edge already draws.)
        for state in model.states.iter().filter(|s| !s.is_terminal()) {
            out.push(Edge {
                from: state.ident.to_string(),
                to: failed.ident.to_string(),
                label: format!("{event} (failure)"),
                failure: true,
            });
        }
    }
    out
}

const FAILURE_STYLE: &str = "fill:#fde2e2,stroke:#c0392b";

/// The `stateDiagram-v2` of `model`, in source order; failure edges are labelled `(failure)`.
pub fn diagram(model: &Model) -> String {
    let mut out = String::from("stateDiagram-v2\n");
    if let Some(initial) = model.initial() {
        let _ = writeln!(out, "    [*] --> {}", initial.ident);
    }
    let edges = edges(model);
    for e in edges.iter().filter(|e| !e.failure) {
        let _ = writeln!(out, "    {} --> {}: {}", e.from, e.to, e.label);
    }
    for state in model.states.iter().filter(|s| s.is_terminal()) {
        let _ = writeln!(out, "    {} --> [*]", state.ident);
    }
    if let Some(failed) = model.failed() {
        if edges.iter().any(|e| e.failure) {
            out.push_str("    %% generated: the failure transition from every state that is not terminal\n");
        }
        for e in edges.iter().filter(|e| e.failure) {
            let _ = writeln!(out, "    {} --> {}: {}", e.from, e.to, e.label);
        }
        let _ = writeln!(out, "    classDef failure {FAILURE_STYLE}\n    class {} failure", failed.ident);
    }
    out
}

/// The same machine as a Mermaid flowchart, failure edges dashed; node ids are prefixed so no state name can clash
/// with a flowchart keyword (`end`).
pub fn flowchart(model: &Model) -> String {
    let mut out = String::from("flowchart TD\n");
    for state in &model.states {
        let _ = writeln!(out, "    s_{0}([\"{0}\"])", state.ident);
    }
    if let Some(initial) = model.initial() {
        let _ = writeln!(out, "    start_((\" \")) --> s_{}", initial.ident);
    }
    for e in edges(model) {
        let arrow = if e.failure { "-.->" } else { "-->" };
        let _ = writeln!(out, "    s_{} {arrow}|\"{}\"| s_{}", e.from, e.label.replace('"', "'"), e.to);
    }
    for state in model.states.iter().filter(|s| s.is_terminal()) {
        let _ = writeln!(out, "    s_{} --> stop_((\" \"))", state.ident);
    }
    if let Some(failed) = model.failed() {
        let _ = writeln!(out, "    classDef failure {FAILURE_STYLE}\n    class s_{} failure", failed.ident);
    }
    out
}

/// The rustdoc of the state enum: the flowchart in a `<pre class="mermaid">` (rendered by the docs' Mermaid header;
/// plain text without it), HTML-escaped, and a line saying how to read it.
pub fn rustdoc(model: &Model) -> String {
    let chart = flowchart(model).replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    format!(
        "\n<pre class=\"mermaid\">\n{chart}</pre>\n\nThe states of this machine as `#[{}]` reads them: solid edges are \
         declared transitions, dashed ones the generated failure transitions.",
        model.mode.attr()
    )
}
