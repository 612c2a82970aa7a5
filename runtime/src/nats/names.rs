//! The names a pipeline's processes meet under on the server (subjects, streams, claim buckets), built here alone
//! from the pipeline's, links' and processes' names, one to one: two different names never share a stream or bucket.
//!
//! Each name is taken as written (no letter changed, none folded to upper case). A pipeline's name is letters,
//! digits and `_`; a link's or process's, letters, digits, `-` and `_`. A link's stream is `{pipeline}-{link}`: its
//! first `-` ends the pipeline's name, so no two links share one, nor a link the pipeline's other streams
//! (`{pipeline}_LIFECYCLE`) or buckets (`{pipeline}_CLAIMS`, `{pipeline}_CLAIMS_EPOCHS`), which have no `-`. The
//! records an orchestrator writes in a process's stead name it `{pipeline}@{process}`.

use super::error::NatsError;

/// A name usable as one subject token: letters, digits, `-`, `_`.
pub(crate) fn check_token(what: &str, name: &str) -> Result<(), NatsError> {
    let fine = !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    match fine {
        true => Ok(()),
        false => Err(NatsError::invalid(format!("{what} {name:?}"), "letters, digits, '-' and '_' only")),
    }
}

/// A pipeline's name: letters, digits and `_` (in stream names, `-` ends it), so `a-b` and `a_b` never share a
/// stream or bucket.
pub(crate) fn check_pipeline(pipeline: &str) -> Result<(), NatsError> {
    let fine = |name: &str| !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if fine(pipeline) {
        return Ok(());
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

/// The supervisor an orchestrator's records about `process` (or itself) name: `{pipeline}@{process}`.
pub(crate) fn supervisor(pipeline: &str, process: &str) -> String {
    format!("{pipeline}@{process}")
}

/// The process a [`supervisor`] name of `pipeline` is about; `None` for another pipeline's or a stage's.
pub(crate) fn process_of<'a>(pipeline: &str, supervisor: &'a str) -> Option<&'a str> {
    supervisor.strip_prefix(pipeline)?.strip_prefix('@')
}
