//! The JetStream journal against a real `nats-server` (feature `nats`): append with acknowledgement, read from a
//! position, follow the tail across writers, a retried id stored once, a second writer on a subject refused at
//! each append; and the connection faults: a server restarted mid-run, an append a stalled server stored past its
//! deadline, two writers retrying on a stalled server (the loser refused, not told another's record is its own), a
//! server that is not there, a stream that exists with another configuration.

mod nats_support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use nats_support::{chain, unreachable_url, NatsServer};
use stagewise::journal::{Journal, JournalError};
use stagewise::nats::{connect, NatsError, NatsJournal, StreamSpec};

const DEADLINE: Duration = Duration::from_secs(5);

fn spec() -> StreamSpec {
    StreamSpec::new("LIFECYCLE", ["lifecycle.>"])
}

async fn journal(server: &NatsServer, subject: &str) -> NatsJournal<String> {
    let js = connect(&server.url(), DEADLINE).await.expect("the test server is up");
    NatsJournal::open(&js, &spec(), subject).await.expect("the journal opens")
}

#[tokio::test]
async fn appends_are_acknowledged_and_read_back_from_a_position() {
    let server = NatsServer::start();
    let writer = journal(&server, "lifecycle.parse").await;
    for (i, word) in ["started", "running", "completed"].into_iter().enumerate() {
        assert_eq!(writer.append_acked(word.to_owned()).await.unwrap(), i as u64);
    }
    assert_eq!(writer.read_from(1).unwrap(), ["running", "completed"]);
    assert_eq!(writer.len(), 3);
    assert!(writer.read_from(7).unwrap().is_empty());

    // Another connection, as another process would: it reads what is stored and appends after it.
    let again = journal(&server, "lifecycle.parse").await;
    assert_eq!(again.read_from(0).unwrap(), ["started", "running", "completed"]);
    assert_eq!(again.append_acked("restarted".to_owned()).await.unwrap(), 3);
}

#[tokio::test]
async fn a_wildcard_reader_follows_every_writer_as_it_appends() {
    let server = NatsServer::start();
    let orchestrator = journal(&server, "lifecycle.>").await;
    let mut tail = orchestrator.subscribe();
    let (read, parse) = (journal(&server, "lifecycle.read").await, journal(&server, "lifecycle.parse").await);
    read.append_acked("read started".to_owned()).await.unwrap();
    parse.append_acked("parse started".to_owned()).await.unwrap();
    tokio::time::timeout(DEADLINE, tail.wait_for(|&n| n == 2)).await.expect("the reader follows").unwrap();
    assert_eq!(orchestrator.read_from(0).unwrap(), ["read started", "parse started"]);
    assert!(matches!(orchestrator.append_acked("x".to_owned()).await, Err(JournalError::Unusable(_))));
}

#[tokio::test]
async fn a_retried_append_with_the_same_id_is_stored_once() {
    let server = NatsServer::start();
    let writer = journal(&server, "lifecycle.read").await;
    assert_eq!(writer.append_acked("once".to_owned()).await.unwrap(), 0);
    // What a retry after a lost acknowledgement sends: the same record with the same message id.
    let js = connect(&server.url(), DEADLINE).await.unwrap();
    let stored = js.get_stream("LIFECYCLE").await.unwrap().get_last_raw_message_by_subject("lifecycle.read").await;
    let id = stored.unwrap().headers.get(stagewise::nats::client::header::NATS_MESSAGE_ID).unwrap().to_string();
    let payload = postcard::to_stdvec(&"once".to_owned()).unwrap();
    let retry = async_nats_publish(&js, "lifecycle.read", &id, payload).await;
    assert!(retry, "the server reports the retry as a duplicate");
    assert_eq!(writer.append_acked("twice".to_owned()).await.unwrap(), 1);
    assert_eq!(writer.read_from(0).unwrap(), ["once", "twice"]);

    // A second writer on the subject, opened before the first's next append: refused, not silently dropped as a
    // duplicate.
    let second = journal(&server, "lifecycle.read").await;
    writer.append_acked("third".to_owned()).await.unwrap();
    let refused = second.append_acked("clash".to_owned()).await.expect_err("the id is the first writer's");
    assert!(refused.to_string().contains("another writer appended to lifecycle.read"), "{refused}");
}

