//! Processes joining one pipeline at the same moment on a fresh `nats-server`, as the example's roles do when
//! started together: each creates the pipeline's streams and claim buckets if missing, and every one must join.
//! nats-server 2.9 answers creates that race in several ways (created, name taken, subjects overlap) and for a
//! moment after may answer a write to the new stream with "no responders": each was a role's exit before.

mod nats_support;

use std::time::Duration;

use nats_support::{chain, NatsServer};
use stagewise::nats::{connect, Member, NatsError, NatsLog};

/// Processes joining at once in each round.
const PROCESSES: [&str; 4] = ["orchestrate", "read", "parse", "aggregate"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn processes_joining_a_new_pipeline_at_the_same_moment_all_join() {
    let server = NatsServer::start();
    let mut connections = Vec::new();
    for _ in PROCESSES {
        connections.push(connect(&server.url(), Duration::from_secs(30)).await.expect("connected"));
    }
    // A new pipeline each round: its lifecycle stream and claim buckets are created by whichever join comes first.
    for round in 0..25 {
        let pipeline = format!("joins{round}");
        let joins = PROCESSES.iter().zip(&connections).map(|(process, js)| {
            let (js, pipeline) = (js.clone(), pipeline.clone());
            tokio::spawn(async move {
                let member = Member::join(&js, &pipeline, process, Duration::from_millis(100)).await?;
                // And each opens the pipeline's link, as its producer and its consumer do, creating its stream.
                NatsLog::<u64>::open(&js, &pipeline, "stage-0").await?;
                Ok::<_, NatsError>(member)
            })
        });
        let joined = futures_util::future::join_all(joins).await;
        for (process, member) in PROCESSES.iter().zip(joined) {
            if let Err(e) = member.expect("the join task") {
                panic!("round {round}: {process} did not join {pipeline}: {}", chain(&e));
            }
        }
    }
}
