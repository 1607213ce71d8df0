//! `mve-audit merge A.json B.json …`: one matrix from JSON reports taken at several vantage
//! points (one per site or subnet), each row marked with its vantage; a cell that two vantage
//! points see differently is shown from both and listed as a conflict. The orchestration of
//! the runs themselves belongs to the user's tooling (`examples/ansible/`).

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

use super::output::Output;
use super::{Outcome, RunError, terminal_size, wants_color};
use crate::catalog::{CheckId, Role};
use crate::cli::MergeArgs;
use crate::report::{Cell, Matrix, SCHEMA_VERSION, Style, TargetRow};
use crate::results::{Evidence, State, Verdict};

/// Why a report could not be merged.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error("cannot read report {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}:{column}: not an mve-audit JSON report: {source}")]
    Parse {
        path: PathBuf,
        line: usize,
        column: usize,
        source: serde_json::Error,
    },
    #[error("{path}: schema version {found}, this mve-audit reads {SCHEMA_VERSION}")]
    Version { path: PathBuf, found: u32 },
    #[error("{path}: a cell names target '{target}', which the report does not list")]
    UnknownTarget { path: PathBuf, target: String },
}

#[derive(Deserialize)]
struct ReportIn {
    schema_version: u32,
    #[serde(default)]
    duration_ms: u64,
    checks: Vec<CheckId>,
    targets: Vec<TargetIn>,
    cells: Vec<CellIn>,
}

#[derive(Deserialize)]
struct TargetIn {
    target: String,
    role: Role,
    address: Option<IpAddr>,
    vantage: Option<String>,
}

#[derive(Deserialize)]
struct CellIn {
    target: String,
    address: Option<IpAddr>,
    check: CheckId,
    port: u16,
    required: bool,
    state: State,
    verdict: Verdict,
    evidence: EvidenceIn,
    hint: Option<String>,
}

#[derive(Deserialize)]
struct EvidenceIn {
    summary: String,
    #[serde(default)]
    notes: Vec<String>,
    rtt_ms: Option<f64>,
}

pub fn merge(args: &MergeArgs) -> Result<Outcome, RunError> {
    let mut merged = Merged::default();
    for path in &args.reports {
        merged.add(path, read(path)?)?;
    }
    let matrix = merged.into_matrix();
    let out = Output::open(args.output.as_deref())?;
    let terminal = out.is_terminal();
    let style = Style {
        color: wants_color(args.report.color, terminal),
        terminal,
        details: false,
        summary: args.summary,
        width: terminal_size().map(|(width, _)| width),
    };
    let mut out = out;
    matrix.render(args.report.format, style, &mut out)?;
    out.finish()?;
    let failed = matrix
        .cells
        .iter()
        .any(|c| c.verdict.fails_run(args.strict));
    Ok(Outcome::of_run(failed))
}

fn read(path: &Path) -> Result<ReportIn, MergeError> {
    let text = std::fs::read_to_string(path).map_err(|source| MergeError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let report: ReportIn = serde_json::from_str(&text).map_err(|source| MergeError::Parse {
        path: path.to_path_buf(),
        line: source.line(),
        column: source.column(),
        source,
    })?;
    if report.schema_version != SCHEMA_VERSION {
        return Err(MergeError::Version {
            path: path.to_path_buf(),
            found: report.schema_version,
        });
    }
    Ok(report)
}

#[derive(Default)]
struct Merged {
    rows: Vec<TargetRow>,
    columns: Vec<CheckId>,
    cells: Vec<Cell>,
    duration: Duration,
}

impl Merged {
    /// Adds one report's rows and cells, each row marked with the report's vantage point
    /// (its own, else the file's name without `.json`).
    fn add(&mut self, path: &Path, report: ReportIn) -> Result<(), MergeError> {
        let stem = path.file_stem().map_or_else(
            || path.display().to_string(),
            |s| s.to_string_lossy().into(),
        );
        let base = self.rows.len();
        let mut index: HashMap<&str, usize> = HashMap::new();
        for (i, target) in report.targets.iter().enumerate() {
            index.entry(&target.target).or_insert(base + i);
            let vantage = target.vantage.clone().unwrap_or_else(|| stem.clone());
            self.rows.push(TargetRow {
                target: Arc::from(target.target.as_str()),
                role: target.role,
                address: target.address,
                vantage: Some(Arc::from(vantage)),
            });
        }
        for check in report.checks {
            if !self.columns.contains(&check) {
                self.columns.push(check);
            }
        }
        for cell in &report.cells {
            let row =
                *index
                    .get(cell.target.as_str())
                    .ok_or_else(|| MergeError::UnknownTarget {
                        path: path.to_path_buf(),
                        target: cell.target.clone(),
                    })?;
            self.cells.push(Cell {
                row,
                target: Arc::from(cell.target.as_str()),
                address: cell.address,
                check: cell.check,
                transport: cell.check.path().transport,
                port: cell.port,
                required: cell.required,
                state: cell.state,
                verdict: cell.verdict,
                evidence: Arc::new(Evidence {
                    summary: cell.evidence.summary.clone(),
                    notes: cell.evidence.notes.clone(),
                    rtt_ms: cell.evidence.rtt_ms,
                    ..Evidence::default()
                }),
                hint: cell.hint.as_deref().map(Arc::from),
            });
        }
        self.duration = self.duration.max(Duration::from_millis(report.duration_ms));
        Ok(())
    }

    /// Rows of one target side by side (by target, then vantage), columns in catalog order.
    fn into_matrix(mut self) -> Matrix {
        self.columns
            .sort_by_key(|c| CheckId::ALL.iter().position(|x| x == c));
        let mut order: Vec<usize> = (0..self.rows.len()).collect();
        order.sort_by(|a, b| {
            let (ra, rb) = (&self.rows[*a], &self.rows[*b]);
            (&ra.target, &ra.vantage).cmp(&(&rb.target, &rb.vantage))
        });
        let mut new_index = vec![0; self.rows.len()];
        for (new, old) in order.iter().enumerate() {
            new_index[*old] = new;
        }
        let rows = order.iter().map(|i| self.rows[*i].clone()).collect();
        for cell in &mut self.cells {
            cell.row = new_index[cell.row];
        }
        let columns = self.columns.clone();
        let column = |check: CheckId| columns.iter().position(|c| *c == check);
        self.cells.sort_by_key(|c| (c.row, column(c.check)));
        Matrix {
            rows,
            columns: self.columns,
            cells: self.cells,
            duration: self.duration,
            interrupted: None,
        }
    }
}
