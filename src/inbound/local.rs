//! `mve-audit local`: can this host own every port MVE needs? Each port is bound for a moment
//! (never with SO_REUSEADDR, so a holder cannot be shared) and released at once.

use std::io;
use std::net::{Ipv4Addr, SocketAddr};

use socket2::{Domain, Protocol, Socket, Type};

use super::PortSpec;
use crate::catalog::{CATALOG, MveSide, Path, Transport};
use crate::platform::ports::{ephemeral_range, holders};
use crate::results::local::{LocalReport, LocalState, PortCheck};
use crate::results::{SCHEMA_VERSION, Verdict};

/// The ports MVE owns (every fixed server-side port of the catalog: those it listens on and
/// those it sends from), then any the user adds.
pub fn mve_needs(extra: &[PortSpec]) -> Vec<(PortSpec, String)> {
    // Per port: the path listening there, and the paths MVE sends from it.
    let mut ports: Vec<(PortSpec, Option<&Path>, Vec<&str>)> = Vec::new();
    for path in CATALOG.iter() {
        let Some(port) = path.mve_side.port() else {
            continue;
        };
        let spec = PortSpec {
            transport: path.transport,
            port,
        };
        let at = match ports.iter().position(|(s, _, _)| *s == spec) {
            Some(at) => at,
            None => {
                ports.push((spec, None, Vec::new()));
                ports.len() - 1
            }
        };
        let Some((_, listener, senders)) = ports.get_mut(at) else {
            continue;
        };
        match path.mve_side {
            MveSide::Listens(_) => *listener = Some(path),
            MveSide::Source(_) | MveSide::Ephemeral => senders.push(path.id_str),
        }
    }
    // Listening ports first: their holder breaks MVE outright.
    ports.sort_by_key(|(_, listener, _)| listener.is_none());
    let mut needs: Vec<(PortSpec, String)> = ports
        .into_iter()
        .map(|(spec, listener, senders)| {
            let sources = senders.join(", ");
            let why = match listener {
                Some(path) if senders.is_empty() => format!("{}: {}", path.id_str, path.used_for),
                Some(path) => format!(
                    "{}: {}; also the source port of {sources}",
                    path.id_str, path.used_for
                ),
                None => format!("the source port of {sources}"),
            };
            (spec, why)
        })
        .collect();
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
        schema_version: SCHEMA_VERSION,
        ports,
        ephemeral_range: range,
        overlaps,
    }
}
