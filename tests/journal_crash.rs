//! Crash tests of the file journal: a child process appends and is killed with SIGKILL at random moments; after every
//! kill the journal is reopened and must hold no damaged record, every record in it must be intact, appending must
//! work again, and what was lost must fit the durability policy: under sync-every-append, not one acknowledged
//! append; under the buffering policies, at most what they buffer.
//!
//! The child is this test binary itself, re-executed with `CHILD_ENV` set, which turns `crash_child` from a no-op into
//! the writer. It prints `ack N` (flushed) after each append returns.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use stagewise::journal::{Durability, FileJournal, Journal, JournalOptions};

const CHILD_ENV: &str = "STAGEWISE_JOURNAL_CRASH_CHILD";
const POLICY_ENV: &str = "STAGEWISE_JOURNAL_CRASH_POLICY";
/// Set (to anything) for the edge shape: see [`Shape::Edges`].
const SHAPE_ENV: &str = "STAGEWISE_JOURNAL_CRASH_EDGES";
const KILLS: u64 = 100;
/// Records the `Every` run may have waiting for a sync when it is killed.
const EVERY_RECORDS: u32 = 16;
/// Bytes the `Os` run may have buffered when it is killed.
const OS_BUFFER: usize = 16 * 1024;
/// The whole test must end well within this, however slow the machine.
const BUDGET: Duration = Duration::from_secs(150);

#[derive(Clone, Copy, Debug, PartialEq)]
enum Policy {
    EveryAppend,
    Every,
    Os,
}

impl Policy {
    fn name(self) -> &'static str {
        match self {
            Policy::EveryAppend => "every_append",
            Policy::Every => "every",
            Policy::Os => "os",
        }
    }

    fn from_env() -> Self {
        match std::env::var(POLICY_ENV).as_deref() {
            Ok("every") => Policy::Every,
            Ok("os") => Policy::Os,
            _ => Policy::EveryAppend,
        }
    }

    fn options(self) -> JournalOptions {
        let durability = match self {
            Policy::EveryAppend => Durability::EveryAppend,
            // An interval longer than the test: only the record count triggers syncs.
            Policy::Every => Durability::Every { records: EVERY_RECORDS, interval: Duration::from_secs(3600) },
            Policy::Os => Durability::Os,
        };
        // Small segments so kills also land while a segment is being closed or started.
        JournalOptions { durability, segment_bytes: 1024 * 1024, buffer_bytes: OS_BUFFER, ..JournalOptions::default() }
    }

    /// Panics unless losing the acknowledged appends `len..=last_ack` is within this policy's promise.
    fn check_loss(self, shape: Shape, len: u64, last_ack: u64, kill: u64) {
        let lost = (len..=last_ack).count() as u64;
        match self {
            Policy::EveryAppend => {
                assert_eq!(lost, 0, "kill {kill}: acknowledged append {last_ack} lost; the journal holds {len}")
            }
            Policy::Every => assert!(lost < u64::from(EVERY_RECORDS), "kill {kill}: {lost} acknowledged appends lost"),
            Policy::Os => {
                let bytes: usize = (len..=last_ack).map(|p| record(shape, p).len()).sum();
                assert!(bytes < OS_BUFFER, "kill {kill}: {lost} acknowledged appends ({bytes} bytes) lost");
            }
        }
    }
}

/// What the child writes, and how.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Shape {
    /// One journal, appended to until the kill; every eighth record is large (several pages), so a kill can land
    /// inside its write and leave it torn.
    Plain,
    /// Records whose frames end on, just before and just after page and buffer boundaries, records larger than the
    /// buffer, and tiny ones; and the journal dropped on a tokio worker (its last sync left to its committer) and
    /// opened again at once every 20 appends, so kills also land in drops and reopens.
    Edges,
}

impl Shape {
    fn from_env() -> Self {
        if std::env::var_os(SHAPE_ENV).is_some() {
            Shape::Edges
        } else {
            Shape::Plain
        }
    }
}

