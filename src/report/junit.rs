//! JUnit XML for CI systems: one test case per cell, named `target check`; a failing cell is a
//! `<failure>`, a warning passes with its reason in `<system-out>`.

use std::io::{self, Write};

use super::model::{Matrix, partial_text};
use super::style::{Render, Style};
use super::text::visible;
use crate::results::Verdict;

/// `text` for XML text or an attribute: `visible` (XML 1.0 cannot carry most C0 controls at
/// all, and a dropped one would hide what the peer sent), then the five entities.
fn xml(text: &str) -> String {
    visible(text)
        .chars()
        .map(|c| match c {
            '&' => "&amp;".to_string(),
            '<' => "&lt;".to_string(),
            '>' => "&gt;".to_string(),
            '"' => "&quot;".to_string(),
            '\'' => "&apos;".to_string(),
            other => other.to_string(),
        })
        .collect()
}

pub fn render(matrix: &Matrix, out: &mut dyn Write) -> io::Result<()> {
    let s = matrix.summary();
    let seconds = matrix.duration.as_secs_f64();
    writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(
        out,
        r#"<testsuites name="mve-audit" tests="{}" failures="{}" time="{seconds:.3}">"#,
        s.cells, s.fail
    )?;
    // Unfinished cells are skipped cases, counted where a CI system looks for them.
    let skipped = if s.unfinished > 0 {
        format!(r#" skipped="{}""#, s.unfinished)
    } else {
        String::new()
    };
    writeln!(
        out,
        r#"  <testsuite name="mve-audit check" tests="{}" failures="{}"{skipped} time="{seconds:.3}">"#,
        s.cells, s.fail
    )?;
    if let Some(signal) = matrix.interrupted {
        writeln!(
            out,
            r#"    <testcase classname="mve-audit" name="run"><error message="{}"/></testcase>"#,
            xml(&partial_text(signal))
        )?;
    }
    for cell in &matrix.cells {
        // A merged report's cells carry their site: `site-a/192.0.2.7`, `… @ site-a`.
        let vantage = matrix.vantage_of(cell);
        let at = vantage.map(|v| format!(" @ {v}")).unwrap_or_default();
        let name = xml(&format!(
            "{} {} {}/{}{at}",
            cell.target, cell.check, cell.transport, cell.port
        ));
        let class = match vantage {
            Some(v) => format!("{v}/{}", cell.target),
            None => cell.target.to_string(),
        };
        let time = cell.evidence.rtt_ms.unwrap_or(0.0) / 1000.0;
        write!(
            out,
            r#"    <testcase classname="{}" name="{name}" time="{time:.3}">"#,
            xml(&class)
        )?;
        // One line each, joined by a line break of ours.
        let detail = format!(
            "{}: {}{}",
            cell.state_text(),
            xml(&cell.evidence.summary),
            cell.hint
                .as_deref()
                .map(|h| format!("\nfix: {}", xml(h)))
                .unwrap_or_default()
        );
        match cell.verdict {
            Verdict::Fail => write!(
                out,
                r#"<failure message="{}" type="{}">{detail}</failure>"#,
                xml(&cell.evidence.summary),
                cell.state
            )?,
            Verdict::Warn => write!(out, "<system-out>WARN {detail}</system-out>")?,
            // Not run to the end: a CI system shows a skipped case, never a passed one.
            Verdict::Unfinished => write!(
                out,
                r#"<skipped message="unfinished: the run was cut short before this probe ended"/>"#
            )?,
            Verdict::Pass => {}
        }
        writeln!(out, "</testcase>")?;
    }
    // What the run saw of the path, and a merged report's disagreements.
    let lines: Vec<String> = matrix
        .vantage_conflicts()
        .iter()
        .map(|c| c.line())
        .chain(s.path_text())
        .map(|line| xml(&line))
        .collect();
    if !lines.is_empty() {
        writeln!(out, "    <system-out>{}</system-out>", lines.join("\n"))?;
    }
    writeln!(out, "  </testsuite>")?;
    writeln!(out, "</testsuites>")
}

pub struct Junit;

impl Render for Junit {
    fn render(&self, matrix: &Matrix, _: Style, out: &mut dyn Write) -> io::Result<()> {
        render(matrix, out)
    }
}
