//! CSV (RFC 4180): one row per cell, for spreadsheets.

use std::io::{self, Write};

use super::model::{Cell, Matrix, partial_text};
use super::style::{Render, Style};
use super::text::visible;
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

/// A field as a spreadsheet may safely open it: control characters shown escaped
/// (`visible`), a cell a spreadsheet would run as a formula neutralised (`defused`), and the
/// result quoted when it holds a comma, a quote or a line break. Every column goes through
/// here, the ones that hold only numbers and names too: one path, no column forgotten.
fn field(text: &str) -> String {
    let text = defused(&visible(text));
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

/// The characters a spreadsheet starts a formula with (OWASP's CSV injection list: `=`, `+`,
/// `-`, `@`; TAB and CR are already escaped by `visible`), and their fullwidth forms, which
/// some spreadsheets in East Asian locales read as the same.
const FORMULA_STARTS: [char; 8] = ['=', '+', '-', '@', '＝', '＋', '－', '＠'];

/// `text` prefixed with `'` when a spreadsheet would run it as a formula: when its first
/// character, or its first after leading whitespace (which some importers trim), starts one.
/// The `'` shows: the cell reads as text, as written.
fn defused(text: &str) -> String {
    let first = text.trim_start().chars().next();
    if first.is_some_and(|c| FORMULA_STARTS.contains(&c)) {
        format!("'{text}")
    } else {
        text.to_string()
    }
}

/// A `#` comment line (a conflict, the path, a partial report). Readers that take `#` lines as
/// comments skip it; a spreadsheet does not, and splits it at its commas: so the text is shown
/// `visible`, and each comma-separated piece that a spreadsheet would run as a formula, or read
/// as a quoted field, is prefixed with `'` as a field is.
fn comment(text: &str) -> String {
    let pieces: Vec<String> = visible(text)
        .split(',')
        .map(|piece| {
            if piece.trim_start().starts_with('"') {
                format!("'{piece}")
            } else {
                defused(piece)
            }
        })
        .collect();
    format!("# {}", pieces.join(","))
}

pub fn write_header(out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "{}", HEADER.join(","))
}

/// One row; `vantage` names where a merged or `--vantage` run was made from.
pub fn write_cell(cell: &Cell, vantage: Option<&str>, out: &mut dyn Write) -> io::Result<()> {
    let address = cell.address.map(|a| a.to_string()).unwrap_or_default();
    let rtt = cell
        .evidence
        .rtt_ms
        .map(|r| r.to_string())
        .unwrap_or_default();
    let reason = cell.unproven.map(|u| u.to_string()).unwrap_or_default();
    let second_look = match cell.second_look {
        Some(SecondLook::Answered) => "answered",
        Some(SecondLook::SilentAgain) => "silent-again",
        None => "",
    };
    let row = [
        cell.target.as_ref(),
        &address,
        cell.check.as_str(),
        &cell.transport.to_string(),
        &cell.port.to_string(),
        if cell.required { "true" } else { "false" },
        cell.state.as_str(),
        cell.verdict.as_str(),
        &cell.evidence.summary,
        cell.hint.as_deref().unwrap_or_default(),
        &rtt,
        &reason,
        vantage.unwrap_or_default(),
        second_look,
    ]
    .map(field);
    writeln!(out, "{}", row.join(","))
}

pub fn render(matrix: &Matrix, out: &mut dyn Write) -> io::Result<()> {
    write_header(out)?;
    for cell in &matrix.cells {
        write_cell(cell, matrix.vantage_of(cell), out)?;
    }
    // Comment lines, like the partial-report line: a merged report's disagreements.
    for conflict in matrix.vantage_conflicts() {
        writeln!(out, "{}", comment(&conflict.line()))?;
    }
    if let Some(path) = matrix.summary().path_text() {
        writeln!(out, "{}", comment(&path))?;
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
        Some(signal) => writeln!(out, "{}", comment(&partial_text(signal))),
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

    /// OWASP's list and the cases next to it: after leading whitespace, behind a control
    /// character, in fullwidth, and in a comment line a spreadsheet splits at its commas.
    #[test]
    fn every_way_to_start_a_formula_is_defused() {
        let cases = [
            (
                "=HYPERLINK(\"http://x\")",
                "\"'=HYPERLINK(\"\"http://x\"\")\"",
            ),
            ("+1", "'+1"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1)", "'@SUM(A1)"),
            (" =1+1", "' =1+1"),
            ("\u{a0}=1+1", "'\u{a0}=1+1"),
            ("\t=1+1", r"\x09=1+1"),
            ("\r=1+1", r"\x0d=1+1"),
            ("\n=1+1", r"\x0a=1+1"),
            ("＝1+1", "'＝1+1"),
            ("＠A1", "'＠A1"),
            ("a=1", "a=1"),
        ];
        for (text, want) in cases {
            assert_eq!(field(text), want, "{text:?}");
        }
        assert_eq!(
            super::comment("CONFLICT x,=1+1,\"=2\"\n=3 raw"),
            r#"# CONFLICT x,'=1+1,'"=2"\x0a=3 raw"#
        );
    }
}
