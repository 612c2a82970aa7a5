//! What the fault matrix checks a cell against: a lifecycle journal that refuses terminal records on demand, what a
//! cell expects, and the judge that compares a run's records and outcome with it.

use stagewise::journal::{Journal, JournalError, MemoryJournal};
use stagewise::{Escalation, Lifecycle, LifecycleRecord};
use tokio::sync::watch;

/// A lifecycle journal that refuses terminal records when told to, as a full disk would.
pub struct Lifecycles {
    pub inner: MemoryJournal<LifecycleRecord>,
    pub refuse_terminal: bool,
}

impl Journal<LifecycleRecord> for Lifecycles {
    fn append(&self, record: LifecycleRecord) -> Result<u64, JournalError> {
        if self.refuse_terminal && record.lifecycle.is_terminal() {
            return Err(std::io::Error::other("no space left on device").into());
        }
        self.inner.append(record)
    }
    fn read_from(&self, position: u64) -> Result<Vec<LifecycleRecord>, JournalError> {
        self.inner.read_from(position)
    }
    fn len(&self) -> u64 {
        self.inner.len()
    }
    fn subscribe(&self) -> watch::Receiver<u64> {
        self.inner.subscribe()
    }
}

/// What a cell expects.
pub enum Expected {
    /// A Failed record whose error contains this, escalated or not.
    Failed {
        contains: String,
        escalated: bool,
    },
    Cancelled {
        contains: &'static str,
    },
    Completed,
    /// The run ended Completed, but the journal refused the record: the outcome is an escalation holding it.
    NotJournaled,
}

/// What is wrong with a cell's run: `records` journaled, the run's `outcome` (`None` when it was aborted: its
/// journaled record is the outcome, as a handle says), the cell's `expected` ending, and the failure actions
/// `(ran, expected)`. `Err` lists every mistake.
pub fn judge(
    records: &[LifecycleRecord],
    outcome: Option<Result<LifecycleRecord, Escalation>>,
    expected: &Expected,
    (ran, failure_actions): (u32, u32),
) -> Result<(), String> {
    let mut wrong = Vec::new();
    let started = records.iter().filter(|r| r.lifecycle == Lifecycle::Started).count();
    let terminal: Vec<&LifecycleRecord> = records.iter().filter(|r| r.lifecycle.is_terminal()).collect();
    if records.first().map(|r| &r.lifecycle) != Some(&Lifecycle::Started) || started != 1 {
        wrong.push(format!("not exactly one Started, first: {records:?}"));
    }
    let journaled_terminal = if matches!(expected, Expected::NotJournaled) { 0 } else { 1 };
    if terminal.len() != journaled_terminal || records.len() != 1 + journaled_terminal {
        wrong.push(format!("expected {journaled_terminal} terminal record(s) after Started: {records:?}"));
    }
    let outcome = match outcome {
        Some(outcome) => outcome,
        None => match terminal.first() {
            Some(record) => Ok((*record).clone()),
            None => return Err(format!("aborted, and no terminal record: {records:?}")),
        },
    };
    let record = match (&outcome, expected) {
        (Err(escalation), Expected::NotJournaled) => {
            if escalation.record().lifecycle != Lifecycle::Completed || !escalation.second().contains("refused") {
                wrong.push(format!("not reported as a refused Completed record: {escalation}"));
            }
            None
        }
        (Err(escalation), Expected::Failed { escalated: true, .. }) => Some(escalation.record().clone()),
        (Ok(record), Expected::Failed { escalated: false, .. } | Expected::Cancelled { .. } | Expected::Completed) => {
            Some(record.clone())
        }
        (outcome, _) => {
            wrong.push(format!("wrong kind of outcome: {outcome:?}"));
            None
        }
    };
    if let Some(record) = record {
        if terminal.first().copied() != Some(&record) {
            wrong.push(format!("the outcome {record} is not the journaled terminal record {terminal:?}"));
        }
        let right = match (expected, &record.lifecycle) {
            (Expected::Failed { contains, escalated }, Lifecycle::Failed { error, escalation }) => {
                let text = format!("{error} {}", escalation.as_deref().unwrap_or(""));
                text.contains(contains.as_str()) && escalation.is_some() == *escalated
            }
            (Expected::Cancelled { contains }, Lifecycle::Cancelled { reason }) => reason.contains(contains),
            (Expected::Completed, Lifecycle::Completed) => true,
            _ => false,
        };
        if !right {
            wrong.push(format!("wrong record: {record}"));
        }
    }
    if ran != failure_actions {
        wrong.push(format!("failure actions ran {ran} times, expected {failure_actions}"));
    }
    if wrong.is_empty() {
        Ok(())
    } else {
        Err(wrong.join("; "))
    }
}
