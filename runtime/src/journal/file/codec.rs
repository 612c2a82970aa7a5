//! How records become bytes: serde with a compact binary format (postcard, the default) or JSON.
//!
//! Postcard won on the benchmark (`cargo bench --bench journal -- codec`): smaller records and faster encoding and
//! decoding than JSON for the records stagewise journals; see `journal/README.md` for the numbers. JSON stays
//! available for journals that people or other tools read.

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::super::JournalError;

/// The serialization format of a journal's records, fixed per journal and recorded in every segment header.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Format {
    /// postcard: a compact binary serde format with variable-length integers. Not self-describing, so a record
    /// type must keep its field order to stay readable.
    #[default]
    Postcard,
    /// JSON, one document per record: larger and slower, but readable by people and other tools, and tolerant of
    /// added optional fields.
    Json,
}

impl Format {
    /// The byte stored in segment headers.
    pub(crate) fn id(self) -> u8 {
        match self {
            Format::Postcard => 1,
            Format::Json => 2,
        }
    }

    /// The format a segment header's byte names.
    pub(crate) fn from_id(id: u8) -> Option<Self> {
        match id {
            1 => Some(Format::Postcard),
            2 => Some(Format::Json),
            _ => None,
        }
    }

    /// Appends the encoding of `record` to `out`. Inlined into the append path (one call fewer per append).
    #[inline]
    pub(crate) fn encode<R: Serialize>(self, record: &R, out: &mut Vec<u8>) -> Result<(), JournalError> {
        match self {
            Format::Postcard => postcard::serialize_with_flavor::<R, _, _>(record, Tail(out))
                .map_err(|e| JournalError::Codec(e.to_string())),
            Format::Json => serde_json::to_writer(out, record).map_err(|e| JournalError::Codec(e.to_string())),
        }
    }

    /// Decodes one record from `bytes`.
    pub(crate) fn decode<R: DeserializeOwned>(self, bytes: &[u8]) -> Result<R, JournalError> {
        match self {
            Format::Postcard => postcard::from_bytes(bytes).map_err(|e| JournalError::Codec(e.to_string())),
            Format::Json => serde_json::from_slice(bytes).map_err(|e| JournalError::Codec(e.to_string())),
        }
    }
}

/// Postcard's output appended to the journal's buffer, a slice at a time (postcard's own `Extend` flavor pushes byte
/// by byte: the encode cost 1.6x as much on the `journal` benchmark's profile).
struct Tail<'a>(&'a mut Vec<u8>);

impl postcard::ser_flavors::Flavor for Tail<'_> {
    type Output = ();

    #[inline]
    fn try_extend(&mut self, data: &[u8]) -> postcard::Result<()> {
        self.0.extend_from_slice(data);
        Ok(())
    }

    #[inline]
    fn try_push(&mut self, data: u8) -> postcard::Result<()> {
        self.0.push(data);
        Ok(())
    }

    #[inline]
    fn finalize(self) -> postcard::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::counters::CounterSnapshot;
    use crate::event::{StageId, WriterId};
    use crate::lifecycle::{Lifecycle, LifecycleRecord};

    fn record() -> LifecycleRecord {
        LifecycleRecord {
            supervisor: "parser".into(),
            writer: WriterId::Stage(StageId(3)),
            stage: Some(StageId(3)),
            state: "Failed".into(),
            lifecycle: Lifecycle::Failed { error: "disk full".into(), escalation: None },
            counters: CounterSnapshot { loop_turns: 7, transitions: 5, failures: 1 },
        }
    }

    #[test]
    fn each_format_round_trips_a_lifecycle_record() {
        for format in [Format::Postcard, Format::Json] {
            let mut bytes = b"prefix".to_vec();
            format.encode(&record(), &mut bytes).unwrap();
            assert_eq!(format.decode::<LifecycleRecord>(&bytes[6..]).unwrap(), record(), "{format:?}");
        }
    }

    #[test]
    fn format_ids_round_trip() {
        for format in [Format::Postcard, Format::Json] {
            assert_eq!(Format::from_id(format.id()), Some(format));
        }
        assert_eq!(Format::from_id(0), None);
    }
}
