//! Results at fleet size: per-check counts, a diagnosis per host, and the failures grouped by
//! identical cause with their addresses compressed into ranges, so 4,096 printers read as a
//! dozen lines. Every renderer that summarises (table, markdown, html) takes it from here.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;

use serde::Serialize;

use super::model::{Cell, Matrix};
use crate::catalog::{CheckId, Role, Transport};
use crate::results::{State, Unproven, Verdict};

/// What one host's cells say about the host itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum HostDiagnosis {
    /// Nothing answered on any path: no reset, no ICMP error, no reply.
    Dark,
    /// Every TCP port reset and every UDP port unreachable: the host is up, no MVE service on.
    AllOff,
}

impl HostDiagnosis {
    /// The sentence the summary shows, worded from the checks that ran: "every MVE service"
    /// only when every printer check ran, else the checks by name.
    pub fn text(self, role: Role, checked: &[CheckId]) -> String {
        let every = role == Role::Printer
            && CheckId::ALL
                .iter()
                .filter(|c| c.path().role == Role::Printer && c.path().is_outbound())
                .all(|c| checked.contains(c));
        let names = checked
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        match self {
            HostDiagnosis::Dark if every => {
                "no answer on any port: host down, wrong address, or everything dropped on the way"
                    .to_string()
            }
            HostDiagnosis::Dark => format!(
                "no answer on any port checked ({names}): host down, wrong address, or \
                 everything dropped on the way"
            ),
            HostDiagnosis::AllOff => {
                let tcp = checked.iter().any(|c| c.path().transport == Transport::Tcp);
                let udp = checked.iter().any(|c| c.path().transport == Transport::Udp);
                let how = match (tcp, udp) {
                    (true, true) => "TCP reset, UDP port unreachable",
                    (true, false) => "TCP reset",
                    _ => "UDP port unreachable",
                };
                if every {
                    format!("up, every MVE service off ({how})")
                } else {
                    format!("up, every port checked is closed: {names} ({how})")
                }
            }
        }
    }

    /// The fix for a host whose every path says the same thing.
    pub fn hint(self) -> &'static str {
        match self {
            HostDiagnosis::Dark => {
                "Check that the host is on and its address is right, then the route and every \
                 firewall between this server and it: not one port answered, not even with a \
                 reset."
            }
            HostDiagnosis::AllOff => {
                "The host answers but every port checked is closed: enable those services \
                 on the device (SNMP, HTTP/HTTPS, the Lexmark services), or check that this \
                 is the right address."
            }
        }
    }

    /// A host's cells, when they say one thing about the host. One path is not enough to
    /// speak of the host.
    pub fn of(cells: &[&Cell]) -> Option<HostDiagnosis> {
        let resolved = cells.iter().all(|c| c.address.is_some());
        if cells.len() < 2 || !resolved {
            return None;
        }
        let all = |states: &[State]| cells.iter().all(|c| states.contains(&c.state));
        if all(&[State::Filtered, State::OpenFiltered]) {
            Some(HostDiagnosis::Dark)
        } else if all(&[State::Closed]) {
            Some(HostDiagnosis::AllOff)
        } else {
            None
        }
    }
}

/// Counts for one check (one column).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CheckCounts {
    pub check: Option<CheckId>,
    /// Cells by state, in the order states are listed (verified first).
    pub states: BTreeMap<State, usize>,
    pub pass: usize,
    pub warn: usize,
    pub fail: usize,
}

/// One group of hosts that did not pass for the same reason.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Group {
    pub role: Role,
    /// The vantage point of a merged report's rows.
    pub vantage: Option<Arc<str>>,
    pub hosts: usize,
    /// Addresses as ranges (`10.77.17.0–10.77.17.255`) and names as written.
    pub ranges: Vec<String>,
    /// The host-level reason, when there is one.
    pub diagnosis: Option<HostDiagnosis>,
    /// The checks the diagnosis speaks of (those that ran on the host).
    pub checked: Vec<CheckId>,
    /// Otherwise the paths that failed or warned, and how.
    pub causes: Vec<(CheckId, State, Option<Unproven>, Verdict)>,
    /// The fix hints of those paths, each once.
    pub fixes: Vec<Arc<str>>,
    /// The worst verdict in the group.
    pub verdict: Verdict,
}

impl Group {
    /// `256 printers 10.77.17.0–10.77.17.255: snmp open|filtered, raw filtered`.
    pub fn headline(&self) -> String {
        let noun = match (self.role, self.hosts) {
            (Role::Printer, 1) => "printer".to_string(),
            (Role::Printer, _) => "printers".to_string(),
            (role, 1) => format!("{role} server"),
            (role, _) => format!("{role} servers"),
        };
        let what = match self.diagnosis {
            Some(diagnosis) => diagnosis.text(self.role, &self.checked),
            None => self
                .causes
                .iter()
                .map(|(check, state, unproven, _)| match unproven {
                    Some(why) => format!("{check} {state} ({why})"),
                    None => format!("{check} {state}"),
                })
                .collect::<Vec<_>>()
                .join(", "),
        };
        let at = self
            .vantage
            .as_deref()
            .map(|v| format!(" @ {v}"))
            .unwrap_or_default();
        format!(
            "{} {noun} {}{at}: {what}",
            self.hosts,
            self.ranges.join(", ")
        )
    }
}

