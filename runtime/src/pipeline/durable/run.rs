//! The folder of a durable pipeline run: whether it holds nothing, an interrupted run to resume, or a finished one;
//! starting over on request; and marking the run finished.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

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

/// The folder of one durable pipeline run.
#[derive(Clone, Debug)]
pub struct RunFolder {
    dir: PathBuf,
}

impl RunFolder {
    /// Opens `dir` and says what it holds; with `fresh`, first deletes the run it holds so a new run starts (a run
    /// only: a folder holding other files is refused, fresh or not). Marks the run started.
    ///
    /// ```
    /// use stagewise_runtime::pipeline::durable::{RunFolder, RunStatus};
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let (run, status) = RunFolder::open(dir.path(), false).unwrap();
    /// assert_eq!(status, RunStatus::New);
    /// assert_eq!(RunFolder::open(dir.path(), false).unwrap().1, RunStatus::Interrupted);
    /// run.finish().unwrap();
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
    /// When the folder cannot be read, cleared or written.
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
    /// RunFolder::open_on(dir.path(), false, "access.log").unwrap();
    /// assert!(RunFolder::open_on(dir.path(), false, "access.log").is_ok(), "resumes");
    /// let other = RunFolder::open_on(dir.path(), false, "other.log").unwrap_err();
    /// assert!(other.to_string().contains("was started on access.log"));
    /// ```
    ///
    /// # Errors
    /// When the folder cannot be read, cleared or written; [`io::ErrorKind::InvalidInput`] when it holds a run
    /// started on another input, or files but no run (`fresh` deletes a run, never anything else).
    pub fn open_on(dir: impl AsRef<Path>, fresh: bool, input: &str) -> io::Result<(Self, RunStatus)> {
        let dir = dir.as_ref().to_owned();
        fs::create_dir_all(&dir)?;
        let is_run = dir.join(STARTED).exists();
        if !is_run && fs::read_dir(&dir)?.next().is_some() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{} holds files but no run: choose an empty folder or a run's", dir.display()),
            ));
        }
        if fresh && is_run {
            clear(&dir)?;
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
            fs::File::open(&dir)?.sync_all()?;
        } else {
            // A run started before runs recorded their input (an empty mark) resumes on any.
            let started = fs::read_to_string(dir.join(STARTED)).unwrap_or_default();
            if !started.is_empty() && started != input {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!(
                        "the run in {} was started on {started}, not on {input}: give it the same input to resume, \
                         or start over",
                        dir.display()
                    ),
                ));
            }
        }
        Ok((Self { dir }, status))
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
        fs::File::open(&self.dir)?.sync_all()
    }
}

/// Deletes the run in `dir`, leaving it empty. The folder is first renamed away in one step, so a crash in the middle
/// leaves either the whole run or an empty folder (and a `*.deleting` folder beside it), never half a run.
fn clear(dir: &Path) -> io::Result<()> {
    let mut trash = dir.as_os_str().to_owned();
    trash.push(".deleting");
    let trash = PathBuf::from(trash);
    if trash.exists() {
        fs::remove_dir_all(&trash)?;
    }
    fs::rename(dir, &trash)?;
    fs::create_dir_all(dir)?;
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::File::open(parent)?.sync_all()?;
    }
    fs::remove_dir_all(&trash)
}
