//! What a run costs before it starts: packets per check, the longest a probe can wait, the
//! slots in flight that follow from the rate (Little's law), and the wall time to expect.
//! `--dry-run` prints these; a large run prints the estimate on stderr first.

use std::time::Duration;

use crate::catalog::{CheckId, CostModel};

/// The timing of a run: what probes wait and resend, and how fast they go. One struct from
/// the command line to the probes and the estimate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    /// Per connect, and per datagram's wait for an answer.
    pub timeout: Duration,
    /// UDP datagrams re-sent after a silent first one.
    pub retries: u32,
    /// Packets per second across all probes; 0 for no limit.
    pub rate: u32,
    /// UDP datagrams per second per host after a short burst; 0 for no limit.
    pub host_rate: u32,
}

/// At worst, what one probe of a check sends and how long it waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cost {
    /// Packets the prober paces (datagrams and TCP SYNs; the kernel's SYN retransmissions
    /// are not counted).
    pub packets: u32,
    pub wait: Duration,
}

/// File descriptors one probe can hold at once: a follow-up datagram (the control probe, the
/// last SNMP GET) overlaps the retries of the first.
pub const FDS_PER_PROBE: usize = 2;
/// Descriptors kept for everything else: stdio, the runtime, name resolution.
pub const FDS_RESERVED: usize = 32;
/// Slots when the rate is unlimited and no `--concurrency` is given.
pub const UNLIMITED_SLOTS: usize = 4096;

/// What one probe of `check` costs at worst: its driver's cost model at this timing.
pub fn cost(check: CheckId, timing: Timing) -> Cost {
    let attempts = 1 + timing.retries;
    match check.path().driver.cost() {
        CostModel::Datagrams { extra, at_least } => Cost {
            packets: (attempts + extra).max(at_least),
            wait: timing.timeout * attempts,
        },
        CostModel::Connect { conversation } => Cost {
            packets: 1,
            wait: timing.timeout * (1 + conversation),
        },
        CostModel::Nothing => Cost {
            packets: 0,
            wait: Duration::ZERO,
        },
    }
}

/// The longest any selected probe can wait.
pub fn longest_wait(checks: &[CheckId], timing: Timing) -> Duration {
    checks
        .iter()
        .map(|c| cost(*c, timing).wait)
        .max()
        .unwrap_or_default()
}

/// Probes in flight at once: enough for the rate to be the bound (rate × the longest wait),
/// never more than the file descriptors allow, and never more than an explicit cap.
pub fn slots(
    checks: &[CheckId],
    timing: Timing,
    fd_limit: Option<u64>,
    cap: Option<usize>,
) -> usize {
    let by_rate = if timing.rate == 0 {
        UNLIMITED_SLOTS
    } else {
        let wait = longest_wait(checks, timing).as_secs_f64().max(0.001);
        (f64::from(timing.rate) * wait).ceil() as usize
    };
    let by_fds = fd_limit.map_or(usize::MAX, |limit| {
        (usize::try_from(limit)
            .unwrap_or(usize::MAX)
            .saturating_sub(FDS_RESERVED)
            / FDS_PER_PROBE)
            .max(1)
    });
    let mut slots = by_rate.min(by_fds);
    if let Some(cap) = cap {
        slots = slots.min(cap);
    }
    slots.max(1)
}

/// What a run will cost, for `--dry-run` and the warning before a large run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    pub targets: u64,
    pub probes: u64,
    /// Paced packets at worst (every probe silent until its last retry).
    pub packets: u64,
    pub longest_wait: Duration,
    pub slots: usize,
    /// Wall time at worst: the packets at the rate (or as fast as the slots turn over), then
    /// the longest wait of the last probe.
    pub seconds: f64,
}

impl Estimate {
    /// `probes` holds, per check, how many probes it makes.
    pub fn new(targets: u64, probes: &[(CheckId, u64)], timing: Timing, slots: usize) -> Estimate {
        let checks: Vec<CheckId> = probes.iter().map(|(c, _)| *c).collect();
        let longest = longest_wait(&checks, timing);
        let packets: u64 = probes
            .iter()
            .map(|(c, n)| u64::from(cost(*c, timing).packets) * n)
            .sum();
        let count: u64 = probes.iter().map(|(_, n)| n).sum();
        // Slots bound throughput too: at worst each is held for the longest wait.
        let by_slots = count as f64 * longest.as_secs_f64() / slots.max(1) as f64;
        let by_rate = if timing.rate == 0 {
            0.0
        } else {
            packets as f64 / f64::from(timing.rate)
        };
        Estimate {
            targets,
            probes: count,
            packets,
            longest_wait: longest,
            slots,
            seconds: by_rate.max(by_slots)
                + if count > 0 {
                    longest.as_secs_f64()
                } else {
                    0.0
                },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEFAULT: Timing = Timing {
        timeout: Duration::from_secs(2),
        retries: 2,
        rate: 1000,
        host_rate: 1,
    };

    #[test]
    fn costs_per_check() {
        let rows = [
            (CheckId::Npap, 4, 6),
            (CheckId::Snmp, 4, 6),
            (CheckId::Mdns, 3, 6),
            (CheckId::Kerberos, 3, 6),
            (CheckId::Raw, 1, 2),
            (CheckId::Https, 1, 6),
        ];
        for (check, packets, wait) in rows {
            let cost = cost(check, DEFAULT);
            assert_eq!(cost.packets, packets, "{check}");
            assert_eq!(cost.wait, Duration::from_secs(wait), "{check}");
        }
    }

    #[test]
    fn slots_follow_the_rate_and_the_descriptors() {
        let checks = [CheckId::Snmp, CheckId::Raw];
        assert_eq!(slots(&checks, DEFAULT, None, None), 6000, "1000 pps × 6 s");
        assert_eq!(slots(&checks, DEFAULT, Some(64), None), 16, "(64 − 32) / 2");
        assert_eq!(
            slots(&checks, DEFAULT, Some(1 << 20), Some(64)),
            64,
            "the cap wins"
        );
        let unlimited = Timing { rate: 0, ..DEFAULT };
        assert_eq!(slots(&checks, unlimited, None, None), UNLIMITED_SLOTS);
        assert_eq!(slots(&checks, DEFAULT, Some(3), None), 1, "never zero");
    }

    #[test]
    fn the_estimate_is_packets_at_the_rate_then_the_longest_wait() {
        let probes = [(CheckId::Snmp, 1000), (CheckId::Raw, 1000)];
        let estimate = Estimate::new(1000, &probes, DEFAULT, 6000);
        assert_eq!(estimate.packets, 5000);
        assert_eq!(estimate.probes, 2000);
        assert!((estimate.seconds - 11.0).abs() < 1e-9, "{estimate:?}");
        // Four slots: the slots, not the rate, bound the run.
        let slow = Estimate::new(1000, &probes, DEFAULT, 4);
        assert!(slow.seconds > 3000.0, "{slow:?}");
    }
}
