//! The probe drivers, one variant per protocol driver in `probes/`. Everything that is about a
//! driver rather than a check is answered here by an exhaustive `match` (its kind of probe,
//! its transport, whether it can prove the service, what it costs, what its silence means),
//! and its code is chosen by one more in `probes::NetworkProber::probe`. None of these matches
//! has a `_` arm: a new variant does not compile until each of them says what it does.
//!
//! ```compile_fail
//! // A driver nobody dispatches: every exhaustive match over `Driver` refuses it. This
//! // stands for a variant added to the enum without its code, cost and hints.
//! use mve_audit::catalog::Driver;
//! fn code(driver: Driver) -> &'static str {
//!     match driver {
//!         Driver::Connect => "tcp",
//!     }
//! }
//! ```

use serde::Serialize;

use super::{Probe, Transport};

/// The code that probes a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Driver {
    /// TCP connect only: not a byte is sent (RAW 9100 cannot print, the LST handshake port
    /// has no public protocol).
    Connect,
    /// An HTTP `HEAD /` after the connect (`probes/http.rs`).
    Http,
    /// A TLS handshake, then HTTP inside it (`probes/http.rs`).
    Https,
    /// The FTP banner (`probes/ftp.rs`).
    Ftp,
    /// The SMTP banner, EHLO and STARTTLS (`probes/smtp.rs`).
    Smtp,
    /// An anonymous root DSE read (`probes/ldap.rs`).
    Ldap,
    /// A TLS handshake, then the root DSE inside it (`probes/ldap.rs`).
    Ldaps,
    /// A TDS PRELOGIN to SQL Server (`probes/tds.rs`); for a named instance, on the port
    /// the SQL Server Browser hands out.
    Tds,
    /// A certificate authority read, never enrolled with: SCEP, EST or CEP/CES over HTTP(S)
    /// (`probes/ca.rs`).
    Ca,
    /// The CRL distribution points a CA certificate names, fetched and read (`probes/ca.rs`).
    Crl,
    /// The SQL Server Browser asked for a named instance's TCP port, read-only
    /// (`probes/sqlbrowser.rs`, MC-SQLR).
    SqlBrowser,
    /// A Firebird `op_connect` (`probes/firebird.rs`).
    Firebird,
    /// SNMPv3 engine discovery, then a GET of the system group (`probes/snmp.rs`).
    Snmp,
    /// A unicast DNS-SD query, then Lexmark's host configuration (`probes/mdns.rs`).
    Mdns,
    /// An AS-REQ for an unknown principal, which every KDC answers (`probes/kerberos.rs`).
    Kerberos,
    /// A minimal datagram to a Lexmark protocol with no public wire format, with a control
    /// probe next door to read silence (`probes/blind.rs`).
    Blind,
    /// A path toward the MVE server: tested by `listen`, never by `check`.
    Inbound,
}

/// A TCP driver's conversation after the handshake has this many timeouts of its own: TLS on
/// an embedded CPU can take most of a second.
pub const CONVERSATION_TIMEOUTS: u32 = 2;

/// What one probe of a driver costs at worst, in packets the prober paces and timeouts waited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CostModel {
    /// A UDP request: one datagram per attempt (the first and each retry), `extra` more
    /// (a control probe, a follow-up GET), at least `at_least` in all; every attempt's
    /// timeout waited.
    Datagrams { extra: u32, at_least: u32 },
    /// A TCP connect (one paced SYN) waited for one timeout, then a conversation of
    /// `conversation` timeouts.
    Connect { conversation: u32 },
    /// Nothing sent.
    Nothing,
}

impl Driver {
    /// The kind of probe, which decides how silence is read.
    pub const fn probe(self) -> Probe {
        match self {
            Driver::Connect
            | Driver::Http
            | Driver::Https
            | Driver::Ftp
            | Driver::Smtp
            | Driver::Ldap
            | Driver::Ldaps
            | Driver::Tds
            | Driver::Firebird
            | Driver::Ca
            | Driver::Crl => Probe::Connect,
            Driver::Snmp | Driver::Mdns | Driver::Kerberos | Driver::SqlBrowser => {
                Probe::UdpRequest
            }
            Driver::Blind => Probe::UdpBlind,
            Driver::Inbound => Probe::Inbound,
        }
    }

