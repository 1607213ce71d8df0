//! The static table of every network path MVE needs, taken from the vendor's
//! "Understanding ports and protocols" page, with its oddities kept visible.

mod data;
mod driver;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

pub use data::CATALOG;
pub use driver::{CONVERSATION_TIMEOUTS, CostModel, Driver};

/// Declares `CheckId` and `CheckId::ALL` from one list, in catalog order.
macro_rules! check_ids {
    ($($variant:ident,)*) => {
        /// A catalog id, the name users type in `--checks`, `--skip` and `--port`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        #[serde(rename_all = "kebab-case")]
        pub enum CheckId {
            $($variant,)*
        }

        impl CheckId {
            /// Every id, in catalog order.
            pub const ALL: [CheckId; [$(CheckId::$variant,)*].len()] = [$(CheckId::$variant,)*];
        }
    };
}

check_ids! {
    Npap,
    Xmlnt,
    Lst,
    LstHandshake,
    Mdns,
    Snmp,
    Ftp,
    Http,
    Https,
    Raw,
    NpapAlerts,
    SqlBrowser,
    Sqlserver,
    Firebird,
    Console,
    Smtp,
    Ldap,
    Ldaps,
    Kerberos,
    Ca,
    Crl,
}

impl CheckId {
    pub fn as_str(self) -> &'static str {
        self.path().id_str
    }

    /// The catalog entry for this id.
    pub fn path(self) -> &'static Path {
        // CATALOG is ordered like ALL; a unit test guards that.
        &CATALOG[self as usize]
    }
}

impl fmt::Display for CheckId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not a catalog id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown check '{0}' (known checks: {list})", list = known_ids())]
pub struct UnknownCheck(pub String);

fn known_ids() -> String {
    CheckId::ALL.map(CheckId::as_str).join(", ")
}

impl FromStr for CheckId {
    type Err = UnknownCheck;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_lowercase();
        CheckId::ALL
            .into_iter()
            .find(|id| id.as_str() == wanted)
            .ok_or_else(|| UnknownCheck(s.to_string()))
    }
}

/// Read as `--checks` reads it (`RAW` is `raw`), so a profile and a flag take the same names.
impl<'de> Deserialize<'de> for CheckId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Name;
        impl serde::de::Visitor<'_> for Name {
            type Value = CheckId;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a check id in quotes, such as \"raw\"")
            }
            fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<CheckId, E> {
                value.parse().map_err(E::custom)
            }
        }
        d.deserialize_str(Name)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    Tcp,
    Udp,
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Transport::Tcp => "tcp",
            Transport::Udp => "udp",
        })
    }
}

/// Who starts the conversation, in the vendor's grouping.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Direction {
    ServerToPrinter,
    PrinterToServer,
    ServerToDatabase,
    BrowserToServer,
    ServerToMail,
    ServerToDirectory,
    ServerToKdc,
    ServerToCa,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::ServerToPrinter => "server→printer",
            Direction::PrinterToServer => "printer→server",
            Direction::ServerToDatabase => "server→database",
            Direction::BrowserToServer => "browser→server",
            Direction::ServerToMail => "server→mail",
            Direction::ServerToDirectory => "server→directory",
            Direction::ServerToKdc => "server→KDC",
            Direction::ServerToCa => "server→CA",
        }
    }
}

/// The kind of target a check is aimed at; a check whose role has no target is left out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    Printer,
    Sqlserver,
    Firebird,
    Smtp,
    Ldap,
    Ldaps,
    Kerberos,
    /// A certificate authority MVE enrolls printer certificates from (MVE 4.x).
    Ca,
    /// The MVE server itself: inbound paths, tested by `listen`, not by `check`.
    Server,
}

