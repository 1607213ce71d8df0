//! FTP: the banner, then QUIT; never a login.

use tokio::time::Instant;

use super::tcp::{Stream, not_protocol, reply, unconfirmed};
use crate::results::{Evidence, Finding, State, Unproven};
use crate::transport::stream::{ReadEnd, write_all};

/// FTP: the 220 banner, then QUIT.
pub async fn ftp<S: Stream>(mut stream: S, deadline: Instant) -> Finding {
    let mut buf = Vec::new();
    let banner = match reply(&mut stream, &mut buf, deadline).await {
        ReadEnd::Done(Ok(banner)) => banner,
        ReadEnd::Done(Err(_)) => return not_protocol("FTP", &buf),
        other => return unconfirmed("FTP", &other, &buf),
    };
    let line = banner.lines.first().cloned().unwrap_or_default();
    // A mail server greets with 220 too; its banner says so.
    if banner.names("smtp") && !banner.names("ftp") {
        let _ = write_all(&mut stream, b"QUIT\r\n", deadline).await;
        let mut evidence = Evidence::new(format!(
            "TCP open, but the banner is a mail server's (SMTP), not FTP: {} {line}",
            banner.code
        ));
        evidence.fact("banner", banner.lines.join("\n"));
        return Finding::unproven(evidence, Unproven::WrongProtocol);
    }
    let mut evidence = Evidence::new(format!("FTP {} {line}", banner.code));
    evidence.fact("banner", banner.lines.join("\n"));
    evidence.fact("reply_code", banner.code);
    let _ = write_all(&mut stream, b"QUIT\r\n", deadline).await;
    let finding = Finding::new(State::Verified, evidence);
    if banner.code == 220 {
        finding
    } else {
        finding.warn(format!(
            "The FTP server answered {} instead of 220: {line}",
            banner.code
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probes::peer::{Step, deadline, scripted};
    use crate::wire::fixtures::VSFTPD_BANNER;

    fn say(bytes: &[u8]) -> Step {
        Step::Say(bytes.to_vec())
    }

    #[tokio::test(start_paused = true)]
    async fn ftp_banner_verifies_and_odd_codes_warn() {
        let found = ftp(scripted(vec![say(VSFTPD_BANNER)]), deadline()).await;
        assert_eq!(found.state, State::Verified, "{found:?}");
        assert_eq!(found.warning, None);
        let busy = ftp(scripted(vec![say(b"421 Too many users\r\n")]), deadline()).await;
        assert_eq!(busy.state, State::Verified, "{busy:?}");
        assert!(busy.warning.unwrap().contains("421"));
    }

    #[tokio::test(start_paused = true)]
    async fn ftp_refuses_other_protocols_truncation_and_silence() {
        let rows = [
            (vec![say(b"\x16\x03\x01\x00garbage\r\n")], "is not FTP"),
            (
                vec![say(b"220-multi line never ends\r\n")],
                "closed the connection",
            ),
            (vec![Step::Stall], "no answer before the timeout"),
            (
                vec![say(b"220 mail.test ESMTP Postfix (Debian/GNU)\r\n")],
                "a mail server's (SMTP)",
            ),
        ];
        for (script, why) in rows {
            let found = ftp(scripted(script), deadline()).await;
            assert_eq!(found.state, State::Open, "{why}: {found:?}");
            assert!(
                found.unproven.is_some(),
                "an open verifying check says why: {found:?}"
            );
            assert!(found.evidence.summary.contains(why), "{why}: {found:?}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn an_endless_banner_is_cut_at_the_read_limit() {
        for banner in [&b"220-"[..], b"220 "] {
            let script = vec![say(banner), Step::Endless(1 << 20)];
            let found = ftp(scripted(script), deadline()).await;
            assert_eq!(found.state, State::Open, "{found:?}");
            assert!(
                found.unproven.is_some(),
                "an open verifying check says why: {found:?}"
            );
            assert!(found.evidence.summary.contains("read limit"), "{found:?}");
        }
    }
}
