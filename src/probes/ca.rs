//! The certificate authority MVE 4.x enrolls printer certificates from, read and never
//! enrolled with: which protocol the URL speaks (SCEP, EST, or Microsoft's CEP/CES), proven
//! with read-only requests — SCEP `GetCACaps` and `GetCACert` (RFC 8894), EST `/cacerts`
//! (RFC 7030), a CEP/CES `GET` over HTTPS — and the CA certificate's facts. The `crl` check
//! then follows the CRL distribution points that certificate names (HTTP), as MVE does when
//! it validates the CA: reachable, a CRL, and not past its `nextUpdate`. Never a CSR.

// A failed step returns the cell it decided (a `Finding`, a few hundred bytes), once per
// probe: boxing it would buy nothing.
#![allow(clippy::result_large_err)]

use std::net::SocketAddr;

use tokio::time::Instant;

use super::snmp_client::SnmpGetter;
use super::tcp::tls;
use super::{Datagrams, NetworkProber};
use crate::catalog::CONVERSATION_TIMEOUTS;
use crate::clock::{self, date_text};
use crate::engine::Job;
use crate::results::{Evidence, Finding, State, Unproven};
use crate::transport;
use crate::transport::evidence::tls_failure;
use crate::transport::stream::{ReadEnd, read_until, write_all};
use crate::transport::tls::Handshake;
use crate::wire::http::{self, HttpError, Response, Url};
use crate::wire::pkix::{self, CaCert, PkixError};

/// Distribution points read at most per CA.
const MAX_POINTS: usize = 4;

/// The protocol a CA URL looks like it speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Scep,
    Est,
    /// Microsoft Certificate Enrollment Policy / Enrollment Web Services (MS-XCEP, MS-WSTEP).
    CepCes,
}

fn kind_of(path: &str) -> Kind {
    let lower = path.to_ascii_lowercase();
    if lower.contains("/.well-known/est") {
        Kind::Est
    } else if lower.contains(".svc") || lower.contains("_cep") || lower.contains("_ces") {
        Kind::CepCes
    } else {
        Kind::Scep
    }
}

/// EST's `/cacerts` under the URL's base (`/.well-known/est[/label]`).
fn est_cacerts(path: &str) -> String {
    let path = path
        .split('?')
        .next()
        .unwrap_or_default()
        .trim_end_matches('/');
    if path.ends_with("/cacerts") {
        path.to_string()
    } else if path.to_ascii_lowercase().contains("/.well-known/est") {
        format!("{path}/cacerts")
    } else {
        "/.well-known/est/cacerts".to_string()
    }
}

/// `path?operation=OP` (keeping a query the URL already has).
fn scep_operation(path: &str, operation: &str) -> String {
    let base = path.split('?').next().unwrap_or("/");
    format!("{base}?operation={operation}")
}

/// What one read of the CA found.
pub(super) struct CaRead {
    /// Facts and a summary.
    evidence: Evidence,
    /// The CA certificates served, the one a client installs first.
    certs: Vec<CaCert>,
    /// A warning the read deserves (a content type other than the RFC's).
    warning: Option<String>,
}

impl<G: SnmpGetter, D: Datagrams> NetworkProber<G, D> {
    /// A TCP connection to `peer`, or the cell its failure decides (named with the peer:
    /// a CRL's host is not the target's).
    async fn open(&self, peer: SocketAddr) -> Result<tokio::net::TcpStream, Finding> {
        let attempt = transport::connect(peer, self.settings.timing.timeout, &self.pacer).await;
        self.connected(peer, attempt.outcome)
            .map_err(|mut finding| {
                finding.evidence.summary = format!("{peer}: {}", finding.evidence.summary);
                finding
            })
    }

