//! `mve-audit merge A.json B.json …`: one matrix from JSON reports taken at several vantage
//! points (one per site or subnet), each row marked with its vantage; a cell that two vantage
//! points see differently is shown from both and listed as a conflict. The orchestration of
//! the runs themselves belongs to the user's tooling (`examples/ansible/`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

use super::output::Output;
use super::{Outcome, RunError, terminal_size, terminal_style, wants_color};
use crate::catalog::CheckId;
use crate::cli::MergeArgs;
use crate::cli::values::{Dialect, fail_on, plain_words};
use crate::platform::signals::Interrupt;
use crate::report::{
    Cell, Flaw, Matrix, ReportDocument, SCHEMA_VERSION, Style, TargetRow, cell_name, visible,
};

/// A path as a message shows it: a file name can hold an escape sequence too.
fn shown(path: &Path) -> String {
    visible(&path.display().to_string()).into_owned()
}

/// Why reports could not be read, merged or compared (`merge`, `diff`): exit 2, as any input
/// the user gave that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error("cannot read report {}: {source}", shown(.path))]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{}:{line}:{column}: not an mve-audit JSON report: {}",
        shown(.path),
        visible(&plain_words(&.source.to_string(), Dialect::Json))
    )]
    Parse {
        path: PathBuf,
        line: usize,
        column: usize,
        source: serde_json::Error,
    },
    #[error("{}: schema version {found}, this mve-audit reads {SCHEMA_VERSION}", shown(.path))]
    Version { path: PathBuf, found: u32 },
    #[error(
        "{} and {} both come from vantage point '{}': two runs from one place cannot be told \
         apart in a merge (give each run its own --vantage, or compare them one after the \
         other)",
        shown(.first),
        shown(.second),
        visible(.vantage)
    )]
    SameVantage {
        vantage: String,
        first: PathBuf,
        second: PathBuf,
    },
    #[error("{} is given twice: each report counts once in a merge", shown(.path))]
    Twice { path: PathBuf },
    #[error("{}: the cell {cell} names a target the report does not list", shown(.path))]
    UnknownTarget { path: PathBuf, cell: String },
    #[error("{}: {flaw}", shown(.path))]
    Flawed { path: PathBuf, flaw: Flaw },
    #[error(
        "these reports were made from different vantage points ({old}, {new}): nothing to \
         compare (diff two runs from the same place, or merge them)"
    )]
    DifferentVantages { old: String, new: String },
}

pub fn merge(args: &MergeArgs) -> Result<Outcome, RunError> {
    let mut merged = Merged::default();
    let mut seen = Vec::with_capacity(args.reports.len());
    for path in &args.reports {
        // The same file under two spellings (`a.json ./a.json`) is the same report, and
        // standard input (`-`) can be read once.
        let same = std::fs::canonicalize(path).unwrap_or_else(|_| path.clone());
        if seen.contains(&same) {
            return Err(MergeError::Twice { path: path.clone() }.into());
        }
        seen.push(same);
        merged.add(path, read(path)?)?;
    }
    let partial = merged.partial.clone();
    let matrix = merged.into_matrix();
    let out = Output::open(args.output.as_deref())?;
    let terminal = out.is_terminal();
    let size = if terminal { terminal_size() } else { None };
    let style = Style {
        color: wants_color(args.report.color, terminal),
        terminal,
        details: false,
        ..terminal_style(&matrix, size, args.summary.then_some(true))
    };
    let mut out = out;
    matrix.render(
        args.report.format_for(args.output.as_deref()),
        style,
        &mut out,
    )?;
    out.finish()?;
    // A run that did not finish has no verdict, and neither has a merge that holds it: the
    // merge ends as that run did (130, 143, 129), never 0 or 1.
    if let Some((signal, path)) = partial {
        eprintln!(
            "mve-audit: {} is a partial report (interrupted by {signal}): the merge is partial too",
            shown(&path)
        );
        return Ok(Outcome::Interrupted(signal));
    }
    let failed = matrix
        .cells
        .iter()
        .any(|c| c.verdict.fails_run(fail_on(args.strict, args.fail_on)));
    Ok(Outcome::of_run(failed))
}

/// Only the version, read first: a report of another schema is refused by its version, not by
/// whatever field moved.
#[derive(Deserialize)]
struct Version {
    schema_version: u32,
}

