//! Kerberos: an AS-REQ for a principal that does not exist, which every KDC answers with a
//! KRB-ERROR; its clock is compared with ours. Never a real principal, never a password.

use super::snmp_client::SnmpGetter;
use super::{Datagrams, NetworkProber};
use crate::clock;
use crate::engine::Job;
use crate::results::{Finding, State, Unproven};
use crate::transport::evidence::{no_reply, reply_evidence};
use crate::transport::{SourcePort, UdpOutcome};
use crate::wire::{kerberos, nonce};

/// Clock skew beyond which Kerberos authentication fails (the MIT and Windows default).
const MAX_SKEW_SECONDS: i64 = 300;

impl<G: SnmpGetter, D: Datagrams> NetworkProber<G, D> {
    /// Kerberos: a KRB-ERROR for our unknown principal proves a KDC; its clock is compared
    /// with ours.
    pub(super) async fn kerberos(&self, job: &Job) -> Finding {
        let request = kerberos::as_request(&self.settings.kerberos_realm, nonce());
        let exchange = self
            .exchange(
                job.peer,
                &request,
                SourcePort::Ephemeral,
                self.schedule(job),
            )
            .await;
        let UdpOutcome::Reply(bytes) = &exchange.outcome else {
            return no_reply(&exchange, self.settings.timing.timeout);
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
                Finding::unproven(evidence, Unproven::WrongProtocol)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::CheckId;
    use crate::probes::peer::{Datagram, job, udp_prober};
    use crate::wire::fixtures::KDC_PRINCIPAL_UNKNOWN;

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
            assert_eq!(
                found.unproven.is_some(),
                state == State::Open,
                "an open verifying check says why, and only then: {found:?}"
            );
            assert!(found.evidence.summary.contains(why), "{why}: {found:?}");
        }
    }
}