    /// The transport the driver probes over; `None` for inbound paths, which have both.
    pub const fn transport(self) -> Option<Transport> {
        match self.probe() {
            Probe::Connect => Some(Transport::Tcp),
            Probe::UdpRequest | Probe::UdpBlind => Some(Transport::Udp),
            Probe::Inbound => None,
        }
    }

    /// Whether the driver speaks enough of the protocol to prove a real service answers
    /// (`verified`). A check whose driver can verify passes only when it did.
    pub const fn verifies(self) -> bool {
        match self {
            Driver::Http
            | Driver::Https
            | Driver::Ftp
            | Driver::Smtp
            | Driver::Ldap
            | Driver::Ldaps
            | Driver::Tds
            | Driver::Firebird
            | Driver::Snmp
            | Driver::Mdns
            | Driver::Kerberos
            | Driver::SqlBrowser
            | Driver::Ca
            | Driver::Crl => true,
            // No byte is sent, or the protocol has no public format: the path is all a
            // probe can show (an XMLNT exception document verifies, but silence is normal).
            Driver::Connect | Driver::Blind | Driver::Inbound => false,
        }
    }

    /// The estimate's cost model.
    pub const fn cost(self) -> CostModel {
        match self {
            Driver::Connect => CostModel::Connect { conversation: 0 },
            // Up to three requests (SCEP's two, or EST's one after a SCEP that was not there),
            // each its own connection; the CRL check reads the CA, then its CRLs.
            Driver::Ca | Driver::Crl => CostModel::Connect {
                conversation: 3 * CONVERSATION_TIMEOUTS,
            },
            Driver::Http
            | Driver::Https
            | Driver::Ftp
            | Driver::Smtp
            | Driver::Ldap
            | Driver::Ldaps
            | Driver::Tds
            | Driver::Firebird => CostModel::Connect {
                conversation: CONVERSATION_TIMEOUTS,
            },
            // Discovery, then one GET, which overlaps the discovery's retries after silence.
            Driver::Snmp => CostModel::Datagrams {
                extra: 1,
                at_least: 0,
            },
            // Up to three queries when a Lexmark printer answers.
            Driver::Mdns => CostModel::Datagrams {
                extra: 0,
                at_least: 3,
            },
            Driver::Kerberos => CostModel::Datagrams {
                extra: 0,
                at_least: 0,
            },
            // After silence for the instance, one question for every instance of the host.
            Driver::SqlBrowser => CostModel::Datagrams {
                extra: 1,
                at_least: 0,
            },
            // The control probe next door.
            Driver::Blind => CostModel::Datagrams {
                extra: 1,
                at_least: 0,
            },
            Driver::Inbound => CostModel::Nothing,
        }
    }

    /// Whether the driver probes only a target that names a SQL Server instance.
    pub const fn needs_instance(self) -> bool {
        match self {
            Driver::SqlBrowser => true,
            Driver::Ca
            | Driver::Crl
            | Driver::Connect
            | Driver::Http
            | Driver::Https
            | Driver::Ftp
            | Driver::Smtp
            | Driver::Ldap
            | Driver::Ldaps
            | Driver::Tds
            | Driver::Firebird
            | Driver::Snmp
            | Driver::Mdns
            | Driver::Kerberos
            | Driver::Blind
            | Driver::Inbound => false,
        }
    }

    /// What an unanswered probe of this driver means, added to the hint of a silent cell.
    pub const fn silence_hint(self) -> Option<&'static str> {
        match self {
            Driver::Blind => Some(
                "No public wire format exists, so silence alone does not prove the path is broken.",
            ),
            Driver::Kerberos => {
                Some("A KDC answers even an unknown principal, so silence means it is not reached.")
            }
            Driver::SqlBrowser => Some(
                "The Browser answers every host's instance list, so silence means it is off or \
                 not reached.",
            ),
            Driver::Snmp | Driver::Mdns => None,
            // TCP drivers are never silent in this sense (a SYN unanswered is filtered).
            Driver::Connect
            | Driver::Http
            | Driver::Https
            | Driver::Ftp
            | Driver::Smtp
            | Driver::Ldap
            | Driver::Ldaps
            | Driver::Tds
            | Driver::Firebird
            | Driver::Ca
            | Driver::Crl
            | Driver::Inbound => None,
        }
    }
}