    /// The first address of a distribution point's host, or the cell saying why none.
    async fn resolve(&self, host: &str, port: u16) -> Result<SocketAddr, Finding> {
        let timeout = self.settings.timing.timeout;
        let host = host.trim_matches(['[', ']']);
        let why = match tokio::time::timeout(timeout, tokio::net::lookup_host((host, port))).await {
            Ok(Ok(mut addrs)) => match addrs.next() {
                Some(addr) => return Ok(addr),
                None => "no address".to_string(),
            },
            Ok(Err(err)) => err.to_string(),
            Err(_) => "the lookup timed out".to_string(),
        };
        Err(Finding::new(
            State::Error,
            Evidence::new(format!(
                "the CRL distribution point's host '{host}' did not resolve: {why}"
            )),
        ))
    }

    /// One `GET` of `url` at `peer`: connect, TLS when https, the request, the whole response.
    async fn http_get(&self, peer: SocketAddr, url: &Url) -> Result<Response, Finding> {
        let timeout = self.settings.timing.timeout;
        let stream = self.open(peer).await?;
        let deadline = Instant::now() + timeout * CONVERSATION_TIMEOUTS;
        let request = http::get_request(&url.host, &url.path);
        if url.tls {
            match tls(stream, &url.host, deadline).await {
                Handshake::Done(session, _) => exchange(session, &request, deadline).await,
                other => Err(tls_failure(other)),
            }
        } else {
            exchange(stream, &request, deadline).await
        }
    }

    /// Reads the CA at `url` (reached at `peer`) by the protocol its URL names, falling back
    /// from SCEP to EST on the same server.
    pub(super) async fn read_ca(&self, peer: SocketAddr, url: &Url) -> Result<CaRead, Finding> {
        match kind_of(&url.path) {
            Kind::Est => self.est(peer, url).await,
            Kind::CepCes => self.cep_ces(peer, url).await,
            Kind::Scep => match self.scep(peer, url).await {
                Ok(read) => Ok(read),
                // Not SCEP here: EST on the same server, before giving up.
                Err(scep) if scep.state == State::Open => match self.est(peer, url).await {
                    Ok(read) => Ok(read),
                    Err(_) => Err(scep),
                },
                Err(other) => Err(other),
            },
        }
    }

    async fn scep(&self, peer: SocketAddr, url: &Url) -> Result<CaRead, Finding> {
        let caps_url = url.with_path(scep_operation(&url.path, "GetCACaps"));
        let caps = self.http_get(peer, &caps_url).await?;
        if caps.status != 200 || !is_text(&caps.body) {
            return Err(not_ca(
                &caps,
                &format!("GetCACaps at {}", caps_url.path),
                "SCEP (RFC 8894) answers 200 with its capabilities",
            ));
        }
        let capabilities: Vec<String> = String::from_utf8_lossy(&caps.body)
            .lines()
            .map(|l| l.trim().to_string())
            .filter(|l| !l.is_empty())
            .take(32)
            .collect();
        let cert_url = url.with_path(format!(
            "{}&message=CA",
            scep_operation(&url.path, "GetCACert")
        ));
        let answer = self.http_get(peer, &cert_url).await?;
        let wanted = [
            "application/x-x509-ca-cert",
            "application/x-x509-ca-ra-cert",
        ];
        let mut read = certificates(&answer, "SCEP GetCACert", &wanted)?;
        read.evidence.summary = format!(
            "SCEP (RFC 8894): GetCACaps [{}]; {}",
            capabilities.join(", "),
            read.evidence.summary
        );
        read.evidence.fact("protocol", "scep");
        read.evidence
            .fact("scep_capabilities", capabilities.join(","));
        Ok(read)
    }

    async fn est(&self, peer: SocketAddr, url: &Url) -> Result<CaRead, Finding> {
        let cacerts = url.with_path(est_cacerts(&url.path));
        let answer = self.http_get(peer, &cacerts).await?;
        if answer.status != 200 {
            return Err(not_ca(
                &answer,
                &format!("EST /cacerts at {}", cacerts.path),
                "EST (RFC 7030) answers 200 with a PKCS#7 certs-only bundle",
            ));
        }
        let mut read = certificates(&answer, "EST /cacerts", &["application/pkcs7-mime"])?;
        read.evidence.summary = format!("EST (RFC 7030): {}", read.evidence.summary);
        read.evidence.fact("protocol", "est");
        Ok(read)
    }

