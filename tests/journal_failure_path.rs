//! A journal error reaches the stage: a sink stage whose action appends to a file journal on a disk that fills up
//! takes its failure path, and the run's lifecycle record is Failed with the journal's error in it. Lifecycle records,
//! data events and error events each go to their own file journal.

use std::collections::VecDeque;
use std::sync::Arc;

use stagewise::journal::{Faults, FileJournal, Journal, JournalOptions};
use stagewise::machine::{Decision, EventVariant, Machine, StateVariant, Unhandled};
use stagewise::{
    run_handler_supervised, Action, BoxError, ChainEvent, Directive, Ending, ErrorKind, EventIds, HandlerSupervised,
    Lifecycle, LifecycleRecord, StageContext, StageId, Supervision, Supervisor, WriterId,
};

const STAGE: StageId = StageId(7);
const CONTEXT: StageContext = StageContext::new(STAGE, "journal-sink");

type Events = FileJournal<ChainEvent<String>>;

/// A sink: writes each input line to the data journal, or, if it is malformed (starts with `!`), to the error journal.
struct Sink;

#[derive(Debug)]
enum State {
    Writing,
    Done,
    Failed,
}

enum Event {
    Line(String),
    EndOfInput,
    ActionFailed,
}

struct Ctx {
    input: VecDeque<String>,
    ids: EventIds,
    data: Arc<Events>,
    errors: Arc<Events>,
}

struct Write(String);

impl StateVariant for State {
    fn name(&self) -> &'static str {
        match self {
            State::Writing => "Writing",
            State::Done => "Done",
            State::Failed => "Failed",
        }
    }

    fn ending(&self) -> Option<Ending> {
        match self {
            State::Writing => None,
            State::Done => Some(Ending::Completed),
            State::Failed => Some(Ending::Failed),
        }
    }
}

impl EventVariant for Event {
    fn name(&self) -> &'static str {
        match self {
            Event::Line(_) => "Line",
            Event::EndOfInput => "EndOfInput",
            Event::ActionFailed => "ActionFailed",
        }
    }
}

impl Action<Ctx> for Write {
    fn name(&self) -> &'static str {
        "write"
    }

    async fn execute(self, ctx: &mut Ctx) -> Result<(), BoxError> {
        let event = ChainEvent::new(ctx.ids.next_id(), CONTEXT, self.0);
        if event.payload.starts_with('!') {
            ctx.errors.append(event.into_error(ErrorKind::Parse, "malformed line"))?;
        } else {
            ctx.data.append(event)?;
        }
        Ok(())
    }
}

impl Machine for Sink {
    type State = State;
    type Event = Event;
    type Context = Ctx;
    type Action = Write;
    type ActionCapacity = stagewise::DefaultCapacity;

    fn transition(state: &State, event: Event, _ctx: &mut Ctx) -> Decision<State, Write> {
        match (state, event) {
            (State::Writing, Event::Line(line)) => Decision::stay_with([Write(line)]),
            (State::Writing, Event::EndOfInput) => Decision::goto(State::Done),
            (_, Event::ActionFailed) => Decision::goto(State::Failed),
            _ => Decision::Unhandled,
        }
    }

    fn unhandled(_state: &State, _event: &Event) -> Unhandled {
        Unhandled::Fail
    }
}

impl Supervisor for Sink {
    fn name(&self) -> &'static str {
        "journal-sink"
    }
    fn dispatch_state(
        &mut self,
        state: &State,
        ctx: &mut Ctx,
    ) -> impl std::future::Future<Output = Result<Directive<Event>, BoxError>> + Send {
        let directive = match state {
            State::Writing => match ctx.input.pop_front() {
                Some(line) => Directive::Transition(Event::Line(line)),
                None => Directive::Transition(Event::EndOfInput),
            },
            State::Done | State::Failed => Directive::Terminate,
        };
        async move { Ok(directive) }
    }

    fn event_for_action_error(&self, _message: String) -> Event {
        Event::ActionFailed
    }
}

impl HandlerSupervised for Sink {
    fn stage_id(&self) -> StageId {
        STAGE
    }
}

fn lines(n: usize) -> VecDeque<String> {
    (0..n).map(|i| if i % 4 == 3 { format!("!garbled {i}") } else { format!("GET /item/{i} 200") }).collect()
}

struct Journals {
    _dir: tempfile::TempDir,
    lifecycle: Arc<FileJournal<LifecycleRecord>>,
    data: Arc<Events>,
    errors: Arc<Events>,
    faults: Arc<Faults>,
}

fn journals() -> Journals {
    let dir = tempfile::tempdir().unwrap();
    let faults = Faults::new();
    let options = JournalOptions::default();
    Journals {
        lifecycle: Arc::new(FileJournal::open_default(dir.path().join("lifecycle")).unwrap()),
        data: Arc::new(FileJournal::open_with_faults(dir.path().join("data"), options, faults.clone()).unwrap()),
        errors: Arc::new(FileJournal::open_default(dir.path().join("errors")).unwrap()),
        faults,
        _dir: dir,
    }
}

