//! The names a pipeline's processes meet under on the server (subjects, streams, claim buckets), built here alone
//! from the pipeline's, links' and processes' names, one to one: two different names never share a stream or bucket.
//!
//! Each name is taken as written (no letter changed, none folded to upper case). A pipeline's name is letters,
//! digits and `_`; a link's or process's, letters, digits, `-` and `_`. A link's stream is `{pipeline}-{link}`: its
//! first `-` ends the pipeline's name, so no two links share one, nor a link the pipeline's other streams
//! (`{pipeline}_LIFECYCLE`) or buckets (`{pipeline}_CLAIMS`, `{pipeline}_CLAIMS_EPOCHS`), which have no `-`. The
//! records an orchestrator writes in a process's stead name it `{pipeline}@{process}`.
//!
//! The server takes stream names of at most [`MAX_STREAM`] characters (a bucket `b` is the stream `KV_b`): a name
//! whose stream or bucket would be longer is refused here, saying how long it may be, instead of by the server
//! mid-way (a claims bucket) or not at all (a request it drops, waited on until it times out).

use std::sync::atomic::{AtomicU64, Ordering};

use super::error::NatsError;

/// The longest stream name the server takes.
const MAX_STREAM: usize = 255;
/// The longest pipeline name: its longest stream is its epochs bucket's, `KV_{pipeline}_CLAIMS_EPOCHS`.
const MAX_PIPELINE: usize = MAX_STREAM - "KV_".len() - "_CLAIMS_EPOCHS".len();

/// The longest name of a link's durable consumer: the server's name of each instance of it adds a suffix
/// (`--{process id}-{nanoseconds}-{count}`, at most 50 characters) and is at most 255 characters too.
const MAX_CONSUMER: usize = MAX_STREAM - 64;

/// A durable consumer's name: letters, digits, `-`, `_`; at most [`MAX_CONSUMER`] characters.
pub(crate) fn check_consumer(name: &str) -> Result<(), NatsError> {
    check_token("consumer", name)?;
    check_length("consumer", name, MAX_CONSUMER)
}

/// A name usable as one subject token: letters, digits, `-`, `_`; at most [`MAX_STREAM`] characters (a process's
/// name goes into subjects and claim keys, a link's into a stream name).
pub(crate) fn check_token(what: &str, name: &str) -> Result<(), NatsError> {
    let fine = !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    match fine {
        true => check_length(what, name, MAX_STREAM),
        false => Err(NatsError::invalid(format!("{what} {name:?}"), "letters, digits, '-' and '_' only")),
    }
}

/// `name` (of letters, digits, `-` and `_`) is `max` characters or fewer.
fn check_length(what: &str, name: &str, max: usize) -> Result<(), NatsError> {
    match name.len() <= max {
        true => Ok(()),
        false => Err(NatsError::invalid(
            format!("{what} of {} characters ({:?}...)", name.len(), &name[..16.min(name.len())]),
            format!("at most {max} characters (the server's streams and buckets are named after it)"),
        )),
    }
}

/// A pipeline's name: letters, digits and `_` (in stream names, `-` ends it), so `a-b` and `a_b` never share a
/// stream or bucket.
pub(crate) fn check_pipeline(pipeline: &str) -> Result<(), NatsError> {
    let fine = |name: &str| !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if fine(pipeline) {
        return check_length("pipeline", pipeline, MAX_PIPELINE);
    }
    let why = "letters, digits and '_' only ('-' separates it from a link's name in stream names)";
    let instead = pipeline.replace('-', "_");
    match fine(&instead) {
        true => Err(NatsError::invalid(format!("pipeline {pipeline:?}"), format!("{why}: write {instead:?}"))),
        false => Err(NatsError::invalid(format!("pipeline {pipeline:?}"), why)),
    }
}

/// The stream and the subject of the link `link` of `pipeline`: `{pipeline}-{link}`, `{pipeline}.{link}`.
pub(crate) fn link(pipeline: &str, link: &str) -> Result<(String, String), NatsError> {
    check_pipeline(pipeline)?;
    check_token("link", link)?;
    let max = MAX_STREAM - pipeline.len() - "-".len();
    check_length(&format!("link (of a pipeline of {} characters)", pipeline.len()), link, max)?;
    Ok((format!("{pipeline}-{link}"), format!("{pipeline}.{link}")))
}

