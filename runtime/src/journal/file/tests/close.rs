//! Closing: a journal dropped on a tokio worker with records or rolled segments not yet synced leaves their last sync
//! to its committer thread, which keeps the folder locked until it is done; a reopen in this process waits for it and
//! finds every record. Dropped outside a runtime, the journal waits for that sync itself.

use super::*;

const COMMITTER: &str = "stagewise-journal-commit";

/// `Every` with a sync that never comes on its own: what is appended stays buffered until the journal is closed.
fn buffered() -> JournalOptions {
    let never = Durability::Every { records: 1000, interval: Duration::from_secs(3600) };
    JournalOptions { segment_bytes: 256, ..options(never) }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_journal_dropped_on_a_worker_leaves_its_last_sync_to_the_committer_and_a_reopen_waits_for_it() {
    let dir = tempfile::tempdir().unwrap();
    let faults = Faults::new();
    let journal = FileJournal::open_with_faults(dir.path(), buffered(), faults.clone()).unwrap();
    // Buffered records, and segments rolled since the last sync (two records a segment): all left to the close.
    for i in 0..7 {
        assert_eq!(journal.append_async(line(i)).await.unwrap(), i);
    }
    assert_eq!(faults.syncs(), 0, "nothing synced before the close");
    faults.hold_syncs();
    let (dropped, returned) = std::sync::mpsc::channel();
    tokio::spawn(async move {
        drop(journal);
        dropped.send(()).unwrap();
    });
    // Held syncs never end on their own: a drop that synced on the worker would never return.
    let returned = tokio::task::spawn_blocking(move || returned.recv_timeout(Duration::from_secs(30))).await.unwrap();
    let reopen = {
        let dir = dir.path().to_owned();
        // Opened while the last sync is held: waits for the committer to release the folder instead of failing.
        std::thread::spawn(move || FileJournal::<String>::open(dir, buffered()).map(|j| j.read_from(0)))
    };
    faults.heal();
    returned.expect("the drop returned while its last sync was held");
    let read = reopen.join().unwrap().expect("the reopen waited for the folder").unwrap();
    assert_eq!(read, expected(0..7));
    // The reopen got the folder once the committer was done.
    let threads = faults.sync_threads();
    assert!(threads.len() >= 3, "the closed segments, the tail and the folder were synced: {threads:?}");
    assert!(threads.iter().all(|t| t == COMMITTER), "syncs ran on {threads:?}");
}

#[test]
fn a_journal_dropped_outside_a_runtime_is_synced_when_the_drop_returns() {
    let dir = tempfile::tempdir().unwrap();
    let faults = Faults::new();
    let journal = FileJournal::open_with_faults(dir.path(), buffered(), faults.clone()).unwrap();
    fill(&journal, 5);
    assert_eq!(faults.syncs(), 0);
    drop(journal);
    let threads = faults.sync_threads();
    assert!(threads.len() >= 3 && threads.iter().all(|t| t == COMMITTER), "{threads:?}");
    // The folder is free at once, for another process too (which does not wait for this one's closing journals).
    let reopened = FileJournal::<String>::open(dir.path(), buffered()).unwrap();
    assert_eq!(reopened.read_from(0).unwrap(), expected(0..5));
    assert!(reopened.recovery().truncated.is_none() && reopened.recovery().lost.is_none());
}

#[test]
fn a_journal_open_elsewhere_in_this_process_is_still_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let _open = FileJournal::<String>::open(dir.path(), buffered()).unwrap();
    let err = FileJournal::<String>::open(dir.path(), buffered()).unwrap_err();
    assert!(matches!(err, JournalError::Unusable(ref m) if m.contains("already open")), "{err}");
}
