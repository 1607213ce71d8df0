//! Packet pacing: a global rate for every datagram and TCP SYN, and a per-host budget for UDP
//! datagrams. Printers, like Linux, rate-limit the ICMP errors that make `closed` visible (a
//! burst of about six, then one a second per peer): sending faster turns "closed" into a false
//! "open|filtered". Hosts are interleaved by the plan, so the per-host budget rarely waits.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// Datagrams a host may receive at once before the per-host rate applies; one less than the
/// Linux ICMP burst of six.
pub const HOST_BURST: u32 = 5;

/// Spaces packets `1/rate` apart across all probes, and UDP datagrams per host.
#[derive(Debug)]
pub struct Pacer {
    interval: Option<Duration>,
    next: Mutex<Option<Instant>>,
    host_interval: Option<Duration>,
    /// Per host: when its budget is next full enough to send without waiting.
    hosts: Mutex<HashMap<IpAddr, Instant>>,
}

impl Pacer {
    /// `per_second` packets a second across all probes, and `host_per_second` UDP datagrams a
    /// second per host after a burst of `HOST_BURST`; 0 turns either off.
    pub fn new(per_second: u32, host_per_second: u32) -> Pacer {
        let every = |rate: u32| (rate > 0).then(|| Duration::from_secs(1) / rate);
        Pacer {
            interval: every(per_second),
            next: Mutex::new(None),
            host_interval: every(host_per_second),
            hosts: Mutex::new(HashMap::new()),
        }
    }

    /// Waits until this packet may leave.
    pub async fn wait(&self) {
        let Some(interval) = self.interval else {
            return;
        };
        let slot = {
            // The lock is held for a few instructions and never across an await; a poisoned
            // lock only means another probe panicked, and the slot it guards is still valid.
            let mut next = self.next.lock().unwrap_or_else(|e| e.into_inner());
            let now = Instant::now();
            let slot = next.map_or(now, |n| n.max(now));
            *next = Some(slot + interval);
            slot
        };
        tokio::time::sleep_until(slot).await;
    }

    /// Waits until a UDP datagram to `host` may leave: the host's budget, then the global rate.
    pub async fn wait_udp(&self, host: IpAddr) {
        if let Some(interval) = self.host_interval {
            let slot = {
                let mut hosts = self.hosts.lock().unwrap_or_else(|e| e.into_inner());
                let now = Instant::now();
                // A virtual clock per host (GCRA): `theoretical` runs ahead of now by the
                // budget spent; a burst of HOST_BURST fits before it must wait.
                let burst = interval * (HOST_BURST - 1);
                let theoretical = hosts.get(&host).copied().unwrap_or(now).max(now);
                let slot = theoretical.checked_sub(burst).map_or(now, |s| s.max(now));
                hosts.insert(host, theoretical + interval);
                slot
            };
            tokio::time::sleep_until(slot).await;
        }
        self.wait().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn packets_are_spaced_by_the_rate() {
        let pacer = Pacer::new(10, 0);
        let start = Instant::now();
        for _ in 0..5 {
            pacer.wait().await;
        }
        // Five packets at 10/s: the first leaves at once, the fifth 400 ms later.
        assert_eq!(start.elapsed(), Duration::from_millis(400));
    }

    #[tokio::test(start_paused = true)]
    async fn zero_means_unpaced() {
        let pacer = Pacer::new(0, 0);
        let start = Instant::now();
        for _ in 0..100 {
            pacer.wait().await;
            pacer.wait_udp("192.0.2.1".parse().unwrap()).await;
        }
        assert_eq!(start.elapsed(), Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn a_host_gets_a_burst_then_one_datagram_a_second() {
        let pacer = Pacer::new(0, 1);
        let host: IpAddr = "192.0.2.1".parse().unwrap();
        let start = Instant::now();
        for _ in 0..HOST_BURST {
            pacer.wait_udp(host).await;
        }
        assert_eq!(start.elapsed(), Duration::ZERO, "the burst leaves at once");
        pacer.wait_udp(host).await;
        assert_eq!(start.elapsed(), Duration::from_secs(1));
        // Another host is not held back by the first one's budget.
        let other: IpAddr = "192.0.2.2".parse().unwrap();
        let before = Instant::now();
        pacer.wait_udp(other).await;
        assert_eq!(before.elapsed(), Duration::ZERO);
    }
}
