//! What a probe found: the state, the evidence that decided it, and the verdict derived from
//! state and requirement.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

use crate::catalog::{CheckId, Driver, Probe, Requirement, Role};

mod hints;
mod judge;
pub mod local;
mod names;

pub use hints::hint;
pub use judge::{Judge, Judged};

/// Bumped whenever a field of a JSON report (`check`, `local`, `catalog`) changes meaning or
/// disappears.
pub const SCHEMA_VERSION: u32 = 1;

/// Exactly one per probe (README "States").
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, serde::Deserialize,
)]
pub enum State {
    /// The port answered and the answer parses as the expected protocol.
    #[serde(rename = "verified")]
    Verified,
    /// TCP connect succeeded, or a UDP reply arrived; the protocol was not confirmed.
    #[serde(rename = "open")]
    Open,
    /// UDP: no reply and no ICMP error after all retries.
    #[serde(rename = "open|filtered")]
    OpenFiltered,
    /// TCP RST, or ICMP port unreachable.
    #[serde(rename = "closed")]
    Closed,
    /// TCP timeout, or ICMP administratively prohibited / host unreachable.
    #[serde(rename = "filtered")]
    Filtered,
    /// The probe could not be made: name resolution, no route, local bind, …
    #[serde(rename = "error")]
    Error,
    /// Planned, but the run was cut short (a signal) before the probe finished.
    #[serde(rename = "unfinished")]
    Unfinished,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Verified => "verified",
            State::Open => "open",
            State::OpenFiltered => "open|filtered",
            State::Closed => "closed",
            State::Filtered => "filtered",
            State::Error => "error",
            State::Unfinished => "unfinished",
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    #[default]
    Pass,
    Warn,
    /// No verdict: the run was cut short before the cell's probe finished (its state is
    /// `unfinished`). Neither a pass nor a warning nor the path's failure; ordered between
    /// warn and fail, so a list of problems shows it after the failures.
    Unfinished,
    Fail,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Warn => "warn",
            Verdict::Unfinished => "unfinished",
            Verdict::Fail => "fail",
        }
    }

    /// The verdict of a cell, from its state, how much the path matters and what its driver
    /// can prove (README "Verdicts").
    ///
    /// A driver that can verify its service passes only when it did: `open` from it means
    /// the port answered but not as the service (wrong protocol, no answer, no handshake), a
    /// warning, or a failure where the path is required. `open` from a connect-only or blind
    /// probe is all such a probe can show, and passes.
    ///
    /// `open|filtered` is never a pass. It fails a required path only when the probe sent a
    /// request the service answers (SNMP discovery, DNS-SD, Kerberos); after a blind datagram
    /// to a protocol with no public format silence proves nothing, so it warns.
    pub fn of(state: State, required: bool, driver: Driver, warned: bool) -> Verdict {
        match state {
            // No verdict at all: the run's own exit code says it stopped.
            State::Unfinished => Verdict::Unfinished,
            State::Open if driver.verifies() && required => Verdict::Fail,
            State::Open if driver.verifies() => Verdict::Warn,
            State::Verified | State::Open if warned => Verdict::Warn,
            State::Verified | State::Open => Verdict::Pass,
            // Inbound: nothing arrived from a source that should reach us.
            State::OpenFiltered
                if required && matches!(driver.probe(), Probe::UdpRequest | Probe::Inbound) =>
            {
                Verdict::Fail
            }
            State::OpenFiltered => Verdict::Warn,
            State::Closed | State::Filtered | State::Error if required => Verdict::Fail,
            State::Closed | State::Filtered | State::Error => Verdict::Warn,
        }
    }
}

/// Which verdicts make a finished audit exit 1 (`--fail-on`; `--strict` is `warn`). A run that
/// did not finish has no verdict at all, whatever this says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FailOn {
    /// A failed required check (a check that is not required warns instead of failing).
    #[default]
    Fail,
    /// Any warning or failure.
    Warn,
    /// Nothing: exit 0 whenever the audit finished (a job that publishes the report and
    /// gates elsewhere).
    Never,
}

impl FailOn {
    pub const ALL: [FailOn; 3] = [FailOn::Fail, FailOn::Warn, FailOn::Never];