pub(crate) fn read(path: &Path) -> Result<ReportDocument<'static>, MergeError> {
    // `-` is standard input (a report piped from a remote `check`).
    let text = if path == Path::new("-") {
        std::io::read_to_string(std::io::stdin().lock())
    } else {
        std::fs::read_to_string(path)
    }
    .map_err(|source| MergeError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let parse_error = |source: serde_json::Error| MergeError::Parse {
        path: path.to_path_buf(),
        line: source.line(),
        column: source.column(),
        source,
    };
    let version: Version = serde_json::from_str(&text).map_err(parse_error)?;
    if version.schema_version != SCHEMA_VERSION {
        return Err(MergeError::Version {
            path: path.to_path_buf(),
            found: version.schema_version,
        });
    }
    let mut report: ReportDocument<'static> = serde_json::from_str(&text).map_err(parse_error)?;
    report.vet().map_err(|flaw| MergeError::Flawed {
        path: path.to_path_buf(),
        flaw,
    })?;
    Ok(report)
}

#[derive(Default)]
struct Merged {
    /// Which file each vantage point came from, and that file's place among the inputs.
    vantages: HashMap<Arc<str>, (PathBuf, usize)>,
    /// Reports added so far.
    reports: usize,
    /// The first report whose run was cut short, and by what.
    partial: Option<(Interrupt, PathBuf)>,
    rows: Vec<TargetRow>,
    columns: Vec<CheckId>,
    cells: Vec<Cell>,
    duration: Duration,
}

impl Merged {
    /// Adds one report's rows and cells, each row marked with the report's vantage point
    /// (its own, else the file's name without `.json`).
    fn add(&mut self, path: &Path, report: ReportDocument<'static>) -> Result<(), MergeError> {
        let stem = path.file_stem().map_or_else(
            || path.display().to_string(),
            |s| s.to_string_lossy().into(),
        );
        if let (None, Some(signal)) = (&self.partial, report.interrupted) {
            self.partial = Some((signal, path.to_path_buf()));
        }
        let base = self.rows.len();
        let this = self.reports;
        self.reports += 1;
        // A row is its target and the vantage the file gives it: a merged report read back
        // holds each target once per vantage point, and each cell names its own.
        let mut index: HashMap<(Arc<str>, Option<Arc<str>>), usize> = HashMap::new();
        let mut by_target: HashMap<Arc<str>, usize> = HashMap::new();
        for (i, target) in report.targets.into_owned().into_iter().enumerate() {
            index
                .entry((target.target.clone(), target.vantage.clone()))
                .or_insert(base + i);
            by_target.entry(target.target.clone()).or_insert(base + i);
            let vantage = target
                .vantage
                .clone()
                .unwrap_or_else(|| Arc::from(stem.as_str()));
            match self.vantages.get(&vantage) {
                Some((first, from)) if *from != this => {
                    return Err(MergeError::SameVantage {
                        vantage: vantage.to_string(),
                        first: first.clone(),
                        second: path.to_path_buf(),
                    });
                }
                Some(_) => {}
                None => {
                    self.vantages
                        .insert(vantage.clone(), (path.to_path_buf(), this));
                }
            }
            self.rows.push(TargetRow {
                vantage: Some(vantage),
                ..target
            });
        }
        for check in report.checks.iter() {
            if !self.columns.contains(check) {
                self.columns.push(*check);
            }
        }
        for document in report.cells.into_read() {
            let cell = document.cell.into_owned();
            let vantage = document.vantage.map(|v| Arc::from(v.as_ref()));
            let row = match &vantage {
                Some(_) => index.get(&(cell.target.clone(), vantage.clone())),
                // A cell that names no vantage is its target's (a plain report).
                None => by_target.get(&cell.target),
            };
            let row = *row.ok_or_else(|| MergeError::UnknownTarget {
                path: path.to_path_buf(),
                cell: cell_name(&cell.target, cell.check, vantage.as_deref()),
            })?;
            // A cell of a check the report does not list still gets its column: a cell is
            // never counted and left out of the matrix.
            if !self.columns.contains(&cell.check) {
                self.columns.push(cell.check);
            }
            self.cells.push(Cell { row, ..cell });
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
            interrupted: self.partial.map(|(signal, _)| signal),
        }
    }
}
