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
    /// Opens `dir` and says what it holds; with `fresh`, first deletes whatever it holds so a new run starts.
    /// Marks the run started.
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
    /// ```
    ///
    /// # Errors
    /// When the folder cannot be read, cleared or written.
    pub fn open(dir: impl AsRef<Path>, fresh: bool) -> io::Result<(Self, RunStatus)> {
        let dir = dir.as_ref().to_owned();
        if fresh && dir.exists() {
            fs::remove_dir_all(&dir)?;
        }
        fs::create_dir_all(&dir)?;
        let status = if dir.join(FINISHED).exists() {
            RunStatus::Finished
        } else if dir.join(STARTED).exists() {
            RunStatus::Interrupted
        } else {
            RunStatus::New
        };
        if status == RunStatus::New {
            fs::write(dir.join(STARTED), b"")?;
            fs::File::open(&dir)?.sync_all()?;
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
