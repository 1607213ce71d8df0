//! The matrix for people: rows = targets, columns = checks, each cell its state, coloured by
//! verdict on a terminal; then every cell that did not pass with its evidence and fix hint,
//! then a summary line.

use std::collections::HashMap;
use std::io::{self, Write};

use comfy_table::{Attribute, Cell as TableCell, Color};

use super::fleet::FleetSummary;
use super::model::{Matrix, count, partial_text};
use super::style::{Render, Style};
use super::text::visible;
use crate::results::Verdict;

pub fn render(matrix: &Matrix, style: Style, out: &mut dyn Write) -> io::Result<()> {
    if matrix.cells.is_empty() {
        writeln!(out, "Nothing to check: no check has a target.")?;
        return Ok(());
    }
    if let Some(signal) = matrix.interrupted {
        writeln!(out, "{}", partial_text(signal))?;
    }
    let lines = grid(matrix, style, out)?;
    problems(matrix, style, out)?;
    if let Some(line) = super::fleet::secured_line(super::fleet::secured_rows(matrix)) {
        writeln!(out, "\n{line}")?;
    }
    writeln!(out, "\n{}", matrix.summary().line(lines, matrix.duration))
}

pub struct Table;

impl Render for Table {
    fn render(&self, matrix: &Matrix, style: Style, out: &mut dyn Write) -> io::Result<()> {
        if style.summary && !matrix.cells.is_empty() {
            summary(matrix, style, out)
        } else {
            render(matrix, style, out)
        }
    }
}

/// Below this width the summary's counts are lines, not a table.
const NARROW: u16 = 60;

/// The fleet view: counts per check, then the hosts that did not pass grouped by cause.
pub fn summary(matrix: &Matrix, style: Style, out: &mut dyn Write) -> io::Result<()> {
    if let Some(signal) = matrix.interrupted {
        writeln!(out, "{}", partial_text(signal))?;
    }
    let fleet = FleetSummary::of(matrix);
    // The counts table needs about 60 columns; narrower, one line per check reads better
    // than a table whose every word is broken.
    if style.width.is_some_and(|width| width < NARROW) {
        for counts in &fleet.by_check {
            let Some(check) = counts.check else { continue };
            let states = counts.states_text();
            writeln!(
                out,
                "{check} {}/{}: {} pass, {} warn, {} fail ({})",
                check.path().transport,
                matrix.port_of(check),
                counts.pass,
                counts.warn,
                counts.fail,
                states
            )?;
        }
    } else {
        let mut table = style.table();
        table.set_header(["check", "port", "pass", "warn", "fail", "states"]);
        for counts in &fleet.by_check {
            let Some(check) = counts.check else { continue };
            let port = matrix.port_of(check);
            let states = counts.states_text();
            table.add_row([
                check.to_string(),
                format!("{}/{port}", check.path().transport),
                counts.pass.to_string(),
                counts.warn.to_string(),
                counts.fail.to_string(),
                states,
            ]);
        }
        writeln!(out, "{table}")?;
    }
    if !fleet.groups.is_empty() {
        writeln!(out)?;
    }
    for group in &fleet.groups {
        let label = match group.verdict {
            Verdict::Fail => "FAIL",
            Verdict::Unfinished => "UNFINISHED",
            Verdict::Warn => "WARN",
            Verdict::Pass => "PASS",
        };
        let label = if style.color {
            paint(label, group.verdict)
        } else {
            label.to_string()
        };
        writeln!(out, "{label} {}", visible(&group.headline()))?;
        for fix in &group.fixes {
            writeln!(out, "     fix: {}", visible(fix))?;
        }
    }
    if fleet.healthy > 0 {
        let hosts = count(fleet.healthy, "host", "hosts");
        writeln!(out, "\n{hosts} passed every check.")?;
    }
    if let Some(line) = fleet.secured_line() {
        writeln!(out, "\n{line}")?;
    }
    writeln!(
        out,
        "\n{}",
        matrix.summary().line(matrix.rows.len(), matrix.duration)
    )
}

/// The matrix itself; returns how many lines (hosts as written) it has.
fn grid(matrix: &Matrix, style: Style, out: &mut dyn Write) -> io::Result<usize> {
    let mut table = style.table();
    table.set_header(header(matrix));
    // One line per host as written: a server named for several services (SMTP, LDAP, the
    // KDC) shares a line, each service in its own column.
    // Merged reports: one line per host and vantage point.
    let mut labels: Vec<(&str, &str)> = Vec::new();
    let mut line_by_label: HashMap<(&str, &str), usize> = HashMap::new();
    let line_of: Vec<usize> = matrix
        .rows
        .iter()
        .map(|row| {
            let key = (&*row.target, row.vantage.as_deref().unwrap_or(""));
            *line_by_label.entry(key).or_insert_with(|| {
                labels.push(key);
                labels.len() - 1
            })
        })
        .collect();
    let vantages = matrix.has_vantages();
    let width = matrix.columns.len();
    let mut by_position = vec![None; labels.len() * width];
    for (index, cell) in matrix.cells.iter().enumerate() {
        if let Some(col) = matrix.columns.iter().position(|c| *c == cell.check)
            && let Some(line) = line_of.get(cell.row)
            && let Some(slot) = by_position.get_mut(line * width + col)
        {
            *slot = Some(index);
        }
    }
    for (line, (label, vantage)) in labels.iter().enumerate() {
        let mut cells = vec![TableCell::new(visible(label))];
        if vantages {
            cells.push(TableCell::new(visible(vantage)));
        }
        for col in 0..width {
            let shown = match by_position[line * width + col].and_then(|i| matrix.cells.get(i)) {
                None => TableCell::new("·"),
                Some(cell) => state_cell(cell, style),
            };
            cells.push(shown);
        }
        table.add_row(cells);
    }
    writeln!(out, "{table}")?;
    Ok(labels.len())
}