    pub fn name(self) -> &'static str {
        match self {
            FailOn::Fail => "fail",
            FailOn::Warn => "warn",
            FailOn::Never => "never",
        }
    }

    pub fn help(self) -> &'static str {
        match self {
            FailOn::Fail => "a required check failed (the default)",
            FailOn::Warn => "any check warned or failed (as --strict)",
            FailOn::Never => "nothing: 0 whenever the audit finished",
        }
    }
}

impl Verdict {
    /// Whether this verdict fails a finished run under `on`.
    pub fn fails_run(self, on: FailOn) -> bool {
        match on {
            FailOn::Fail => self == Verdict::Fail,
            FailOn::Warn => self != Verdict::Pass,
            FailOn::Never => false,
        }
    }
}

/// A finished cell as the report takes it: which row and path, and what was found. Probes
/// (through the engine) and the inbound commands both produce these.
#[derive(Debug, Clone)]
pub struct Done {
    /// The row's place in the order targets were given.
    pub row: usize,
    /// The target as the user wrote it.
    pub label: Arc<str>,
    pub role: Role,
    /// `None` when the name did not resolve.
    pub address: Option<IpAddr>,
    pub check: CheckId,
    pub port: u16,
    pub finding: Finding,
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether a path counts as required in this run.
pub fn is_required(check: CheckId, promoted: &[CheckId]) -> bool {
    match check.path().requirement {
        Requirement::Required | Requirement::WhenConfigured => true,
        Requirement::SomePrinters => promoted.contains(&check),
    }
}

/// What decided a state. Every field but `summary` is optional: each probe fills what it saw.
#[derive(Debug, Clone, Default, PartialEq, Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Evidence {
    /// One line a person reads: what answered, or what did not.
    pub summary: String,
    /// The error the OS reported, by its conventional name (`ECONNREFUSED`).
    #[serde(
        skip_serializing_if = "Option::is_none",
        deserialize_with = "names::interned"
    )]
    pub errno: Option<names::Name>,
    /// The ICMP message the errno stands for, where it stands for one.
    #[serde(
        skip_serializing_if = "Option::is_none",
        deserialize_with = "names::interned"
    )]
    pub icmp: Option<names::Name>,
    /// The host that sent the ICMP message (a router or firewall when not the target).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub icmp_from: Option<std::net::IpAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rtt_ms: Option<f64>,
    /// The local port the probe left from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_port: Option<u16>,
    /// The address and port a reply came from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply_from: Option<SocketAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply_len: Option<usize>,
    /// The first bytes of the reply, in hex.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply_head: Option<String>,
    /// How many datagrams were sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempts: Option<u32>,
    /// What the protocol said: versions, banners, certificate facts, … (per protocol).
    #[serde(skip_serializing_if = "serde_json::Map::is_empty")]
    pub facts: serde_json::Map<String, serde_json::Value>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl Evidence {
    pub fn new(summary: impl Into<String>) -> Evidence {
        Evidence {
            summary: summary.into(),
            ..Evidence::default()
        }
    }

    pub fn with_rtt(mut self, rtt: Duration) -> Evidence {
        self.set_rtt(rtt);
        self
    }

    /// Records a round-trip time in milliseconds; microsecond precision is plenty and keeps
    /// JSON short.
    pub fn set_rtt(&mut self, rtt: Duration) {
        self.rtt_ms = Some((rtt.as_secs_f64() * 1_000_000.0).round() / 1000.0);
    }

    /// Records one protocol fact.
    pub fn fact(&mut self, key: &str, value: impl Into<serde_json::Value>) {
        self.facts.insert(key.to_string(), value.into());
    }

    pub fn with_reply(mut self, from: SocketAddr, bytes: &[u8]) -> Evidence {
        self.reply_from = Some(from);
        self.reply_len = Some(bytes.len());
        self.reply_head = Some(hex_head(bytes, 16));
        self
    }
}

/// The first `max` bytes as lowercase hex, with "…" when there were more.
pub fn hex_head(bytes: &[u8], max: usize) -> String {
    let mut text: String = bytes.iter().take(max).map(|b| format!("{b:02x}")).collect();
    if bytes.len() > max {
        text.push('…');
    }
    text
}

