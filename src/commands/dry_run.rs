//! `--dry-run`: the plan and what it will cost, without a packet sent; and the one-line
//! estimate a large run prints on stderr before it starts.

use std::io::{self, Write};

use serde::Serialize;

use crate::catalog::CheckId;
use crate::engine::estimate::{Estimate, Timing, cost};
use crate::report::Format;

/// `12,345`.
fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn rate_text(timing: Timing) -> String {
    if timing.rate == 0 {
        "no rate limit".to_string()
    } else {
        format!("{} packets/s", grouped(u64::from(timing.rate)))
    }
}

/// One line: probes, packets, rate and the time to expect.
pub fn estimate_line(estimate: &Estimate, timing: Timing) -> String {
    format!(
        "{} probes to {} targets, at most {} packets at {}: about {:.0} s at worst \
         (--dry-run shows the plan; --rate changes it)",
        grouped(estimate.probes),
        grouped(estimate.targets),
        grouped(estimate.packets),
        rate_text(timing),
        estimate.seconds.ceil()
    )
}

#[derive(Serialize)]
struct DryRun<'a> {
    dry_run: bool,
    targets: u64,
    probes: u64,
    packets_at_most: u64,
    rate_pps: u32,
    slots: usize,
    fd_limit: Option<u64>,
    longest_wait_ms: u128,
    estimated_seconds: f64,
    checks: Vec<DryRunCheck<'a>>,
}

#[derive(Serialize)]
struct DryRunCheck<'a> {
    check: &'a CheckId,
    probes: u64,
    packets_each: u32,
    wait_ms: u128,
}

pub fn render_dry_run(
    estimate: &Estimate,
    probes: &[(CheckId, u64)],
    timing: Timing,
    fd_limit: Option<u64>,
    format: Format,
    out: &mut dyn Write,
) -> io::Result<()> {
    if matches!(format, Format::Json | Format::Jsonl) {
        let report = DryRun {
            dry_run: true,
            targets: estimate.targets,
            probes: estimate.probes,
            packets_at_most: estimate.packets,
            rate_pps: timing.rate,
            slots: estimate.slots,
            fd_limit,
            longest_wait_ms: estimate.longest_wait.as_millis(),
            estimated_seconds: (estimate.seconds * 10.0).round() / 10.0,
            checks: probes
                .iter()
                .map(|(check, n)| {
                    let cost = cost(*check, timing);
                    DryRunCheck {
                        check,
                        probes: *n,
                        packets_each: cost.packets,
                        wait_ms: cost.wait.as_millis(),
                    }
                })
                .collect(),
        };
        serde_json::to_writer_pretty(&mut *out, &report)?;
        return writeln!(out);
    }
    writeln!(out, "Dry run: nothing was sent and no name was looked up.")?;
    writeln!(out, "targets:       {}", grouped(estimate.targets))?;
    for (check, n) in probes {
        let cost = cost(*check, timing);
        writeln!(
            out,
            "  {:<14} {:>9} probes, at most {} packet(s) and {:.1} s each",
            check.to_string(),
            grouped(*n),
            cost.packets,
            cost.wait.as_secs_f64()
        )?;
    }
    writeln!(out, "probes:        {}", grouped(estimate.probes))?;
    writeln!(
        out,
        "packets:       at most {} (datagrams and TCP SYNs, every probe silent to its last retry)",
        grouped(estimate.packets)
    )?;
    writeln!(out, "rate:          {}", rate_text(timing))?;
    writeln!(
        out,
        "in flight:     up to {} probes{}",
        grouped(estimate.slots as u64),
        fd_limit.map_or(String::new(), |l| format!(
            " (open-file limit {})",
            grouped(l)
        ))
    )?;
    writeln!(
        out,
        "estimate:      at most {:.1} s (the packets at the rate, then the longest wait of {:.1} s)",
        estimate.seconds,
        estimate.longest_wait.as_secs_f64()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn numbers_are_grouped() {
        for (n, text) in [
            (0, "0"),
            (999, "999"),
            (1000, "1,000"),
            (1_234_567, "1,234,567"),
        ] {
            assert_eq!(grouped(n), text);
        }
    }

    #[test]
    fn the_dry_run_names_every_check_and_the_estimate() {
        let timing = Timing {
            timeout: Duration::from_secs(2),
            retries: 2,
            rate: 1000,
            host_rate: 1,
        };
        let probes = [(CheckId::Snmp, 1000), (CheckId::Raw, 1000)];
        let estimate = Estimate::new(1000, &probes, timing, 6000);
        let mut out = Vec::new();
        render_dry_run(
            &estimate,
            &probes,
            timing,
            Some(1024),
            Format::Table,
            &mut out,
        )
        .unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("nothing was sent"), "{text}");
        assert!(text.contains("snmp"), "{text}");
        assert!(text.contains("probes:        2,000"), "{text}");
        assert!(text.contains("at most 5,000"), "{text}");
        assert!(text.contains("at most 11.0 s"), "{text}");
        let mut out = Vec::new();
        render_dry_run(&estimate, &probes, timing, None, Format::Json, &mut out).unwrap();
        let json: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(json["packets_at_most"], 5000);
        assert_eq!(json["checks"][0]["check"], "snmp");
    }
}
