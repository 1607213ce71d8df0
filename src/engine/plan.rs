//! From resolved targets and the selected checks to the cells of the matrix and the jobs that
//! fill them. Cells are laid out check by check, so consecutive probes go to different hosts
//! (printers rate-limit ICMP errors per peer).

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use super::Job;
use crate::catalog::CheckId;
use crate::results::{Evidence, Finding, State};
use crate::targets::{ResolveError, Resolved, Target};

/// A row of the matrix: one target and the address its name gave.
#[derive(Debug, Clone)]
pub struct Row {
    pub target: Target,
    pub addr: Result<IpAddr, ResolveError>,
}

/// One cell to fill: a row, a check, and the peer port probed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlannedCell {
    pub row: usize,
    pub check: CheckId,
    pub port: u16,
}

#[derive(Debug, Clone)]
pub struct Plan {
    pub rows: Vec<Row>,
    /// The checks that have at least one target, in catalog order.
    pub columns: Vec<CheckId>,
    pub cells: Vec<PlannedCell>,
}

/// Lays out the matrix. `selected` is the set of checks to run; a check whose role has no
/// target gets no column. Duplicate targets collapse into one row.
pub fn build_plan(
    resolved: Vec<Resolved>,
    selected: &BTreeSet<CheckId>,
    ports: &BTreeMap<CheckId, u16>,
) -> Plan {
    let mut seen = BTreeSet::new();
    let rows: Vec<Row> = resolved
        .into_iter()
        .filter(|r| seen.insert(r.target.clone()))
        .map(|r| Row {
            target: r.target,
            addr: r.addr,
        })
        .collect();
    let mut columns = Vec::new();
    let mut cells = Vec::new();
    for check in CheckId::ALL.into_iter().filter(|c| selected.contains(c)) {
        let path = check.path();
        let Some(default_port) = path.peer.default_port() else {
            continue;
        };
        let before = cells.len();
        for (index, row) in rows.iter().enumerate() {
            if row.target.role == path.role {
                let port = row
                    .target
                    .port
                    .or_else(|| ports.get(&check).copied())
                    .unwrap_or(default_port);
                cells.push(PlannedCell {
                    row: index,
                    check,
                    port,
                });
            }
        }
        if cells.len() > before {
            columns.push(check);
        }
    }
    Plan {
        rows,
        columns,
        cells,
    }
}

impl Plan {
    /// The probes to run, in cell order; cells whose name did not resolve have none.
    pub fn jobs(&self) -> impl Iterator<Item = Job> + '_ {
        let hosts: Vec<Arc<str>> = self
            .rows
            .iter()
            .map(|row| Arc::from(row.target.host.to_string()))
            .collect();
        self.cells
            .iter()
            .enumerate()
            .filter_map(move |(cell, planned)| {
                let addr = self.rows[planned.row].addr.as_ref().ok()?;
                Some(Job {
                    cell,
                    check: planned.check,
                    peer: SocketAddr::new(*addr, planned.port),
                    host: hosts[planned.row].clone(),
                })
            })
    }

    /// Findings decided without probing: cells whose target did not resolve.
    pub fn unresolved(&self) -> impl Iterator<Item = (usize, Finding)> + '_ {
        self.cells.iter().enumerate().filter_map(|(cell, planned)| {
            let err = self.rows[planned.row].addr.as_ref().err()?;
            Some((
                cell,
                Finding::new(State::Error, Evidence::new(err.to_string())),
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Role;
    use crate::targets::Host;

    fn resolved(role: Role, host: &str, port: Option<u16>) -> Resolved {
        let addr = host.parse::<IpAddr>();
        Resolved {
            target: Target {
                role,
                host: match addr {
                    Ok(a) => Host::Addr(a),
                    Err(_) => Host::Name(host.to_string()),
                },
                port,
            },
            addr: addr.map_err(|_| ResolveError::NoAddress {
                name: host.to_string(),
            }),
        }
    }

    #[test]
    fn columns_follow_targets_and_cells_interleave_hosts() {
        let selected: BTreeSet<_> = CheckId::ALL.into_iter().collect();
        let ports = BTreeMap::from([(CheckId::Raw, 9101), (CheckId::Smtp, 2525)]);
        let plan = build_plan(
            vec![
                resolved(Role::Printer, "192.0.2.1", None),
                resolved(Role::Printer, "192.0.2.2", None),
                resolved(Role::Printer, "192.0.2.1", None),
                resolved(Role::Smtp, "192.0.2.9", Some(587)),
            ],
            &selected,
            &ports,
        );
        assert_eq!(plan.rows.len(), 3, "the duplicate printer collapses");
        assert_eq!(plan.columns.len(), 11, "ten printer checks and smtp");
        assert!(!plan.columns.contains(&CheckId::Ldap));
        assert!(!plan.columns.contains(&CheckId::NpapAlerts));
        let first: Vec<_> = plan.jobs().take(3).map(|j| (j.check, j.peer)).collect();
        assert_eq!(first[0].0, CheckId::Npap);
        assert_eq!(first[1].0, CheckId::Npap);
        assert_ne!(first[0].1.ip(), first[1].1.ip());
        let raw = plan.jobs().find(|j| j.check == CheckId::Raw).unwrap();
        assert_eq!(raw.peer.port(), 9101);
        let smtp = plan.jobs().find(|j| j.check == CheckId::Smtp).unwrap();
        assert_eq!(smtp.peer.port(), 587, "HOST:PORT wins over --port");
    }

    #[test]
    fn unresolved_targets_become_error_cells_not_jobs() {
        let selected = BTreeSet::from([CheckId::Snmp, CheckId::Raw]);
        let plan = build_plan(
            vec![resolved(Role::Printer, "nowhere.invalid", None)],
            &selected,
            &BTreeMap::new(),
        );
        assert_eq!(plan.jobs().count(), 0);
        let errors: Vec<_> = plan.unresolved().collect();
        assert_eq!(errors.len(), 2);
        assert_eq!(errors[0].1.state, State::Error);
        assert!(errors[0].1.evidence.summary.contains("nowhere.invalid"));
    }
}
