//! Verdict and fix hint of a finished probe, decided here before any renderer sees the cell:
//! renderers draw what they are given and decide nothing.

use std::collections::HashMap;
use std::sync::Arc;

use super::{Done, State, Verdict, hints, is_required};
use crate::catalog::CheckId;

/// What a finished probe means for the run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Judged {
    pub required: bool,
    pub verdict: Verdict,
    /// What to fix; `None` for a pass.
    pub hint: Option<Arc<str>>,
}

/// Judges cells with the run's promotions, sharing each hint's text between cells.
#[derive(Debug, Default)]
pub struct Judge {
    promoted: Vec<CheckId>,
    /// Hints are the same text for every cell with the same cause: made once, shared.
    hints: HashMap<(CheckId, State, u16, bool), Arc<str>>,
}

impl Judge {
    /// `promoted`: the "some printers" checks this run requires.
    pub fn new(promoted: &[CheckId]) -> Judge {
        Judge {
            promoted: promoted.to_vec(),
            hints: HashMap::new(),
        }
    }

    pub fn judge(&mut self, done: &Done) -> Judged {
        let Done {
            address,
            check,
            port,
            finding,
            ..
        } = done;
        let (check, port, resolved) = (*check, *port, address.is_some());
        let required = is_required(check, &self.promoted);
        let warning = finding.warning.as_deref();
        let verdict = Verdict::of(
            finding.state,
            required,
            check.path().probe(),
            warning.is_some(),
        );
        let hint = match (warning, verdict) {
            (_, Verdict::Pass) => None,
            (Some(warning), _) if matches!(finding.state, State::Verified | State::Open) => {
                Some(Arc::from(warning))
            }
            _ => Some(
                self.hints
                    .entry((check, finding.state, port, resolved))
                    .or_insert_with(|| Arc::from(hints::hint(check, finding.state, port, resolved)))
                    .clone(),
            ),
        };
        Judged {
            required,
            verdict,
            hint,
        }
    }
}
