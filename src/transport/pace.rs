//! A global packet rate: every datagram and every TCP SYN waits for its slot.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// Spaces packets `1/rate` apart across all probes; `None` means no pacing.
#[derive(Debug)]
pub struct Pacer {
    interval: Option<Duration>,
    next: Mutex<Option<Instant>>,
}

impl Pacer {
    /// `per_second` packets a second at most; 0 turns pacing off.
    pub fn new(per_second: u32) -> Pacer {
        let interval = (per_second > 0).then(|| Duration::from_secs(1) / per_second);
        Pacer {
            interval,
            next: Mutex::new(None),
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn packets_are_spaced_by_the_rate() {
        let pacer = Pacer::new(10);
        let start = Instant::now();
        for _ in 0..5 {
            pacer.wait().await;
        }
        // Five packets at 10/s: the first leaves at once, the fifth 400 ms later.
        assert_eq!(start.elapsed(), Duration::from_millis(400));
    }

    #[tokio::test(start_paused = true)]
    async fn zero_means_unpaced() {
        let pacer = Pacer::new(0);
        let start = Instant::now();
        for _ in 0..100 {
            pacer.wait().await;
        }
        assert_eq!(start.elapsed(), Duration::ZERO);
    }
}
