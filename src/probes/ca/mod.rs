//! The certificate authority MVE 4.x enrolls printer certificates from, read and never
//! enrolled with: which protocol the URL speaks, proven with that protocol's own read-only
//! request — SCEP `GetCACaps` and `GetCACert` (RFC 8894), EST `/cacerts` (RFC 7030), a CEP/CES
//! `GetPolicies` SOAP query (MS-XCEP, `cep.rs`) — and the CA's certificates judged as MVE's
//! Java client judges them (`wire::trust`). The `crl` check (`crl.rs`) then follows every CRL
//! distribution point those certificates name. Never a CSR, never a key.
//!
//! A URL passes only on its own protocol's answer: a SCEP URL whose SCEP fails is not saved
//! by EST on the same server; the cell says EST works there and which URL to give MVE.

// A failed step returns the cell it decided (a `Finding`, a few hundred bytes), once per
// probe: boxing it would buy nothing.
#![allow(clippy::result_large_err)]

mod cep;
mod crl;
mod fetch;
#[cfg(test)]
mod tests;

use std::net::SocketAddr;

use super::snmp_client::SnmpGetter;
use super::{Datagrams, NetworkProber};
use crate::clock::{self, date_text};
use crate::engine::Job;
use crate::results::{Evidence, Finding, State, Unproven};
use crate::wire::http::{Response, Url};
use crate::wire::pkix::{self, PkixError};
use crate::wire::trust::{self, Chain};
use fetch::not_ca;

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
    /// The certificates served, judged; `None` where the protocol serves none to a reader
    /// (CEP/CES).
    chain: Option<Chain>,
    /// Warnings the read deserves (a content type other than the RFC's, a leaf in the bundle).
    warnings: Vec<String>,
}

impl<G: SnmpGetter, D: Datagrams> NetworkProber<G, D> {
    /// Reads the CA at `url` (reached at `peer`) by the protocol its URL names.
    pub(super) async fn read_ca(&self, peer: SocketAddr, url: &Url) -> Result<CaRead, Finding> {
        match kind_of(&url.path) {
            Kind::Est => self.est(peer, url).await,
            Kind::CepCes => self.cep_ces(peer, url).await,
            Kind::Scep => match self.scep(peer, url).await {
                Ok(read) => Ok(read),
                Err(scep) if scep.unproven == Some(Unproven::WrongProtocol) => {
                    Err(self.est_instead(peer, url, scep).await)
                }
                Err(other) => Err(other),
            },
        }
    }

    /// A SCEP URL that answered no SCEP: whether EST works on the same server, said as what
    /// it is, never as the SCEP URL passing.
    async fn est_instead(&self, peer: SocketAddr, url: &Url, mut scep: Finding) -> Finding {
        let Ok(est) = self.est(peer, url).await else {
            return scep;
        };
        let est_url = url.with_path("/.well-known/est".to_string()).shown();
        scep.evidence.summary = format!(
            "{}; EST at the same server answers ({})",
            scep.evidence.summary, est.evidence.summary
        );
        scep.evidence.fact("est_works", est_url.clone());
        scep.warn(format!(
            "The SCEP URL does not answer SCEP, so MVE configured with it fails; EST works on \
             the same server: configure MVE with {est_url} (EST), or repair the SCEP service."
        ))
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
        if !url.tls {
            read.warnings.push(
                "EST runs over HTTPS only (RFC 7030 §3.2.1): a client such as MVE does not use \
                 it over plain HTTP; give the https:// URL."
                    .to_string(),
            );
        }
        Ok(read)
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
        let mut warnings = read.warnings;
        if let Some(chain) = &read.chain {
            if !chain.refusals.is_empty() {
                return Finding::unproven(read.evidence, Unproven::Rejected).warn(format!(
                    "A strict client such as MVE's Java refuses this CA: {}. MVE cannot enroll \
                     or validate with it until the CA is fixed.",
                    chain.refusals.join("; ")
                ));
            }
            warnings.extend(chain.issuing().and_then(expiry_warning));
        }
        Finding::new(State::Verified, read.evidence).maybe_warn(joined(&warnings))
    }
}

/// Several warnings as one hint.
fn joined(warnings: &[String]) -> Option<String> {
    (!warnings.is_empty()).then(|| warnings.join(" "))
}

/// The URL of a CA target.
fn target_url(job: &Job) -> Result<Url, Finding> {
    job.row
        .target
        .url
        .as_deref()
        .and_then(|text| Url::parse(text).ok())
        .ok_or_else(|| {
            Finding::new(
                State::Error,
                Evidence::new("the CA target has no http(s) URL"),
            )
        })
}

fn is_text(body: &[u8]) -> bool {
    !body.is_empty() && std::str::from_utf8(body).is_ok_and(|t| !t.contains('<'))
}

/// The CA certificates of an answer, judged, with their facts.
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
    let content = answer.content_type.as_deref().unwrap_or_default();
    let registration_authority = content == "application/x-x509-ca-ra-cert";
    let chain = trust::judge_chain(&ders, clock::unix_now(), registration_authority);
    let Some(chain) = chain.ok().filter(|c| c.issuing().is_some()) else {
        return Err(Finding::unproven(
            Evidence::new(format!("{what}: the certificates do not parse")),
            Unproven::CutShort,
        ));
    };
    let evidence = chain_evidence(&chain, content);
    let mut warnings = Vec::new();
    if !wanted.contains(&content) {
        warnings.push(format!(
            "{what} is served as '{}', where the RFC names {}: strict clients (MVE among them) \
             may refuse it.",
            if content.is_empty() {
                "no type"
            } else {
                content
            },
            wanted.join(" or ")
        ));
    }
    warnings.extend(chain.oddities.iter().map(|o| format!("{o}.")));
    Ok(CaRead {
        evidence,
        chain: Some(chain),
        warnings,
    })
}

/// The facts of a judged chain.
fn chain_evidence(chain: &Chain, content: &str) -> Evidence {
    let mut evidence = Evidence::default();
    let Some(ca) = chain.issuing() else {
        return evidence;
    };
    evidence.summary = format!(
        "CA {} from {} until {}, {} certificate(s){}",
        ca.subject,
        date_text(ca.not_before),
        date_text(ca.not_after),
        chain.certs.len(),
        if chain.certs.iter().any(|c| c.self_issued) {
            ", root included"
        } else {
            ""
        }
    );
    if !chain.refusals.is_empty() {
        evidence.summary = format!(
            "{}; refused: {}",
            evidence.summary,
            chain.refusals.join("; ")
        );
        evidence.fact("refused", chain.refusals.join("; "));
    }
    evidence.fact("ca_subject", ca.subject.clone());
    evidence.fact("ca_issuer", ca.issuer.clone());
    evidence.fact("ca_not_before", date_text(ca.not_before));
    evidence.fact("ca_not_after", date_text(ca.not_after));
    evidence.fact("ca_is_ca", ca.is_ca);
    evidence.fact("chain_length", chain.certs.len());
    evidence.fact(
        "chain",
        chain
            .certs
            .iter()
            .map(|c| c.subject.clone())
            .collect::<Vec<_>>()
            .join(" | "),
    );
    if !content.is_empty() {
        evidence.fact("content_type", content);
    }
    evidence
}

/// A CA certificate within 30 days of its end (an expired one is refused by the chain's
/// judgement).
fn expiry_warning(ca: &pkix::CaCert) -> Option<String> {
    let left = ca.not_after - clock::unix_now();
    (0..30 * 86_400).contains(&left).then(|| {
        format!(
            "The CA certificate expires on {}: renew it before then.",
            date_text(ca.not_after)
        )
    })
}
