//! SNMP: v3 engine discovery first (it needs no credentials and keeps "closed" by ICMP apart
//! from silence), then a GET of the system group with the configured credentials: v1/v2c
//! through our own exchange, v3 through `async-snmp` (`snmp_client`).

use std::sync::Arc;

use super::snmp_client::{SnmpCredentials, SnmpGetError, SnmpGetter, SystemInfo};
use super::udp::{UdpSchedule, overlapped};
use super::{Datagrams, NetworkProber};
use crate::engine::Job;
use crate::results::{Evidence, Finding, State, Unproven, hex_head};
use crate::transport::evidence::{no_reply, reply_evidence, stamp};
use crate::transport::{SourcePort, UdpExchange, UdpOutcome};
use crate::wire::{nonce, snmp};

/// What discovery found: an agent answering our message id, a reply that is not one, or
/// nothing.
type Engine = Option<Result<snmp::Discovery, snmp::SnmpError>>;

impl<G: SnmpGetter, D: Datagrams> NetworkProber<G, D> {
    pub(super) async fn snmp(&self, job: &Job) -> Finding {
        let msg_id = nonce() & 0x7fff_ffff;
        let request = snmp::discovery_request(msg_id, nonce() & 0x7fff_ffff);
        let retries = self.settings.timing.retries;
        // The GET after discovery: with retries when discovery found an agent; otherwise one
        // last try (a v1/v2c-only agent ignores v3), started as soon as the first discovery
        // datagram goes unanswered so it overlaps the retries instead of adding a timeout.
        let (discovery, first_get) = overlapped(
            Box::pin(self.exchange(
                job.peer,
                &request,
                SourcePort::Ephemeral,
                self.schedule(job),
            )),
            self.head_start(job),
            |discovery| match &discovery.outcome {
                UdpOutcome::Reply(bytes) if is_agent(bytes, msg_id) => Some(retries),
                UdpOutcome::Reply(_) | UdpOutcome::Silence => Some(0),
                _ => None,
            },
            |retries| async move { (retries, Box::pin(self.get(job, retries)).await) },
        )
        .await;
        // A report counts only when it answers our message id; anything else is "not SNMP".
        let engine: Engine = match &discovery.outcome {
            UdpOutcome::Reply(bytes) => {
                Some(snmp::parse_discovery(bytes).and_then(|found| snmp::answers(found, msg_id)))
            }
            UdpOutcome::Silence => None,
            _ => return no_reply(&discovery, self.settings.timing.timeout),
        };
        let get = match first_get {
            // The early try failed but an agent is there: give it its retries.
            Some((0, Err(_))) if matches!(engine, Some(Ok(_))) && retries > 0 => {
                Box::pin(self.get(job, retries)).await
            }
            Some((_, get)) => get,
            None => Err(SnmpGetError::Timeout),
        };
        self.snmp_finding(job, &discovery, &engine, get)
    }

    /// The cell from what discovery and the GET found.
    fn snmp_finding(
        &self,
        job: &Job,
        discovery: &UdpExchange,
        engine: &Engine,
        get: Result<SystemInfo, SnmpGetError>,
    ) -> Finding {
        let credentials = &self.settings.snmp;
        let version = credentials.version();
        let mut evidence = match &discovery.outcome {
            UdpOutcome::Reply(bytes) => reply_evidence(String::new(), job.peer, bytes, discovery),
            _ => {
                let mut e = Evidence::new("");
                stamp(&mut e, discovery);
                e
            }
        };
        let mut parts: Vec<String> = engine_text(engine, &mut evidence).into_iter().collect();
        let agent = !parts.is_empty();
        match get {
            Ok(info) => {
                let descr = info.sys_descr.as_deref().unwrap_or("sysDescr not given");
                parts.push(format!("{version} GET: {descr}"));
                evidence.fact("snmp_version", version);
                evidence.fact("security", credentials.level());
                system_facts(info, &mut evidence);
                evidence.summary = parts.join("; ");
                Finding::new(State::Verified, evidence)
            }
            Err(err) if agent => {
                parts.push(format!(
                    "agent present, credentials not accepted ({version}: {err})"
                ));
                evidence.summary = parts.join("; ");
                Finding::new(State::Verified, evidence).warn(format!(
                    "The SNMP agent answers but not to the {version} credentials given ({err}): \
                     set the community or v3 user MVE will use (--snmp-community, \
                     MVE_AUDIT_SNMP_* or the profile)."
                ))
            }
            Err(err) => match &discovery.outcome {
                UdpOutcome::Reply(bytes) => {
                    evidence.summary = format!(
                        "UDP reply of {} bytes, but not SNMP; {version} GET: {err}",
                        bytes.len()
                    );
                    Finding::unproven(evidence, Unproven::WrongProtocol)
                }
                _ => {
                    let mut finding = no_reply(discovery, self.settings.timing.timeout);
                    if !matches!(err, SnmpGetError::Timeout) {
                        finding.evidence.notes.push(format!("{version} GET: {err}"));
                    }
                    finding
                }
            },
        }
    }

