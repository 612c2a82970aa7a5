//! The access-log pipeline's durable mode (`--durable DIR`): the run folder (new, interrupted or finished), the
//! output file and the aggregate table resumed from the last checkpoint, the error journal that recognises the
//! records a resumed run writes again, and the aggregate stage's checkpoints.
//!
//! For the crash test, `ACCESS_LOG_CRASH_AT=batch:N`, `checkpoint:N` or `saved:N` aborts the process (no destructor
//! runs, as under SIGKILL) at the N-th aggregate checkpoint: after the batch's rows and errors are written, after they
//! are flushed and just before the checkpoint is saved, or just after it is saved.

use std::fs::{File, OpenOptions};
use std::io::{self, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use stagewise::journal::{Durability, FileJournal, JournalOptions};
use stagewise::pipeline::durable::{
    Checkpoint, Checkpoints, DurableLinks, InputProgress, LinkPolicy, ReplayedErrors, Retention, RunFolder, RunStatus,
};
use stagewise::pipeline::{ErrorRecord, Inlet, Pipeline, PipelineBuilder, PipelineStage};
use stagewise::{BoxError, StageId};

use crate::parse::Hit;
use crate::stages::{self, Checkpointer, Input};
use crate::work::{AggregateSummary, Aggregator, Tally, BATCH};

/// What the aggregate stage's checkpoint holds besides its input position.
#[derive(Clone, Serialize, Deserialize)]
pub struct AggregateState {
    tally: Tally,
    /// Bytes of the CSV file the table accounts for; a resumed run cuts the file back to this.
    csv_bytes: u64,
    /// FNV-1a hash of those bytes: a resumed run checks the file still holds them (not another run's rows).
    csv_hash: u64,
    /// Error records the table accounts for.
    errors: u64,
}

/// A durable run, opened.
pub struct DurableRun {
    pub run: RunFolder,
    pub status: RunStatus,
    pub links: DurableLinks,
    pub checkpoints: Checkpoints<AggregateState>,
    pub resumed: Option<Checkpoint<AggregateState>>,
    /// Under `EveryAppend` the CSV and the error journal are synced before each checkpoint, so a power cut never
    /// leaves them shorter than the last checkpoint says.
    pub sync_outputs: bool,
}

/// The link and checkpoint durability `--policy` names.
pub fn durability(name: &str) -> Result<Durability, String> {
    match name {
        "os" => Ok(Durability::Os),
        "every" => Ok(Durability::Every { records: 64, interval: std::time::Duration::from_millis(50) }),
        "every-append" => Ok(Durability::EveryAppend),
        other => Err(format!("--policy: os, every or every-append, not {other}")),
    }
}

impl DurableRun {
    /// Opens the run over `input` in `dir` (deleting it first with `fresh`); `local_links` when its links are
    /// journals in `dir` (not streams elsewhere).
    pub fn open(
        dir: &Path,
        fresh: bool,
        local_links: bool,
        input: &str,
        durability: Durability,
        segment_bytes: u64,
        retention: Retention,
    ) -> Result<Self, String> {
        let (run, status) = RunFolder::open_on(dir, fresh, input).map_err(|e| match e.kind() {
            io::ErrorKind::WouldBlock => {
                format!("another access_log is using {}: wait for it to finish, or stop it first", dir.display())
            }
            _ => format!("cannot use {} as a run folder: {e}", dir.display()),
        })?;
        // A part of an interrupted run that is gone (deleted by hand) is refused here, before the CSV is touched.
        let parts: &[&str] = if local_links {
            &["checkpoints/aggregate", "errors", "lifecycle", "stage-0", "stage-1"]
        } else {
            &["checkpoints/aggregate", "errors", "lifecycle"]
        };
        run.parts(parts).map_err(|e| e.to_string())?;
        let options = JournalOptions { segment_bytes, ..JournalOptions::with_durability(durability) };
        let links = DurableLinks::new(dir, options, LinkPolicy { retention, ..LinkPolicy::default() });
        let checkpoints = Checkpoints::open(dir.join("checkpoints").join("aggregate"), options)
            .map_err(|e| format!("cannot open the checkpoints: {e}"))?;
        let resumed = checkpoints.latest().map_err(|e| {
            format!(
                "cannot read the last checkpoint: {e}; `journal_inspect {dir}` shows the damage; the run cannot \
                 resume exactly: start over with --fresh",
                dir = dir.display()
            )
        })?;
        let sync_outputs = matches!(durability, Durability::EveryAppend);
        Ok(Self { run, status, links, checkpoints, resumed, sync_outputs })
    }

    /// Where the CSV goes when no `--out` is given: inside the run folder, so two runs never share one.
    pub fn default_out(&self) -> PathBuf {
        self.run.outputs().join("per-minute.csv")
    }

    /// The output file: cut back to what the last checkpoint accounts for, or new; and the aggregator going on from
    /// the checkpoint's table, or new (writing the header). The run records which file it writes and refuses
    /// another; a file shorter than the checkpoint says, or gone, is refused, never extended or re-created (what
    /// it held is lost, so the run cannot resume exactly).
    pub fn output(&self, path: &Path) -> Result<(Aggregator, Arc<Written>), String> {
        let cannot = |e: io::Error| format!("cannot write {}: {e}", path.display());
        self.run.writes(path).map_err(|e| e.to_string())?;
        if let Some(folder) = path.parent().filter(|p| p.starts_with(self.run.dir())) {
            std::fs::create_dir_all(folder).map_err(cannot)?;
        }
        match &self.resumed {
            Some(checkpoint) => {
                let want = checkpoint.state.csv_bytes;
                let lost = |what: String| {
                    format!(
                        "{}: {what}, but the run in {} had written {want} bytes to it: its rows are lost, so the run \
                         cannot resume exactly; start over with --fresh (nothing was changed)",
                        path.display(),
                        self.run.dir().display()
                    )
                };
                let mut file = match OpenOptions::new().write(true).open(path) {
                    Ok(file) => file,
                    Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(lost("the file is gone".into())),
                    Err(e) => return Err(cannot(e)),
                };
                let has = file.metadata().map_err(cannot)?.len();
                if has < want {
                    return Err(lost(format!("the file holds {has} bytes (cut, or overwritten by another run)")));
                }
                let mut held = Written::new(0, FNV_OFFSET);
                io::copy(&mut io::Read::take(io::BufReader::new(File::open(path).map_err(cannot)?), want), &mut held)
                    .map_err(cannot)?;
                if held.hash.load(Ordering::Acquire) != checkpoint.state.csv_hash {
                    return Err(lost(
                        "its first bytes differ from what the run wrote (overwritten by another run?)".into(),
                    ));
                }
                file.set_len(want).map_err(cannot)?;
                file.seek(SeekFrom::End(0)).map_err(cannot)?;
                let bytes = Arc::new(Written::new(want, checkpoint.state.csv_hash).syncing(&file).map_err(cannot)?);
                let out = io::BufWriter::with_capacity(1 << 16, Counted { file, bytes: bytes.clone() });
                Ok((Aggregator::resume(checkpoint.state.tally.clone(), Some(Box::new(out))), bytes))
            }
            None => {
                let file = File::create(path).map_err(cannot)?;
                let bytes = Arc::new(Written::new(0, FNV_OFFSET).syncing(&file).map_err(cannot)?);
                let out = io::BufWriter::with_capacity(1 << 16, Counted { file, bytes: bytes.clone() });
                Ok((Aggregator::new(Some(Box::new(out))).map_err(cannot)?, bytes))
            }
        }
    }

    /// The error journal as the aggregate stage writes it: records after the checkpoint are recognised, not
    /// written twice.
    pub fn errors(&self, file: Arc<FileJournal<ErrorRecord>>) -> Result<Arc<ReplayedErrors>, String> {
        let accounted = self.resumed.as_ref().map_or(0, |c| c.state.errors);
        ReplayedErrors::new(file, accounted).map(Arc::new).map_err(|e| {
            format!("the error journal in {}: {e}; start over with --fresh", self.run.dir().join("errors").display())
        })
    }

    /// Where the aggregate stage resumes reading its input.
    pub fn input(&self) -> u64 {
        self.resumed.as_ref().map_or(0, |c| c.input)
    }

    /// The access-log pipeline on this run's links: read and parse write durable links, aggregate reads from its
    /// checkpoint and saves one after every batch, writing rows through `aggregator` (its file counted in
    /// `csv_bytes`) and error records to `errors`.
    pub fn pipeline(
        &self,
        builder: PipelineBuilder,
        input: Input,
        (aggregator, csv_bytes): (Aggregator, Arc<Written>),
        errors: Arc<FileJournal<ErrorRecord>>,
        summary: Arc<Mutex<Option<AggregateSummary>>>,
    ) -> Result<Pipeline, String> {
        let replayed = self.errors(errors.clone())?;
        Ok(builder
            .durable_source(&self.links, |out| stages::read(StageId(0), input, BATCH, out))
            .durable_transform(&self.links, |inlet, out| stages::parse(StageId(1), inlet, out))
            .sink(|inlet| self.aggregate(inlet, (aggregator, csv_bytes), errors, replayed, summary)))
    }

    /// The aggregate stage on `inlet`, read from this run's last checkpoint, saving one after every batch; error
    /// records go to `errors` through `replayed` (see [`errors`](Self::errors)).
    pub fn aggregate(
        &self,
        mut inlet: Inlet<Hit>,
        (aggregator, csv_bytes): (Aggregator, Arc<Written>),
        errors: Arc<FileJournal<ErrorRecord>>,
        replayed: Arc<ReplayedErrors>,
        summary: Arc<Mutex<Option<AggregateSummary>>>,
    ) -> PipelineStage {
        inlet.seek(self.input());
        let checkpoints = SinkCheckpoints {
            checkpoints: self.checkpoints.clone(),
            progress: inlet.progress().expect("the aggregate stage's inlet is durable"),
            csv_bytes,
            errors: replayed.clone(),
            error_file: errors,
            crash: crash_point(),
            saves: 0,
            sync_outputs: self.sync_outputs,
        };
        stages::aggregate_with(StageId(2), inlet, aggregator, replayed, summary, checkpoints)
    }
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

/// What has been written to the CSV: its length and the FNV-1a hash of its bytes (one writer updates them; the
/// checkpoint reads them after a flush), and a handle on the file to sync it with.
pub struct Written {
    bytes: AtomicU64,
    hash: AtomicU64,
    file: Option<File>,
}

impl Written {
    fn new(bytes: u64, hash: u64) -> Self {
        Self { bytes: AtomicU64::new(bytes), hash: AtomicU64::new(hash), file: None }
    }

    /// Counts the bytes written to `file`, which [`sync`](Self::sync) syncs.
    fn syncing(self, file: &File) -> io::Result<Self> {
        Ok(Self { file: Some(file.try_clone()?), ..self })
    }

    /// Forces what was written to the file to stable storage. Blocks for an `fdatasync`: call it off the workers.
    fn sync(&self) -> io::Result<()> {
        self.file.as_ref().map_or(Ok(()), File::sync_data)
    }

    fn add(&self, buf: &[u8]) {
        let hash = buf
            .iter()
            .fold(self.hash.load(Ordering::Acquire), |h, b| (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3));
        self.hash.store(hash, Ordering::Release);
        self.bytes.fetch_add(buf.len() as u64, Ordering::AcqRel);
    }
}

/// Hashing what a resumed run finds in its CSV.
impl Write for Written {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.add(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A file that counts and hashes the bytes written to it.
struct Counted {
    file: File,
    bytes: Arc<Written>,
}

impl Write for Counted {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.file.write(buf)?;
        self.bytes.add(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

/// The aggregate stage's checkpoints in durable mode.
struct SinkCheckpoints {
    checkpoints: Checkpoints<AggregateState>,
    progress: InputProgress,
    csv_bytes: Arc<Written>,
    errors: Arc<ReplayedErrors>,
    error_file: Arc<FileJournal<ErrorRecord>>,
    crash: Option<(String, u64)>,
    saves: u64,
    sync_outputs: bool,
}

/// `ACCESS_LOG_CRASH_AT=phase:N`, if set.
fn crash_point() -> Option<(String, u64)> {
    let spec = std::env::var("ACCESS_LOG_CRASH_AT").ok()?;
    let (phase, n) = spec.split_once(':')?;
    Some((phase.to_owned(), n.parse().ok()?))
}

impl SinkCheckpoints {
    fn crash_if(&self, phase: &str) {
        if self.crash.as_ref().is_some_and(|(p, n)| p == phase && *n == self.saves) {
            eprintln!("access_log: crashing at {phase} {} as ACCESS_LOG_CRASH_AT says", self.saves);
            std::process::abort();
        }
    }
}

impl Checkpointer for SinkCheckpoints {
    fn stream_ended(&self) -> bool {
        self.progress.ended()
    }

    async fn save(&mut self, aggregator: &mut Aggregator, finished: bool) -> Result<(), BoxError> {
        self.saves += 1;
        self.crash_if("batch");
        // Rows and error records first, then the checkpoint that accounts for them: a crash in between leaves rows
        // and records the resumed run cuts off (rows) or recognises (records).
        aggregator.flush()?;
        let (csv, errors, sync) = (self.csv_bytes.clone(), self.error_file.clone(), self.sync_outputs);
        tokio::task::spawn_blocking(move || -> Result<(), BoxError> {
            if sync {
                csv.sync()?;
                errors.sync()?;
            } else {
                errors.flush()?;
            }
            Ok(())
        })
        .await??;
        self.crash_if("checkpoint");
        let input = self.progress.get();
        let state = AggregateState {
            tally: aggregator.tally().clone(),
            csv_bytes: self.csv_bytes.bytes.load(Ordering::Acquire),
            csv_hash: self.csv_bytes.hash.load(Ordering::Acquire),
            errors: self.errors.accounted(),
        };
        self.checkpoints.save(Checkpoint { input, finished, state }).await?;
        self.crash_if("saved");
        self.progress.commit(input);
        Ok(())
    }
}

/// The lines the read stage consumed, over every run: the input position stamped on its link's last record.
pub async fn lines_in(links: &DurableLinks) -> Result<u64, String> {
    let link = links.open::<String>(0).map_err(|e| e.to_string())?;
    let Some(last) = link.len().checked_sub(1) else { return Ok(0) };
    let records = link.log().read(last, 1).await.map_err(|e| e.to_string())?;
    Ok(records.first().map_or(0, |r| r.input))
}
