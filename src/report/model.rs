//! The matrix model: targets × checks, each cell with its state, verdict, evidence and fix
//! hint as `results` decided them; the summary counts; and conflicts between vantage points.
//! Every renderer reads these types, and `merge` reads them back from JSON.

use std::net::IpAddr;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::catalog::{CheckId, Role, Transport};
use crate::results::{Evidence, SecondLook, State, Unproven, Verdict};

/// A row of the matrix.
#[derive(Debug, Clone, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Serialize, Deserialize)]
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
    /// Why an `open` cell of a check that can verify its service did not.
    #[serde(rename = "reason", default, skip_serializing_if = "Option::is_none")]
    pub unproven: Option<Unproven>,
    /// Silent at first on a host that answered elsewhere, so probed again: what that found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub second_look: Option<SecondLook>,
    pub verdict: Verdict,
    /// Shared and possibly empty: a format that does not show a passing cell's evidence does
    /// not keep it (see `format::Keep`).
    pub evidence: Arc<Evidence>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<Arc<str>>,
    /// The host's own word on its security (the mDNS cell of a Lexmark printer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security: Option<crate::results::Security>,
}

impl Cell {
    /// The state as the matrix shows it: `open (wrong protocol)` for a port that answered
    /// without proving its service.
    pub fn state_text(&self) -> String {
        match self.unproven {
            Some(why) => format!("{} ({why})", self.state),
            None => self.state.to_string(),
        }
    }
}

/// The evidence of a cell whose evidence is not kept.
pub(crate) static NO_EVIDENCE: LazyLock<Arc<Evidence>> =
    LazyLock::new(|| Arc::new(Evidence::default()));

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub cells: usize,
    pub pass: usize,
    pub warn: usize,
    pub fail: usize,
    /// Planned cells a cut-short run did not finish; counted here, not as pass, warn or fail.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub unfinished: usize,
    /// Silent cells of hosts that answered elsewhere, probed a second time …
    #[serde(default, skip_serializing_if = "is_zero")]
    pub second_looks: usize,
    /// … and how many of them answered then: packets were lost on the way.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub answered_second: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// `1 cell`, `2 cells`.
pub(crate) fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

impl Summary {
    /// `40960 cells on 4096 targets: 22528 pass, 8192 warn, 10240 fail (21.1s)`.
    pub fn line(&self, targets: usize, duration: Duration) -> String {
        let unfinished = if self.unfinished > 0 {
            format!(", {} unfinished", self.unfinished)
        } else {
            String::new()
        };
        let path = self
            .path_text()
            .map(|t| format!("; {t}"))
            .unwrap_or_default();
        format!(
            "{} on {}: {} pass, {} warn, {} fail{unfinished} ({:.1}s){path}",
            count(self.cells, "cell", "cells"),
            count(targets, "target", "targets"),
            self.pass,
            self.warn,
            self.fail,
            duration.as_secs_f64()
        )
    }

    /// What the second looks say about the path, when there were any: `12 silent cells probed
    /// again, 3 answered: the path loses packets`.
    pub fn path_text(&self) -> Option<String> {
        if self.second_looks == 0 {
            return None;
        }
        let verdict = if self.answered_second > 0 {
            "the path loses packets"
        } else {
            "their silence stands"
        };
        Some(format!(
            "{} probed again, {} answered: {verdict}",
            count(self.second_looks, "silent cell", "silent cells"),
            self.answered_second
        ))
    }

    /// Counts a cell.
    pub fn count_cell(&mut self, cell: &Cell) {
        match cell.second_look {
            Some(SecondLook::Answered) => {
                self.second_looks += 1;
                self.answered_second += 1;
            }
            Some(SecondLook::SilentAgain) => self.second_looks += 1,
            None => {}
        }
        self.add(cell.state, cell.verdict);
    }

    pub fn add(&mut self, state: State, verdict: Verdict) {
        self.cells += 1;
        // A cell of either word has no verdict (a report from before `Verdict::Unfinished`
        // said `warn` of its unfinished cells).
        let verdict = if state == State::Unfinished {
            Verdict::Unfinished
        } else {
            verdict
        };
        match verdict {
            Verdict::Pass => self.pass += 1,
            Verdict::Warn => self.warn += 1,
            Verdict::Unfinished => self.unfinished += 1,
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
    /// The signal that cut the run short (`SIGINT`, `SIGTERM`): the report is partial, and
    /// every planned cell that did not finish is there as `unfinished`.
    pub interrupted: Option<crate::platform::signals::Interrupt>,
}

/// The banner a partial report starts with.
pub(crate) fn partial_text(signal: crate::platform::signals::Interrupt) -> String {
    format!(
        "PARTIAL REPORT: interrupted by {signal}; cells marked unfinished were not probed to the end"
    )
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
            summary.count_cell(cell);
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

    /// The vantage point `cell`'s row was probed from, when rows carry them.
    pub fn vantage_of(&self, cell: &Cell) -> Option<&str> {
        self.rows.get(cell.row).and_then(|r| r.vantage.as_deref())
    }

    /// The conflicts between vantage points; none (and nothing computed) when the rows carry
    /// no vantage.
    pub fn vantage_conflicts(&self) -> Vec<Conflict> {
        if self.has_vantages() {
            self.conflicts()
        } else {
            Vec::new()
        }
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
