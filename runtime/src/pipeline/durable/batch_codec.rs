//! How a link record stores its batch: the stage contexts the batch's events name, once each, in a table at its head;
//! then per event the index of its context in that table, its id only when it does not follow the previous event's
//! (same writer, next sequence), its payload and its status. A batch of one stage's events numbered in order (the
//! usual one) then costs two bytes an event beside its payload and status, instead of the stage's id and name and
//! the whole id in every event: less to encode on the producer, to store and send, and to decode on the consumer.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, DeserializeSeed, EnumAccess, SeqAccess, VariantAccess, Visitor};
use serde::ser::{SerializeSeq, SerializeTuple, SerializeTupleVariant};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::event::{ChainEvent, EventId, StageContext};

const EVENT: &str = "Event";
/// An event whose id follows the previous event's; an event with its id written out.
const VARIANTS: &[&str] = &["Next", "Full"];

/// Serializes `events` as described in the module's documentation.
pub(crate) fn serialize<P: Serialize, S: Serializer>(
    events: &[ChainEvent<P>],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    let contexts = Contexts::of(events);
    let mut batch = serializer.serialize_tuple(2)?;
    batch.serialize_element(&contexts.table)?;
    batch.serialize_element(&Encoded { events, contexts: &contexts })?;
    batch.end()
}

/// Deserializes what [`serialize`] wrote.
pub(crate) fn deserialize<'de, P: Deserialize<'de>, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<ChainEvent<P>>, D::Error> {
    deserializer.deserialize_tuple(2, BatchVisitor(PhantomData))
}

/// The distinct contexts of a batch, in the order they first appear.
pub(super) struct Contexts<'a> {
    pub(super) table: Vec<&'a StageContext>,
}

impl<'a> Contexts<'a> {
    pub(super) fn of<P>(events: &'a [ChainEvent<P>]) -> Self {
        let mut contexts = Self { table: Vec::new() };
        let mut last = 0;
        for event in events {
            last = contexts.index(&event.context, last).unwrap_or_else(|| {
                contexts.table.push(&event.context);
                contexts.table.len() - 1
            });
        }
        contexts
    }

    /// The index of `context` in the table, trying `hint` (the previous event's) first.
    #[inline]
    pub(super) fn index(&self, context: &StageContext, hint: usize) -> Option<usize> {
        // Events of one stage share its static name: comparing where it lies settles most comparisons.
        let same = |c: &&StageContext| {
            c.stage == context.stage && (std::ptr::eq(c.name.as_ref(), context.name.as_ref()) || c.name == context.name)
        };
        if self.table.get(hint).is_some_and(same) {
            return Some(hint);
        }
        self.table.iter().position(same)
    }
}

/// The events after the table.
struct Encoded<'a, P> {
    events: &'a [ChainEvent<P>],
    contexts: &'a Contexts<'a>,
}

impl<P: Serialize> Serialize for Encoded<'_, P> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.events.len()))?;
        let mut previous: Option<EventId> = None;
        let mut context = 0;
        for event in self.events {
            context = self.contexts.index(&event.context, context).unwrap_or_default();
            let follows =
                previous.is_some_and(|p| p.writer == event.id.writer && p.seq.checked_add(1) == Some(event.id.seq));
            seq.serialize_element(&Written { context: context as u32, follows, event })?;
            previous = Some(event.id);
        }
        seq.end()
    }
}

/// One event as written.
struct Written<'a, P> {
    context: u32,
    follows: bool,
    event: &'a ChainEvent<P>,
}

impl<P: Serialize> Serialize for Written<'_, P> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let event = self.event;
        if self.follows {
            let mut fields = serializer.serialize_tuple_variant(EVENT, 0, VARIANTS[0], 3)?;
            fields.serialize_field(&self.context)?;
            fields.serialize_field(&event.payload)?;
            fields.serialize_field(&event.status)?;
            fields.end()
        } else {
            let mut fields = serializer.serialize_tuple_variant(EVENT, 1, VARIANTS[1], 4)?;
            fields.serialize_field(&self.context)?;
            fields.serialize_field(&event.id)?;
            fields.serialize_field(&event.payload)?;
            fields.serialize_field(&event.status)?;
            fields.end()
        }
    }
}

struct BatchVisitor<P>(PhantomData<fn() -> P>);

impl<'de, P: Deserialize<'de>> Visitor<'de> for BatchVisitor<P> {
    type Value = Vec<ChainEvent<P>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a batch: its contexts, then its events")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let contexts: Vec<StageContext> = seq.next_element()?.ok_or_else(|| de::Error::invalid_length(0, &self))?;
        let events = EventsSeed { contexts: &contexts, _payload: PhantomData };
        seq.next_element_seed(events)?.ok_or_else(|| de::Error::invalid_length(1, &self))
    }
}

/// The events, given the batch's contexts.
struct EventsSeed<'c, P> {
    contexts: &'c [StageContext],
    _payload: PhantomData<fn() -> P>,
}

impl<'de, P: Deserialize<'de>> DeserializeSeed<'de> for EventsSeed<'_, P> {
    type Value = Vec<ChainEvent<P>>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de, P: Deserialize<'de>> Visitor<'de> for EventsSeed<'_, P> {
    type Value = Vec<ChainEvent<P>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a batch's events")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut events: Vec<ChainEvent<P>> = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        loop {
            let previous = events.last().map(|e| e.id);
            let seed = EventSeed { contexts: self.contexts, previous, _payload: PhantomData };
            match seq.next_element_seed(seed)? {
                Some(event) => events.push(event),
                None => return Ok(events),
            }
        }
    }
}

