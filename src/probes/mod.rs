//! Thin async drivers: a transport exchange plus a codec, turned into one finding with its
//! evidence. Each check speaks just enough of its protocol to reach `verified` when a real
//! service answers (README "What each check proves"; ARCHITECTURE.md).

// Network input is hostile: no unwrap, expect or unchecked indexing outside tests.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic
    )
)]

// One file per driver, named after its `Driver` variant; `tcp` and `udp` hold the steps the
// drivers of each transport share, `snmp_client` the SNMP GET through async-snmp.
mod blind;
mod ca;
mod firebird;
mod ftp;
mod http;
mod kerberos;
mod ldap;
mod mdns;
#[cfg(test)]
mod peer;
mod smtp;
mod snmp;
mod snmp_client;
mod sqlbrowser;
pub(crate) mod tcp;
mod tds;
pub(crate) mod udp;

use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;

use tokio::time::Instant;

use crate::catalog::{CONVERSATION_TIMEOUTS, CheckId, Driver, MveSide};
use crate::clock::{self, date_text, humanize};
use crate::engine::{Job, Prober, Timing};
use crate::results::{Evidence, Finding, State, Unproven};
use crate::transport::tls::TlsFacts;
use crate::transport::{
    self, Context, Pacer, SourcePort, TcpOutcome, UdpExchange, UdpOptions, classify,
};

pub use blind::CONTROL_PORT;
pub use snmp_client::{
    AsyncSnmp, SnmpAuth, SnmpCredentials, SnmpGetError, SnmpGetter, SnmpPriv, SystemInfo,
    UnknownProtocol,
};

/// Settings every probe shares.
#[derive(Debug, Clone)]
pub struct ProbeSettings {
    pub timing: Timing,
    /// The realm named in the Kerberos AS-REQ.
    pub kerberos_realm: String,
    pub snmp: SnmpCredentials,
    /// Request bytes for the checks with no public wire format, from a profile.
    pub payloads: BTreeMap<CheckId, Vec<u8>>,
}

/// What a TCP driver says after the handshake: one per TCP driver, chosen in `probe`.
#[derive(Debug, Clone, Copy)]
enum Talk {
    Nothing,
    Http,
    Https,
    Ftp,
    Smtp,
    Ldap,
    Ldaps,
    Tds,
    Firebird,
}

/// Connects a TCP second look staggers within its timeout (`transport::connect_staggered`):
/// five SYNs in 2 s with the kernel's retransmissions, against two for a first look.
const SECOND_LOOK_CONNECTS: u32 = 3;

/// Certificates closer than this to expiry warn.
const CERT_WARN_DAYS: i64 = 30;

/// How the UDP drivers reach a peer: through this host's network, or in the drivers' unit
/// tests a scripted peer.
pub trait Datagrams: Send + Sync + 'static {
    /// Sends `payload` to `peer` (with retries) and waits for an answer, as
    /// `transport::exchange` does.
    fn exchange(
        &self,
        peer: SocketAddr,
        payload: &[u8],
        options: UdpOptions,
        pacer: &Pacer,
    ) -> impl Future<Output = UdpExchange> + Send;
}

/// Datagrams over real sockets.
#[derive(Debug, Default)]
pub struct Network;

impl Datagrams for Network {
    fn exchange(
        &self,
        peer: SocketAddr,
        payload: &[u8],
        options: UdpOptions,
        pacer: &Pacer,
    ) -> impl Future<Output = UdpExchange> + Send {
        transport::exchange(peer, payload, options, pacer)
    }
}

/// The real prober: sockets on this host's network.
#[derive(Debug)]
pub struct NetworkProber<G: SnmpGetter = AsyncSnmp, D: Datagrams = Network> {
    settings: ProbeSettings,
    pacer: Pacer,
    snmp_getter: G,
    datagrams: D,
}

impl NetworkProber {
    pub fn new(settings: ProbeSettings) -> NetworkProber {
        NetworkProber::with_parts(settings, AsyncSnmp::default(), Network)
    }
}

impl<G: SnmpGetter, D: Datagrams> NetworkProber<G, D> {
    /// A prober whose SNMPv3 GETs and datagrams go through `snmp_getter` and `datagrams`.
    pub fn with_parts(settings: ProbeSettings, snmp_getter: G, datagrams: D) -> Self {
        let pacer = Pacer::new(settings.timing.rate, settings.timing.host_rate);
        NetworkProber {
            settings,
            pacer,
            snmp_getter,
            datagrams,
        }
    }

