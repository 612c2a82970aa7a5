//! A global allocator that records the size of every allocation made while a trace is on: where the bytes of one
//! spawned stage go (the memory benchmark prints it). Off, it adds one relaxed atomic load per allocation.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// How many allocations one trace keeps.
const KEPT: usize = 64;

/// The allocator: `System`, watched while [`trace`] runs.
pub struct Traced;

static ON: AtomicBool = AtomicBool::new(false);
static COUNT: AtomicUsize = AtomicUsize::new(0);
static SIZES: [AtomicUsize; KEPT] = [const { AtomicUsize::new(0) }; KEPT];
static ALIGNS: [AtomicUsize; KEPT] = [const { AtomicUsize::new(0) }; KEPT];

// SAFETY: every call is passed to `System` unchanged; the trace only reads the layout.
unsafe impl GlobalAlloc for Traced {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if ON.load(Ordering::Relaxed) {
            let at = COUNT.fetch_add(1, Ordering::Relaxed);
            if at < KEPT {
                SIZES[at].store(layout.size(), Ordering::Relaxed);
                ALIGNS[at].store(layout.align(), Ordering::Relaxed);
            }
        }
        // SAFETY: the caller's contract is passed on.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract is passed on.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if ON.load(Ordering::Relaxed) {
            let at = COUNT.fetch_add(1, Ordering::Relaxed);
            if at < KEPT {
                SIZES[at].store(new_size, Ordering::Relaxed);
                ALIGNS[at].store(layout.align(), Ordering::Relaxed);
            }
        }
        // SAFETY: the caller's contract is passed on.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Starts a trace: every allocation from now on, on any thread, is recorded until [`stop`].
pub fn start() {
    COUNT.store(0, Ordering::Relaxed);
    ON.store(true, Ordering::SeqCst);
}

/// Stops the trace; returns the (size, align) of every allocation made since [`start`] (at most 64), in order.
pub fn stop() -> Vec<(usize, usize)> {
    ON.store(false, Ordering::SeqCst);
    let count = COUNT.load(Ordering::Relaxed).min(KEPT);
    (0..count).map(|i| (SIZES[i].load(Ordering::Relaxed), ALIGNS[i].load(Ordering::Relaxed))).collect()
}
