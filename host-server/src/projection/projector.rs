//! The background projector: catches the read models up whenever the write side says it
//! appended, and on a timer (for events appended by other processes or replicas).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::ReadModels;
use crate::store::EventStore;

/// How often the projector polls the store when nobody wakes it.
pub const POLL_INTERVAL: Duration = Duration::from_millis(500);

/// Least time between two catch-ups of the projector: under load, each transaction then
/// carries the events of this interval rather than of one group commit, which costs far less
/// per event. Requests that must see a write call [`ReadModels::catch_up_to`] themselves and do
/// not wait for the projector.
pub const MIN_GAP: Duration = Duration::from_millis(10);

/// Spawns the projector. `wake` carries the newest appended position (e.g. the store's
/// `subscribe()`); every change triggers a catch-up, as does every [`POLL_INTERVAL`]. Errors are
/// logged and retried on the next wake or tick (an undecodable event keeps failing, and keeps
/// being reported, until a build that reads it is deployed). Ends when `shutdown` completes.
pub fn spawn_projector<S>(
    read: Arc<ReadModels>,
    store: Arc<dyn EventStore>,
    mut wake: watch::Receiver<u64>,
    shutdown: S,
) -> JoinHandle<()>
where
    S: Future<Output = ()> + Send + 'static,
{
    tokio::spawn(async move {
        tokio::pin!(shutdown);
        let mut ticks = tokio::time::interval(POLL_INTERVAL);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut wake_open = true;
        let mut failures: u64 = 0;
        loop {
            tokio::select! {
                biased;
                () = &mut shutdown => break,
                changed = wake.changed(), if wake_open => {
                    if changed.is_err() {
                        // The sender is gone: keep polling.
                        wake_open = false;
                        continue;
                    }
                    if failures > 0 {
                        // Do not spin on a persistent failure: retry on the timer only.
                        continue;
                    }
                }
                _ = ticks.tick() => {}
            }
            match read.catch_up(store.as_ref()).await {
                Ok(_) => {
                    if failures > 0 {
                        tracing::info!(failures, "projection recovered");
                    }
                    failures = 0;
                }
                Err(error) => {
                    // Reported at once, then about once a minute while it lasts.
                    if failures.is_multiple_of(120) {
                        tracing::error!(%error, failures, "projection failed; retrying every {POLL_INTERVAL:?}");
                    }
                    failures = failures.saturating_add(1);
                }
            }
            tokio::select! {
                biased;
                () = &mut shutdown => break,
                () = tokio::time::sleep(MIN_GAP) => {}
            }
        }
    })
}
