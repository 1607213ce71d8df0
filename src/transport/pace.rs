//! Packet pacing: a global rate for every datagram and TCP SYN, and a model of each printer's
//! ICMP error budget for UDP datagrams.
//!
//! Printers, like Linux, rate-limit the ICMP errors that make `closed` visible (a burst of
//! about six, then one a second per peer): exceeding it turns "closed" into a false
//! "open|filtered". Only an ICMP error spends a token of that bucket, so the model charges a
//! datagram while its outcome is unknown and settles it once the outcome is seen: a reply or
//! silence gives the token back, an ICMP error spends it. A healthy printer (replies) or a
//! dark one (silence) is never held back; only a host that is sending errors waits, and the
//! plan interleaves hosts so that costs no wall time at fleet scale.
//!
//! The model starts from a full bucket, but the printer's real bucket may be part spent (a
//! run a moment ago). So beside it the pacer keeps a bound it can prove: the bucket refills
//! one token a second since we first spoke to the host and loses one for each error we see.
//! A silence from a host that has sent errors is conclusive only when a proven token was
//! reserved for that datagram; otherwise the caller confirms it with one more datagram sent
//! when a proven token is there (`confirm`), so a suppressed error cannot pass for silence.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// ICMP errors a host may owe us at once before its refill rate applies; one less than the
/// Linux burst of six.
pub const HOST_BURST: u32 = 5;

/// How far ahead of the rate a probe may be admitted: enough that the wire never idles
/// waiting for a probe to start, little enough that admitted probes are not a queue.
const ADMIT_AHEAD: Duration = Duration::from_millis(20);

/// Longest single sleep while a host's budget refills; settling a token can free it sooner.
const HOST_RECHECK: Duration = Duration::from_millis(50);

/// Spaces packets `1/rate` apart across all probes, and charges UDP datagrams to each host's
/// ICMP budget.
#[derive(Debug)]
pub struct Pacer {
    interval: Option<Duration>,
    next: Mutex<Option<Instant>>,
    /// Time per token of a host's ICMP budget.
    refill: Option<Duration>,
    hosts: Mutex<HashMap<IpAddr, Bucket>>,
}

/// A token count that refills with time, up to `HOST_BURST`.
#[derive(Debug, Clone, Copy)]
struct Tokens {
    count: f64,
    at: Instant,
}

impl Tokens {
    fn at(&mut self, now: Instant, per_token: Duration) -> f64 {
        let gained = now.saturating_duration_since(self.at).as_secs_f64() / per_token.as_secs_f64();
        self.count = (self.count + gained).min(f64::from(HOST_BURST));
        self.at = now;
        self.count
    }
}

/// One host's ICMP error budget as we model it.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    /// The optimistic model: a full bucket at first sight.
    model: Tokens,
    /// Datagrams sent whose outcome is not yet known.
    charged: u32,
    /// What we can prove is in the bucket: empty at first sight.
    proven: Tokens,
    /// Datagrams in flight holding a proven token.
    proven_charged: u32,
    /// The host has sent us an ICMP error in this run.
    emits: bool,
}

impl Bucket {
    fn new(now: Instant) -> Bucket {
        Bucket {
            model: Tokens {
                count: f64::from(HOST_BURST),
                at: now,
            },
            charged: 0,
            proven: Tokens {
                count: 0.0,
                at: now,
            },
            proven_charged: 0,
            emits: false,
        }
    }

    fn idle(&mut self, now: Instant, per_token: Duration) -> bool {
        let whole = f64::from(HOST_BURST);
        self.charged == 0
            && self.proven_charged == 0
            && self.model.at(now, per_token) >= whole
            && (!self.emits || self.proven.at(now, per_token) >= whole)
    }
}

/// A datagram's charge against its host's budget; dropping it settles it as "no error".
#[must_use = "settle the charge with `spent` when an ICMP error came back"]
#[derive(Debug)]
pub struct Charge<'a> {
    pacer: &'a Pacer,
    host: Option<IpAddr>,
    /// A proven token was reserved for this datagram.
    proven: bool,
}

