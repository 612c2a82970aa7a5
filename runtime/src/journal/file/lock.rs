//! The folder lock: a journal holds an exclusive advisory lock (`flock`) on its folder while it is open, so a second
//! journal on the same folder, in this process or another, is refused instead of interleaving its writes.
//!
//! The kernel drops the lock when the process dies, so a crash never leaves a stale lock behind. A journal dropped
//! inside a tokio runtime hands its lock to its committer thread, which releases it once the journal's last sync is
//! done ([`FolderLock::hand_over`]); a journal opened on that folder in this process meanwhile waits for it.

use std::collections::HashSet;
use std::fs::File;
use std::path::Path;
use std::sync::{Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::journal::JournalError;

/// The held lock; released on drop.
#[derive(Debug)]
pub(crate) struct FolderLock {
    folder: File,
    /// Registered in [`CLOSING`] by [`hand_over`](Self::hand_over), removed once the lock is released.
    closing: Option<FolderId>,
}

/// A folder, by device and inode: the same however its path is spelled.
type FolderId = (u64, u64);

/// Folders whose journal was dropped and whose last sync is still running, in this process.
static CLOSING: Mutex<Option<HashSet<FolderId>>> = Mutex::new(None);
/// Wakes opens waiting for a folder to leave [`CLOSING`].
static RELEASED: Condvar = Condvar::new();

/// How long a held lock is waited for before the folder is declared taken. A lock can be held for a moment by a
/// process that is not a journal at all: a child being spawned by any thread of this process shares every open file,
/// the lock's included, until it executes its program.
const WAIT_FOR_RELEASE: Duration = Duration::from_millis(250);

/// How long an open waits for a journal of this process that is closing on the same folder (its committer running
/// the last sync): as long as a sync can take on a slow disk, bounded so that a disk that never answers fails the
/// open instead of hanging it.
const WAIT_FOR_CLOSE: Duration = Duration::from_secs(120);

impl FolderLock {
    /// Marks the folder as closing: from now until this lock is dropped, a journal opened on the same folder in this
    /// process waits for the drop instead of being refused. For the lock a committer thread keeps while it runs a
    /// dropped journal's last sync.
    pub(crate) fn hand_over(&mut self) {
        let Ok(id) = folder_id(&self.folder) else { return };
        closing().get_or_insert_with(HashSet::new).insert(id);
        self.closing = Some(id);
    }
}

impl Drop for FolderLock {
    fn drop(&mut self) {
        if let Some(id) = self.closing {
            // Released before a waiting open looks again; the file's close would release it too, a moment later.
            #[cfg(unix)]
            let _ = rustix::fs::flock(&self.folder, rustix::fs::FlockOperation::Unlock);
            if let Some(set) = closing().as_mut() {
                set.remove(&id);
            }
            RELEASED.notify_all();
        }
    }
}

fn closing() -> std::sync::MutexGuard<'static, Option<HashSet<FolderId>>> {
    CLOSING.lock().unwrap_or_else(PoisonError::into_inner)
}

fn folder_id(folder: &File) -> std::io::Result<FolderId> {
    use std::os::unix::fs::MetadataExt;
    let meta = folder.metadata()?;
    Ok((meta.dev(), meta.ino()))
}

/// Locks `dir`, or says who holds it. A journal of this process that is closing on it (its last sync handed to its
/// committer) is waited for.
pub(crate) fn acquire(dir: &Path) -> Result<FolderLock, JournalError> {
    match lock_exclusive(dir) {
        Ok(folder) => Ok(FolderLock { folder, closing: None }),
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => Err(JournalError::Unusable(format!(
            "{} is already open as a journal (in this process or another); a folder has one writer",
            dir.display()
        ))),
        Err(e) if e.kind() == std::io::ErrorKind::TimedOut => Err(JournalError::Unusable(format!(
            "{} belongs to a journal of this process that was dropped and whose last sync has not finished after \
             {} s",
            dir.display(),
            WAIT_FOR_CLOSE.as_secs()
        ))),
        Err(e) => Err(JournalError::Io(e)),
    }
}

/// Takes an exclusive advisory lock on the folder `dir` (released when the returned file is dropped, or by the kernel
/// when the process dies), waiting [`WAIT_FOR_RELEASE`] for a holder that is only spawning a child, and up to
/// [`WAIT_FOR_CLOSE`] for a journal of this process that is closing there. The folder lock of journals and of durable
/// runs alike.
///
/// # Errors
/// [`std::io::ErrorKind::WouldBlock`] when someone else holds it; [`std::io::ErrorKind::TimedOut`] when a closing
/// journal of this process still holds it after [`WAIT_FOR_CLOSE`]; the open's error when `dir` cannot be opened.
pub(crate) fn lock_exclusive(dir: &Path) -> std::io::Result<File> {
    let folder = File::open(dir)?;
    wait_while_closing(folder_id(&folder)?)?;
    #[cfg(unix)]
    {
        use rustix::fs::{flock, FlockOperation};
        let deadline = Instant::now() + WAIT_FOR_RELEASE;
        loop {
            match flock(&folder, FlockOperation::NonBlockingLockExclusive) {
                Ok(()) => break,
                Err(rustix::io::Errno::WOULDBLOCK) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err(rustix::io::Errno::WOULDBLOCK) => {
                    return Err(std::io::Error::new(std::io::ErrorKind::WouldBlock, "the folder is locked"))
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
    Ok(folder)
}

/// Waits until no journal of this process is closing on the folder `id`.
fn wait_while_closing(id: FolderId) -> std::io::Result<()> {
    let deadline = Instant::now() + WAIT_FOR_CLOSE;
    let mut set = closing();
    while set.as_ref().is_some_and(|s| s.contains(&id)) {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(std::io::Error::new(std::io::ErrorKind::TimedOut, "a closing journal holds the folder"));
        }
        set = RELEASED.wait_timeout(set, left).unwrap_or_else(PoisonError::into_inner).0;
    }
    Ok(())
}