#[tokio::test]
async fn a_second_writer_on_a_subject_is_refused_at_every_append_never_interleaved() {
    let server = NatsServer::start();
    for held in [0, 2] {
        // Opened on an empty subject, and on one holding records: each starts where the subject ends.
        let subject = format!("lifecycle.held{held}");
        let earlier = journal(&server, &subject).await;
        for i in 0..held {
            earlier.append_acked(format!("earlier {i}")).await.unwrap();
        }
        let (first, second) = (journal(&server, &subject).await, journal(&server, &subject).await);
        assert_eq!(first.append_acked("first 0".to_owned()).await.unwrap(), held);
        // The second's ids ("{subject}:{held}" on) meet the first's only at the same number, and only within the
        // stream's duplicate window: its second append's id is not the first's yet. Its place on the subject
        // (where the subject ended when it opened) is gone for every append.
        for i in 0..2 {
            let refused =
                second.append_acked(format!("second {i}")).await.expect_err("the subject moved on without it");
            assert!(refused.to_string().contains(&format!("another writer appended to {subject}")), "{refused}");
        }
        assert_eq!(first.append_acked("first 1".to_owned()).await.unwrap(), held + 1);

        let reader = journal(&server, &subject).await;
        let mut expected: Vec<String> = (0..held).map(|i| format!("earlier {i}")).collect();
        expected.extend(["first 0".to_owned(), "first 1".to_owned()]);
        assert_eq!(reader.read_from(0).unwrap(), expected, "only the first writer's records, in order");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_writers_retrying_on_a_stalled_server_never_take_each_others_record_for_their_own() {
    let server = NatsServer::start();
    // Acknowledgements awaited 300 ms (not 5 s): each writer's first attempt goes unanswered while the server stalls.
    let writer = async || {
        let mut js = connect(&server.url(), DEADLINE).await.unwrap();
        js.set_timeout(Duration::from_millis(300));
        NatsJournal::<String>::open(&js, &spec(), "lifecycle.both").await.unwrap()
    };
    let (first, second) = (writer().await, writer().await);
    server.pause();
    let appending = |journal: NatsJournal<String>, record: &str| {
        let record = record.to_owned();
        tokio::spawn(async move { (journal.append_acked(record).await, journal) })
    };
    let (first, second) = (appending(first, "first"), appending(second, "second"));
    // Both publish, time out and publish again; the server, going on, stores whichever came first, and each
    // writer's retry meets a stored record at its place. With one message id for both (`{subject}:0`), the other
    // writer's was taken as a duplicate of its own: both were told they stored record 0.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    server.resume();
    let ((first, _), (second, _)) = (first.await.unwrap(), second.await.unwrap());
    let stored = journal(&server, "lifecycle.both").await.read_from(0).unwrap();
    assert_eq!(stored.len(), 1, "{stored:?}");
    let (stored_by, refused) = match stored[0].as_str() {
        "first" => (first, second),
        _ => (second, first),
    };
    assert_eq!(stored_by.expect("stored"), 0);
    let refused = refused.expect_err("the subject moved on without it");
    assert!(refused.to_string().contains("another writer appended to lifecycle.both"), "{refused}");
}

/// Publishes with a message id; true when the server says it already had it.
async fn async_nats_publish(js: &stagewise::nats::Context, subject: &str, id: &str, payload: Vec<u8>) -> bool {
    let message = stagewise::nats::PublishMessage::build().payload(payload.into()).message_id(id);
    js.send_publish(subject.to_owned(), message).await.unwrap().await.unwrap().duplicate
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_blocking_append_waits_for_the_acknowledgement() {
    let server = NatsServer::start();
    let writer: Arc<dyn Journal<String>> = Arc::new(journal(&server, "lifecycle.sink").await);
    assert_eq!(writer.append("blocking".to_owned()).unwrap(), 0);
    let own_thread = writer.clone();
    // A thread outside the runtime: the append waits on the runtime the journal was opened on.
    let thread = std::thread::spawn(move || own_thread.append("from a thread".to_owned()));
    let position = tokio::task::spawn_blocking(move || thread.join().unwrap()).await.unwrap();
    assert_eq!(position.unwrap(), 1);
    assert_eq!(writer.read_from(0).unwrap(), ["blocking", "from a thread"]);
}

#[tokio::test]
async fn the_async_append_waits_for_the_acknowledgement_without_blocking_the_thread() {
    // A current-thread runtime: the blocking append refuses here, the async one awaits the acknowledgement.
    let server = NatsServer::start();
    let writer: Arc<dyn Journal<String>> = Arc::new(journal(&server, "lifecycle.sink").await);
    assert!(matches!(writer.append("blocking".to_owned()), Err(JournalError::Unusable(_))));
    assert_eq!(writer.append_async("first".to_owned()).await.unwrap(), 0);
    assert_eq!(writer.append_async("second".to_owned()).await.unwrap(), 1);
    assert_eq!(writer.read_from(0).unwrap(), ["first", "second"]);
}

#[tokio::test]
async fn appends_survive_a_server_restart_mid_run_each_stored_once() {
    let mut server = NatsServer::start();
    let writer = Arc::new(journal(&server, "lifecycle.read").await);
    let appending = {
        let writer = writer.clone();
        tokio::spawn(async move {
            let mut positions = Vec::new();
            for i in 0..40 {
                positions.push(writer.append_acked(format!("record {i}")).await.expect("stored after the restart"));
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            positions
        })
    };
    tokio::time::sleep(Duration::from_millis(60)).await;
    // Same port, same store: the client reconnects on its own, appends wait and retry meanwhile.
    let _server = tokio::task::spawn_blocking(move || {
        server.restart();
        server
    })
    .await
    .unwrap();
    let positions = tokio::time::timeout(Duration::from_secs(30), appending).await.expect("no hang").unwrap();
    assert_eq!(positions, (0..40).collect::<Vec<u64>>(), "each record stored once, in order");
    let expected: Vec<String> = (0..40).map(|i| format!("record {i}")).collect();
    assert_eq!(writer.read_from(0).unwrap(), expected);
}

#[tokio::test]
async fn an_unreachable_server_is_a_clear_error_within_the_deadline() {
    let started = Instant::now();
    let error = connect(&unreachable_url(), Duration::from_secs(2)).await.expect_err("nothing listens");
    // A 2 s deadline; the bound is loose so that a loaded machine does not fail it, and still tells an error
    // from a hang.
    assert!(started.elapsed() < Duration::from_secs(20), "took {:?}", started.elapsed());
    assert!(matches!(error, NatsError::Unreachable { .. }));
    assert!(error.to_string().starts_with("no NATS server reachable at nats://127.0.0.1:"), "{error}");
}

#[tokio::test]
async fn a_process_started_just_before_its_server_connects_once_the_server_listens_within_the_deadline() {
    let mut server = NatsServer::start();
    server.kill(); // its port is known and free: nothing listens there yet
    let url = server.url();
    let connecting = tokio::spawn(async move { connect(&url, Duration::from_secs(60)).await.map(|_| ()) });
    tokio::time::sleep(Duration::from_millis(300)).await;
    server.restart(); // listens now, same port
    let connected = connecting.await.unwrap();
    assert!(connected.is_ok(), "refused at once instead of waiting for the deadline: {connected:?}");
}

#[tokio::test]
async fn a_stream_with_another_configuration_is_reported_by_name() {
    let server = NatsServer::start();
    let js = connect(&server.url(), DEADLINE).await.unwrap();
    StreamSpec::new("LIFECYCLE", ["something.else"]).ensure(&js).await.unwrap();
    let error = NatsJournal::<String>::open(&js, &spec(), "lifecycle.read").await.expect_err("the stream differs");
    assert!(matches!(&error, NatsError::Mismatch { stream, .. } if stream == "LIFECYCLE"), "{error}");
    assert!(error.to_string().contains("LIFECYCLE exists with another configuration (subjects"), "{error}");
}

#[tokio::test]
async fn a_server_stopped_for_good_fails_an_append_with_an_error_naming_it_after_the_outage_deadline() {
    let mut server = NatsServer::start();
    let writer = journal(&server, "lifecycle.parse").await.outage(Duration::from_secs(2));
    writer.append_acked("started".to_owned()).await.expect("stored while the server is up");
    server.kill(); // for good
                   // A guard against a hang only: the append ends once the server has not answered for 2 s.
    let refused = tokio::time::timeout(Duration::from_secs(60), writer.append_acked("completed".to_owned()))
        .await
        .expect("the append ends instead of waiting for the server forever")
        .expect_err("nothing stores it");
    let chain = chain(&refused);
    assert!(chain.contains("the NATS server did not answer for 2s while"), "{chain}");
    assert!(chain.contains("lifecycle.parse"), "names what it was doing: {chain}");
}

#[tokio::test]
async fn an_append_stored_after_its_deadline_is_this_writers_place_not_another_writers() {
    let server = NatsServer::start();
    let writer = journal(&server, "lifecycle.parse").await.outage(Duration::from_secs(2));
    writer.append_acked("started".to_owned()).await.expect("stored while the server is up");
    // A stalled server: the append goes unanswered past its deadline, and is stored once the server goes on.
    server.pause();
    let lost = tokio::time::timeout(Duration::from_secs(60), writer.append_acked("late".to_owned()))
        .await
        .expect("the append ends instead of waiting for the server forever")
        .expect_err("nothing answers");
    assert!(chain(&lost).contains("did not answer for 2s"), "{}", chain(&lost));
    server.resume();
    // The subject ends at that append, stored under this writer's id: its place, not a second writer's.
    assert_eq!(writer.append_acked("resumed".to_owned()).await.unwrap(), 2);
    assert_eq!(writer.read_from(0).unwrap(), ["started", "late", "resumed"]);
}
