//! HTTP and HTTPS: `HEAD /` with a Host header, inside a TLS handshake for HTTPS; the status
//! line, the Server header and the certificate's facts. Never a body, never a write.

use tokio::time::Instant;

use super::tcp::{MAX_TEXT, Stream, ask, not_protocol, tls, tls_summary, unconfirmed};
use super::tls_evidence;
use crate::results::{Evidence, Finding, State, Unproven};
use crate::transport::evidence::tls_failure;
use crate::transport::stream::ReadEnd;
use crate::transport::tls::Handshake;
use crate::wire::text;

/// HTTP: `HEAD /` with a Host header; the status line and Server header.
pub async fn http<S: Stream>(mut stream: S, host: &str, deadline: Instant) -> Finding {
    let request = text::http_head_request(host);
    let asked = ask(
        &mut stream,
        &request,
        MAX_TEXT,
        deadline,
        |b| match text::parse_http_head(b) {
            Err(text::TextError::Incomplete) => None,
            other => Some(other),
        },
    );
    let (end, buf) = match asked.await {
        Ok(reply) => reply,
        Err(finding) => return finding,
    };
    let head = match end {
        ReadEnd::Done(Ok(head)) => head,
        ReadEnd::Done(Err(_)) => return not_protocol("HTTP", &buf),
        other => return unconfirmed("HTTP", &other, &buf),
    };
    let server = head
        .server
        .as_deref()
        .map(|s| format!(", Server: {s}"))
        .unwrap_or_default();
    let mut evidence = Evidence::new(format!("HTTP {} {}{server}", head.status, head.reason));
    evidence.fact("http_status", head.status);
    evidence.fact("http_version", head.version.clone());
    if let Some(server) = head.server {
        evidence.fact("server", server);
    }
    if let Some(location) = head.location {
        evidence.fact("location", location);
    }
    // A web server answered; two answers to a well-formed `HEAD /` still say it will not
    // serve this client: 400 (nginx says so to plain HTTP sent to its TLS port) and 5xx.
    let warning = match head.status {
        400 => Some(
            "The web server answered 400 Bad Request to a plain HEAD /: the port may serve \
             HTTPS only (nginx answers plain HTTP on a TLS port so), or the server refuses \
             this client."
                .to_string(),
        ),
        500..=599 => Some(format!(
            "The web server answered {} {}: it is up but failing; check the device's web \
             service.",
            head.status, head.reason
        )),
        _ => None,
    };
    Finding::new(State::Verified, evidence).maybe_warn(warning)
}