/// The lifecycle stream of `pipeline`: `{pipeline}_LIFECYCLE`.
pub(crate) fn lifecycle_stream(pipeline: &str) -> Result<String, NatsError> {
    check_pipeline(pipeline)?;
    Ok(format!("{pipeline}_LIFECYCLE"))
}

/// The subject of `process`'s lifecycle records (`kind` "lifecycle"), heartbeats ("heartbeat") or requests
/// ("control"): `{pipeline}.{kind}.{process}`; `process` may be a wildcard (`*`, `>`) to follow them all.
pub(crate) fn subject(pipeline: &str, kind: &str, process: &str) -> String {
    format!("{pipeline}.{kind}.{process}")
}

/// The bucket of `pipeline`'s claims on its process names: `{pipeline}_CLAIMS`.
pub(crate) fn claims_bucket(pipeline: &str) -> String {
    format!("{pipeline}_CLAIMS")
}

/// The bucket of the epochs of `pipeline`'s process names: `{pipeline}_CLAIMS_EPOCHS`.
pub(crate) fn epochs_bucket(pipeline: &str) -> String {
    format!("{pipeline}_CLAIMS_EPOCHS")
}

/// A name no other instance (of a consumer, of a journal's writer) takes, in this process or another:
/// `{process id}-{nanoseconds since 1970}-{count in this process}`, at most 50 characters.
pub(crate) fn unique_instance() -> String {
    static MADE: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    format!("{}-{nanos}-{}", std::process::id(), MADE.fetch_add(1, Ordering::Relaxed))
}

/// True for what [`unique_instance`] makes: three numbers joined by `-`.
pub(crate) fn is_unique_instance(name: &str) -> bool {
    let mut parts = 0;
    let numbers = name.split('-').all(|part| {
        parts += 1;
        !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit())
    });
    numbers && parts == 3
}

/// The supervisor an orchestrator's records about `process` (or itself) name: `{pipeline}@{process}`.
pub(crate) fn supervisor(pipeline: &str, process: &str) -> String {
    format!("{pipeline}@{process}")
}

/// The process a [`supervisor`] name of `pipeline` is about; `None` for another pipeline's or a stage's.
pub(crate) fn process_of<'a>(pipeline: &str, supervisor: &'a str) -> Option<&'a str> {
    supervisor.strip_prefix(pipeline)?.strip_prefix('@')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(result: Result<impl std::fmt::Debug, NatsError>, saying: &str) {
        let error = result.expect_err("refused").to_string();
        assert!(error.contains(saying), "{error}");
        assert!(error.len() < 200, "the error names the limit, not the whole name: {error}");
    }

    #[test]
    fn names_whose_stream_or_bucket_would_pass_the_servers_255_characters_are_refused_saying_how_long_they_may_be() {
        let name = |n| "p".repeat(n);
        assert_eq!(epochs_bucket(&name(MAX_PIPELINE)).len() + "KV_".len(), 255);
        assert!(lifecycle_stream(&name(238)).is_ok());
        refused(lifecycle_stream(&name(239)), "pipeline of 239 characters (\"pppppppppppppppp\"...): at most 238");
        refused(check_pipeline(&name(5000)), "at most 238");
        let (stream, _) = link("p", &name(253)).expect("a stream of 255 characters");
        assert_eq!(stream.len(), 255);
        refused(link("p", &name(254)), "link (of a pipeline of 1 characters) of 254 characters");
        refused(link(&name(238), &name(17)), "at most 16 characters");
        assert!(check_token("process", &name(255)).is_ok());
        refused(check_token("process", &name(5000)), "process of 5000 characters");
        assert!(check_consumer(&name(191)).is_ok());
        refused(check_consumer(&name(192)), "consumer of 192 characters (\"pppppppppppppppp\"...): at most 191");
        refused(check_consumer("a.b"), "consumer \"a.b\": letters, digits, '-' and '_' only");
    }
}
