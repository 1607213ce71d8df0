//! The facts of an X.509 certificate (RFC 5280) that an audit reports: subject, issuer,
//! subject alternative names, validity. Read with the hostile-input BER reader; nothing is
//! verified here (the TLS layer checks handshake signatures, the audit accepts any issuer).

use super::ber::{
    BerError, GENERALIZED_TIME, INTEGER, OCTET_STRING, OID, Reader, SEQUENCE, SET, UTC_TIME,
    context, oid_text,
};
use crate::clock;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertFacts {
    pub subject: String,
    pub issuer: String,
    pub sans: Vec<String>,
    /// Seconds since the Unix epoch.
    pub not_before: i64,
    pub not_after: i64,
    /// Issuer and subject are the same name.
    pub self_issued: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum X509Error {
    #[error("not DER: {0}")]
    Ber(#[from] BerError),
    #[error("bad time in the validity")]
    Time,
}

const SAN_OID: &str = "2.5.29.17";
/// At most this many names are reported.
const MAX_SANS: usize = 32;

pub fn parse_certificate(der: &[u8]) -> Result<CertFacts, X509Error> {
    let mut cert = Reader::new(der).enter(SEQUENCE)?;
    let mut tbs = cert.enter(SEQUENCE)?;
    tbs.optional(context(0))?; // version
    tbs.expect(INTEGER)?; // serialNumber
    tbs.expect(SEQUENCE)?; // signature algorithm
    let issuer = tbs.read()?;
    let mut validity = tbs.enter(SEQUENCE)?;
    let not_before = time(&mut validity)?;
    let not_after = time(&mut validity)?;
    let subject = tbs.read()?;
    tbs.expect(SEQUENCE)?; // subjectPublicKeyInfo
    let mut sans = Vec::new();
    while !tbs.is_empty() {
        let field = tbs.read()?;
        if field.tag == context(3) {
            sans = subject_alt_names(field.content)?;
        }
    }
    Ok(CertFacts {
        subject: name_text(subject.content)?,
        issuer: name_text(issuer.content)?,
        sans,
        not_before,
        not_after,
        self_issued: issuer.raw == subject.raw,
    })
}

fn time(reader: &mut Reader) -> Result<i64, X509Error> {
    let tlv = reader.read()?;
    match tlv.tag {
        UTC_TIME => clock::utc_time(tlv.content),
        GENERALIZED_TIME => clock::generalized_time(tlv.content),
        _ => None,
    }
    .ok_or(X509Error::Time)
}

/// A Name as `CN=…, O=…` with the attribute types people know; others by OID.
fn name_text(content: &[u8]) -> Result<String, X509Error> {
    let mut parts = Vec::new();
    let mut rdns = Reader::new(content);
    while !rdns.is_empty() {
        let mut set = rdns.enter(SET)?;
        while !set.is_empty() {
            let mut pair = set.enter(SEQUENCE)?;
            let oid = oid_text(pair.expect(OID)?)?;
            let value = pair.read()?;
            let label = match oid.as_str() {
                "2.5.4.3" => "CN".to_string(),
                "2.5.4.6" => "C".into(),
                "2.5.4.7" => "L".into(),
                "2.5.4.8" => "ST".into(),
                "2.5.4.10" => "O".into(),
                "2.5.4.11" => "OU".into(),
                "1.2.840.113549.1.9.1" => "emailAddress".into(),
                other => other.to_string(),
            };
            if parts.len() < 16 {
                let text = String::from_utf8_lossy(&value.content[..value.content.len().min(128)]);
                parts.push(format!("{label}={text}"));
            }
        }
    }
    Ok(parts.join(", "))
}

fn subject_alt_names(extensions: &[u8]) -> Result<Vec<String>, X509Error> {
    let mut list = Reader::new(extensions).enter(SEQUENCE)?;
    while !list.is_empty() {
        let mut extension = list.enter(SEQUENCE)?;
        let oid = oid_text(extension.expect(OID)?)?;
        extension.optional(super::ber::BOOLEAN)?;
        let value = extension.expect(OCTET_STRING)?;
        if oid != SAN_OID {
            continue;
        }
        let mut names = Reader::new(value).enter(SEQUENCE)?;
        let mut out = Vec::new();
        while !names.is_empty() && out.len() < MAX_SANS {
            let name = names.read()?;
            match (name.tag, name.content.len()) {
                (0x82, _) => out.push(format!("DNS:{}", String::from_utf8_lossy(name.content))),
                (0x87, 4) => out.push(format!(
                    "IP:{}",
                    std::net::Ipv4Addr::from(<[u8; 4]>::try_from(name.content).unwrap_or_default())
                )),
                (0x87, 16) => out.push(format!(
                    "IP:{}",
                    std::net::Ipv6Addr::from(
                        <[u8; 16]>::try_from(name.content).unwrap_or_default()
                    )
                )),
                _ => {}
            }
        }
        return Ok(out);
    }
    Ok(Vec::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(parse_certificate(b"").is_err());
        assert!(parse_certificate(&[0x30, 0x03, 0x30, 0x01, 0x02]).is_err());
        assert!(parse_certificate(&[0x30, 0x82, 0xff, 0xff]).is_err());
    }

    #[test]
    fn nginx_certificate_fixture() {
        use crate::wire::fixtures::{NGINX_CERT, survives};
        let facts = parse_certificate(NGINX_CERT).unwrap();
        assert_eq!(facts.subject, "CN=printer.lab.test, O=mve-audit lab");
        assert_eq!(facts.issuer, facts.subject);
        assert!(facts.self_issued);
        assert_eq!(facts.sans, ["DNS:printer.lab.test"]);
        assert_eq!(facts.not_after, 2_051_222_400, "2035-01-01");
        assert_eq!(survives(NGINX_CERT, parse_certificate), 0);
    }
}
