//! A CA's certificates and CRLs judged as a strict Java PKIX client (MVE's) judges them: the
//! CA is the certificate with `cA:TRUE` that issued the others, every certificate is inside
//! its validity window and signed by its issuer's key, a CA's key usage allows signing
//! certificates, and a CRL is issued and signed by the CA that issued the certificate naming
//! it, is current (`thisUpdate` not in the future, `nextUpdate` not past) and does not revoke
//! that certificate. Times are compared with Java's `RevocationChecker` tolerance of 15
//! minutes.
//!
//! Parsing and signature checks are `x509-parser`'s (with `verify`, through ring); this
//! module only decides which certificate is whose issuer and words what a client would
//! refuse.

use x509_parser::error::X509Error;
use x509_parser::prelude::{FromDer, X509Certificate};
use x509_parser::revocation_list::CertificateRevocationList;
use x509_parser::x509::SubjectPublicKeyInfo;

use super::pkix::{self, CaCert, PkixError};
use crate::clock::date_text;

/// Clock difference tolerated on `notBefore`, `thisUpdate` and `nextUpdate`: Java's
/// `RevocationChecker.MAX_CLOCK_SKEW`.
pub const SKEW_SECONDS: i64 = 15 * 60;

/// The certificates a CA served, read and judged.
#[derive(Debug, Clone)]
pub struct Chain {
    pub certs: Vec<CaCert>,
    /// Index of the issuing CA: the certificate a client installs as the CA.
    pub ca: usize,
    /// Why a strict client refuses these certificates; empty when it accepts them.
    pub refusals: Vec<String>,
    /// What deserves a warning without a refusal (a leaf in an EST bundle, an unchecked
    /// signature algorithm).
    pub oddities: Vec<String>,
}

impl Chain {
    /// The issuing CA.
    pub fn issuing(&self) -> Option<&CaCert> {
        self.certs.get(self.ca)
    }

    /// The certificate whose subject is `cert`'s issuer (`cert` itself when self-issued).
    pub fn issuer_of<'a>(&'a self, cert: &'a CaCert) -> Option<&'a CaCert> {
        if cert.self_issued {
            return Some(cert);
        }
        self.certs
            .iter()
            .find(|other| other.subject_key == cert.issuer_key)
    }

    /// The path from the issuing CA up: each certificate's issuer in turn, until a
    /// self-issued one or one whose issuer was not served.
    fn path(&self) -> Vec<&CaCert> {
        let mut path: Vec<&CaCert> = self.issuing().into_iter().collect();
        while let Some(last) = path.last().copied() {
            if last.self_issued || path.len() > self.certs.len() {
                break;
            }
            match self.issuer_of(last) {
                Some(next) if !path.iter().any(|p| std::ptr::eq(*p, next)) => path.push(next),
                _ => break,
            }
        }
        path
    }

    /// CA certificates below the trust anchor that name no CRL distribution point: a client
    /// that checks revocation cannot check them.
    pub fn without_points(&self) -> Vec<&CaCert> {
        self.path()
            .into_iter()
            .filter(|c| !c.self_issued && c.crl_urls.is_empty() && c.crl_points_unread == 0)
            .collect()
    }
}

/// Judges the certificates a CA served (`ders`, in the order served) at `now` (Unix
/// seconds). `registration_authority`: the answer may hold RA certificates (SCEP's
/// `application/x-x509-ca-ra-cert`), which are not CAs.
pub fn judge_chain(
    ders: &[Vec<u8>],
    now: i64,
    registration_authority: bool,
) -> Result<Chain, PkixError> {
    let certs = ders
        .iter()
        .map(|der| pkix::ca_cert(der))
        .collect::<Result<Vec<_>, _>>()?;
    if certs.is_empty() {
        return Err(PkixError::NoCertificate);
    }
    let mut chain = Chain {
        ca: issuing_ca(&certs).unwrap_or(0),
        certs,
        refusals: Vec::new(),
        oddities: Vec::new(),
    };
    if !chain.certs.iter().any(|c| c.is_ca) {
        chain.refusals.push(format!(
            "no certificate served is a CA (basicConstraints cA:TRUE): {}",
            names(&chain.certs)
        ));
    }
    // RFC 5280 §4.2.1.9: at most pathLen CA certificates below it; the trust anchor's own
    // constraint is not enforced.
    let too_deep: Vec<String> = chain
        .path()
        .into_iter()
        .enumerate()
        .filter_map(|(below, cert)| {
            let limit = cert.path_len?;
            (!cert.self_issued && below > limit as usize).then(|| {
                format!(
                    "{} allows {limit} CA certificate(s) below it (pathLenConstraint), and the \
                     chain has {below}",
                    cert.subject
                )
            })
        })
        .collect();
    for why in too_deep {
        chain_push(&mut chain.refusals, why);
    }
    for (at, cert) in chain.certs.iter().enumerate() {
        judge_one(&chain, at, cert, now, registration_authority)
            .into_iter()
            .for_each(|(refused, why)| {
                if refused {
                    chain_push(&mut chain.refusals, why)
                } else {
                    chain_push(&mut chain.oddities, why)
                }
            });
    }
    Ok(chain)
}

