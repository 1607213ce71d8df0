//! From the targets and the selected checks to the work of a run, as a stream. Targets are
//! taken a block at a time and each block is laid out check by check, so consecutive probes
//! go to different hosts (printers rate-limit ICMP errors per peer) while memory holds one
//! block, not the fleet.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use super::Job;
use crate::catalog::CheckId;
use crate::results::{Done, Finding};
use crate::targets::{Addresses, ResolveError, Target, TargetSet};

/// Targets laid out together; a host's probes are this many jobs apart within a check.
pub const BLOCK: usize = 1024;

/// A row of the matrix: one target and the address its name gave.
#[derive(Debug, Clone)]
pub struct Row {
    /// Position in the run, from 0, in the order targets were given.
    pub index: usize,
    pub target: Target,
    pub addr: Result<IpAddr, ResolveError>,
    /// The target as written (`mail:2525`): the matrix's row label.
    pub label: Arc<str>,
    /// The host as written: the HTTP Host header and the TLS server name.
    pub host: Arc<str>,
    /// What every cell of the row notes of its name's other addresses.
    pub resolved_note: Option<Arc<str>>,
}

impl Row {
    /// This row's cell for `check`, once `finding` is known.
    pub fn done(&self, check: CheckId, port: u16, mut finding: Finding) -> Done {
        if let Some(note) = &self.resolved_note {
            finding.evidence.notes.push(note.to_string());
        }
        Done {
            row: self.index,
            label: self.label.clone(),
            role: self.target.role,
            address: self.addr.as_ref().ok().copied(),
            check,
            port,
            finding,
        }
    }
}

/// Whether `check` probes `target`: its role's checks, and a check that needs a named
/// instance (the SQL Server Browser) only for a target that names one.
pub fn applies(check: CheckId, target: &Target) -> bool {
    let path = check.path();
    path.role == target.role && (!path.driver.needs_instance() || target.instance.is_some())
}

/// One piece of work: a probe, or a cell decided without one (its name did not resolve).
#[derive(Debug, Clone)]
pub enum Work {
    Probe(Job),
    Unresolved {
        row: Arc<Row>,
        check: CheckId,
        port: u16,
    },
}

/// The columns of the matrix and the ports each check probes.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The checks that have at least one target, in catalog order.
    pub columns: Vec<CheckId>,
    ports: BTreeMap<CheckId, u16>,
}

/// Lays out the matrix. `selected` is the set of checks to run; a check whose role has no
/// target gets no column, and inbound paths (tested by `listen`) none either.
pub fn build_plan(
    targets: &TargetSet,
    selected: &BTreeSet<CheckId>,
    ports: &BTreeMap<CheckId, u16>,
) -> Plan {
    let roles = targets.roles();
    let columns = CheckId::ALL
        .into_iter()
        .filter(|c| selected.contains(c))
        .filter(|c| c.path().is_outbound() && roles.contains(&c.path().role))
        // A check that needs a named instance gets a column only when one was given.
        .filter(|c| !c.path().driver.needs_instance() || targets.has_instances())
        .collect();
    Plan {
        columns,
        ports: ports.clone(),
    }
}

impl Plan {
    /// The checks `target` gets: those of its role, and those that need a named instance
    /// only when it names one.
    pub fn checks_for<'a>(&'a self, target: &'a Target) -> impl Iterator<Item = CheckId> + 'a {
        self.columns
            .iter()
            .copied()
            .filter(move |c| applies(*c, target))
    }

    /// The peer port of `check` on `target`: the port written with the target, then
    /// `--port`, then the catalog's.
    pub fn port(&self, check: CheckId, target: &Target) -> u16 {
        target
            .port
            .or_else(|| self.ports.get(&check).copied())
            .or_else(|| check.path().peer.default_port())
            .unwrap_or_default()
    }

    /// The rows of the run: every target that has a column, numbered, with its address.
    pub fn rows<'a>(
        &'a self,
        targets: impl Iterator<Item = Target> + 'a,
        addresses: &'a Addresses,
    ) -> impl Iterator<Item = Arc<Row>> + 'a {
        targets
            .filter(|t| self.checks_for(t).next().is_some())
            .enumerate()
            .map(|(index, target)| {
                Arc::new(Row {
                    index,
                    addr: addresses.of(&target.host),
                    label: Arc::from(target.to_string()),
                    host: Arc::from(target.host.to_string()),
                    resolved_note: addresses.note(&target.host),
                    target,
                })
            })
    }

    /// The work of a run, block by block, check-major inside a block.
    pub fn work<'a>(
        &'a self,
        rows: impl Iterator<Item = Arc<Row>> + 'a,
    ) -> Schedule<'a, impl Iterator<Item = Arc<Row>> + 'a> {
        Schedule {
            plan: self,
            rows,
            block: Vec::with_capacity(BLOCK),
            column: 0,
            position: 0,
        }
    }
}

/// The stream of work: holds one block of rows at a time.
pub struct Schedule<'a, R> {
    plan: &'a Plan,
    rows: R,
    block: Vec<Arc<Row>>,
    column: usize,
    position: usize,
}

