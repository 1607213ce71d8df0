//! What a certificate authority serves to a client that only reads: its certificates (one DER
//! certificate, or a PKCS#7 "certs-only" SignedData as SCEP's GetCACert (RFC 8894) and EST's
//! `/cacerts` (RFC 7030) send them, the latter base64-encoded), and its CRLs (RFC 5280).
//!
//! Certificates and CRLs are read with `x509-parser`; the PKCS#7 envelope, which it does not
//! read, is walked with this crate's own bounded BER reader (`wire::ber`): a SignedData's
//! certificates are a field of a field, and no crate in the tree parses CMS.

use x509_parser::extensions::{DistributionPointName, GeneralName, ParsedExtension};
use x509_parser::prelude::{FromDer, X509Certificate};
use x509_parser::revocation_list::CertificateRevocationList;

use super::ber::{BerError, Reader};

/// `id-signedData`, 1.2.840.113549.1.7.2, as its DER content bytes.
const SIGNED_DATA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02];
/// Certificates read from one bundle at most.
const MAX_CERTS: usize = 32;
/// Distribution points read at most from one certificate; the rest are counted.
pub const MAX_CRL_URLS: usize = 16;

/// Why bytes are not what a CA serves.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PkixError {
    #[error("not PKCS#7 signed data: {0}")]
    Envelope(BerError),
    #[error("PKCS#7 of another type than signed data")]
    NotSignedData,
    #[error("the PKCS#7 bundle holds no certificate")]
    NoCertificate,
    #[error("not an X.509 certificate")]
    Certificate,
    #[error("not a CRL")]
    Crl,
    #[error("not base64")]
    Base64,
    #[error("empty")]
    Empty,
}

impl From<BerError> for PkixError {
    fn from(err: BerError) -> PkixError {
        PkixError::Envelope(err)
    }
}

/// The certificates of a PKCS#7 certs-only SignedData, as DER.
pub fn certs_only(der: &[u8]) -> Result<Vec<&[u8]>, PkixError> {
    let mut outer = Reader::new(der);
    let mut content_info = outer.enter(0x30)?;
    if content_info.expect(0x06)? != SIGNED_DATA {
        return Err(PkixError::NotSignedData);
    }
    let mut explicit = content_info.enter(0xa0)?;
    let mut signed = explicit.enter(0x30)?;
    signed.expect(0x02)?; // version
    signed.expect(0x31)?; // digestAlgorithms
    signed.expect(0x30)?; // encapContentInfo
    let Some(certificates) = signed.optional(0xa0)? else {
        return Err(PkixError::NoCertificate);
    };
    let mut reader = Reader::new(certificates);
    let mut out = Vec::new();
    while !reader.is_empty() && out.len() < MAX_CERTS {
        let tlv = reader.read()?;
        if tlv.tag == 0x30 {
            out.push(tlv.raw);
        }
    }
    if out.is_empty() {
        return Err(PkixError::NoCertificate);
    }
    Ok(out)
}

/// What an audit reports of a CA certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaCert {
    pub subject: String,
    pub issuer: String,
    /// Seconds since the Unix epoch.
    pub not_before: i64,
    pub not_after: i64,
    /// basicConstraints cA.
    pub is_ca: bool,
    pub self_issued: bool,
    /// The CRL distribution points it names (`http://…`, `ldap://…`), at most
    /// `MAX_CRL_URLS`.
    pub crl_urls: Vec<String>,
    /// Distribution point names past `MAX_CRL_URLS`, and names that are not URIs (a
    /// directory name, a relative name): points this reading does not follow.
    pub crl_points_unread: usize,
    /// The subject and issuer names in canonical form, to match issuers as Java does.
    pub subject_key: NameKey,
    pub issuer_key: NameKey,
    /// basicConstraints pathLenConstraint.
    pub path_len: Option<u32>,
    /// Critical extensions this reading does not know (by OID): a strict client refuses a
    /// certificate carrying one, unless it is the trust anchor.
    pub critical_unknown: Vec<String>,
    /// The signature algorithm inside the signed part differs from the outer one.
    pub algorithm_mismatch: bool,
    /// subjectKeyIdentifier, to match a CRL's authorityKeyIdentifier.
    pub key_id: Option<Vec<u8>>,
    /// The serial number's bytes, as a CRL lists it.
    pub serial: Vec<u8>,
    /// keyUsage allows keyCertSign (or the certificate has no keyUsage).
    pub signs_certificates: bool,
    /// keyUsage allows cRLSign (or the certificate has no keyUsage).
    pub signs_crls: bool,
    /// The certificate itself, for signature checks.
    pub der: Vec<u8>,
}