impl Charge<'_> {
    /// The datagram drew an ICMP error: the host spent a token on it.
    pub fn spent(mut self) {
        if let Some(host) = self.host.take() {
            self.pacer.settle(host, true, self.proven);
        }
    }

    /// Settles the charge as silence and says whether that silence is conclusive: no error
    /// could have been suppressed by the host's rate limit.
    pub fn silent(mut self) -> bool {
        match self.host.take() {
            Some(host) => self.pacer.settle(host, false, self.proven) || self.proven,
            None => true,
        }
    }
}

impl Drop for Charge<'_> {
    fn drop(&mut self) {
        if let Some(host) = self.host.take() {
            self.pacer.settle(host, false, self.proven);
        }
    }
}

impl Pacer {
    /// `per_second` packets a second across all probes, and `host_per_second` ICMP errors a
    /// second per host after a burst of `HOST_BURST`; 0 turns either off.
    pub fn new(per_second: u32, host_per_second: u32) -> Pacer {
        let every = |rate: u32| (rate > 0).then(|| Duration::from_secs(1) / rate);
        Pacer {
            interval: every(per_second),
            next: Mutex::new(None),
            refill: every(host_per_second),
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

    /// Waits until the rate has room for one more probe's first packet, without taking it.
    pub async fn admit(&self) {
        if self.interval.is_none() {
            return;
        }
        let next = *self.next.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(next) = next
            && let Some(at) = next.checked_sub(ADMIT_AHEAD)
        {
            tokio::time::sleep_until(at).await;
        }
    }

    /// Waits until a UDP datagram to `host` may leave: the host's modelled ICMP budget, then
    /// the global rate. The caller settles the returned charge once the outcome is known.
    pub async fn wait_udp(&self, host: IpAddr) -> Charge<'_> {
        self.charge(host, false).await
    }

    /// Like `wait_udp`, but waits for a proven token: the datagram that confirms a silence
    /// from a host that sends errors.
    pub async fn confirm(&self, host: IpAddr) -> Charge<'_> {
        self.charge(host, true).await
    }

