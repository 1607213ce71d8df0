//! What `mve-audit local` found: per port MVE needs, whether this host can own it and who
//! holds it. Made by `inbound::local`, drawn by `report`.

use serde::Serialize;

use super::Verdict;
use crate::catalog::Transport;
use crate::platform::ports::Holder;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LocalState {
    Free,
    InUse,
    NeedsPrivilege,
    Error,
}

impl LocalState {
    pub fn as_str(self) -> &'static str {
        match self {
            LocalState::Free => "free",
            LocalState::InUse => "in use",
            LocalState::NeedsPrivilege => "needs privilege",
            LocalState::Error => "error",
        }
    }
}

/// One port MVE needs and what this host says about it.
#[derive(Debug, Clone, Serialize)]
pub struct PortCheck {
    pub port: String,
    pub transport: Transport,
    pub number: u16,
    /// Why MVE needs it.
    pub role: String,
    pub state: LocalState,
    pub verdict: Verdict,
    pub holders: Vec<Holder>,
    pub summary: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct LocalReport {
    pub schema_version: u32,
    pub ports: Vec<PortCheck>,
    /// The OS's ephemeral range, when known.
    pub ephemeral_range: Option<(u16, u16)>,
    /// MVE's fixed ports that fall inside the ephemeral range.
    pub overlaps: Vec<String>,
}

impl LocalReport {
    pub fn worst(&self) -> Verdict {
        let overlap = if self.overlaps.is_empty() {
            Verdict::Pass
        } else {
            Verdict::Warn
        };
        self.ports
            .iter()
            .map(|p| p.verdict)
            .chain([overlap])
            .max()
            .unwrap_or(Verdict::Pass)
    }
}
