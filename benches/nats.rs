//! Events per second through a durable link on NATS JetStream (producer and consumer on separate connections, as in
//! separate processes), beside the in-process durable link (file journal, policy `Os`), beside the limit: raw
//! `async-nats` publishing the same bytes in the same batches (one message per batch) with up to 256
//! acknowledgements in flight, as the link's pipelined appends have, to a stream consumed by an ordered consumer on
//! another connection; and, for information, the same raw publishing with the headers the link sends (message id,
//! expected last sequence), one acknowledgement at a time, and raw publishing of plain events (id and value, no
//! stagewise types) that it encodes with postcard as it publishes and decodes as it consumes, as a stage written by
//! hand on `async-nats` would: the limit gets its bytes made beforehand and never reads them. Run interleaved by the harness
//! (`benches/harness/`) against a `nats-server` it starts on a free loopback port with a temporary store.
//!
//! Run: `cargo bench --features nats --bench nats` (`NATS_BENCH_BATCHES` batches of 512 events a sample, default
//! 200; `STAGEWISE_BENCH_ROUNDS` rounds). Needs `nats-server` on the `PATH`.

#[path = "harness/mod.rs"]
mod harness;
#[path = "../tests/nats_support/mod.rs"]
mod nats_support;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use std::future::IntoFuture;

use futures_util::stream::{FuturesOrdered, StreamExt};
use harness::{ratio, timed, Bench, Clock, Elapsed, Stopwatch, Target};
use stagewise::journal::{Durability, JournalOptions};
use stagewise::nats::client::jetstream::consumer::{pull, DeliverPolicy};
use stagewise::nats::{connect, Context, NatsLog, PublishMessage, StreamSpec};
use stagewise::pipeline::durable::{Body, DurableLink, FileLog, LinkPolicy, LinkRecord};
use stagewise::pipeline::{Batch, Inlet, Message};
use stagewise::{ChainEvent, EventIds, StageContext, StageId, WriterId};

const LINK: &str = "JetStream link";
const FILE: &str = "in-process durable link";
const RAW: &str = "raw async-nats, 256 acks in flight";
const RAW_ONE: &str = "raw async-nats, one ack at a time";
const RAW_HEADERS: &str = "raw async-nats with the link's headers, 256 acks in flight";
const RAW_CODEC: &str = "raw async-nats encoding and decoding plain events (postcard), 256 acks in flight";

/// Acknowledgements in flight in the raw variants: the link's window.
const WINDOW: usize = 256;

/// Events per batch: the access-log example's batch.
const EVENTS: usize = 512;

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.replace('_', "").parse().ok()).unwrap_or(default)
}

/// `count` batches of [`EVENTS`] events, numbered on from 0.
fn batches(count: u64) -> Vec<Batch<u64>> {
    let mut ids = EventIds::new(WriterId::Stage(StageId(0)));
    let context = StageContext::new(StageId(0), "source");
    (0..count)
        .map(|b| {
            let first = b * EVENTS as u64;
            (first..first + EVENTS as u64).map(|v| ChainEvent::new(ids.next_id(), context.clone(), v)).collect()
        })
        .collect()
}

/// The bytes the link stores for `batches` and its end of stream: what the raw variants publish.
fn encoded(batches: Vec<Batch<u64>>) -> Vec<Vec<u8>> {
    let count = batches.len() as u64;
    let records =
        batches.into_iter().enumerate().map(|(i, b)| LinkRecord { input: i as u64 + 1, body: Body::Events(b) });
    records
        .chain([LinkRecord { input: count, body: Body::EndOfStream }])
        .map(|record| postcard::to_stdvec(&record).expect("encodes"))
        .collect()
}

/// An event as a hand-written stage on raw `async-nats` would send it: its id and its value, no stagewise types.
#[derive(serde::Serialize, serde::Deserialize)]
struct PlainEvent {
    id: u64,
    value: u64,
}

