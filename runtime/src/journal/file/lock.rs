//! The folder lock: a journal holds an exclusive advisory lock (`flock`) on its folder while it is open, so a second
//! journal on the same folder, in this process or another, is refused instead of interleaving its writes.
//!
//! The kernel drops the lock when the process dies, so a crash never leaves a stale lock behind.

use std::fs::File;
use std::path::Path;

use crate::journal::JournalError;

/// The held lock; released on drop.
#[derive(Debug)]
pub(crate) struct FolderLock {
    _folder: File,
}

/// How long a held lock is waited for before the folder is declared taken. A lock can be held for a moment by a
/// process that is not a journal at all: a child being spawned by any thread of this process shares every open file,
/// the lock's included, until it executes its program.
const WAIT_FOR_RELEASE: std::time::Duration = std::time::Duration::from_millis(250);

/// Locks `dir`, or says who holds it.
pub(crate) fn acquire(dir: &Path) -> Result<FolderLock, JournalError> {
    match lock_exclusive(dir) {
        Ok(folder) => Ok(FolderLock { _folder: folder }),
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => Err(JournalError::Unusable(format!(
            "{} is already open as a journal (in this process or another); a folder has one writer",
            dir.display()
        ))),
        Err(e) => Err(JournalError::Io(e)),
    }
}

/// Takes an exclusive advisory lock on the folder `dir` (released when the returned file is dropped, or by the kernel
/// when the process dies), waiting [`WAIT_FOR_RELEASE`] for a holder that is only spawning a child. The folder lock of
/// journals and of durable runs alike.
///
/// # Errors
/// [`std::io::ErrorKind::WouldBlock`] when someone else holds it; the open's error when `dir` cannot be opened.
pub(crate) fn lock_exclusive(dir: &Path) -> std::io::Result<File> {
    let folder = File::open(dir)?;
    #[cfg(unix)]
    {
        use rustix::fs::{flock, FlockOperation};
        let deadline = std::time::Instant::now() + WAIT_FOR_RELEASE;
        loop {
            match flock(&folder, FlockOperation::NonBlockingLockExclusive) {
                Ok(()) => break,
                Err(rustix::io::Errno::WOULDBLOCK) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(std::time::Duration::from_millis(5));
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
