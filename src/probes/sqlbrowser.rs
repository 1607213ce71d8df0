//! The SQL Server Browser (UDP 1434, MC-SQLR): which TCP port a named instance listens on.
//! Read-only: the instance is asked for by name; when that draws silence, the host's list of
//! instances tells "instance unknown" from "Browser off or not reached". The `sql-browser`
//! cell reports what the Browser said; the `sqlserver` cell of a named instance probes TDS on
//! the port it handed out (`Lookup::port`).

use std::net::SocketAddr;

use super::snmp_client::SnmpGetter;
use super::udp::UdpSchedule;
use super::{Datagrams, NetworkProber};
use crate::engine::Job;
use crate::results::{Evidence, Finding, State, Unproven};
use crate::transport::evidence::{no_reply, reply_evidence};
use crate::transport::{SourcePort, UdpExchange, UdpOutcome};
use crate::wire::mcsqlr::{self, Instance};

/// What the Browser said of one instance.
pub(super) enum Lookup {
    /// The instance and its TCP port.
    Port(Instance, u16),
    /// The instance, with TCP/IP disabled (named pipes or other protocols only).
    NoTcp(Instance),
    /// The instance, with a `tcp` value that is no port: a broken answer.
    BadPort(Instance, String),
    /// The Browser answered for the host but does not know the instance.
    Unknown(Vec<Instance>),
    /// An answer that is not MC-SQLR.
    NotBrowser(Vec<u8>, UdpExchange),
    /// No answer to either question (or an ICMP error): the transport's reading of it.
    Silent(UdpExchange),
}

impl<G: SnmpGetter, D: Datagrams> NetworkProber<G, D> {
    /// Asks the Browser at `browser` for `instance`; on silence, for every instance.
    pub(super) async fn look_up(&self, job: &Job, browser: SocketAddr, instance: &str) -> Lookup {
        let asked = self
            .exchange(
                browser,
                &mcsqlr::instance_request(instance),
                SourcePort::Ephemeral,
                self.schedule(job),
            )
            .await;
        let reply = match &asked.outcome {
            UdpOutcome::Reply(bytes) => bytes.clone(),
            UdpOutcome::Silence => {
                // The Browser does not answer for an instance it does not have: ask for the
                // host's list, once, to tell that from a Browser that is not there.
                let every = self
                    .exchange(
                        browser,
                        &mcsqlr::every_instance_request(),
                        SourcePort::Ephemeral,
                        UdpSchedule::plain(0),
                    )
                    .await;
                return match &every.outcome {
                    UdpOutcome::Reply(bytes) => match mcsqlr::parse_response(bytes) {
                        Ok(instances) => match find(&instances, instance) {
                            Some(found) => with_port(found.clone()),
                            None => Lookup::Unknown(instances),
                        },
                        Err(_) => Lookup::NotBrowser(bytes.clone(), every),
                    },
                    _ => Lookup::Silent(asked),
                };
            }
            _ => return Lookup::Silent(asked),
        };
        match mcsqlr::parse_response(&reply) {
            Ok(instances) => match find(&instances, instance) {
                Some(found) => with_port(found.clone()),
                None => Lookup::Unknown(instances),
            },
            Err(_) => Lookup::NotBrowser(reply, asked),
        }
    }

