//! Scheduling: pulls work from the plan's stream, runs probes with bounded concurrency,
//! admits each only when the packet rate has room for it, and streams every finding as it
//! completes. The engine never prints; the caller turns events into progress and output.

pub mod estimate;
mod plan;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinSet;

use crate::catalog::CheckId;
use crate::results::{Done, Evidence, Finding, State};

pub use estimate::Timing;
pub use plan::{BLOCK, Plan, Row, Schedule, Work, applies, build_plan};

/// Something that can probe one path. The network prober is the real one; tests substitute
/// their own to check scheduling without a network.
pub trait Prober: Send + Sync + 'static {
    fn probe(&self, job: &Job) -> impl Future<Output = Finding> + Send;

    /// Waits until a new probe may start: the network prober holds probes back while the
    /// packet rate is spoken for, so probes in flight are the ones on the wire (rate × how
    /// long each waits), not a queue in front of the rate limit.
    fn admit(&self) -> impl Future<Output = ()> + Send {
        async {}
    }

    /// The longest `probe` may run before the engine stops it and reports an error: a
    /// bound every probe ends by, even if a socket or a driver misbehaves. `None` for none.
    fn ceiling(&self, job: &Job) -> Option<Duration> {
        let _ = job;
        None
    }
}

/// The cell of a probe the engine stopped at its ceiling: an error of this host, never a
/// pass, saying how long it ran.
fn past_ceiling(limit: Duration) -> Finding {
    Finding::new(
        State::Error,
        Evidence::new(format!(
            "the probe did not end within {} s, far past its longest wait, and was stopped: \
             this host's network stack kept it waiting (a socket reporting activity it did \
             not have); the path was not tested",
            limit.as_secs()
        )),
    )
}

/// One probe to run: which row, which path, toward which address.
#[derive(Debug, Clone)]
pub struct Job {
    pub row: Arc<Row>,
    pub check: CheckId,
    pub peer: SocketAddr,
    /// A second look at a path that was silent on a host that answered elsewhere, asked
    /// when the run has seen the path lose packets.
    pub again: bool,
}

impl Job {
    /// The host as the user named it: the HTTP Host header and the TLS server name.
    pub fn host(&self) -> &str {
        &self.row.host
    }
}

/// What the engine reports. Boxed on the channel, so the size of `Cell` costs nothing idle.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)]
pub enum Event {
    /// A finished cell, and the job that made it (none for a name that did not resolve), so
    /// the caller can ask for a second look.
    Cell { done: Done, job: Option<Job> },
    /// The plan is spent and no probe is in flight: the caller sends its last second looks,
    /// or drops their sender to end the run.
    Idle,
}

/// Runs `work` with at most `concurrency` probes in flight and sends each finished cell as it
/// finishes. Returns when every probe has finished. Work is taken from the iterator only
/// when a slot is free and the prober admits a probe, so memory stays bounded by what is in
/// flight however long the stream is. A closed receiver stops the run.
pub async fn run<P: Prober>(
    work: impl IntoIterator<Item = Work>,
    prober: Arc<P>,
    concurrency: usize,
    events: mpsc::Sender<Box<Event>>,
) {
    let (_, again) = mpsc::unbounded_channel();
    run_with_again(work, again, prober, concurrency, events).await;
}

