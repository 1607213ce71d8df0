//! One fix hint per failing or warning cell: what to change, and where.

use super::State;
use crate::catalog::{CheckId, MveSide};

/// The hint for a cell that did not pass; `resolved` is false when the target's name gave no
/// address, and then only the name is worth fixing.
pub fn hint(check: CheckId, state: State, port: u16, resolved: bool) -> String {
    if !resolved {
        return "Fix the name or this host's DNS: the MVE server must resolve it too.".to_string();
    }
    let path = check.path();
    if !path.is_outbound() {
        return inbound(check, port);
    }
    let proto = path.transport;
    let general = match state {
        State::Closed => format!(
            "Nothing listens on {proto} {port}: enable {} on the device, or check the port number.",
            check.path().short_name
        ),
        State::Filtered => format!(
            "A firewall drops or rejects {proto} {port}: allow it from the MVE server{}.",
            source_rule(check)
        ),
        State::OpenFiltered => format!(
            "No answer on UDP {port}: a firewall may drop it silently, or {} is off on the \
             device. Allow UDP {port} from the MVE server{} and check the service.",
            check.path().short_name,
            source_rule(check)
        ),
        State::Unfinished => "Not probed to the end: the run was interrupted. Run the audit \
                               again to test this path."
            .to_string(),
        State::Error => {
            "The probe could not be made from this host: see the evidence, and check this \
             host's addresses and routes."
                .to_string()
        }
        State::Open if path.driver.verifies() => format!(
            "{proto} {port} answers, but not as {name}: check that {name} runs on this port and \
             that no other service holds it.",
            name = path.short_name
        ),
        State::Verified | State::Open => String::new(),
    };
    match specific(check, state) {
        Some(extra) => format!("{general} {extra}"),
        None => general,
    }
}

/// Paths toward this server fail for one reason whatever the state: nothing got through.
fn inbound(check: CheckId, port: u16) -> String {
    let path = check.path();
    match path.hints.inbound {
        Some(text) => text.replace("{port}", &port.to_string()),
        None => format!(
            "Allow {} {port} inbound to the MVE server toward {}.",
            path.transport, path.short_name
        ),
    }
}

/// Rules for paths with a fixed MVE source port are often written for that port.
fn source_rule(check: CheckId) -> String {
    match check.path().mve_side {
        MveSide::Source(src) => format!(" (rules often match source port {src})"),
        _ => String::new(),
    }
}

/// The check's own sentence for this state: its spec's, else what its driver's silence means.
fn specific(check: CheckId, state: State) -> Option<&'static str> {
    let path = check.path();
    let by_state = match state {
        State::Closed | State::Filtered => path.hints.unreachable,
        State::OpenFiltered => path.driver.silence_hint(),
        State::Verified | State::Open | State::Error | State::Unfinished => None,
    };
    path.hints.always.or(by_state)
}
