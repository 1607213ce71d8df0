//! One fix hint per failing or warning cell: what to change, and where.

use crate::catalog::{CheckId, MveSide, Probe};
use crate::results::State;

/// The hint for a cell that did not pass; `resolved` is false when the target's name gave no
/// address, and then only the name is worth fixing.
pub fn hint(check: CheckId, state: State, port: u16, resolved: bool) -> String {
    if !resolved {
        return "Fix the name or this host's DNS: the MVE server must resolve it too.".to_string();
    }
    let path = check.path();
    if path.probe == Probe::Inbound {
        return inbound(check, port);
    }
    let proto = path.transport;
    let general = match state {
        State::Closed => format!(
            "Nothing listens on {proto} {port}: enable {} on the device, or check the port number.",
            short_name(check)
        ),
        State::Filtered => format!(
            "A firewall drops or rejects {proto} {port}: allow it from the MVE server{}.",
            source_rule(check)
        ),
        State::OpenFiltered => format!(
            "No answer on UDP {port}: a firewall may drop it silently, or {} is off on the \
             device. Allow UDP {port} from the MVE server{} and check the service.",
            short_name(check),
            source_rule(check)
        ),
        State::Error => {
            "The probe could not be made from this host: see the evidence, and check this \
             host's addresses and routes."
                .to_string()
        }
        State::Verified | State::Open => String::new(),
    };
    match specific(check, state) {
        Some(extra) => format!("{general} {extra}"),
        None => general,
    }
}

/// The fix for a host whose every path says the same thing.
pub fn host_hint(diagnosis: super::fleet::HostDiagnosis) -> &'static str {
    match diagnosis {
        super::fleet::HostDiagnosis::Dark => {
            "Check that the host is on and its address is right, then the route and every \
             firewall between this server and it: not one port answered, not even with a reset."
        }
        super::fleet::HostDiagnosis::AllOff => {
            "The host answers but runs none of the services MVE uses: enable them on the device \
             (SNMP, HTTP/HTTPS, the Lexmark services), or check that this is the right address."
        }
    }
}

/// Paths toward this server fail for one reason whatever the state: nothing got through.
fn inbound(check: CheckId, port: u16) -> String {
    match check {
        CheckId::NpapAlerts => format!(
            "Allow UDP {port} inbound to the MVE server from the printers (source port 9300); a \
             stateful firewall passes replies to MVE's requests but not unsolicited alerts."
        ),
        _ => format!("Allow TCP {port} inbound to the MVE server from the browsers' networks."),
    }
}

fn short_name(check: CheckId) -> &'static str {
    match check {
        CheckId::Npap => "NPAP",
        CheckId::Xmlnt => "XMLNT",
        CheckId::Lst | CheckId::LstHandshake => "Lexmark Secure Transport",
        CheckId::Mdns => "mDNS",
        CheckId::Snmp => "SNMP",
        CheckId::Ftp => "FTP",
        CheckId::Http => "HTTP",
        CheckId::Https => "HTTPS",
        CheckId::Raw => "the RAW (9100) port",
        CheckId::NpapAlerts => "NPAP alerts",
        CheckId::Sqlserver => "SQL Server TCP/IP",
        CheckId::Firebird => "the Firebird server",
        CheckId::Console => "the console",
        CheckId::Smtp => "the mail server",
        CheckId::Ldap | CheckId::Ldaps => "the directory server",
        CheckId::Kerberos => "the KDC",
    }
}

/// Rules for paths with a fixed MVE source port are often written for that port.
fn source_rule(check: CheckId) -> String {
    match check.path().mve_side {
        MveSide::Source(src) => format!(" (rules often match source port {src})"),
        _ => String::new(),
    }
}

fn specific(check: CheckId, state: State) -> Option<&'static str> {
    match (check, state) {
        (CheckId::Snmp, _) => Some("MVE discovers printers with SNMP: the agent must be on."),
        (CheckId::Mdns, _) => {
            Some("Secured printers need mDNS for MVE to read their security state.")
        }
        (CheckId::Ftp, _) => Some("File deployment also needs TCP 20 for active-mode data."),
        (CheckId::Sqlserver, State::Closed | State::Filtered) => {
            Some("A named instance listens on a dynamic port: give it as HOST:PORT.")
        }
        (CheckId::Kerberos, State::OpenFiltered) => {
            Some("A KDC answers even an unknown principal, so silence means it is not reached.")
        }
        (c, State::OpenFiltered) if c.path().probe == Probe::UdpBlind => Some(
            "No public wire format exists, so silence alone does not prove the path is broken.",
        ),
        _ => None,
    }
}
