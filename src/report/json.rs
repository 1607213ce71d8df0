//! The JSON report: every cell with its evidence, under a `schema_version`. `ReportDocument`
//! is its one definition: `json` writes it borrowing the matrix, `merge` reads it back, and
//! `schemas/report-v1.schema.json` is tested against what it writes.

use std::borrow::Cow;
use std::io::{self, Write};

use serde::{Deserialize, Serialize};

use super::model::{Cell, Conflict, Matrix, Summary, TargetRow};
use super::style::{Render, Style};
use crate::catalog::CheckId;
use crate::platform::signals::Interrupt;
use crate::results::SCHEMA_VERSION;

/// A JSON report, written or read.
#[derive(Debug, Serialize, Deserialize)]
pub struct ReportDocument<'a> {
    pub schema_version: u32,
    #[serde(default)]
    pub tool: Cow<'a, str>,
    #[serde(default)]
    pub version: Cow<'a, str>,
    #[serde(default)]
    pub duration_ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interrupted: Option<Interrupt>,
    #[serde(default)]
    pub summary: Summary,
    pub checks: Cow<'a, [CheckId]>,
    pub targets: Cow<'a, [TargetRow]>,
    pub cells: Cells<'a>,
    /// Cells of one target and check that vantage points see differently (a merged report).
    #[serde(default, skip_serializing_if = "Vec::is_empty", skip_deserializing)]
    pub conflicts: Vec<Conflict>,
}

/// The cells of a report: written straight from the matrix, one at a time (a fleet's report
/// is not copied to be written), or read into a list.
#[derive(Debug)]
pub enum Cells<'a> {
    Of(&'a Matrix),
    Read(Vec<CellDocument<'a>>),
}

impl<'a> Cells<'a> {
    /// The cells read from a report (none for a report being written).
    pub fn read(&self) -> &[CellDocument<'a>] {
        match self {
            Cells::Of(_) => &[],
            Cells::Read(cells) => cells,
        }
    }

    /// The same, to correct in place.
    pub fn read_mut(&mut self) -> &mut [CellDocument<'a>] {
        match self {
            Cells::Of(_) => &mut [],
            Cells::Read(cells) => cells,
        }
    }

    /// The cells read from a report (none for a report being written).
    pub fn into_read(self) -> Vec<CellDocument<'static>> {
        match self {
            Cells::Of(_) => Vec::new(),
            Cells::Read(cells) => cells
                .into_iter()
                .map(|c| CellDocument {
                    cell: Cow::Owned(c.cell.into_owned()),
                    vantage: c.vantage.map(|v| Cow::Owned(v.into_owned())),
                })
                .collect(),
        }
    }
}

impl Serialize for Cells<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        match self {
            Cells::Read(cells) => cells.serialize(s),
            Cells::Of(matrix) => {
                let mut seq = s.serialize_seq(Some(matrix.cells.len()))?;
                for cell in &matrix.cells {
                    seq.serialize_element(&CellDocument {
                        cell: Cow::Borrowed(cell),
                        vantage: matrix
                            .rows
                            .get(cell.row)
                            .and_then(|r| r.vantage.as_deref())
                            .map(Cow::Borrowed),
                    })?;
                }
                seq.end()
            }
        }
    }
}

impl<'de, 'a> Deserialize<'de> for Cells<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Vec::<CellDocument<'a>>::deserialize(d).map(Cells::Read)
    }
}

/// A cell with the vantage point of its row, when the matrix has them.
#[derive(Debug, Serialize, Deserialize)]
pub struct CellDocument<'a> {
    #[serde(flatten)]
    pub cell: Cow<'a, Cell>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vantage: Option<Cow<'a, str>>,
}

impl<'a> ReportDocument<'a> {
    /// The document of `matrix`, borrowing it.
    pub fn of(matrix: &'a Matrix) -> ReportDocument<'a> {
        ReportDocument {
            schema_version: SCHEMA_VERSION,
            tool: Cow::Borrowed(env!("CARGO_PKG_NAME")),
            version: Cow::Borrowed(env!("CARGO_PKG_VERSION")),
            duration_ms: u64::try_from(matrix.duration.as_millis()).unwrap_or(u64::MAX),
            interrupted: matrix.interrupted,
            summary: matrix.summary(),
            checks: Cow::Borrowed(&matrix.columns),
            targets: Cow::Borrowed(&matrix.rows),
            cells: Cells::Of(matrix),
            conflicts: matrix.vantage_conflicts(),
        }
    }
}

pub fn render(matrix: &Matrix, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &ReportDocument::of(matrix))?;
    writeln!(out)
}

pub struct Json;

impl Render for Json {
    fn render(&self, matrix: &Matrix, _: Style, out: &mut dyn Write) -> io::Result<()> {
        render(matrix, out)
    }
}
