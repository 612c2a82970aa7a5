//! The open file a segment is written through, and, for tests, the faults it can be told to produce (a disk that
//! fills up, a permission that is withdrawn) so that every error path can be shown without a broken disk.

use std::fs::File;
use std::io::{self, Seek, SeekFrom, Write};
use std::path::Path;
use std::sync::Arc;
#[cfg(any(test, feature = "fault-injection"))]
use std::sync::Mutex;

/// Makes a created or removed file name in `dir` survive a power cut.
pub(crate) fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Cuts the file at `path` to `len` bytes and syncs it.
pub(crate) fn truncate(path: &Path, len: u64) -> io::Result<()> {
    let file = std::fs::OpenOptions::new().write(true).open(path)?;
    file.set_len(len)?;
    file.sync_all()
}

/// A segment file open for writing at its end.
#[derive(Debug)]
pub(crate) struct SegmentIo {
    file: File,
    /// A second handle on the same file, for syncs that run without the journal's lock (group commit).
    sync: SyncHandle,
}

/// Syncs one segment file (or a folder); can be used while the journal's lock is free.
#[derive(Clone, Debug)]
pub(crate) struct SyncHandle {
    file: Target,
    #[cfg(any(test, feature = "fault-injection"))]
    faults: Option<Arc<Faults>>,
}

/// What a [`SyncHandle`] syncs.
#[derive(Clone, Debug)]
enum Target {
    /// A file kept open for it.
    Open(Arc<File>),
    /// A file opened only when it is synced: for `Os` journals, which may roll many segments between two syncs
    /// (if any) and should not keep a descriptor open for each.
    Later(Arc<Path>),
}

impl SyncHandle {
    /// A handle that syncs the folder `dir` itself, so the names of files created in it survive a power cut.
    pub(crate) fn folder(
        dir: &Path,
        #[cfg(any(test, feature = "fault-injection"))] faults: Option<Arc<Faults>>,
    ) -> io::Result<Self> {
        Ok(Self {
            file: Target::Open(Arc::new(File::open(dir)?)),
            #[cfg(any(test, feature = "fault-injection"))]
            faults,
        })
    }

    /// A handle that opens the file (or folder) at `path` when it syncs it.
    pub(crate) fn later(
        path: &Path,
        #[cfg(any(test, feature = "fault-injection"))] faults: Option<Arc<Faults>>,
    ) -> Self {
        Self {
            file: Target::Later(path.into()),
            #[cfg(any(test, feature = "fault-injection"))]
            faults,
        }
    }

    /// Forces the file's written data (a folder's: its entries) to stable storage.
    pub(crate) fn sync_data(&self) -> io::Result<()> {
        #[cfg(any(test, feature = "fault-injection"))]
        if let Some(faults) = &self.faults {
            faults.count_sync();
            faults.wait_while_held();
            if let Some(error) = faults.sync_error() {
                return Err(error);
            }
        }
        match &self.file {
            Target::Open(file) => file.sync_data(),
            // Deleted since (retention): nothing of it to keep.
            Target::Later(path) => match File::open(path) {
                Ok(file) => file.sync_data(),
                Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
                Err(e) => Err(e),
            },
        }
    }
}

impl SegmentIo {
    pub(crate) fn new(
        file: File,
        #[cfg(any(test, feature = "fault-injection"))] faults: Option<Arc<Faults>>,
    ) -> io::Result<Self> {
        let sync = SyncHandle {
            file: Target::Open(Arc::new(file.try_clone()?)),
            #[cfg(any(test, feature = "fault-injection"))]
            faults,
        };
        Ok(Self { file, sync })
    }

    /// A handle that syncs this file without the journal's lock.
    pub(crate) fn sync_handle(&self) -> SyncHandle {
        self.sync.clone()
    }

    /// Writes all of `bytes` at the current position. On error, part of it may have been written.
    pub(crate) fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        #[cfg(any(test, feature = "fault-injection"))]
        if let Some(faults) = &self.sync.faults {
            let (allowed, error) = faults.admit(bytes.len());
            if let Some(error) = error {
                self.file.write_all(&bytes[..allowed])?;
                return Err(error);
            }
        }
        self.file.write_all(bytes)
    }

    /// Cuts the file to `len` bytes and continues writing there: undoes a write that failed part-way.
    pub(crate) fn truncate(&mut self, len: u64) -> io::Result<()> {
        self.file.set_len(len)?;
        self.file.seek(SeekFrom::Start(len))?;
        Ok(())
    }
}

