//! The matrix model (targets × checks with state, verdict, evidence and a fix hint) and one
//! renderer per output format. Renderers are pure: a matrix in, bytes out.

mod catalog;
mod collect;
mod csv;
pub mod fleet;
mod html;
mod json;
mod jsonl;
mod junit;
mod local;
mod markdown;
mod table;

use std::io::{self, Write};
use std::net::IpAddr;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use serde::Serialize;

use crate::catalog::{CheckId, Role, Transport};
use crate::results::{Evidence, State, Verdict};

pub use catalog::{render_catalog_json, render_catalog_table};
pub use collect::{CellMaker, Collector, Sink, Streamer};
pub use local::{render_local_json, render_local_table};

/// Bumped whenever a field of the JSON report changes meaning or disappears.
pub const SCHEMA_VERSION: u32 = 1;

/// The output formats of `check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    Jsonl,
    Csv,
    Junit,
    Markdown,
    Html,
}

impl Format {
    pub const ALL: [Format; 7] = [
        Format::Table,
        Format::Json,
        Format::Jsonl,
        Format::Csv,
        Format::Junit,
        Format::Markdown,
        Format::Html,
    ];

    /// The name a user writes.
    pub fn name(self) -> &'static str {
        match self {
            Format::Table => "table",
            Format::Json => "json",
            Format::Jsonl => "jsonl",
            Format::Csv => "csv",
            Format::Junit => "junit",
            Format::Markdown => "markdown",
            Format::Html => "html",
        }
    }

    /// What the format is for, for `--help`.
    pub fn help(self) -> &'static str {
        match self {
            Format::Table => "A matrix for people, coloured on a terminal",
            Format::Json => "The full results, for programs",
            Format::Jsonl => "One JSON object per cell and a summary line, for log pipelines",
            Format::Csv => "One row per cell, for spreadsheets",
            Format::Junit => "JUnit XML, one test case per cell, for CI systems",
            Format::Markdown => "A Markdown table and the failures, for tickets",
            Format::Html => "One self-contained HTML page: summary, matrix, evidence and fixes",
        }
    }
}

/// The formats of `catalog` and `local`, whose output is a list, not a matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListFormat {
    Table,
    Json,
}

impl ListFormat {
    pub const ALL: [ListFormat; 2] = [ListFormat::Table, ListFormat::Json];

    /// The name a user writes.
    pub fn name(self) -> &'static str {
        match self {
            ListFormat::Table => "table",
            ListFormat::Json => "json",
        }
    }
}

/// How a report is drawn.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Style {
    pub color: bool,
    /// Drawing for a terminal: wrap to its width.
    pub terminal: bool,
    /// List passing cells' evidence too.
    pub details: bool,
    /// The per-check counts and the failures grouped by cause instead of the matrix.
    pub summary: bool,
    /// The terminal's width, when it reports a usable one.
    pub width: Option<u16>,
}

impl Style {
    /// A table drawn the project's way: condensed box drawing, wrapped to a terminal's width,
    /// coloured only when asked.
    pub(crate) fn table(self) -> comfy_table::Table {
        let mut table = comfy_table::Table::new();
        table.load_style(comfy_table::presets::UTF8_FULL_CONDENSED);
        if self.color {
            table.enforce_styling();
        } else {
            table.force_no_tty();
        }
        // A terminal that reports no usable width (0×0 over some serial consoles) would wrap
        // every column to one character: draw at natural width then.
        match self.width {
            Some(width) if self.terminal && width >= 40 => {
                table.set_content_arrangement(comfy_table::ContentArrangement::Dynamic);
                table.set_width(width);
            }
            _ => {
                table.set_content_arrangement(comfy_table::ContentArrangement::Disabled);
            }
        }
        table
    }
}

/// A row of the matrix.
#[derive(Debug, Clone, Serialize)]
pub struct TargetRow {
    /// The target as the user wrote it (`printer1`, `192.0.2.7`, `mail:2525`).
    pub target: Arc<str>,
    pub role: Role,
    /// The address probed; `null` when the name did not resolve.
    pub address: Option<IpAddr>,
    /// Where the run was made from (`check --vantage`, or the report a `merge` read).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vantage: Option<Arc<str>>,
}

/// One filled cell.
#[derive(Debug, Clone, Serialize)]
pub struct Cell {
    #[serde(skip)]
    pub row: usize,
    pub target: Arc<str>,
    pub address: Option<IpAddr>,
    pub check: CheckId,
    pub transport: Transport,
    pub port: u16,
    pub required: bool,
    pub state: State,
    pub verdict: Verdict,
    /// Shared and possibly empty: a format that does not show a passing cell's evidence does
    /// not keep it (see `collect::Keep`).
    pub evidence: Arc<Evidence>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<Arc<str>>,
}

/// The evidence of a cell whose evidence is not kept.
pub(crate) static NO_EVIDENCE: LazyLock<Arc<Evidence>> =
    LazyLock::new(|| Arc::new(Evidence::default()));

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub cells: usize,
    pub pass: usize,
    pub warn: usize,
    pub fail: usize,
}

/// `1 cell`, `2 cells`.
pub(crate) fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

impl Summary {
    /// `40960 cells on 4096 targets: 22528 pass, 8192 warn, 10240 fail (21.1s)`.
    pub fn line(&self, targets: usize, duration: Duration) -> String {
        format!(
            "{} on {}: {} pass, {} warn, {} fail ({:.1}s)",
            count(self.cells, "cell", "cells"),
            count(targets, "target", "targets"),
            self.pass,
            self.warn,
            self.fail,
            duration.as_secs_f64()
        )
    }

