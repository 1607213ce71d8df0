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
    /// A UDP path answered while every TCP path was refused or dropped, and nothing else
    /// failed: the printer's restricted-server list, or an ACL that filters TCP only.
    TcpBlocked,
    /// A TCP path answered while every UDP path was silent, and nothing else failed: a
    /// firewall that drops UDP.
    UdpSilent,
    /// HTTPS answered while HTTP was refused, and nothing else failed: HTTP is off.
    HttpDisabled,
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
            HostDiagnosis::TcpBlocked => {
                "UDP answers but every TCP path is refused or dropped: a restricted-server list \
                 on the printer, or an ACL that filters TCP"
                    .to_string()
            }
            HostDiagnosis::UdpSilent => {
                "TCP answers but every UDP path is silent: a firewall dropping UDP (NPAP, SNMP \
                 and the alerts back fail)"
                    .to_string()
            }
            HostDiagnosis::HttpDisabled => {
                "HTTPS answers but HTTP is refused: HTTP is disabled on the device".to_string()
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
            HostDiagnosis::TcpBlocked => {
                "The printer answers over UDP but refuses or drops every TCP connection from \
                 this server: check its TCP/IP Restricted Server List (add the MVE server, or \
                 clear the list) and any ACL or firewall rule that filters TCP between them."
            }
            HostDiagnosis::UdpSilent => {
                "The printer answers over TCP but no UDP path does: a firewall on the way \
                 probably drops UDP. MVE needs UDP for NPAP (9300), SNMP (161), mDNS (5353) \
                 and the printers' alerts back to the server (9187): allow them."
            }
            HostDiagnosis::HttpDisabled => {
                "HTTP (80) is disabled on the device while HTTPS works: enable HTTP where \
                 MVE needs it (some deployments and firmware fetch pages over HTTP), or \
                 leave it off where MVE uses HTTPS only."
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
        let of = |transport: Transport| {
            cells
                .iter()
                .filter(move |c| c.transport == transport)
                .copied()
        };
        let answers = |c: &&Cell| matches!(c.state, State::Verified | State::Open);
        let some = |transport| of(transport).next().is_some();
        // A diagnosis speaks for the host only when it explains every cell that did not pass.
        let failing = || cells.iter().filter(|c| c.verdict != Verdict::Pass);
        if all(&[State::Filtered, State::OpenFiltered]) {
            Some(HostDiagnosis::Dark)
        } else if all(&[State::Closed]) {
            Some(HostDiagnosis::AllOff)
        } else if some(Transport::Tcp)
            && of(Transport::Udp).any(|c| answers(&c))
            && of(Transport::Tcp).all(|c| matches!(c.state, State::Closed | State::Filtered))
            && failing().all(|c| c.transport == Transport::Tcp)
        {
            Some(HostDiagnosis::TcpBlocked)
        } else if some(Transport::Udp)
            && of(Transport::Tcp).any(|c| answers(&c))
            && of(Transport::Udp).all(|c| matches!(c.state, State::OpenFiltered | State::Filtered))
            && failing().all(|c| c.transport == Transport::Udp)
        {
            Some(HostDiagnosis::UdpSilent)
        } else if cells
            .iter()
            .any(|c| c.check == CheckId::Https && c.verdict == Verdict::Pass)
            && cells
                .iter()
                .filter(|c| c.verdict != Verdict::Pass)
                .all(|c| c.check == CheckId::Http && c.state == State::Closed)
            && cells.iter().any(|c| c.check == CheckId::Http)
        {
            Some(HostDiagnosis::HttpDisabled)
        } else {
            None
        }
    }
}

impl CheckCounts {
    /// `verified 512, closed 256`: the cells by state.
    pub fn states_text(&self) -> String {
        self.states
            .iter()
            .map(|(state, n)| format!("{state} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
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
    /// Cells a cut-short run did not finish: no verdict, so in none of the three above.
    pub unfinished: usize,
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
    /// Printers that announce themselves secured (SECUREMODE or PASSWORDSET).
    pub secured: usize,
}

impl FleetSummary {
    /// `3 printers are secured: …`, when any is.
    pub fn secured_line(&self) -> Option<String> {
        secured_line(self.secured)
    }
}

/// The rows whose host announces itself secured.
pub fn secured_rows(matrix: &Matrix) -> usize {
    let mut rows: Vec<usize> = matrix
        .cells
        .iter()
        .filter(|c| c.security.is_some_and(|s| s.is_secured()))
        .map(|c| c.row)
        .collect();
    rows.sort_unstable();
    rows.dedup();
    rows.len()
}

/// `3 printers are secured: MVE needs their credentials, and mDNS must reach them.`
pub fn secured_line(count: usize) -> Option<String> {
    (count > 0).then(|| {
        let (noun, verb) = if count == 1 {
            ("printer", "is")
        } else {
            ("printers", "are")
        };
        format!(
            "{count} {noun} {verb} secured (SECUREMODE or PASSWORDSET in the mDNS host-config): \
             MVE needs their credentials, and mDNS must reach them."
        )
    })
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
        let secured = secured_rows(matrix);
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
            secured,
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
            Verdict::Unfinished => counts.unfinished += 1,
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
