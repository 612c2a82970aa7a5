//! Tests of durable links: resume at each boundary of a stage's turn, replay, retention, backpressure, checkpoints.

use std::path::Path;
use std::time::Duration;

use super::*;
use crate::event::{ChainEvent, EventIds, StageContext, StageId, WriterId};
use crate::journal::{Durability, JournalOptions};
use crate::pipeline::link::{Batch, Inlet, Message, Outlet};

pub(super) fn options(segment_bytes: u64) -> JournalOptions {
    JournalOptions { segment_bytes, ..JournalOptions::with_durability(Durability::Os) }
}

/// Segment size of the links under test: small, so their records (about 60 bytes a batch of 10) span several.
pub(super) const SEGMENT_BYTES: u64 = 2048;

pub(super) fn links(dir: &Path, policy: LinkPolicy) -> DurableLinks {
    DurableLinks::new(dir, options(SEGMENT_BYTES), policy)
}

fn batch(ids: &mut EventIds, stage: u32, values: impl IntoIterator<Item = u64>) -> Batch<u64> {
    values.into_iter().map(|v| ChainEvent::new(ids.next_id(), StageContext::new(StageId(stage), "t"), v)).collect()
}

/// A source of `total` values in batches of 10, resuming where its outlet says; stops after `crash_after` batches.
pub(super) async fn source(out: &Outlet<u64>, total: u64, crash_after: usize) -> bool {
    let resume = out.resume().await.unwrap();
    if resume.ended {
        return true;
    }
    let mut ids = out.resume_ids(WriterId::Stage(StageId(0))).await.unwrap();
    let mut next = resume.input;
    for _ in 0..crash_after {
        if next == total {
            out.end_of_stream().await.unwrap();
            return true;
        }
        let end = (next + 10).min(total);
        let values = batch(&mut ids, 0, next..end);
        next = end;
        out.mark_input(next);
        out.send(values).await.unwrap();
    }
    false
}

/// A transform doubling values; crashes (returns) after `crash_after` turns, before sending when `before_send`.
pub(super) async fn double(inlet: &mut Inlet<u64>, out: &Outlet<u64>, crash_after: usize, before_send: bool) -> bool {
    let mut ids = out.resume_ids(WriterId::Stage(StageId(1))).await.unwrap();
    for turn in 0.. {
        let message = inlet.recv().await.expect("the source's records are there");
        if turn == crash_after && before_send {
            return false;
        }
        match message {
            Message::Events(events) => {
                out.send(batch(&mut ids, 1, events.iter().map(|e| e.payload * 2))).await.unwrap();
            }
            Message::EndOfStream => {
                out.end_of_stream().await.unwrap();
                return true;
            }
        }
        if turn == crash_after {
            return false;
        }
    }
    unreachable!()
}

/// One run of the doubling transform on the links in `dir`, resumed where its output says; see [`double`].
pub(super) async fn resumed_double(dir: &Path, crash_after: usize, before_send: bool) -> bool {
    let links = links(dir, LinkPolicy::default());
    let upstream = links.open::<u64>(0).unwrap();
    let mut core = links.open::<u64>(1).unwrap().outlet_core();
    let mut inlet = upstream.inlet_from(0, Default::default());
    let durable = inlet.as_durable_mut().unwrap();
    core.bind_upstream(durable.consumer().clone(), durable.input().clone());
    let core = std::sync::Arc::new(core);
    durable.seek(Start::Resume(core.clone()));
    double(&mut inlet, &Outlet::durable(core), crash_after, before_send).await
}

pub(super) fn read_all(dir: &Path, index: usize) -> Vec<LinkRecord<u64>> {
    let journal =
        crate::journal::FileJournal::<LinkRecord<u64>>::open(stage_folder(dir, index), options(SEGMENT_BYTES)).unwrap();
    crate::journal::Journal::read_from(&journal, 0).unwrap()
}

/// The links in `dir` hold 0..total once each, doubled once each, ids continuing, one end of stream at the end.
pub(super) fn assert_doubled(dir: &Path, total: u64, case: &str) {
    let records = read_all(dir, 1);
    let values: Vec<u64> = records.iter().flat_map(LinkRecord::events).map(|e| e.payload).collect();
    assert_eq!(values, (0..total).map(|v| v * 2).collect::<Vec<_>>(), "{case}");
    let ids: Vec<u64> = records.iter().flat_map(LinkRecord::events).map(|e| e.id.seq).collect();
    assert_eq!(ids, (0..total).collect::<Vec<_>>(), "ids continue across resumes: {case}");
    assert_eq!(records.iter().filter(|r| r.is_end()).count(), 1, "{case}");
    assert!(records.last().unwrap().is_end(), "{case}");
    let source: Vec<u64> = read_all(dir, 0).iter().flat_map(LinkRecord::events).map(|e| e.payload).collect();
    assert_eq!(source, (0..total).collect::<Vec<_>>(), "{case}");
}