impl Role {
    /// The roles named by a flag of their own (`--sqlserver`, …) and a profile key of the same
    /// name under `[targets]`, in the order `--help` lists them after `--printers`.
    pub const SERVICES: [Role; 7] = [
        Role::Sqlserver,
        Role::Firebird,
        Role::Smtp,
        Role::Ldap,
        Role::Ldaps,
        Role::Kerberos,
        Role::Ca,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Printer => "printer",
            Role::Sqlserver => "sqlserver",
            Role::Firebird => "firebird",
            Role::Smtp => "smtp",
            Role::Ldap => "ldap",
            Role::Ldaps => "ldaps",
            Role::Kerberos => "kerberos",
            Role::Ca => "ca",
            Role::Server => "server",
        }
    }

    /// What a target of this role is, for its flag's help.
    pub fn what(self) -> &'static str {
        match self {
            Role::Printer => "Printers",
            Role::Sqlserver => "SQL Server database",
            Role::Firebird => "Firebird database",
            Role::Smtp => "Mail server for e-mail alerts",
            Role::Ldap => "LDAP directory",
            Role::Ldaps => "LDAPS directory",
            Role::Kerberos => "Kerberos KDC",
            Role::Ca => "Certificate authority URL: SCEP, EST or CEP/CES (read-only)",
            Role::Server => "The MVE server",
        }
    }

    /// What the flag takes, for `--help`.
    pub fn value_name(self) -> &'static str {
        match self {
            Role::Ca => "URL",
            Role::Sqlserver => "HOST[:PORT]|HOST\\INSTANCE",
            Role::Printer
            | Role::Firebird
            | Role::Smtp
            | Role::Ldap
            | Role::Ldaps
            | Role::Kerberos
            | Role::Server => "HOST[:PORT]",
        }
    }

    /// The flag's help: what the target is and the port probed when none is given (the
    /// role's first path in the catalog that every target of the role gets); a URL names
    /// its own port.
    pub fn flag_help(self) -> String {
        if self.value_name() == "URL" {
            return format!("{} (the port is the URL's)", self.what());
        }
        let first = CATALOG
            .iter()
            .find(|p| p.role == self && !p.driver.needs_instance());
        match first.and_then(|p| p.peer.default_port().map(|port| (port, p.transport))) {
            Some((port, Transport::Udp)) => format!("{} (default port {port}/udp)", self.what()),
            Some((port, Transport::Tcp)) => format!("{} (default port {port})", self.what()),
            None => self.what().to_string(),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The port on the MVE server's side of a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "port", rename_all = "kebab-case")]
pub enum MveSide {
    /// Any free port the OS picks.
    Ephemeral,
    /// MVE sends from this fixed source port; firewall rules are often written for it.
    Source(u16),
    /// MVE listens here.
    Listens(u16),
}

impl fmt::Display for MveSide {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MveSide::Ephemeral => f.write_str("ephemeral"),
            MveSide::Source(p) => write!(f, "src {p}"),
            MveSide::Listens(p) => write!(f, "listens {p}"),
        }
    }
}

impl MveSide {
    /// The fixed port on the server's side, when there is one.
    pub fn port(self) -> Option<u16> {
        match self {
            MveSide::Source(port) | MveSide::Listens(port) => Some(port),
            MveSide::Ephemeral => None,
        }
    }
}

/// The port on the far side of a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum PeerSide {
    /// A port fixed by the device.
    Fixed { port: u16 },
    /// The vendor calls it user-defined; this is its default.
    UserDefined { default: u16 },
    /// An inbound path: the peer sends from this port (npap-alerts).
    From { port: u16 },
    /// An inbound path from any port (browsers).
    Any,
}

impl PeerSide {
    /// The port to probe when the user gave none; `None` for inbound paths.
    pub fn default_port(self) -> Option<u16> {
        match self {
            PeerSide::Fixed { port } => Some(port),
            PeerSide::UserDefined { default } => Some(default),
            PeerSide::From { .. } | PeerSide::Any => None,
        }
    }
}

impl fmt::Display for PeerSide {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PeerSide::Fixed { port } => write!(f, "{port}"),
            PeerSide::UserDefined { default } => write!(f, "{default} (user-defined)"),
            PeerSide::From { port } => write!(f, "from {port}"),
            PeerSide::Any => f.write_str("—"),
        }
    }
}

/// How much a failure of this path matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Requirement {
    /// The vendor says it must be open; a failure fails the run.
    Required,
    /// Serves only "some" printers: a failure is a warning unless a profile requires it.
    SomePrinters,
    /// Required whenever the user names a target for it.
    WhenConfigured,
}

impl Requirement {
    pub fn as_str(self) -> &'static str {
        match self {
            Requirement::Required => "required",
            Requirement::SomePrinters => "some printers",
            Requirement::WhenConfigured => "when configured",
        }
    }
}

/// The kind of probe a driver makes, which decides how silence is read (`Driver::probe`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Probe {
    /// TCP connect only; not a byte is sent.
    Connect,
    /// A datagram that a real service of this protocol answers (SNMP engine discovery,
    /// a DNS-SD query, a Kerberos AS-REQ): silence means the path or the service is broken.
    UdpRequest,
    /// A minimal datagram to a protocol with no public wire format: the service may stay
    /// silent, so silence is only a warning.
    UdpBlind,
    /// An inbound path: tested by `listen`, never by `check`.
    Inbound,
}

