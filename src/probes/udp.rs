//! The UDP services: Kerberos (an AS-REQ for a principal that does not exist) and the Lexmark
//! protocols with no public format (a minimal datagram and a control probe next door), and
//! what every UDP driver shares (`snmp` and `mdns` are the others). Datagrams go through
//! `Datagrams`, so each driver is unit-tested against a scripted peer.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use tokio::sync::Notify;

use super::snmp_client::SnmpGetter;
use super::{Datagrams, NetworkProber};
use crate::catalog::CheckId;
use crate::clock;
use crate::engine::Job;
use crate::results::{Finding, State};
use crate::transport::evidence::{no_reply, reply_evidence};
use crate::transport::{SourcePort, UdpExchange, UdpOptions, UdpOutcome};
use crate::wire::nonce;
use crate::wire::{kerberos, lexmark};

/// The UDP port asked next door to tell "listening but silent" from "dropped": unassigned by
/// IANA and not used by printers.
pub const CONTROL_PORT: u16 = 47_809;

/// Clock skew beyond which Kerberos authentication fails (the MIT and Windows default).
const MAX_SKEW_SECONDS: i64 = 300;

impl<G: SnmpGetter, D: Datagrams> NetworkProber<G, D> {
    pub(super) fn options(&self, source: SourcePort) -> UdpOptions {
        UdpOptions {
            timeout: self.settings.timeout,
            retries: self.settings.retries,
            source,
        }
    }

    pub(super) async fn exchange(
        &self,
        peer: SocketAddr,
        payload: &[u8],
        source: SourcePort,
    ) -> UdpExchange {
        self.datagrams
            .exchange(peer, payload, self.options(source), &self.pacer)
            .await
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

/// Runs `first`, and a follow-up when one is needed: `after` reads the first outcome and says
/// whether (and with how many retries) to follow up. The follow-up starts when `first` ends,
/// or after `head_start` if `first` is still waiting then (its first datagram unanswered), in
/// which case it runs with no retries and overlaps the retries of `first`; the caller decides
/// what an early result it no longer needs is worth.
pub(super) async fn overlapped<A, B, F: Future<Output = B>>(
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probes::peer::{Datagram, job, udp_prober};
    use crate::wire::fixtures::KDC_PRINCIPAL_UNKNOWN;

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

    /// The KDC fixture with its clock set to `seconds`.
    fn kdc_reply_at(seconds: i64) -> Vec<u8> {
        let stamp: String = clock::date_time_text(seconds)
            .chars()
            .filter(char::is_ascii_digit)
            .chain(['Z'])
            .collect();
        let mut reply = KDC_PRINCIPAL_UNKNOWN.to_vec();
        let at = reply
            .windows(15)
            .position(|w| w.len() == 15 && w[..14].iter().all(u8::is_ascii_digit) && w[14] == b'Z')
            .expect("the fixture carries its server time");
        reply[at..at + 15].copy_from_slice(stamp.as_bytes());
        reply
    }

    async fn kerberos_with(answer: Datagram) -> Finding {
        let prober = udp_prober(move |_, _| answer.clone());
        prober.kerberos(&job(CheckId::Kerberos, 88)).await
    }

    #[tokio::test(start_paused = true)]
    async fn kerberos_verifies_a_kdc_and_warns_of_clock_skew() {
        let now = kerberos_with(Datagram::Reply(kdc_reply_at(clock::unix_now()))).await;
        assert_eq!(now.state, State::Verified, "{now:?}");
        assert_eq!(now.warning, None, "{now:?}");
        assert!(now.evidence.summary.contains("KDC answered"), "{now:?}");
        let behind = kerberos_with(Datagram::Reply(kdc_reply_at(clock::unix_now() - 3600))).await;
        assert_eq!(behind.state, State::Verified, "{behind:?}");
        assert!(behind.warning.unwrap_or_default().contains("NTP"));
    }

    #[tokio::test(start_paused = true)]
    async fn kerberos_tells_other_replies_silence_and_icmp_apart() {
        let rows = [
            (
                Datagram::Reply(b"\x00garbage".to_vec()),
                State::Open,
                "not Kerberos",
            ),
            (Datagram::Silence, State::OpenFiltered, "no reply"),
            (Datagram::Closed, State::Closed, "ICMP port unreachable"),
        ];
        for (answer, state, why) in rows {
            let found = kerberos_with(answer).await;
            assert_eq!(found.state, state, "{why}: {found:?}");
            assert!(found.evidence.summary.contains(why), "{why}: {found:?}");
        }
    }
}
