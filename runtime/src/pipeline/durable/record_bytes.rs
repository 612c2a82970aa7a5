//! A link record's postcard bytes written and read directly: the same bytes serde writes through
//! `batch_codec.rs`, with the per-event envelope (variant, context index, a status without error) done by hand and
//! only the payload, the context table, written-out ids and errors going through serde. For a link whose records
//! are always postcard (on a NATS stream). On the `nats` benchmark's 512-event batches of `u64` (release, load 7)
//! serde's path took about 16 ns an event to encode and 38 to decode, most of the decoding spent moving each event
//! through the layers of visitors; this path 8 and 9.
//! The bytes are the same either way (tests below), so either side reads what the other wrote.

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::batch_codec::Contexts;
use super::record::{Body, LinkRecord};
use crate::event::{ChainEvent, EventId, ProcessingStatus, StageContext};
use crate::journal::JournalError;

/// The variant index of [`Body::Events`] and [`Body::EndOfStream`], and of an event that follows the previous
/// one's id and of one with its id written out (`batch_codec.rs`).
const EVENTS: u64 = 0;
const END: u64 = 1;
const NEXT: u64 = 0;
const FULL: u64 = 1;
/// [`ProcessingStatus::Success`]'s variant index: one byte.
const SUCCESS: u8 = 0;

/// `record`'s postcard encoding, into a buffer of `capacity` bytes to begin with.
///
/// # Errors
/// [`JournalError::Codec`] when a payload cannot be encoded.
pub(crate) fn encode<P: Serialize>(record: &LinkRecord<P>, capacity: usize) -> Result<Vec<u8>, JournalError> {
    let mut out = Vec::with_capacity(capacity);
    varint(&mut out, record.input);
    match &record.body {
        Body::EndOfStream => varint(&mut out, END),
        Body::Events(events) => {
            varint(&mut out, EVENTS);
            encode_events(events, &mut out)?;
        }
    }
    Ok(out)
}

fn encode_events<P: Serialize>(events: &[ChainEvent<P>], out: &mut Vec<u8>) -> Result<(), JournalError> {
    // One pass over the events: their table of contexts, which comes first, is made on the way and put in front of
    // them at the end (moving a few kilobytes once instead of reading every event twice).
    let head = out.len();
    let mut contexts = Contexts { table: Vec::new() };
    varint(out, events.len() as u64);
    // One serializer for the batch: each payload's serialization is then inlined in this loop, not a call apiece.
    let mut serializer = postcard::Serializer { output: Tail(out) };
    let mut previous: Option<EventId> = None;
    let mut context = 0;
    for event in events {
        context = contexts.index(&event.context, context).unwrap_or_else(|| {
            contexts.table.push(&event.context);
            contexts.table.len() - 1
        });
        let follows =
            previous.is_some_and(|p| p.writer == event.id.writer && p.seq.checked_add(1) == Some(event.id.seq));
        let out = &mut *serializer.output.0;
        varint(out, if follows { NEXT } else { FULL });
        varint(out, context as u64);
        if !follows {
            event.id.serialize(&mut serializer).map_err(codec)?;
        }
        event.payload.serialize(&mut serializer).map_err(codec)?;
        match &event.status {
            ProcessingStatus::Success => serializer.output.0.push(SUCCESS),
            failed => failed.serialize(&mut serializer).map_err(codec)?,
        }
        previous = Some(event.id);
    }
    let mut table = Vec::new();
    serde_into(&contexts.table, &mut table)?;
    out.splice(head..head, table);
    Ok(())
}

/// A postcard error as the journal's codec error.
fn codec(error: postcard::Error) -> JournalError {
    JournalError::Codec(error.to_string())
}