    /// A TCP connect, then the driver's conversation on the stream.
    async fn tcp(&self, job: &Job, talk: Talk) -> Finding {
        self.tcp_to(job, job.peer, talk).await
    }

    /// SQL Server: TDS on the port given, or for a named instance on the port the SQL Server
    /// Browser hands out.
    async fn sqlserver(&self, job: &Job) -> Finding {
        let Some(instance) = job.row.target.instance.clone() else {
            return Box::pin(self.tcp(job, Talk::Tds)).await;
        };
        let browser_port = CheckId::SqlBrowser
            .path()
            .peer
            .default_port()
            .unwrap_or(1434);
        let browser = std::net::SocketAddr::new(job.peer.ip(), browser_port);
        let lookup = Box::pin(self.look_up(job, browser, &instance)).await;
        let fix = match &lookup {
            sqlbrowser::Lookup::Unknown(instances) => format!(
                "The host has no instance {instance} (the SQL Server Browser lists {}): give MVE \
                 the right instance name.",
                instances
                    .iter()
                    .map(|i| i.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            sqlbrowser::Lookup::NoTcp(_) => format!(
                "Instance {instance} has TCP/IP disabled: enable it in SQL Server Configuration \
                 Manager and restart the instance."
            ),
            _ => "MVE finds a named instance's port through the SQL Server Browser: see the \
                  sql-browser cell for why it gave none."
                .to_string(),
        };
        let why = match lookup {
            sqlbrowser::Lookup::Port(_, port) => {
                let peer = std::net::SocketAddr::new(job.peer.ip(), port);
                let mut finding = Box::pin(self.tcp_to(job, peer, Talk::Tds)).await;
                finding.port = Some(port);
                finding.evidence.notes.push(format!(
                    "instance {instance}: TCP {port}, from the SQL Server Browser"
                ));
                return finding;
            }
            sqlbrowser::Lookup::NoTcp(_) => "has TCP/IP disabled".to_string(),
            sqlbrowser::Lookup::BadPort(_, bad) => {
                format!("is handed out with TCP port '{bad}', which is no port")
            }
            sqlbrowser::Lookup::Unknown(_) => "is not on this host".to_string(),
            sqlbrowser::Lookup::NotBrowser(..) => "could not be looked up: UDP 1434 answers, \
                                                   but not as the SQL Server Browser"
                .to_string(),
            sqlbrowser::Lookup::Silent(_) => {
                "could not be looked up: the SQL Server Browser (UDP 1434) did not answer"
                    .to_string()
            }
        };
        // No port was probed: the cell names none (port 0 reads "no port"), not the default
        // 1433 a named instance does not use.
        Finding {
            port: Some(0),
            ..Finding::new(
                State::Error,
                Evidence::new(format!(
                    "instance {instance} {why}: no TCP port was probed (see the sql-browser cell)"
                )),
            )
        }
        .warn(fix)
    }

    /// The connection a TCP connect to `peer` made, or the cell its failure decides: filtered
    /// on silence, closed on a reset, the ICMP message's state otherwise (which counts against
    /// the host's ICMP budget). The error is the cell itself, made once per probe.
    #[allow(clippy::result_large_err)]
    fn connected(
        &self,
        peer: std::net::SocketAddr,
        outcome: TcpOutcome,
    ) -> Result<tokio::net::TcpStream, Finding> {
        match outcome {
            TcpOutcome::Connected(stream) => Ok(stream),
            TcpOutcome::TimedOut => Err(Finding::new(
                State::Filtered,
                Evidence::new(format!(
                    "no answer to the TCP SYN within {}",
                    humanize(self.settings.timing.timeout)
                )),
            )),
            // A reset once the handshake is done (a reset to the SYN is ECONNREFUSED): a
            // listener took the connection and dropped it at once. The port is open; the
            // service turned this server away, which a working path never does.
            TcpOutcome::Failed(err) if err.kind() == std::io::ErrorKind::ConnectionReset => {
                let mut evidence = Evidence::new(
                    "TCP handshake completed, then the server reset the connection at once",
                );
                evidence.errno = Some(classify(&err, Context::TcpConnect).errno);
                Err(
                    Finding::unproven(evidence, Unproven::CutShort).warn(format!(
                        "tcp {} accepted the connection and reset it at once: the service turns \
                     this server away (an access list, a connection limit, or the printer's \
                     restricted-server list); let the MVE server in",
                        peer.port()
                    )),
                )
            }
            TcpOutcome::Failed(err) => {
                // Anything but a reset came back as ICMP, from the host's error budget.
                if err.kind() != std::io::ErrorKind::ConnectionRefused {
                    self.pacer.observed_error(peer.ip());
                }
                Err(classify(&err, Context::TcpConnect).finding())
            }
            TcpOutcome::Local(err) => Err(Finding::new(
                State::Error,
                Evidence::new(format!("could not open a TCP socket: {err}")),
            )),
        }
    }

    /// A TCP connect to `peer`, then the driver's conversation on the stream.
    async fn tcp_to(&self, job: &Job, peer: std::net::SocketAddr, talk: Talk) -> Finding {
        let timeout = self.settings.timing.timeout;
        // A second look (on a path that has shown loss) does not leave its SYNs to the
        // kernel's one retransmission: it staggers its own.
        let attempt = if job.again {
            transport::connect_staggered(peer, timeout, &self.pacer, SECOND_LOOK_CONNECTS).await
        } else {
            transport::connect(peer, timeout, &self.pacer).await
        };
        let mut finding = match self.connected(peer, attempt.outcome) {
            Ok(stream) => {
                // The conversation after the handshake gets its own budget. Boxed, so a probe
                // still waiting on its SYN does not carry a TLS conversation's state.
                let deadline = Instant::now() + timeout * CONVERSATION_TIMEOUTS;
                let host = job.host();
                match talk {
                    // RAW 9100 and the LST handshake port: dropping the stream closes it; not
                    // a byte is written, so nothing can print.
                    Talk::Nothing => {
                        Finding::new(State::Open, Evidence::new("TCP handshake completed"))
                    }
                    Talk::Http => Box::pin(http::http(stream, host, deadline)).await,
                    Talk::Https => Box::pin(http::https(stream, host, deadline)).await,
                    Talk::Ftp => Box::pin(ftp::ftp(stream, deadline)).await,
                    Talk::Smtp => {
                        let peer = smtp::SmtpPeer {
                            local: stream.local_addr().ok().map(|a| a.ip()),
                            tls_name: &peer.ip().to_string(),
                        };
                        Box::pin(smtp::smtp(stream, peer, deadline)).await
                    }
                    Talk::Ldap => Box::pin(ldap::ldap(stream, deadline)).await,
                    Talk::Ldaps => Box::pin(ldap::ldaps(stream, host, deadline)).await,
                    Talk::Tds => Box::pin(tds::sqlserver(stream, deadline)).await,
                    Talk::Firebird => Box::pin(firebird::firebird(stream, deadline)).await,
                }
            }
            Err(finding) => finding,
        };
        finding.evidence.set_rtt(attempt.rtt);
        finding.evidence.source_port = attempt.source_port;
        finding
    }
}

impl<G: SnmpGetter + 'static, D: Datagrams> Prober for NetworkProber<G, D> {
    // Each driver's future is boxed, so a probe in flight holds the state of the one driver
    // it runs, not of the largest (a TLS conversation): probes waiting on silence stay small.
    async fn probe(&self, job: &Job) -> Finding {
        let path = job.check.path();
        // One arm per driver and no other: a new driver does not compile until it has code.
        match path.driver {
            Driver::Connect => Box::pin(self.tcp(job, Talk::Nothing)).await,
            Driver::Http => Box::pin(self.tcp(job, Talk::Http)).await,
            Driver::Https => Box::pin(self.tcp(job, Talk::Https)).await,
            Driver::Ftp => Box::pin(self.tcp(job, Talk::Ftp)).await,
            Driver::Smtp => Box::pin(self.tcp(job, Talk::Smtp)).await,
            Driver::Ldap => Box::pin(self.tcp(job, Talk::Ldap)).await,
            Driver::Ldaps => Box::pin(self.tcp(job, Talk::Ldaps)).await,
            Driver::Tds => Box::pin(self.sqlserver(job)).await,
            Driver::Firebird => Box::pin(self.tcp(job, Talk::Firebird)).await,
            Driver::Snmp => Box::pin(self.snmp(job)).await,
            Driver::Mdns => Box::pin(self.mdns(job)).await,
            Driver::Kerberos => Box::pin(self.kerberos(job)).await,
            Driver::SqlBrowser => Box::pin(self.sql_browser(job)).await,
            Driver::Ca => Box::pin(self.ca(job)).await,
            Driver::Crl => Box::pin(self.crl(job)).await,
            Driver::Blind => {
                let source = match path.mve_side {
                    MveSide::Source(port) => SourcePort::Fixed(port),
                    MveSide::Ephemeral | MveSide::Listens(_) => SourcePort::Ephemeral,
                };
                Box::pin(self.blind(job, source)).await
            }
            Driver::Inbound => Finding::new(
                State::Error,
                Evidence::new("an inbound path is tested with `mve-audit listen`"),
            ),
        }
    }

    async fn admit(&self) {
        self.pacer.admit().await;
    }

    /// Four times the driver's worst case (every wait spent, every retry sent; the CRL
    /// check's four distribution points run past its cost model's 7 timeouts to 25) and half
    /// a minute more for pacing and second looks: no probe that works as designed comes near
    /// it, and none that does not outlives it.
    ///
    /// None where a probe may queue for its fixed source port (NPAP and XMLNT from 9187, LST
    /// from 6100 on Windows, where probes take turns on the port rather than share it): the
    /// wait for a turn grows with the fleet, not with a fault. Those exchanges are still
    /// bounded, each wait by its deadline (`transport::udp::listen_until`).
    fn ceiling(&self, job: &Job) -> Option<std::time::Duration> {
        if queues_for_its_source_port(job.check) {
            return None;
        }
        let worst = crate::engine::estimate::cost(job.check, self.settings.timing).wait;
        Some(worst * 4 + CEILING_SLACK)
    }
}

/// Whether probes of `check` take turns on a fixed source port (NPAP and XMLNT from 9187,
/// LST from 6100) instead of sharing it: on Windows, where sharing would let us steal MVE's.
fn queues_for_its_source_port(check: CheckId) -> bool {
    let path = check.path();
    matches!(path.driver, Driver::Blind)
        && matches!(path.mve_side, MveSide::Source(_))
        && !crate::transport::sys::SHARES_SOURCE_PORT
}

/// What a probe's ceiling allows beyond four worst cases (`Prober::ceiling`).
const CEILING_SLACK: std::time::Duration = std::time::Duration::from_secs(30);

/// TLS facts as evidence, and the warning an expired or expiring certificate deserves.
fn tls_evidence(facts: &TlsFacts) -> (Evidence, Option<String>) {
    let mut evidence = Evidence::new("");
    evidence.fact("tls_version", facts.version.clone());
    evidence.fact("tls_cipher", facts.cipher.clone());
    let Some(cert) = &facts.cert else {
        if let Some(why) = &facts.cert_error {
            evidence.fact("cert_error", why.clone());
        }
        return (evidence, None);
    };
    let now = clock::unix_now();
    let days_left = (cert.not_after - now).div_euclid(86_400);
    evidence.fact("cert_subject", cert.subject.clone());
    evidence.fact("cert_issuer", cert.issuer.clone());
    evidence.fact("cert_sans", cert.sans.clone());
    evidence.fact("cert_not_before", date_text(cert.not_before));
    evidence.fact("cert_not_after", date_text(cert.not_after));
    evidence.fact("cert_days_left", days_left);
    evidence.fact("cert_self_signed", cert.self_issued);
    let warning = if cert.not_after < now {
        Some(format!(
            "The certificate expired on {} ({} days ago): renew or replace it on the device; \
             MVE and browsers refuse or warn on expired certificates.",
            date_text(cert.not_after),
            -days_left
        ))
    } else if days_left < CERT_WARN_DAYS {
        Some(format!(
            "The certificate expires on {} (in {days_left} days): renew it soon.",
            date_text(cert.not_after)
        ))
    } else if cert.not_before > now {
        Some(format!(
            "The certificate is not valid before {}: check the device's clock.",
            date_text(cert.not_before)
        ))
    } else {
        None
    };
    (evidence, warning)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The ceiling outlasts the longest conversation any driver can hold (the CRL check:
    /// SCEP's two requests, EST's one, four distribution points: 25 timeouts), and a probe
    /// that queues for a fixed source port (Windows) has none: its wait is the fleet's.
    #[test]
    fn every_ceiling_outlasts_the_longest_conversation() {
        let prober = NetworkProber::new(peer::settings());
        let timeout = peer::settings().timing.timeout;
        for check in CheckId::ALL {
            let job = peer::job_to(check, "127.0.0.1:9".parse().unwrap());
            let path = check.path();
            let queues = queues_for_its_source_port(check);
            match prober.ceiling(&job) {
                Some(limit) => {
                    assert!(!queues, "{check:?}");
                    let worst = crate::engine::estimate::cost(check, peer::settings().timing);
                    assert!(limit >= worst.wait * 3, "{check:?}: {limit:?}");
                    if matches!(path.driver, Driver::Ca | Driver::Crl) {
                        assert!(limit >= timeout * 25, "{check:?}: {limit:?}");
                    }
                }
                None => assert!(queues, "{check:?} has no ceiling"),
            }
        }
    }

    /// The connect-only paths (RAW 9100, the LST handshake port) on loopback: a listener is
    /// open with the handshake's timing, a port nobody holds is closed by the reset.
    #[tokio::test]
    async fn connect_only_checks_are_open_or_closed_by_the_handshake() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let open_at = listener.local_addr().unwrap();
        let unused = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let closed_at = unused.local_addr().unwrap();
        drop(unused);
        let prober = NetworkProber::new(peer::settings());
        let open = prober.probe(&peer::job_to(CheckId::Raw, open_at)).await;
        assert_eq!(open.state, State::Open, "{open:?}");
        assert!(open.evidence.rtt_ms.is_some(), "{open:?}");
        let closed = prober
            .probe(&peer::job_to(CheckId::LstHandshake, closed_at))
            .await;
        assert_eq!(closed.state, State::Closed, "{closed:?}");
        let refused = if cfg!(windows) {
            "WSAECONNREFUSED"
        } else {
            "ECONNREFUSED"
        };
        assert_eq!(closed.evidence.errno, Some(refused), "{closed:?}");
    }

    /// How a connect ended, read into a cell: a reset to the SYN is closed, a reset once
    /// the handshake was done is open and turned away (cut short, with a warning naming the
    /// port), which fails a check that can verify and warns on a connect-only one.
    #[test]
    fn a_reset_after_the_handshake_is_open_and_turned_away() {
        use crate::results::{Judge, Verdict};
        let prober = NetworkProber::new(peer::settings());
        let peer: std::net::SocketAddr = "192.0.2.7:9100".parse().unwrap();
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        let closed = prober
            .connected(peer, TcpOutcome::Failed(refused))
            .unwrap_err();
        assert_eq!(closed.state, State::Closed);
        let reset = std::io::Error::from(std::io::ErrorKind::ConnectionReset);
        let turned_away = prober
            .connected(peer, TcpOutcome::Failed(reset))
            .unwrap_err();
        assert_eq!(turned_away.state, State::Open, "{turned_away:?}");
        assert_eq!(turned_away.unproven, Some(Unproven::CutShort));
        assert_eq!(turned_away.evidence.errno, Some("ECONNRESET"));
        let warning = turned_away.warning.clone().unwrap();
        assert!(
            warning.contains("tcp 9100") && warning.contains("reset"),
            "{warning}"
        );
        let mut judge = Judge::new(&[]);
        for (check, verdict) in [
            (CheckId::Raw, Verdict::Warn),
            (CheckId::Http, Verdict::Fail),
        ] {
            let done = crate::results::Done {
                row: 0,
                label: "192.0.2.7".into(),
                role: crate::catalog::Role::Printer,
                address: Some(peer.ip()),
                check,
                port: 9100,
                finding: turned_away.clone(),
            };
            assert_eq!(judge.judge(&done).verdict, verdict, "{check}");
        }
    }

    /// What a probe waiting on silence holds is what a fleet run's memory is made of
    /// (thousands in flight): the drivers box what they pass on, so a future is not stored
    /// twice (once as an argument, once as the running state).
    #[test]
    fn probes_in_flight_stay_small() {
        let prober = NetworkProber::new(peer::settings());
        let job = peer::job(CheckId::Npap, 9300);
        let peer = job.peer;
        let sizes = [
            ("probe", std::mem::size_of_val(&prober.probe(&job))),
            ("tcp", std::mem::size_of_val(&prober.tcp(&job, Talk::Https))),
            ("snmp", std::mem::size_of_val(&prober.snmp(&job))),
            ("mdns", std::mem::size_of_val(&prober.mdns(&job))),
            ("kerberos", std::mem::size_of_val(&prober.kerberos(&job))),
            (
                "exchange",
                std::mem::size_of_val(&prober.exchange(
                    peer,
                    &[],
                    SourcePort::Ephemeral,
                    udp::UdpSchedule::plain(0),
                )),
            ),
            (
                "blind",
                std::mem::size_of_val(&prober.blind(&job, SourcePort::Ephemeral)),
            ),
        ];
        // Every UDP probe in flight holds a boxed exchange (two while its control probe runs):
        // it has the tighter bound.
        let bound = |driver: &str| if driver == "exchange" { 768 } else { 1024 };
        let big: Vec<String> = sizes
            .iter()
            .filter(|(driver, size)| *size > bound(driver))
            .map(|(driver, size)| format!("{driver}: {size} bytes"))
            .collect();
        assert!(
            big.is_empty(),
            "futures over their bound: {big:?} (all: {sizes:?})"
        );
    }
}
