//! Verdict and fix hint of a finished probe, decided here before any renderer sees the cell:
//! renderers draw what they are given and decide nothing.

use std::collections::HashMap;
use std::sync::Arc;

use super::{Done, State, Unproven, Verdict, hints, is_required};
use crate::catalog::CheckId;

/// What a finished probe means for the run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Judged {
    pub required: bool,
    pub verdict: Verdict,
    /// What to fix; `None` for a pass.
    pub hint: Option<Arc<str>>,
    /// Why an `open` cell of a check that can verify its service did not.
    pub unproven: Option<Unproven>,
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
        let driver = check.path().driver;
        let verdict = Verdict::of(finding.state, required, driver, warning.is_some());
        let unproven = (finding.state == State::Open && driver.verifies())
            .then(|| finding.unproven.unwrap_or(Unproven::NotVerified));
        let hint = match (warning, verdict) {
            (_, Verdict::Pass) => None,
            // A driver's own words beat the state's generic hint, on an error cell too (a named
            // instance the Browser does not know is no routing problem of this host).
            (Some(warning), _)
                if matches!(finding.state, State::Verified | State::Open | State::Error) =>
            {
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
            unproven,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{CATALOG, Role};
    use crate::results::{Evidence, Finding};

    fn done(check: CheckId, finding: Finding) -> Done {
        Done {
            row: 0,
            label: "192.0.2.7".into(),
            role: Role::Printer,
            address: Some("192.0.2.7".parse().unwrap()),
            check,
            port: 1,
            finding,
        }
    }

    /// Every outbound check, for every way a port can answer without proving its service:
    /// a check that can verify never passes, says why, and points at the service; one that
    /// cannot (connect-only, no public format) keeps `open` as a pass.
    #[test]
    fn every_check_and_every_unproven_answer() {
        let reasons = [
            Unproven::WrongProtocol,
            Unproven::NoAnswer,
            Unproven::NoHandshake,
            Unproven::CutShort,
            Unproven::NotVerified,
        ];
        for path in CATALOG.iter().filter(|p| p.is_outbound()) {
            for why in reasons {
                let mut judge = Judge::new(&CheckId::ALL);
                let judged = judge.judge(&done(
                    path.check,
                    Finding::unproven(Evidence::new("TCP open, but …"), why),
                ));
                if path.driver.verifies() {
                    assert_eq!(judged.verdict, Verdict::Fail, "{} {why}", path.id_str);
                    assert_eq!(judged.unproven, Some(why), "{}", path.id_str);
                    let hint = judged.hint.unwrap_or_default();
                    assert!(hint.contains(path.short_name), "{}: {hint}", path.id_str);
                } else {
                    assert_eq!(judged.verdict, Verdict::Pass, "{} {why}", path.id_str);
                    assert_eq!(judged.unproven, None, "{}", path.id_str);
                }
            }
            // Verified passes everywhere; open without a reason from a verifying check still
            // fails, as "not verified".
            let mut judge = Judge::new(&CheckId::ALL);
            let verified = Finding::new(State::Verified, Evidence::new("answered"));
            assert_eq!(
                judge.judge(&done(path.check, verified)).verdict,
                Verdict::Pass
            );
            let bare = Finding::new(State::Open, Evidence::new("TCP handshake completed"));
            let judged = judge.judge(&done(path.check, bare));
            if path.driver.verifies() {
                assert_eq!(
                    judged.unproven,
                    Some(Unproven::NotVerified),
                    "{}",
                    path.id_str
                );
            }
        }
    }
}
