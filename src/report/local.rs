//! `mve-audit local` output: one row per port MVE needs, as a table or JSON.

use std::io::{self, Write};

use super::style::Style;
use super::text::visible;
use crate::results::Verdict;
use crate::results::local::LocalReport;

pub fn render_local_table(
    report: &LocalReport,
    style: Style,
    out: &mut dyn Write,
) -> io::Result<()> {
    let mut table = style.table();
    table.set_header(["port", "state", "verdict", "held by", "why MVE needs it"]);
    for port in &report.ports {
        let holders = port
            .holders
            .iter()
            // A process names itself: any local user can put an escape sequence there.
            .map(|h| format!("{} ({})", visible(&h.name), h.pid))
            .collect::<Vec<_>>()
            .join(", ");
        table.add_row([
            port.port.clone(),
            port.state.as_str().to_string(),
            port.verdict.as_str().to_string(),
            holders,
            port.role.clone(),
        ]);
    }
    writeln!(out, "{table}")?;
    for port in report.ports.iter().filter(|p| p.verdict != Verdict::Pass) {
        writeln!(
            out,
            "{} {}: {}",
            port.verdict.as_str().to_uppercase(),
            port.port,
            visible(&port.summary)
        )?;
        if let Some(hint) = &port.hint {
            writeln!(out, "     fix: {}", visible(hint))?;
        }
    }
    match report.ephemeral_range {
        Some((low, high)) if report.overlaps.is_empty() => writeln!(
            out,
            "ephemeral ports {low}-{high}: clear of MVE's fixed ports"
        )?,
        Some((low, high)) => writeln!(
            out,
            "WARN ephemeral ports {low}-{high} include {}: the OS may hand them to another program first",
            report.overlaps.join(", ")
        )?,
        None => writeln!(out, "ephemeral port range: not known on this platform")?,
    }
    Ok(())
}

pub fn render_local_json(report: &LocalReport, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, report)?;
    writeln!(out)
}