fn chain_push(list: &mut Vec<String>, why: String) {
    if !list.contains(&why) {
        list.push(why);
    }
}

/// What a client says of one certificate of the chain: `(refused, why)` pairs.
fn judge_one(
    chain: &Chain,
    at: usize,
    cert: &CaCert,
    now: i64,
    registration_authority: bool,
) -> Vec<(bool, String)> {
    let mut said = Vec::new();
    if cert.not_before > now + SKEW_SECONDS {
        said.push((
            true,
            format!(
                "{} is not valid until {}",
                cert.subject,
                date_text(cert.not_before)
            ),
        ));
    }
    if cert.not_after < now {
        said.push((
            true,
            format!("{} expired on {}", cert.subject, date_text(cert.not_after)),
        ));
    }
    if !cert.self_issued && !cert.critical_unknown.is_empty() {
        said.push((
            true,
            format!(
                "{} carries critical extension(s) a client does not know ({})",
                cert.subject,
                cert.critical_unknown.join(", ")
            ),
        ));
    }
    if cert.algorithm_mismatch {
        said.push((
            true,
            format!(
                "{} names one signature algorithm inside and another outside",
                cert.subject
            ),
        ));
    }
    if cert.is_ca && !cert.signs_certificates {
        said.push((
            true,
            format!(
                "{} is a CA whose key usage does not allow signing certificates (keyCertSign)",
                cert.subject
            ),
        ));
    }
    if !cert.is_ca {
        let issued_by_ca = chain
            .issuer_of(cert)
            .is_some_and(|issuer| issuer.is_ca && !std::ptr::eq(issuer, cert));
        if !registration_authority || !issued_by_ca {
            let first = if at < chain.ca {
                ", served before the CA"
            } else {
                ""
            };
            said.push((
                false,
                format!(
                    "the answer holds {}, which is not a CA (no basicConstraints cA:TRUE){first}",
                    cert.subject
                ),
            ));
        }
    }
    match chain.issuer_of(cert) {
        Some(issuer) => {
            if !std::ptr::eq(issuer, cert) && !issuer.is_ca {
                said.push((
                    true,
                    format!(
                        "{} is issued by {}, which is not a CA",
                        cert.subject, issuer.subject
                    ),
                ));
            }
            match verify(&cert.der, &issuer.der) {
                Ok(()) => {}
                Err(Unchecked::Algorithm) => said.push((
                    false,
                    format!(
                        "the signature of {} uses an algorithm mve-audit cannot check",
                        cert.subject
                    ),
                )),
                Err(Unchecked::Bad) => said.push((
                    true,
                    format!(
                        "the signature of {} does not verify with the key of {}",
                        cert.subject, issuer.subject
                    ),
                )),
            }
        }
        None if at == chain.ca => said.push((
            false,
            format!(
                "the chain ends at {}, issued by {}, which was not served: the client must \
                 already trust it",
                cert.subject, cert.issuer
            ),
        )),
        None => {}
    }
    said
}

/// The issuing CA: a CA certificate that issued no other CA of the set, preferring the one
/// that issued the set's other certificates (SCEP's RA certificates).
fn issuing_ca(certs: &[CaCert]) -> Option<usize> {
    let issued = |ca: &CaCert, other: &CaCert| {
        !std::ptr::eq(ca, other) && ca.subject_key == other.issuer_key
    };
    let lowest: Vec<usize> = certs
        .iter()
        .enumerate()
        .filter(|(_, ca)| {
            ca.is_ca
                && !certs
                    .iter()
                    .any(|o| o.is_ca && !o.self_issued && issued(ca, o))
        })
        .map(|(at, _)| at)
        .collect();
    lowest
        .iter()
        .copied()
        .find(|&at| {
            certs
                .get(at)
                .is_some_and(|ca| certs.iter().any(|o| !o.is_ca && issued(ca, o)))
        })
        .or_else(|| lowest.first().copied())
}

fn names(certs: &[CaCert]) -> String {
    certs
        .iter()
        .map(|c| c.subject.as_str())
        .collect::<Vec<_>>()
        .join("; ")
}

/// Why a signature was not confirmed.
enum Unchecked {
    /// An algorithm ring does not offer (RSA-PSS with odd parameters, DSA…).
    Algorithm,
    /// It does not verify: another key, or altered bytes.
    Bad,
}

fn classify(err: X509Error) -> Unchecked {
    match err {
        X509Error::SignatureUnsupportedAlgorithm => Unchecked::Algorithm,
        _ => Unchecked::Bad,
    }
}

/// `der`'s signature against the public key of `issuer_der`.
fn verify(der: &[u8], issuer_der: &[u8]) -> Result<(), Unchecked> {
    let (_, cert) = X509Certificate::from_der(der).map_err(|_| Unchecked::Bad)?;
    let (_, issuer) = X509Certificate::from_der(issuer_der).map_err(|_| Unchecked::Bad)?;
    cert.verify_signature(Some(issuer.public_key()))
        .map_err(classify)
}