/// The same events as [`batches`], as plain events.
fn plain_batches(count: u64) -> Vec<Vec<PlainEvent>> {
    let batch = |b: u64| (b * EVENTS as u64..(b + 1) * EVENTS as u64).map(|v| PlainEvent { id: v, value: v });
    (0..count).map(|b| batch(b).collect()).collect()
}

/// What a message carries in the raw variants, and how the consumer takes it: bytes made beforehand, counted as
/// they come; or plain events, encoded as they are published and decoded as they come.
trait Payload: Send + 'static {
    fn bytes(self) -> Vec<u8>;
    fn take(bytes: &[u8]) -> usize;
}

impl Payload for Vec<u8> {
    fn bytes(self) -> Vec<u8> {
        self
    }

    fn take(bytes: &[u8]) -> usize {
        bytes.len()
    }
}

impl Payload for Vec<PlainEvent> {
    fn bytes(self) -> Vec<u8> {
        postcard::to_stdvec(&self).expect("encodes")
    }

    fn take(bytes: &[u8]) -> usize {
        postcard::from_bytes::<Vec<PlainEvent>>(bytes).expect("decodes").len()
    }
}

/// Events received until end of stream.
async fn drain(inlet: &mut Inlet<u64>) -> u64 {
    let mut events = 0;
    loop {
        match inlet.recv().await {
            Some(Message::Events(batch)) => events += batch.len() as u64,
            Some(Message::EndOfStream) => return events,
            None => panic!("the link ended without end of stream: {:?}", inlet.failure()),
        }
    }
}

/// Sends `batches` through `link`'s outlet, then end of stream.
async fn produce(link: DurableLink<u64>, batches: Vec<Batch<u64>>) {
    let out = link.outlet();
    for (i, batch) in batches.into_iter().enumerate() {
        out.mark_input(i as u64 + 1);
        out.send(batch).await.expect("appended");
    }
    out.end_of_stream().await.expect("appended");
}

/// The two connections (producer's, consumer's) and a fresh stream name per sample.
struct Setup {
    producer: Context,
    consumer: Context,
    samples: AtomicU64,
}

impl Setup {
    fn name(&self) -> String {
        format!("bench{}", self.samples.fetch_add(1, Ordering::Relaxed))
    }

    /// Deletes the sample's stream, so the store does not grow over the run.
    async fn clean(&self, name: &str) {
        let stream = StreamSpec::link(name, "link").expect("a link's names").name;
        self.producer.delete_stream(stream).await.expect("the sample's stream is deleted");
    }
}

async fn through_nats_link(setup: &Setup, batches: Vec<Batch<u64>>) -> Elapsed {
    let name = setup.name();
    let sent = batches.len() as u64 * EVENTS as u64;
    let producer = NatsLog::<u64>::open(&setup.producer, &name, "link").await.expect("the producer's log");
    let consumer = NatsLog::<u64>::open_following(&setup.consumer, &name, "link").await.expect("the consumer's log");
    let producer = DurableLink::new(Arc::new(producer), LinkPolicy::default());
    let consumer = DurableLink::new(Arc::new(consumer), LinkPolicy::default());
    let mut inlet = consumer.inlet_from(0, Arc::default());
    let watch = Stopwatch::start();
    let producing = tokio::spawn(produce(producer, batches));
    assert_eq!(drain(&mut inlet).await, sent);
    producing.await.expect("the producer");
    let elapsed = watch.elapsed();
    drop((inlet, consumer));
    setup.clean(&name).await;
    elapsed
}

async fn through_file_link(batches: Vec<Batch<u64>>) -> Elapsed {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let sent = batches.len() as u64 * EVENTS as u64;
    let log = FileLog::<u64>::open(dir.path(), JournalOptions::with_durability(Durability::Os)).expect("the log");
    let link = DurableLink::new(Arc::new(log), LinkPolicy::default());
    let mut inlet = link.inlet_from(0, Arc::default());
    let watch = Stopwatch::start();
    let producing = tokio::spawn(produce(link, batches));
    assert_eq!(drain(&mut inlet).await, sent);
    producing.await.expect("the producer");
    watch.elapsed()
}

