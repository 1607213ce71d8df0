//! JSON Lines: one cell per line as it would appear in the JSON report, then a summary line.
//! Suits log pipelines and merging runs from many sites.

use std::io::{self, Write};

use serde::Serialize;

use super::{Matrix, SCHEMA_VERSION, Summary};

#[derive(Serialize)]
struct SummaryLine {
    schema_version: u32,
    kind: &'static str,
    summary: Summary,
    duration_ms: u128,
}

pub fn render(matrix: &Matrix, out: &mut dyn Write) -> io::Result<()> {
    for cell in &matrix.cells {
        serde_json::to_writer(&mut *out, cell)?;
        writeln!(out)?;
    }
    let line = SummaryLine {
        schema_version: SCHEMA_VERSION,
        kind: "summary",
        summary: matrix.summary(),
        duration_ms: matrix.duration.as_millis(),
    };
    serde_json::to_writer(&mut *out, &line)?;
    writeln!(out)
}
