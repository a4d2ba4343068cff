//! A fixed number of worker slots. A run checks one out, blocking while all are busy, and the
//! checkout puts it back when dropped, also on an early return or a panic. A slot is empty
//! until first used and again after its worker failed; the caller fills it.

use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

use super::process::WorkerProcess;

pub(super) struct WorkerPool {
    idle: Mutex<Vec<Option<WorkerProcess>>>,
    returned: Condvar,
}

impl WorkerPool {
    pub fn new(slots: usize) -> Self {
        Self {
            idle: Mutex::new((0..slots).map(|_| None).collect()),
            returned: Condvar::new(),
        }
    }

    /// Takes a slot, waiting for one to come back if all are in use. The most recently
    /// returned slot comes first, so sequential runs reuse one warm worker and its cache.
    pub fn checkout(&self) -> Checkout<'_> {
        let mut idle = self.lock();
        loop {
            if let Some(worker) = idle.pop() {
                return Checkout { pool: self, worker };
            }
            idle = self
                .returned
                .wait(idle)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// Pids of the live workers not running anything right now.
    pub fn idle_pids(&self) -> Vec<u32> {
        self.lock()
            .iter()
            .flatten()
            .map(WorkerProcess::pid)
            .collect()
    }

    fn lock(&self) -> MutexGuard<'_, Vec<Option<WorkerProcess>>> {
        self.idle.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// One slot, owned by a run until dropped.
pub(super) struct Checkout<'a> {
    pool: &'a WorkerPool,
    pub worker: Option<WorkerProcess>,
}

impl Drop for Checkout<'_> {
    fn drop(&mut self) {
        self.pool.lock().push(self.worker.take());
        self.pool.returned.notify_one();
    }
}
