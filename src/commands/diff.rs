//! `mve-audit diff OLD.json NEW.json`: what changed between two audits, for a nightly job
//! that alerts on regressions only.

use std::path::Path;
use std::sync::Arc;

use super::merge::read;
use super::output::Output;
use super::{Outcome, RunError, wants_color};
use crate::cli::{DiffArgs, DiffFormat};
use crate::report::diff::{self, Diff, Keyed};
use crate::report::{Cell, ReportDocument, Style};

/// A report's cells with the vantage point each was seen from.
fn cells(report: ReportDocument<'static>) -> Vec<(Option<Arc<str>>, Cell)> {
    let vantages: Vec<(Arc<str>, Option<Arc<str>>)> = report
        .targets
        .iter()
        .map(|row| (row.target.clone(), row.vantage.clone()))
        .collect();
    report
        .cells
        .into_read()
        .into_iter()
        .map(|document| {
            let cell = document.cell.into_owned();
            // A merged report names each cell's vantage; a plain one its rows'.
            let vantage = document.vantage.map(|v| Arc::from(v.as_ref())).or_else(|| {
                vantages
                    .iter()
                    .find(|(target, _)| *target == cell.target)
                    .and_then(|(_, v)| v.clone())
            });
            (vantage, cell)
        })
        .collect()
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
    if let Some(signal) = partial {
        eprintln!(
            "mve-audit: {} is a partial report (interrupted by {signal}): its unfinished cells \
             are listed as unfinished, not compared, and the diff ends as that run did",
            name(&args.new)
        );
    }
    let (old_cells, new_cells) = (cells(old), cells(new));
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