#[tokio::test]
async fn a_stage_resumed_at_each_boundary_loses_and_repeats_nothing() {
    let total = 95;
    for (crash_after, before_send) in [(0, true), (0, false), (1, true), (3, false), (9, false), (10, true)] {
        let dir = tempfile::tempdir().unwrap();
        // Each run of the source writes a few batches and "crashes" (every end is dropped); then each run of the
        // transform takes `crash_after + 1` records and crashes before or after sending the last one's output.
        let mut runs = 0;
        loop {
            runs += 1;
            let links = links(dir.path(), LinkPolicy::default());
            if source(&links.open::<u64>(0).unwrap().outlet(), total, 4).await {
                break;
            }
        }
        assert!(runs > 2, "the source was interrupted");
        let mut done = false;
        let first = runs + 1;
        while !done {
            runs += 1;
            assert!(runs < 200, "the pipeline never finished");
            // The first run crashes where the case says; later ones after every third record's output.
            done = if runs == first {
                resumed_double(dir.path(), crash_after, before_send).await
            } else {
                resumed_double(dir.path(), 2, false).await
            };
        }
        assert_doubled(dir.path(), total, &format!("crash after {crash_after}"));
    }
}

#[tokio::test]
async fn a_stage_attached_later_replays_from_zero_or_an_offset() {
    let dir = tempfile::tempdir().unwrap();
    let links = links(dir.path(), LinkPolicy::default());
    let link = links.open::<u64>(0).unwrap();
    let out = link.outlet();
    assert!(source(&out, 50, 10).await);
    drop(out);
    for (from, expected) in [(0u64, (0..50).collect::<Vec<u64>>()), (2, (20..50).collect())] {
        let mut inlet = link.replay_from(from);
        let mut seen = Vec::new();
        while let Message::Events(events) = inlet.recv().await.expect("the link ends with end of stream") {
            seen.extend(events.into_iter().map(|e| e.payload));
        }
        assert_eq!(seen, expected);
    }
}

#[tokio::test]
async fn retention_keeps_disk_use_bounded_once_consumers_commit() {
    let dir = tempfile::tempdir().unwrap();
    let segment = 4096u64;
    let policy = LinkPolicy { retention: Retention::Consumed, max_unconsumed: 4, ..LinkPolicy::default() };
    let links = links(dir.path(), policy);
    let link = links.open::<u64>(0).unwrap();
    let out = link.outlet();
    let mut inlet = link.inlet_from(0, Default::default());
    let mut ids = EventIds::new(StageId(0).into());
    let mut sent_bytes = 0u64;
    let mut max_on_disk = 0u64;
    let mut n = 0;
    while sent_bytes < 10 * segment {
        let values = batch(&mut ids, 0, n..n + 20);
        n += 20;
        sent_bytes += 20 * 8;
        out.send(values).await.unwrap();
        let Some(Message::Events(_)) = inlet.recv().await else { panic!("a batch") };
        inlet.commit(inlet.position().unwrap());
        let on_disk: u64 =
            std::fs::read_dir(stage_folder(dir.path(), 0)).unwrap().map(|e| e.unwrap().metadata().unwrap().len()).sum();
        max_on_disk = max_on_disk.max(on_disk);
    }
    let written: u64 = n * 8;
    assert!(written >= 10 * segment / 2, "enough went through");
    assert!(link.first() > 0, "old segments were deleted");
    // The tail segment, the one before it (retention runs every few appends), and the lock file.
    assert!(max_on_disk <= 3 * segment, "disk use {max_on_disk} stays within three segments");
    assert!(inlet.position().unwrap() > 0);
}

#[tokio::test(start_paused = true)]
async fn a_slow_consumer_makes_the_producer_wait() {
    let dir = tempfile::tempdir().unwrap();
    let policy = LinkPolicy { max_unconsumed: 3, ..LinkPolicy::default() };
    let links = links(dir.path(), policy);
    let link = links.open::<u64>(0).unwrap();
    let out = link.outlet();
    let mut inlet = link.inlet_from(0, Default::default());
    let mut ids = EventIds::new(StageId(0).into());
    for i in 0..3 {
        out.send(batch(&mut ids, 0, [i])).await.unwrap();
    }
    let fourth = batch(&mut ids, 0, [3]);
    let waited = tokio::time::timeout(Duration::from_millis(50), out.send(fourth.clone())).await.is_err();
    assert!(waited, "three unread records: the fourth waits");
    assert_eq!(link.len(), 3);
    inlet.recv().await.unwrap();
    tokio::time::timeout(Duration::from_secs(5), out.send(fourth)).await.expect("room again").unwrap();
    assert_eq!(link.len(), 4);
}

