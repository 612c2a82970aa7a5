//! A durable link on JetStream against a real `nats-server` (feature `nats`): the producer and the consumer use
//! separate connections, as separate processes would; each append returns once the server acknowledged it; the
//! consumer follows the producer's tail; a consumer killed mid-stream and started again from its durable position
//! gets the same records again; a second producer on the same link is refused (also when both retry on a stalled
//! server); a server restarted mid-stream loses and doubles nothing; a consumer reading through a durable JetStream
//! consumer that acknowledges only what it committed holds back the producer of another connection at its ack
//! floor, and reads its unacknowledged records again after a restart; a consumer whose stream is started over (a new run) stops instead of reading on into it; a
//! pipeline whose input is a link another process writes, stopped while it waits for records, ends by draining (its
//! input ends this run) and its next run takes up where it stopped; the longest names it takes the server takes.

mod nats_support;
mod pipeline_support;

use std::sync::Arc;
use std::time::Duration;

use nats_support::{chain, NatsServer};
use pipeline_support::RelaySpec;
use stagewise::journal::MemoryJournal;
use stagewise::nats::{connect, Context, Member, NatsError, NatsLog, StreamSpec};
use stagewise::pipeline::durable::{Body, DurableLink, LinkLog, LinkPolicy, LinkRecord};
use stagewise::pipeline::{Batch, Inlet, Message, Pipeline, PipelineHandle};
use stagewise::{ChainEvent, Control, EventIds, Lifecycle, StageContext, StageId, WriterId};

/// How long a test waits for the server before calling it a hang: generous, for a loaded machine.
const DEADLINE: Duration = Duration::from_secs(60);

async fn link(server: &NatsServer, following: bool) -> (DurableLink<u64>, Arc<NatsLog<u64>>) {
    link_in(server, "test", following).await
}

/// The link `numbers` of `pipeline`. Consumers of a pipeline acknowledge once its producers in this process have
/// stored their appends: tests that restart their server use a pipeline of their own, so the others' acknowledgements
/// do not wait on appends held up by that restart.
async fn link_in(server: &NatsServer, pipeline: &str, following: bool) -> (DurableLink<u64>, Arc<NatsLog<u64>>) {
    let js = connect(&server.url(), DEADLINE).await.expect("the test server is up");
    let log = match following {
        false => NatsLog::open(&js, pipeline, "numbers").await,
        true => NatsLog::open_following(&js, pipeline, "numbers").await,
    };
    let log = Arc::new(log.expect("the link's stream opens"));
    (DurableLink::new(log.clone(), LinkPolicy::default()), log)
}

fn batch(ids: &mut EventIds, values: std::ops::Range<u64>) -> Batch<u64> {
    values.map(|v| ChainEvent::new(ids.next_id(), StageContext::new(StageId(0), "source"), v)).collect()
}

/// Sends `batches` batches of 10 values from 0 on, then end of stream.
async fn produce(link: &DurableLink<u64>, batches: u64) {
    let out = link.outlet();
    let mut ids = EventIds::new(WriterId::Stage(StageId(0)));
    for b in 0..batches {
        out.mark_input(b + 1);
        out.send(batch(&mut ids, b * 10..b * 10 + 10)).await.expect("acknowledged");
    }
    out.end_of_stream().await.expect("acknowledged");
}

/// The values of the next `records` messages (all of them up to end of stream with `None`).
async fn consume(inlet: &mut Inlet<u64>, records: Option<usize>) -> (Vec<u64>, bool) {
    let mut values = Vec::new();
    for _ in 0..records.unwrap_or(usize::MAX) {
        match tokio::time::timeout(DEADLINE, inlet.recv()).await.expect("the consumer follows the producer") {
            Some(Message::Events(events)) => values.extend(events.iter().map(|e| e.payload)),
            Some(Message::EndOfStream) => return (values, true),
            None => panic!("the link ended without end of stream: {:?}", inlet.failure()),
        }
    }
    (values, false)
}

#[tokio::test]
async fn batches_reach_a_consumer_on_another_connection_in_order_each_acknowledged() {
    let server = NatsServer::start();
    let (consumer_link, _) = link(&server, true).await;
    let mut inlet = consumer_link.inlet_from(0, Arc::default());
    let (producer_link, producer_log) = link(&server, false).await;
    let producing = tokio::spawn(async move {
        produce(&producer_link, 30).await;
        producer_log.len()
    });
    let (values, ended) = consume(&mut inlet, None).await;
    assert!(ended);
    assert_eq!(values, (0..300).collect::<Vec<u64>>());
    assert_eq!(
        producing.await.unwrap(),
        31,
        "30 batches and the end of stream, all stored when the end of stream returned"
    );
}