/// HTTPS: a TLS handshake with its facts, then `HEAD /` inside it.
pub async fn https<S: Stream>(stream: S, host: &str, deadline: Instant) -> Finding {
    let (session, facts) = match tls(stream, host, deadline).await {
        Handshake::Done(session, facts) => (session, facts),
        other => return tls_failure(other),
    };
    let (mut evidence, warning) = tls_evidence(&facts);
    let inner = http(session, host, deadline).await;
    evidence.summary = format!("{}; {}", tls_summary(&facts), inner.evidence.summary);
    evidence.facts.extend(inner.evidence.facts);
    let finding = if inner.state == State::Verified {
        Finding::new(State::Verified, evidence)
    } else {
        Finding::unproven(evidence, inner.unproven.unwrap_or(Unproven::NotVerified))
    };
    // The certificate's warning first; else what the web server inside said.
    finding.maybe_warn(warning.or(inner.warning))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probes::peer::{Step, deadline, scripted, tls_scripted};
    use crate::wire::fixtures::NGINX_HEAD;

    fn answer(reply: &[u8]) -> Vec<Step> {
        vec![Step::HearOne, Step::Say(reply.to_vec())]
    }

    #[tokio::test(start_paused = true)]
    async fn http_reads_the_status_line_and_server() {
        let found = http(scripted(answer(NGINX_HEAD)), "printer.test", deadline()).await;
        assert_eq!(found.state, State::Verified, "{found:?}");
        assert!(found.evidence.summary.starts_with("HTTP 200"), "{found:?}");
        assert_eq!(found.evidence.facts["server"], "nginx/1.22.1");
        assert_eq!(found.warning, None, "{found:?}");
        // A login page or a redirect is a working web server; a 400 to a plain HEAD / or a
        // server error is verified HTTP that will not serve this client, and warns.
        for (status, warns) in [
            ("302 Found", false),
            ("401 Unauthorized", false),
            ("404 Not Found", false),
            ("400 Bad Request", true),
            ("503 Service Unavailable", true),
        ] {
            let head = format!("HTTP/1.1 {status}\r\nServer: x\r\n\r\n");
            let found = http(scripted(answer(head.as_bytes())), "p.test", deadline()).await;
            assert_eq!(found.state, State::Verified, "{status}: {found:?}");
            assert_eq!(found.warning.is_some(), warns, "{status}: {found:?}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn http_tells_other_protocols_truncation_and_silence_apart() {
        let rows: [(Vec<Step>, &str); 4] = [
            (answer(b"SSH-2.0-OpenSSH_9.2\r\n"), "is not HTTP"),
            (
                answer(b"HTTP/1.1 200 OK\r\nServer: x"),
                "closed the connection",
            ),
            (
                vec![Step::HearOne, Step::Stall],
                "no answer before the timeout",
            ),
            (vec![], "closed the connection"),
        ];
        for (script, why) in rows {
            let found = http(scripted(script), "printer.test", deadline()).await;
            assert_eq!(found.state, State::Open, "{why}: {found:?}");
            assert!(
                found.unproven.is_some(),
                "an open verifying check says why: {found:?}"
            );
            assert!(found.evidence.summary.contains(why), "{why}: {found:?}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn https_reads_the_certificate_then_http_inside() {
        let peer = tls_scripted("printer.test", 365, answer(NGINX_HEAD));
        let found = https(peer, "printer.test", deadline()).await;
        assert_eq!(found.state, State::Verified, "{found:?}");
        assert_eq!(found.warning, None, "{found:?}");
        assert_eq!(found.evidence.facts["cert_subject"], "CN=printer.test");
        assert!(found.evidence.summary.contains("HTTP 200"), "{found:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn https_warns_of_an_expired_certificate() {
        let peer = tls_scripted("printer.test", -3, answer(NGINX_HEAD));
        let found = https(peer, "printer.test", deadline()).await;
        assert_eq!(found.state, State::Verified, "{found:?}");
        assert!(
            found.warning.as_deref().unwrap_or("").contains("expired"),
            "{found:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn https_without_tls_or_http_is_open_only() {
        let plain = https(scripted(answer(NGINX_HEAD)), "printer.test", deadline()).await;
        assert_eq!(plain.state, State::Open, "{plain:?}");
        assert!(
            plain.unproven.is_some(),
            "an open verifying check says why: {plain:?}"
        );
        assert!(
            plain.evidence.summary.contains("TCP open, but"),
            "{plain:?}"
        );
        let stalled = https(scripted(vec![Step::Stall]), "printer.test", deadline()).await;
        assert_eq!(stalled.state, State::Open, "{stalled:?}");
        assert!(
            stalled.unproven.is_some(),
            "an open verifying check says why: {stalled:?}"
        );
        assert!(
            stalled.evidence.summary.contains("did not finish in time"),
            "{stalled:?}"
        );
        let garbage = tls_scripted("printer.test", 365, answer(b"\x00\x01garbage"));
        let inner = https(garbage, "printer.test", deadline()).await;
        assert_eq!(inner.state, State::Open, "{inner:?}");
        assert!(
            inner.unproven.is_some(),
            "an open verifying check says why: {inner:?}"
        );
        assert!(inner.evidence.summary.contains("is not HTTP"), "{inner:?}");
    }

    /// Hostile peers: each ends in a defined state within the deadline, with evidence saying
    /// what happened, and reads stay bounded.
    #[tokio::test(start_paused = true)]
    async fn hostile_web_peers_end_in_a_defined_state() {
        let tick = std::time::Duration::from_millis(100);
        let rows: [(Vec<Step>, State, &str); 4] = [
            // A reply dripped a byte per 100 ms arrives within the 4 s deadline.
            (
                vec![
                    Step::HearOne,
                    Step::Drip(b"HTTP/1.0 200 OK\r\n\r\n".to_vec(), tick),
                ],
                State::Verified,
                "HTTP 200",
            ),
            // One dripped past the deadline is a timeout, not a hang.
            (
                vec![
                    Step::HearOne,
                    Step::Say(b"HTTP/1.1 200 OK\r\nX: ".to_vec()),
                    Step::Drip(vec![b'y'; 100], tick),
                ],
                State::Open,
                "no answer before the timeout",
            ),
            // An endless head is cut at the read limit.
            (
                vec![
                    Step::HearOne,
                    Step::Say(b"HTTP/1.1 200 OK\r\nX: ".to_vec()),
                    Step::Endless(1 << 20),
                ],
                State::Open,
                "read limit",
            ),
            // A peer that accepts and never speaks.
            (
                vec![Step::Stall],
                State::Open,
                "no answer before the timeout",
            ),
        ];
        for (script, state, why) in rows {
            let found = http(scripted(script), "printer.test", deadline()).await;
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
    async fn tls_peers_that_stall_or_reset_mid_handshake_are_reported() {
        // Reads the ClientHello, then never answers.
        let stalled = https(
            scripted(vec![Step::HearOne, Step::Stall]),
            "p.test",
            deadline(),
        )
        .await;
        assert_eq!(stalled.state, State::Open, "{stalled:?}");
        assert!(
            stalled.unproven.is_some(),
            "an open verifying check says why: {stalled:?}"
        );
        assert!(
            stalled.evidence.summary.contains("did not finish in time"),
            "{stalled:?}"
        );
        // Reads the ClientHello, then closes.
        let reset = https(scripted(vec![Step::HearOne]), "p.test", deadline()).await;
        assert_eq!(reset.state, State::Open, "{reset:?}");
        assert!(
            reset.unproven.is_some(),
            "an open verifying check says why: {reset:?}"
        );
        assert!(
            reset.evidence.summary.contains("closed the connection"),
            "{reset:?}"
        );
        // A close is no proof of TLS: the cell does not claim it, and the warning names both
        // causes (old firmware, a service turning this server away).
        assert!(!reset.evidence.summary.contains("TLS present"), "{reset:?}");
        assert_eq!(reset.unproven, Some(Unproven::NoHandshake), "{reset:?}");
        let warning = reset.warning.as_deref().unwrap_or_default();
        assert!(
            warning.contains("TLS 1.2") && warning.contains("access list"),
            "{reset:?}"
        );
        // Answers the ClientHello with garbage.
        let garbage = https(scripted(answer(&[0x15; 64])), "p.test", deadline()).await;
        assert_eq!(garbage.state, State::Open, "{garbage:?}");
        assert!(
            garbage.unproven.is_some(),
            "an open verifying check says why: {garbage:?}"
        );
        assert!(
            garbage.evidence.summary.starts_with("TCP open, but"),
            "{garbage:?}"
        );
    }
}
