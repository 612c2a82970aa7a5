//! A journal dropped and reopened at once, in this process, from every kind of thread a program drops one on (a
//! multi-thread runtime's worker, a current-thread runtime, a `LocalSet`, `spawn_blocking`, a plain thread): the
//! reopen gets the folder and finds every record, under every policy, however often it is done.

use super::*;

const ROUNDS: u64 = 12;

fn policies() -> [JournalOptions; 3] {
    let every = Durability::Every { records: 1000, interval: Duration::from_secs(3600) };
    [Durability::Os, every, Durability::EveryAppend]
        .map(|durability| JournalOptions { segment_bytes: 512, ..options(durability) })
}

/// Opens the journal, checks it holds every record so far, appends three and drops it: one round.
fn round(dir: &Path, options: JournalOptions) {
    let journal = FileJournal::<String>::open(dir, options).unwrap();
    let recovery = journal.recovery();
    assert!(recovery.damage.is_none() && recovery.truncated.is_none() && recovery.lost.is_none(), "{recovery:?}");
    let len = journal.len();
    assert_eq!(journal.read_from(0).unwrap(), expected(0..len));
    fill(&journal, 3);
}

fn rounds(dir: &Path) {
    for options in policies() {
        for _ in 0..ROUNDS {
            round(dir, options);
        }
    }
}

fn check(dir: &Path) {
    let journal = FileJournal::<String>::open(dir, JournalOptions::default()).unwrap();
    assert_eq!(journal.read_from(0).unwrap(), expected(0..3 * 3 * ROUNDS));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_and_reopened_on_a_worker() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_owned();
    tokio::spawn(async move { rounds(&path) }).await.unwrap();
    check(dir.path());
}

#[tokio::test(flavor = "current_thread")]
async fn dropped_and_reopened_on_a_current_thread_runtime() {
    let dir = tempfile::tempdir().unwrap();
    rounds(dir.path());
    check(dir.path());
}

#[tokio::test(flavor = "current_thread")]
async fn dropped_and_reopened_in_a_local_set() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_owned();
    tokio::task::LocalSet::new()
        .run_until(async move { tokio::task::spawn_local(async move { rounds(&path) }).await })
        .await
        .unwrap();
    check(dir.path());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_and_reopened_in_spawn_blocking() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_owned();
    tokio::task::spawn_blocking(move || rounds(&path)).await.unwrap();
    check(dir.path());
}

#[test]
fn dropped_and_reopened_on_plain_threads_one_after_another() {
    let dir = tempfile::tempdir().unwrap();
    for options in policies() {
        for _ in 0..ROUNDS {
            let path = dir.path().to_owned();
            std::thread::spawn(move || round(&path, options)).join().unwrap();
        }
    }
    check(dir.path());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_on_a_worker_and_reopened_on_a_plain_thread() {
    let dir = tempfile::tempdir().unwrap();
    for options in policies() {
        for _ in 0..ROUNDS {
            let journal = FileJournal::<String>::open(dir.path(), options).unwrap();
            fill(&journal, 3);
            tokio::spawn(async move { drop(journal) }).await.unwrap();
            let path = dir.path().to_owned();
            let reopened = std::thread::spawn(move || {
                let journal = FileJournal::<String>::open(&path, options).unwrap();
                journal.read_from(0).map(|records| records.len())
            });
            reopened.join().unwrap().unwrap();
        }
    }
    check(dir.path());
}