/// The summary of a matrix.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FleetSummary {
    pub by_check: Vec<CheckCounts>,
    pub groups: Vec<Group>,
    /// Hosts whose every cell passed.
    pub healthy: usize,
}

impl FleetSummary {
    pub fn of(matrix: &Matrix) -> FleetSummary {
        let by_check = matrix
            .columns
            .iter()
            .map(|check| counts(*check, matrix.cells.iter().filter(|c| c.check == *check)))
            .collect();
        let mut by_row: Vec<Vec<&Cell>> = vec![Vec::new(); matrix.rows.len()];
        for cell in &matrix.cells {
            if let Some(cells) = by_row.get_mut(cell.row) {
                cells.push(cell);
            }
        }
        let mut groups: BTreeMap<GroupKey, Members> = BTreeMap::new();
        let mut healthy = 0;
        for (row, cells) in matrix.rows.iter().zip(&by_row) {
            if cells.iter().all(|c| c.verdict == Verdict::Pass) {
                healthy += usize::from(!cells.is_empty());
                continue;
            }
            let diagnosis = HostDiagnosis::of(cells);
            let causes = match diagnosis {
                Some(_) => Vec::new(),
                None => cells
                    .iter()
                    .filter(|c| c.verdict != Verdict::Pass)
                    .map(|c| (c.check, c.state, c.unproven, c.verdict))
                    .collect(),
            };
            let checked = match diagnosis {
                Some(_) => cells.iter().map(|c| c.check).collect(),
                None => Vec::new(),
            };
            let key = GroupKey {
                role: row.role,
                vantage: row.vantage.clone(),
                diagnosis,
                checked,
                causes,
            };
            let members = groups.entry(key).or_default();
            // Addresses as written (or from a range) compress into ranges; names stay names.
            match row.address {
                Some(address) if row.target.parse::<IpAddr>().is_ok() => {
                    members.addresses.push(address)
                }
                _ => members.names.push(row.target.clone()),
            }
            for cell in cells.iter().filter(|c| c.verdict != Verdict::Pass) {
                if let Some(hint) = &cell.hint
                    && diagnosis.is_none()
                    && !members.fixes.contains(hint)
                {
                    members.fixes.push(hint.clone());
                }
                members.verdict = members.verdict.max(cell.verdict);
            }
        }
        let mut groups: Vec<Group> = groups
            .into_iter()
            .map(|(key, members)| members.into_group(key))
            .collect();
        groups.sort_by(|a, b| b.verdict.cmp(&a.verdict).then(b.hosts.cmp(&a.hosts)));
        FleetSummary {
            by_check,
            groups,
            healthy,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct GroupKey {
    role: Role,
    vantage: Option<Arc<str>>,
    diagnosis: Option<HostDiagnosis>,
    checked: Vec<CheckId>,
    causes: Vec<(CheckId, State, Option<Unproven>, Verdict)>,
}

#[derive(Debug, Default)]
struct Members {
    addresses: Vec<IpAddr>,
    names: Vec<Arc<str>>,
    fixes: Vec<Arc<str>>,
    verdict: Verdict,
}

impl Members {
    fn into_group(self, key: GroupKey) -> Group {
        let hosts = self.addresses.len() + self.names.len();
        let mut ranges = ranges(self.addresses);
        ranges.extend(self.names.iter().map(ToString::to_string));
        let fixes = match key.diagnosis {
            Some(diagnosis) => vec![Arc::from(diagnosis.hint())],
            None => self.fixes,
        };
        Group {
            role: key.role,
            vantage: key.vantage,
            hosts,
            ranges,
            diagnosis: key.diagnosis,
            checked: key.checked,
            causes: key.causes,
            fixes,
            verdict: self.verdict,
        }
    }
}

fn counts<'a>(check: CheckId, cells: impl Iterator<Item = &'a Cell>) -> CheckCounts {
    let mut counts = CheckCounts {
        check: Some(check),
        ..CheckCounts::default()
    };
    for cell in cells {
        *counts.states.entry(cell.state).or_default() += 1;
        match cell.verdict {
            Verdict::Pass => counts.pass += 1,
            Verdict::Warn => counts.warn += 1,
            Verdict::Fail => counts.fail += 1,
        }
    }
    counts
}

/// Sorted addresses as runs of consecutive ones: `10.0.0.1–10.0.0.9`, or one address.
pub fn ranges(mut addresses: Vec<IpAddr>) -> Vec<String> {
    addresses.sort_unstable();
    addresses.dedup();
    let number = |ip: &IpAddr| match ip {
        IpAddr::V4(v4) => (0u8, u128::from(u32::from(*v4))),
        IpAddr::V6(v6) => (1u8, u128::from(*v6)),
    };
    let mut out = Vec::new();
    let mut run: Option<(IpAddr, IpAddr)> = None;
    for ip in addresses {
        run = match run {
            Some((first, last))
                if {
                    let (fam, n) = number(&last);
                    number(&ip) == (fam, n.wrapping_add(1))
                } =>
            {
                Some((first, ip))
            }
            Some((first, last)) => {
                out.push(range_text(first, last));
                Some((ip, ip))
            }
            None => Some((ip, ip)),
        };
    }
    if let Some((first, last)) = run {
        out.push(range_text(first, last));
    }
    out
}

fn range_text(first: IpAddr, last: IpAddr) -> String {
    if first == last {
        first.to_string()
    } else {
        format!("{first}–{last}")
    }
}
