//! OpenMetrics text (also read as the Prometheus text format), for monitoring: written to a
//! file node_exporter's textfile collector reads (`--output /var/lib/node_exporter/mve.prom`,
//! atomic), it turns each audit into time series a Prometheus alert can watch.
//!
//! Families, each `# TYPE`d and `# HELP`ed, the text ending with `# EOF`:
//! - `mve_audit_path_up`: one gauge per cell, 1 when the cell passed, else 0; labels target,
//!   address, check, transport, port, state, verdict, required (and vantage in a merge).
//! - `mve_audit_path_rtt_seconds`: the round-trip time of a cell that had one.
//! - `mve_audit_cells`: the cells by verdict (pass, warn, fail, unfinished).
//! - `mve_audit_second_looks` and `mve_audit_second_looks_answered`: silent cells probed
//!   again, and how many answered then (the path loses packets).
//! - `mve_audit_run_duration_seconds` and `mve_audit_run_finished` (0 for a run cut short).
//!
//! No timestamp of its own: node_exporter's `node_textfile_mtime_seconds` tells when the file
//! was last written, which is what a staleness alert needs, and the text stays reproducible.
//!
//! Written by hand: the format is a few lines of text, and the crates that write it bring a
//! registry and a runtime model this one-shot report does not need.

use std::io::{self, Write};

use super::model::{Cell, Matrix};
use super::style::{Render, Style};
use super::text::visible;
use crate::results::Verdict;

pub struct OpenMetrics;

impl Render for OpenMetrics {
    fn render(&self, matrix: &Matrix, _style: Style, out: &mut dyn Write) -> io::Result<()> {
        render(matrix, out)
    }
}

/// A label value as the text format writes it: shown `visible` (no control character in a
/// file that people `cat`), then backslash, double quote and newline escaped.
fn label(value: &str) -> String {
    let value = visible(value);
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            other => out.push(other),
        }
    }
    out
}

/// The labels that name one cell.
fn cell_labels(matrix: &Matrix, cell: &Cell) -> String {
    let mut labels = format!(
        "target=\"{}\",address=\"{}\",check=\"{}\",transport=\"{}\",port=\"{}\"",
        label(&cell.target),
        cell.address.map(|a| a.to_string()).unwrap_or_default(),
        cell.check,
        cell.transport,
        cell.port
    );
    if let Some(vantage) = matrix.vantage_of(cell) {
        labels.push_str(&format!(",vantage=\"{}\"", label(vantage)));
    }
    labels
}

fn verdict_name(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Pass => "pass",
        Verdict::Warn => "warn",
        Verdict::Unfinished => "unfinished",
        Verdict::Fail => "fail",
    }
}

pub fn render(matrix: &Matrix, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "# TYPE mve_audit_path_up gauge")?;
    writeln!(
        out,
        "# HELP mve_audit_path_up 1 when the path passed (verified, or open where nothing \
         more can be proven), else 0; state and verdict say why."
    )?;
    for cell in &matrix.cells {
        writeln!(
            out,
            "mve_audit_path_up{{{},state=\"{}\",verdict=\"{}\",required=\"{}\"}} {}",
            cell_labels(matrix, cell),
            label(&cell.state_text()),
            verdict_name(cell.verdict),
            cell.required,
            u8::from(cell.verdict == Verdict::Pass)
        )?;
    }
    writeln!(out, "# TYPE mve_audit_path_rtt_seconds gauge")?;
    writeln!(out, "# UNIT mve_audit_path_rtt_seconds seconds")?;
    writeln!(
        out,
        "# HELP mve_audit_path_rtt_seconds Round-trip time of the path's answer."
    )?;
    for cell in &matrix.cells {
        if let Some(ms) = cell.evidence.rtt_ms {
            writeln!(
                out,
                "mve_audit_path_rtt_seconds{{{}}} {}",
                cell_labels(matrix, cell),
                ms / 1000.0
            )?;
        }
    }
    let summary = matrix.summary();
    writeln!(out, "# TYPE mve_audit_cells gauge")?;
    writeln!(out, "# HELP mve_audit_cells Cells of the run by verdict.")?;
    for (verdict, count) in [
        ("pass", summary.pass),
        ("warn", summary.warn),
        ("fail", summary.fail),
        ("unfinished", summary.unfinished),
    ] {
        writeln!(out, "mve_audit_cells{{verdict=\"{verdict}\"}} {count}")?;
    }
    for (name, help, count) in [
        (
            "mve_audit_second_looks",
            "Silent cells of hosts that answered elsewhere, probed a second time.",
            summary.second_looks,
        ),
        (
            "mve_audit_second_looks_answered",
            "Second looks that were answered: packets were lost on the way.",
            summary.answered_second,
        ),
    ] {
        writeln!(out, "# TYPE {name} gauge")?;
        writeln!(out, "# HELP {name} {help}")?;
        writeln!(out, "{name} {count}")?;
    }
    writeln!(out, "# TYPE mve_audit_run_duration_seconds gauge")?;
    writeln!(out, "# UNIT mve_audit_run_duration_seconds seconds")?;
    writeln!(
        out,
        "# HELP mve_audit_run_duration_seconds How long the audit ran."
    )?;
    writeln!(
        out,
        "mve_audit_run_duration_seconds {}",
        matrix.duration.as_secs_f64()
    )?;
    writeln!(out, "# TYPE mve_audit_run_finished gauge")?;
    writeln!(
        out,
        "# HELP mve_audit_run_finished 1 when the audit ran to its end, 0 when it was cut short."
    )?;
    writeln!(
        out,
        "mve_audit_run_finished {}",
        u8::from(matrix.interrupted.is_none())
    )?;
    writeln!(out, "# EOF")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(label("a\"b\\c"), "a\\\"b\\\\c");
        // A line break or an escape from the network is text in the label, never raw.
        assert_eq!(label("c\nd\x1b[2J"), r"c\\x0ad\\x1b[2J");
        assert_eq!(label("printer-1"), "printer-1");
    }
}