/// The record at `position`: its content follows from its position, so any record can be checked.
fn record(shape: Shape, position: u64) -> String {
    // A postcard string frame is the 12-byte frame header, a 2- or 3-byte length, then the text.
    const EDGES: [usize; 10] = [
        4096 - 14,
        4096 - 15,
        4096 - 16,
        4096,
        8192 - 14,
        OS_BUFFER - 15,
        OS_BUFFER - 14,
        OS_BUFFER - 13,
        OS_BUFFER + 1,
        3 * OS_BUFFER,
    ];
    let len = match shape {
        Shape::Plain if position % 8 == 7 => 150_000 + (position % 5) as usize * 4_000,
        Shape::Plain => 80 + (position % 150) as usize,
        Shape::Edges if position.is_multiple_of(3) => EDGES[(position / 3) as usize % EDGES.len()],
        Shape::Edges => (position % 17) as usize,
    };
    let len = len.saturating_sub(format!("{position}:").len());
    let mut s = format!("{position}:");
    let alphabet = b"abcdefghijklmnopqrstuvwxyz0123456789";
    s.extend((0..len).map(|i| alphabet[(i + position as usize) % alphabet.len()] as char));
    s
}

/// xorshift64*: deterministic kill moments without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

/// The writer, when re-executed by a crash test; a no-op in a normal test run.
#[test]
fn crash_child() {
    let Some(dir) = std::env::var_os(CHILD_ENV) else { return };
    let (policy, shape) = (Policy::from_env(), Shape::from_env());
    let open = || FileJournal::<String>::open(&dir, policy.options()).expect("child opens the journal");
    let mut journal = open();
    let mut out = std::io::stdout().lock();
    writeln!(out, "ready {}", journal.len()).unwrap();
    out.flush().unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).build().unwrap();
    loop {
        let position = journal.len();
        let acked = journal.append(record(shape, position)).expect("child appends");
        assert_eq!(acked, position);
        writeln!(out, "ack {acked}").unwrap();
        out.flush().unwrap();
        if shape == Shape::Edges && position % 20 == 19 {
            // Dropped on a worker: the drop returns at once, and the open waits for the committer's last sync.
            runtime.block_on(tokio::spawn(async move { drop(journal) })).unwrap();
            journal = open();
        }
    }
}

/// The child process, killed when dropped, so a failing assertion never leaves a writer running.
struct Writer(Child);

