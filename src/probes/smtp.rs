//! SMTP: the banner, EHLO, and STARTTLS with the certificate when offered; never a message.

use std::net::IpAddr;

use tokio::time::Instant;

use super::tcp::{Stream, not_protocol, reply, tls, tls_summary, unconfirmed};
use super::tls_evidence;
use crate::results::{Evidence, Finding, State};
use crate::transport::evidence::tls_failure;
use crate::transport::stream::{ReadEnd, write_all};
use crate::transport::tls::Handshake;
use crate::wire::text;

/// Where an SMTP conversation is: what we say in EHLO, and the TLS name for STARTTLS.
#[derive(Debug, Clone, Copy)]
pub struct SmtpPeer<'a> {
    /// Our address, sent as an address literal in EHLO (RFC 5321 §4.1.3): no name of ours.
    pub local: Option<IpAddr>,
    pub tls_name: &'a str,
}

/// SMTP: the 220 banner, EHLO and its extensions, STARTTLS and the certificate when offered.
pub async fn smtp<S: Stream>(mut stream: S, peer: SmtpPeer<'_>, deadline: Instant) -> Finding {
    let mut buf = Vec::new();
    let banner = match reply(&mut stream, &mut buf, deadline).await {
        ReadEnd::Done(Ok(banner)) => banner,
        ReadEnd::Done(Err(_)) => return not_protocol("SMTP", &buf),
        other => return unconfirmed("SMTP", &other, &buf),
    };
    let first = banner.lines.first().cloned().unwrap_or_default();
    let mut evidence = Evidence::new(format!("SMTP {} {first}", banner.code));
    evidence.fact("banner", banner.lines.join("\n"));
    if banner.code != 220 {
        return Finding::new(State::Verified, evidence).warn(format!(
            "The mail server greeted with {} instead of 220: {first}",
            banner.code
        ));
    }
    let extensions = match ehlo(&mut stream, &mut buf, peer.local, deadline).await {
        Ok(extensions) => extensions,
        Err((said, warning)) => {
            evidence.summary.push_str(&said);
            return Finding::new(State::Verified, evidence).maybe_warn(warning);
        }
    };
    let starttls = extensions.iter().any(|e| e == "STARTTLS");
    evidence.summary.push_str(&format!(
        "; EHLO: {}; STARTTLS {}",
        extensions.join(" "),
        if starttls { "offered" } else { "not offered" }
    ));
    evidence.fact("extensions", extensions);
    evidence.fact("starttls", starttls);
    if !starttls {
        let _ = write_all(&mut stream, b"QUIT\r\n", deadline).await;
        return Finding::new(State::Verified, evidence);
    }
    starttls_finding(stream, buf, peer.tls_name, evidence, deadline).await
}

/// EHLO and its extensions; `Err` is what to add to the summary, and the warning, when the
/// server did not answer it with 250.
async fn ehlo<S: Stream>(
    stream: &mut S,
    buf: &mut Vec<u8>,
    local: Option<IpAddr>,
    deadline: Instant,
) -> Result<Vec<String>, (String, Option<String>)> {
    let helo = match local {
        Some(IpAddr::V4(ip)) => format!("EHLO [{ip}]\r\n"),
        Some(IpAddr::V6(ip)) => format!("EHLO [IPv6:{ip}]\r\n"),
        None => "EHLO [127.0.0.1]\r\n".to_string(),
    };
    if write_all(stream, helo.as_bytes(), deadline).await.is_err() {
        let warning = "The mail server closed the connection after its banner.";
        return Err((String::new(), Some(warning.into())));
    }
    match reply(stream, buf, deadline).await {
        ReadEnd::Done(Ok(ehlo)) if ehlo.code == 250 => Ok(text::ehlo_extensions(&ehlo)),
        ReadEnd::Done(Ok(other)) => Err((
            format!("; EHLO answered {}", other.code),
            Some(format!("The mail server refused EHLO with {}.", other.code)),
        )),
        _ => Err(("; no EHLO answer".into(), None)),
    }
}

