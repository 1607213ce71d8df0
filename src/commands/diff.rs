//! `mve-audit diff OLD.json NEW.json`: what changed between two audits, for a nightly job
//! that alerts on regressions only.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use super::merge::read;
use super::output::Output;
use super::{MergeError, Outcome, RunError, wants_color};
use crate::cli::{DiffArgs, DiffFormat};
use crate::report::diff::{self, Diff, Keyed};
use crate::report::{Cell, ReportDocument, Style, visible};

/// A report's cells with the vantage point each was seen from.
fn cells(report: ReportDocument<'static>) -> Vec<(Option<Arc<str>>, Cell)> {
    let vantages = report.cell_vantages();
    vantages
        .into_iter()
        .zip(report.cells.into_read())
        .map(|(vantage, document)| (vantage, document.cell.into_owned()))
        .collect()
}

/// The vantage points of a report's cells, as a message names them (`unnamed` for a run
/// without `--vantage`).
fn vantages(cells: &[(Option<Arc<str>>, Cell)]) -> BTreeSet<Option<&str>> {
    cells
        .iter()
        .map(|(vantage, _)| vantage.as_deref())
        .collect()
}

fn vantage_list(vantages: &BTreeSet<Option<&str>>) -> String {
    vantages
        .iter()
        .map(|v| v.map_or_else(|| "unnamed".to_string(), |v| visible(v).into_owned()))
        .collect::<Vec<_>>()
        .join(" + ")
}

/// Cells are compared by vantage point, target and check: two reports that share no vantage
/// point share no cell, and a diff of them would list every cell as appeared and disappeared.
fn same_place(
    old: &[(Option<Arc<str>>, Cell)],
    new: &[(Option<Arc<str>>, Cell)],
) -> Result<(), MergeError> {
    let (old, new) = (vantages(old), vantages(new));
    if old.is_disjoint(&new) {
        return Err(MergeError::DifferentVantages {
            old: vantage_list(&old),
            new: vantage_list(&new),
        });
    }
    Ok(())
}

fn keyed(cells: &[(Option<Arc<str>>, Cell)]) -> Vec<Keyed<'_>> {
    cells
        .iter()
        .map(|(vantage, cell)| Keyed {
            vantage: vantage.clone(),
            cell,
        })
        .collect()
}

fn name(path: &Path) -> String {
    path.display().to_string()
}

pub fn diff(args: &DiffArgs) -> Result<Outcome, RunError> {
    if args.old == Path::new("-") && args.new == Path::new("-") {
        return Err(RunError::Merge(super::MergeError::Read {
            path: args.new.clone(),
            source: std::io::Error::other("standard input can be read once: give - once"),
        }));
    }
    let old = read(&args.old)?;
    let new = read(&args.new)?;
    let partial = new.interrupted;
    let (old_cells, new_cells) = (cells(old), cells(new));
    same_place(&old_cells, &new_cells)?;
    if let Some(signal) = partial {
        eprintln!(
            "mve-audit: {} is a partial report (interrupted by {signal}): its unfinished cells \
             are listed as unfinished, not compared, and the diff ends as that run did",
            visible(&name(&args.new))
        );
    }
    let result = Diff::of(
        &name(&args.old),
        &keyed(&old_cells),
        &name(&args.new),
        &keyed(&new_cells),
    );
    let mut out = Output::open(args.output.as_deref())?;
    let terminal = out.is_terminal();
    let style = Style {
        color: wants_color(args.color, terminal),
        terminal,
        width: if terminal {
            super::terminal_size().map(|(w, _)| w)
        } else {
            None
        },
        ..Style::default()
    };
    match args.format {
        DiffFormat::Table => diff::write_table(&result, style, &mut out)?,
        DiffFormat::Json => diff::write_json(&result, &mut out)?,
        DiffFormat::Markdown => diff::write_markdown(&result, &mut out)?,
    }
    out.finish()?;
    // An unfinished audit has no verdict, so neither has a comparison with it: never 0 or 1,
    // however few cells got worse among those that finished.
    if let Some(signal) = partial {
        return Ok(Outcome::Interrupted(signal));
    }
    Ok(Outcome::of_run(result.regressions > 0))
}
