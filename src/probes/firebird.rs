//! Firebird: an op_connect, read for accept or reject and the protocol version; never a
//! login.

use tokio::time::Instant;

use super::tcp::{Stream, ask, not_protocol, unconfirmed};
use crate::results::{Evidence, Finding, State};
use crate::transport::stream::ReadEnd;
use crate::wire::firebird;

/// The most read of an answer.
const MAX_ANSWER: usize = 4096;

/// Firebird: op_connect; accept or reject and the protocol version.
pub async fn firebird<S: Stream>(mut stream: S, deadline: Instant) -> Finding {
    let request = firebird::connect_request();
    let asked = ask(
        &mut stream,
        &request,
        MAX_ANSWER,
        deadline,
        |b| match firebird::parse_answer(b) {
            Err(firebird::FirebirdError::Short) => None,
            other => Some(other),
        },
    );
    let (end, buf) = match asked.await {
        Ok(reply) => reply,
        Err(finding) => return finding,
    };
    let answer = match end {
        ReadEnd::Done(Ok(answer)) => answer,
        ReadEnd::Done(Err(_)) => return not_protocol("Firebird", &buf),
        other => return unconfirmed("Firebird", &other, &buf),
    };
    let mut evidence = Evidence::new(match (answer, answer.protocol_number()) {
        (_, Some(protocol)) => format!("Firebird {}: protocol {protocol}", answer.op_name()),
        (firebird::Answer::AuthRequested, _) => {
            "Firebird op_cont_auth: the server accepts connections and asks for a login".into()
        }
        _ => format!("Firebird {}", answer.op_name()),
    });
    evidence.fact("answer", answer.op_name());
    if let Some(protocol) = answer.protocol_number() {
        evidence.fact("protocol_version", protocol);
    }
    let finding = Finding::new(State::Verified, evidence);
    match answer {
        firebird::Answer::Accepted { .. } | firebird::Answer::AuthRequested => finding,
        _ => finding.warn("The Firebird server refused every protocol version offered."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probes::peer::{Step, deadline, scripted};
    use crate::wire::fixtures::FIREBIRD_ANSWER;

    fn answer(reply: &[u8]) -> Vec<Step> {
        vec![Step::HearOne, Step::Say(reply.to_vec())]
    }

    /// Our own PRELOGIN turned into a server's answer (packet type 4): version 0.0.0,
    #[tokio::test(start_paused = true)]
    async fn firebird_reads_the_answer_and_warns_on_a_reject() {
        let found = firebird(scripted(answer(FIREBIRD_ANSWER)), deadline()).await;
        assert_eq!(found.state, State::Verified, "{found:?}");
        assert_eq!(found.warning, None, "{found:?}");
        // op_reject (4), as a server that shares no protocol version sends.
        let reject = firebird(scripted(answer(&[0, 0, 0, 4])), deadline()).await;
        assert_eq!(reject.state, State::Verified, "{reject:?}");
        assert!(reject.warning.unwrap_or_default().contains("refused"));
    }

    #[tokio::test(start_paused = true)]
    async fn firebird_refuses_garbage_truncation_and_silence() {
        let rows: [(Vec<Step>, &str); 3] = [
            (answer(b"\x00\x00\x00\x63garbage!"), "is not Firebird"),
            (answer(&FIREBIRD_ANSWER[..2]), "closed the connection"),
            (
                vec![Step::HearOne, Step::Stall],
                "no answer before the timeout",
            ),
        ];
        for (script, why) in rows {
            let found = firebird(scripted(script), deadline()).await;
            assert_eq!(found.state, State::Open, "{why}: {found:?}");
            assert!(
                found.unproven.is_some(),
                "an open verifying check says why: {found:?}"
            );
            assert!(found.evidence.summary.contains(why), "{why}: {found:?}");
        }
    }
}
