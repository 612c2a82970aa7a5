//! A record whose serialization panics (user code, run under the journal's lock) leaves the journal as if it had never
//! been appended: the records after it append, read back and survive a reopen, with no damage and nothing cut.

use std::panic::{catch_unwind, AssertUnwindSafe};

use serde::{Serialize, Serializer};

use super::*;

/// A record that serializes a field, then panics half-way (a `RefCell` borrowed twice, an `unwrap` on a `None`).
#[derive(Debug, PartialEq, serde::Deserialize)]
struct Entry(String);

impl Serialize for Entry {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if let Some(rest) = self.0.strip_prefix("panic:") {
            // Encoded bytes are in the journal's buffer by now.
            let _ = serializer.serialize_str(rest);
            panic!("a record's serialization panicked");
        }
        serializer.serialize_str(&self.0)
    }
}

#[test]
fn a_record_whose_serialization_panics_is_not_appended_and_damages_nothing() {
    let every = Durability::Every { records: 4, interval: Duration::from_secs(3600) };
    for durability in [Durability::Os, every, Durability::EveryAppend] {
        let dir = tempfile::tempdir().unwrap();
        let opts = JournalOptions { buffer_bytes: 4096, segment_bytes: 4096, ..options(durability) };
        let journal = FileJournal::<Entry>::open(dir.path(), opts).unwrap();
        let mut appended = Vec::new();
        for i in 0..60u64 {
            if i % 7 == 3 {
                let panicking = Entry(format!("panic:{}", line(i)));
                let result = catch_unwind(AssertUnwindSafe(|| journal.append(panicking)));
                assert!(result.is_err(), "{durability:?}: the panic reaches the caller");
            } else {
                let position = journal.append(Entry(line(i))).unwrap();
                assert_eq!(position, appended.len() as u64, "{durability:?}");
                appended.push(Entry(line(i)));
            }
        }
        assert_eq!(journal.read_from(0).unwrap(), appended, "{durability:?}");
        drop(journal);
        let reopened = FileJournal::<Entry>::open(dir.path(), opts).unwrap();
        let recovery = reopened.recovery();
        assert!(recovery.damage.is_none() && recovery.truncated.is_none(), "{durability:?}: {recovery:?}");
        assert_eq!(reopened.read_from(0).unwrap(), appended, "{durability:?}");
    }
}
