//! The UDP services: SNMP (engine discovery, then a GET), mDNS (DNS-SD by unicast), Kerberos
//! (an AS-REQ for a principal that does not exist), and the Lexmark protocols with no public
//! format (a minimal datagram and a control probe next door).

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use tokio::sync::Notify;

use super::NetworkProber;
use super::snmp_client::{SnmpCredentials, SnmpGetError, SnmpGetter};
use crate::catalog::CheckId;
use crate::clock;
use crate::engine::Job;
use crate::results::{Evidence, Finding, State, hex_head};
use crate::transport::evidence::{no_reply, reply_evidence, stamp};
use crate::transport::{self, SourcePort, UdpExchange, UdpOptions, UdpOutcome};
use crate::wire::nonce;
use crate::wire::{dns, kerberos, lexmark, snmp};

/// The UDP port asked next door to tell "listening but silent" from "dropped": unassigned by
/// IANA and not used by printers.
pub const CONTROL_PORT: u16 = 47_809;

/// Clock skew beyond which Kerberos authentication fails (the MIT and Windows default).
const MAX_SKEW_SECONDS: i64 = 300;

impl<G: SnmpGetter> NetworkProber<G> {
    fn options(&self, source: SourcePort) -> UdpOptions {
        UdpOptions {
            timeout: self.settings.timeout,
            retries: self.settings.retries,
            source,
        }
    }

    async fn exchange(&self, peer: SocketAddr, payload: &[u8], source: SourcePort) -> UdpExchange {
        transport::exchange(peer, payload, self.options(source), &self.pacer).await
    }

    /// One GET of the system group with the configured credentials.
    async fn get(&self, job: &Job, retries: u32) -> Result<super::SystemInfo, SnmpGetError> {
        match &self.settings.snmp {
            SnmpCredentials::V1 { community } => {
                self.community_get(job, snmp::Community::V1, community, retries)
                    .await
            }
            SnmpCredentials::V2c { community } => {
                self.community_get(job, snmp::Community::V2c, community, retries)
                    .await
            }
            SnmpCredentials::V3 { .. } => {
                // Charged to the host's ICMP budget like any datagram of ours.
                let charge = self.pacer.wait_udp(job.peer.ip()).await;
                // Boxed: the v3 client's state is large and most runs never need it.
                let get = Box::pin(self.snmp_getter.get_system(
                    job.peer,
                    &self.settings.snmp,
                    self.settings.timeout,
                    retries,
                ))
                .await;
                if get.as_ref().is_err_and(SnmpGetError::may_be_icmp) {
                    charge.spent();
                }
                get
            }
        }
    }

    /// A v1/v2c GET through our own exchange: paced, charged and source-checked like every
    /// other datagram, and no client state of its own.
    async fn community_get(
        &self,
        job: &Job,
        version: snmp::Community,
        community: &str,
        retries: u32,
    ) -> Result<super::SystemInfo, SnmpGetError> {
        let id = nonce() & 0x7fff_ffff;
        let oids: [&[u32]; 3] = [&snmp::SYS_DESCR, &snmp::SYS_OBJECT_ID, &snmp::SYS_NAME];
        let request = snmp::community_get(version, community.as_bytes(), id, &oids);
        let options = UdpOptions {
            retries,
            ..self.options(SourcePort::Ephemeral)
        };
        let exchange = transport::exchange(job.peer, &request, options, &self.pacer).await;
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
        let mut info = super::SystemInfo::default();
        let text = |arcs: &[u32]| {
            let name: Vec<String> = arcs.iter().map(u32::to_string).collect();
            let name = name.join(".");
            answer
                .values
                .iter()
                .find(|(oid, _)| *oid == name)
                .and_then(|(_, value)| value.clone())
        };
        info.sys_descr = text(&snmp::SYS_DESCR);
        info.sys_object_id = text(&snmp::SYS_OBJECT_ID);
        info.sys_name = text(&snmp::SYS_NAME);
        Ok(info)
    }

