//! mDNS: the DNS-SD service list by unicast (RFC 6762 §5.1), then the Lexmark
//! `_host-config._udp` TXT records with the printer's security settings.

use std::net::SocketAddr;

use super::snmp_client::SnmpGetter;
use super::udp::UdpSchedule;
use super::{Datagrams, NetworkProber};
use crate::engine::Job;
use crate::results::{Finding, State, Unproven};
use crate::transport::evidence::{no_reply, reply_evidence};
use crate::transport::{SourcePort, UdpOutcome};
use crate::wire::{dns, nonce};
#[cfg(test)]
use hickory_proto::op::OpCode;

impl<G: SnmpGetter, D: Datagrams> NetworkProber<G, D> {
    pub(super) async fn mdns(&self, job: &Job) -> Finding {
        let id = (nonce() as u16).max(1);
        let query = dns::ptr_query(id, dns::SERVICES);
        let schedule = self.schedule(job);
        let first =
            Box::pin(self.exchange(job.peer, &query, SourcePort::Ephemeral, schedule)).await;
        let UdpOutcome::Reply(bytes) = &first.outcome else {
            return no_reply(&first, self.settings.timing.timeout);
        };
        // A DNS answer to the question asked: a response, with our id (or 0, which some
        // printers send), whose answer section names the service list.
        let refused = |summary: String, why| {
            Finding::unproven(reply_evidence(summary, job.peer, bytes, &first), why)
        };
        let answer = match dns::parse_answer(bytes) {
            Ok(answer) if answer.is_response => answer,
            _ => {
                let summary = format!("UDP reply of {} bytes, but not a DNS answer", bytes.len());
                return refused(summary, Unproven::WrongProtocol);
            }
        };
        if answer.id != id && answer.id != 0 {
            let summary = format!(
                "a DNS response with id {}, where the query's was {id}: an answer to another \
                 question",
                answer.id
            );
            return refused(summary, Unproven::WrongProtocol);
        }
        if !answer.answers(dns::SERVICES) {
            let summary = format!(
                "a DNS response of {} bytes that answers nothing of {}: no service list",
                bytes.len(),
                dns::SERVICES
            );
            return refused(summary, Unproven::NotVerified);
        }
        let mut evidence = reply_evidence(String::new(), job.peer, bytes, &first);
        let services = answer.pointers.clone();
        evidence.fact("services", services.clone());
        let lexmark = services
            .iter()
            .any(|s| s.eq_ignore_ascii_case(dns::HOST_CONFIG));
        let mut texts = answer.texts.clone();
        if lexmark {
            // Boxed: the evidence built so far is held across these waits.
            let instances = Box::pin(self.host_config(job.peer, &mut texts)).await;
            if !instances.is_empty() {
                evidence.fact("host_config_instances", instances);
            }
        }
        let config = dns::Answer {
            texts,
            ..dns::Answer::default()
        }
        .host_config();
        evidence.summary = summary(&services, &config);
        let security = crate::results::Security::from_host_config(&config);
        if !config.is_empty() {
            let map: serde_json::Map<String, serde_json::Value> =
                config.into_iter().map(|(k, v)| (k, v.into())).collect();
            evidence.fact("host_config", serde_json::Value::Object(map));
        }
        if answer.id == 0 {
            evidence
                .notes
                .push("the responder answered with id 0 (accepted: some printers do)".into());
        }
        Finding {
            security,
            ..Finding::new(State::Verified, evidence)
        }
    }