/// A CRL judged for the certificate that named it.
#[derive(Debug, Clone)]
pub struct CrlJudgement {
    pub crl: pkix::Crl,
    /// Why a client refuses it (another issuer, a bad signature, issued in the future, the
    /// certificate revoked).
    pub refusals: Vec<String>,
    /// Past its `nextUpdate`: what MVE reports as "CA validation failed".
    pub stale: bool,
    /// Warnings (no nextUpdate, the signature not checkable).
    pub oddities: Vec<String>,
}

/// The CRL in `bytes` (DER or PEM), fetched from the distribution point `point` that
/// `named_by` names, judged against the chain at `now`.
pub fn judge_crl(
    bytes: &[u8],
    point: &str,
    named_by: &CaCert,
    chain: &Chain,
    now: i64,
) -> Result<CrlJudgement, PkixError> {
    let crl = pkix::crl(bytes)?;
    let mut judged = CrlJudgement {
        refusals: Vec::new(),
        stale: crl
            .next_update
            .is_some_and(|next| next + SKEW_SECONDS < now),
        oddities: Vec::new(),
        crl,
    };
    let crl = &judged.crl;
    if crl.issuer_key != named_by.issuer_key {
        judged.refusals.push(format!(
            "it is issued by {}, where the CRL for {} must come from its issuer, {}",
            crl.issuer, named_by.subject, named_by.issuer
        ));
    }
    match chain.issuer_of(named_by) {
        Some(issuer) => {
            if !issuer.signs_crls {
                judged.refusals.push(format!(
                    "{} may not sign CRLs (its key usage lacks cRLSign)",
                    issuer.subject
                ));
            }
            match verify_crl(&crl.der, &issuer.der) {
                Ok(()) => {}
                Err(Unchecked::Algorithm) => judged.oddities.push(format!(
                    "the CRL's signature uses an algorithm mve-audit cannot check, so it is not \
                     known to be {}'s",
                    issuer.subject
                )),
                Err(Unchecked::Bad) => judged.refusals.push(format!(
                    "its signature does not verify with the key of {}: another CA's CRL, or \
                     altered",
                    issuer.subject
                )),
            }
        }
        None => judged.oddities.push(format!(
            "its signature was not checked: the certificate of its issuer, {}, was not served \
             with the chain",
            named_by.issuer
        )),
    }
    if crl.this_update > now + SKEW_SECONDS {
        judged.refusals.push(format!(
            "it is issued in the future (thisUpdate {}): this server's clock or the CA's is \
             wrong",
            date_text(crl.this_update)
        ));
    }
    if crl.next_update.is_none() {
        judged
            .oddities
            .push("it names no next update (RFC 5280 requires one): clients may refuse it".into());
    }
    // Every certificate of the chain this CRL's issuer issued is checked against it.
    for cert in &chain.certs {
        if cert.issuer_key == crl.issuer_key
            && !cert.self_issued
            && crl.revoked_serials.contains(&cert.serial)
        {
            judged.refusals.push(format!(
                "it revokes {} (serial {})",
                cert.subject,
                hex(&cert.serial)
            ));
        }
    }
    if !crl.critical_unknown.is_empty() {
        judged.refusals.push(format!(
            "it carries critical extension(s) a client does not process ({}): a delta CRL, or \
             one a client must refuse",
            crl.critical_unknown.join(", ")
        ));
    }
    if crl.algorithm_mismatch {
        judged
            .refusals
            .push("it names one signature algorithm inside and another outside".into());
    }
    if let Some(scope) = &crl.scope {
        if scope.only_user || scope.only_attribute {
            judged.refusals.push(
                "its issuing distribution point limits it to end-entity (or attribute) \
                 certificates, so it says nothing of a CA certificate"
                    .into(),
            );
        }
        if scope.some_reasons {
            judged.refusals.push(
                "it covers some revocation reasons only, so alone it cannot show a \
                 certificate unrevoked"
                    .into(),
            );
        }
        if !scope.points.is_empty() && !scope.points.iter().any(|p| p == point) {
            judged.refusals.push(format!(
                "its issuing distribution point names {}, not {point}",
                scope.points.join(", ")
            ));
        }
    }
    if let (Some(aki), Some(issuer)) = (&crl.authority_key_id, chain.issuer_of(named_by))
        && let Some(ski) = &issuer.key_id
        && aki != ski
    {
        judged.refusals.push(format!(
            "its authority key identifier ({}) is not the key of {} ({})",
            hex(aki),
            issuer.subject,
            hex(ski)
        ));
    }
    Ok(judged)
}

fn verify_crl(der: &[u8], issuer_der: &[u8]) -> Result<(), Unchecked> {
    let (_, crl) = CertificateRevocationList::from_der(der).map_err(|_| Unchecked::Bad)?;
    let (_, issuer) = X509Certificate::from_der(issuer_der).map_err(|_| Unchecked::Bad)?;
    let key: &SubjectPublicKeyInfo = issuer.public_key();
    crl.verify_signature(key).map_err(classify)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
#[path = "trust_tests.rs"]
mod tests;