/// Reads one DER certificate.
pub fn ca_cert(der: &[u8]) -> Result<CaCert, PkixError> {
    let (_, cert) = X509Certificate::from_der(der).map_err(|_| PkixError::Certificate)?;
    let validity = cert.validity();
    let constraints = cert.basic_constraints().ok().flatten().map(|bc| bc.value);
    let is_ca = constraints.is_some_and(|bc| bc.ca);
    let mut key_id = None;
    for extension in cert.extensions() {
        if let ParsedExtension::SubjectKeyIdentifier(id) = extension.parsed_extension() {
            key_id = Some(id.0.to_vec());
        }
    }
    let mut crl_urls = Vec::new();
    let mut crl_points_unread = 0;
    for extension in cert.extensions() {
        if let ParsedExtension::CRLDistributionPoints(points) = extension.parsed_extension() {
            for point in points.iter() {
                match &point.distribution_point {
                    Some(DistributionPointName::FullName(names)) => {
                        for name in names {
                            match name {
                                GeneralName::URI(uri) if crl_urls.len() < MAX_CRL_URLS => {
                                    crl_urls.push((*uri).to_string());
                                }
                                _ => crl_points_unread += 1,
                            }
                        }
                    }
                    _ => crl_points_unread += 1,
                }
            }
        }
    }
    let usage = cert.key_usage().ok().flatten().map(|ku| ku.value);
    Ok(CaCert {
        subject: cert.subject().to_string(),
        issuer: cert.issuer().to_string(),
        not_before: validity.not_before.timestamp(),
        not_after: validity.not_after.timestamp(),
        is_ca,
        self_issued: name_key(cert.issuer()) == name_key(cert.subject()),
        crl_urls,
        crl_points_unread,
        subject_key: name_key(cert.subject()),
        issuer_key: name_key(cert.issuer()),
        path_len: constraints.and_then(|bc| bc.path_len_constraint),
        critical_unknown: critical_unknown(cert.extensions()),
        algorithm_mismatch: !same_algorithm(
            &cert.tbs_certificate.signature,
            &cert.signature_algorithm,
        ),
        key_id,
        serial: cert.raw_serial().to_vec(),
        signs_certificates: usage.is_none_or(|u| u.key_cert_sign()),
        signs_crls: usage.is_none_or(|u| u.crl_sign()),
        der: der.to_vec(),
    })
}

/// A distinguished name as Java's `X500Name` compares it: each RDN's attributes (sorted) as
/// their type's OID and their value trimmed, inner spaces collapsed and lower-cased; a value
/// that is not a string by its hex bytes. Two encodings of one name are one key; a single
/// RDN whose value holds a comma is not two RDNs.
pub type NameKey = Vec<Vec<(String, String)>>;

fn name_key(name: &x509_parser::x509::X509Name) -> NameKey {
    name.iter()
        .map(|rdn| {
            let mut attributes: Vec<(String, String)> = rdn
                .iter()
                .map(|attribute| {
                    let value = match attribute.as_str() {
                        Ok(text) => text
                            .split_whitespace()
                            .collect::<Vec<_>>()
                            .join(" ")
                            .to_lowercase(),
                        Err(_) => attribute
                            .attr_value()
                            .data
                            .iter()
                            .map(|b| format!("{b:02x}"))
                            .collect(),
                    };
                    (attribute.attr_type().to_id_string(), value)
                })
                .collect();
            attributes.sort();
            attributes
        })
        .collect()
}

/// The critical extensions of a certificate this reading does not know.
fn critical_unknown(extensions: &[x509_parser::extensions::X509Extension]) -> Vec<String> {
    extensions
        .iter()
        .filter(|e| {
            e.critical
                && matches!(
                    e.parsed_extension(),
                    ParsedExtension::UnsupportedExtension { .. }
                        | ParsedExtension::ParseError { .. }
                )
        })
        .map(|e| e.oid.to_id_string())
        .take(8)
        .collect()
}

/// Whether the signature algorithm inside the signed part matches the outer one (the same
/// OID; parameters compared when both give them).
fn same_algorithm(
    inner: &x509_parser::x509::AlgorithmIdentifier,
    outer: &x509_parser::x509::AlgorithmIdentifier,
) -> bool {
    inner.algorithm == outer.algorithm
        && match (&inner.parameters, &outer.parameters) {
            (Some(a), Some(b)) => a.data == b.data,
            _ => true,
        }
}