/// `run`, also taking second looks from `again` (ahead of new work) until its sender is
/// dropped: the caller decides which silent cells deserve one, as their hosts' other cells
/// come in.
pub async fn run_with_again<P: Prober>(
    work: impl IntoIterator<Item = Work>,
    mut again: mpsc::UnboundedReceiver<Job>,
    prober: Arc<P>,
    concurrency: usize,
    events: mpsc::Sender<Box<Event>>,
) {
    let slots = Arc::new(Semaphore::new(concurrency.max(1)));
    let mut running = JoinSet::new();
    let mut work = work.into_iter();
    let mut again_open = true;
    // Whether `Idle` was sent since the last second look started.
    let mut idle_said = false;
    loop {
        // Second looks first: they are few, and their hosts' rows wait on them.
        let job = match again.try_recv() {
            Ok(job) => job,
            Err(state) => {
                if state == mpsc::error::TryRecvError::Disconnected {
                    again_open = false;
                }
                match work.next() {
                    Some(Work::Probe(job)) => job,
                    Some(Work::Unresolved { row, check, port }) => {
                        let why = row
                            .addr
                            .as_ref()
                            .err()
                            .map_or_else(String::new, ToString::to_string);
                        let finding = Finding::new(State::Error, Evidence::new(why));
                        let done = row.done(check, port, finding);
                        let event = Event::Cell { done, job: None };
                        if events.send(Box::new(event)).await.is_err() {
                            break;
                        }
                        continue;
                    }
                    // The plan is done: wait for second looks (or the end of them) while the
                    // probes in flight finish; once none is, say so.
                    None if again_open => {
                        if running.is_empty() && !idle_said {
                            idle_said = true;
                            if events.send(Box::new(Event::Idle)).await.is_err() {
                                break;
                            }
                        }
                        tokio::select! {
                            job = again.recv() => match job {
                                Some(job) => job,
                                None => {
                                    again_open = false;
                                    continue;
                                }
                            },
                            Some(_) = running.join_next(), if !running.is_empty() => continue,
                        }
                    }
                    None => break,
                }
            }
        };
        idle_said = false;
        // The semaphore is never closed, so acquiring only waits.
        let Ok(permit) = slots.clone().acquire_owned().await else {
            break;
        };
        prober.admit().await;
        if events.is_closed() {
            break;
        }
        while running.try_join_next().is_some() {}
        let prober = prober.clone();
        let events = events.clone();
        running.spawn(async move {
            let finding = match prober.ceiling(&job) {
                Some(limit) => tokio::time::timeout(limit, prober.probe(&job))
                    .await
                    .unwrap_or_else(|_| past_ceiling(limit)),
                None => prober.probe(&job).await,
            };
            let port = finding.port.unwrap_or(job.peer.port());
            let done = job.row.done(job.check, port, finding);
            // A closed receiver means the caller stopped listening: finish quietly.
            let _ = events
                .send(Box::new(Event::Cell {
                    done,
                    job: Some(job),
                }))
                .await;
            drop(permit);
        });
        // Let the probe reach its first packet, and so claim its share of the rate, before
        // the next one is admitted.
        tokio::task::yield_now().await;
    }
    while running.join_next().await.is_some() {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::{Evidence, State};
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Records how many probes run at once.
    #[derive(Default)]
    struct Counting {
        started: AtomicUsize,
        now: AtomicUsize,
        peak: AtomicUsize,
    }

    impl Prober for Counting {
        async fn probe(&self, job: &Job) -> Finding {
            let peer = job.peer;
            self.started.fetch_add(1, Ordering::SeqCst);
            let now = self.now.fetch_add(1, Ordering::SeqCst) + 1;
            self.peak.fetch_max(now, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(10 * u64::from(peer.port() % 3))).await;
            self.now.fetch_sub(1, Ordering::SeqCst);
            Finding::new(State::Open, Evidence::new(format!("port {}", peer.port())))
        }
    }

    fn jobs(count: usize) -> Vec<Work> {
        (0..count)
            .map(|index| {
                let addr = std::net::IpAddr::from([127, 0, 0, 1]);
                let row = Arc::new(Row {
                    resolved_note: None,
                    index,
                    target: crate::targets::Target::new(
                        crate::catalog::Role::Printer,
                        crate::targets::Host::Addr(addr),
                        None,
                    ),
                    addr: Ok(addr),
                    label: Arc::from("127.0.0.1"),
                    host: Arc::from("127.0.0.1"),
                });
                Work::Probe(Job {
                    again: false,
                    row,
                    check: CheckId::Raw,
                    peer: SocketAddr::new(addr, 1000 + index as u16),
                })
            })
            .collect()
    }

    /// A probe that never ends, as one stuck on a misbehaving socket would.
    struct Stuck;

    impl Prober for Stuck {
        async fn probe(&self, _job: &Job) -> Finding {
            std::future::pending().await
        }

        fn ceiling(&self, _job: &Job) -> Option<Duration> {
            Some(Duration::from_secs(40))
        }
    }

    /// Every probe ends by its ceiling: a stuck one becomes an error cell saying so, at the
    /// ceiling and not later, and the run finishes.
    #[tokio::test(start_paused = true)]
    async fn a_stuck_probe_ends_at_its_ceiling_as_an_error() {
        let (tx, mut rx) = mpsc::channel(8);
        let start = tokio::time::Instant::now();
        let engine = tokio::spawn(run(jobs(3), Arc::new(Stuck), 8, tx));
        let mut cells = 0;
        while let Some(event) = rx.recv().await {
            if let Event::Cell { done, .. } = *event {
                assert_eq!(done.finding.state, State::Error);
                assert!(
                    done.finding
                        .evidence
                        .summary
                        .contains("did not end within 40 s"),
                    "{:?}",
                    done.finding.evidence
                );
                cells += 1;
            }
        }
        engine.await.unwrap();
        assert_eq!(cells, 3);
        assert_eq!(start.elapsed(), Duration::from_secs(40));
    }

    #[tokio::test(start_paused = true)]
    async fn concurrency_is_bounded_and_every_job_finishes_once() {
        let prober = Arc::new(Counting::default());
        let (tx, mut rx) = mpsc::channel(8);
        let engine = tokio::spawn(run(jobs(50), prober.clone(), 4, tx));
        let mut finished = Vec::new();
        while let Some(event) = rx.recv().await {
            let Event::Cell { done, .. } = *event else {
                continue;
            };
            assert_eq!(done.finding.evidence.summary, format!("port {}", done.port));
            finished.push(done.row);
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
        let engine = tokio::spawn(run(jobs(20), prober.clone(), 2, tx));
        // The first finish arrives while most jobs have not started.
        assert!(rx.recv().await.is_some());
        let started = prober.started.load(Ordering::SeqCst);
        assert!(started <= 3, "{started} started before the first finish");
        drop(rx);
        engine.await.unwrap();
    }
}
