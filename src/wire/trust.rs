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
        self.certs.iter().find(|other| {
            same_name(
                &other.subject_raw,
                &other.subject,
                &cert.issuer_raw,
                &cert.issuer,
            )
        })
    }
}

/// Two distinguished names, compared as their DER or, failing that, as their text (Java
/// compares `X500Principal`s canonically; the text catches re-encodings of the same name).
fn same_name(a_raw: &[u8], a_text: &str, b_raw: &[u8], b_text: &str) -> bool {
    a_raw == b_raw || a_text.eq_ignore_ascii_case(b_text)
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
        !std::ptr::eq(ca, other)
            && same_name(
                &ca.subject_raw,
                &ca.subject,
                &other.issuer_raw,
                &other.issuer,
            )
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

/// The CRL in `bytes` (DER or PEM), fetched from a distribution point `named_by` names,
/// judged against the chain at `now`.
pub fn judge_crl(
    bytes: &[u8],
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
    if !same_name(
        &crl.issuer_raw,
        &crl.issuer,
        &named_by.issuer_raw,
        &named_by.issuer,
    ) {
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
    if crl.revoked_serials.contains(&named_by.serial) {
        judged.refusals.push(format!(
            "it revokes {} itself (serial {})",
            named_by.subject,
            hex(&named_by.serial)
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