/// Why a port that answered did not prove its service: the reason an `open` cell of a check
/// that can verify gives, in every format.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Unproven {
    /// Something answered, in another protocol.
    WrongProtocol,
    /// The port accepted the connection or datagram, and nothing came back in time.
    NoAnswer,
    /// The TLS handshake stalled, failed or offered nothing this side accepts.
    NoHandshake,
    /// The answer stopped short, or its protocol's rules were broken.
    CutShort,
    /// Open, and the driver said no more.
    NotVerified,
    /// The service answered with something past its date (a CRL after its nextUpdate).
    Stale,
    /// The service answered in its protocol, and a strict client (MVE's Java) refuses what it
    /// said: a CA certificate outside its dates or not a CA, a signature that does not verify,
    /// a CRL from another issuer.
    Rejected,
}

impl Unproven {
    pub fn as_str(self) -> &'static str {
        match self {
            Unproven::WrongProtocol => "wrong protocol",
            Unproven::NoAnswer => "no answer",
            Unproven::NoHandshake => "no handshake",
            Unproven::CutShort => "cut short",
            Unproven::NotVerified => "not verified",
            Unproven::Stale => "stale",
            Unproven::Rejected => "rejected",
        }
    }
}

impl fmt::Display for Unproven {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One probe's result: what `probes` hands to the engine.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub state: State,
    pub evidence: Evidence,
    /// Set when the path works but something about it will bite (an expiring certificate,
    /// clock skew, credentials refused): the cell warns instead of passing.
    pub warning: Option<String>,
    /// Why an `open` port did not prove its service, when the driver knows.
    pub unproven: Option<Unproven>,
    /// A silent path on a host that answered elsewhere is probed a second time.
    pub second_look: Option<SecondLook>,
    /// What the host says of its own security (a Lexmark printer's `_host-config` TXT).
    pub security: Option<Security>,
    /// The port actually probed, when the probe found it (a SQL Server named instance's,
    /// from the Browser) rather than was given it.
    pub port: Option<u16>,
}

/// A printer's security settings as it announces them in its `_host-config._udp` mDNS TXT
/// record. A secured printer makes MVE use its credentials, and MVE learns that over mDNS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
pub struct Security {
    /// `SECUREMODE`; `None` when absent or not a yes/no word.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub secure_mode: Option<bool>,
    /// `PASSWORDSET`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub password_set: Option<bool>,
}

impl Security {
    /// From the record's "KEY value" pairs (keys upper-cased); `None` when it names neither.
    pub fn from_host_config(pairs: &[(String, String)]) -> Option<Security> {
        let flag = |key: &str| {
            pairs.iter().find(|(k, _)| k == key).and_then(|(_, v)| {
                match v.trim().to_ascii_lowercase().as_str() {
                    "1" | "true" | "yes" | "on" | "enabled" | "enable" => Some(true),
                    "0" | "false" | "no" | "off" | "disabled" | "disable" => Some(false),
                    _ => None,
                }
            })
        };
        let security = Security {
            secure_mode: flag("SECUREMODE"),
            password_set: flag("PASSWORDSET"),
        };
        (security.secure_mode.is_some() || security.password_set.is_some()).then_some(security)
    }

    /// Secured: MVE needs the printer's credentials to manage it.
    pub fn is_secured(self) -> bool {
        self.secure_mode == Some(true) || self.password_set == Some(true)
    }
}

/// What a second probe of a silent path found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SecondLook {
    /// It answered: the first probe's packets were lost on the way.
    Answered,
    /// Silent again: the silence stands.
    SilentAgain,
}

impl Finding {
    pub fn new(state: State, evidence: Evidence) -> Finding {
        Finding {
            state,
            evidence,
            warning: None,
            unproven: None,
            second_look: None,
            security: None,
            port: None,
        }
    }

    /// An `open` port that did not prove its service, and why.
    pub fn unproven(evidence: Evidence, why: Unproven) -> Finding {
        Finding {
            unproven: Some(why),
            ..Finding::new(State::Open, evidence)
        }
    }

    pub fn warn(mut self, why: impl Into<String>) -> Finding {
        self.warning = Some(why.into());
        self
    }