    /// The `sql-browser` cell.
    pub(super) async fn sql_browser(&self, job: &Job) -> Finding {
        let Some(instance) = job.row.target.instance.clone() else {
            return Finding::new(
                State::Error,
                Evidence::new("the SQL Server Browser is asked only for a named instance"),
            );
        };
        let timeout = self.settings.timing.timeout;
        match self.look_up(job, job.peer, &instance).await {
            Lookup::Port(found, port) => {
                let mut evidence = Evidence::new(format!(
                    "instance {} of {} on TCP {port}{}",
                    found.name,
                    found.server,
                    found
                        .version
                        .as_deref()
                        .map(|v| format!(", version {v}"))
                        .unwrap_or_default()
                ));
                evidence.fact("instance", found.name.clone());
                evidence.fact("tcp_port", port);
                if let Some(version) = found.version {
                    evidence.fact("version", version);
                }
                Finding::new(State::Verified, evidence)
            }
            Lookup::NoTcp(found) => {
                let mut evidence = Evidence::new(format!(
                    "instance {} answers, but with no TCP port (protocols: {})",
                    found.name,
                    if found.others.is_empty() {
                        "none".to_string()
                    } else {
                        found.others.join(", ")
                    }
                ));
                evidence.fact("instance", found.name.clone());
                Finding::new(State::Verified, evidence).warn(format!(
                    "Instance {} has TCP/IP disabled, so MVE cannot reach it: enable TCP/IP for \
                     it in SQL Server Configuration Manager and restart the instance.",
                    found.name
                ))
            }
            Lookup::BadPort(found, bad) => {
                let mut evidence = Evidence::new(format!(
                    "instance {} answers with TCP port '{bad}', which is no port (1 to 65535)",
                    found.name
                ));
                evidence.fact("instance", found.name.clone());
                Finding::unproven(evidence, Unproven::CutShort).warn(format!(
                    "The SQL Server Browser hands out '{bad}' as the TCP port of instance {}, \
                     which no client can use: restart the SQL Server Browser service, and check \
                     the instance's TCP/IP port in SQL Server Configuration Manager.",
                    found.name
                ))
            }
            Lookup::Unknown(instances) => {
                let names: Vec<&str> = instances.iter().map(|i| i.name.as_str()).collect();
                let mut evidence = Evidence::new(format!(
                    "the Browser answers but knows no instance {instance} (it has: {})",
                    names.join(", ")
                ));
                evidence.fact("instances", names.join(","));
                Finding::new(State::Verified, evidence).warn(format!(
                    "The SQL Server Browser answers, but this host has no instance {instance} \
                     (it has {}): give MVE the right instance name, or install the instance here.",
                    names.join(", ")
                ))
            }
            Lookup::NotBrowser(bytes, exchange) => {
                let evidence = reply_evidence(
                    format!(
                        "UDP reply of {} bytes, but not the SQL Server Browser",
                        bytes.len()
                    ),
                    job.peer,
                    &bytes,
                    &exchange,
                );
                Finding::unproven(evidence, Unproven::WrongProtocol)
            }
            Lookup::Silent(exchange) => no_reply(&exchange, timeout),
        }
    }
}

/// The instance named `name` (instance names are case-insensitive).
fn find<'a>(instances: &'a [Instance], name: &str) -> Option<&'a Instance> {
    instances.iter().find(|i| i.name.eq_ignore_ascii_case(name))
}