    pub fn add(&mut self, verdict: Verdict) {
        self.cells += 1;
        match verdict {
            Verdict::Pass => self.pass += 1,
            Verdict::Warn => self.warn += 1,
            Verdict::Fail => self.fail += 1,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Matrix {
    pub rows: Vec<TargetRow>,
    pub columns: Vec<CheckId>,
    pub cells: Vec<Cell>,
    pub duration: Duration,
    /// The signal that cut the run short (`SIGINT`, `SIGTERM`): the report is partial, and a
    /// cell that is missing was not probed.
    pub interrupted: Option<crate::platform::signals::Interrupt>,
}

/// The banner a partial report starts with.
pub(crate) fn partial_text(signal: crate::platform::signals::Interrupt) -> String {
    format!("PARTIAL REPORT: interrupted by {signal}; cells not shown were not probed")
}

impl Matrix {
    /// Where each cell sits: `grid[row * columns + column]` is its index in `cells`.
    pub fn grid(&self) -> Vec<Option<usize>> {
        let width = self.columns.len();
        let mut grid = vec![None; self.rows.len() * width];
        for (index, cell) in self.cells.iter().enumerate() {
            if let Some(col) = self.columns.iter().position(|c| *c == cell.check)
                && let Some(slot) = grid.get_mut(cell.row * width + col)
            {
                *slot = Some(index);
            }
        }
        grid
    }

    pub fn summary(&self) -> Summary {
        let mut summary = Summary::default();
        for cell in &self.cells {
            summary.add(cell.verdict);
        }
        summary
    }

    /// The peer port `check` was probed on (its first cell's; a column has one port, or an
    /// override per run). Cells are in row order, so the first row finds it.
    pub fn port_of(&self, check: CheckId) -> u16 {
        self.cells
            .iter()
            .find(|c| c.check == check)
            .map_or(0, |c| c.port)
    }

    /// Names the vantage point every row was probed from.
    pub fn with_vantage(mut self, vantage: Option<&str>) -> Matrix {
        if let Some(name) = vantage {
            let name: Arc<str> = Arc::from(name);
            for row in &mut self.rows {
                row.vantage = Some(name.clone());
            }
        }
        self
    }

    /// Whether rows carry vantage points (a merged matrix).
    pub fn has_vantages(&self) -> bool {
        self.rows.iter().any(|r| r.vantage.is_some())
    }

    /// Cells of one target and check that disagree between vantage points: for each, the
    /// target, the check, and every vantage with its state.
    pub fn conflicts(&self) -> Vec<Conflict> {
        let mut seen: std::collections::BTreeMap<(&str, CheckId), Vec<(&str, State)>> =
            std::collections::BTreeMap::new();
        for cell in &self.cells {
            let vantage = self
                .rows
                .get(cell.row)
                .and_then(|r| r.vantage.as_deref())
                .unwrap_or("");
            seen.entry((&cell.target, cell.check))
                .or_default()
                .push((vantage, cell.state));
        }
        seen.into_iter()
            .filter(|(_, states)| states.iter().any(|(_, s)| *s != states[0].1))
            .map(|((target, check), states)| Conflict {
                target: target.to_string(),
                check,
                states: states
                    .into_iter()
                    .map(|(v, s)| (v.to_string(), s))
                    .collect(),
            })
            .collect()
    }

    /// Renders in `format`.
    pub fn render(&self, format: Format, style: Style, out: &mut dyn Write) -> io::Result<()> {
        renderer(format).render(self, style, out)
    }

    /// The rows with a cell that did not pass, and only their cells.
    pub fn failures_only(&self) -> Matrix {
        let mut keep = vec![false; self.rows.len()];
        for cell in self.cells.iter().filter(|c| c.verdict != Verdict::Pass) {
            if let Some(k) = keep.get_mut(cell.row) {
                *k = true;
            }
        }
        let mut new_index = vec![usize::MAX; self.rows.len()];
        let mut rows = Vec::new();
        for (index, row) in self.rows.iter().enumerate() {
            if keep[index] {
                new_index[index] = rows.len();
                rows.push(row.clone());
            }
        }
        let cells = self
            .cells
            .iter()
            .filter(|c| keep.get(c.row) == Some(&true))
            .map(|c| Cell {
                row: new_index[c.row],
                ..c.clone()
            })
            .collect();
        Matrix {
            rows,
            columns: self.columns.clone(),
            cells,
            duration: self.duration,
            interrupted: self.interrupted,
        }
    }
}

/// One target and check seen differently from two vantage points.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Conflict {
    pub target: String,
    pub check: CheckId,
    pub states: Vec<(String, State)>,
}

impl Conflict {
    /// `CONFLICT 192.0.2.7 snmp: site-a open, site-b filtered`.
    pub fn line(&self) -> String {
        let states: Vec<String> = self
            .states
            .iter()
            .map(|(vantage, state)| format!("{vantage} {state}"))
            .collect();
        format!(
            "CONFLICT {} {}: {}",
            self.target,
            self.check,
            states.join(", ")
        )
    }
}

/// One renderer per format: pure, from a matrix and a style to bytes.
pub trait Render {
    fn render(&self, matrix: &Matrix, style: Style, out: &mut dyn Write) -> io::Result<()>;
}

/// The renderer of `format`.
pub fn renderer(format: Format) -> &'static dyn Render {
    match format {
        Format::Table => &table::Table,
        Format::Json => &json::Json,
        Format::Jsonl => &jsonl::Jsonl,
        Format::Csv => &csv::Csv,
        Format::Junit => &junit::Junit,
        Format::Markdown => &markdown::Markdown,
        Format::Html => &html::Html,
    }
}

#[cfg(test)]
mod tests;
