//! The TCP services: after a completed handshake, each speaks just enough of its protocol to
//! prove a real service answers. Nothing logs in, nothing is written to RAW 9100.

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::time::Instant;

use super::tls_evidence;
use crate::clock::date_text;
use crate::results::{Evidence, Finding, State, hex_head};
use crate::transport::evidence::tls_failure;
use crate::transport::stream::{ReadEnd, read_until, write_all};
use crate::transport::tls::{Handshake, handshake};
use crate::wire::{firebird, ldap, tds, text};

/// Replies larger than this are not needed to classify anything.
const MAX_REPLY: usize = 64 * 1024;

/// A connection that answered, but not with the protocol expected (or not in time).
fn unconfirmed<T>(expected: &str, end: &ReadEnd<T>, reply: &[u8]) -> Finding {
    let mut evidence = Evidence::new(format!(
        "TCP open, but no {expected} answer: {}",
        end.describe()
    ));
    if !reply.is_empty() {
        evidence.reply_len = Some(reply.len());
        evidence.reply_head = Some(hex_head(reply, 16));
    }
    Finding::new(State::Open, evidence)
}

fn not_protocol(expected: &str, reply: &[u8]) -> Finding {
    let mut evidence = Evidence::new(format!(
        "TCP open, but the answer is not {expected}: {:?}",
        String::from_utf8_lossy(&reply[..reply.len().min(40)])
    ));
    evidence.reply_len = Some(reply.len());
    evidence.reply_head = Some(hex_head(reply, 16));
    Finding::new(State::Open, evidence)
}

/// Sends `request`, then reads until `done` accepts the reply or the read ends otherwise.
async fn ask<S, T>(
    stream: &mut S,
    request: &[u8],
    max: usize,
    deadline: Instant,
    done: impl FnMut(&[u8]) -> Option<T>,
) -> Result<(ReadEnd<T>, Vec<u8>), Finding>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    if let Err(err) = write_all(stream, request, deadline).await {
        return Err(Finding::new(
            State::Open,
            Evidence::new(format!(
                "TCP open, but the request could not be sent: {err}"
            )),
        ));
    }
    let mut buf = Vec::new();
    let end = read_until(stream, &mut buf, max, deadline, done).await;
    Ok((end, buf))
}

/// HTTP: `HEAD /` with a Host header; the status line and Server header.
pub async fn http<S>(mut stream: S, host: &str, deadline: Instant) -> Finding
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let (end, buf) = match ask(
        &mut stream,
        &text::http_head_request(host),
        16 * 1024,
        deadline,
        |b| match text::parse_http_head(b) {
            Err(text::TextError::Incomplete) => None,
            other => Some(other),
        },
    )
    .await
    {
        Ok(reply) => reply,
        Err(finding) => return finding,
    };
    match end {
        ReadEnd::Done(Ok(head)) => {
            let mut evidence = Evidence::new(format!(
                "HTTP {} {}{}",
                head.status,
                head.reason,
                head.server
                    .as_deref()
                    .map(|s| format!(", Server: {s}"))
                    .unwrap_or_default()
            ));
            evidence.fact("http_status", head.status);
            evidence.fact("http_version", head.version.clone());
            if let Some(server) = head.server {
                evidence.fact("server", server);
            }
            if let Some(location) = head.location {
                evidence.fact("location", location);
            }
            Finding::new(State::Verified, evidence)
        }
        ReadEnd::Done(Err(_)) => not_protocol("HTTP", &buf),
        other => unconfirmed("HTTP", &other, &buf),
    }
}

/// HTTPS: a TLS handshake with its facts, then `HEAD /` inside it.
pub async fn https(stream: TcpStream, host: &str, deadline: Instant) -> Finding {
    match handshake(
        stream,
        host,
        deadline.saturating_duration_since(Instant::now()),
    )
    .await
    {
        Handshake::Done(tls, facts) => {
            let (mut evidence, warning) = tls_evidence(&facts);
            let inner = http(tls, host, deadline).await;
            let state = if inner.state == State::Verified {
                State::Verified
            } else {
                State::Open
            };
            evidence.summary = format!("{}; {}", tls_summary(&facts), inner.evidence.summary);
            evidence.facts.extend(inner.evidence.facts);
            let finding = Finding::new(state, evidence);
            match warning {
                Some(w) => finding.warn(w),
                None => finding,
            }
        }
        other => tls_failure(other),
    }
}

