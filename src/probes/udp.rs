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

impl<G: SnmpGetter, D: Datagrams> NetworkProber<G, D> {
    /// Datagrams re-sent after a silent first one for `job`. A second look gets the whole
    /// schedule again: it is asked only on a path that has shown it loses packets, where a
    /// single datagram would be lost as easily as the first ones.
    pub(super) fn retries(&self, _job: &Job) -> u32 {
        self.settings.timing.retries
    }

    pub(super) fn options(&self, source: SourcePort, retries: u32) -> UdpOptions {
        UdpOptions {
            timeout: self.settings.timing.timeout,
            retries,
            source,
        }
    }

    pub(super) async fn exchange(
        &self,
        peer: SocketAddr,
        payload: &[u8],
        source: SourcePort,
        retries: u32,
    ) -> UdpExchange {
        self.datagrams
            .exchange(peer, payload, self.options(source, retries), &self.pacer)
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
