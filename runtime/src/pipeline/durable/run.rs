//! The folder of a durable pipeline run: whether it holds nothing, an interrupted run to resume, or a finished one;
//! starting over on request; and marking the run finished.

use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::journal::file::sync_dir;

/// What a run folder held when it was opened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunStatus {
    /// Nothing: a new run starts.
    New,
    /// A run that did not finish: it resumes.
    Interrupted,
    /// A run that finished: there is nothing to do.
    Finished,
}

const STARTED: &str = "RUN-STARTED";
const FINISHED: &str = "RUN-FINISHED";
const PARTS: &str = "RUN-PARTS";
const OUTPUT: &str = "RUN-OUTPUT";

/// What a run creates in its folder, and so what `fresh` may delete: its marks (`RUN-STARTED`, `RUN-FINISHED`,
/// `RUN-PARTS`, `RUN-OUTPUT`), its links (`stage-N`), the folders of its checkpoints, lifecycle and error journals
/// (holding journal files only: a file of another kind in one is refused like a file beside them), and `output/`,
/// where its sink may write its files ([`RunFolder::outputs`]).
pub const RUN_ENTRIES: [&str; 8] = [STARTED, FINISHED, PARTS, OUTPUT, "checkpoints", "lifecycle", "errors", "output"];

/// True for an entry a run creates ([`RUN_ENTRIES`], or a link `stage-N`).
fn is_run_entry(name: &str) -> bool {
    RUN_ENTRIES.contains(&name)
        || name.strip_prefix("stage-").is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// The folder of one durable pipeline run, locked: one process at a time uses a run (the lock is the kernel's, on
/// the folder, so a crash never leaves it behind).
#[derive(Clone, Debug)]
pub struct RunFolder {
    dir: PathBuf,
    _lock: Arc<File>,
}

fn invalid(why: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, why)
}

impl RunFolder {
    /// Opens `dir` and says what it holds; with `fresh`, first deletes the run it holds so a new run starts (a run
    /// only: a folder holding files that are not a run's is refused, fresh or not, and nothing is deleted). Marks
    /// the run started, and holds the run's lock until every clone of it is dropped.
    ///
    /// ```
    /// use stagewise_runtime::pipeline::durable::{RunFolder, RunStatus};
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let (run, status) = RunFolder::open(dir.path(), false).unwrap();
    /// assert_eq!(status, RunStatus::New);
    /// assert!(RunFolder::open(dir.path(), false).is_err(), "one process at a time uses a run");
    /// drop(run);
    /// let (run, status) = RunFolder::open(dir.path(), false).unwrap();
    /// assert_eq!(status, RunStatus::Interrupted);
    /// run.finish().unwrap();
    /// drop(run);
    /// assert_eq!(RunFolder::open(dir.path(), false).unwrap().1, RunStatus::Finished);
    /// assert_eq!(RunFolder::open(dir.path(), true).unwrap().1, RunStatus::New);
    ///
    /// let elsewhere = tempfile::tempdir().unwrap();
    /// std::fs::write(elsewhere.path().join("notes.txt"), "mine").unwrap();
    /// assert!(RunFolder::open(elsewhere.path(), true).is_err(), "not a run: nothing is deleted");
    /// assert!(elsewhere.path().join("notes.txt").exists());
    /// ```
    ///
    /// # Errors
    /// When the folder cannot be read, cleared or written; [`io::ErrorKind::InvalidInput`] when it is a file, holds
    /// files but no run, or (with `fresh`) a run and files that are not the run's; [`io::ErrorKind::WouldBlock`]
    /// when another process (or another `RunFolder` in this one) is using the run.
    pub fn open(dir: impl AsRef<Path>, fresh: bool) -> io::Result<(Self, RunStatus)> {
        Self::open_on(dir, fresh, "")
    }

