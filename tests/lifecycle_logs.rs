//! What an INFO log filter shows of a run: every stage's start and end with its name and id, and failures at WARN or
//! ERROR carrying the same two fields, so a log says which stage failed.

mod support;

use std::sync::{Arc, Mutex};

use support::{run_probe, Ctx, Probe, Script, St};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

/// One logged event: its level and its fields, `message` included.
#[derive(Debug, Clone)]
struct Logged {
    level: Level,
    fields: Vec<(String, String)>,
}

impl Logged {
    fn field(&self, name: &str) -> Option<&str> {
        self.fields.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// A subscriber with an INFO filter that keeps every event it lets through.
#[derive(Clone, Default)]
struct InfoCapture(Arc<Mutex<Vec<Logged>>>);

struct Fields<'a>(&'a mut Vec<(String, String)>);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.push((field.name().to_owned(), format!("{value:?}")));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.push((field.name().to_owned(), value.to_owned()));
    }
}

impl Subscriber for InfoCapture {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        *metadata.level() <= Level::INFO
    }
    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut fields = Vec::new();
        event.record(&mut Fields(&mut fields));
        self.0.lock().unwrap().push(Logged { level: *event.metadata().level(), fields });
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

fn logs_of(script: Vec<Script>) -> Vec<Logged> {
    let capture = InfoCapture::default();
    let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
    tracing::subscriber::with_default(capture.clone(), || {
        rt.block_on(run_probe(Probe::new(script), St::Running, Ctx::default()));
    });
    let logs = capture.0.lock().unwrap().clone();
    logs
}

fn messages(logs: &[Logged]) -> Vec<&str> {
    logs.iter().filter_map(|l| l.field("message")).collect()
}

#[test]
fn lifecycle_is_logged_at_info_with_the_stages_name_and_id() {
    let logs = logs_of(vec![Script::Terminate]);
    let lifecycle: Vec<&Logged> =
        logs.iter().filter(|l| l.field("message").is_some_and(|m| m.starts_with("stage "))).collect();
    assert_eq!(
        lifecycle.iter().filter_map(|l| l.field("message")).collect::<Vec<_>>(),
        ["stage started", "stage completed"],
        "{logs:?}"
    );
    for logged in lifecycle {
        assert_eq!(logged.level, Level::INFO);
        assert_eq!((logged.field("supervisor"), logged.field("stage")), (Some("probe"), Some("7")), "{logged:?}");
    }
}

#[test]
fn failures_are_logged_at_warn_with_the_stages_name_and_id_under_an_info_filter() {
    let logs = logs_of(vec![Script::Error("disk gone")]);
    let warned: Vec<&Logged> = logs.iter().filter(|l| l.level == Level::WARN).collect();
    assert!(!warned.is_empty(), "the failure path is logged at WARN: {:?}", messages(&logs));
    for logged in warned {
        assert_eq!((logged.field("supervisor"), logged.field("stage")), (Some("probe"), Some("7")), "{logged:?}");
    }
    assert!(messages(&logs).contains(&"stage failed"), "{:?}", messages(&logs));
}

#[test]
fn escalations_are_logged_at_error_with_the_stages_name_and_id() {
    // The second dispatch error comes in the failed state: an escalation.
    let logs = logs_of(vec![Script::Error("first"), Script::Error("second")]);
    let errors: Vec<&Logged> = logs.iter().filter(|l| l.level == Level::ERROR).collect();
    assert!(!errors.is_empty(), "{:?}", messages(&logs));
    for logged in errors {
        assert_eq!((logged.field("supervisor"), logged.field("stage")), (Some("probe"), Some("7")), "{logged:?}");
    }
}