/// A short TLS line for a summary.
pub fn tls_summary(facts: &crate::transport::tls::TlsFacts) -> String {
    match &facts.cert {
        Some(cert) => format!(
            "{} {}, certificate {} until {}",
            facts.version,
            facts.cipher,
            if cert.self_issued {
                "self-signed"
            } else {
                "issued"
            },
            date_text(cert.not_after)
        ),
        None => format!("{} {}", facts.version, facts.cipher),
    }
}

/// An LDAP root DSE search over any stream (plain or TLS).
async fn root_dse<S>(stream: &mut S, deadline: Instant) -> Result<ldap::RootDse, Finding>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    const ID: u32 = 1;
    let (end, buf) = match ask(
        stream,
        &ldap::root_dse_request(ID),
        MAX_REPLY,
        deadline,
        complete_search,
    )
    .await
    {
        Ok(reply) => reply,
        Err(finding) => return Err(finding),
    };
    match end {
        ReadEnd::Done(len) => {
            ldap::parse_root_dse(&buf[..len], ID).map_err(|_| not_protocol("LDAP", &buf))
        }
        other => Err(unconfirmed("LDAP", &other, &buf)),
    }
}

/// The length of the messages up to and including a SearchResultDone, once it has arrived;
/// all of the buffer when it is not BER at all (the parse then says why).
fn complete_search(buf: &[u8]) -> Option<usize> {
    let mut offset = 0;
    loop {
        match ldap::frame_len(&buf[offset..]) {
            Ok(Some(len)) if offset + len <= buf.len() => {
                let message = &buf[offset..offset + len];
                offset += len;
                if is_search_done(message) {
                    return Some(offset);
                }
            }
            Ok(_) => return None,
            Err(_) => return Some(buf.len()),
        }
    }
}

fn is_search_done(message: &[u8]) -> bool {
    let mut reader = crate::wire::ber::Reader::new(message);
    let Ok(mut inner) = reader.enter(crate::wire::ber::SEQUENCE) else {
        return true;
    };
    inner.read().is_ok() && inner.peek_tag() == Some(0x65)
}

