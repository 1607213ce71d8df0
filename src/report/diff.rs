//! Two reports compared cell by cell, as nmap's `ndiff` compares scans: which paths got worse,
//! which got better, which changed state with the same verdict, which appeared or
//! disappeared. A cell is named by its vantage point, target and check; its verdict orders
//! it (pass < warn < fail). Pure: `commands::diff` reads the files and picks the exit code.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::sync::Arc;

use serde::Serialize;

use super::model::Cell;
use super::style::Style;
use super::text::{markdown, visible};
use crate::catalog::{CheckId, Transport};
use crate::results::{State, Verdict};

/// How a cell moved between the two reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Change {
    /// Its verdict is worse (pass → warn, warn → fail, pass → fail).
    Worse,
    /// In the new report only.
    Appeared,
    /// In the old report only.
    Disappeared,
    /// The new report did not finish it (an interrupted run): no verdict to compare.
    Unfinished,
    /// Same verdict, another state or reason (`open` → `open (no answer)` as a warning both).
    Changed,
    /// Its verdict is better.
    Better,
}

impl Change {
    pub fn as_str(self) -> &'static str {
        match self {
            Change::Worse => "worse",
            Change::Better => "better",
            Change::Changed => "changed",
            Change::Appeared => "appeared",
            Change::Disappeared => "disappeared",
            Change::Unfinished => "unfinished",
        }
    }
}

/// One side of a changed cell.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Side {
    pub state: State,
    /// The state as the matrix shows it (`open (wrong protocol)`).
    pub shown: String,
    pub verdict: Verdict,
    pub required: bool,
    pub evidence: String,
}

impl Side {
    fn of(cell: &Cell) -> Side {
        Side {
            state: cell.state,
            shown: cell.state_text(),
            verdict: cell.verdict,
            required: cell.required,
            evidence: cell.evidence.summary.clone(),
        }
    }
}

/// A cell that is not the same in both reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CellChange {
    pub change: Change,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vantage: Option<Arc<str>>,
    pub target: Arc<str>,
    pub check: CheckId,
    pub transport: Transport,
    pub port: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old: Option<Side>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new: Option<Side>,
}

impl CellChange {
    /// A path MVE requires got worse: what a nightly job alerts on.
    pub fn is_regression(&self) -> bool {
        self.change == Change::Worse && self.new.as_ref().is_some_and(|n| n.required)
    }
}

/// The comparison of two reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diff {
    pub old: String,
    pub new: String,
    /// Changed cells, worst first, then by target and check.
    pub changes: Vec<CellChange>,
    pub counts: BTreeMap<Change, usize>,
    pub unchanged: usize,
    /// Required cells that got worse.
    pub regressions: usize,
}

/// A cell as the diff keys it.
pub struct Keyed<'a> {
    pub vantage: Option<Arc<str>>,
    pub cell: &'a Cell,
}

type Key = (Option<Arc<str>>, Arc<str>, CheckId);

