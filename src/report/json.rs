//! The JSON report: every cell with its evidence, under a `schema_version`.

use std::io::{self, Write};

use serde::Serialize;

use super::{Cell, Matrix, SCHEMA_VERSION, Summary, TargetRow};
use crate::catalog::CheckId;

#[derive(Serialize)]
struct Report<'a> {
    schema_version: u32,
    tool: &'static str,
    version: &'static str,
    duration_ms: u128,
    #[serde(skip_serializing_if = "Option::is_none")]
    interrupted: Option<crate::platform::signals::Interrupt>,
    summary: Summary,
    checks: &'a [CheckId],
    targets: &'a [TargetRow],
    cells: Vec<CellOut<'a>>,
}

/// A cell with the vantage point of its row, when the matrix has them.
#[derive(Serialize)]
struct CellOut<'a> {
    #[serde(flatten)]
    cell: &'a Cell,
    #[serde(skip_serializing_if = "Option::is_none")]
    vantage: Option<&'a str>,
}

pub fn render(matrix: &Matrix, out: &mut dyn Write) -> io::Result<()> {
    let report = Report {
        schema_version: SCHEMA_VERSION,
        tool: env!("CARGO_PKG_NAME"),
        version: env!("CARGO_PKG_VERSION"),
        duration_ms: matrix.duration.as_millis(),
        interrupted: matrix.interrupted,
        summary: matrix.summary(),
        checks: &matrix.columns,
        targets: &matrix.rows,
        cells: matrix
            .cells
            .iter()
            .map(|cell| CellOut {
                cell,
                vantage: matrix.rows.get(cell.row).and_then(|r| r.vantage.as_deref()),
            })
            .collect(),
    };
    serde_json::to_writer_pretty(&mut *out, &report)?;
    writeln!(out)
}

pub struct Json;

impl super::Render for Json {
    fn render(&self, matrix: &Matrix, _: super::Style, out: &mut dyn Write) -> io::Result<()> {
        render(matrix, out)
    }
}