    /// As [`open`](Self::open), for a run over `input` (a description of what the pipeline reads: a file's name, a
    /// generator's size): a new run records it, and a run found in the folder must have been started on the same
    /// input, since resuming it on another would mix two inputs' output.
    ///
    /// ```
    /// use stagewise_runtime::pipeline::durable::RunFolder;
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// drop(RunFolder::open_on(dir.path(), false, "access.log").unwrap());
    /// drop(RunFolder::open_on(dir.path(), false, "access.log").expect("resumes"));
    /// let other = RunFolder::open_on(dir.path(), false, "other.log").unwrap_err();
    /// assert!(other.to_string().contains("was started on access.log"));
    /// ```
    ///
    /// # Errors
    /// As [`open`](Self::open); [`io::ErrorKind::InvalidInput`] also when the folder holds a run started on another
    /// input.
    pub fn open_on(dir: impl AsRef<Path>, fresh: bool, input: &str) -> io::Result<(Self, RunStatus)> {
        let dir = dir.as_ref().to_owned();
        if dir.exists() && !dir.is_dir() {
            return Err(invalid(format!(
                "{} is a file, not a folder: give the folder of a run, or a new or empty one",
                dir.display()
            )));
        }
        fs::create_dir_all(&dir)?;
        let mut lock = lock(&dir)?;
        let is_run = dir.join(STARTED).exists();
        let mut foreign = Vec::new();
        let mut entries = 0;
        for entry in fs::read_dir(&dir)? {
            entries += 1;
            let name = entry?.file_name().to_string_lossy().into_owned();
            if !is_run_entry(&name) {
                foreign.push(name);
            } else if is_run {
                foreign.extend(foreign_in_journals(&dir, &name)?);
            }
        }
        foreign.sort();
        if !is_run && entries > 0 {
            return Err(invalid(format!(
                "{} holds files but no run (no {STARTED}); nothing was touched: choose a new or empty folder, or \
                 the folder of a run",
                dir.display()
            )));
        }
        if fresh && is_run {
            if !foreign.is_empty() {
                return Err(invalid(format!(
                    "{} holds a run and also {}, which a run does not create: starting over deletes a run and \
                     nothing else, so nothing was deleted; move them out of the folder first",
                    dir.display(),
                    foreign.join(", ")
                )));
            }
            lock = clear(&dir, lock)?;
        }
        let status = if dir.join(FINISHED).exists() {
            RunStatus::Finished
        } else if dir.join(STARTED).exists() {
            RunStatus::Interrupted
        } else {
            RunStatus::New
        };
        if status == RunStatus::New {
            fs::write(dir.join(STARTED), input)?;
            sync_dir(&dir)?;
        } else {
            // A run started before runs recorded their input (an empty mark) resumes on any.
            let started = fs::read_to_string(dir.join(STARTED)).unwrap_or_default();
            if !started.is_empty() && started != input {
                return Err(invalid(format!(
                    "the run in {} was started on {started}, not on {input}: give it the same input to resume, or \
                     start over",
                    dir.display()
                )));
            }
        }
        Ok((Self { dir, _lock: Arc::new(lock) }, status))
    }

    /// The input the run in `dir` was started on ([`open_on`](Self::open_on)), without opening it; `None` when
    /// `dir` holds no run. A process waiting for a new input (a new run upstream) compares it with the input it
    /// would start on now.
    ///
    /// ```
    /// use stagewise_runtime::pipeline::durable::RunFolder;
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// assert_eq!(RunFolder::started_on(dir.path()), None);
    /// drop(RunFolder::open_on(dir.path(), false, "access.log").unwrap());
    /// assert_eq!(RunFolder::started_on(dir.path()).as_deref(), Some("access.log"));
    /// ```
    pub fn started_on(dir: impl AsRef<Path>) -> Option<String> {
        fs::read_to_string(dir.as_ref().join(STARTED)).ok()
    }

    /// Creates the folders `parts` (paths under the run's folder: journals, checkpoints) and records them, or, in
    /// a run that recorded them, checks that every one is still there: a run missing a part it had (a deleted
    /// error journal, deleted checkpoints) cannot resume exactly, so it is refused before anything is written.
    ///
    /// ```
    /// use stagewise_runtime::pipeline::durable::RunFolder;
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let (run, _) = RunFolder::open(dir.path(), false).unwrap();
    /// run.parts(&["checkpoints/sink", "errors"]).unwrap();
    /// drop(run);
    /// std::fs::remove_dir_all(dir.path().join("errors")).unwrap();
    /// let (run, _) = RunFolder::open(dir.path(), false).unwrap();
    /// let missing = run.parts(&["checkpoints/sink", "errors"]).unwrap_err();
    /// assert!(missing.to_string().contains("errors"), "{missing}");
    /// assert!(!dir.path().join("errors").exists(), "nothing is re-created");
    /// ```
    ///
    /// # Errors
    /// [`io::ErrorKind::NotFound`] naming the missing parts; when the folders or the record cannot be written.
    pub fn parts(&self, parts: &[&str]) -> io::Result<()> {
        if let Ok(recorded) = fs::read_to_string(self.dir.join(PARTS)) {
            let missing: Vec<&str> = recorded.lines().filter(|p| !self.dir.join(p).is_dir()).collect();
            if !missing.is_empty() {
                return Err(io::Error::new(
                    io::ErrorKind::NotFound,
                    format!(
                        "the run in {} is missing {}, which it had (deleted?): it cannot resume exactly; start \
                         over (--fresh) or restore them",
                        self.dir.display(),
                        missing.join(", ")
                    ),
                ));
            }
        }
        for part in parts {
            fs::create_dir_all(self.dir.join(part))?;
        }
        fs::write(self.dir.join(PARTS), parts.join("\n"))?;
        sync_dir(&self.dir)
    }

