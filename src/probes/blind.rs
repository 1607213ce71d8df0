//! NPAP, XMLNT and LST: protocols with no public wire format. A minimal datagram from MVE's
//! source port (or a profile's captured payload), never a command; on silence, one control
//! probe to an unused port on the same host tells "listening but silent" from "dropped".

use std::net::SocketAddr;

use super::snmp_client::SnmpGetter;
use super::udp::overlapped;
use super::{Datagrams, NetworkProber};
use crate::catalog::CheckId;
use crate::engine::Job;
use crate::results::{Finding, State};
use crate::transport::evidence::{no_reply, reply_evidence};
use crate::transport::{SourcePort, UdpOptions, UdpOutcome};
use crate::wire::lexmark;

/// The UDP port asked next door to tell "listening but silent" from "dropped": unassigned by
/// IANA and not used by printers.
pub const CONTROL_PORT: u16 = 47_809;

impl<G: SnmpGetter, D: Datagrams> NetworkProber<G, D> {
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
            timeout: self.settings.timing.timeout,
            retries: 0,
            spacing: None,
            source: SourcePort::Ephemeral,
        };
        let (exchange, control) = overlapped(
            Box::pin(self.exchange(job.peer, &payload, source, self.schedule(job))),
            self.head_start(job),
            |exchange| matches!(exchange.outcome, UdpOutcome::Silence).then_some(0),
            |_| {
                Box::pin(
                    self.datagrams
                        .exchange(control_peer, &[], control_options, &self.pacer),
                )
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
                let mut finding = no_reply(&exchange, self.settings.timing.timeout);
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
            _ => no_reply(&exchange, self.settings.timing.timeout),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probes::peer::{Datagram, job, udp_prober};

    const NPAP: u16 = 9300;

    async fn blind_to(check: CheckId, port: u16, next_door: Datagram, here: Datagram) -> Finding {
        let prober = udp_prober(move |to, _| {
            if to == CONTROL_PORT {
                next_door.clone()
            } else {
                here.clone()
            }
        });
        prober.blind(&job(check, port), SourcePort::Ephemeral).await
    }

    #[tokio::test(start_paused = true)]
    async fn blind_datagrams_cover_every_state() {
        use Datagram::*;
        let rows = [
            (
                Reply(b"\x01\x02".to_vec()),
                Silence,
                State::Open,
                "UDP reply of 2 bytes",
            ),
            (Silence, Closed, State::OpenFiltered, "likely listening"),
            (
                Silence,
                Silence,
                State::OpenFiltered,
                "no reply and no ICMP error",
            ),
            (Closed, Closed, State::Closed, "ICMP port unreachable"),
            (Local, Closed, State::Error, "could not open a UDP socket"),
        ];
        for (here, next_door, state, why) in rows {
            let found = blind_to(CheckId::Npap, NPAP, next_door, here).await;
            assert_eq!(found.state, state, "{why}: {found:?}");
            assert!(found.evidence.summary.contains(why), "{why}: {found:?}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn the_control_probe_is_reported_with_silence_only() {
        let found = blind_to(CheckId::Npap, NPAP, Datagram::Silence, Datagram::Silence).await;
        assert_eq!(found.evidence.facts["control_result"], "silent");
        let open = blind_to(
            CheckId::Npap,
            NPAP,
            Datagram::Closed,
            Datagram::Reply(vec![0]),
        )
        .await;
        assert!(
            !open.evidence.facts.contains_key("control_result"),
            "{open:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn an_xmlnt_exception_document_is_verified() {
        let reply = b"<?xml version=\"1.0\"?><Exception>bad request</Exception>".to_vec();
        let found = blind_to(
            CheckId::Xmlnt,
            6000,
            Datagram::Silence,
            Datagram::Reply(reply),
        )
        .await;
        assert_eq!(found.state, State::Verified, "{found:?}");
        let other = blind_to(
            CheckId::Npap,
            NPAP,
            Datagram::Silence,
            Datagram::Reply(vec![0]),
        )
        .await;
        assert_eq!(other.state, State::Open, "an NPAP reply is only open");
    }
}
