//! Crash test of the file journal: a child process appends under sync-every-append and is killed with SIGKILL at
//! random moments; after every kill the journal is reopened and every append the child reported as acknowledged must
//! be there, intact, with no damaged record, and appending must work again.
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
const KILLS: u64 = 100;
/// The whole test must end well within this, however slow the machine.
const BUDGET: Duration = Duration::from_secs(150);

fn options() -> JournalOptions {
    // Small segments so kills also land while a segment is being closed or started.
    JournalOptions { durability: Durability::EveryAppend, segment_bytes: 1024 * 1024, ..JournalOptions::default() }
}

/// The record at `position`: its content follows from its position, so any record can be checked. Every eighth is
/// large (several pages), so a kill can land inside its write and leave it torn.
fn record(position: u64) -> String {
    let len =
        if position % 8 == 7 { 150_000 + (position % 5) as usize * 4_000 } else { 80 + (position % 150) as usize };
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

/// The writer, when re-executed by `acknowledged_appends_survive_sigkill`; a no-op in a normal test run.
#[test]
fn crash_child() {
    let Some(dir) = std::env::var_os(CHILD_ENV) else { return };
    let journal = FileJournal::<String>::open(&dir, options()).expect("child opens the journal");
    let mut out = std::io::stdout().lock();
    writeln!(out, "ready {}", journal.len()).unwrap();
    out.flush().unwrap();
    loop {
        let position = journal.len();
        let acked = journal.append(record(position)).expect("child appends");
        assert_eq!(acked, position);
        writeln!(out, "ack {acked}").unwrap();
        out.flush().unwrap();
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

fn spawn_child(dir: &Path) -> (Writer, mpsc::Receiver<String>) {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "crash_child", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, dir)
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
fn check(records: &[String], first: u64, kill: u64) {
    for (i, stored) in records.iter().enumerate() {
        let position = first + i as u64;
        assert!(*stored == record(position), "kill {kill}: record {position} is not what was appended");
    }
}

#[test]
fn acknowledged_appends_survive_sigkill() {
    if std::env::var_os(CHILD_ENV).is_some() {
        return;
    }
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let (mut truncations, mut acknowledged, mut kills_after_an_ack, mut verified) = (0, 0, 0, 0);
    for kill in 0..KILLS {
        assert!(started.elapsed() < BUDGET, "crash test over its time budget after {kill} kills");
        let (mut child, lines) = spawn_child(dir.path());
        // The test harness prints its own text first, and without a line break before ours.
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let wait = deadline.saturating_duration_since(Instant::now());
            if lines.recv_timeout(wait).expect("child reports ready in time").contains("ready ") {
                break;
            }
        }
        // Kill anywhere from at once to 40 ms into the appends.
        thread::sleep(Duration::from_micros(rng.next() % 40_000));
        child.0.kill().expect("SIGKILL the child");
        child.0.wait().unwrap();
        let acks: Vec<u64> = lines
            .iter()
            .filter_map(|line| line.split_once("ack ").map(|(_, n)| n.parse().expect("an ack line holds a position")))
            .collect();

        let journal = FileJournal::<String>::open(dir.path(), options()).expect("reopen after the kill");
        let recovery = journal.recovery().clone();
        assert!(recovery.damage.is_none(), "kill {kill}: damage after a crash: {:?}", recovery.damage);
        truncations += u32::from(recovery.truncated.is_some());
        // Opening checked every record's checksum; decode and compare what is new since the last kill.
        let records =
            journal.read_from(verified).unwrap_or_else(|e| panic!("kill {kill}: a record is unreadable: {e}"));
        check(&records, verified, kill);
        let len = journal.len();
        assert_eq!(len, verified + records.len() as u64);
        if let Some(&last) = acks.last() {
            kills_after_an_ack += 1;
            assert!(last < len, "kill {kill}: acknowledged append {last} lost; the journal holds {len}");
        }
        acknowledged += acks.len();
        assert_eq!(journal.append(record(len)).unwrap(), len, "kill {kill}: appending works again");
        verified = len;
    }
    let journal = FileJournal::<String>::open(dir.path(), options()).unwrap();
    check(&journal.read_from(0).expect("the whole journal reads back"), 0, KILLS);
    eprintln!(
        "{KILLS} kills in {:?}: {acknowledged} acknowledged appends, all present; {truncations} torn tails cut off; \
         {kills_after_an_ack} kills landed among appends",
        started.elapsed()
    );
    assert!(kills_after_an_ack >= KILLS / 2, "most kills should land among appends, not before them");
}