/// What a CRL's issuing distribution point limits it to (RFC 5280 §5.2.5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    /// The distribution points it names (URIs): the CRL is for those only.
    pub points: Vec<String>,
    /// End-entity certificates only: no CA certificate's revocation is in it.
    pub only_user: bool,
    /// Attribute certificates only.
    pub only_attribute: bool,
    /// Some revocation reasons only: a partial CRL.
    pub some_reasons: bool,
}

/// What an audit reports of a CRL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Crl {
    pub issuer: String,
    pub this_update: i64,
    /// `None` when the CRL names no next update (RFC 5280 requires one).
    pub next_update: Option<i64>,
    pub revoked: usize,
    /// The serial numbers it revokes, as their bytes.
    pub revoked_serials: Vec<Vec<u8>>,
    /// The issuer's name in canonical form.
    pub issuer_key: NameKey,
    /// Critical extensions other than the issuing distribution point (a delta CRL's
    /// indicator among them): a strict client refuses the CRL.
    pub critical_unknown: Vec<String>,
    /// The issuing distribution point, when the CRL names one.
    pub scope: Option<Scope>,
    /// authorityKeyIdentifier's key id, when given.
    pub authority_key_id: Option<Vec<u8>>,
    /// The signature algorithm inside the signed part differs from the outer one.
    pub algorithm_mismatch: bool,
    /// The CRL itself, for its signature check.
    pub der: Vec<u8>,
}

/// Reads a CRL, DER or PEM.
pub fn crl(bytes: &[u8]) -> Result<Crl, PkixError> {
    let der = match pem_blocks(bytes, "X509 CRL") {
        Some(mut blocks) if !blocks.is_empty() => blocks.swap_remove(0),
        _ => bytes.to_vec(),
    };
    let (_, crl) = CertificateRevocationList::from_der(&der).map_err(|_| PkixError::Crl)?;
    let revoked_serials: Vec<Vec<u8>> = crl
        .iter_revoked_certificates()
        .map(|r| r.raw_serial().to_vec())
        .collect();
    Ok(Crl {
        issuer: crl.issuer().to_string(),
        this_update: crl.last_update().timestamp(),
        next_update: crl.next_update().map(|t| t.timestamp()),
        revoked: revoked_serials.len(),
        revoked_serials,
        issuer_key: name_key(crl.issuer()),
        critical_unknown: crl
            .extensions()
            .iter()
            .filter(|e| {
                e.critical
                    && !matches!(
                        e.parsed_extension(),
                        ParsedExtension::IssuingDistributionPoint(_)
                            | ParsedExtension::CRLNumber(_)
                            | ParsedExtension::AuthorityKeyIdentifier(_)
                    )
            })
            .map(|e| e.oid.to_id_string())
            .take(8)
            .collect(),
        scope: crl
            .extensions()
            .iter()
            .find_map(|e| match e.parsed_extension() {
                ParsedExtension::IssuingDistributionPoint(idp) => Some(Scope {
                    points: match &idp.distribution_point {
                        Some(DistributionPointName::FullName(names)) => names
                            .iter()
                            .filter_map(|n| match n {
                                GeneralName::URI(uri) => Some((*uri).to_string()),
                                _ => None,
                            })
                            .take(MAX_CRL_URLS)
                            .collect(),
                        _ => Vec::new(),
                    },
                    only_user: idp.only_contains_user_certs,
                    only_attribute: idp.only_contains_attribute_certs,
                    some_reasons: idp.only_some_reasons.is_some(),
                }),
                _ => None,
            }),
        authority_key_id: crl
            .extensions()
            .iter()
            .find_map(|e| match e.parsed_extension() {
                ParsedExtension::AuthorityKeyIdentifier(aki) => {
                    aki.key_identifier.as_ref().map(|k| k.0.to_vec())
                }
                _ => None,
            }),
        algorithm_mismatch: !same_algorithm(&crl.tbs_cert_list.signature, &crl.signature_algorithm),
        der: der.clone(),
    })
}

/// The DER blocks of PEM text labelled `label`; `None` when the bytes are not PEM.
fn pem_blocks(bytes: &[u8], label: &str) -> Option<Vec<Vec<u8>>> {
    let text = std::str::from_utf8(bytes).ok()?;
    if !text.contains("-----BEGIN ") {
        return None;
    }
    let blocks = pem::parse_many(text).ok()?;
    Some(
        blocks
            .into_iter()
            .filter(|b| b.tag() == label)
            .map(|b| b.into_contents())
            .collect(),
    )
}

