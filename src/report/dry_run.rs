//! `--dry-run`: the plan and what it will cost, without a packet sent; and the one-line
//! estimate a large run prints on stderr before it starts. `commands` fills `DryRun` from the
//! engine's estimate; this file only draws it.

use std::io::{self, Write};
use std::time::Duration;

use serde::Serialize;

use crate::catalog::CheckId;

/// The plan of a run and its cost at worst.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DryRun {
    pub targets: u64,
    pub probes: u64,
    pub packets_at_most: u64,
    /// Packets per second across all probes; 0 for no limit.
    pub rate_pps: u32,
    pub slots: usize,
    pub fd_limit: Option<u64>,
    #[serde(rename = "longest_wait_ms", serialize_with = "millis")]
    pub longest_wait: Duration,
    pub estimated_seconds: f64,
    pub checks: Vec<DryRunCheck>,
    /// The first targets, as given and after duplicates were dropped (all of them up to a
    /// bound with `-v`), each with its role; `targets` counts them all.
    #[serde(rename = "target_list")]
    pub listed: Vec<ListedTarget>,
}

/// A target the dry run names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ListedTarget {
    pub role: String,
    pub target: String,
}

/// One check of the plan: how many probes, and what each costs at worst.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DryRunCheck {
    pub check: CheckId,
    pub probes: u64,
    pub packets_each: u32,
    #[serde(rename = "wait_ms", serialize_with = "millis")]
    pub wait: Duration,
}

fn millis<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u128(d.as_millis())
}

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

fn rate_text(rate: u32) -> String {
    if rate == 0 {
        "no rate limit".to_string()
    } else {
        format!("{} packets/s", grouped(u64::from(rate)))
    }
}

/// Targets a dry run names, and with `-v`.
pub const LISTED: usize = 10;
pub const LISTED_VERBOSE: usize = 10_000;

/// One line: probes, packets, rate and the time to expect.
pub fn estimate_line(plan: &DryRun) -> String {
    format!(
        "{} probes to {} targets, at most {} packets at {}: about {:.0} s at worst \
         (--dry-run shows the plan; --rate changes it)",
        grouped(plan.probes),
        grouped(plan.targets),
        grouped(plan.packets_at_most),
        rate_text(plan.rate_pps),
        plan.estimated_seconds.ceil()
    )
}

#[derive(Serialize)]
struct DryRunJson<'a> {
    dry_run: bool,
    #[serde(flatten)]
    plan: &'a DryRun,
}

/// The plan as JSON, for programs.
pub fn write_json(plan: &DryRun, out: &mut dyn Write) -> io::Result<()> {
    let report = DryRunJson {
        dry_run: true,
        plan: &DryRun {
            estimated_seconds: (plan.estimated_seconds * 10.0).round() / 10.0,
            ..plan.clone()
        },
    };
    serde_json::to_writer_pretty(&mut *out, &report)?;
    writeln!(out)
}

/// The plan as text, for people.
pub fn write_text(plan: &DryRun, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "Dry run: nothing was sent and no name was looked up.")?;
    writeln!(out, "targets:       {}", grouped(plan.targets))?;
    for listed in &plan.listed {
        writeln!(out, "  {:<14} {}", listed.role, listed.target)?;
    }
    let more = plan.targets.saturating_sub(plan.listed.len() as u64);
    if more > 0 {
        writeln!(
            out,
            "  … and {} more (-v lists up to {})",
            grouped(more),
            grouped(LISTED_VERBOSE as u64)
        )?;
    }
    writeln!(out, "checks:")?;
    for check in &plan.checks {
        writeln!(
            out,
            "  {:<14} {:>9} probes, at most {} packet(s) and {:.1} s each",
            check.check.to_string(),
            grouped(check.probes),
            check.packets_each,
            check.wait.as_secs_f64()
        )?;
    }
    writeln!(out, "probes:        {}", grouped(plan.probes))?;
    writeln!(
        out,
        "packets:       at most {} (datagrams and TCP SYNs, every probe silent to its last retry)",
        grouped(plan.packets_at_most)
    )?;
    writeln!(out, "rate:          {}", rate_text(plan.rate_pps))?;
    writeln!(
        out,
        "in flight:     up to {} probes{}",
        grouped(plan.slots as u64),
        plan.fd_limit.map_or(String::new(), |l| format!(
            " (open-file limit {})",
            grouped(l)
        ))
    )?;
    writeln!(
        out,
        "estimate:      at most {:.1} s (the packets at the rate, then the longest wait of {:.1} s)",
        plan.estimated_seconds,
        plan.longest_wait.as_secs_f64()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let check = |check, packets_each, wait| DryRunCheck {
            check,
            probes: 1000,
            packets_each,
            wait: Duration::from_secs(wait),
        };
        let plan = DryRun {
            targets: 1000,
            probes: 2000,
            packets_at_most: 5000,
            rate_pps: 1000,
            slots: 6000,
            fd_limit: Some(1024),
            longest_wait: Duration::from_secs(6),
            estimated_seconds: 11.0,
            checks: vec![check(CheckId::Snmp, 4, 6), check(CheckId::Raw, 1, 2)],
            listed: vec![ListedTarget {
                role: "printer".into(),
                target: "192.0.2.1".into(),
            }],
        };
        let mut out = Vec::new();
        write_text(&plan, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("nothing was sent"), "{text}");
        assert!(text.contains("snmp"), "{text}");
        assert!(text.contains("probes:        2,000"), "{text}");
        assert!(text.contains("at most 5,000"), "{text}");
        assert!(text.contains("at most 11.0 s"), "{text}");
        assert!(text.contains("printer        192.0.2.1"), "{text}");
        assert!(text.contains("… and 999 more"), "{text}");
        let mut out = Vec::new();
        write_json(&plan, &mut out).unwrap();
        let json: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(json["dry_run"], true);
        assert_eq!(json["packets_at_most"], 5000);
        assert_eq!(json["longest_wait_ms"], 6000);
        assert_eq!(json["checks"][0]["check"], "snmp");
        assert_eq!(json["checks"][0]["wait_ms"], 6000);
        assert_eq!(json["target_list"][0]["target"], "192.0.2.1");
    }
}
