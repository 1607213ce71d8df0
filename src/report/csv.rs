//! CSV (RFC 4180): one row per cell, for spreadsheets.

use std::io::{self, Write};

use super::model::{Cell, Matrix, partial_text};
use super::style::{Render, Style};
use crate::results::SecondLook;

const HEADER: [&str; 14] = [
    "target",
    "address",
    "check",
    "transport",
    "port",
    "required",
    "state",
    "verdict",
    "evidence",
    "hint",
    "rtt_ms",
    "reason",
    "vantage",
    "second_look",
];

/// A field quoted when it holds a comma, a quote or a line break; a leading `=`, `+`, `-` or
/// `@` is prefixed with `'` so a spreadsheet never runs a banner as a formula.
fn field(text: &str) -> String {
    let text = match text.chars().next() {
        Some('=' | '+' | '-' | '@') => format!("'{text}"),
        _ => text.to_string(),
    };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

pub fn write_header(out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "{}", HEADER.join(","))
}

/// One row; `vantage` names where a merged or `--vantage` run was made from.
pub fn write_cell(cell: &Cell, vantage: Option<&str>, out: &mut dyn Write) -> io::Result<()> {
    let row = [
        field(&cell.target),
        cell.address.map(|a| a.to_string()).unwrap_or_default(),
        cell.check.to_string(),
        cell.transport.to_string(),
        cell.port.to_string(),
        cell.required.to_string(),
        cell.state.to_string(),
        cell.verdict.to_string(),
        field(&cell.evidence.summary),
        field(cell.hint.as_deref().unwrap_or_default()),
        cell.evidence
            .rtt_ms
            .map(|r| r.to_string())
            .unwrap_or_default(),
        cell.unproven.map(|u| u.to_string()).unwrap_or_default(),
        field(vantage.unwrap_or_default()),
        match cell.second_look {
            Some(SecondLook::Answered) => "answered".to_string(),
            Some(SecondLook::SilentAgain) => "silent-again".to_string(),
            None => String::new(),
        },
    ];
    writeln!(out, "{}", row.join(","))
}

pub fn render(matrix: &Matrix, out: &mut dyn Write) -> io::Result<()> {
    write_header(out)?;
    for cell in &matrix.cells {
        write_cell(cell, matrix.vantage_of(cell), out)?;
    }
    // Comment lines, like the partial-report line: a merged report's disagreements.
    for conflict in matrix.vantage_conflicts() {
        writeln!(out, "# {}", conflict.line())?;
    }
    if let Some(path) = matrix.summary().path_text() {
        writeln!(out, "# {path}")?;
    }
    write_end(matrix.interrupted, out)
}

/// A partial report ends with a comment line saying so (CSV has no other place for it; most
/// readers take `#` lines as comments, and a strict one fails loudly instead of silently).
pub fn write_end(
    interrupted: Option<crate::platform::signals::Interrupt>,
    out: &mut dyn Write,
) -> io::Result<()> {
    match interrupted {
        Some(signal) => writeln!(out, "# {}", partial_text(signal)),
        None => Ok(()),
    }
}

pub struct Csv;

impl Render for Csv {
    fn render(&self, matrix: &Matrix, _: Style, out: &mut dyn Write) -> io::Result<()> {
        render(matrix, out)
    }
}

#[cfg(test)]
mod tests {
    use super::field;

    #[test]
    fn fields_are_quoted_and_defused() {
        assert_eq!(field("plain"), "plain");
        assert_eq!(field("a, b"), "\"a, b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("=cmd()"), "'=cmd()");
    }
}
