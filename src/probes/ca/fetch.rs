//! The one fetch of the CA checks: a derived host (a distribution point's) resolved under the
//! rules a typed target obeys, a TCP connection, TLS for https, one request, the whole
//! response.

use std::net::{IpAddr, SocketAddr};

use tokio::time::Instant;

use super::super::snmp_client::SnmpGetter;
use super::super::tcp::tls;
use super::super::{Datagrams, NetworkProber};
use crate::catalog::CONVERSATION_TIMEOUTS;
use crate::results::{Evidence, Finding, State, Unproven};
use crate::transport;
use crate::transport::evidence::tls_failure;
use crate::transport::stream::{ReadEnd, read_until, write_all};
use crate::transport::tls::Handshake;
use crate::wire::http::{self, HttpError, Response, Url};

/// Where a derived host was reached, and what its cell notes of the name's other addresses.
pub(super) struct Reached {
    pub peer: SocketAddr,
    pub note: Option<String>,
}

impl<G: SnmpGetter, D: Datagrams> NetworkProber<G, D> {
    /// A TCP connection to `peer`, or the cell its failure decides (named with the peer:
    /// a CRL's host is not the target's).
    pub(super) async fn open(&self, peer: SocketAddr) -> Result<tokio::net::TcpStream, Finding> {
        let attempt = transport::connect(peer, self.settings.timing.timeout, &self.pacer).await;
        self.connected(peer, attempt.outcome)
            .map_err(|mut finding| {
                finding.evidence.summary = format!("{peer}: {}", finding.evidence.summary);
                finding
            })
    }

    /// The address of a host the tool found rather than was given (a distribution point's),
    /// held to a typed target's refusals, or the cell saying why none is probed.
    pub(super) async fn reach(
        &self,
        host: &str,
        port: u16,
        what: &str,
    ) -> Result<Reached, Finding> {
        let refused =
            |why: String| Finding::new(State::Error, Evidence::new(format!("{what}: {why}")));
        if let Ok(addr) = host.trim_matches(['[', ']']).parse::<IpAddr>() {
            return match crate::targets::probe_address(addr) {
                Ok(addr) => Ok(Reached {
                    peer: SocketAddr::new(addr, port),
                    note: None,
                }),
                Err(reason) => Err(refused(format!("{addr} is not probed: {reason}"))),
            };
        }
        match crate::targets::lookup(host, self.settings.timing.timeout).await {
            Ok(found) => Ok(Reached {
                peer: SocketAddr::new(found.addr, port),
                note: found.note.map(|n| n.to_string()),
            }),
            Err(err) => Err(refused(err.to_string())),
        }
    }

    /// One `GET` of `url` at `peer`.
    pub(super) async fn http_get(&self, peer: SocketAddr, url: &Url) -> Result<Response, Finding> {
        self.http_send(peer, url, &http::get_request(url)).await
    }

    /// `request` to `url` at `peer`: connect, TLS when https, the request, the whole response.
    pub(super) async fn http_send(
        &self,
        peer: SocketAddr,
        url: &Url,
        request: &[u8],
    ) -> Result<Response, Finding> {
        let timeout = self.settings.timing.timeout;
        let stream = self.open(peer).await?;
        let deadline = Instant::now() + timeout * CONVERSATION_TIMEOUTS;
        if url.tls {
            match tls(stream, &url.host, deadline).await {
                Handshake::Done(session, facts) => {
                    if let Some(why) = server_refusal(&facts, &url.host) {
                        let mut evidence = Evidence::new(format!(
                            "TLS {}: {why}",
                            super::super::tcp::tls_summary(&facts)
                        ));
                        evidence.fact("tls_refused", why.clone());
                        return Err(
                            Finding::unproven(evidence, Unproven::Rejected).warn(format!(
                                "MVE's Java client refuses this server's HTTPS certificate: {why}. \
                             Install a certificate that is current and names the host in the URL."
                            )),
                        );
                    }
                    exchange(session, request, deadline).await
                }
                other => Err(tls_failure(other)),
            }
        } else {
            exchange(stream, request, deadline).await
        }
    }
}

/// The request sent and the whole response read, within `deadline`.
async fn exchange<S: super::super::tcp::Stream>(
    mut stream: S,
    request: &[u8],
    deadline: Instant,
) -> Result<Response, Finding> {
    if let Err(err) = write_all(&mut stream, request, deadline).await {
        return Err(Finding::unproven(
            Evidence::new(format!(
                "TCP open, but the request could not be sent: {err}"
            )),
            Unproven::CutShort,
        ));
    }
    let mut buf = Vec::new();
    let end = read_until(
        &mut stream,
        &mut buf,
        http::MAX_BODY + 64 * 1024,
        deadline,
        |b| match http::parse_response(b, false) {
            Ok(None) => None,
            other => Some(other),
        },
    )
    .await;
    let parsed = match end {
        ReadEnd::Done(parsed) => parsed.and_then(|r| r.ok_or(HttpError::NotHttp)),
        ReadEnd::Closed => {
            http::parse_response(&buf, true).and_then(|r| r.ok_or(HttpError::NotHttp))
        }
        ReadEnd::Full => Err(HttpError::TooLarge(buf.len())),
        ReadEnd::TimedOut => {
            return Err(Finding::unproven(
                Evidence::new(format!(
                    "no complete HTTP answer before the timeout ({} bytes)",
                    buf.len()
                )),
                Unproven::NoAnswer,
            ));
        }
        ReadEnd::Failed(err) => {
            return Err(Finding::unproven(
                Evidence::new(format!("the connection failed mid-answer: {err}")),
                Unproven::CutShort,
            ));
        }
    };
    parsed.map_err(|err| {
        let why = match err {
            HttpError::NotHttp | HttpError::Coding(_) => Unproven::WrongProtocol,
            HttpError::Chunk | HttpError::TooLarge(_) | HttpError::Truncated => Unproven::CutShort,
        };
        Finding::unproven(
            Evidence::new(format!(
                "the answer is not a complete HTTP response ({err}): {}",
                crate::wire::text_head(&buf, 60).escape_debug()
            )),
            why,
        )
    })
}

/// Why a strict Java client refuses the server certificate of `host` outright, whatever its
/// trust store holds: outside its dates, or naming another host.
fn server_refusal(facts: &crate::transport::tls::TlsFacts, host: &str) -> Option<String> {
    let Some(cert) = &facts.cert else {
        return Some(
            facts
                .cert_error
                .clone()
                .unwrap_or_else(|| "no certificate could be read".into()),
        );
    };
    let now = crate::clock::unix_now();
    let date = crate::clock::date_text;
    if cert.not_after < now {
        return Some(format!(
            "its certificate expired on {}",
            date(cert.not_after)
        ));
    }
    if cert.not_before > now + crate::wire::trust::SKEW_SECONDS {
        return Some(format!(
            "its certificate is not valid until {}",
            date(cert.not_before)
        ));
    }
    if !crate::wire::x509::names_host(cert, host) {
        let names = if cert.sans.is_empty() {
            cert.subject.clone()
        } else {
            cert.sans.join(", ")
        };
        return Some(format!("its certificate names {names}, not {host}"));
    }
    None
}

/// An answer that is not what the protocol sends.
pub(super) fn not_ca(answer: &Response, what: &str, expected: &str) -> Finding {
    Finding::unproven(
        Evidence::new(format!(
            "{what}: HTTP {} {} with {} ({} bytes), where {expected}",
            answer.status,
            answer.reason,
            answer.content_type.as_deref().unwrap_or("no content type"),
            answer.body.len()
        )),
        Unproven::WrongProtocol,
    )
}