    /// SNMP: v3 engine discovery first (it needs no credentials and keeps "closed" by ICMP
    /// apart from silence), then a GET of the system group with the configured credentials.
    pub(super) async fn snmp(&self, job: &Job) -> Finding {
        let msg_id = nonce() & 0x7fff_ffff;
        let request = snmp::discovery_request(msg_id, nonce() & 0x7fff_ffff);
        let retries = self.settings.retries;
        // The GET after discovery: with retries when discovery found an agent; otherwise one
        // last try (a v1/v2c-only agent ignores v3), started as soon as the first discovery
        // datagram goes unanswered so it overlaps the retries instead of adding a timeout.
        let (discovery, first_get) = overlapped(
            Box::pin(self.exchange(job.peer, &request, SourcePort::Ephemeral)),
            self.settings.timeout,
            |discovery| match &discovery.outcome {
                UdpOutcome::Reply(bytes) if is_agent(bytes, msg_id) => Some(retries),
                UdpOutcome::Reply(_) | UdpOutcome::Silence => Some(0),
                _ => None,
            },
            |retries| async move { (retries, Box::pin(self.get(job, retries)).await) },
        )
        .await;
        // A report counts only when it answers our message id; anything else is "not SNMP".
        let engine = match &discovery.outcome {
            UdpOutcome::Reply(bytes) => {
                Some(snmp::parse_discovery(bytes).and_then(|found| snmp::answers(found, msg_id)))
            }
            UdpOutcome::Silence => None,
            _ => return no_reply(&discovery, self.settings.timeout),
        };
        let credentials = &self.settings.snmp;
        let get = match first_get {
            // The early try failed but an agent is there: give it its retries.
            Some((0, Err(_))) if matches!(engine, Some(Ok(_))) && retries > 0 => {
                Box::pin(self.get(job, retries)).await
            }
            Some((_, get)) => get,
            None => Err(SnmpGetError::Timeout),
        };
        let version = credentials.version();
        let mut evidence = match &discovery.outcome {
            UdpOutcome::Reply(bytes) => reply_evidence(String::new(), job.peer, bytes, &discovery),
            _ => {
                let mut e = Evidence::new("");
                stamp(&mut e, &discovery);
                e
            }
        };
        let mut parts = Vec::new();
        let agent = match &engine {
            Some(Ok(found)) => {
                let id = hex_head(&found.engine_id, 32);
                let owner = match found.enterprise() {
                    Some((number, "")) => format!(" (enterprise {number})"),
                    Some((number, name)) => format!(" (enterprise {number}, {name})"),
                    None => String::new(),
                };
                parts.push(format!("SNMPv3 engine {id}{owner}"));
                evidence.fact("engine_id", id);
                evidence.fact("engine_boots", found.engine_boots);
                evidence.fact("engine_time", found.engine_time);
                true
            }
            _ => false,
        };
        match get {
            Ok(info) => {
                parts.push(format!(
                    "{version} GET: {}",
                    info.sys_descr
                        .clone()
                        .unwrap_or_else(|| "sysDescr not given".into())
                ));
                evidence.fact("snmp_version", version);
                evidence.fact("security", credentials.level());
                if let Some(descr) = info.sys_descr {
                    evidence.fact("sys_descr", descr);
                }
                if let Some(oid) = info.sys_object_id {
                    evidence.fact("sys_object_id", oid);
                }
                if let Some(name) = info.sys_name {
                    evidence.fact("sys_name", name);
                }
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
                    Finding::new(State::Open, evidence)
                }
                _ => {
                    let mut finding = no_reply(&discovery, self.settings.timeout);
                    if !matches!(err, SnmpGetError::Timeout) {
                        finding.evidence.notes.push(format!("{version} GET: {err}"));
                    }
                    finding
                }
            },
        }
    }

    /// mDNS: the DNS-SD service list by unicast, then the Lexmark `_host-config._udp` TXT
    /// records with the printer's security settings.
    pub(super) async fn mdns(&self, job: &Job) -> Finding {
        let first = Box::pin(self.exchange(
            job.peer,
            &dns::ptr_query(nonce() as u16, dns::SERVICES),
            SourcePort::Ephemeral,
        ))
        .await;
        let UdpOutcome::Reply(bytes) = &first.outcome else {
            return no_reply(&first, self.settings.timeout);
        };
        let answer = match dns::parse_answer(bytes) {
            Ok(answer) if answer.is_response => answer,
            _ => {
                let summary = format!("UDP reply of {} bytes, but not a DNS answer", bytes.len());
                return Finding::new(
                    State::Open,
                    reply_evidence(summary, job.peer, bytes, &first),
                );
            }
        };
        let mut evidence = reply_evidence(String::new(), job.peer, bytes, &first);
        let services = answer.pointers.clone();
        evidence.fact("services", services.clone());
        // The host-config records: a PTR query for the type, then TXT for its instance when
        // the answer did not already carry it.
        let mut texts = answer.texts.clone();
        let mut instances = Vec::new();
        let mut instance_names = Vec::new();
        let lexmark = services
            .iter()
            .any(|s| s.eq_ignore_ascii_case(dns::HOST_CONFIG));
        if lexmark {
            // Boxed, here and below: the evidence built so far is held across these waits.
            let second = Box::pin(self.exchange(
                job.peer,
                &dns::ptr_query(nonce() as u16, dns::HOST_CONFIG),
                SourcePort::Ephemeral,
            ))
            .await;
            if let UdpOutcome::Reply(bytes) = &second.outcome
                && let Ok(answer) = dns::parse_answer(bytes)
            {
                instances = answer.pointers.clone();
                instance_names = answer.pointer_names.clone();
                texts.extend(answer.texts);
            }
            if !texts
                .iter()
                .any(|(owner, _)| owner.to_ascii_lowercase().ends_with(dns::HOST_CONFIG))
                && let Some(instance) = instance_names.first()
            {
                let third = Box::pin(self.exchange(
                    job.peer,
                    &dns::txt_query_for(nonce() as u16, instance),
                    SourcePort::Ephemeral,
                ))
                .await;
                if let UdpOutcome::Reply(bytes) = &third.outcome
                    && let Ok(answer) = dns::parse_answer(bytes)
                {
                    texts.extend(answer.texts);
                }
            }
        }
        let config = dns::Answer {
            texts,
            ..dns::Answer::default()
        }
        .host_config();
        let mut summary = format!(
            "DNS-SD: {} service type(s){}",
            services.len(),
            if services.is_empty() {
                String::new()
            } else {
                format!(" ({})", services.join(", "))
            }
        );
        if !config.is_empty() {
            let pairs: Vec<String> = config.iter().map(|(k, v)| format!("{k}={v}")).collect();
            summary.push_str(&format!("; host-config: {}", pairs.join(" ")));
            let map: serde_json::Map<String, serde_json::Value> =
                config.into_iter().map(|(k, v)| (k, v.into())).collect();
            evidence.fact("host_config", serde_json::Value::Object(map));
        }
        if !instances.is_empty() {
            evidence.fact("host_config_instances", instances);
        }
        if answer.id == 0 {
            evidence
                .notes
                .push("the responder answered with id 0 (accepted: some printers do)".into());
        }
        evidence.summary = summary;
        Finding::new(State::Verified, evidence)
    }

    /// Kerberos: a KRB-ERROR for our unknown principal proves a KDC; its clock is compared
    /// with ours.
    pub(super) async fn kerberos(&self, job: &Job) -> Finding {
        let request = kerberos::as_request(&self.settings.kerberos_realm, nonce());
        let exchange = self
            .exchange(job.peer, &request, SourcePort::Ephemeral)
            .await;
        let UdpOutcome::Reply(bytes) = &exchange.outcome else {
            return no_reply(&exchange, self.settings.timeout);
        };
        let mut evidence = reply_evidence(String::new(), job.peer, bytes, &exchange);
        match kerberos::parse_reply(bytes) {
            Ok(kerberos::KdcReply::Error(error)) => {
                let skew = error.server_time - clock::unix_now();
                evidence.summary = format!(
                    "KDC answered {} ({}) for realm {}; its clock {} ({skew:+}s from ours)",
                    error.code_name(),
                    error.error_code,
                    error.realm,
                    clock::date_time_text(error.server_time),
                );
                evidence.fact("error_code", error.error_code);
                evidence.fact("error_name", error.code_name());
                evidence.fact("realm", error.realm.clone());
                evidence.fact("server_time", clock::date_time_text(error.server_time));
                evidence.fact("clock_skew_seconds", skew);
                if let Some(text) = &error.text {
                    evidence.fact("error_text", text.clone());
                }
                let finding = Finding::new(State::Verified, evidence);
                if skew.abs() > MAX_SKEW_SECONDS {
                    finding.warn(format!(
                        "The KDC's clock is {skew:+} seconds from this host's: Kerberos fails beyond \
                         5 minutes. Synchronise both with NTP."
                    ))
                } else {
                    finding
                }
            }
            Ok(kerberos::KdcReply::AsRep) => {
                evidence.summary = "KDC answered with an AS-REP".into();
                Finding::new(State::Verified, evidence)
            }
            Err(_) => {
                evidence.summary = format!("UDP reply of {} bytes, but not Kerberos", bytes.len());
                Finding::new(State::Open, evidence)
            }
        }
    }

    /// NPAP, XMLNT, LST: a minimal datagram from MVE's source port (or the profile's payload);
    /// on silence, one control probe to an unused port on the same host.
    pub(super) async fn blind(&self, job: &Job, source: SourcePort) -> Finding {
        let payload = self
            .settings
            .payloads
            .get(&job.check)
            .cloned()
            .unwrap_or_default();
        // On silence, the control probe next door; sent once the first datagram has gone
        // unanswered, so it overlaps the retries.
        let control_peer = SocketAddr::new(job.peer.ip(), CONTROL_PORT);
        let control_options = UdpOptions {
            timeout: self.settings.timeout,
            retries: 0,
            source: SourcePort::Ephemeral,
        };
        let (exchange, control) = overlapped(
            Box::pin(self.exchange(job.peer, &payload, source)),
            self.settings.timeout,
            |exchange| matches!(exchange.outcome, UdpOutcome::Silence).then_some(0),
            |_| {
                Box::pin(transport::exchange(
                    control_peer,
                    &[],
                    control_options,
                    &self.pacer,
                ))
            },
        )
        .await;
        match &exchange.outcome {
            UdpOutcome::Reply(bytes) => {
                let xml = job.check == CheckId::Xmlnt && lexmark::is_xmlnt_exception(bytes);
                let summary = if xml {
                    format!(
                        "XMLNT answered with an <exception> document ({} bytes)",
                        bytes.len()
                    )
                } else {
                    format!("UDP reply of {} bytes from {}", bytes.len(), job.peer)
                };
                let mut evidence = reply_evidence(summary, job.peer, bytes, &exchange);
                evidence.fact("payload_bytes", payload.len());
                Finding::new(if xml { State::Verified } else { State::Open }, evidence)
            }
            UdpOutcome::Silence => {
                let mut finding = no_reply(&exchange, self.settings.timeout);
                let next_door = match control.as_ref().map(|c| &c.outcome) {
                    Some(UdpOutcome::Failed(found)) if found.state == State::Closed => {
                        finding.evidence.summary = format!(
                            "likely listening: silent on UDP {} while UDP {CONTROL_PORT} on the same host \
                             answered ICMP port unreachable (a rule dropping only this port is the \
                             other explanation)",
                            job.peer.port()
                        );
                        "icmp-port-unreachable"
                    }
                    Some(UdpOutcome::Silence) => "silent",
                    Some(UdpOutcome::Reply(_)) => "reply",
                    _ => "error",
                };
                finding.evidence.fact("control_port", CONTROL_PORT);
                finding.evidence.fact("control_result", next_door);
                finding
            }
            _ => no_reply(&exchange, self.settings.timeout),
        }
    }
}