    async fn cep_ces(&self, peer: SocketAddr, url: &Url) -> Result<CaRead, Finding> {
        let answer = self.http_get(peer, url).await?;
        let mut evidence = Evidence::new(format!(
            "CEP/CES endpoint answered HTTP {} {} over {} (policy and enrollment are SOAP \
             POSTs, which mve-audit does not send)",
            answer.status,
            answer.reason,
            url.scheme()
        ));
        evidence.fact("protocol", "cep-ces");
        evidence.fact("http_status", answer.status);
        let warning = (!url.tls).then(|| {
            "CEP/CES is served over HTTPS: MVE will not use it over plain HTTP.".to_string()
        });
        Ok(CaRead {
            evidence,
            certs: Vec::new(),
            warning,
        })
    }

    /// The `ca` cell.
    pub(super) async fn ca(&self, job: &Job) -> Finding {
        let url = match target_url(job) {
            Ok(url) => url,
            Err(finding) => return finding,
        };
        let read = match self.read_ca(job.peer, &url).await {
            Ok(read) => read,
            Err(finding) => return finding,
        };
        let expiry = read.certs.first().and_then(expiry_warning);
        Finding::new(State::Verified, read.evidence)
            .maybe_warn(read.warning)
            .maybe_warn(expiry)
    }

