//! SQL Server: a TDS PRELOGIN, read for the version and encryption mode; never a login.

use tokio::time::Instant;

use super::tcp::{Stream, ask, not_protocol, unconfirmed};
use crate::results::{Evidence, Finding, State};
use crate::transport::stream::ReadEnd;
use crate::wire::tds;

/// The most read of an answer.
const MAX_ANSWER: usize = 4096;

/// SQL Server: TDS PRELOGIN; the version and encryption mode.
pub async fn sqlserver<S: Stream>(mut stream: S, deadline: Instant) -> Finding {
    let request = tds::prelogin_request();
    let asked = ask(&mut stream, &request, MAX_ANSWER, deadline, |b| {
        tds::packet_len(b).map(|_| tds::parse_prelogin(b))
    });
    let (end, buf) = match asked.await {
        Ok(reply) => reply,
        Err(finding) => return finding,
    };
    match end {
        ReadEnd::Done(Ok(prelogin)) if prelogin.is_response() => {
            let version = prelogin.version_text().unwrap_or_else(|| "unknown".into());
            let mut evidence = Evidence::new(format!(
                "SQL Server PRELOGIN: version {version}, encryption {}",
                prelogin.encryption_text()
            ));
            evidence.fact("server_version", version);
            evidence.fact("encryption", prelogin.encryption_text());
            Finding::new(State::Verified, evidence)
        }
        ReadEnd::Done(_) => not_protocol("SQL Server TDS", &buf),
        other => unconfirmed("SQL Server TDS", &other, &buf),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probes::peer::{Step, deadline, scripted};

    fn answer(reply: &[u8]) -> Vec<Step> {
        vec![Step::HearOne, Step::Say(reply.to_vec())]
    }

    /// Our own PRELOGIN turned into a server's answer (packet type 4): version 0.0.0,
    /// encryption off.
    fn prelogin_answer() -> Vec<u8> {
        let mut answer = tds::prelogin_request();
        answer[0] = 0x04;
        answer
    }

    #[tokio::test(start_paused = true)]
    async fn sqlserver_reads_version_and_encryption() {
        let found = sqlserver(scripted(answer(&prelogin_answer())), deadline()).await;
        assert_eq!(found.state, State::Verified, "{found:?}");
        assert_eq!(found.evidence.facts["server_version"], "0.0.0");
    }

    #[tokio::test(start_paused = true)]
    async fn sqlserver_refuses_echoes_garbage_truncation_and_silence() {
        let answer_bytes = prelogin_answer();
        let rows: [(Vec<Step>, &str); 4] = [
            // A PRELOGIN sent back as it came is not a server's answer.
            (answer(&tds::prelogin_request()), "is not SQL Server TDS"),
            (
                answer(b"\x04\x01\x00\x08\x00\x00\x01\x00"),
                "is not SQL Server TDS",
            ),
            (answer(&answer_bytes[..12]), "closed the connection"),
            (
                vec![Step::HearOne, Step::Stall],
                "no answer before the timeout",
            ),
        ];
        for (script, why) in rows {
            let found = sqlserver(scripted(script), deadline()).await;
            assert_eq!(found.state, State::Open, "{why}: {found:?}");
            assert!(
                found.unproven.is_some(),
                "an open verifying check says why: {found:?}"
            );
            assert!(found.evidence.summary.contains(why), "{why}: {found:?}");
        }
    }
}
