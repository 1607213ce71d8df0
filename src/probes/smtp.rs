//! SMTP: the banner, EHLO, and STARTTLS with the certificate when offered; never a message.

use std::net::IpAddr;

use tokio::time::Instant;

use super::tcp::{Stream, not_protocol, reply, tls, tls_summary, unconfirmed};
use super::tls_evidence;
use crate::results::{Evidence, Finding, State, Unproven};
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
    // An FTP server greets with 220 too; its banner usually says so.
    if banner.names("ftp") && !banner.names("smtp") {
        let _ = write_all(&mut stream, b"QUIT\r\n", deadline).await;
        evidence.summary = format!(
            "TCP open, but the banner is an FTP server's, not SMTP: {} {first}",
            banner.code
        );
        return Finding::unproven(evidence, Unproven::WrongProtocol);
    }
    let extensions = match greet(&mut stream, &mut buf, peer.local, deadline).await {
        Greeted::Ehlo(extensions) => extensions,
        Greeted::HeloOnly(code) => {
            evidence
                .summary
                .push_str(&format!("; EHLO answered {code}, HELO 250"));
            let _ = write_all(&mut stream, b"QUIT\r\n", deadline).await;
            return Finding::new(State::Verified, evidence).warn(format!(
                "The mail server refused EHLO with {code} but took HELO: it does not speak \
                 ESMTP, so STARTTLS and authentication are not available."
            ));
        }
        Greeted::Refused(verb, code) => {
            evidence
                .summary
                .push_str(&format!("; {verb} answered {code}"));
            return Finding::new(State::Verified, evidence)
                .warn(format!("The mail server refused {verb} with {code}."));
        }
        Greeted::NotMail(ehlo, helo) => {
            let _ = write_all(&mut stream, b"QUIT\r\n", deadline).await;
            evidence.summary = format!(
                "TCP open, a 220 banner, but EHLO was answered {ehlo} and HELO {helo}, as no mail \
                 server does (an FTP server greets with 220 too): {first}"
            );
            return Finding::unproven(evidence, Unproven::WrongProtocol);
        }
        Greeted::Unanswered(why, unproven) => {
            evidence.summary = format!("TCP open, an SMTP banner, but {why}: {first}");
            return Finding::unproven(evidence, unproven);
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

/// How the server took our greeting.
enum Greeted {
    /// EHLO accepted, with its extensions.
    Ehlo(Vec<String>),
    /// EHLO not understood (this code) but HELO accepted: SMTP without ESMTP.
    HeloOnly(u16),
    /// A mail server's refusal (421, 554, 550, …) of EHLO or HELO: it speaks SMTP and turns
    /// this server away.
    Refused(&'static str, u16),
    /// EHLO and HELO both answered as "unknown command" or "log in first" (500, 502, 530):
    /// what an FTP server says to them, never a mail server to both.
    NotMail(u16, u16),
    /// No answer in time, the connection closed, or an answer that is no SMTP reply: what
    /// happened, and what it leaves unproven.
    Unanswered(String, Unproven),
}

/// Codes a server answers a command it does not know with (or FTP's "530 log in first").
fn not_understood(code: u16) -> bool {
    matches!(code, 500 | 502 | 530)
}

/// EHLO, and HELO when EHLO is not understood (RFC 5321 §4.1.1.1: a client falls back).
async fn greet<S: Stream>(
    stream: &mut S,
    buf: &mut Vec<u8>,
    local: Option<IpAddr>,
    deadline: Instant,
) -> Greeted {
    let literal = match local {
        Some(IpAddr::V4(ip)) => format!("[{ip}]"),
        Some(IpAddr::V6(ip)) => format!("[IPv6:{ip}]"),
        None => "[127.0.0.1]".to_string(),
    };
    let ehlo = match say(stream, buf, "EHLO", &literal, deadline).await {
        Ok(reply) if reply.code == 250 => return Greeted::Ehlo(text::ehlo_extensions(&reply)),
        Ok(reply) if !not_understood(reply.code) => return Greeted::Refused("EHLO", reply.code),
        Ok(reply) => reply.code,
        Err((why, unproven)) => return Greeted::Unanswered(why, unproven),
    };
    match say(stream, buf, "HELO", &literal, deadline).await {
        Ok(reply) if reply.code == 250 => Greeted::HeloOnly(ehlo),
        Ok(reply) if not_understood(reply.code) => Greeted::NotMail(ehlo, reply.code),
        Ok(reply) => Greeted::Refused("HELO", reply.code),
        Err((why, unproven)) => Greeted::Unanswered(why, unproven),
    }
}

/// `VERB ARG` and its reply; `Err` says why there was none, and what that leaves unproven.
async fn say<S: Stream>(
    stream: &mut S,
    buf: &mut Vec<u8>,
    verb: &str,
    arg: &str,
    deadline: Instant,
) -> Result<text::Reply, (String, Unproven)> {
    let closed = || {
        (
            format!("the server closed the connection when we sent {verb}"),
            Unproven::CutShort,
        )
    };
    let command = format!("{verb} {arg}\r\n");
    if write_all(stream, command.as_bytes(), deadline)
        .await
        .is_err()
    {
        return Err(closed());
    }
    match reply(stream, buf, deadline).await {
        ReadEnd::Done(Ok(reply)) => Ok(reply),
        ReadEnd::Done(Err(_)) => Err((
            format!("the answer to {verb} is not an SMTP reply"),
            Unproven::WrongProtocol,
        )),
        ReadEnd::Closed => Err(closed()),
        other => Err((
            format!("no answer to {verb}: {}", other.describe()),
            Unproven::NoAnswer,
        )),
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
    use crate::wire::fixtures::{POSTFIX_BANNER, POSTFIX_EHLO, VSFTPD_BANNER};

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
                vec![
                    say(POSTFIX_BANNER),
                    Step::HearOne,
                    say(b"502 no\r\n"),
                    Step::HearOne,
                    say(b"250 mail.test\r\n"),
                ],
                "refused EHLO with 502 but took HELO",
            ),
            (
                vec![say(POSTFIX_BANNER), Step::HearOne, say(b"421 too busy\r\n")],
                "refused EHLO with 421",
            ),
            (
                vec![
                    say(POSTFIX_BANNER),
                    Step::HearOne,
                    say(b"500 what\r\n"),
                    Step::HearOne,
                    say(b"554 not you\r\n"),
                ],
                "refused HELO with 554",
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

    /// FTP greets with 220 too: an FTP banner, or a server that answers EHLO and HELO as
    /// unknown commands, is not a mail server; a banner and then silence proves nothing.
    #[tokio::test(start_paused = true)]
    async fn an_ftp_server_or_a_silent_one_is_not_a_mail_server() {
        let rows = [
            (
                vec![say(VSFTPD_BANNER)],
                Unproven::WrongProtocol,
                "an FTP server's",
            ),
            (
                vec![
                    say(b"220 Service ready\r\n"),
                    Step::HearOne,
                    say(b"500 Unknown command.\r\n"),
                    Step::HearOne,
                    say(b"530 Please login with USER and PASS.\r\n"),
                ],
                Unproven::WrongProtocol,
                "EHLO was answered 500 and HELO 530",
            ),
            (
                vec![say(POSTFIX_BANNER), Step::HearOne, Step::Stall],
                Unproven::NoAnswer,
                "no answer to EHLO",
            ),
            (
                vec![say(POSTFIX_BANNER), Step::HearOne, say(b"\x00\x01junk\r\n")],
                Unproven::WrongProtocol,
                "not an SMTP reply",
            ),
        ];
        for (script, why, said) in rows {
            let found = smtp(scripted(script), PEER, deadline()).await;
            assert_eq!(found.state, State::Open, "{said}: {found:?}");
            assert_eq!(found.unproven, Some(why), "{said}: {found:?}");
            assert!(found.evidence.summary.contains(said), "{said}: {found:?}");
        }
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