/// Faults a file journal's writes produce on demand (only with the `fault-injection` feature).
///
/// ```
/// # #[cfg(feature = "fault-injection")] {
/// use stagewise_runtime::journal::Faults;
///
/// let faults = Faults::new();
/// faults.disk_full_after(1024); // the next writes succeed for 1 KiB, then fail with "no space left"
/// faults.heal(); // space freed: writes succeed again
/// # }
/// ```
#[cfg(any(test, feature = "fault-injection"))]
#[derive(Debug, Default)]
pub struct Faults {
    plan: Mutex<Plan>,
    /// Wakes syncs waiting on [`Faults::hold_syncs`].
    released: std::sync::Condvar,
}

#[cfg(any(test, feature = "fault-injection"))]
#[derive(Debug, Default)]
struct Plan {
    /// Syncs performed (or failed), counted for the group commit tests.
    syncs: u64,
    /// The name of the thread that ran each sync, in order ("unnamed" for a thread without one).
    sync_threads: Vec<String>,
    /// Writes fail once this many more bytes have been written.
    write_budget: Option<u64>,
    write_error: Option<io::ErrorKind>,
    fail_syncs: bool,
    /// Syncs wait until released, like a disk that takes its time.
    hold_syncs: bool,
}

#[cfg(any(test, feature = "fault-injection"))]
impl Faults {
    /// No faults yet, shared between the test and the journal.
    pub fn new() -> Arc<Self> {
        Arc::default()
    }

    /// Writes succeed for `bytes` more bytes, then fail as on a full disk (`ENOSPC`), part-way if need be.
    pub fn disk_full_after(&self, bytes: u64) {
        self.set_write_fault(bytes, io::ErrorKind::StorageFull);
    }

    /// Writes succeed for `bytes` more bytes, then fail with permission denied (`EACCES`).
    pub fn permission_denied_after(&self, bytes: u64) {
        self.set_write_fault(bytes, io::ErrorKind::PermissionDenied);
    }

    /// Every `fdatasync` fails (as `EIO`).
    pub fn fail_syncs(&self) {
        self.lock().fail_syncs = true;
    }

    /// Every `fdatasync` waits until [`heal`](Self::heal), as on a disk that takes its time: shows who waits for it.
    pub fn hold_syncs(&self) {
        self.lock().hold_syncs = true;
    }

    /// Removes every fault: writes and syncs succeed again, held syncs go on.
    pub fn heal(&self) {
        let mut plan = self.lock();
        *plan = Plan { syncs: plan.syncs, sync_threads: std::mem::take(&mut plan.sync_threads), ..Plan::default() };
        self.released.notify_all();
    }

    /// How many `fdatasync`s the journal has asked for.
    pub fn syncs(&self) -> u64 {
        self.lock().syncs
    }

    /// The name of the thread that ran each sync so far, in order: shows that no appender's thread (a tokio
    /// worker, say) ever waits for the disk.
    pub fn sync_threads(&self) -> Vec<String> {
        self.lock().sync_threads.clone()
    }

    fn count_sync(&self) {
        let thread = std::thread::current().name().unwrap_or("unnamed").to_owned();
        let mut plan = self.lock();
        plan.syncs += 1;
        plan.sync_threads.push(thread);
    }

    fn wait_while_held(&self) {
        let plan = self.lock();
        drop(self.released.wait_while(plan, |plan| plan.hold_syncs).unwrap_or_else(std::sync::PoisonError::into_inner));
    }

    fn set_write_fault(&self, bytes: u64, kind: io::ErrorKind) {
        let mut plan = self.lock();
        plan.write_budget = Some(bytes);
        plan.write_error = Some(kind);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Plan> {
        self.plan.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// How much of a write of `len` bytes succeeds, and the error that cuts it short.
    fn admit(&self, len: usize) -> (usize, Option<io::Error>) {
        let mut plan = self.lock();
        match (plan.write_budget, plan.write_error) {
            (Some(budget), Some(kind)) if budget < len as u64 => {
                plan.write_budget = Some(0);
                let message = match kind {
                    io::ErrorKind::StorageFull => "No space left on device (os error 28, injected)",
                    io::ErrorKind::PermissionDenied => "Permission denied (os error 13, injected)",
                    _ => "injected fault",
                };
                (budget as usize, Some(io::Error::new(kind, message)))
            }
            (Some(budget), _) => {
                plan.write_budget = Some(budget - len as u64);
                (len, None)
            }
            _ => (len, None),
        }
    }

    fn sync_error(&self) -> Option<io::Error> {
        self.lock().fail_syncs.then(|| io::Error::other("Input/output error (os error 5, injected)"))
    }
}