    /// Records that the run writes the file `path` (outside its journals: a sink's output), or, in a run that
    /// recorded one, checks that `path` is that file: resuming while writing another would leave both incomplete.
    ///
    /// ```
    /// use stagewise_runtime::pipeline::durable::RunFolder;
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let (run, _) = RunFolder::open(dir.path(), false).unwrap();
    /// run.writes(&run.outputs().join("out.csv")).unwrap();
    /// assert!(run.writes(&run.outputs().join("out.csv")).is_ok());
    /// let other = run.writes(std::path::Path::new("elsewhere.csv")).unwrap_err();
    /// assert!(other.to_string().contains("elsewhere.csv"), "{other}");
    /// ```
    ///
    /// # Errors
    /// [`io::ErrorKind::InvalidInput`] naming both files when the run writes another; when the record cannot be
    /// read or written.
    pub fn writes(&self, path: &Path) -> io::Result<()> {
        let path = std::path::absolute(path)?;
        let dir = std::path::absolute(&self.dir)?;
        match fs::read_to_string(self.dir.join(OUTPUT)) {
            // A file inside the run is recorded relative to it, so the run folder can be moved and resumed.
            Ok(recorded) if same_file(&dir.join(&recorded), &path) => Ok(()),
            Ok(recorded) => Err(invalid(format!(
                "the run in {} writes {}, not {}: give that file to resume it, or start over",
                self.dir.display(),
                dir.join(&recorded).display(),
                path.display()
            ))),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                let recorded = path.strip_prefix(&dir).unwrap_or(&path);
                fs::write(self.dir.join(OUTPUT), recorded.as_os_str().as_encoded_bytes())?;
                sync_dir(&self.dir)
            }
            Err(e) => Err(e),
        }
    }

    /// The folder for the files the run writes besides its journals (`output/`, created when needed): a run's
    /// files kept there are never shared with another run.
    pub fn outputs(&self) -> PathBuf {
        self.dir.join("output")
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Marks the run finished: opening the folder again says so.
    ///
    /// # Errors
    /// When the mark cannot be written.
    pub fn finish(&self) -> io::Result<()> {
        fs::write(self.dir.join(FINISHED), b"")?;
        sync_dir(&self.dir)
    }
}

/// The files in the run's entry `name` that no journal writes (`stage-N/notes.txt`), named from the run folder: a
/// journal folder holds segments and its tail mark only, `checkpoints` one journal folder per checkpointing stage.
fn foreign_in_journals(dir: &Path, name: &str) -> io::Result<Vec<String>> {
    let journals: Vec<PathBuf> = match name {
        "lifecycle" | "errors" => vec![dir.join(name)],
        "checkpoints" if dir.join(name).is_dir() => {
            fs::read_dir(dir.join(name))?.map(|entry| entry.map(|e| e.path())).collect::<io::Result<_>>()?
        }
        _ if name.starts_with("stage-") => vec![dir.join(name)],
        _ => return Ok(Vec::new()),
    };
    let mut foreign = Vec::new();
    for journal in journals.into_iter().filter(|journal| journal.is_dir()) {
        for entry in fs::read_dir(&journal)? {
            let entry = entry?;
            let file = entry.file_name().to_string_lossy().into_owned();
            if !(entry.file_type()?.is_file() && crate::journal::file::is_journal_file(&file)) {
                let within = journal.strip_prefix(dir).unwrap_or(&journal);
                foreign.push(within.join(file).to_string_lossy().into_owned());
            }
        }
    }
    Ok(foreign)
}

/// True when `a` and `b` name one file: the same absolute path, or (when both exist) the same file reached another
/// way (`..`, a symbolic link).
fn same_file(a: &Path, b: &Path) -> bool {
    a == b || matches!((fs::canonicalize(a), fs::canonicalize(b)), (Ok(a), Ok(b)) if a == b)
}

/// Deletes the run in `dir` (whose `lock` is held), leaving it empty, and returns the lock of the empty folder. The
/// folder is first renamed away in one step, so a crash in the middle leaves either the whole run or an empty folder
/// (and a `<name>.deleting-<pid>-<n>` folder beside it, to delete by hand), never half a run. The name is one no
/// folder has yet: nothing beside the run that this process did not rename is ever deleted.
fn clear(dir: &Path, lock: File) -> io::Result<File> {
    // `run/`, `./run/.` and `run` are the same folder: name the trash beside it, not inside it.
    let dir: PathBuf = dir.components().collect();
    let Some(name) = dir.file_name().map(|n| n.to_string_lossy().into_owned()) else {
        return Err(invalid("a run folder to start over needs a name of its own".into()));
    };
    let parent = dir.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new(".")).to_path_buf();
    let pid = std::process::id();
    let trash = (0u32..)
        .map(|n| parent.join(format!("{name}.deleting-{pid}-{n}")))
        .find(|candidate| fs::symlink_metadata(candidate).is_err())
        .expect("a free name among 2^32");
    fs::rename(&dir, &trash)?;
    fs::create_dir_all(&dir)?;
    sync_dir(&parent)?;
    // The new folder is locked before the old run goes: a process that took it in between sees an empty folder.
    let new = self::lock(&dir)?;
    fs::remove_dir_all(&trash)?;
    drop(lock);
    Ok(new)
}

/// Locks the run in `dir` (the journals' folder lock: an advisory `flock` the kernel drops when the process dies), or
/// says it is in use.
fn lock(dir: &Path) -> io::Result<File> {
    crate::journal::file::lock::lock_exclusive(dir).map_err(|e| match e.kind() {
        io::ErrorKind::WouldBlock => io::Error::new(
            io::ErrorKind::WouldBlock,
            format!("another process is using the run in {} (it holds the run's lock)", dir.display()),
        ),
        _ => e,
    })
}