impl Diff {
    /// Compares the cells of `old` and `new` (named for the output).
    pub fn of(old_name: &str, old: &[Keyed<'_>], new_name: &str, new: &[Keyed<'_>]) -> Diff {
        let key =
            |k: &Keyed<'_>| -> Key { (k.vantage.clone(), k.cell.target.clone(), k.cell.check) };
        let before: BTreeMap<Key, &Keyed<'_>> = old.iter().map(|k| (key(k), k)).collect();
        let after: BTreeMap<Key, &Keyed<'_>> = new.iter().map(|k| (key(k), k)).collect();
        let mut changes = Vec::new();
        let mut unchanged = 0;
        let make =
            |change: Change, k: &Keyed<'_>, old: Option<&Cell>, new: Option<&Cell>| CellChange {
                change,
                vantage: k.vantage.clone(),
                target: k.cell.target.clone(),
                check: k.cell.check,
                transport: k.cell.transport,
                port: k.cell.port,
                old: old.map(Side::of),
                new: new.map(Side::of),
            };
        for (id, was) in &before {
            match after.get(id) {
                None => changes.push(make(Change::Disappeared, was, Some(was.cell), None)),
                Some(now) => {
                    let (a, b) = (was.cell, now.cell);
                    let change = if b.state == State::Unfinished && a.state != State::Unfinished {
                        Some(Change::Unfinished)
                    } else if rank(b.verdict) > rank(a.verdict) {
                        Some(Change::Worse)
                    } else if rank(b.verdict) < rank(a.verdict) {
                        Some(Change::Better)
                    } else if a.state != b.state || a.unproven != b.unproven || a.port != b.port {
                        Some(Change::Changed)
                    } else {
                        None
                    };
                    match change {
                        Some(change) => changes.push(make(change, now, Some(a), Some(b))),
                        None => unchanged += 1,
                    }
                }
            }
        }
        for (id, now) in &after {
            if !before.contains_key(id) {
                changes.push(make(Change::Appeared, now, None, Some(now.cell)));
            }
        }
        changes.sort_by(|a, b| {
            (a.change, &a.target, &a.vantage, a.check)
                .cmp(&(b.change, &b.target, &b.vantage, b.check))
        });
        let mut counts = BTreeMap::new();
        for change in &changes {
            *counts.entry(change.change).or_insert(0) += 1;
        }
        let regressions = changes.iter().filter(|c| c.is_regression()).count();
        Diff {
            old: old_name.to_string(),
            new: new_name.to_string(),
            changes,
            counts,
            unchanged,
            regressions,
        }
    }

    /// `2 worse (1 required), 1 better, 3 unchanged`.
    pub fn line(&self) -> String {
        let mut parts = Vec::new();
        for (change, count) in &self.counts {
            if *change == Change::Worse {
                parts.push(format!("{count} worse ({} required)", self.regressions));
            } else {
                parts.push(format!("{count} {}", change.as_str()));
            }
        }
        parts.push(format!("{} unchanged", self.unchanged));
        parts.join(", ")
    }
}

/// How good a verdict is, for comparing two. A cell the old report did not finish had no
/// verdict: a failure now counts as worse (a nightly job alerts on it), a pass as better, and
/// a warning as a change, as if it had warned.
fn rank(verdict: Verdict) -> u8 {
    match verdict {
        Verdict::Pass => 0,
        Verdict::Warn | Verdict::Unfinished => 1,
        Verdict::Fail => 2,
    }
}

fn side_text(side: Option<&Side>) -> String {
    match side {
        Some(side) => format!("{} ({})", side.shown, side.verdict.as_str()),
        None => "—".to_string(),
    }
}

fn place(change: &CellChange) -> String {
    let at = change
        .vantage
        .as_deref()
        .map(|v| format!(" @ {v}"))
        .unwrap_or_default();
    format!("{}{at}", change.target)
}

/// The table for people.
pub fn write_table(diff: &Diff, style: Style, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "{} → {}", visible(&diff.old), visible(&diff.new))?;
    if diff.changes.is_empty() {
        writeln!(out, "No cell changed ({} compared).", diff.unchanged)?;
        return Ok(());
    }
    let mut table = style.table();
    table.set_header(["change", "target", "check", "port", "before", "after"]);
    for change in &diff.changes {
        let label = change.change.as_str();
        let label = if change.is_regression() {
            format!("{label} (required)")
        } else {
            label.to_string()
        };
        table.add_row([
            label,
            visible(&place(change)).into_owned(),
            change.check.to_string(),
            format!("{}/{}", change.transport, change.port),
            side_text(change.old.as_ref()),
            side_text(change.new.as_ref()),
        ]);
    }
    writeln!(out, "{table}")?;
    for change in diff.changes.iter().filter(|c| c.change == Change::Worse) {
        if let Some(new) = &change.new {
            writeln!(
                out,
                "{} {} {}: {}",
                change.change.as_str().to_uppercase(),
                visible(&place(change)),
                change.check,
                visible(&new.evidence)
            )?;
        }
    }
    writeln!(out, "\n{}", diff.line())
}