    /// The host-config records: a PTR query for the type, then TXT for its instance when the
    /// answers so far did not carry it. Adds the TXT records to `texts`; returns the
    /// instances named.
    async fn host_config(
        &self,
        peer: SocketAddr,
        texts: &mut Vec<(String, Vec<String>)>,
    ) -> Vec<String> {
        let query = dns::ptr_query(nonce() as u16, dns::HOST_CONFIG);
        let second = self
            .exchange(
                peer,
                &query,
                SourcePort::Ephemeral,
                UdpSchedule::plain(self.settings.timing.retries),
            )
            .await;
        let UdpOutcome::Reply(bytes) = &second.outcome else {
            return Vec::new();
        };
        let Ok(answer) = dns::parse_answer(bytes) else {
            return Vec::new();
        };
        texts.extend(answer.texts);
        let has_txt = texts
            .iter()
            .any(|(owner, _)| owner.to_ascii_lowercase().ends_with(dns::HOST_CONFIG));
        if !has_txt && let Some(instance) = answer.pointer_names.first() {
            let query = dns::txt_query_for(nonce() as u16, instance);
            let third = self
                .exchange(
                    peer,
                    &query,
                    SourcePort::Ephemeral,
                    UdpSchedule::plain(self.settings.timing.retries),
                )
                .await;
            if let UdpOutcome::Reply(bytes) = &third.outcome
                && let Ok(answer) = dns::parse_answer(bytes)
            {
                texts.extend(answer.texts);
            }
        }
        answer.pointers
    }
}