    /// One GET of the system group with the configured credentials.
    async fn get(&self, job: &Job, retries: u32) -> Result<SystemInfo, SnmpGetError> {
        let version = match &self.settings.snmp {
            SnmpCredentials::V1 { community } => (snmp::Community::V1, community),
            SnmpCredentials::V2c { community } => (snmp::Community::V2c, community),
            SnmpCredentials::V3 { .. } => {
                // Charged to the host's ICMP budget like any datagram of ours.
                let charge = self.pacer.wait_udp(job.peer.ip()).await;
                // Boxed: the v3 client's state is large and most runs never need it.
                let get = Box::pin(self.snmp_getter.get_system(
                    job.peer,
                    &self.settings.snmp,
                    self.settings.timing.timeout,
                    retries,
                ))
                .await;
                if get.as_ref().is_err_and(SnmpGetError::may_be_icmp) {
                    charge.spent();
                }
                return get;
            }
        };
        self.community_get(job, version.0, version.1, retries).await
    }

    /// A v1/v2c GET through our own exchange: paced, charged and source-checked like every
    /// other datagram, and no client state of its own.
    async fn community_get(
        &self,
        job: &Job,
        version: snmp::Community,
        community: &str,
        retries: u32,
    ) -> Result<SystemInfo, SnmpGetError> {
        let id = nonce() & 0x7fff_ffff;
        let oids: [&[u32]; 3] = [&snmp::SYS_DESCR, &snmp::SYS_OBJECT_ID, &snmp::SYS_NAME];
        let request = snmp::community_get(version, community.as_bytes(), id, &oids);
        let options = self.options(SourcePort::Ephemeral, UdpSchedule::plain(retries));
        let exchange = self
            .datagrams
            .exchange(job.peer, &request, options, &self.pacer)
            .await;
        let bytes = match exchange.outcome {
            UdpOutcome::Reply(bytes) => bytes,
            UdpOutcome::Silence => return Err(SnmpGetError::Timeout),
            UdpOutcome::Failed(found) => return Err(SnmpGetError::Unreachable(Box::new(found))),
            UdpOutcome::Local(err) => return Err(SnmpGetError::Socket(Arc::new(err))),
        };
        let answer = snmp::parse_get_response(&bytes)?;
        if answer.request_id != i64::from(id) {
            return Err(SnmpGetError::OtherRequest);
        }
        if answer.error_status != 0 {
            return Err(SnmpGetError::ErrorStatus(answer.error_status));
        }
        let text = |arcs: &[u32]| answer.value_of(arcs);
        Ok(SystemInfo {
            sys_descr: text(&snmp::SYS_DESCR),
            sys_object_id: text(&snmp::SYS_OBJECT_ID),
            sys_name: text(&snmp::SYS_NAME),
        })
    }
}