/// Decodes what [`encode`] (or serde's postcard) wrote; bytes left over are an error (a damaged record).
///
/// # Errors
/// [`JournalError::Codec`] when `bytes` are not such a record.
pub(crate) fn decode<P: DeserializeOwned>(bytes: &[u8]) -> Result<LinkRecord<P>, JournalError> {
    let mut input = Input(bytes);
    let position = input.varint()?;
    let body = match input.varint()? {
        EVENTS => Body::Events(decode_events(&mut input)?),
        END => Body::EndOfStream,
        other => return Err(invalid(format!("body variant {other}"))),
    };
    match input.0.is_empty() {
        true => Ok(LinkRecord { input: position, body }),
        false => Err(invalid(format!("{} bytes past the record", input.0.len()))),
    }
}

fn decode_events<P: DeserializeOwned>(input: &mut Input<'_>) -> Result<Vec<ChainEvent<P>>, JournalError> {
    let contexts: Vec<StageContext> = input.serde()?;
    let count = input.varint()?;
    // Each event takes at least three bytes (variant, context index, status).
    let count = usize::try_from(count)
        .ok()
        .filter(|&c| c <= input.0.len() / 3)
        .ok_or_else(|| invalid(format!("{count} events in {} bytes", input.0.len())))?;
    let mut events: Vec<ChainEvent<P>> = Vec::with_capacity(count);
    let mut previous: Option<EventId> = None;
    for _ in 0..count {
        let full = match input.varint()? {
            NEXT => false,
            FULL => true,
            other => return Err(invalid(format!("event variant {other}"))),
        };
        let index = input.varint()?;
        let context = usize::try_from(index)
            .ok()
            .and_then(|i| contexts.get(i))
            .ok_or_else(|| invalid(format!("context {index} of a table of {}", contexts.len())))?
            .clone();
        let id = match (full, previous) {
            (true, _) => input.serde()?,
            (false, Some(previous)) => EventId {
                writer: previous.writer,
                seq: previous.seq.checked_add(1).ok_or_else(|| invalid("an event id past the last one".to_owned()))?,
            },
            (false, None) => return Err(invalid("the first event of a batch has no id".to_owned())),
        };
        let payload = input.serde()?;
        let status = match input.0.first() {
            Some(&SUCCESS) => {
                input.0 = &input.0[1..];
                ProcessingStatus::Success
            }
            _ => input.serde()?,
        };
        previous = Some(id);
        if events.len() == events.capacity() {
            // Never: the room was made for `count`. Said so, the push below cannot grow the batch, and the event is
            // written in place instead of assembled aside and copied (a store-forwarding stall an event).
            return Err(invalid("more events than counted".to_owned()));
        }
        events.push(ChainEvent { id, context, payload, status });
    }
    Ok(events)
}

/// Appends `value`'s postcard encoding to `out`.
fn serde_into<T: Serialize + ?Sized>(value: &T, out: &mut Vec<u8>) -> Result<(), JournalError> {
    postcard::serialize_with_flavor::<T, _, _>(value, Tail(out)).map_err(codec)
}

/// Appends `value` as postcard's variable-length integer.
#[inline]
fn varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push(value as u8 | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn invalid(why: String) -> JournalError {
    JournalError::Codec(format!("not a link record: {why}"))
}

/// The bytes not read yet.
struct Input<'a>(&'a [u8]);

impl Input<'_> {
    /// A variable-length integer, as postcard reads one (at most ten bytes).
    #[inline]
    fn varint(&mut self) -> Result<u64, JournalError> {
        let mut value = 0u64;
        for (i, &byte) in self.0.iter().take(10).enumerate() {
            value |= u64::from(byte & 0x7f) << (7 * i);
            if byte < 0x80 {
                if i == 9 && byte > 1 {
                    break; // past 64 bits
                }
                self.0 = &self.0[i + 1..];
                return Ok(value);
            }
        }
        Err(invalid("a bad or cut variable-length integer".to_owned()))
    }

    /// A value through serde.
    fn serde<T: DeserializeOwned>(&mut self) -> Result<T, JournalError> {
        let (value, rest) = postcard::take_from_bytes(self.0).map_err(|e| JournalError::Codec(e.to_string()))?;
        self.0 = rest;
        Ok(value)
    }
}