/// Whether a discovery reply is an SNMP report answering our message id.
fn is_agent(bytes: &[u8], msg_id: u32) -> bool {
    snmp::parse_discovery(bytes)
        .and_then(|found| snmp::answers(found, msg_id))
        .is_ok()
}

/// Runs `first`, and a follow-up when one is needed: `after` reads the first outcome and says
/// whether (and with how many retries) to follow up. The follow-up starts when `first` ends,
/// or after `head_start` if `first` is still waiting then (its first datagram unanswered), in
/// which case it runs with no retries and overlaps the retries of `first`; the caller decides
/// what an early result it no longer needs is worth.
async fn overlapped<A, B, F: Future<Output = B>>(
    first: impl Future<Output = A>,
    head_start: Duration,
    after: impl Fn(&A) -> Option<u32>,
    follow: impl FnOnce(u32) -> F,
) -> (A, Option<B>) {
    const RUNNING: u32 = u32::MAX;
    const SKIP: u32 = u32::MAX - 1;
    let state = AtomicU32::new(RUNNING);
    let ended = Notify::new();
    let first = async {
        let outcome = first.await;
        state.store(after(&outcome).unwrap_or(SKIP), Ordering::SeqCst);
        ended.notify_one();
        outcome
    };
    let second = async {
        tokio::select! {
            () = tokio::time::sleep(head_start) => {}
            () = ended.notified() => {}
        }
        match state.load(Ordering::SeqCst) {
            SKIP => None,
            RUNNING => Some(follow(0).await),
            retries => Some(follow(retries).await),
        }
    };
    tokio::join!(first, second)
}