#[tokio::test]
async fn a_consumer_killed_mid_stream_gets_the_records_after_its_durable_position_again() {
    let server = NatsServer::start();
    let (producer_link, _) = link(&server, false).await;
    produce(&producer_link, 20).await;

    // The first consumer reads 12 records, has made the first 8 durable downstream, and is killed.
    let (first, _) = link(&server, true).await;
    let mut inlet = first.inlet_from(0, Arc::default());
    let (seen, _) = consume(&mut inlet, Some(12)).await;
    drop((inlet, first));

    // Started again from its durable position: records 8.. again, the same ones, then the rest.
    let (again, log) = link(&server, true).await;
    let mut inlet = again.inlet_from(8, Arc::default());
    let (values, ended) = consume(&mut inlet, None).await;
    assert!(ended);
    assert_eq!(values[..40], seen[80..], "records 8 to 11 delivered again, identical");
    assert_eq!(values, (80..200).collect::<Vec<u64>>());
    let stored: Vec<LinkRecord<u64>> = log.read(0, 100).await.unwrap();
    assert_eq!(stored.len(), 21, "nothing stored twice");
}

#[tokio::test]
async fn a_second_producer_on_the_same_link_is_refused() {
    let server = NatsServer::start();
    let (first, _) = link(&server, false).await;
    let (second, _) = link(&server, false).await;
    let mut ids = EventIds::new(WriterId::Stage(StageId(0)));
    let first = first.outlet();
    first.send(batch(&mut ids, 0..10)).await.expect("the first producer appends");
    first.end_of_stream().await.expect("stored");
    // Appends are pipelined: the refusal comes with the next append or, at the latest, the end of stream.
    let second = second.outlet();
    let refused = match second.send(batch(&mut ids, 10..20)).await {
        Ok(()) => second.end_of_stream().await.expect_err("the second is refused"),
        Err(refused) => refused,
    };
    let chain = format!("{refused}: {:?}", std::error::Error::source(&refused).map(ToString::to_string));
    assert!(chain.contains("another writer appended to test.numbers"), "{chain}");
}

#[tokio::test]
async fn a_server_restarted_mid_stream_loses_and_doubles_nothing() {
    let server = NatsServer::start();
    let (consumer_link, _) = link_in(&server, "restarting", true).await;
    restarted_mid_stream(server, consumer_link).await;
}

#[tokio::test]
async fn a_server_restarted_mid_stream_loses_and_doubles_nothing_for_an_acknowledging_consumer() {
    let server = NatsServer::start();
    let js = connect(&server.url(), DEADLINE).await.unwrap();
    // Room for the whole stream: this consumer commits nothing.
    let log = NatsLog::open_acknowledging(&js, "restarting", "numbers", "numbers-reader", 64).await.unwrap();
    restarted_mid_stream(server, DurableLink::new(Arc::new(log), LinkPolicy::default())).await;
}

