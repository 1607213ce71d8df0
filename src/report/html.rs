//! One self-contained HTML page: the summary on top (counts per check, failures grouped by
//! cause), then the matrix coloured by verdict, each row with a details line holding the
//! evidence and fix of every cell that did not pass. No script, no external fetch: the page
//! opens from a ticket attachment or a CI artifact as it is, and stays light at 4,096 rows.

use std::io::{self, Write};

use super::fleet::FleetSummary;
use super::model::{Cell, Matrix, partial_text};
use super::style::{Render, Style};
use super::text::visible;
use crate::results::Verdict;

const STYLE: &str = "\
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#1d1d1f}\
h1{font-size:1.4em;margin:0 0 .2em}h2{font-size:1.1em;margin:1.4em 0 .4em}\
table{border-collapse:collapse}th,td{border:1px solid #d0d0d5;padding:.2em .6em;text-align:left}\
thead th{position:sticky;top:0;background:#f3f3f6}\
td.pass{background:#e3f4e6}td.warn{background:#fff3cd}td.fail{background:#f8d7da;font-weight:600}\
td.unfinished{background:#ececf1;font-style:italic}td.none{color:#999}tr.details td{background:#fafafa;font-size:.9em}\
li{margin:.2em 0}.fix{color:#444}.verdict-fail{color:#a4161a;font-weight:600}\
.verdict-warn{color:#8a6100;font-weight:600}.verdict-unfinished{color:#5b4a8a;font-weight:600}.meta{color:#555}";

/// `text` shown `visible` (no control character reaches the page, not even inside an
/// attribute), then `&`, `<`, `>`, `"` and `'` as entities.
fn escape(text: &str) -> String {
    let text = visible(text);
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

pub struct Html;

impl Render for Html {
    fn render(&self, matrix: &Matrix, style: Style, out: &mut dyn Write) -> io::Result<()> {
        writeln!(
            out,
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <title>mve-audit report</title><style>{STYLE}</style></head><body>"
        )?;
        writeln!(out, "<h1>mve-audit report</h1>")?;
        if let Some(signal) = matrix.interrupted {
            writeln!(
                out,
                "<p class=\"verdict-fail\">{}</p>",
                escape(&partial_text(signal))
            )?;
        }
        let summary = matrix.summary().line(matrix.rows.len(), matrix.duration);
        writeln!(
            out,
            "<p class=\"meta\">{} · mve-audit {}</p>",
            escape(&summary),
            env!("CARGO_PKG_VERSION")
        )?;
        fleet(matrix, out)?;
        grid(matrix, style, out)?;
        writeln!(out, "</body></html>")
    }
}

/// Counts per check, and the failures grouped by cause.
fn fleet(matrix: &Matrix, out: &mut dyn Write) -> io::Result<()> {
    let fleet = FleetSummary::of(matrix);
    writeln!(
        out,
        "<h2>By check</h2><table><thead><tr><th>check</th><th>pass</th><th>warn</th><th>fail</th><th>states</th></tr></thead><tbody>"
    )?;
    for counts in &fleet.by_check {
        let Some(check) = counts.check else { continue };
        let states = counts.states_text();
        writeln!(
            out,
            "<tr><td>{check}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            counts.pass,
            counts.warn,
            counts.fail,
            escape(&states)
        )?;
    }
    writeln!(out, "</tbody></table>")?;
    if let Some(line) = fleet.secured_line() {
        writeln!(out, "<p class=\"secured\">{}</p>", escape(&line))?;
    }
    if fleet.groups.is_empty() {
        return writeln!(out, "<p>Every host passed every check.</p>");
    }
    writeln!(out, "<h2>Failures by cause</h2><ul>")?;
    for group in &fleet.groups {
        writeln!(
            out,
            "<li><span class=\"verdict-{v}\">{V}</span> {}",
            escape(&group.headline()),
            v = group.verdict.as_str(),
            V = group.verdict.as_str().to_uppercase()
        )?;
        for fix in &group.fixes {
            writeln!(out, "<br><span class=\"fix\">fix: {}</span>", escape(fix))?;
        }
        writeln!(out, "</li>")?;
    }
    writeln!(out, "</ul>")
}

/// The matrix, a details row under every row with a cell worth explaining.
fn grid(matrix: &Matrix, style: Style, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "<h2>Matrix</h2><table><thead><tr><th>target</th>")?;
    let vantages = matrix.has_vantages();
    if vantages {
        writeln!(out, "<th>vantage</th>")?;
    }
    for check in &matrix.columns {
        let port = matrix.port_of(*check);
        writeln!(
            out,
            "<th>{check}<br><small>{}/{port}</small></th>",
            check.path().transport
        )?;
    }
    writeln!(out, "</tr></thead><tbody>")?;
    let grid = matrix.grid();
    let width = matrix.columns.len();
    for (index, row) in matrix.rows.iter().enumerate() {
        let cells: Vec<Option<&Cell>> = (0..width)
            .map(|col| {
                grid.get(index * width + col)
                    .copied()
                    .flatten()
                    .and_then(|i| matrix.cells.get(i))
            })
            .collect();
        write!(out, "<tr><td>{}</td>", escape(&row.target))?;
        if vantages {
            write!(
                out,
                "<td>{}</td>",
                escape(row.vantage.as_deref().unwrap_or(""))
            )?;
        }
        for cell in &cells {
            match cell {
                Some(cell) => write!(
                    out,
                    "<td class=\"{}\" title=\"{}\">{}</td>",
                    cell.verdict.as_str(),
                    escape(&cell.evidence.summary),
                    cell.state_text()
                )?,
                None => write!(out, "<td class=\"none\">·</td>")?,
            }
        }
        writeln!(out, "</tr>")?;
        let span = width + 1 + usize::from(vantages);
        details(cells.iter().flatten().copied(), span, style, out)?;
    }
    writeln!(out, "</tbody></table>")?;
    let conflicts = matrix.conflicts();
    if !conflicts.is_empty() {
        writeln!(out, "<h2>Conflicts between vantage points</h2><ul>")?;
        for conflict in conflicts {
            writeln!(out, "<li>{}</li>", escape(&conflict.line()))?;
        }
        writeln!(out, "</ul>")?;
    }
    Ok(())
}

fn details<'a>(
    cells: impl Iterator<Item = &'a Cell>,
    span: usize,
    style: Style,
    out: &mut dyn Write,
) -> io::Result<()> {
    let shown: Vec<&Cell> = cells
        .filter(|c| style.details || c.verdict != Verdict::Pass || !c.evidence.notes.is_empty())
        .collect();
    if shown.is_empty() {
        return Ok(());
    }
    let noun = if shown.len() == 1 {
        "finding"
    } else {
        "findings"
    };
    writeln!(
        out,
        "<tr class=\"details\"><td colspan=\"{span}\"><details><summary>{} {noun}: evidence and fixes</summary><ul>",
        shown.len()
    )?;
    for cell in shown {
        write!(
            out,
            "<li><span class=\"verdict-{}\">{}</span> {} {}/{}: {} — {}",
            cell.verdict.as_str(),
            cell.verdict.as_str().to_uppercase(),
            cell.check,
            cell.transport,
            cell.port,
            cell.state_text(),
            escape(&cell.evidence.summary)
        )?;
        for note in &cell.evidence.notes {
            write!(out, "<br>note: {}", escape(note))?;
        }
        if let Some(hint) = &cell.hint {
            write!(out, "<br><span class=\"fix\">fix: {}</span>", escape(hint))?;
        }
        writeln!(out, "</li>")?;
    }
    writeln!(out, "</ul></details></td></tr>")
}
