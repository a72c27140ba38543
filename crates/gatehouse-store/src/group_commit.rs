//! Group commit for SQLite: many write operations, one fsync.
//!
//! SQLite has one writer at a time, and with `synchronous=FULL` every COMMIT waits for an fsync of
//! the WAL. Write operations therefore queue for the writer (one connection, sqlite_writer.rs) and
//! each still runs alone, but inside a SAVEPOINT of a shared outer transaction. When an operation
//! finishes and nobody is queued behind it (or the group is full), it COMMITs the outer
//! transaction; every operation of the group learns that COMMIT's outcome before its own `commit`
//! returns, so nothing is acknowledged before it is durable, and a failed operation rolls back to
//! its own savepoint only.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::sync::{Mutex, OwnedMutexGuard, oneshot};

use gatehouse_core::error::StoreError;
use gatehouse_core::store::StoreResult;

use crate::convert::db_err;
use crate::sqlite_writer::LiteConn;

/// Operations in one outer transaction at most: bounds the work a failed COMMIT loses.
const MAX_GROUP: usize = 64;

type Outcome = Result<(), StoreError>;

struct Group {
    writer: LiteConn,
    /// Is the outer transaction open?
    open: bool,
    /// Operations whose savepoint is released, waiting for the outer COMMIT.
    waiting_for_commit: Vec<oneshot::Sender<Outcome>>,
    size: usize,
}

pub struct GroupCommit {
    group: Arc<Mutex<Group>>,
    /// Operations queued for the writer.
    queued: Arc<AtomicUsize>,
}

/// Counts a queued operation until it gets the writer (or gives up waiting).
struct Queued(Arc<AtomicUsize>);

impl Drop for Queued {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A write operation's hold on the writer, released by [`Slot::finish`].
pub struct Slot {
    group: OwnedMutexGuard<Group>,
    queued: Arc<AtomicUsize>,
}

/// Every operation's savepoint has this name: operations never nest.
const SAVEPOINT: &str = "SAVEPOINT op";
const RELEASE: &str = "RELEASE op";
const ROLLBACK_TO: &str = "ROLLBACK TO op; RELEASE op";

impl GroupCommit {
    pub fn new(writer: LiteConn) -> Self {
        let group = Group { writer, open: false, waiting_for_commit: Vec::new(), size: 0 };
        GroupCommit { group: Arc::new(Mutex::new(group)), queued: Default::default() }
    }

    /// Wait for the writer, then open the operation's savepoint in the group's transaction.
    pub async fn begin(&self) -> StoreResult<(LiteConn, Slot)> {
        self.queued.fetch_add(1, Ordering::SeqCst);
        let queued = Queued(self.queued.clone());
        let mut group = self.group.clone().lock_owned().await;
        drop(queued);
        let writer = group.writer.clone();
        // IMMEDIATE takes SQLite's write lock now (other processes, such as the CLI, wait on
        // busy_timeout) rather than failing at the first write.
        let opened = if group.open { Ok(()) } else { writer.batch("BEGIN IMMEDIATE").map_err(db_err) };
        group.open |= opened.is_ok();
        match opened.and_then(|()| writer.batch(SAVEPOINT).map_err(db_err)) {
            Ok(()) => Ok((writer, Slot { group, queued: self.queued.clone() })),
            Err(e) => {
                fail_group(&mut group, &e);
                Err(e)
            }
        }
    }
}

/// The outer transaction is unusable: roll it back and tell its waiting operations.
fn fail_group(group: &mut Group, e: &StoreError) {
    if std::mem::take(&mut group.open) {
        let _ = group.writer.batch("ROLLBACK");
    }
    group.size = 0;
    for waiter in group.waiting_for_commit.drain(..) {
        let _ = waiter.send(Err(e.clone()));
    }
}

impl Slot {
    /// Release the operation's savepoint (keep its writes) or roll back to it (drop them).
    pub fn end_savepoint(&self, keep: bool) -> StoreResult<()> {
        self.group.writer.batch(if keep { RELEASE } else { ROLLBACK_TO }).map_err(db_err)
    }

    /// End the operation (its savepoint already released or rolled back) and, if it is the last
    /// of its group, commit the group. Returns once the operation's writes are durable (or failed).
    pub async fn finish(mut self, released: bool) -> StoreResult<()> {
        let outcome = released.then(|| {
            let (tx, rx) = oneshot::channel();
            self.group.waiting_for_commit.push(tx);
            rx
        });
        self.group.size += 1;
        if self.queued.load(Ordering::SeqCst) == 0 || self.group.size >= MAX_GROUP {
            let members = std::mem::take(&mut self.group.waiting_for_commit);
            self.group.size = 0;
            let result = if std::mem::take(&mut self.group.open) {
                let result = self.group.writer.commit().await.map_err(db_err);
                if result.is_err() {
                    // A failed COMMIT can leave the transaction open: end it so the next starts clean.
                    let _ = self.group.writer.batch("ROLLBACK");
                }
                result
            } else {
                Ok(())
            };
            drop(self.group);
            for m in members {
                let _ = m.send(result.clone());
            }
        } else {
            drop(self.group);
        }
        match outcome {
            Some(rx) => rx.await.unwrap_or_else(|_| Err(StoreError::Other("the group transaction was abandoned".into()))),
            None => Ok(()),
        }
    }

    /// The operation's savepoint failed to release or roll back: the group cannot continue.
    pub fn abort(mut self, e: &StoreError) {
        fail_group(&mut self.group, e);
    }
}