impl Drop for Writer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn spawn_child(dir: &Path, policy: Policy, shape: Shape) -> (Writer, mpsc::Receiver<String>) {
    let mut command = Command::new(std::env::current_exe().unwrap());
    if shape == Shape::Edges {
        command.env(SHAPE_ENV, "1");
    }
    let mut child = command
        .args(["--exact", "crash_child", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, dir)
        .env(POLICY_ENV, policy.name())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("re-execute the test binary");
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let (lines, received) = mpsc::channel();
    thread::spawn(move || {
        let mut line = Vec::new();
        // Only whole lines count: a line cut short by the kill was never fully reported.
        while stdout.read_until(b'\n', &mut line).is_ok_and(|n| n > 0) && line.ends_with(b"\n") {
            if lines.send(String::from_utf8_lossy(&line).trim_end().to_owned()).is_err() {
                return;
            }
            line.clear();
        }
    });
    (Writer(child), received)
}

/// Asserts that `records`, read from position `first`, are exactly what was appended there.
fn check(shape: Shape, records: &[String], first: u64, kill: u64) {
    for (i, stored) in records.iter().enumerate() {
        let position = first + i as u64;
        assert!(*stored == record(shape, position), "kill {kill}: record {position} is not what was appended");
    }
}

/// What a series of kills did.
struct Kills {
    acknowledged: usize,
    truncations: u32,
    after_an_ack: u64,
    lost: u64,
}

/// Runs `kills` children under `policy` in one journal, killing each at a random moment, and checks the journal
/// after each.
fn kill_repeatedly(policy: Policy, shape: Shape, kills: u64, seed: u64) -> Kills {
    let started = Instant::now();
    let options = policy.options();
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng(seed);
    let mut verified = 0;
    let mut done = Kills { acknowledged: 0, truncations: 0, after_an_ack: 0, lost: 0 };
    for kill in 0..kills {
        assert!(started.elapsed() < BUDGET, "crash test over its time budget after {kill} kills");
        let (mut child, lines) = spawn_child(dir.path(), policy, shape);
        // The test harness prints its own text first, and without a line break before ours.
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let wait = deadline.saturating_duration_since(Instant::now());
            if lines.recv_timeout(wait).expect("child reports ready in time").contains("ready ") {
                break;
            }
        }
        // Kill anywhere from at once to 40 ms into the appends (150 ms among the slower drops and reopens).
        let window = if shape == Shape::Edges { 150_000 } else { 40_000 };
        thread::sleep(Duration::from_micros(rng.next() % window));
        child.0.kill().expect("SIGKILL the child");
        child.0.wait().unwrap();
        let acks: Vec<u64> = lines
            .iter()
            .filter_map(|line| line.split_once("ack ").map(|(_, n)| n.parse().expect("an ack line holds a position")))
            .collect();

        let journal = FileJournal::<String>::open(dir.path(), options).expect("reopen after the kill");
        let recovery = journal.recovery().clone();
        assert!(recovery.damage.is_none(), "kill {kill}: damage after a crash: {:?}", recovery.damage);
        done.truncations += u32::from(recovery.truncated.is_some());
        // Opening checked every record's checksum; decode and compare what is new since the last kill.
        let records =
            journal.read_from(verified).unwrap_or_else(|e| panic!("kill {kill}: a record is unreadable: {e}"));
        check(shape, &records, verified, kill);
        let len = journal.len();
        assert_eq!(len, verified + records.len() as u64);
        if let Some(&last) = acks.last() {
            done.after_an_ack += 1;
            policy.check_loss(shape, len, last, kill);
            done.lost += (len..=last).count() as u64;
        }
        done.acknowledged += acks.len();
        assert_eq!(journal.append(record(shape, len)).unwrap(), len, "kill {kill}: appending works again");
        verified = len;
    }
    let journal = FileJournal::<String>::open(dir.path(), options).unwrap();
    check(shape, &journal.read_from(0).expect("the whole journal reads back"), 0, kills);
    eprintln!(
        "{policy:?} {shape:?}: {kills} kills in {:?}: {} acknowledged appends, {} of them lost; {} torn tails cut off; \
         {} kills landed among appends",
        started.elapsed(),
        done.acknowledged,
        done.lost,
        done.truncations,
        done.after_an_ack
    );
    assert!(done.after_an_ack >= kills / 2, "most kills should land among appends, not before them");
    done
}

#[test]
fn acknowledged_appends_survive_sigkill() {
    if std::env::var_os(CHILD_ENV).is_none() {
        let kills = kill_repeatedly(Policy::EveryAppend, Shape::Plain, KILLS, 0x5eed_1234_abcd_0001);
        assert_eq!(kills.lost, 0);
    }
}

#[test]
fn sigkill_loses_at_most_the_unsynced_records_under_every_n_records() {
    if std::env::var_os(CHILD_ENV).is_none() {
        kill_repeatedly(Policy::Every, Shape::Plain, 20, 0x5eed_1234_abcd_0002);
    }
}

#[test]
fn sigkill_loses_at_most_the_buffer_under_os() {
    if std::env::var_os(CHILD_ENV).is_none() {
        kill_repeatedly(Policy::Os, Shape::Plain, 20, 0x5eed_1234_abcd_0003);
    }
}

#[test]
fn acknowledged_appends_survive_sigkill_among_page_sized_records_drops_and_reopens() {
    if std::env::var_os(CHILD_ENV).is_none() {
        let kills = kill_repeatedly(Policy::EveryAppend, Shape::Edges, 40, 0x5eed_1234_abcd_0004);
        assert_eq!(kills.lost, 0);
    }
}

#[test]
fn sigkill_among_page_sized_records_drops_and_reopens_loses_at_most_the_unsynced_records_under_every_n_records() {
    if std::env::var_os(CHILD_ENV).is_none() {
        kill_repeatedly(Policy::Every, Shape::Edges, 30, 0x5eed_1234_abcd_0005);
    }
}

#[test]
fn sigkill_among_page_sized_records_drops_and_reopens_loses_at_most_the_buffer_under_os() {
    if std::env::var_os(CHILD_ENV).is_none() {
        kill_repeatedly(Policy::Os, Shape::Edges, 30, 0x5eed_1234_abcd_0006);
    }
}