/// The header row: each check with its transport and port.
impl Matrix {
    /// Whether the matrix can be drawn in `width` columns without wrapping a check's name or
    /// a state word (`verified`, `filtered`) across lines: each check column needs its
    /// longest word, the target column a short name, and each column its border and padding.
    /// Narrower, a terminal would show one character per line; the caller shows the summary.
    pub fn fits_width(&self, width: u16) -> bool {
        const TARGET: usize = 15;
        const STATE: usize = 8;
        let vantage = if self.has_vantages() { 10 + 3 } else { 0 };
        let columns: usize = self
            .columns
            .iter()
            .map(|check| check.as_str().len().max(STATE) + 3)
            .sum();
        TARGET + 3 + vantage + columns < usize::from(width)
    }
}

fn header(matrix: &Matrix) -> Vec<TableCell> {
    let mut header = vec![TableCell::new("target")];
    if matrix.has_vantages() {
        header.push(TableCell::new("vantage"));
    }
    for check in &matrix.columns {
        let port = matrix.port_of(*check);
        header.push(TableCell::new(format!(
            "{check}\n{}/{port}",
            check.path().transport
        )));
    }
    header
}

fn state_cell(cell: &super::Cell, style: Style) -> TableCell {
    let text = TableCell::new(cell.state_text());
    if style.color {
        text.fg(color(cell.verdict))
            .add_attribute(weight(cell.verdict))
    } else {
        text
    }
}

/// Every cell that did not pass, and passing cells with a note (a source-port fallback
/// matters even when the port answered), with evidence and fix.
fn problems(matrix: &Matrix, style: Style, out: &mut dyn Write) -> io::Result<()> {
    let mut problems: Vec<_> = matrix
        .cells
        .iter()
        .filter(|c| style.details || c.verdict != Verdict::Pass || has_notes(c))
        .collect();
    problems.sort_by_key(|c| std::cmp::Reverse(c.verdict));
    if !problems.is_empty() {
        writeln!(out)?;
    }
    // A name that did not resolve fails every check of its row for one reason: say it once.
    let mut unresolved_said = vec![false; matrix.rows.len()];
    let mut cells_of_row = vec![0usize; matrix.rows.len()];
    for cell in &matrix.cells {
        if let Some(count) = cells_of_row.get_mut(cell.row) {
            *count += 1;
        }
    }
    for cell in problems {
        let label = match cell.verdict {
            Verdict::Fail => "FAIL",
            Verdict::Unfinished => "UNFINISHED",
            Verdict::Warn => "WARN",
            Verdict::Pass if has_notes(cell) && !style.details => "NOTE",
            Verdict::Pass => "PASS",
        };
        let label = if style.color {
            paint(label, cell.verdict)
        } else {
            label.to_string()
        };
        if cell.address.is_none() {
            let said = unresolved_said
                .get_mut(cell.row)
                .map(|s| std::mem::replace(s, true));
            if said == Some(false) {
                let count = cells_of_row.get(cell.row).copied().unwrap_or(0);
                writeln!(
                    out,
                    "{label} {} (all {count} checks): {} — {}",
                    visible(&cell.target),
                    cell.state_text(),
                    visible(&cell.evidence.summary)
                )?;
                fix(cell, out)?;
            }
            continue;
        }
        let at = matrix
            .rows
            .get(cell.row)
            .and_then(|r| r.vantage.as_deref())
            .map(|v| format!(" @ {}", visible(v)))
            .unwrap_or_default();
        writeln!(
            out,
            "{label} {}{at} {} {}/{}: {} — {}",
            visible(&cell.target),
            cell.check,
            cell.transport,
            cell.port,
            cell.state_text(),
            visible(&cell.evidence.summary)
        )?;
        for note in &cell.evidence.notes {
            writeln!(out, "     note: {}", visible(note))?;
        }
        fix(cell, out)?;
    }
    let conflicts = matrix.conflicts();
    if !conflicts.is_empty() {
        writeln!(out)?;
    }
    for conflict in conflicts {
        writeln!(out, "{}", visible(&conflict.line()))?;
    }
    Ok(())
}

fn fix(cell: &super::Cell, out: &mut dyn Write) -> io::Result<()> {
    match &cell.hint {
        Some(hint) => writeln!(out, "     fix: {}", visible(hint)),
        None => Ok(()),
    }
}

fn has_notes(cell: &super::Cell) -> bool {
    !cell.evidence.notes.is_empty()
}

fn color(verdict: Verdict) -> Color {
    match verdict {
        Verdict::Pass => Color::Green,
        Verdict::Warn => Color::Yellow,
        Verdict::Unfinished => Color::Magenta,
        Verdict::Fail => Color::Red,
    }
}

fn weight(verdict: Verdict) -> Attribute {
    match verdict {
        Verdict::Fail => Attribute::Bold,
        _ => Attribute::NormalIntensity,
    }
}

/// ANSI colour for text outside the table.
fn paint(text: &str, verdict: Verdict) -> String {
    let code = match verdict {
        Verdict::Pass => "32",
        Verdict::Warn => "33",
        Verdict::Unfinished => "35",
        Verdict::Fail => "1;31",
    };
    format!("\x1b[{code}m{text}\x1b[0m")
}