/// Base64 text (line breaks and spaces allowed), as EST sends its PKCS#7.
pub fn base64(bytes: &[u8]) -> Result<Vec<u8>, PkixError> {
    use base64::Engine;
    let compact: Vec<u8> = bytes
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    if compact.is_empty() {
        return Err(PkixError::Empty);
    }
    base64::engine::general_purpose::STANDARD
        .decode(compact)
        .map_err(|_| PkixError::Base64)
}

/// The certificates a CA served, whatever the wrapping: PEM certificates, a DER certificate,
/// a PKCS#7 bundle (DER, PEM or base64). The first of the list is the one a client installs.
pub fn served_certs(body: &[u8]) -> Result<Vec<Vec<u8>>, PkixError> {
    if body.is_empty() {
        return Err(PkixError::Empty);
    }
    if let Some(blocks) = pem_blocks(body, "CERTIFICATE")
        && !blocks.is_empty()
    {
        return Ok(blocks);
    }
    if let Some(blocks) = pem_blocks(body, "PKCS7")
        && let Some(first) = blocks.first()
    {
        return certs_only(first).map(|certs| certs.into_iter().map(<[u8]>::to_vec).collect());
    }
    // DER: a certificate, or a PKCS#7 bundle; else base64 of either.
    let der = if body.first() == Some(&0x30) {
        body.to_vec()
    } else {
        base64(body)?
    };
    if X509Certificate::from_der(&der).is_ok() {
        return Ok(vec![der]);
    }
    certs_only(&der).map(|certs| certs.into_iter().map(<[u8]>::to_vec).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::ber::{cat, tlv};

    /// A PKCS#7 certs-only bundle around `certs`, as `openssl crl2pkcs7 -nocrl` writes it.
    fn bundle(certs: &[&[u8]]) -> Vec<u8> {
        let signed = tlv(
            0x30,
            &cat(&[
                &tlv(0x02, &[1]),
                &tlv(0x31, &[]),
                &tlv(
                    0x30,
                    &tlv(
                        0x06,
                        &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01],
                    ),
                ),
                &tlv(0xa0, &certs.concat()),
                &tlv(0x31, &[]),
            ]),
        );
        tlv(0x30, &cat(&[&tlv(0x06, SIGNED_DATA), &tlv(0xa0, &signed)]))
    }

    fn a_ca() -> (Vec<u8>, String) {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "Lab Root CA");
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params.crl_distribution_points = vec![rcgen::CrlDistributionPoint {
            uris: vec!["http://crl.lab.test/root.crl".into()],
        }];
        let cert = params.self_signed(&key).unwrap();
        (cert.der().to_vec(), cert.pem())
    }

    #[test]
    fn a_ca_certificate_names_its_distribution_points() {
        let (der, _) = a_ca();
        let ca = ca_cert(&der).unwrap();
        assert!(ca.subject.contains("Lab Root CA"), "{ca:?}");
        assert!(ca.is_ca && ca.self_issued);
        assert_eq!(ca.crl_urls, ["http://crl.lab.test/root.crl"]);
    }

    #[test]
    fn every_wrapping_of_the_certificates_is_read() {
        let (der, pem) = a_ca();
        let p7 = bundle(&[&der, &der]);
        use base64::Engine;
        let b64 = base64::engine::general_purpose::STANDARD.encode(&p7);
        for (body, count) in [
            (der.clone(), 1),
            (pem.into_bytes(), 1),
            (p7.clone(), 2),
            (b64.clone().into_bytes(), 2),
            (
                format!("{}\r\n{}\r\n", &b64[..40], &b64[40..]).into_bytes(),
                2,
            ),
        ] {
            assert_eq!(served_certs(&body).unwrap().len(), count);
        }
    }

    #[test]
    fn hostile_bodies_are_refused_not_panicked_on() {
        let (der, _) = a_ca();
        let p7 = bundle(&[&der]);
        let html = b"<html><body>404 Not Found</body></html>".to_vec();
        assert!(served_certs(&html).is_err(), "an HTML error page");
        assert!(served_certs(b"").is_err());
        assert!(
            matches!(certs_only(&p7[..p7.len() / 2]), Err(PkixError::Envelope(_))),
            "a truncated PKCS#7"
        );
        assert!(served_certs(&p7[..p7.len() - 7]).is_err());
        let other = tlv(0x30, &cat(&[&tlv(0x06, &[0x2a, 0x03]), &tlv(0xa0, &[])]));
        assert_eq!(certs_only(&other), Err(PkixError::NotSignedData));
        assert_eq!(certs_only(&bundle(&[])), Err(PkixError::NoCertificate));
        assert!(crl(&html).is_err());
        assert!(crl(&der).is_err(), "a certificate is not a CRL");
    }
}