fn dse_finding(dse: ldap::RootDse, mut evidence: Evidence) -> Finding {
    let contexts = if dse.naming_contexts.is_empty() {
        "no naming contexts".to_string()
    } else {
        dse.naming_contexts.join("; ")
    };
    let summary = format!(
        "LDAP root DSE: {contexts}; LDAP v{}; StartTLS {}",
        if dse.ldap_versions.is_empty() {
            "?".into()
        } else {
            dse.ldap_versions.join("/")
        },
        if dse.starttls {
            "offered"
        } else {
            "not offered"
        }
    );
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

pub async fn ldap(mut stream: TcpStream, deadline: Instant) -> Finding {
    match root_dse(&mut stream, deadline).await {
        Ok(dse) => dse_finding(dse, Evidence::new("")),
        Err(finding) => finding,
    }
}

pub async fn ldaps(stream: TcpStream, host: &str, deadline: Instant) -> Finding {
    match handshake(
        stream,
        host,
        deadline.saturating_duration_since(Instant::now()),
    )
    .await
    {
        Handshake::Done(mut tls, facts) => {
            let (mut evidence, warning) = tls_evidence(&facts);
            evidence.summary = tls_summary(&facts);
            let finding = match root_dse(&mut tls, deadline).await {
                Ok(dse) => dse_finding(dse, evidence),
                Err(mut inner) => {
                    evidence.summary = format!("{}; {}", evidence.summary, inner.evidence.summary);
                    inner.evidence = evidence;
                    inner
                }
            };
            match warning {
                Some(w) => finding.warn(w),
                None => finding,
            }
        }
        other => tls_failure(other),
    }
}

/// Reads one FTP/SMTP reply.
async fn reply<S>(
    stream: &mut S,
    buf: &mut Vec<u8>,
    deadline: Instant,
) -> ReadEnd<Result<text::Reply, text::TextError>>
where
    S: AsyncRead + Unpin,
{
    let end = read_until(
        stream,
        buf,
        16 * 1024,
        deadline,
        |b| match text::parse_reply(b) {
            Err(text::TextError::Incomplete) => None,
            Ok((reply, _)) => Some(Ok(reply)),
            Err(err) => Some(Err(err)),
        },
    )
    .await;
    if let ReadEnd::Done(Ok(_)) = &end {
        // The next reply starts after this one.
        if let Ok((_, used)) = text::parse_reply(buf) {
            buf.drain(..used);
        }
    }
    end
}

/// FTP: the 220 banner, then QUIT. Never a login.
pub async fn ftp(mut stream: TcpStream, deadline: Instant) -> Finding {
    let mut buf = Vec::new();
    match reply(&mut stream, &mut buf, deadline).await {
        ReadEnd::Done(Ok(banner)) => {
            let line = banner.lines.first().cloned().unwrap_or_default();
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
        ReadEnd::Done(Err(_)) => not_protocol("FTP", &buf),
        other => unconfirmed("FTP", &other, &buf),
    }
}

/// SMTP: the 220 banner, EHLO and its extensions, STARTTLS and the certificate when offered.
pub async fn smtp(mut stream: TcpStream, deadline: Instant) -> Finding {
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
    // An address literal needs no name of ours (RFC 5321 §4.1.3).
    let helo = match stream.local_addr().map(|a| a.ip()) {
        Ok(std::net::IpAddr::V4(ip)) => format!("EHLO [{ip}]\r\n"),
        Ok(std::net::IpAddr::V6(ip)) => format!("EHLO [IPv6:{ip}]\r\n"),
        Err(_) => "EHLO [127.0.0.1]\r\n".to_string(),
    };
    if write_all(&mut stream, helo.as_bytes(), deadline)
        .await
        .is_err()
    {
        return Finding::new(State::Verified, evidence)
            .warn("The mail server closed the connection after its banner.");
    }
    let extensions = match reply(&mut stream, &mut buf, deadline).await {
        ReadEnd::Done(Ok(ehlo)) if ehlo.code == 250 => text::ehlo_extensions(&ehlo),
        ReadEnd::Done(Ok(other)) => {
            evidence
                .summary
                .push_str(&format!("; EHLO answered {}", other.code));
            return Finding::new(State::Verified, evidence)
                .warn(format!("The mail server refused EHLO with {}.", other.code));
        }
        _ => {
            evidence.summary.push_str("; no EHLO answer");
            return Finding::new(State::Verified, evidence);
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
    let host = stream
        .peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_default();
    match handshake(
        stream,
        &host,
        deadline.saturating_duration_since(Instant::now()),
    )
    .await
    {
        Handshake::Done(mut tls, facts) => {
            let (tls_ev, warning) = tls_evidence(&facts);
            evidence
                .summary
                .push_str(&format!("; {}", tls_summary(&facts)));
            evidence.facts.extend(tls_ev.facts);
            let _ = write_all(&mut *tls, b"QUIT\r\n", deadline).await;
            let finding = Finding::new(State::Verified, evidence);
            match warning {
                Some(w) => finding.warn(w),
                None => finding,
            }
        }
        other => {
            let failed = tls_failure(other);
            evidence
                .summary
                .push_str(&format!("; STARTTLS: {}", failed.evidence.summary));
            let finding = Finding::new(State::Verified, evidence);
            match failed.warning {
                Some(w) => finding.warn(w),
                None => finding.warn("STARTTLS is offered but the TLS handshake failed."),
            }
        }
    }
}

/// SQL Server: TDS PRELOGIN; the version and encryption mode.
pub async fn sqlserver(mut stream: TcpStream, deadline: Instant) -> Finding {
    let (end, buf) = match ask(&mut stream, &tds::prelogin_request(), 4096, deadline, |b| {
        let len = usize::from(u16::from_be_bytes([*b.get(2)?, *b.get(3)?]));
        (b.len() >= len.max(8)).then(|| tds::parse_prelogin(b))
    })
    .await
    {
        Ok(reply) => reply,
        Err(finding) => return finding,
    };
    match end {
        ReadEnd::Done(Ok(prelogin)) if prelogin.packet_type == 0x04 => {
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

/// Firebird: op_connect; accept or reject and the protocol version.
pub async fn firebird(mut stream: TcpStream, deadline: Instant) -> Finding {
    let (end, buf) = match ask(
        &mut stream,
        &firebird::connect_request(),
        4096,
        deadline,
        |b| match firebird::parse_answer(b) {
            Err(firebird::FirebirdError::Short) => None,
            other => Some(other),
        },
    )
    .await
    {
        Ok(reply) => reply,
        Err(finding) => return finding,
    };
    match end {
        ReadEnd::Done(Ok(answer)) => {
            let mut evidence = Evidence::new(match (answer, answer.protocol_number()) {
                (_, Some(protocol)) => {
                    format!("Firebird {}: protocol {protocol}", answer.op_name())
                }
                (firebird::Answer::AuthRequested, _) => {
                    "Firebird op_cont_auth: the server accepts connections and asks for a login"
                        .into()
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
        ReadEnd::Done(Err(_)) => not_protocol("Firebird", &buf),
        other => unconfirmed("Firebird", &other, &buf),
    }
}
