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
            Lookup::Unknown(instances) => {
                let names: Vec<&str> = instances.iter().map(|i| i.name.as_str()).collect();
                let mut evidence = Evidence::new(format!(
                    "the Browser answers but knows no instance {instance} (it has: {})",
                    names.join(", ")
                ));
                evidence.fact("instances", names.join(","));
                Finding::new(State::Verified, evidence).warn(format!(
                    "No instance {instance} on this host: check the name MVE is given (the host \
                     has {}).",
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
    match found.tcp {
        Some(port) => Lookup::Port(found, port),
        None => Lookup::NoTcp(found),
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
        assert!(warning.contains("No instance NOPE"), "{warning}");
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
}
