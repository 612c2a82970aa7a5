//! Link ends kept by the orchestrator across the runs of a restartable stage: each instance borrows them, and when an
//! instance ends the inlet's receiving side goes back to the link and the outlet's sending side stays open, so the
//! next instance reads on where the last stopped and the neighbours see a pause, not an end.

use std::sync::{Arc, Mutex};

use super::error_journal::ErrorRecord;
use super::held::{lock, records, Held};
use super::link::{Home, Inlet, InletWay, Message, Outlet, OutletWay, Slot};

/// The receiving end of a link kept across the runs of the restartable stage that reads it.
#[derive(Debug)]
pub(crate) struct KeptInlet<P> {
    home: Home<P>,
    stats: Arc<super::link::LinkStats>,
}

impl<P> KeptInlet<P> {
    /// Keeps `inlet`'s link for a restartable stage whose batches `held` tracks; returns the inlet for its first
    /// instance.
    pub(crate) fn keep(mut inlet: Inlet<P>, held: &Arc<Held>) -> (Self, Inlet<P>) {
        let home = Arc::new(Mutex::new(Slot::Lent));
        inlet.home = Some(home.clone());
        inlet.held = Some(held.clone());
        let stats = inlet.stats.clone();
        (Self { home, stats }, inlet)
    }

    /// An inlet for the next instance, or `None` while the last instance (or something it handed its inlet to) has
    /// not let go of it, or once the link was closed.
    pub(crate) fn lend(&self, held: &Arc<Held>) -> Option<Inlet<P>> {
        let mut home = lock(&self.home);
        if !matches!(*home, Slot::Kept(_)) {
            return None;
        }
        let Slot::Kept(way) = std::mem::replace(&mut *home, Slot::Lent) else { return None };
        Some(Inlet { way, stats: self.stats.clone(), home: Some(self.home.clone()), held: Some(held.clone()) })
    }

    /// Closes the link for good: the stage before sees it closed, and the events still queued on an in-memory link
    /// are returned as error records saying `why`, so they are not lost.
    pub(crate) fn close(&self, why: &str) -> Vec<ErrorRecord> {
        let mut queued = Vec::new();
        if let Slot::Kept(InletWay::Memory(mut rx)) = std::mem::replace(&mut *lock(&self.home), Slot::Closed) {
            rx.close();
            while let Ok(message) = rx.try_recv() {
                if let Message::Events(events) = message {
                    queued.extend(events.into_iter().map(|event| (event.id, event.context)));
                }
            }
        }
        records(queued, why)
    }
}

/// The sending end of a link kept across the runs of the restartable stage that writes it: while it is kept the link
/// stays open, so the stage after sees a pause, not an end, when the writer fails.
#[derive(Debug)]
pub(crate) struct KeptOutlet<P> {
    way: Option<OutletWay<P>>,
    stats: Arc<super::link::LinkStats>,
}

impl<P> KeptOutlet<P> {
    /// Keeps `outlet`'s link for a restartable stage whose batches `held` tracks; returns the outlet for its first
    /// instance.
    pub(crate) fn keep(mut outlet: Outlet<P>, held: &Arc<Held>) -> (Self, Outlet<P>) {
        outlet.held = Some(held.clone());
        (Self { way: Some(sending_side(&outlet.way)), stats: outlet.stats.clone() }, outlet)
    }

    /// An outlet for the next instance; `None` once closed.
    pub(crate) fn lend(&self, held: &Arc<Held>) -> Option<Outlet<P>> {
        let way = sending_side(self.way.as_ref()?);
        Some(Outlet { way, stats: self.stats.clone(), held: Some(held.clone()) })
    }

    /// Lets go of the link: once the last instance's outlet is gone too, the stage after sees it closed.
    pub(crate) fn close(&mut self) {
        self.way = None;
    }
}

/// Another sending side of the same link.
fn sending_side<P>(way: &OutletWay<P>) -> OutletWay<P> {
    match way {
        OutletWay::Memory(tx) => OutletWay::Memory(tx.clone()),
        OutletWay::Durable(durable) => OutletWay::Durable(durable.clone()),
    }
}
