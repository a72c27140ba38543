//! Records of successful reads, written in batches. A read changes nothing, so its record need not
//! share a transaction with it; batching keeps reads off SQLite's single writer and lets one
//! commit carry many records. Writes and every failure are still recorded in their own
//! transaction at once (services/op.rs). A crash can lose the reads of the last moments (the
//! batch in flight, at most 20 ms of them), never a write's record. Call `flush` before a process exits.

use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

use crate::model::AuditRecord;
use crate::store::Store;

enum Msg {
    Record(Box<AuditRecord>),
    Flush(oneshot::Sender<()>),
}

pub(crate) struct AuditSink {
    tx: mpsc::UnboundedSender<Msg>,
}

const MAX_BATCH: usize = 1000;
/// How long the first record of a batch waits for company.
const LINGER: std::time::Duration = std::time::Duration::from_millis(20);

impl AuditSink {
    /// Start the writer task on the current tokio runtime.
    pub fn start(store: Arc<dyn Store>) -> Self {
        let (tx, mut rx) = mpsc::unbounded_channel::<Msg>();
        tokio::spawn(async move {
            while let Some(first) = rx.recv().await {
                let (mut batch, mut waiting) = (Vec::new(), Vec::new());
                let deadline = tokio::time::Instant::now() + LINGER;
                let mut next = Some(first);
                // Gather for up to LINGER (a flush or a full batch ends the wait at once), so a
                // busy server commits many records at a time instead of one fsync each.
                while let Some(m) = next.take() {
                    match m {
                        Msg::Record(r) => batch.push(r),
                        Msg::Flush(done) => waiting.push(done),
                    }
                    next = match rx.try_recv() {
                        Ok(m) => Some(m),
                        Err(_) if !waiting.is_empty() || batch.len() >= MAX_BATCH => None,
                        Err(_) => tokio::time::timeout_at(deadline, rx.recv()).await.ok().flatten(),
                    };
                    if batch.len() >= MAX_BATCH {
                        if let Some(m) = next.take() {
                            match m {
                                Msg::Record(r) => batch.push(r),
                                Msg::Flush(done) => waiting.push(done),
                            }
                        }
                        break;
                    }
                }
                if !batch.is_empty() {
                    match write(&store, &batch).await {
                        Ok(()) => metrics::counter!("gatehouse_audit_events_written_total").increment(batch.len() as u64),
                        Err(e) => tracing::error!(records = batch.len(), error = %e, "could not write read audit records"),
                    }
                }
                for done in waiting {
                    let _ = done.send(());
                }
            }
        });
        AuditSink { tx }
    }

    pub fn submit(&self, record: AuditRecord) {
        let _ = self.tx.send(Msg::Record(Box::new(record)));
    }

    /// Wait until every record submitted before this call is written.
    pub async fn flush(&self) {
        let (done, wait) = oneshot::channel();
        if self.tx.send(Msg::Flush(done)).is_ok() {
            let _ = wait.await;
        }
    }
}

async fn write(store: &Arc<dyn Store>, batch: &[Box<AuditRecord>]) -> crate::error::Result<()> {
    let mut tx = store.begin().await?;
    for r in batch {
        tx.insert_audit(r).await?;
    }
    tx.commit().await?;
    Ok(())
}