/// Publishes `payloads` with at most `window` acknowledgements outstanding while an ordered consumer on the other
/// connection takes them; with `headers`, each message carries the link's message id and expected last sequence.
async fn raw<T: Payload>(setup: &Setup, payloads: Vec<T>, window: usize, headers: bool) -> Elapsed {
    let name = setup.name();
    // The stream a link of the same names has, written to directly.
    let spec = StreamSpec::link(&name, "link").expect("a link's names");
    let subject = spec.subjects[0].clone();
    spec.ensure(&setup.producer).await.expect("the stream");
    let stream = setup.consumer.get_stream(&spec.name).await.expect("the stream");
    let config = pull::OrderedConfig {
        filter_subject: subject.clone(),
        deliver_policy: DeliverPolicy::All,
        ..Default::default()
    };
    let mut messages = stream.create_consumer(config).await.expect("a consumer").messages().await.expect("messages");
    let count = payloads.len();
    let js = setup.producer.clone();
    let watch = Stopwatch::start();
    let producing = tokio::spawn(async move {
        let mut acks = FuturesOrdered::new();
        for (i, payload) in payloads.into_iter().enumerate() {
            let mut message = PublishMessage::build().payload(payload.bytes().into());
            if headers {
                message = message.message_id(format!("{subject}:{i}")).expected_last_sequence(i as u64);
            }
            acks.push_back(js.send_publish(subject.clone(), message).await.expect("published").into_future());
            while acks.len() >= window {
                acks.next().await.expect("one outstanding").expect("acknowledged");
            }
        }
        while let Some(ack) = acks.next().await {
            ack.expect("acknowledged");
        }
    });
    let mut taken = 0;
    for _ in 0..count {
        taken += T::take(&messages.next().await.expect("a message").expect("delivered").payload);
    }
    producing.await.expect("the producer");
    let elapsed = watch.elapsed();
    std::hint::black_box(taken);
    drop(messages);
    setup.clean(&name).await;
    elapsed
}

fn main() {
    let bench = Bench::from_env("nats");
    if !bench.wants("link") {
        return;
    }
    let smoke = std::env::args().all(|a| a != "--bench");
    let count = if smoke { 5 } else { env_or("NATS_BENCH_BATCHES", 200) };
    let server = nats_support::NatsServer::start();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let setup = rt.block_on(async {
        let producer = connect(&server.url(), Duration::from_secs(10)).await.expect("the bench server");
        let consumer = connect(&server.url(), Duration::from_secs(10)).await.expect("the bench server");
        Setup { producer, consumer, samples: AtomicU64::new(0) }
    });
    let events = count * EVENTS as u64;
    let (rt, setup) = (&rt, &setup);
    bench.clone().clock(Clock::Wall).compare(
        "link",
        "event",
        vec![
            timed(LINK, move |_| rt.block_on(through_nats_link(setup, batches(count)))).units(events),
            timed(FILE, move |_| rt.block_on(through_file_link(batches(count)))).units(events),
            timed(RAW, move |_| rt.block_on(raw(setup, encoded(batches(count)), WINDOW, false))).units(events),
            timed(RAW_ONE, move |_| rt.block_on(raw(setup, encoded(batches(count)), 1, false))).units(events),
            timed(RAW_HEADERS, move |_| rt.block_on(raw(setup, encoded(batches(count)), WINDOW, true))).units(events),
            timed(RAW_CODEC, move |_| rt.block_on(raw(setup, plain_batches(count), WINDOW, false))).units(events),
        ],
        &[
            ratio("throughput, JetStream link / raw, 256 acks in flight", RAW, LINK).target(Target::AtLeast(0.8)),
            ratio("throughput, JetStream link / in-process durable link", FILE, LINK),
            ratio("throughput, JetStream link / raw, one ack at a time", RAW_ONE, LINK),
            ratio("throughput, JetStream link / raw with the link's headers, 256 in flight", RAW_HEADERS, LINK),
            ratio("throughput, JetStream link / raw encoding and decoding plain events", RAW_CODEC, LINK),
        ],
    );
    drop(server);
}
