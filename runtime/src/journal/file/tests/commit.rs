//! Durability and group commit: what is synced before an append returns, syncs shared between appenders, the interval policy, and async appends that leave their thread free while they wait.

use super::*;

#[test]
fn the_interval_policy_writes_waiting_records_without_another_append() {
    let dir = tempfile::tempdir().unwrap();
    let every = Durability::Every { records: 1000, interval: Duration::from_millis(20) };
    let journal = FileJournal::open(dir.path(), options(every)).unwrap();
    journal.append(line(0)).unwrap();
    let seg = segments(dir.path()).remove(0);
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while fs::metadata(&seg).unwrap().len() == SEGMENT_HEADER as u64 {
        assert!(std::time::Instant::now() < deadline, "the waiting record was never written");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn concurrent_appenders_get_distinct_positions_holding_their_own_records() {
    let dir = tempfile::tempdir().unwrap();
    let opts = JournalOptions { segment_bytes: 8 * 1024, buffer_bytes: 1024, ..options(Durability::Os) };
    let journal = FileJournal::<String>::open(dir.path(), opts).unwrap();
    let appended: Vec<Vec<(u64, String)>> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..4)
            .map(|t| {
                let journal = &journal;
                s.spawn(move || {
                    (0..250)
                        .map(|i| {
                            let record = format!("thread {t} record {i}");
                            (journal.append(record.clone()).unwrap(), record)
                        })
                        .collect()
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    let stored = journal.read_from(0).unwrap();
    assert_eq!(stored.len(), 1000);
    for (position, record) in appended.into_iter().flatten() {
        assert_eq!(stored[position as usize], record);
    }
}

#[test]
fn every_append_is_synced_before_it_returns() {
    let dir = tempfile::tempdir().unwrap();
    let faults = Faults::new();
    let journal = FileJournal::open_with_faults(dir.path(), JournalOptions::default(), faults.clone()).unwrap();
    for i in 0..5 {
        let before = faults.syncs();
        journal.append(line(i)).unwrap();
        assert!(faults.syncs() > before, "append {i} returned without a sync");
    }
}

#[test]
fn concurrent_appenders_share_syncs_under_every_append() {
    let dir = tempfile::tempdir().unwrap();
    let faults = Faults::new();
    let journal = FileJournal::open_with_faults(dir.path(), JournalOptions::default(), faults.clone()).unwrap();
    let (threads, each) = (8, 25);
    std::thread::scope(|s| {
        for t in 0..threads {
            let journal = &journal;
            s.spawn(move || {
                for i in 0..each {
                    journal.append(format!("thread {t} record {i}")).unwrap();
                }
            });
        }
    });
    let appends = threads * each;
    assert_eq!(journal.len(), appends);
    // While one appender syncs, the others write and then share the next sync.
    assert!(faults.syncs() < appends, "{} syncs for {appends} appends", faults.syncs());
    drop(journal);
    assert_eq!(FileJournal::<String>::open_default(dir.path()).unwrap().read_from(0).unwrap().len() as u64, appends);
}

#[tokio::test(flavor = "current_thread")]
async fn an_async_append_leaves_its_thread_free_while_the_sync_runs() {
    let dir = tempfile::tempdir().unwrap();
    let faults = Faults::new();
    let journal = FileJournal::open_with_faults(dir.path(), JournalOptions::default(), faults.clone()).unwrap();
    faults.hold_syncs();
    let appended = journal.append_async(line(0));
    // One worker thread: if the append blocked it, this other task could never run and heal the disk.
    let healer = tokio::spawn({
        let faults = faults.clone();
        async move {
            tokio::task::yield_now().await;
            faults.heal();
        }
    });
    assert_eq!(appended.await.unwrap(), 0);
    healer.await.unwrap();
    assert!(faults.syncs() >= 1, "the record was synced before the append resolved");
}

#[tokio::test(flavor = "current_thread")]
async fn async_appends_resolve_only_once_synced_and_share_one_sync() {
    let dir = tempfile::tempdir().unwrap();
    let faults = Faults::new();
    let journal = FileJournal::open_with_faults(dir.path(), JournalOptions::default(), faults.clone()).unwrap();
    faults.hold_syncs();
    let mut pending: Vec<_> = (0..8).map(|i| Box::pin(journal.append_async(line(i)))).collect();
    for _ in 0..20 {
        tokio::task::yield_now().await;
        for append in &mut pending {
            assert!(futures_util::FutureExt::now_or_never(append).is_none(), "resolved while its sync was held");
        }
    }
    let held = faults.syncs();
    faults.heal();
    for (i, append) in pending.into_iter().enumerate() {
        assert_eq!(append.await.unwrap(), i as u64);
    }
    assert!(faults.syncs() <= held + 2, "eight appends waiting together shared their syncs ({} syncs)", faults.syncs());
    drop(journal);
    assert_eq!(FileJournal::<String>::open_default(dir.path()).unwrap().read_from(0).unwrap(), expected(0..8));
}

#[tokio::test(flavor = "current_thread")]
async fn a_failed_sync_fails_the_waiting_async_appends_and_refuses_later_ones() {
    let dir = tempfile::tempdir().unwrap();
    let faults = Faults::new();
    let journal = FileJournal::open_with_faults(dir.path(), JournalOptions::default(), faults.clone()).unwrap();
    journal.append_async(line(0)).await.unwrap();
    faults.fail_syncs();
    assert!(matches!(journal.append_async(line(1)).await, Err(JournalError::Io(_))));
    faults.heal();
    let refused = journal.append_async(line(1)).await;
    assert!(matches!(&refused, Err(JournalError::Unusable(m)) if m.contains("reopen")), "{refused:?}");
}

#[tokio::test(flavor = "current_thread")]
async fn a_dropped_async_append_is_still_written_and_synced() {
    let dir = tempfile::tempdir().unwrap();
    let faults = Faults::new();
    let journal = FileJournal::open_with_faults(dir.path(), JournalOptions::default(), faults.clone()).unwrap();
    drop(journal.append_async(line(0)));
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while faults.syncs() == 0 {
        assert!(std::time::Instant::now() < deadline, "the dropped append's record was never synced");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    assert_eq!(journal.read_from(0).unwrap(), expected(0..1));
}

#[test]
fn an_os_sync_covers_rolled_segments_and_leaves_the_lock_free_while_it_runs() {
    let dir = tempfile::tempdir().unwrap();
    let faults = Faults::new();
    let opts = JournalOptions { segment_bytes: 256, ..options(Durability::Os) };
    let journal = Arc::new(FileJournal::open_with_faults(dir.path(), opts, faults.clone()).unwrap());
    fill(&journal, 7);
    assert_eq!((faults.syncs(), segments(dir.path()).len()), (0, 4), "three rolls, nothing synced");
    faults.hold_syncs();
    let syncer = {
        let journal = journal.clone();
        std::thread::spawn(move || journal.sync())
    };
    while faults.syncs() == 0 {
        std::thread::yield_now();
    }
    // A sync is running (held): an append on another thread does not wait for it.
    let (done, finished) = std::sync::mpsc::channel();
    let other = journal.clone();
    std::thread::spawn(move || done.send(other.append(line(7)).map(|_| other.len())));
    let seen = finished.recv_timeout(Duration::from_secs(30));
    faults.heal();
    assert_eq!(seen.expect("the append waited for the held sync").unwrap(), 8);
    syncer.join().unwrap().unwrap();
    assert!(faults.syncs() >= 5, "the three closed segments, the tail and the folder: {} syncs", faults.syncs());
}