/// Postcard's output appended to a buffer a slice at a time.
struct Tail<'a>(&'a mut Vec<u8>);

impl postcard::ser_flavors::Flavor for Tail<'_> {
    type Output = ();

    #[inline]
    fn try_extend(&mut self, data: &[u8]) -> postcard::Result<()> {
        // A varint or a small payload: byte by byte beats a call to `memcpy` for each.
        if data.len() <= 16 {
            self.0.reserve(data.len());
            for &byte in data {
                self.0.push(byte);
            }
        } else {
            self.0.extend_from_slice(data);
        }
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
    use crate::event::{ErrorKind, EventIds, StageId, WriterId};

    /// Both paths write the same bytes, and each reads the other's back whole.
    fn same_both_ways<P>(record: LinkRecord<P>)
    where
        P: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug,
    {
        let by_serde = postcard::to_stdvec(&record).expect("encodes");
        let direct = encode(&record, 0).expect("encodes");
        assert_eq!(direct, by_serde);
        assert_eq!(decode::<P>(&by_serde).expect("decodes"), record);
        assert_eq!(postcard::from_bytes::<LinkRecord<P>>(&direct).expect("decodes"), record);
    }

    #[test]
    fn a_batch_of_one_writer_in_order_is_the_same_bytes_as_serdes() {
        let mut ids = EventIds::new(WriterId::Stage(StageId(3)));
        let parse = StageContext::new(StageId(3), "parse");
        let events: Vec<_> = (0..600u64).map(|i| ChainEvent::new(ids.next_id(), parse.clone(), i * 977)).collect();
        same_both_ways(LinkRecord { input: 1 << 40, body: Body::Events(events) });
        same_both_ways(LinkRecord::<u64> { input: 0, body: Body::EndOfStream });
        same_both_ways(LinkRecord::<String> { input: 5, body: Body::Events(Vec::new()) });
    }

    #[test]
    fn mixed_contexts_writers_gaps_and_errors_are_the_same_bytes_as_serdes() {
        let (a, b) = (StageContext::new(StageId(1), "a"), StageContext::new(StageId(200), "b"));
        let id = |writer, seq| EventId { writer, seq };
        let events = vec![
            ChainEvent::new(id(WriterId::Stage(StageId(1)), 5), a.clone(), "x".to_owned()),
            ChainEvent::new(id(WriterId::Stage(StageId(1)), 6), b.clone(), "y".to_owned()),
            ChainEvent::new(id(WriterId::System, 7), b.clone(), "z".to_owned()),
            ChainEvent::new(id(WriterId::System, 9), a.clone(), "w".to_owned()).into_error(ErrorKind::Parse, "bad"),
            ChainEvent::new(id(WriterId::System, u64::MAX), a, String::new()),
            ChainEvent::new(id(WriterId::System, 0), b, "u".repeat(300)),
        ];
        same_both_ways(LinkRecord { input: 3, body: Body::Events(events) });
    }

    #[test]
    fn cut_or_padded_bytes_are_errors_not_panics() {
        let mut ids = EventIds::new(WriterId::System);
        let s = StageContext::new(StageId(0), "s");
        let events: Vec<_> = (0..4u64).map(|i| ChainEvent::new(ids.next_id(), s.clone(), i << 20)).collect();
        let bytes = encode(&LinkRecord { input: 9, body: Body::Events(events) }, 0).expect("encodes");
        for cut in 0..bytes.len() {
            assert!(decode::<u64>(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let mut padded = bytes.clone();
        padded.push(0);
        assert!(decode::<u64>(&padded).is_err());
        // Ten bytes of continuation: not a varint.
        assert!(decode::<u64>(&[0xff; 11]).is_err());
    }
}