    /// The `crl` cell: the CA's certificate, then each HTTP distribution point it names.
    pub(super) async fn crl(&self, job: &Job) -> Finding {
        let url = match target_url(job) {
            Ok(url) => url,
            Err(finding) => return finding,
        };
        let read = match self.read_ca(job.peer, &url).await {
            Ok(read) => read,
            Err(mut finding) => {
                finding.evidence.summary = format!(
                    "the CA certificate could not be read, so neither can its CRL: {}",
                    finding.evidence.summary
                );
                return finding;
            }
        };
        if read.certs.is_empty() {
            let mut evidence = read.evidence;
            evidence.summary = format!(
                "no CA certificate to read distribution points from: {}",
                evidence.summary
            );
            return Finding::new(State::Verified, evidence).warn(
                "CEP/CES hands out the CA certificate only inside a SOAP exchange, which \
                 mve-audit does not send: to check the CRL, give the same CA's SCEP URL \
                 (Microsoft: /certsrv/mscep/mscep.dll) as another --ca.",
            );
        }
        let mut points: Vec<String> = Vec::new();
        for cert in &read.certs {
            for point in &cert.crl_urls {
                if !points.contains(point) {
                    points.push(point.clone());
                }
            }
        }
        // HTTP points and LDAP points with a host; an LDAP point without one (Active
        // Directory's `ldap:///…`) takes its host from a domain this probe does not know.
        let (usable, skipped): (Vec<&String>, Vec<&String>) = points.iter().partition(|p| {
            p.to_ascii_lowercase().starts_with("http")
                || crate::wire::ldap::LdapUrl::parse(p).is_some()
        });
        if usable.is_empty() {
            let mut evidence = Evidence::new(if skipped.is_empty() {
                "the CA certificate names no CRL distribution point".to_string()
            } else {
                format!(
                    "the CA certificate names only {} (no host to reach)",
                    skipped
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            });
            evidence.fact("crl_urls", points.join(" "));
            return Finding::new(State::Verified, evidence).warn(
                "The CA certificate names no CRL distribution point this server can reach, so \
                 its revocation cannot be checked: if MVE reports \"CA validation failed\", \
                 publish the CRL over HTTP (or LDAP with a host) and name it in the CA \
                 certificate.",
            );
        };
        // Every point MVE might use is checked: a green cell means each one works.
        let mut results = Vec::new();
        for point in usable.iter().take(MAX_POINTS) {
            results.push(Box::pin(self.fetch_crl(point)).await);
        }
        let fine = results
            .iter()
            .filter(|f| f.state == State::Verified && f.warning.is_none())
            .count();
        let total = results.len();
        let at = results
            .iter()
            .position(|f| f.state != State::Verified || f.warning.is_some())
            .unwrap_or(0);
        let mut chosen = results.swap_remove(at);
        if total > 1 {
            chosen.evidence.summary = format!(
                "{} ({fine} of {total} distribution points fine)",
                chosen.evidence.summary
            );
        }
        chosen.evidence.fact("crl_urls", points.join(" "));
        chosen
    }

    /// Fetches and reads the CRL at `text` (HTTP, or LDAP).
    async fn fetch_crl(&self, text: &str) -> Finding {
        if let Some(ldap) = crate::wire::ldap::LdapUrl::parse(text) {
            let mut finding = Box::pin(self.fetch_crl_ldap(text, &ldap)).await;
            finding.port = Some(ldap.port);
            finding.evidence.fact("crl_url", text);
            return finding;
        }
        let Some(url) = Url::parse(text) else {
            return Finding::new(
                State::Error,
                Evidence::new(format!(
                    "the distribution point '{text}' is not an HTTP URL"
                )),
            );
        };
        let peer = match self.resolve(&url.host, url.port).await {
            Ok(peer) => peer,
            Err(finding) => return finding,
        };
        let mut finding = match self.http_get(peer, &url).await {
            Err(mut finding) => {
                finding.evidence.summary = format!("CRL at {text}: {}", finding.evidence.summary);
                finding
            }
            Ok(answer) => read_crl(text, &answer),
        };
        finding.port = Some(url.port);
        finding.evidence.fact("crl_url", text);
        finding
    }
}

impl<G: SnmpGetter, D: Datagrams> NetworkProber<G, D> {
    /// The CRL attribute of the entry an `ldap://` distribution point names: an anonymous
    /// base-object search, as MVE's Java PKIX does.
    async fn fetch_crl_ldap(&self, text: &str, url: &crate::wire::ldap::LdapUrl) -> Finding {
        use crate::wire::ldap;
        let timeout = self.settings.timing.timeout;
        let peer = match self.resolve(&url.host, url.port).await {
            Ok(peer) => peer,
            Err(finding) => return finding,
        };
        let mut stream = match self.open(peer).await {
            Ok(stream) => stream,
            Err(mut finding) => {
                finding.evidence.summary = format!("CRL at {text}: {}", finding.evidence.summary);
                return finding;
            }
        };
        let deadline = Instant::now() + timeout * CONVERSATION_TIMEOUTS;
        let id = 1;
        let request = ldap::attribute_request(id, &url.dn, &url.attribute);
        if let Err(err) = write_all(&mut stream, &request, deadline).await {
            return Finding::unproven(
                Evidence::new(format!(
                    "CRL at {text}: the search could not be sent: {err}"
                )),
                Unproven::CutShort,
            );
        }
        let mut buf = Vec::new();
        let max = http::MAX_BODY + 64 * 1024;
        let end = read_until(&mut stream, &mut buf, max, deadline, |b| {
            ldap::search_len_up_to(b, max)
        })
        .await;
        let bytes = match end {
            ReadEnd::Done(len) => buf.get(..len).unwrap_or_default(),
            ReadEnd::Closed if !buf.is_empty() => &buf[..],
            _ => {
                return Finding::unproven(
                    Evidence::new(format!("CRL at {text}: no complete LDAP answer")),
                    Unproven::NoAnswer,
                );
            }
        };
        match ldap::parse_attribute(bytes, id, &url.attribute) {
            Ok((values, _)) if !values.is_empty() => {
                judge_crl(text, values.first().map_or(&[][..], Vec::as_slice), None)
            }
            Ok((_, code)) => Finding::unproven(
                Evidence::new(format!(
                    "CRL at {text}: the directory answered (result {}) with no {} value",
                    code.map_or("none".to_string(), |c| c.to_string()),
                    url.attribute
                )),
                Unproven::WrongProtocol,
            ),
            Err(err) => Finding::unproven(
                Evidence::new(format!("CRL at {text}: not an LDAP answer ({err})")),
                Unproven::WrongProtocol,
            ),
        }
    }
}

/// The URL of a CA target.
fn target_url(job: &Job) -> Result<Url, Finding> {
    job.row
        .target
        .url
        .as_deref()
        .and_then(Url::parse)
        .ok_or_else(|| {
            Finding::new(
                State::Error,
                Evidence::new("the CA target has no http(s) URL"),
            )
        })
}

/// The CRL cell from a fetched distribution point.
fn read_crl(text: &str, answer: &Response) -> Finding {
    if answer.status != 200 {
        return Finding::unproven(
            Evidence::new(format!(
                "CRL at {text}: HTTP {} {}",
                answer.status, answer.reason
            )),
            Unproven::WrongProtocol,
        );
    }
    judge_crl(
        text,
        &answer.body,
        Some(answer.content_type.as_deref().unwrap_or_default()),
    )
}

/// A CRL's bytes, fetched from `text`: parsed, its next update against the clock, and (for
/// HTTP) its content type against RFC 5280's.
fn judge_crl(text: &str, body: &[u8], content_type: Option<&str>) -> Finding {
    let crl = match pkix::crl(body) {
        Ok(crl) => crl,
        Err(_) => {
            return Finding::unproven(
                Evidence::new(format!(
                    "CRL at {text}: {} bytes of {}, not a CRL",
                    body.len(),
                    match content_type {
                        Some("") => "no content type",
                        Some(kind) => kind,
                        None => "an LDAP value",
                    }
                )),
                Unproven::WrongProtocol,
            );
        }
    };
    let now = clock::unix_now();
    let next = crl.next_update;
    let mut evidence = Evidence::new(format!(
        "CRL of {} at {text}: issued {}, next update {}, {} revoked",
        crl.issuer,
        date_text(crl.this_update),
        next.map_or("none".into(), date_text),
        crl.revoked
    ));
    evidence.fact("crl_issuer", crl.issuer.clone());
    evidence.fact("crl_this_update", date_text(crl.this_update));
    if let Some(next) = next {
        evidence.fact("crl_next_update", date_text(next));
    }
    evidence.fact("crl_revoked", crl.revoked);
    match next {
        Some(next) if next < now => Finding::unproven(evidence, Unproven::Stale).warn(format!(
            "The CRL at {text} expired on {} (its nextUpdate): MVE reports \"CA validation \
             failed\". Have the CA publish a fresh CRL, and check its publication schedule.",
            date_text(next)
        )),
        None => Finding::new(State::Verified, evidence)
            .warn("The CRL names no next update (RFC 5280 requires one): clients may refuse it."),
        Some(_) => {
            let finding = Finding::new(State::Verified, evidence);
            let Some(content) = content_type else {
                return finding;
            };
            if content == "application/pkix-crl" {
                finding
            } else {
                finding.warn(format!(
                    "The CRL is served as '{}', where RFC 5280 names application/pkix-crl: \
                     strict clients refuse it.",
                    if content.is_empty() {
                        "no type"
                    } else {
                        content
                    }
                ))
            }
        }
    }
}

/// The request sent and the whole response read, within `deadline`.
async fn exchange<S: super::tcp::Stream>(
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
            HttpError::NotHttp => Unproven::WrongProtocol,
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

fn is_text(body: &[u8]) -> bool {
    !body.is_empty() && std::str::from_utf8(body).is_ok_and(|t| !t.contains('<'))
}

/// An answer that is not what the protocol sends.
fn not_ca(answer: &Response, what: &str, expected: &str) -> Finding {
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

/// The CA certificates of an answer, with their facts.
fn certificates(answer: &Response, what: &str, wanted: &[&str]) -> Result<CaRead, Finding> {
    if answer.status != 200 {
        return Err(not_ca(
            answer,
            what,
            "the CA answers 200 with its certificates",
        ));
    }
    let ders = match pkix::served_certs(&answer.body) {
        Ok(ders) => ders,
        Err(err) => {
            let why = match err {
                PkixError::Envelope(_) if answer.body.first() == Some(&0x30) => Unproven::CutShort,
                _ => Unproven::WrongProtocol,
            };
            return Err(Finding::unproven(
                Evidence::new(format!(
                    "{what}: HTTP 200 with {} ({} bytes), not certificates: {err}",
                    answer.content_type.as_deref().unwrap_or("no content type"),
                    answer.body.len()
                )),
                why,
            ));
        }
    };
    let certs: Vec<CaCert> = ders.iter().filter_map(|d| pkix::ca_cert(d).ok()).collect();
    let Some(ca) = certs.first() else {
        return Err(Finding::unproven(
            Evidence::new(format!("{what}: the certificates do not parse")),
            Unproven::CutShort,
        ));
    };
    let mut evidence = Evidence::new(format!(
        "CA {} until {}, {} certificate(s){}",
        ca.subject,
        date_text(ca.not_after),
        certs.len(),
        if certs.iter().any(|c| c.self_issued) {
            ", root included"
        } else {
            ""
        }
    ));
    evidence.fact("ca_subject", ca.subject.clone());
    evidence.fact("ca_issuer", ca.issuer.clone());
    evidence.fact("ca_not_after", date_text(ca.not_after));
    evidence.fact("ca_is_ca", ca.is_ca);
    evidence.fact("chain_length", certs.len());
    evidence.fact(
        "chain",
        certs
            .iter()
            .map(|c| c.subject.clone())
            .collect::<Vec<_>>()
            .join(" | "),
    );
    let content = answer.content_type.as_deref().unwrap_or_default();
    if !content.is_empty() {
        evidence.fact("content_type", content);
    }
    let warning = (!wanted.contains(&content)).then(|| {
        format!(
            "{what} is served as '{}', where the RFC names {}: strict clients (MVE among them) \
             may refuse it.",
            if content.is_empty() {
                "no type"
            } else {
                content
            },
            wanted.join(" or ")
        )
    });
    Ok(CaRead {
        evidence,
        certs,
        warning,
    })
}

/// A CA certificate expired, or within 30 days of it.
fn expiry_warning(ca: &CaCert) -> Option<String> {
    let left = ca.not_after - clock::unix_now();
    if left < 0 {
        Some(format!(
            "The CA certificate expired on {}: enrollment and validation fail. Renew the CA.",
            date_text(ca.not_after)
        ))
    } else if left < 30 * 86_400 {
        Some(format!(
            "The CA certificate expires on {}: renew it before then.",
            date_text(ca.not_after)
        ))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ca_urls_parse_and_name_their_protocol() {
        let url = Url::parse("https://ca.lab.test/certsrv/mscep/mscep.dll").unwrap();
        assert_eq!(
            (url.tls, url.port, url.path.as_str()),
            (true, 443, "/certsrv/mscep/mscep.dll")
        );
        assert_eq!(kind_of(&url.path), Kind::Scep);
        let url = Url::parse("HTTP://[::1]:8080/.well-known/est").unwrap();
        assert_eq!((url.tls, url.host.as_str(), url.port), (false, "::1", 8080));
        assert_eq!(kind_of(&url.path), Kind::Est);
        assert_eq!(est_cacerts(&url.path), "/.well-known/est/cacerts");
        assert_eq!(
            est_cacerts("/.well-known/est/arbitrary/"),
            "/.well-known/est/arbitrary/cacerts"
        );
        let cep = "/ADPolicyProvider_CEP_Kerberos/service.svc/CEP";
        assert_eq!(kind_of(cep), Kind::CepCes);
        assert_eq!(
            scep_operation("/scep/pkiclient.exe?x=1", "GetCACaps"),
            "/scep/pkiclient.exe?operation=GetCACaps"
        );
        for bad in [
            "ftp://x/",
            "https://",
            "https://:443/",
            "http://h:0/",
            "http://h:99999/",
            "mail.lab.test",
        ] {
            assert_eq!(Url::parse(bad), None, "{bad}");
        }
    }

    fn answer(status: u16, content_type: &str, body: &[u8]) -> Response {
        Response {
            status,
            reason: "OK".into(),
            content_type: Some(content_type.into()),
            content_type_full: Some(content_type.into()),
            body: body.to_vec(),
        }
    }

    fn a_ca_der() -> Vec<u8> {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params.self_signed(&key).unwrap().der().to_vec()
    }

    /// The hostile answers a CA URL can give: each ends in a defined state.
    #[test]
    fn hostile_ca_answers_end_in_a_defined_state() {
        let der = a_ca_der();
        let wanted = ["application/x-x509-ca-cert"];
        let good = certificates(&answer(200, wanted[0], &der), "GetCACert", &wanted).unwrap();
        assert!(good.warning.is_none());
        // The wrong content type: read, with a warning.
        let odd = certificates(&answer(200, "text/plain", &der), "GetCACert", &wanted).unwrap();
        assert!(odd.warning.unwrap().contains("'text/plain'"));
        // An HTML error page with status 200.
        let html = certificates(
            &answer(200, "text/html", b"<html>Service Unavailable</html>"),
            "GetCACert",
            &wanted,
        )
        .err()
        .unwrap();
        assert_eq!(html.unproven, Some(Unproven::WrongProtocol));
        // A truncated bundle.
        let cut = certificates(
            &answer(200, wanted[0], &der[..der.len() / 2]),
            "GetCACert",
            &wanted,
        )
        .err()
        .unwrap();
        assert_eq!(cut.unproven, Some(Unproven::CutShort), "{cut:?}");
        // A 404.
        let missing = certificates(&answer(404, "text/html", b"nope"), "GetCACert", &wanted)
            .err()
            .unwrap();
        assert_eq!(missing.unproven, Some(Unproven::WrongProtocol));
    }

    #[test]
    fn an_expired_crl_fails_and_a_fresh_one_passes() {
        use crate::wire::fixtures::{OPENSSL_CRL_FRESH, OPENSSL_CRL_STALE};
        let crl = "application/pkix-crl";
        let stale = read_crl("http://x/ca.crl", &answer(200, crl, OPENSSL_CRL_STALE));
        assert_eq!(stale.state, State::Open);
        assert_eq!(stale.unproven, Some(Unproven::Stale));
        assert!(stale.warning.unwrap().contains("CA validation failed"));
        let fresh = read_crl("http://x/ca.crl", &answer(200, crl, OPENSSL_CRL_FRESH));
        assert_eq!(fresh.state, State::Verified, "{fresh:?}");
        assert!(fresh.warning.is_none());
        assert_eq!(fresh.evidence.facts["crl_next_update"], "2099-12-31");
        let odd = read_crl(
            "http://x/ca.crl",
            &answer(200, "text/plain", OPENSSL_CRL_FRESH),
        );
        assert!(odd.warning.unwrap().contains("application/pkix-crl"));
        let html = read_crl("http://x/ca.crl", &answer(200, "text/html", b"<html/>"));
        assert_eq!(html.unproven, Some(Unproven::WrongProtocol));
        let missing = read_crl("http://x/ca.crl", &answer(404, "text/html", b"gone"));
        assert_eq!(missing.unproven, Some(Unproven::WrongProtocol));
    }

    #[test]
    fn an_openssl_bundle_is_read_with_its_distribution_point() {
        use crate::wire::fixtures::{OPENSSL_CA, OPENSSL_CA_P7B};
        let wanted = ["application/x-x509-ca-ra-cert"];
        for body in [OPENSSL_CA, OPENSSL_CA_P7B] {
            let read = certificates(&answer(200, wanted[0], body), "GetCACert", &wanted).unwrap();
            assert_eq!(read.certs[0].crl_urls, ["http://crl.lab.test/root.crl"]);
            assert!(
                read.evidence.summary.contains("Corpus Root CA"),
                "{}",
                read.evidence.summary
            );
        }
    }
}