#[tokio::test]
async fn a_stage_sending_twice_for_one_input_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let links = links(dir.path(), LinkPolicy::default());
    let out = links.open::<u64>(0).unwrap().outlet();
    let mut ids = EventIds::new(StageId(0).into());
    out.mark_input(5);
    out.send(batch(&mut ids, 0, [1])).await.unwrap();
    let again = out.send(batch(&mut ids, 0, [2])).await;
    assert!(again.is_err_and(|e| e.to_string().contains("at most one batch")));
}

#[tokio::test]
async fn checkpoints_return_the_last_saved() {
    let dir = tempfile::tempdir().unwrap();
    let checkpoints = Checkpoints::<Vec<u32>>::open(dir.path(), options(512)).unwrap();
    assert_eq!(checkpoints.latest().unwrap(), None);
    for input in 1..200u64 {
        checkpoints.save(Checkpoint { input, finished: false, state: vec![input as u32; 8] }).await.unwrap();
    }
    let last = checkpoints.latest().unwrap().unwrap();
    assert_eq!((last.input, last.state[0]), (199, 199));
    drop(checkpoints);
    let reopened = Checkpoints::<Vec<u32>>::open(dir.path(), options(512)).unwrap();
    assert_eq!(reopened.latest().unwrap().unwrap().input, 199);
    let segments = std::fs::read_dir(dir.path())
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().extension().is_some_and(|x| x == "seg"))
        .count();
    assert!(segments <= 3, "old checkpoints are deleted ({segments} files)");
}

#[test]
fn a_resumed_stage_writes_each_error_record_once() {
    use crate::event::{ErrorKind, EventId};
    use crate::journal::{Journal, MemoryJournal};
    use crate::pipeline::error_journal::ErrorRecord;

    let record = |seq| ErrorRecord {
        id: EventId { writer: WriterId::Stage(StageId(1)), seq },
        context: StageContext::new(StageId(1), "parse"),
        kind: ErrorKind::Parse,
        message: format!("line {seq}"),
    };
    let inner = std::sync::Arc::new(MemoryJournal::new());
    // The first run wrote 0..5; its last checkpoint accounted for 0..2.
    for seq in 0..5 {
        inner.append(record(seq)).unwrap();
    }
    let replayed = ReplayedErrors::new(inner.clone(), 2).unwrap();
    assert_eq!(replayed.accounted(), 2);
    for seq in 2..8 {
        replayed.append(record(seq)).unwrap();
    }
    let seqs: Vec<u64> = inner.read_from(0).unwrap().iter().map(|r| r.id.seq).collect();
    assert_eq!(seqs, (0..8).collect::<Vec<_>>(), "2..5 were recognised, 5..8 appended");
    assert_eq!(replayed.accounted(), 8);

    let lost = ReplayedErrors::new(inner.clone(), 9).unwrap_err();
    assert!(lost.to_string().contains("holds 8 records, but the run had written 9"), "{lost}");
    let diverging = ReplayedErrors::new(inner, 6).unwrap();
    assert!(diverging.append(record(99)).is_err(), "a replay that differs is refused, not hidden");
}

#[tokio::test]
async fn a_drained_run_pauses_the_stream_and_the_next_run_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    {
        let links = links(dir.path(), LinkPolicy::default());
        let link = links.open::<u64>(0).unwrap();
        let out = link.outlet();
        assert!(!source(&out, 50, 2).await);
        out.pause().await.unwrap();
        let mut inlet = link.inlet_from(0, Default::default());
        let progress = inlet.progress().unwrap();
        let mut seen = 0;
        while let Some(Message::Events(events)) = inlet.recv().await {
            seen += events.len();
        }
        assert_eq!(seen, 20, "the reader gets what was sent, then end of stream for this run");
        assert!(!progress.ended(), "a paused stream has not ended");
    }
    let links = links(dir.path(), LinkPolicy::default());
    let link = links.open::<u64>(0).unwrap();
    assert!(!link.outlet().resume().await.unwrap().ended, "nothing stored says the stream ended");
    assert!(source(&link.outlet(), 50, 10).await, "the next run goes on to the end");
    drop((link, links));
    let values: Vec<u64> = read_all(dir.path(), 0).iter().flat_map(LinkRecord::events).map(|e| e.payload).collect();
    assert_eq!(values, (0..50).collect::<Vec<_>>());
}
