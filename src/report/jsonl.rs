//! JSON Lines: one cell per line as it would appear in the JSON report, then a summary line.
//! Suits log pipelines and merging runs from many sites; `check` streams it, a line per cell
//! as it finishes.

use std::io::{self, Write};
use std::time::Duration;

use serde::Serialize;

use std::borrow::Cow;

use super::json::CellDocument;
use super::model::{Cell, Conflict, Matrix, Summary};
use super::style::{Render, Style};
use crate::results::SCHEMA_VERSION;

#[derive(Serialize)]
struct SummaryLine {
    schema_version: u32,
    kind: &'static str,
    summary: Summary,
    duration_ms: u128,
    #[serde(skip_serializing_if = "Option::is_none")]
    interrupted: Option<crate::platform::signals::Interrupt>,
}

/// One cell, as in the JSON report (with its vantage point when it has one).
pub fn write_cell(cell: &Cell, vantage: Option<&str>, out: &mut dyn Write) -> io::Result<()> {
    let line = CellDocument {
        cell: Cow::Borrowed(cell),
        vantage: vantage.map(Cow::Borrowed),
    };
    serde_json::to_writer(&mut *out, &line)?;
    writeln!(out)
}

#[derive(Serialize)]
struct ConflictLine<'a> {
    kind: &'static str,
    #[serde(flatten)]
    conflict: &'a Conflict,
}

pub fn write_summary(
    summary: Summary,
    duration: Duration,
    interrupted: Option<crate::platform::signals::Interrupt>,
    out: &mut dyn Write,
) -> io::Result<()> {
    let line = SummaryLine {
        schema_version: SCHEMA_VERSION,
        kind: "summary",
        summary,
        duration_ms: duration.as_millis(),
        interrupted,
    };
    serde_json::to_writer(&mut *out, &line)?;
    writeln!(out)
}

pub fn render(matrix: &Matrix, out: &mut dyn Write) -> io::Result<()> {
    for cell in &matrix.cells {
        write_cell(cell, matrix.vantage_of(cell), out)?;
    }
    for conflict in &matrix.vantage_conflicts() {
        let line = ConflictLine {
            kind: "conflict",
            conflict,
        };
        serde_json::to_writer(&mut *out, &line)?;
        writeln!(out)?;
    }
    write_summary(matrix.summary(), matrix.duration, matrix.interrupted, out)
}

pub struct Jsonl;

impl Render for Jsonl {
    fn render(&self, matrix: &Matrix, _: Style, out: &mut dyn Write) -> io::Result<()> {
        render(matrix, out)
    }
}