impl<R: Iterator<Item = Arc<Row>>> Iterator for Schedule<'_, R> {
    type Item = Work;

    fn next(&mut self) -> Option<Work> {
        loop {
            if self.column >= self.plan.columns.len() || self.block.is_empty() {
                self.block.clear();
                self.block.extend(self.rows.by_ref().take(BLOCK));
                if self.block.is_empty() {
                    return None;
                }
                self.column = 0;
                self.position = 0;
            }
            let check = self.plan.columns[self.column];
            while let Some(row) = self.block.get(self.position) {
                self.position += 1;
                if !applies(check, &row.target) {
                    continue;
                }
                let port = self.plan.port(check, &row.target);
                let row = row.clone();
                return Some(match row.addr {
                    Ok(addr) => Work::Probe(Job {
                        again: false,
                        peer: SocketAddr::new(addr, port),
                        check,
                        row,
                    }),
                    Err(_) => Work::Unresolved { row, check, port },
                });
            }
            self.column += 1;
            self.position = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Role;
    use crate::targets::{Host, Limits, Origin, TargetSet};

    fn set(printers: &str, smtp: Option<(&str, u16)>) -> TargetSet {
        let mut set = TargetSet::new(Limits::default());
        set.add_printers(printers, &Origin::Flag("--printers"), None)
            .unwrap();
        if let Some((host, port)) = smtp {
            set.add(Target::new(
                Role::Smtp,
                Host::Addr(host.parse().unwrap()),
                Some(port),
            ));
        }
        set
    }

    fn all_work(plan: &Plan, targets: &TargetSet) -> Vec<Work> {
        let addresses = Addresses::default();
        plan.work(plan.rows(targets.iter(), &addresses)).collect()
    }

    fn probes(work: &[Work]) -> Vec<(CheckId, SocketAddr)> {
        work.iter()
            .filter_map(|w| match w {
                Work::Probe(job) => Some((job.check, job.peer)),
                Work::Unresolved { .. } => None,
            })
            .collect()
    }

    #[test]
    fn columns_follow_targets_and_cells_interleave_hosts() {
        let selected: BTreeSet<_> = CheckId::ALL.into_iter().collect();
        let ports = BTreeMap::from([(CheckId::Raw, 9101), (CheckId::Smtp, 2525)]);
        let targets = set("192.0.2.1,192.0.2.2,192.0.2.1", Some(("192.0.2.9", 587)));
        let plan = build_plan(&targets, &selected, &ports);
        assert_eq!(plan.columns.len(), 11, "ten printer checks and smtp");
        assert!(!plan.columns.contains(&CheckId::Ldap));
        assert!(!plan.columns.contains(&CheckId::NpapAlerts));
        let work = probes(&all_work(&plan, &targets));
        assert_eq!(
            work.len(),
            21,
            "the duplicate printer collapses: 2 × 10 + 1"
        );
        assert_eq!(work[0].0, CheckId::Npap);
        assert_eq!(work[1].0, CheckId::Npap);
        assert_ne!(work[0].1.ip(), work[1].1.ip());
        let raw = work.iter().find(|(c, _)| *c == CheckId::Raw).unwrap();
        assert_eq!(raw.1.port(), 9101);
        let smtp = work.iter().find(|(c, _)| *c == CheckId::Smtp).unwrap();
        assert_eq!(smtp.1.port(), 587, "HOST:PORT wins over --port");
    }

    #[test]
    fn blocks_keep_every_cell_and_interleave_within_a_block() {
        let selected = BTreeSet::from([CheckId::Snmp, CheckId::Raw]);
        let targets = set("127.1.0.0/20", None);
        let plan = build_plan(&targets, &selected, &BTreeMap::new());
        let work = probes(&all_work(&plan, &targets));
        assert_eq!(work.len(), 4094 * 2);
        let distinct: BTreeSet<_> = work.iter().collect();
        assert_eq!(distinct.len(), work.len(), "no cell twice");
        // The first block: every snmp probe, then every raw probe, of its 1,024 hosts.
        assert!(work[..BLOCK].iter().all(|(c, _)| *c == CheckId::Snmp));
        assert!(
            work[BLOCK..2 * BLOCK]
                .iter()
                .all(|(c, _)| *c == CheckId::Raw)
        );
        assert_eq!(work[0].1.ip(), work[BLOCK].1.ip());
    }

    #[test]
    fn unresolved_targets_become_decided_cells_not_probes() {
        let selected = BTreeSet::from([CheckId::Snmp, CheckId::Raw]);
        let targets = set("nowhere.invalid", None);
        let plan = build_plan(&targets, &selected, &BTreeMap::new());
        let work = all_work(&plan, &targets);
        assert!(probes(&work).is_empty());
        assert_eq!(work.len(), 2);
        let Work::Unresolved { row, port, .. } = &work[0] else {
            panic!("{work:?}");
        };
        assert_eq!(*port, 161);
        assert!(
            row.addr
                .as_ref()
                .unwrap_err()
                .to_string()
                .contains("nowhere.invalid")
        );
    }
}
