//! Closing a journal, and a sync on the caller's thread: what a journal without a committer (`Os`) does itself, and
//! what a dropped journal hands to its committer so that no tokio worker waits for the last `fdatasync`.

use super::commit::{self, Source};
use super::{Durability, FileJournal, JournalError, Shared};

impl Shared {
    /// Keeps the policy's promise on close (see `Writer::close`) and writes the tail mark it leaves.
    fn close(&self) {
        let mark = self.lock().close();
        if let Some(mark) = mark {
            self.marks.write(mark);
        }
    }

    /// Writes and syncs everything appended so far on the calling thread, as the committer would: outside the
    /// journal's lock, so appenders on other threads do not wait for the `fdatasync`. For [`Durability::Os`].
    pub(super) fn sync_here(&self) -> Result<(), JournalError> {
        self.lock().flush()?;
        match commit::sync_round(self, self.commit.synced()) {
            Ok((upto, mark)) => {
                self.commit.synced_to(upto);
                self.synced(upto, mark);
                Ok(())
            }
            Err(e) => {
                self.broken(&format!("a sync failed ({e}); reopen the journal to recover"));
                Err(e)
            }
        }
    }
}

/// Closing keeps the policy's promise: buffered records are written on the dropping thread (a `write`, as an append's)
/// and, under a syncing policy, synced by the committer thread, with the tail mark written after. Dropped inside a
/// tokio runtime (on a worker, in a `LocalSet`, in `spawn_blocking`), the journal returns at once and the committer
/// keeps the folder locked until that sync is done: a journal opened on the folder in this process meanwhile waits
/// for it. Dropped outside a runtime, the journal waits for its committer.
impl<R> Drop for FileJournal<R> {
    fn drop(&mut self) {
        // Written here so the records survive this process even if it ends before the committer syncs them; an
        // error is reported by the close, which tries again.
        let _ = self.shared.lock().flush();
        let in_runtime = tokio::runtime::Handle::try_current().is_ok();
        let mut folder = self.folder.take();
        if in_runtime && self.options.durability != Durability::Os {
            if let Some(folder) = folder.as_mut() {
                folder.hand_over();
            }
        }
        let shared = self.shared.clone();
        let last = Box::new(move || {
            shared.close();
            drop(folder);
        });
        match self.shared.commit.close(last) {
            Ok(()) if in_runtime => {}
            Ok(()) => self.shared.commit.join(),
            // No committer (`Os`): the close is a flush and the tail mark, no sync.
            Err(last) => last(),
        }
    }
}