async fn run(journals: &Journals, input: VecDeque<String>) -> LifecycleRecord {
    let ctx = Ctx {
        input,
        ids: EventIds::new(WriterId::Stage(STAGE)),
        data: journals.data.clone(),
        errors: journals.errors.clone(),
    };
    let supervision = Supervision::new(journals.lifecycle.clone());
    run_handler_supervised(Sink, State::Writing, ctx, supervision).await.expect("the run ends without escalating")
}

#[tokio::test]
async fn a_full_disk_on_append_takes_the_stage_down_its_failure_path() {
    let journals = journals();
    journals.faults.disk_full_after(200); // room for a few events, then no space left
    let record = run(&journals, lines(100)).await;

    match &record.lifecycle {
        Lifecycle::Failed { error, escalation: None } => {
            assert!(error.contains("action write failed"), "{error}");
            assert!(error.contains("No space left on device"), "the journal's error reaches the record: {error}");
        }
        other => panic!("expected Failed, got {other:?}"),
    }
    assert_eq!(record.state, "Failed");
    assert_eq!(record.counters.failures, 1);

    let written = journals.data.read_from(0).unwrap();
    assert!(!written.is_empty() && written.len() < 75, "{} data events before the disk filled", written.len());
    let lifecycle: Vec<_> = journals.lifecycle.read_from(0).unwrap().into_iter().map(|r| r.lifecycle).collect();
    assert!(matches!(lifecycle.as_slice(), [Lifecycle::Started, Lifecycle::Failed { .. }]), "{lifecycle:?}");
}

#[tokio::test]
async fn lifecycle_data_and_error_events_each_survive_in_their_own_journal() {
    let journals = journals();
    let record = run(&journals, lines(8)).await;
    assert_eq!(record.lifecycle, Lifecycle::Completed);
    let Journals { _dir: dir, lifecycle, data, errors, .. } = journals;
    drop((lifecycle, data, errors));

    let lifecycle = FileJournal::<LifecycleRecord>::open_default(dir.path().join("lifecycle")).unwrap();
    let data = Events::open_default(dir.path().join("data")).unwrap();
    let errors = Events::open_default(dir.path().join("errors")).unwrap();
    let ended = lifecycle.read_from(0).unwrap();
    assert_eq!(
        ended.iter().map(|r| r.lifecycle.clone()).collect::<Vec<_>>(),
        [Lifecycle::Started, Lifecycle::Completed]
    );
    assert_eq!(ended[1].supervisor, "journal-sink");
    let data = data.read_from(0).unwrap();
    let errors = errors.read_from(0).unwrap();
    assert_eq!((data.len(), errors.len()), (6, 2));
    assert!(data.iter().all(|e| !e.is_error()) && errors.iter().all(ChainEvent::is_error));
    assert_eq!(errors[0].payload, "!garbled 3");
    assert_eq!(errors[0].id.seq, 3, "event ids run across both journals in the order written");
}

/// The bytes the segments of the file journal in `dir` hold (its tail mark left out: the committer rewrites it after
/// a sync, in its own time).
fn bytes_in(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "seg"))
        .map(|p| p.metadata().unwrap().len())
        .sum()
}

#[tokio::test]
async fn a_terminal_record_the_lifecycle_journal_refuses_is_not_reported_as_success() {
    // Measure the Started record: a completed run into a healthy journal, then that record alone in a fresh one.
    let measured = journals();
    run(&measured, lines(4)).await;
    let started = measured.lifecycle.read_from(0).unwrap().remove(0);
    assert_eq!(started.lifecycle, Lifecycle::Started);
    let scratch = tempfile::tempdir().unwrap();
    let probe = FileJournal::<LifecycleRecord>::open_default(scratch.path().join("lifecycle")).unwrap();
    let empty = bytes_in(&scratch.path().join("lifecycle"));
    probe.append(started).unwrap();
    let started_bytes = bytes_in(&scratch.path().join("lifecycle")) - empty;

    // Room for Started, then the disk is full when the run writes its terminal record.
    let journals = journals();
    let faults = Faults::new();
    let dir = tempfile::tempdir().unwrap();
    let lifecycle = Arc::new(
        FileJournal::<LifecycleRecord>::open_with_faults(
            dir.path().join("lifecycle"),
            JournalOptions::default(),
            faults.clone(),
        )
        .unwrap(),
    );
    faults.disk_full_after(started_bytes);
    let ctx = Ctx {
        input: lines(4),
        ids: EventIds::new(WriterId::Stage(STAGE)),
        data: journals.data.clone(),
        errors: journals.errors.clone(),
    };
    let result = run_handler_supervised(Sink, State::Writing, ctx, Supervision::new(lifecycle.clone())).await;

    let escalation = result.expect_err("a run whose terminal record was not journaled does not report success");
    assert_eq!(escalation.record().lifecycle, Lifecycle::Completed, "the record that was not journaled");
    assert!(escalation.second().contains("refused the Completed record"), "{}", escalation.second());
    assert!(escalation.second().contains("No space left on device"), "the journal's error: {}", escalation.second());
    let journaled: Vec<_> = lifecycle.read_from(0).unwrap().into_iter().map(|r| r.lifecycle).collect();
    assert_eq!(journaled, [Lifecycle::Started]);
}
