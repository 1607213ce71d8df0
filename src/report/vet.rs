//! What a report read back (`merge`, `diff`) must be before it is believed: it holds cells,
//! each cell once, and only a run that says it was cut short holds unfinished ones. A report
//! that breaks these was edited or put together by hand; drawing it anyway would show a
//! matrix that means something else than its file says.

use std::collections::HashMap;
use std::sync::Arc;

use super::json::ReportDocument;
use super::text::visible;
use crate::catalog::CheckId;
use crate::results::{State, Verdict};

/// Why a report read back cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Flaw {
    #[error("the report holds no cell: there is nothing in it to merge or compare")]
    Empty,
    #[error(
        "the cell {cell} is there twice ({first}, then {second}): a report holds each cell \
         once, so this one was edited or put together by hand"
    )]
    Twice {
        cell: String,
        first: State,
        second: State,
    },
    #[error(
        "the cell {cell} is unfinished, but the report does not say its run was interrupted \
         (no \"interrupted\")"
    )]
    UnfinishedNotPartial { cell: String },
    #[error(
        "the cell {cell} is {state} with the verdict unfinished: only an unfinished cell has none"
    )]
    NoVerdict { cell: String, state: State },
    #[error(
        "the cell {cell} is {state} and {required}, which the verdict rule makes {expected}, \
         yet it says {verdict}: the report was edited"
    )]
    Contradicts {
        cell: String,
        state: State,
        required: &'static str,
        expected: String,
        verdict: Verdict,
    },
}

/// What names a cell: its vantage point, target and check (as `diff` keys it; the port and a
/// SQL Server instance are part of the target as written, and a check has one row per
/// target).
type CellKey = (Option<Arc<str>>, Arc<str>, CheckId);

/// `192.0.2.7 snmp @ site-a`, shown `visible`.
pub fn cell_name(target: &str, check: CheckId, vantage: Option<&str>) -> String {
    let at = vantage
        .map(|v| format!(" @ {}", visible(v)))
        .unwrap_or_default();
    format!("{} {check}{at}", visible(target))
}

impl ReportDocument<'_> {
    /// The vantage point of each cell read (its own, else its row's), in order. A cell names
    /// its vantage in a merged report; a plain report's rows name theirs.
    pub fn cell_vantages(&self) -> Vec<Option<Arc<str>>> {
        let rows: HashMap<&str, Option<&Arc<str>>> = self
            .targets
            .iter()
            .rev()
            .map(|row| (&*row.target, row.vantage.as_ref()))
            .collect();
        self.cells
            .read()
            .iter()
            .map(|doc| match &doc.vantage {
                Some(v) => Some(Arc::from(v.as_ref())),
                None => rows.get(&*doc.cell.target).copied().flatten().cloned(),
            })
            .collect()
    }

    /// Checks the report read back, and reads an older report's unfinished cells (which said
    /// `warn`) as having no verdict.
    pub fn vet(&mut self) -> Result<(), Flaw> {
        let vantages = self.cell_vantages();
        let partial = self.interrupted.is_some();
        let cells = self.cells.read_mut();
        if cells.is_empty() {
            return Err(Flaw::Empty);
        }
        let mut seen: HashMap<CellKey, State> = HashMap::new();
        for (doc, vantage) in cells.iter_mut().zip(vantages) {
            let cell = doc.cell.to_mut();
            let name = || cell_name(&cell.target, cell.check, vantage.as_deref());
            let key = (vantage.clone(), cell.target.clone(), cell.check);
            if let Some(first) = seen.insert(key, cell.state) {
                return Err(Flaw::Twice {
                    cell: name(),
                    first,
                    second: cell.state,
                });
            }
            match (cell.state, cell.verdict) {
                (State::Unfinished, _) if !partial => {
                    return Err(Flaw::UnfinishedNotPartial { cell: name() });
                }
                (State::Unfinished, _) => cell.verdict = Verdict::Unfinished,
                (state, Verdict::Unfinished) => {
                    return Err(Flaw::NoVerdict {
                        cell: name(),
                        state,
                    });
                }
                // The verdict follows from the state, whether the path is required and what
                // its driver can prove; only whether a warning was given is not in the file.
                (state, verdict) => {
                    let driver = cell.check.path().driver;
                    let plain = Verdict::of(state, cell.required, driver, false);
                    let warned = Verdict::of(state, cell.required, driver, true);
                    if verdict != plain && verdict != warned {
                        return Err(Flaw::Contradicts {
                            cell: name(),
                            state,
                            required: if cell.required {
                                "required"
                            } else {
                                "not required"
                            },
                            expected: if plain == warned {
                                plain.to_string()
                            } else {
                                format!("{plain} or {warned}")
                            },
                            verdict,
                        });
                    }
                }
            }
        }
        Ok(())
    }
}