/// STARTTLS, the handshake and its certificate, added to `evidence`.
async fn starttls_finding<S: Stream>(
    mut stream: S,
    mut buf: Vec<u8>,
    tls_name: &str,
    mut evidence: Evidence,
    deadline: Instant,
) -> Finding {
    if write_all(&mut stream, b"STARTTLS\r\n", deadline)
        .await
        .is_err()
    {
        return Finding::new(State::Verified, evidence);
    }
    match reply(&mut stream, &mut buf, deadline).await {
        ReadEnd::Done(Ok(ready)) if ready.code == 220 => {}
        _ => {
            return Finding::new(State::Verified, evidence)
                .warn("The mail server offers STARTTLS but did not accept it.");
        }
    }
    match tls(stream, tls_name, deadline).await {
        Handshake::Done(mut session, facts) => {
            let (tls_ev, warning) = tls_evidence(&facts);
            evidence
                .summary
                .push_str(&format!("; {}", tls_summary(&facts)));
            evidence.facts.extend(tls_ev.facts);
            let _ = write_all(&mut *session, b"QUIT\r\n", deadline).await;
            Finding::new(State::Verified, evidence).maybe_warn(warning)
        }
        other => {
            let failed = tls_failure(other);
            evidence
                .summary
                .push_str(&format!("; STARTTLS: {}", failed.evidence.summary));
            let warning = failed
                .warning
                .unwrap_or_else(|| "STARTTLS is offered but the TLS handshake failed.".into());
            Finding::new(State::Verified, evidence).warn(warning)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probes::peer::{Step, deadline, scripted, starttls_scripted};
    use crate::wire::fixtures::{POSTFIX_BANNER, POSTFIX_EHLO};

    const PEER: SmtpPeer<'static> = SmtpPeer {
        local: None,
        tls_name: "mail.test",
    };

    fn say(bytes: &[u8]) -> Step {
        Step::Say(bytes.to_vec())
    }

    /// The postfix EHLO fixture offers STARTTLS.
    fn smtp_to_starttls() -> Vec<Step> {
        vec![
            say(POSTFIX_BANNER),
            Step::HearOne,
            say(POSTFIX_EHLO),
            Step::HearOne,
        ]
    }

    #[tokio::test(start_paused = true)]
    async fn smtp_without_starttls_verifies_on_ehlo() {
        let ehlo = b"250-mail.test\r\n250 SIZE 1000\r\n";
        let script = vec![say(POSTFIX_BANNER), Step::HearOne, say(ehlo)];
        let found = smtp(scripted(script), PEER, deadline()).await;
        assert_eq!(found.state, State::Verified, "{found:?}");
        assert!(
            found.evidence.summary.contains("STARTTLS not offered"),
            "{found:?}"
        );
        assert_eq!(found.warning, None);
    }

    #[tokio::test(start_paused = true)]
    async fn smtp_refusals_warn() {
        let rows = [
            (vec![say(b"554 go away\r\n")], "greeted with 554"),
            (
                vec![say(POSTFIX_BANNER), Step::HearOne, say(b"502 no\r\n")],
                "refused EHLO",
            ),
            (
                [smtp_to_starttls(), vec![say(b"454 TLS not available\r\n")]].concat(),
                "did not accept it",
            ),
            (
                [
                    smtp_to_starttls(),
                    vec![say(b"220 go ahead\r\n"), say(b"junk")],
                ]
                .concat(),
                "",
            ),
        ];
        for (script, why) in rows {
            let found = smtp(scripted(script), PEER, deadline()).await;
            assert_eq!(found.state, State::Verified, "{why}: {found:?}");
            let warning = found.warning.unwrap_or_default();
            assert!(
                !warning.is_empty() && warning.contains(why),
                "{why}: {warning}"
            );
        }
    }

    #[tokio::test(start_paused = true)]
    async fn smtp_starttls_reads_the_certificate() {
        let plain = [smtp_to_starttls(), vec![say(b"220 go ahead\r\n")]].concat();
        let client = starttls_scripted(plain, "mail.test", vec![Step::HearOne]);
        let found = smtp(client, PEER, deadline()).await;
        assert_eq!(found.state, State::Verified, "{found:?}");
        assert_eq!(found.warning, None, "{found:?}");
        assert_eq!(found.evidence.facts["cert_subject"], "CN=mail.test");
    }

    #[tokio::test(start_paused = true)]
    async fn smtp_refuses_other_protocols_and_silence() {
        let garbage = smtp(scripted(vec![say(b"\x00\x01\x02\r\n")]), PEER, deadline()).await;
        assert_eq!(garbage.state, State::Open, "{garbage:?}");
        assert!(
            garbage.unproven.is_some(),
            "an open verifying check says why: {garbage:?}"
        );
        assert!(
            garbage.evidence.summary.contains("is not SMTP"),
            "{garbage:?}"
        );
        let silent = smtp(scripted(vec![Step::Stall]), PEER, deadline()).await;
        assert_eq!(silent.state, State::Open, "{silent:?}");
        assert!(
            silent.unproven.is_some(),
            "an open verifying check says why: {silent:?}"
        );
        assert!(
            silent.evidence.summary.contains("no answer before"),
            "{silent:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn an_endless_banner_is_cut_at_the_read_limit() {
        for banner in [&b"220-"[..], b"220 "] {
            let script = vec![say(banner), Step::Endless(1 << 20)];
            let found = smtp(scripted(script), PEER, deadline()).await;
            assert_eq!(found.state, State::Open, "{found:?}");
            assert!(
                found.unproven.is_some(),
                "an open verifying check says why: {found:?}"
            );
            assert!(found.evidence.reply_len <= Some(16 * 1024), "{found:?}");
        }
    }
}
