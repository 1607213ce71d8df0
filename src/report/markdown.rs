//! Markdown: the matrix as a table and the failures as a list, for tickets and wikis.

use std::io::{self, Write};

use super::model::{Matrix, partial_text};
use super::style::{Render, Style};
use super::text::markdown as escape;
use crate::results::Verdict;

pub fn render(matrix: &Matrix, out: &mut dyn Write) -> io::Result<()> {
    if let Some(signal) = matrix.interrupted {
        writeln!(out, "**{}**\n", partial_text(signal))?;
    }
    let vantages = matrix.has_vantages();
    let mut header = vec!["target".to_string()];
    let mut ports = vec!["".to_string()];
    if vantages {
        header.push("vantage".to_string());
        ports.push(String::new());
    }
    header.extend(matrix.columns.iter().map(|c| c.to_string()));
    ports.extend(matrix.columns.iter().map(|check| {
        let port = matrix.port_of(*check);
        format!("*{}/{port}*", check.path().transport)
    }));
    writeln!(out, "| {} |", header.join(" | "))?;
    writeln!(out, "|{}", "---|".repeat(header.len()))?;
    writeln!(out, "| {} |", ports.join(" | "))?;
    let grid = matrix.grid();
    let width = matrix.columns.len();
    for (index, row) in matrix.rows.iter().enumerate() {
        let mut line = vec![escape(&row.target)];
        if vantages {
            line.push(escape(row.vantage.as_deref().unwrap_or("")));
        }
        for col in 0..width {
            let text = grid
                .get(index * width + col)
                .copied()
                .flatten()
                .and_then(|i| matrix.cells.get(i))
                .map_or("·".to_string(), |c| match c.verdict {
                    Verdict::Pass => escape(&c.state_text()),
                    Verdict::Warn => format!("{} (warn)", escape(&c.state_text())),
                    Verdict::Unfinished => format!("*{}* (no verdict)", escape(&c.state_text())),
                    Verdict::Fail => format!("**{}** (fail)", escape(&c.state_text())),
                });
            line.push(text);
        }
        writeln!(out, "| {} |", line.join(" | "))?;
    }
    let problems: Vec<_> = matrix
        .cells
        .iter()
        .filter(|c| c.verdict != Verdict::Pass)
        .collect();
    if !problems.is_empty() {
        writeln!(out)?;
    }
    for cell in problems {
        // A merged report's cells say where they were seen from, as in the table.
        let at = matrix
            .vantage_of(cell)
            .map(|v| format!(" @ {}", escape(v)))
            .unwrap_or_default();
        writeln!(
            out,
            "- **{}** {}{at} {} {}/{}: {} — {}",
            cell.verdict.as_str().to_uppercase(),
            escape(&cell.target),
            cell.check,
            cell.transport,
            cell.port,
            escape(&cell.state_text()),
            escape(&cell.evidence.summary)
        )?;
        if let Some(hint) = &cell.hint {
            writeln!(out, "  - fix: {}", escape(hint))?;
        }
    }
    for conflict in matrix.conflicts() {
        writeln!(out, "- {}", escape(&conflict.line()))?;
    }
    if let Some(line) = super::fleet::secured_line(super::fleet::secured_rows(matrix)) {
        writeln!(out, "\n{}", escape(&line))?;
    }
    let line = matrix.summary().line(matrix.rows.len(), matrix.duration);
    writeln!(out, "\n{line}")
}

pub struct Markdown;

impl Render for Markdown {
    fn render(&self, matrix: &Matrix, _: Style, out: &mut dyn Write) -> io::Result<()> {
        render(matrix, out)
    }
}