fn summary(services: &[String], config: &[(String, String)]) -> String {
    let mut summary = format!("DNS-SD: {} service type(s)", services.len());
    if !services.is_empty() {
        summary.push_str(&format!(" ({})", services.join(", ")));
    }
    if !config.is_empty() {
        let pairs: Vec<String> = config.iter().map(|(k, v)| format!("{k}={v}")).collect();
        summary.push_str(&format!("; host-config: {}", pairs.join(" ")));
    }
    summary
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::CheckId;
    use crate::probes::peer::{Datagram, job, udp_prober};
    use crate::wire::fixtures::{AVAHI_PTR, AVAHI_SERVICES, AVAHI_TXT};

    /// Which of the three queries a datagram is: the service list, the host-config PTR, or
    /// the TXT of its instance.
    fn avahi(_: u16, query: &[u8]) -> Datagram {
        let text = String::from_utf8_lossy(query).to_ascii_lowercase();
        let reply = if text.contains("_services") {
            AVAHI_SERVICES
        } else if query.get(query.len().saturating_sub(4)..) == Some(&[0, 12, 0, 1][..]) {
            AVAHI_PTR
        } else {
            AVAHI_TXT
        };
        Datagram::Reply(with_id(query, reply))
    }

    /// `reply` with the id of `query`, as a responder answers a legacy unicast query.
    fn with_id(query: &[u8], reply: &[u8]) -> Vec<u8> {
        let mut reply = reply.to_vec();
        reply[..2].copy_from_slice(&query[..2]);
        reply
    }

    async fn mdns_of(answer: impl Fn(u16, &[u8]) -> Datagram + Send + Sync + 'static) -> Finding {
        udp_prober(answer).mdns(&job(CheckId::Mdns, 5353)).await
    }

    #[tokio::test(start_paused = true)]
    async fn the_service_list_and_host_config_are_read() {
        let found = mdns_of(avahi).await;
        assert_eq!(found.state, State::Verified, "{found:?}");
        assert!(found.evidence.summary.starts_with("DNS-SD: "), "{found:?}");
        assert!(found.evidence.summary.contains("host-config"), "{found:?}");
        assert!(
            found.evidence.facts.contains_key("host_config"),
            "{found:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn replies_that_are_not_dns_silence_and_icmp_are_told_apart() {
        let rows = [
            (
                Datagram::Reply(b"\x01\x02\x03".to_vec()),
                State::Open,
                "not a DNS answer",
            ),
            (Datagram::Silence, State::OpenFiltered, "no reply"),
            (Datagram::Closed, State::Closed, "ICMP port unreachable"),
        ];
        for (answer, state, why) in rows {
            let found = mdns_of(move |_, _| answer.clone()).await;
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
    async fn a_responder_without_host_config_is_verified_on_its_services() {
        let found = mdns_of(|_, query: &[u8]| {
            let text = String::from_utf8_lossy(query).to_ascii_lowercase();
            if text.contains("_services") {
                Datagram::Reply(with_id(query, AVAHI_SERVICES))
            } else {
                Datagram::Silence
            }
        })
        .await;
        assert_eq!(found.state, State::Verified, "{found:?}");
    }

    /// Replies that are DNS but not an answer to the question asked: never verified.
    #[tokio::test(start_paused = true)]
    async fn a_dns_reply_must_answer_the_question_asked() {
        // A bare 12-byte response header, with the query's id.
        let bare = mdns_of(|_, query: &[u8]| {
            let mut header = query[..12].to_vec();
            header[2] |= 0x80;
            header[4..12].fill(0);
            Datagram::Reply(header)
        })
        .await;
        assert_eq!(bare.state, State::Open, "{bare:?}");
        assert_eq!(bare.unproven, Some(Unproven::NotVerified));
        assert!(
            bare.evidence.summary.contains("answers nothing"),
            "{bare:?}"
        );
        // The service list, under another query's id.
        let other = mdns_of(|_, query: &[u8]| {
            let mut reply = with_id(query, AVAHI_SERVICES);
            reply[0] ^= 0x5a;
            reply[1] |= 1;
            Datagram::Reply(reply)
        })
        .await;
        assert_eq!(other.unproven, Some(Unproven::WrongProtocol), "{other:?}");
        // An answer about another name (the host-config PTR) to the service-list question.
        let elsewhere = mdns_of(|_, query: &[u8]| Datagram::Reply(with_id(query, AVAHI_PTR))).await;
        assert_eq!(
            elsewhere.unproven,
            Some(Unproven::NotVerified),
            "{elsewhere:?}"
        );
        // Id 0 is accepted (some printers send it), and said.
        let zero = mdns_of(|_, query: &[u8]| {
            let mut reply = with_id(query, AVAHI_SERVICES);
            reply[..2].fill(0);
            Datagram::Reply(if String::from_utf8_lossy(query).contains("_services") {
                reply
            } else {
                Vec::new()
            })
        })
        .await;
        assert_eq!(zero.state, State::Verified, "{zero:?}");
    }

    /// What RFC 6762 says to ignore, and a service that said goodbye, are never a pass.
    #[tokio::test(start_paused = true)]
    async fn an_error_code_or_a_goodbye_is_not_an_answer() {
        use hickory_proto::op::{Message, ResponseCode};
        use hickory_proto::rr::{DNSClass, Name, RData, Record, rdata::PTR};
        let reply = |rcode: ResponseCode, class: DNSClass, ttl: u32, target: &'static str| {
            move |_: u16, query: &[u8]| {
                let asked = Message::from_vec(query).unwrap();
                let mut message = Message::response(asked.metadata.id, OpCode::Query);
                message.metadata.response_code = rcode;
                let mut record = Record::from_rdata(
                    Name::from_ascii(dns::SERVICES).unwrap(),
                    ttl,
                    RData::PTR(PTR(Name::from_ascii(target).unwrap())),
                );
                record.dns_class = class;
                message.add_answer(record);
                Datagram::Reply(message.to_vec().unwrap())
            }
        };
        let printer = "_printer._tcp.local.";
        let fine = mdns_of(reply(ResponseCode::NoError, DNSClass::IN, 120, printer)).await;
        assert_eq!(fine.state, State::Verified, "{fine:?}");
        for (rcode, class, ttl, target) in [
            (ResponseCode::Refused, DNSClass::IN, 120, printer),
            (ResponseCode::NoError, DNSClass::CH, 120, printer),
            (ResponseCode::NoError, DNSClass::IN, 0, printer),
            (ResponseCode::NoError, DNSClass::IN, 120, "."),
        ] {
            let found = mdns_of(reply(rcode, class, ttl, target)).await;
            assert_eq!(
                found.state,
                State::Open,
                "{rcode:?} {class:?} {ttl} {target}: {found:?}"
            );
        }
    }
}