/// One path of the vendor table, and everything about its check: a new check is one of these
/// rows (and its id above), a driver and its codec.
#[derive(Debug, Clone, Serialize)]
pub struct Path {
    #[serde(rename = "id")]
    pub id_str: &'static str,
    #[serde(skip)]
    pub check: CheckId,
    pub protocol: &'static str,
    pub direction: Direction,
    /// The kind of target the check is aimed at, and so the flag that names one.
    pub role: Role,
    pub transport: Transport,
    pub mve_side: MveSide,
    pub peer: PeerSide,
    pub used_for: &'static str,
    pub requirement: Requirement,
    /// The code that probes it; the catalog's JSON shows the driver's kind of probe.
    #[serde(rename = "probe", serialize_with = "probe_of")]
    pub driver: Driver,
    pub notes: &'static [&'static str],
    /// What the fix hints call the service ("SQL Server TCP/IP", "the KDC").
    #[serde(skip)]
    pub short_name: &'static str,
    #[serde(skip)]
    pub hints: Hints,
}

impl Path {
    /// The kind of probe its driver makes.
    pub fn probe(&self) -> Probe {
        self.driver.probe()
    }

    /// The port the MVE server listens on for an inbound path (alerts: UDP 9187; the
    /// console: TCP 443); 0 for an outbound one, which a unit test rules out for inbound ids.
    pub fn server_port(&self) -> u16 {
        match self.mve_side {
            MveSide::Listens(port) => port,
            MveSide::Source(_) | MveSide::Ephemeral => 0,
        }
    }

    /// Whether `check` runs it (paths toward the server are `listen`'s).
    pub fn is_outbound(&self) -> bool {
        self.probe() != Probe::Inbound
    }
}

fn probe_of<S: serde::Serializer>(driver: &Driver, s: S) -> Result<S::Ok, S::Error> {
    driver.probe().serialize(s)
}

/// A check's own sentences for its fix hints, added to the general one of the cell's state.
#[derive(Debug, Clone, Copy, Default)]
pub struct Hints {
    /// Added to every hint of the check.
    pub always: Option<&'static str>,
    /// Added when nothing listens or a firewall stops it (closed, filtered).
    pub unreachable: Option<&'static str>,
    /// For a path toward the server: the whole hint, `{port}` standing for its port.
    pub inbound: Option<&'static str>,
}

impl Hints {
    /// No sentences of its own.
    pub const NONE: Hints = Hints {
        always: None,
        unreachable: None,
        inbound: None,
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_order_matches_check_ids() {
        assert_eq!(CATALOG.len(), CheckId::ALL.len());
        for (index, id) in CheckId::ALL.into_iter().enumerate() {
            assert_eq!(CATALOG[index].check, id, "catalog row {index}");
            assert_eq!(id.path().check, id);
        }
    }

    #[test]
    fn ids_round_trip_through_text_and_serde() {
        for id in CheckId::ALL {
            assert_eq!(id.as_str().parse::<CheckId>(), Ok(id));
            let json = serde_json::to_string(&id).unwrap();
            assert_eq!(json, format!("\"{}\"", id.as_str()));
        }
        assert_eq!(
            "LST-Handshake".parse::<CheckId>(),
            Ok(CheckId::LstHandshake)
        );
    }

    #[test]
    fn unknown_id_lists_the_known_ones() {
        let err = "telnet".parse::<CheckId>().unwrap_err();
        let text = err.to_string();
        assert!(text.contains("'telnet'"), "{text}");
        assert!(text.contains("lst-handshake"), "{text}");
    }

    #[test]
    fn only_inbound_paths_lack_a_port_to_probe() {
        for path in CATALOG.iter() {
            let inbound = path.probe() == Probe::Inbound;
            assert_eq!(
                path.peer.default_port().is_none(),
                inbound,
                "{}",
                path.id_str
            );
            assert_eq!(path.role == Role::Server, inbound, "{}", path.id_str);
            assert_eq!(path.server_port() != 0, inbound, "{}", path.id_str);
        }
    }

    #[test]
    fn every_role_of_a_target_has_a_flag() {
        for path in CATALOG.iter() {
            let role = path.role;
            let flagged = role == Role::Printer || Role::SERVICES.contains(&role);
            assert_eq!(flagged, path.is_outbound(), "{}", path.id_str);
        }
        assert_eq!(
            Role::Sqlserver.flag_help(),
            "SQL Server database (default port 1433)"
        );
        assert_eq!(
            Role::Kerberos.flag_help(),
            "Kerberos KDC (default port 88/udp)"
        );
    }

    #[test]
    fn vendor_oddities_stay_visible() {
        let https = CheckId::Https.path();
        assert!(https.notes.iter().any(|n| n.contains("TCP 161")));
        assert!(
            CheckId::NpapAlerts
                .path()
                .notes
                .iter()
                .any(|n| n.contains("stateful"))
        );
        assert!(
            CheckId::Ftp
                .path()
                .notes
                .iter()
                .any(|n| n.contains("TCP 20"))
        );
    }
}