/// The agent's engine as a summary part, its facts into `evidence`; `None` when discovery
/// found no agent.
fn engine_text(engine: &Engine, evidence: &mut Evidence) -> Option<String> {
    let Some(Ok(found)) = engine else {
        return None;
    };
    let id = hex_head(&found.engine_id, 32);
    let owner = match found.enterprise() {
        Some((number, "")) => format!(" (enterprise {number})"),
        Some((number, name)) => format!(" (enterprise {number}, {name})"),
        None => String::new(),
    };
    evidence.fact("engine_id", id.clone());
    evidence.fact("engine_boots", found.engine_boots);
    evidence.fact("engine_time", found.engine_time);
    Some(format!("SNMPv3 engine {id}{owner}"))
}

fn system_facts(info: SystemInfo, evidence: &mut Evidence) {
    if let Some(descr) = info.sys_descr {
        evidence.fact("sys_descr", descr);
    }
    if let Some(oid) = info.sys_object_id {
        evidence.fact("sys_object_id", oid);
    }
    if let Some(name) = info.sys_name {
        evidence.fact("sys_name", name);
    }
}

/// Whether a discovery reply is an SNMP report answering our message id.
fn is_agent(bytes: &[u8], msg_id: u32) -> bool {
    snmp::parse_discovery(bytes)
        .and_then(|found| snmp::answers(found, msg_id))
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::CheckId;
    use crate::probes::peer::{Datagram, job, udp_prober};
    use crate::wire::ber::{INTEGER, OCTET_STRING, Reader, SEQUENCE, cat, int, tlv, uint};

    /// usmStatsUnknownEngineIDs.0, the report a v3 agent sends to discovery.
    const UNKNOWN_ENGINE_IDS: &[u8] = &[0x06, 0x0a, 0x2b, 6, 1, 6, 3, 15, 1, 1, 4, 0];
    /// sysDescr.0
    const SYS_DESCR: &[u8] = &[0x06, 0x08, 0x2b, 6, 1, 2, 1, 1, 1, 0];
    const ENGINE: &[u8] = &[0x80, 0, 0x02, 0x9a, 0x03, 1, 2, 3, 4];

    /// The version of a request and its id (msgID for v3, request-id for v1/v2c).
    fn request(bytes: &[u8]) -> (i64, u64) {
        let mut message = Reader::new(bytes).enter(SEQUENCE).unwrap();
        let version = int(message.expect(INTEGER).unwrap()).unwrap();
        let id = if version == 3 {
            message.enter(SEQUENCE).unwrap().expect(INTEGER).unwrap()
        } else {
            message.expect(OCTET_STRING).unwrap();
            let pdu = message.read().unwrap();
            Reader::new(pdu.content).expect(INTEGER).unwrap()
        };
        (version, int(id).unwrap() as u64)
    }

    fn report(msg_id: u64) -> Vec<u8> {
        let header = tlv(
            SEQUENCE,
            &cat(&[
                &uint(msg_id),
                &uint(65_507),
                &tlv(OCTET_STRING, &[0]),
                &uint(3),
            ]),
        );
        let empty = tlv(OCTET_STRING, &[]);
        let usm = tlv(
            SEQUENCE,
            &cat(&[
                &tlv(OCTET_STRING, ENGINE),
                &uint(7),
                &uint(1234),
                &empty,
                &empty,
                &empty,
            ]),
        );
        let varbind = tlv(SEQUENCE, &cat(&[UNKNOWN_ENGINE_IDS, &tlv(0x41, &[1])]));
        let pdu = tlv(
            0xa8,
            &cat(&[&uint(0), &uint(0), &uint(0), &tlv(SEQUENCE, &varbind)]),
        );
        let scoped = tlv(SEQUENCE, &cat(&[&tlv(OCTET_STRING, ENGINE), &empty, &pdu]));
        tlv(
            SEQUENCE,
            &cat(&[&uint(3), &header, &tlv(OCTET_STRING, &usm), &scoped]),
        )
    }

    fn get_response(request_id: u64, error_status: u64) -> Vec<u8> {
        let varbind = tlv(
            SEQUENCE,
            &cat(&[SYS_DESCR, &tlv(OCTET_STRING, b"Lexmark MX")]),
        );
        let pdu = tlv(
            0xa2,
            &cat(&[
                &uint(request_id),
                &uint(error_status),
                &uint(0),
                &tlv(SEQUENCE, &varbind),
            ]),
        );
        tlv(
            SEQUENCE,
            &cat(&[&uint(1), &tlv(OCTET_STRING, b"public"), &pdu]),
        )
    }

    /// An agent that answers v3 discovery when `v3`, and v2c GETs with `get`.
    fn agent(v3: bool, get: fn(u64) -> Datagram) -> impl Fn(u16, &[u8]) -> Datagram {
        move |_, bytes| match request(bytes) {
            (3, msg_id) if v3 => Datagram::Reply(report(msg_id)),
            (3, _) => Datagram::Silence,
            (_, id) => get(id),
        }
    }

    async fn snmp_of(answer: impl Fn(u16, &[u8]) -> Datagram + Send + Sync + 'static) -> Finding {
        udp_prober(answer).snmp(&job(CheckId::Snmp, 161)).await
    }

    #[tokio::test(start_paused = true)]
    async fn an_agent_that_answers_the_get_is_verified() {
        let found = snmp_of(agent(true, |id| Datagram::Reply(get_response(id, 0)))).await;
        assert_eq!(found.state, State::Verified, "{found:?}");
        assert_eq!(found.warning, None, "{found:?}");
        assert!(
            found
                .evidence
                .summary
                .contains("SNMPv3 engine 8000029a0301020304"),
            "{found:?}"
        );
        assert_eq!(found.evidence.facts["sys_descr"], "Lexmark MX");
        // A v1/v2c-only agent ignores discovery but answers the GET.
        let v2 = snmp_of(agent(false, |id| Datagram::Reply(get_response(id, 0)))).await;
        assert_eq!(v2.state, State::Verified, "{v2:?}");
        assert_eq!(v2.evidence.facts["sys_descr"], "Lexmark MX");
    }

    #[tokio::test(start_paused = true)]
    async fn an_agent_that_refuses_the_credentials_warns() {
        for get in [
            (|_| Datagram::Silence) as fn(u64) -> Datagram,
            |id| Datagram::Reply(get_response(id, 16)),
            |id| Datagram::Reply(get_response(id + 1, 0)),
        ] {
            let found = snmp_of(agent(true, get)).await;
            assert_eq!(found.state, State::Verified, "{found:?}");
            assert!(found.warning.unwrap_or_default().contains("credentials"));
        }
    }

    #[tokio::test(start_paused = true)]
    async fn replies_that_are_not_snmp_silence_and_icmp_are_told_apart() {
        let rows = [
            (
                Datagram::Reply(b"\x30\x03garbage".to_vec()),
                State::Open,
                "not SNMP",
            ),
            (Datagram::Silence, State::OpenFiltered, "no reply"),
            (Datagram::Closed, State::Closed, "ICMP port unreachable"),
            (Datagram::Local, State::Error, "could not open"),
        ];
        for (answer, state, why) in rows {
            let found = snmp_of(move |_, _| answer.clone()).await;
            assert_eq!(found.state, state, "{why}: {found:?}");
            assert_eq!(
                found.unproven.is_some(),
                state == State::Open,
                "an open verifying check says why, and only then: {found:?}"
            );
            assert!(found.evidence.summary.contains(why), "{why}: {found:?}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_report_to_another_message_is_not_an_agent() {
        let found = snmp_of(|_, bytes: &[u8]| match request(bytes) {
            (3, msg_id) => Datagram::Reply(report(msg_id + 1)),
            _ => Datagram::Silence,
        })
        .await;
        assert_eq!(found.state, State::Open, "{found:?}");
        assert!(
            found.unproven.is_some(),
            "an open verifying check says why: {found:?}"
        );
        assert!(found.evidence.summary.contains("not SNMP"), "{found:?}");
    }
}