fn with_port(found: Instance) -> Lookup {
    match (found.tcp, found.tcp_invalid.clone()) {
        (Some(port), _) => Lookup::Port(found, port),
        (None, Some(bad)) => Lookup::BadPort(found, bad),
        (None, None) => Lookup::NoTcp(found),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::CheckId;
    use crate::probes::peer::{Datagram, job, udp_prober};

    const EXPRESS: &str = "ServerName;DB;InstanceName;SQLEXPRESS;IsClustered;No;\
                           Version;15.0.2000.5;tcp;49712;;";
    const PIPES: &str = "ServerName;DB;InstanceName;MVE;IsClustered;No;np;\\\\DB\\pipe\\q;;";

    fn named(instance: &str) -> Job {
        let mut job = job(CheckId::SqlBrowser, 1434);
        let mut row = (*job.row).clone();
        row.target.instance = Some(instance.into());
        job.row = std::sync::Arc::new(row);
        job
    }

    /// A Browser that answers the instance question with `one` and the list with `every`.
    fn browser(one: Datagram, every: Datagram) -> impl Fn(u16, &[u8]) -> Datagram {
        move |_: u16, payload: &[u8]| match payload.first() {
            Some(4) => one.clone(),
            Some(3) => every.clone(),
            _ => Datagram::Silence,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn the_browser_hands_out_the_instance_port() {
        let prober = udp_prober(browser(
            Datagram::Reply(mcsqlr::response(EXPRESS)),
            Datagram::Silence,
        ));
        let found = prober.sql_browser(&named("sqlexpress")).await;
        assert_eq!(found.state, State::Verified, "{found:?}");
        assert_eq!(found.evidence.facts["tcp_port"], 49712);
        assert!(found.warning.is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn an_instance_without_tcp_warns_with_its_fix() {
        let prober = udp_prober(browser(
            Datagram::Reply(mcsqlr::response(PIPES)),
            Datagram::Silence,
        ));
        let found = prober.sql_browser(&named("MVE")).await;
        assert_eq!(found.state, State::Verified);
        assert!(found.warning.unwrap().contains("TCP/IP disabled"));
    }

    #[tokio::test(start_paused = true)]
    async fn an_unknown_instance_is_told_from_a_silent_browser() {
        // Silence for the instance (as a real Browser does), then the host's list without it.
        let prober = udp_prober(browser(
            Datagram::Silence,
            Datagram::Reply(mcsqlr::response(EXPRESS)),
        ));
        let found = prober.sql_browser(&named("NOPE")).await;
        assert_eq!(found.state, State::Verified, "{found:?}");
        let warning = found.warning.unwrap();
        assert!(warning.contains("no instance NOPE"), "{warning}");
        assert!(warning.contains("SQLEXPRESS"), "{warning}");
        // Silence to both questions: the Browser is off or not reached.
        let prober = udp_prober(browser(Datagram::Silence, Datagram::Silence));
        let found = prober.sql_browser(&named("NOPE")).await;
        assert_eq!(found.state, State::OpenFiltered, "{found:?}");
        // ICMP port unreachable: closed.
        let prober = udp_prober(browser(Datagram::Closed, Datagram::Closed));
        let found = prober.sql_browser(&named("NOPE")).await;
        assert_eq!(found.state, State::Closed, "{found:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn an_answer_that_is_not_the_browser_is_wrong_protocol() {
        let prober = udp_prober(browser(
            Datagram::Reply(b"hello".to_vec()),
            Datagram::Silence,
        ));
        let found = prober.sql_browser(&named("MVE")).await;
        assert_eq!(found.state, State::Open);
        assert_eq!(found.unproven, Some(Unproven::WrongProtocol));
    }

    #[tokio::test(start_paused = true)]
    async fn a_port_that_is_no_port_is_a_broken_answer_not_tcp_disabled() {
        for bad in ["0", "abc", "70000", "-1"] {
            let record = format!("ServerName;DB;InstanceName;MVE;IsClustered;No;tcp;{bad};;");
            let prober = udp_prober(browser(
                Datagram::Reply(mcsqlr::response(&record)),
                Datagram::Silence,
            ));
            let found = prober.sql_browser(&named("MVE")).await;
            assert_eq!(found.unproven, Some(Unproven::CutShort), "{bad}: {found:?}");
            let warning = found.warning.unwrap();
            assert!(!warning.contains("TCP/IP disabled"), "{warning}");
            assert!(warning.contains(&format!("'{bad}'")), "{warning}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn an_unknown_instance_probes_no_port_and_names_the_right_fix() {
        let prober = udp_prober(browser(
            Datagram::Silence,
            Datagram::Reply(mcsqlr::response(EXPRESS)),
        ));
        let mut job = named("NOPE");
        let mut row = (*job.row).clone();
        row.target.role = crate::catalog::Role::Sqlserver;
        job.row = std::sync::Arc::new(row);
        job.check = CheckId::Sqlserver;
        let found = prober.sqlserver(&job).await;
        assert_eq!(found.state, State::Error, "{found:?}");
        assert_eq!(found.port, Some(0), "no TCP port was probed: {found:?}");
        let fix = found.warning.unwrap();
        assert!(
            fix.contains("SQLEXPRESS") && fix.contains("instance name"),
            "{fix}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_long_answer_is_read_to_its_last_instance() {
        // 200 instances, about 14 KB: the one asked for is the last.
        let mut records = String::new();
        for n in 0..200 {
            records.push_str(&format!(
                "ServerName;DB;InstanceName;INST{n:03};IsClustered;No;Version;15.0.2000.5;tcp;{};;",
                40000 + n
            ));
        }
        assert!(records.len() > 4096 * 3);
        let prober = udp_prober(browser(
            Datagram::Silence,
            Datagram::Reply(mcsqlr::response(&records)),
        ));
        let found = prober.sql_browser(&named("INST199")).await;
        assert_eq!(found.state, State::Verified, "{found:?}");
        assert_eq!(found.evidence.facts["tcp_port"], 40199);
    }
}