/// 30 batches through `consumer_link` while `server` restarts after the fifth: every value once, in order.
async fn restarted_mid_stream(mut server: NatsServer, consumer_link: DurableLink<u64>) {
    let mut inlet = consumer_link.inlet_from(0, Arc::default());
    let (producer_link, producer_log) = link_in(&server, "restarting", false).await;
    let producing = tokio::spawn(async move {
        let out = producer_link.outlet();
        let mut ids = EventIds::new(WriterId::Stage(StageId(0)));
        for b in 0..30 {
            out.mark_input(b + 1);
            out.send(batch(&mut ids, b * 10..b * 10 + 10)).await.expect("stored across the restart");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        out.end_of_stream().await.expect("stored");
        producer_log.len()
    });
    let (before, _) = consume(&mut inlet, Some(5)).await;
    // Same port, same store: both connections come back on their own.
    let _server = tokio::task::spawn_blocking(move || {
        server.restart();
        server
    })
    .await
    .unwrap();
    let mut values = before;
    let deadline = Duration::from_secs(30);
    let (after, ended) = tokio::time::timeout(deadline, async {
        let mut after = Vec::new();
        loop {
            match inlet.recv().await {
                Some(Message::Events(events)) => after.extend(events.iter().map(|e| e.payload)),
                Some(Message::EndOfStream) => return (after, true),
                None => return (after, false),
            }
        }
    })
    .await
    .expect("the consumer follows again after the restart");
    assert!(ended, "{:?}", inlet.failure());
    values.extend(after);
    assert_eq!(values, (0..300).collect::<Vec<u64>>(), "every value once, in order");
    assert_eq!(producing.await.unwrap(), 31, "30 batches and the end of stream, none stored twice");
}

/// The values of the records from `position` up to end of stream, committing each record's predecessors before
/// asking for it, as a stage whose every output is durable at once would.
async fn consume_committing(inlet: &mut Inlet<u64>, mut position: u64) -> Vec<u64> {
    let mut values = Vec::new();
    loop {
        inlet.commit(position);
        match tokio::time::timeout(DEADLINE, inlet.recv()).await.expect("the producer goes on") {
            Some(Message::Events(events)) => values.extend(events.iter().map(|e| e.payload)),
            Some(Message::EndOfStream) => return values,
            None => panic!("the link ended without end of stream: {:?}", inlet.failure()),
        }
        position += 1;
    }
}

/// Waits until `log` holds `records` records (a hang bound, not a speed check).
async fn until_len(log: &NatsLog<u64>, records: u64) {
    tokio::time::timeout(DEADLINE, async {
        while log.len() < records {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("the producer appends while it has room");
}

#[tokio::test]
async fn a_consumer_that_does_not_commit_holds_back_the_producer_of_another_process_at_its_ack_floor() {
    let server = NatsServer::start();
    const BOUND: u64 = 4;
    let js = connect(&server.url(), DEADLINE).await.unwrap();
    let log = NatsLog::open_acknowledging(&js, "test", "numbers", "numbers-reader", BOUND).await.unwrap();
    let consumer_link = DurableLink::new(Arc::new(log), LinkPolicy { read_ahead: 2, ..LinkPolicy::default() });
    let mut inlet = consumer_link.inlet_from(0, Arc::default());
    let js = connect(&server.url(), DEADLINE).await.unwrap();
    let producer_log =
        Arc::new(NatsLog::open(&js, "test", "numbers").await.unwrap().bounded_by("numbers-reader", BOUND));
    let producing = {
        let link = DurableLink::new(producer_log.clone(), LinkPolicy::default());
        tokio::spawn(async move { produce(&link, 20).await })
    };

    // The consumer reads what it is given and commits nothing: the producer stops BOUND records past the floor.
    let (values, _) = consume(&mut inlet, Some(BOUND as usize)).await;
    assert_eq!(values, (0..40).collect::<Vec<u64>>());
    until_len(&producer_log, BOUND).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(producer_log.len(), BOUND, "the producer waits for the consumer's acknowledgement");

    // It commits 3 records (acknowledged on the server): the producer gets room for 3 more, and no more.
    inlet.commit(3);
    until_len(&producer_log, BOUND + 3).await;
    let (values, _) = consume(&mut inlet, Some(3)).await;
    assert_eq!(values, (40..70).collect::<Vec<u64>>());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(producer_log.len(), BOUND + 3, "3 acknowledged, 3 more appended");

    // Committing as it goes, it reads the rest.
    assert_eq!(consume_committing(&mut inlet, BOUND + 3).await, (70..200).collect::<Vec<u64>>());
    producing.await.unwrap();
    assert_eq!(producer_log.len(), 21);
}

#[tokio::test]
async fn an_acknowledging_consumer_killed_mid_stream_reads_again_from_its_checkpoint() {
    let server = NatsServer::start();
    let (producer_link, _) = link(&server, false).await;
    produce(&producer_link, 20).await;
    let open = || async {
        let js = connect(&server.url(), DEADLINE).await.unwrap();
        let log = NatsLog::open_acknowledging(&js, "test", "numbers", "numbers-reader", 8).await.unwrap();
        DurableLink::new(Arc::new(log), LinkPolicy { read_ahead: 2, ..LinkPolicy::default() })
    };

    // Reads 6 records, commits 4 (acknowledged), and is killed with 2 unacknowledged.
    let first = open().await;
    let mut inlet = first.inlet_from(0, Arc::default());
    let (seen, _) = consume(&mut inlet, Some(6)).await;
    inlet.commit(4);
    drop((inlet, first));

    // Started again from its checkpoint: records 4 and 5 again, identical, then the rest.
    let again = open().await;
    let mut inlet = again.inlet_from(4, Arc::default());
    let values = consume_committing(&mut inlet, 4).await;
    assert_eq!(values[..20], seen[40..], "the unacknowledged records delivered again");
    assert_eq!(values, (40..200).collect::<Vec<u64>>());
}

#[tokio::test]
async fn a_server_stopped_for_good_fails_the_producer_and_the_consumer_with_an_error_naming_it() {
    let mut server = NatsServer::start();
    let outage = Duration::from_secs(2);
    let js = connect(&server.url(), DEADLINE).await.unwrap();
    let log = NatsLog::<u64>::open_acknowledging(&js, "stopping", "numbers", "reader", 64).await.unwrap();
    let consumer_link = DurableLink::new(Arc::new(log.outage(outage)), LinkPolicy::default());
    let mut inlet = consumer_link.inlet_from(0, Arc::default());
    // The producer is held back by a consumer that never starts: the server answers that it is not there yet, which
    // is no outage, so it waits for it, past the deadline.
    let js = connect(&server.url(), DEADLINE).await.unwrap();
    let log = NatsLog::<u64>::open(&js, "stopping", "numbers").await.unwrap().bounded_by("absent", 2).outage(outage);
    let producer_link = DurableLink::new(Arc::new(log), LinkPolicy::default());
    let out = producer_link.outlet();
    let mut ids = EventIds::new(WriterId::Stage(StageId(0)));
    for b in 0..2 {
        out.send(batch(&mut ids, b * 10..b * 10 + 10)).await.expect("room for 2 records");
    }
    assert_eq!(consume(&mut inlet, Some(2)).await.0, (0..20).collect::<Vec<u64>>());
    let third = tokio::spawn(async move { out.send(batch(&mut ids, 20..30)).await });
    tokio::time::sleep(outage + Duration::from_millis(500)).await;
    assert!(!third.is_finished(), "a consumer not there yet is waited for: {:?}", third.await);

    server.kill(); // for good
                   // Guards against a hang only: each side ends once the server has not answered for 2 s.
    let refused = tokio::time::timeout(DEADLINE, third).await.expect("the producer ends").unwrap();
    let refused = chain(&refused.expect_err("nothing stores the third record"));
    assert!(refused.contains("did not answer for 2s while waiting on the ack floor of consumer absent"), "{refused}");
    let read = tokio::time::timeout(DEADLINE, inlet.recv()).await.expect("the consumer ends");
    assert!(read.is_none(), "nothing more to read");
    let failure = chain(inlet.failure().expect("the consumer says why"));
    assert!(failure.contains("did not answer for 2s while following stopping.numbers"), "{failure}");
}

#[tokio::test]
async fn a_consumer_whose_stream_is_started_over_stops_instead_of_reading_the_new_runs_records() {
    let server = NatsServer::start();
    let js = connect(&server.url(), DEADLINE).await.unwrap();
    let log = NatsLog::<u64>::open_acknowledging(&js, "over", "numbers", "consumer", 64).await.unwrap();
    let mut inlet = DurableLink::new(Arc::new(log), LinkPolicy::default()).inlet_from(0, Arc::default());
    let (first, _) = link_in(&server, "over", false).await;
    let out = first.outlet();
    let mut ids = EventIds::new(WriterId::Stage(StageId(0)));
    for b in 0..3 {
        out.mark_input(b + 1);
        out.send(batch(&mut ids, b * 10..b * 10 + 10)).await.unwrap();
    }
    assert_eq!(consume(&mut inlet, Some(3)).await.0, (0..30).collect::<Vec<u64>>());

    // A new run: the stream started over, and written past where the consumer was.
    StreamSpec::link("over", "numbers").unwrap().reset(&js).await.unwrap();
    let (second, _) = link_in(&server, "over", false).await;
    produce(&second, 10).await;
    match tokio::time::timeout(DEADLINE, inlet.recv()).await.expect("the consumer ends, not hangs") {
        Some(Message::Events(events)) => {
            let values: Vec<u64> = events.iter().map(|e| e.payload).collect();
            panic!("the consumer read the new run's record 3 as its own: {values:?}")
        }
        Some(Message::EndOfStream) => panic!("the consumer read the new run's end of stream as its own"),
        None => {
            let failure = chain(inlet.failure().expect("the consumer says why"));
            assert!(failure.contains("was started over"), "{failure}");
        }
    }
}

#[tokio::test]
async fn links_of_different_names_never_share_a_stream() {
    let server = NatsServer::start();
    let js = connect(&server.url(), DEADLINE).await.unwrap();
    // Each pair once mapped to one stream (`_` for `-`, `_` between the names): the second was refused as a
    // mismatch of that stream's subjects.
    let pairs = [[("x", "stage-0"), ("x", "stage_0")], [("a_b", "c"), ("a", "b_c")]];
    for [(p1, l1), (p2, l2)] in pairs {
        for (pipeline, link) in [(p1, l1), (p2, l2)] {
            NatsLog::<u64>::open(&js, pipeline, link).await.unwrap_or_else(|e| panic!("{pipeline}.{link}: {e}"));
            let name = StreamSpec::link(pipeline, link).unwrap().name;
            let mut stream = js.get_stream(&name).await.unwrap();
            let subjects = stream.info().await.unwrap().config.subjects.clone();
            assert_eq!(subjects, [format!("{pipeline}.{link}")], "the stream {name} is {pipeline}.{link}'s alone");
        }
    }
    let refused = NatsLog::<u64>::open(&js, "a-b", "c").await.expect_err("a link of the pipeline a-b");
    assert!(refused.to_string().contains("write \"a_b\""), "{refused}");
    let refused = NatsLog::<u64>::open(&js, "x", "a.b").await.expect_err("a link named a.b");
    assert!(refused.to_string().contains("link \"a.b\""), "{refused}");
}

/// One run of a relay stage in a "process" of its own: it reads `numbers` of pipeline `split` (written elsewhere,
/// through the durable consumer `relay`) and writes `relayed`; no drain deadline, so a stop it cannot pass on to
/// its input never ends. Returns the running pipeline and its output's log.
async fn relay_run(js: &Context) -> (PipelineHandle, Arc<NatsLog<u64>>) {
    let input = NatsLog::open_acknowledging(js, "split", "numbers", "relay", 64).await.unwrap();
    let input = DurableLink::new(Arc::new(input), LinkPolicy::default());
    let output = Arc::new(NatsLog::<u64>::open(js, "split", "relayed").await.unwrap());
    let relay = RelaySpec::new(1, "relay", Arc::new(MemoryJournal::new()));
    let handle = Pipeline::builder("split")
        .drain_timeout(None)
        .durable_input(&input)
        .durable_transform_on(&DurableLink::new(output.clone(), LinkPolicy::default()), |inlet, out| {
            relay.build(inlet, Some(out))
        })
        .durable_output()
        .spawn();
    (handle, output)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pipeline_reading_a_link_of_another_process_stopped_while_it_waits_ends_by_draining_and_loses_nothing() {
    let server = NatsServer::start();
    let js = connect(&server.url(), DEADLINE).await.unwrap();
    let (producer, _) = link_in(&server, "split", false).await;
    let out = producer.outlet();
    let mut ids = EventIds::new(WriterId::Stage(StageId(0)));
    for b in 0..3 {
        out.mark_input(b + 1);
        out.send(batch(&mut ids, b * 10..b * 10 + 10)).await.unwrap();
    }
    let (mut handle, relayed) = relay_run(&js).await;
    until_len(&relayed, 3).await;

    // All relayed, the input waits for a record only the other process can append: Stop. Nothing in this process
    // ends that input but the stop itself (with no drain deadline, waiting for it would never end).
    handle.send(Control::Stop).await.unwrap();
    let outcome = tokio::time::timeout(DEADLINE, handle.outcome()).await.expect("the stopped pipeline ends");
    let outcome = outcome.expect("the orchestrator does not escalate");
    assert!(matches!(outcome.lifecycle(), Lifecycle::Cancelled { .. }), "{outcome}");
    let relay = outcome.stage("relay").and_then(|stage| stage.lifecycle());
    assert_eq!(
        relay,
        Some(&Lifecycle::Completed),
        "drained (its input ended this run), not stopped at once: {outcome}"
    );
    drop((handle, relayed));

    // The other process goes on and ends its stream; run again, the relay takes up where it stopped.
    for b in 3..5 {
        out.mark_input(b + 1);
        out.send(batch(&mut ids, b * 10..b * 10 + 10)).await.unwrap();
    }
    out.end_of_stream().await.unwrap();
    let (mut handle, relayed) = relay_run(&js).await;
    let outcome = tokio::time::timeout(DEADLINE, handle.outcome()).await.expect("the second run ends");
    assert!(outcome.expect("the orchestrator does not escalate").is_completed());
    let mut records = Vec::new();
    while (records.len() as u64) < relayed.len() {
        records.extend(relayed.read(records.len() as u64, 100).await.unwrap()); // what has arrived of them
    }
    let values: Vec<u64> = records
        .iter()
        .filter_map(|r| match &r.body {
            Body::Events(events) => Some(events.iter().map(|e| e.payload)),
            Body::EndOfStream => None,
        })
        .flatten()
        .collect();
    assert_eq!(values, (0..50).collect::<Vec<u64>>(), "each record relayed once, none lost");
    assert!(records.last().is_some_and(LinkRecord::is_end), "the stream ended once the input did");
}

#[tokio::test]
async fn the_longest_names_it_takes_the_server_takes_and_longer_ones_are_refused_at_once() {
    let server = NatsServer::start();
    let js = connect(&server.url(), DEADLINE).await.unwrap();
    // A pipeline of 238 characters: its epochs bucket is the stream KV_{pipeline}_CLAIMS_EPOCHS, 255 characters.
    let (pipeline, process) = ("p".repeat(238), "q".repeat(255));
    // Its lifecycle stream, claims and epochs buckets, and a claim on the process's name.
    Member::join(&js, &pipeline, &process, Duration::from_millis(200)).await.expect("the longest names");
    // Its link of 16 characters: stream {pipeline}-{link}, 255 characters; a consumer of 191 (the server's name of
    // each instance of it adds up to 50 characters).
    let link = "l".repeat(16);
    let log = NatsLog::<u64>::open(&js, &pipeline, &link).await.expect("a stream of 255 characters");
    let records = DurableLink::new(Arc::new(log), LinkPolicy::default());
    produce(&records, 2).await;
    let consumer = "c".repeat(191);
    let log = NatsLog::<u64>::open_acknowledging(&js, &pipeline, &link, &consumer, 4).await.unwrap();
    let mut inlet = DurableLink::new(Arc::new(log), LinkPolicy::default()).inlet_from(0, Arc::default());
    assert_eq!(consume(&mut inlet, None).await, ((0..20).collect(), true));

    // One character more, or far more: refused before anything is sent, saying how long it may be.
    let refused = NatsLog::<u64>::open(&js, &pipeline, &"l".repeat(17)).await.expect_err("a stream of 256");
    assert!(matches!(refused, NatsError::Invalid { .. }) && refused.to_string().contains("at most 16"), "{refused}");
    let refused = Member::join(&js, "p", &"q".repeat(5000), Duration::from_millis(200)).await.expect_err("5000");
    assert!(refused.to_string().contains("at most 255 characters"), "{refused}");
    let refused = Member::join(&js, &"p".repeat(239), "q", Duration::from_millis(200)).await.expect_err("239");
    assert!(refused.to_string().contains("at most 238 characters"), "{refused}");
    let refused = NatsLog::<u64>::open_acknowledging(&js, "p", "l", &"c".repeat(192), 4).await.expect_err("192");
    assert!(refused.to_string().contains("at most 191 characters"), "{refused}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_producers_retrying_on_a_stalled_server_never_take_each_others_record_for_their_own() {
    let server = NatsServer::start();
    // Acknowledgements awaited 300 ms (not 5 s): each producer's first attempt goes unanswered while the server
    // stalls.
    let producer = async || {
        let mut js = connect(&server.url(), DEADLINE).await.unwrap();
        js.set_timeout(Duration::from_millis(300));
        Arc::new(NatsLog::<u64>::open(&js, "test", "numbers").await.unwrap())
    };
    let (first, second) = (producer().await, producer().await);
    server.pause();
    // End of stream: its append returns once stored.
    let ending = |log: Arc<NatsLog<u64>>, input: u64| {
        tokio::spawn(async move { log.append(LinkRecord { input, body: Body::EndOfStream }).await })
    };
    let (first, second) = (ending(first, 1), ending(second, 2));
    // Both publish, time out and publish again; the server, going on, stores whichever came first, and the other's
    // retry meets it at its place. With one message id for both (`{subject}:0`), it was taken as a duplicate of the
    // other's own: both were told they stored record 0.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    server.resume();
    let (first, second) = (first.await.unwrap(), second.await.unwrap());
    let reader = producer().await;
    let stored = reader.read(0, 10).await.unwrap();
    assert_eq!(stored.len(), 1, "{stored:?}");
    let (stored_by, refused) = match stored[0].input {
        1 => (first, second),
        _ => (second, first),
    };
    assert_eq!(stored_by.expect("stored"), 0);
    let refused = refused.expect_err("the stream moved on without it");
    assert!(chain(&refused).contains("another writer appended to test.numbers"), "{}", chain(&refused));
}
