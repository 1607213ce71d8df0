//! The matrix model (targets × checks with state, verdict, evidence and a fix hint) and one
//! renderer per output format. Renderers are pure: a matrix in, bytes out.

mod catalog;
mod hints;
mod json;
mod table;

use std::io::{self, Write};
use std::net::IpAddr;
use std::time::Duration;

use serde::Serialize;

use crate::catalog::{CheckId, Role, Transport};
use crate::engine::Plan;
use crate::results::{Evidence, Finding, State, Verdict, is_required};

pub use catalog::{render_catalog_json, render_catalog_table};

/// Bumped whenever a field of the JSON report changes meaning or disappears.
pub const SCHEMA_VERSION: u32 = 1;

/// The output formats of `check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A matrix for people, coloured on a terminal.
    Table,
    /// The full results, for programs.
    Json,
}

/// How a table is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    pub color: bool,
    /// Drawing for a terminal: wrap to its width.
    pub terminal: bool,
}

/// A row of the matrix.
#[derive(Debug, Clone, Serialize)]
pub struct TargetRow {
    /// The target as the user wrote it (`printer1`, `192.0.2.7`, `mail:2525`).
    pub target: String,
    pub role: Role,
    /// The address probed; `null` when the name did not resolve.
    pub address: Option<IpAddr>,
}

/// One filled cell.
#[derive(Debug, Clone, Serialize)]
pub struct Cell {
    #[serde(skip)]
    pub row: usize,
    pub target: String,
    pub address: Option<IpAddr>,
    pub check: CheckId,
    pub transport: Transport,
    pub port: u16,
    pub required: bool,
    pub state: State,
    pub verdict: Verdict,
    pub evidence: Evidence,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub cells: usize,
    pub pass: usize,
    pub warn: usize,
    pub fail: usize,
}

#[derive(Debug, Clone)]
pub struct Matrix {
    pub rows: Vec<TargetRow>,
    pub columns: Vec<CheckId>,
    pub cells: Vec<Cell>,
    pub duration: Duration,
}

impl Matrix {
    /// Joins the plan with its findings; a cell with no finding (a run cut short) is an error.
    pub fn new(
        plan: &Plan,
        findings: Vec<Option<Finding>>,
        promoted: &[CheckId],
        duration: Duration,
    ) -> Matrix {
        let rows: Vec<TargetRow> = plan
            .rows
            .iter()
            .map(|row| TargetRow {
                target: row.target.to_string(),
                role: row.target.role,
                address: row.addr.as_ref().ok().copied(),
            })
            .collect();
        let cells = plan
            .cells
            .iter()
            .zip(findings.into_iter().chain(std::iter::repeat(None)))
            .map(|(planned, finding)| {
                let finding = finding.unwrap_or_else(|| {
                    Finding::new(State::Error, Evidence::new("the probe did not complete"))
                });
                let path = planned.check.path();
                let required = is_required(planned.check, promoted);
                let verdict = Verdict::of(finding.state, required, path.probe);
                let row = &rows[planned.row];
                let hint = (verdict != Verdict::Pass)
                    .then(|| hints::hint(planned.check, finding.state, planned.port, &finding));
                Cell {
                    row: planned.row,
                    target: row.target.clone(),
                    address: row.address,
                    check: planned.check,
                    transport: path.transport,
                    port: planned.port,
                    required,
                    state: finding.state,
                    verdict,
                    evidence: finding.evidence,
                    hint,
                }
            })
            .collect();
        Matrix {
            rows,
            columns: plan.columns.clone(),
            cells,
            duration,
        }
    }

    pub fn summary(&self) -> Summary {
        let mut summary = Summary {
            cells: self.cells.len(),
            ..Summary::default()
        };
        for cell in &self.cells {
            match cell.verdict {
                Verdict::Pass => summary.pass += 1,
                Verdict::Warn => summary.warn += 1,
                Verdict::Fail => summary.fail += 1,
            }
        }
        summary
    }

    /// Renders in `format`.
    pub fn render(&self, format: Format, style: Style, out: &mut dyn Write) -> io::Result<()> {
        match format {
            Format::Table => table::render(self, style, out),
            Format::Json => json::render(self, out),
        }
    }
}
