//! Scheduling: runs planned probes with bounded concurrency and streams each finding as it
//! completes. The engine never prints; the caller turns events into progress and output.

mod plan;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinSet;

use crate::catalog::CheckId;
use crate::results::Finding;

pub use plan::{Plan, PlannedCell, Row, build_plan};

/// Something that can probe one path. The network prober is the real one; tests substitute
/// their own to check scheduling without a network.
pub trait Prober: Send + Sync + 'static {
    fn probe(&self, job: &Job) -> impl Future<Output = Finding> + Send;
}

/// One probe to run: which planned cell it fills, which path, toward which address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub cell: usize,
    pub check: CheckId,
    pub peer: SocketAddr,
    /// The host as the user named it: the HTTP Host header and the TLS server name.
    pub host: Arc<str>,
}

/// What the engine reports while it runs.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    Started(Job),
    Finished(Job, Box<Finding>),
}

/// Runs `jobs` with at most `concurrency` in flight and sends an event for each start and
/// finish. Returns when every job has finished; memory stays bounded by `concurrency` however
/// many jobs there are, because a job is only taken from the iterator when a slot is free.
pub async fn run<P: Prober>(
    jobs: impl IntoIterator<Item = Job>,
    prober: Arc<P>,
    concurrency: usize,
    events: mpsc::Sender<Event>,
) {
    let slots = Arc::new(Semaphore::new(concurrency.max(1)));
    let mut running = JoinSet::new();
    for job in jobs {
        // The semaphore is never closed, so acquiring only waits.
        let Ok(permit) = slots.clone().acquire_owned().await else {
            break;
        };
        while running.try_join_next().is_some() {}
        let prober = prober.clone();
        let events = events.clone();
        running.spawn(async move {
            // A closed receiver means the caller stopped listening: finish quietly.
            let _ = events.send(Event::Started(job.clone())).await;
            let finding = prober.probe(&job).await;
            let _ = events.send(Event::Finished(job, Box::new(finding))).await;
            drop(permit);
        });
    }
    while running.join_next().await.is_some() {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::{Evidence, State};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    /// Records how many probes run at once.
    #[derive(Default)]
    struct Counting {
        now: AtomicUsize,
        peak: AtomicUsize,
    }

    impl Prober for Counting {
        async fn probe(&self, job: &Job) -> Finding {
            let peer = job.peer;
            let now = self.now.fetch_add(1, Ordering::SeqCst) + 1;
            self.peak.fetch_max(now, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(10 * u64::from(peer.port() % 3))).await;
            self.now.fetch_sub(1, Ordering::SeqCst);
            Finding::new(State::Open, Evidence::new(format!("port {}", peer.port())))
        }
    }

    fn jobs(count: usize) -> Vec<Job> {
        (0..count)
            .map(|cell| Job {
                cell,
                check: CheckId::Raw,
                peer: SocketAddr::from(([127, 0, 0, 1], 1000 + cell as u16)),
                host: Arc::from("127.0.0.1"),
            })
            .collect()
    }

    #[tokio::test(start_paused = true)]
    async fn concurrency_is_bounded_and_every_job_finishes_once() {
        let prober = Arc::new(Counting::default());
        let (tx, mut rx) = mpsc::channel(8);
        let engine = tokio::spawn(run(jobs(50), prober.clone(), 4, tx));
        let mut finished = Vec::new();
        while let Some(event) = rx.recv().await {
            if let Event::Finished(job, finding) = event {
                assert_eq!(
                    finding.evidence.summary,
                    format!("port {}", job.peer.port())
                );
                finished.push(job.cell);
            }
        }
        engine.await.unwrap();
        finished.sort_unstable();
        assert_eq!(finished, (0..50).collect::<Vec<_>>());
        assert_eq!(prober.peak.load(Ordering::SeqCst), 4);
    }

    #[tokio::test(start_paused = true)]
    async fn results_stream_before_the_run_ends() {
        let prober = Arc::new(Counting::default());
        let (tx, mut rx) = mpsc::channel(64);
        let engine = tokio::spawn(run(jobs(20), prober, 2, tx));
        // The first finish arrives while most jobs have not started.
        let mut started = 0;
        while let Some(Event::Started(_)) = rx.recv().await {
            started += 1;
        }
        assert!(started <= 3, "{started} started before the first finish");
        drop(rx);
        engine.await.unwrap();
    }
}
