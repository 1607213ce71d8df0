//! What every UDP driver shares: the exchange through `Datagrams` (so each driver is
//! unit-tested against a scripted peer), and a follow-up overlapped with a first request's
//! retries.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use tokio::sync::Notify;

use super::snmp_client::SnmpGetter;
use super::{Datagrams, NetworkProber};
use crate::engine::Job;
use crate::transport::{SourcePort, UdpExchange, UdpOptions};

/// How many datagrams an exchange sends, and how close together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct UdpSchedule {
    /// Datagrams re-sent after a silent first one.
    pub retries: u32,
    /// The wait after each datagram but the last, when shorter than the timeout.
    pub spacing: Option<Duration>,
}

impl UdpSchedule {
    /// `retries` re-sends, each after a whole timeout.
    pub fn plain(retries: u32) -> UdpSchedule {
        UdpSchedule {
            retries,
            spacing: None,
        }
    }
}

/// A second look spaces its datagrams by the timeout over this: three datagrams in 2 s
/// become 0, 0.67 and 1.33 s, then the full wait.
const SECOND_LOOK_SPACING: u32 = 3;

impl<G: SnmpGetter, D: Datagrams> NetworkProber<G, D> {
    /// The datagrams for `job`. A second look gets the whole schedule again (it is asked only
    /// on a path that has shown it loses packets, where a single datagram would be lost as
    /// easily as the first ones), sent closer together: as many chances against random loss,
    /// in half the time, with any answer counted until the last datagram's full wait.
    pub(super) fn schedule(&self, job: &Job) -> UdpSchedule {
        let timing = self.settings.timing;
        UdpSchedule {
            retries: timing.retries,
            spacing: job.again.then(|| timing.timeout / SECOND_LOOK_SPACING),
        }
    }

    /// How long an overlapped follow-up waits for the first datagram of `job` to go
    /// unanswered: one spacing on a second look, a timeout otherwise.
    pub(super) fn head_start(&self, job: &Job) -> Duration {
        self.schedule(job)
            .spacing
            .unwrap_or(self.settings.timing.timeout)
    }

    pub(super) fn options(&self, source: SourcePort, schedule: UdpSchedule) -> UdpOptions {
        UdpOptions {
            timeout: self.settings.timing.timeout,
            retries: schedule.retries,
            spacing: schedule.spacing,
            source,
        }
    }

    pub(super) async fn exchange(
        &self,
        peer: SocketAddr,
        payload: &[u8],
        source: SourcePort,
        schedule: UdpSchedule,
    ) -> UdpExchange {
        self.datagrams
            .exchange(peer, payload, self.options(source, schedule), &self.pacer)
            .await
    }
}

/// Runs `first`, and a follow-up when one is needed: `after` reads the first outcome and says
/// whether (and with how many retries) to follow up. The follow-up starts when `first` ends,
/// or after `head_start` if `first` is still waiting then (its first datagram unanswered), in
/// which case it runs with no retries and overlaps the retries of `first`; the caller decides
/// what an early result it no longer needs is worth.
pub(super) async fn overlapped<A, B, F: Future<Output = B>>(
    first: impl Future<Output = A>,
    head_start: Duration,
    after: impl Fn(&A) -> Option<u32>,
    follow: impl FnOnce(u32) -> F,
) -> (A, Option<B>) {
    const RUNNING: u32 = u32::MAX;
    const SKIP: u32 = u32::MAX - 1;
    let state = AtomicU32::new(RUNNING);
    let ended = Notify::new();
    let first = async {
        let outcome = first.await;
        state.store(after(&outcome).unwrap_or(SKIP), Ordering::SeqCst);
        ended.notify_one();
        outcome
    };
    let second = async {
        tokio::select! {
            () = tokio::time::sleep(head_start) => {}
            () = ended.notified() => {}
        }
        match state.load(Ordering::SeqCst) {
            SKIP => None,
            RUNNING => Some(follow(0).await),
            retries => Some(follow(retries).await),
        }
    };
    tokio::join!(first, second)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::CheckId;
    use crate::probes::peer;

    /// A first look waits a timeout per datagram; a second look sends the same datagrams a
    /// third of a timeout apart, and its follow-ups start after one spacing.
    #[test]
    fn only_a_second_look_spaces_its_datagrams() {
        let prober = NetworkProber::new(peer::settings());
        let timing = peer::settings().timing;
        let timeout = timing.timeout;
        let mut job = peer::job(CheckId::Snmp, 161);
        assert_eq!(prober.schedule(&job), UdpSchedule::plain(timing.retries));
        assert_eq!(prober.head_start(&job), timeout);
        job.again = true;
        let again = prober.schedule(&job);
        assert_eq!(again.retries, timing.retries, "the whole schedule again");
        assert_eq!(again.spacing, Some(timeout / 3));
        assert_eq!(prober.head_start(&job), timeout / 3);
    }
}
