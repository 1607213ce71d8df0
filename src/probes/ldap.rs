//! LDAP and LDAPS: an anonymous search of the root DSE (naming contexts, versions, StartTLS),
//! the read-only query every directory answers without a bind.

use tokio::time::Instant;

use super::tcp::{MAX_REPLY, Stream, not_protocol, tls, tls_summary, unconfirmed};
use super::tls_evidence;
use crate::results::{Evidence, Finding, State};
use crate::transport::evidence::tls_failure;
use crate::transport::stream::ReadEnd;
use crate::transport::tls::Handshake;
use crate::wire::ldap;

/// The message id of our one search.
const ID: u32 = 1;

pub async fn ldap<S: Stream>(mut stream: S, deadline: Instant) -> Finding {
    match root_dse(&mut stream, deadline).await {
        Ok(dse) => dse_finding(dse, Evidence::new("")),
        Err(finding) => finding,
    }
}

pub async fn ldaps<S: Stream>(stream: S, host: &str, deadline: Instant) -> Finding {
    let (mut session, facts) = match tls(stream, host, deadline).await {
        Handshake::Done(session, facts) => (session, facts),
        other => return tls_failure(other),
    };
    let (mut evidence, warning) = tls_evidence(&facts);
    evidence.summary = tls_summary(&facts);
    let finding = match root_dse(&mut session, deadline).await {
        Ok(dse) => dse_finding(dse, evidence),
        Err(mut inner) => {
            evidence.summary = format!("{}; {}", evidence.summary, inner.evidence.summary);
            inner.evidence = evidence;
            inner
        }
    };
    finding.maybe_warn(warning)
}

/// The root DSE over any stream (plain or TLS); `Err` is the finding when none came back.
async fn root_dse<S: Stream>(stream: &mut S, deadline: Instant) -> Result<ldap::RootDse, Finding> {
    let request = ldap::root_dse_request(ID);
    let (end, buf) =
        super::tcp::ask(stream, &request, MAX_REPLY, deadline, ldap::search_len).await?;
    match end {
        ReadEnd::Done(len) => {
            let messages = buf.get(..len).unwrap_or_default();
            ldap::parse_root_dse(messages, ID).map_err(|_| not_protocol("LDAP", &buf))
        }
        other => Err(unconfirmed("LDAP", &other, &buf)),
    }
}

fn dse_finding(dse: ldap::RootDse, mut evidence: Evidence) -> Finding {
    let contexts = if dse.naming_contexts.is_empty() {
        "no naming contexts".to_string()
    } else {
        dse.naming_contexts.join("; ")
    };
    let versions = if dse.ldap_versions.is_empty() {
        "?".to_string()
    } else {
        dse.ldap_versions.join("/")
    };
    let starttls = if dse.starttls {
        "offered"
    } else {
        "not offered"
    };
    let summary = format!("LDAP root DSE: {contexts}; LDAP v{versions}; StartTLS {starttls}");
    evidence.summary = if evidence.summary.is_empty() {
        summary
    } else {
        format!("{}; {summary}", evidence.summary)
    };
    evidence.fact("naming_contexts", dse.naming_contexts);
    evidence.fact("supported_ldap_versions", dse.ldap_versions);
    evidence.fact("supported_sasl_mechanisms", dse.sasl_mechanisms);
    evidence.fact("starttls", dse.starttls);
    if let Some(vendor) = dse.vendor {
        evidence.fact("vendor", vendor);
    }
    Finding::new(State::Verified, evidence)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probes::peer::{Step, deadline, scripted, tls_scripted};
    use crate::wire::fixtures::SLAPD_ROOT_DSE;

    fn answer(reply: &[u8]) -> Vec<Step> {
        vec![Step::HearOne, Step::Say(reply.to_vec())]
    }

    #[tokio::test(start_paused = true)]
    async fn ldap_reads_the_root_dse() {
        let found = ldap(scripted(answer(SLAPD_ROOT_DSE)), deadline()).await;
        assert_eq!(found.state, State::Verified, "{found:?}");
        assert!(
            found.evidence.summary.starts_with("LDAP root DSE: "),
            "{found:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn ldap_tells_garbage_truncation_and_silence_apart() {
        let half = &SLAPD_ROOT_DSE[..SLAPD_ROOT_DSE.len() / 2];
        let rows: [(Vec<Step>, &str); 3] = [
            (answer(b"\x30\x84\xff\xff\xff\xff garbage"), "is not LDAP"),
            (answer(half), "closed the connection"),
            (
                vec![Step::HearOne, Step::Stall],
                "no answer before the timeout",
            ),
        ];
        for (script, why) in rows {
            let found = ldap(scripted(script), deadline()).await;
            assert_eq!(found.state, State::Open, "{why}: {found:?}");
            assert!(
                found.unproven.is_some(),
                "an open verifying check says why: {found:?}"
            );
            assert!(found.evidence.summary.contains(why), "{why}: {found:?}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn ldaps_reads_the_certificate_and_the_root_dse() {
        let peer = tls_scripted("ldap.test", 10, answer(SLAPD_ROOT_DSE));
        let found = ldaps(peer, "ldap.test", deadline()).await;
        assert_eq!(found.state, State::Verified, "{found:?}");
        assert!(
            found.evidence.summary.contains("LDAP root DSE"),
            "{found:?}"
        );
        // Ten days left is under the warning's thirty.
        assert!(found.warning.unwrap_or_default().contains("expires"));
    }

    #[tokio::test(start_paused = true)]
    async fn ldaps_keeps_tls_facts_when_the_directory_is_silent() {
        let peer = tls_scripted("ldap.test", 365, vec![Step::HearOne, Step::Stall]);
        let found = ldaps(peer, "ldap.test", deadline()).await;
        assert_eq!(found.state, State::Open, "{found:?}");
        assert!(
            found.unproven.is_some(),
            "an open verifying check says why: {found:?}"
        );
        assert!(
            found.evidence.summary.contains("no answer before"),
            "{found:?}"
        );
        assert_eq!(found.evidence.facts["cert_subject"], "CN=ldap.test");
        let plain = ldaps(scripted(answer(SLAPD_ROOT_DSE)), "ldap.test", deadline()).await;
        assert_eq!(plain.state, State::Open, "{plain:?}");
        assert!(
            plain.unproven.is_some(),
            "an open verifying check says why: {plain:?}"
        );
    }
}