/// The same as Markdown, for a ticket.
pub fn write_markdown(diff: &Diff, out: &mut dyn Write) -> io::Result<()> {
    let cell = markdown;
    writeln!(out, "## mve-audit diff\n")?;
    writeln!(
        out,
        "{} → {}: {}\n",
        cell(&diff.old),
        cell(&diff.new),
        diff.line()
    )?;
    if diff.changes.is_empty() {
        return Ok(());
    }
    writeln!(out, "| change | target | check | port | before | after |")?;
    writeln!(out, "|---|---|---|---|---|---|")?;
    for change in &diff.changes {
        let label = if change.is_regression() {
            format!("**{} (required)**", change.change.as_str())
        } else {
            change.change.as_str().to_string()
        };
        writeln!(
            out,
            "| {label} | {} | {} | {}/{} | {} | {} |",
            cell(&place(change)),
            change.check,
            change.transport,
            change.port,
            cell(&side_text(change.old.as_ref())),
            cell(&side_text(change.new.as_ref()))
        )?;
    }
    Ok(())
}

/// For programs.
pub fn write_json(diff: &Diff, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, diff)?;
    writeln!(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::Evidence;

    fn cell(target: &str, check: CheckId, state: State, verdict: Verdict) -> Cell {
        Cell {
            row: 0,
            target: Arc::from(target),
            address: None,
            check,
            transport: check.path().transport,
            port: 9100,
            required: true,
            state,
            unproven: None,
            second_look: None,
            verdict,
            evidence: Arc::new(Evidence::new(format!("{state}"))),
            hint: None,
            security: None,
        }
    }

    fn keyed(cells: &[Cell]) -> Vec<Keyed<'_>> {
        cells
            .iter()
            .map(|cell| Keyed {
                vantage: None,
                cell,
            })
            .collect()
    }

    #[test]
    fn each_kind_of_change_is_found_and_only_required_worse_is_a_regression() {
        let old = [
            cell("a", CheckId::Raw, State::Open, Verdict::Pass),
            cell("a", CheckId::Http, State::Closed, Verdict::Fail),
            cell("a", CheckId::Snmp, State::OpenFiltered, Verdict::Warn),
            cell("b", CheckId::Raw, State::Open, Verdict::Pass),
            cell("c", CheckId::Raw, State::Open, Verdict::Pass),
            cell("d", CheckId::Raw, State::Open, Verdict::Pass),
        ];
        let mut optional = cell("a", CheckId::Https, State::Closed, Verdict::Warn);
        optional.required = false;
        let new = [
            cell("a", CheckId::Raw, State::Closed, Verdict::Fail),
            cell("a", CheckId::Http, State::Verified, Verdict::Pass),
            cell("a", CheckId::Snmp, State::Open, Verdict::Warn),
            cell("c", CheckId::Raw, State::Open, Verdict::Pass),
            cell("d", CheckId::Raw, State::Unfinished, Verdict::Fail),
            optional,
        ];
        let diff = Diff::of("old.json", &keyed(&old), "new.json", &keyed(&new));
        let kinds: Vec<(String, CheckId, Change)> = diff
            .changes
            .iter()
            .map(|c| (c.target.to_string(), c.check, c.change))
            .collect();
        assert_eq!(
            kinds,
            [
                ("a".to_string(), CheckId::Raw, Change::Worse),
                ("a".to_string(), CheckId::Https, Change::Appeared),
                ("b".to_string(), CheckId::Raw, Change::Disappeared),
                ("d".to_string(), CheckId::Raw, Change::Unfinished),
                ("a".to_string(), CheckId::Snmp, Change::Changed),
                ("a".to_string(), CheckId::Http, Change::Better),
            ]
        );
        assert_eq!(diff.unchanged, 1);
        assert_eq!(diff.regressions, 1);
        assert!(
            diff.line().starts_with("1 worse (1 required)"),
            "{}",
            diff.line()
        );
    }

    #[test]
    fn the_same_report_has_no_change() {
        let cells = [cell("a", CheckId::Raw, State::Open, Verdict::Pass)];
        let diff = Diff::of("x", &keyed(&cells), "x", &keyed(&cells));
        assert!(diff.changes.is_empty());
        let mut out = Vec::new();
        write_table(&diff, Style::default(), &mut out).unwrap();
        assert!(
            String::from_utf8(out)
                .unwrap()
                .contains("No cell changed (1 compared)")
        );
    }
}
