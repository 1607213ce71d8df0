//! `mve-audit local`: can this host own every port MVE needs? Each port is bound for a moment
//! (never with SO_REUSEADDR, so a holder cannot be shared) and released at once.

use std::io;
use std::net::{Ipv4Addr, SocketAddr};

use serde::Serialize;
use socket2::{Domain, Protocol, Socket, Type};

use super::PortSpec;
use crate::catalog::Transport;
use crate::platform::ports::{Holder, ephemeral_range, holders};
use crate::results::Verdict;

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

/// The ports MVE owns, then any the user adds.
pub fn mve_needs(extra: &[PortSpec]) -> Vec<(PortSpec, String)> {
    let mut needs = vec![
        (
            PortSpec {
                transport: Transport::Udp,
                port: 9187,
            },
            "npap-alerts: printers send alerts here; also the NPAP/XMLNT source port".to_string(),
        ),
        (
            PortSpec {
                transport: Transport::Tcp,
                port: 443,
            },
            "console: browsers reach the MVE web console".to_string(),
        ),
        (
            PortSpec {
                transport: Transport::Udp,
                port: 6100,
            },
            "lst: the LST source port".to_string(),
        ),
    ];
    for spec in extra {
        if !needs.iter().any(|(s, _)| s == spec) {
            needs.push((*spec, "added by the user".to_string()));
        }
    }
    needs
}

fn try_bind(spec: PortSpec) -> io::Result<()> {
    let (kind, protocol) = match spec.transport {
        Transport::Tcp => (Type::STREAM, Protocol::TCP),
        Transport::Udp => (Type::DGRAM, Protocol::UDP),
    };
    let socket = Socket::new(Domain::IPV4, kind, Some(protocol))?;
    if spec.transport == Transport::Tcp {
        crate::transport::sys::allow_time_wait_reuse(&socket)?;
    }
    socket.bind(&SocketAddr::from((Ipv4Addr::UNSPECIFIED, spec.port)).into())?;
    if spec.transport == Transport::Tcp {
        socket.listen(1)?;
    }
    Ok(())
}

/// Checks each port.
pub fn check(needs: &[(PortSpec, String)]) -> LocalReport {
    let ports: Vec<PortCheck> = needs
        .iter()
        .map(|(spec, role)| {
            let refused = try_bind(*spec).err();
            // Windows refuses a port bound with SO_EXCLUSIVEADDRUSE (as services do) with
            // WSAEACCES, not WSAEADDRINUSE: a named holder tells "taken" from "no privilege".
            let kind = refused.as_ref().map(io::Error::kind);
            let found = match kind {
                Some(io::ErrorKind::AddrInUse | io::ErrorKind::PermissionDenied) => {
                    holders(spec.transport, spec.port)
                }
                _ => Vec::new(),
            };
            let held = kind == Some(io::ErrorKind::AddrInUse) || !found.is_empty();
            let (state, holders, summary, hint) = match refused {
                None => (LocalState::Free, Vec::new(), format!("{spec} can be bound"), None),
                Some(_) if held => {
                    let holders = found;
                    let who = if holders.is_empty() {
                        "a process this host does not name (or one we may not inspect)".to_string()
                    } else {
                        holders
                            .iter()
                            .map(|h| format!("{} (PID {})", h.name, h.pid))
                            .collect::<Vec<_>>()
                            .join(", ")
                    };
                    (
                        LocalState::InUse,
                        holders,
                        format!("{spec} is held by {who}"),
                        Some(format!(
                            "Stop or reconfigure the holder of {spec} before installing MVE; if it \
                             is MVE itself, the port is where it belongs."
                        )),
                    )
                }
                Some(err) if err.kind() == io::ErrorKind::PermissionDenied => (
                    LocalState::NeedsPrivilege,
                    Vec::new(),
                    format!("{spec} needs privilege to bind ({err})"),
                    Some("Run as an administrator (the MVE service has the privilege); this check could not tell whether the port is free.".into()),
                ),
                Some(err) => (
                    LocalState::Error,
                    Vec::new(),
                    format!("{spec} could not be tested: {err}"),
                    Some("See the error: this host cannot bind the port.".into()),
                ),
            };
            let verdict = match state {
                LocalState::Free => Verdict::Pass,
                LocalState::NeedsPrivilege => Verdict::Warn,
                LocalState::InUse | LocalState::Error => Verdict::Fail,
            };
            PortCheck {
                port: spec.to_string(),
                transport: spec.transport,
                number: spec.port,
                role: role.clone(),
                state,
                verdict,
                holders,
                summary,
                hint,
            }
        })
        .collect();
    let range = ephemeral_range();
    let overlaps = match range {
        Some((low, high)) => needs
            .iter()
            .filter(|(spec, _)| (low..=high).contains(&spec.port))
            .map(|(spec, _)| spec.to_string())
            .collect(),
        None => Vec::new(),
    };
    LocalReport {
        schema_version: crate::report::SCHEMA_VERSION,
        ports,
        ephemeral_range: range,
        overlaps,
    }
}