/// One event, given the batch's contexts and the previous event's id.
struct EventSeed<'c, P> {
    contexts: &'c [StageContext],
    previous: Option<EventId>,
    _payload: PhantomData<fn() -> P>,
}

impl<'de, P: Deserialize<'de>> DeserializeSeed<'de> for EventSeed<'_, P> {
    type Value = ChainEvent<P>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_enum(EVENT, VARIANTS, self)
    }
}

impl<'de, P: Deserialize<'de>> Visitor<'de> for EventSeed<'_, P> {
    type Value = ChainEvent<P>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an event of a batch")
    }

    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<Self::Value, A::Error> {
        let (variant, fields): (u32, _) = data.variant()?;
        match variant {
            0 => fields.tuple_variant(3, Fields { seed: self, full: false }),
            1 => fields.tuple_variant(4, Fields { seed: self, full: true }),
            _ => Err(de::Error::invalid_value(de::Unexpected::Unsigned(variant.into()), &"0 or 1")),
        }
    }

    // A plain sequence of the fields (a format that writes variants that way) is read as a whole event.
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        Fields { seed: self, full: true }.visit_seq(seq)
    }
}

/// An event's fields: context index, id (when `full`), payload, status.
struct Fields<'c, P> {
    seed: EventSeed<'c, P>,
    full: bool,
}

impl<'de, P: Deserialize<'de>> Visitor<'de> for Fields<'_, P> {
    type Value = ChainEvent<P>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an event's context index, id, payload and status")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let missing = |at: usize| de::Error::invalid_length(at, &"an event's fields");
        let index: u32 = seq.next_element()?.ok_or_else(|| missing(0))?;
        let context = self.seed.contexts.get(index as usize).cloned().ok_or_else(|| {
            de::Error::invalid_value(de::Unexpected::Unsigned(index.into()), &"an index into the batch's contexts")
        })?;
        let id = match (self.full, self.seed.previous) {
            (true, _) => seq.next_element::<EventId>()?.ok_or_else(|| missing(1))?,
            (false, Some(previous)) => EventId {
                writer: previous.writer,
                seq: previous.seq.checked_add(1).ok_or_else(|| de::Error::custom("an event id past the last one"))?,
            },
            (false, None) => return Err(de::Error::custom("the first event of a batch has no id")),
        };
        let after = 1 + usize::from(self.full);
        let payload = seq.next_element()?.ok_or_else(|| missing(after))?;
        let status = seq.next_element()?.ok_or_else(|| missing(after + 1))?;
        Ok(ChainEvent { id, context, payload, status })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{ErrorKind, EventIds, StageId, WriterId};
    use crate::pipeline::durable::{Body, LinkRecord};

    fn round_trip(events: Vec<ChainEvent<String>>) {
        let record = LinkRecord { input: 7, body: Body::Events(events) };
        let bytes = postcard::to_stdvec(&record).expect("encodes");
        let back: LinkRecord<String> = postcard::from_bytes(&bytes).expect("decodes");
        assert_eq!(back, record);
    }

    #[test]
    fn a_batch_of_one_writer_in_order_comes_back_whole_and_small() {
        let mut ids = EventIds::new(WriterId::Stage(StageId(3)));
        let parse = StageContext::new(StageId(3), "parse");
        let events: Vec<_> = (0..512).map(|i| ChainEvent::new(ids.next_id(), parse.clone(), i.to_string())).collect();
        let payloads: usize = events.iter().map(|e| e.payload.len() + 1).sum();
        let record = LinkRecord { input: 1, body: Body::Events(events.clone()) };
        let bytes = postcard::to_stdvec(&record).expect("encodes");
        // Past the table and the first id: variant, context index, payload and status, per event.
        assert!(bytes.len() <= payloads + 3 * 512 + 32, "{} bytes for {payloads} of payloads", bytes.len());
        round_trip(events);
    }

    #[test]
    fn mixed_contexts_writers_gaps_and_errors_come_back_whole() {
        let (a, b) = (StageContext::new(StageId(1), "a"), StageContext::new(StageId(2), "b"));
        let id = |writer, seq| EventId { writer, seq };
        let events = vec![
            ChainEvent::new(id(WriterId::Stage(StageId(1)), 5), a.clone(), "x".to_owned()),
            ChainEvent::new(id(WriterId::Stage(StageId(1)), 6), b.clone(), "y".to_owned()),
            ChainEvent::new(id(WriterId::System, 7), b.clone(), "z".to_owned()),
            ChainEvent::new(id(WriterId::System, 9), a.clone(), "w".to_owned()).into_error(ErrorKind::Parse, "bad"),
            ChainEvent::new(id(WriterId::System, u64::MAX), a, "v".to_owned()),
            ChainEvent::new(id(WriterId::System, 0), b, "u".to_owned()),
        ];
        round_trip(events);
        round_trip(Vec::new());
    }

    #[test]
    fn an_index_past_the_table_is_an_error_not_a_panic() {
        let events =
            vec![ChainEvent::new(EventIds::new(WriterId::System).next_id(), StageContext::new(StageId(0), "s"), 1u8)];
        let mut bytes = postcard::to_stdvec(&LinkRecord { input: 0, body: Body::Events(events) }).expect("encodes");
        // input, body variant, table length, the context (stage, name length, name), event count, event variant:
        // then the context index.
        let at = 1 + 1 + 1 + 3 + 1 + 1;
        bytes[at] = 9;
        assert!(postcard::from_bytes::<LinkRecord<u8>>(&bytes).is_err());
    }
}