    /// Adds the warning when there is one.
    pub fn maybe_warn(mut self, why: Option<String>) -> Finding {
        if why.is_some() {
            self.warning = why;
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdict_table() {
        use State::*;
        use Verdict::*;
        // Connect: RAW 9100; Blind: NPAP; Snmp and Https verify their service.
        let rows = [
            (Verified, true, Driver::Https, Pass),
            (Verified, true, Driver::Snmp, Pass),
            (Open, true, Driver::Blind, Pass),
            (Open, false, Driver::Connect, Pass),
            (Open, true, Driver::Connect, Pass),
            (Open, true, Driver::Https, Fail),
            (Open, false, Driver::Https, Warn),
            (Open, true, Driver::Snmp, Fail),
            (Open, false, Driver::Tds, Warn),
            (OpenFiltered, true, Driver::Snmp, Fail),
            (OpenFiltered, true, Driver::Blind, Warn),
            (OpenFiltered, false, Driver::Snmp, Warn),
            (Closed, true, Driver::Connect, Fail),
            (Filtered, true, Driver::Blind, Fail),
            (Error, true, Driver::Connect, Fail),
            (Closed, false, Driver::Connect, Warn),
            (Filtered, false, Driver::Blind, Warn),
        ];
        for (state, required, driver, want) in rows {
            assert_eq!(
                Verdict::of(state, required, driver, false),
                want,
                "{state} required={required} {driver:?}"
            );
        }
    }

    /// An unfinished cell has no verdict, whatever its path and driver (it used to warn).
    #[test]
    fn an_unfinished_cell_has_no_verdict() {
        for path in crate::catalog::CATALOG.iter() {
            for (required, warned) in [(true, false), (false, false), (true, true)] {
                let verdict = Verdict::of(State::Unfinished, required, path.driver, warned);
                assert_eq!(verdict, Verdict::Unfinished, "{}", path.id_str);
            }
        }
        let json = serde_json::to_string(&Verdict::Unfinished).unwrap();
        assert_eq!(json, r#""unfinished""#);
    }

    #[test]
    fn a_warning_turns_a_pass_into_a_warn_and_nothing_else() {
        assert_eq!(
            Verdict::of(State::Verified, true, Driver::Https, true),
            Verdict::Warn
        );
        assert_eq!(
            Verdict::of(State::Closed, true, Driver::Connect, true),
            Verdict::Fail
        );
        assert_eq!(
            Verdict::of(State::Open, true, Driver::Smtp, true),
            Verdict::Fail
        );
    }

    #[test]
    fn open_filtered_is_never_a_pass() {
        for required in [true, false] {
            for driver in [
                Driver::Connect,
                Driver::Snmp,
                Driver::Blind,
                Driver::Kerberos,
            ] {
                assert_ne!(
                    Verdict::of(State::OpenFiltered, required, driver, false),
                    Verdict::Pass
                );
            }
        }
    }

    #[test]
    fn a_check_that_can_verify_passes_only_when_it_did() {
        for path in crate::catalog::CATALOG.iter() {
            for required in [true, false] {
                let open = Verdict::of(State::Open, required, path.driver, false);
                assert_eq!(
                    open == Verdict::Pass,
                    !path.driver.verifies(),
                    "{} open required={required}",
                    path.id_str
                );
            }
        }
    }

    #[test]
    fn some_printer_paths_are_required_only_when_promoted() {
        assert!(is_required(CheckId::Snmp, &[]));
        assert!(!is_required(CheckId::Lst, &[]));
        assert!(is_required(CheckId::Lst, &[CheckId::Lst]));
        assert!(is_required(CheckId::Smtp, &[]));
    }

    #[test]
    fn states_serialize_as_designed() {
        let json = serde_json::to_string(&[State::OpenFiltered, State::Verified]).unwrap();
        assert_eq!(json, r#"["open|filtered","verified"]"#);
    }

    #[test]
    fn hex_head_truncates() {
        assert_eq!(hex_head(&[0xde, 0xad], 16), "dead");
        assert_eq!(hex_head(&[1, 2, 3], 2), "0102…");
        assert_eq!(hex_head(&[], 2), "");
    }
}