    async fn charge(&self, host: IpAddr, need_proof: bool) -> Charge<'_> {
        let Some(per_token) = self.refill else {
            self.wait().await;
            return Charge {
                pacer: self,
                host: None,
                proven: true,
            };
        };
        let proven = loop {
            let pause = {
                let mut hosts = self.hosts.lock().unwrap_or_else(|e| e.into_inner());
                let now = Instant::now();
                let bucket = hosts.entry(host).or_insert_with(|| Bucket::new(now));
                let free = bucket.model.at(now, per_token) - f64::from(bucket.charged);
                let proven_free =
                    bucket.proven.at(now, per_token) - f64::from(bucket.proven_charged);
                let proven = proven_free >= 1.0;
                if free >= 1.0 && (proven || !need_proof) {
                    bucket.charged += 1;
                    bucket.proven_charged += u32::from(proven);
                    Ok(proven)
                } else {
                    let short = if free < 1.0 { free } else { proven_free };
                    Err(per_token.mul_f64(1.0 - short).min(HOST_RECHECK))
                }
            };
            match pause {
                Ok(proven) => break proven,
                Err(pause) => tokio::time::sleep(pause.max(Duration::from_millis(1))).await,
            }
        };
        self.wait().await;
        Charge {
            pacer: self,
            host: Some(host),
            proven,
        }
    }

    /// Settles one charge; returns whether the host has yet to send us an error.
    fn settle(&self, host: IpAddr, spent: bool, proven: bool) -> bool {
        let Some(per_token) = self.refill else {
            return true;
        };
        let mut hosts = self.hosts.lock().unwrap_or_else(|e| e.into_inner());
        let Some(bucket) = hosts.get_mut(&host) else {
            return true;
        };
        let now = Instant::now();
        bucket.model.at(now, per_token);
        bucket.proven.at(now, per_token);
        bucket.charged = bucket.charged.saturating_sub(1);
        if proven {
            bucket.proven_charged = bucket.proven_charged.saturating_sub(1);
        }
        if spent {
            bucket.model.count -= 1.0;
            bucket.proven.count = (bucket.proven.count - 1.0).max(0.0);
            bucket.emits = true;
        }
        let quiet = !bucket.emits;
        // A host whose budget is whole again is forgotten: the map holds hosts in flight.
        if bucket.idle(now, per_token) {
            hosts.remove(&host);
        }
        quiet
    }

    /// An ICMP error that came back to something other than a charged datagram (a TCP
    /// connect refused by ICMP): it spent a token all the same.
    pub fn observed_error(&self, host: IpAddr) {
        let Some(per_token) = self.refill else {
            return;
        };
        let mut hosts = self.hosts.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        let bucket = hosts.entry(host).or_insert_with(|| Bucket::new(now));
        bucket.model.at(now, per_token);
        bucket.proven.at(now, per_token);
        bucket.model.count -= 1.0;
        bucket.proven.count = (bucket.proven.count - 1.0).max(0.0);
        bucket.emits = true;
    }

    /// Hosts whose budget is being tracked: the map follows work in flight.
    #[cfg(test)]
    fn tracked_hosts(&self) -> usize {
        self.hosts.lock().unwrap_or_else(|e| e.into_inner()).len()
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
            pacer.wait_udp("192.0.2.1".parse().unwrap()).await.spent();
        }
        assert_eq!(start.elapsed(), Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn only_icmp_errors_spend_a_hosts_budget() {
        let pacer = Pacer::new(0, 1);
        let host: IpAddr = "192.0.2.1".parse().unwrap();
        let start = Instant::now();
        // Replies and silence give the token back: no wait however many.
        for _ in 0..50 {
            drop(pacer.wait_udp(host).await);
        }
        assert_eq!(start.elapsed(), Duration::ZERO);
        assert_eq!(pacer.tracked_hosts(), 0, "a whole budget is forgotten");
        // Errors spend it: a burst, then one a second.
        for _ in 0..HOST_BURST {
            pacer.wait_udp(host).await.spent();
        }
        assert_eq!(start.elapsed(), Duration::ZERO, "the burst leaves at once");
        pacer.wait_udp(host).await.spent();
        let waited = start.elapsed();
        assert!(
            waited >= Duration::from_millis(999) && waited <= Duration::from_millis(1010),
            "{waited:?}"
        );
        // Another host is not held back by the first one's budget.
        let other: IpAddr = "192.0.2.2".parse().unwrap();
        let before = Instant::now();
        pacer.wait_udp(other).await.spent();
        assert_eq!(before.elapsed(), Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn datagrams_in_flight_hold_the_budget_until_settled() {
        let pacer = Pacer::new(0, 1);
        let host: IpAddr = "192.0.2.1".parse().unwrap();
        let start = Instant::now();
        let mut charges = Vec::new();
        for _ in 0..HOST_BURST {
            charges.push(pacer.wait_udp(host).await);
        }
        // A sixth must wait: any of the five might still draw an error. Settling one as a
        // reply frees it at once.
        let sixth = async {
            let charge = pacer.wait_udp(host).await;
            drop(charge);
            start.elapsed()
        };
        let settle = async {
            tokio::time::sleep(Duration::from_millis(100)).await;
            drop(charges.pop());
        };
        let (waited, ()) = tokio::join!(sixth, settle);
        assert!(
            waited >= Duration::from_millis(100) && waited < Duration::from_millis(200),
            "{waited:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn admission_waits_for_room_in_the_rate() {
        let pacer = Pacer::new(100, 0);
        let start = Instant::now();
        pacer.admit().await;
        assert_eq!(
            start.elapsed(),
            Duration::ZERO,
            "an idle rate admits at once"
        );
        // Packets spoken for until 100 ms from now: admission waits until 20 ms before that.
        *pacer.next.lock().unwrap() = Some(start + Duration::from_millis(100));
        pacer.admit().await;
        assert_eq!(start.elapsed(), Duration::from_millis(80));
    }

    #[tokio::test(start_paused = true)]
    async fn silence_from_a_host_that_sends_errors_needs_a_proven_token() {
        let pacer = Pacer::new(0, 1);
        let host: IpAddr = "192.0.2.1".parse().unwrap();
        let start = Instant::now();
        // A host that never sent an error: its silence is conclusive.
        assert!(pacer.wait_udp(host).await.silent());
        // Once it sends errors, a silence without a proven token is not.
        pacer.wait_udp(host).await.spent();
        assert!(!pacer.wait_udp(host).await.silent());
        // The confirmation waits for a token we can prove: one second after first sight.
        let charge = pacer.confirm(host).await;
        assert_eq!(start.elapsed(), Duration::from_secs(1));
        assert!(charge.silent(), "a proven token makes silence conclusive");
    }
}
