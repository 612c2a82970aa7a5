//! The lifecycle records an orchestrator across processes writes in the stead of processes (a gone one's, one back
//! after it was taken for gone, a restart it decided) and about itself: what each says, not when to write it (the
//! roster decides that).

use std::borrow::Cow;
use std::collections::BTreeMap;

use super::names::supervisor;
use crate::counters::CounterSnapshot;
use crate::event::WriterId;
use crate::lifecycle::{Lifecycle, LifecycleRecord};

/// The state of the Restarting record of a process restarted with a sibling that ended (a restart strategy's
/// doing), not for an ending of its own: it does not count against its own restart intensity.
pub(crate) const WITH_SIBLING: &str = "WithSibling";

/// A record the orchestrator writes about `process`'s pipeline (or, for its own name, about itself).
pub(crate) fn about(process: &str, pipeline: &str, state: &'static str, lifecycle: Lifecycle) -> LifecycleRecord {
    LifecycleRecord {
        supervisor: Cow::Owned(supervisor(pipeline, process)),
        writer: WriterId::System,
        stage: None,
        state: Cow::Borrowed(state),
        lifecycle,
        counters: CounterSnapshot::default(),
    }
}

/// Failed records, in the gone process's stead, for each of its `supervisors` (their last records) that had not
/// ended; `PIPELINE@PROCESS` Failed when none had started.
pub(crate) fn gone_records(
    supervisors: &BTreeMap<String, LifecycleRecord>,
    process: &str,
    pipeline: &str,
    cause: &str,
) -> Vec<LifecycleRecord> {
    let failed = || Lifecycle::Failed { error: cause.to_owned(), escalation: None };
    let open: Vec<LifecycleRecord> = supervisors
        .values()
        .filter(|r| !r.lifecycle.is_terminal())
        .map(|r| LifecycleRecord { state: Cow::Borrowed("Gone"), lifecycle: failed(), ..r.clone() })
        .collect();
    match open.is_empty() {
        false => open,
        true => vec![about(process, pipeline, "Gone", failed())],
    }
}

/// Records, in the stead of a process taken for gone that beats again: each of its `supervisors` the orchestrator
/// recorded Failed is as it was before (state `Back`), and the process is started again (`PIPELINE@PROCESS`).
pub(crate) fn back_records(
    supervisors: &BTreeMap<String, LifecycleRecord>,
    process: &str,
    pipeline: &str,
) -> Vec<LifecycleRecord> {
    let open = supervisors.values().filter(|r| !r.lifecycle.is_terminal());
    let again = open.map(|r| LifecycleRecord { state: Cow::Borrowed("Back"), ..r.clone() });
    again.chain([about(process, pipeline, "Back", Lifecycle::Started)]).collect()
}

/// How a process's pipeline ended, for causes: "failed: ...", "cancelled: ...".
pub(crate) fn describe(ending: &Lifecycle) -> String {
    match ending {
        Lifecycle::Failed { error, .. } => format!("failed: {error}"),
        Lifecycle::Cancelled { reason } => format!("cancelled: {reason}"),
        other => format!("{other:?}"),
    }
}
