//! The facts of an X.509 certificate (RFC 5280) that an audit reports: subject, issuer,
//! subject alternative names, validity, read with `x509-parser`. Nothing is verified here
//! (the TLS layer checks handshake signatures, the audit accepts any issuer).

use x509_parser::extensions::GeneralName;
use x509_parser::prelude::{FromDer, X509Certificate};

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

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("not an X.509 certificate: {0}")]
pub struct X509Error(#[from] x509_parser::nom::Err<x509_parser::error::X509Error>);

/// At most this many names are reported.
const MAX_SANS: usize = 32;

pub fn parse_certificate(der: &[u8]) -> Result<CertFacts, X509Error> {
    let (_, cert) = X509Certificate::from_der(der)?;
    let validity = cert.validity();
    Ok(CertFacts {
        subject: cert.subject().to_string(),
        issuer: cert.issuer().to_string(),
        sans: subject_alt_names(&cert),
        not_before: validity.not_before.timestamp(),
        not_after: validity.not_after.timestamp(),
        self_issued: cert.issuer().as_raw() == cert.subject().as_raw(),
    })
}

/// DNS names and IP addresses, as `DNS:…` and `IP:…`; a malformed extension gives none.
fn subject_alt_names(cert: &X509Certificate) -> Vec<String> {
    let Ok(Some(san)) = cert.subject_alternative_name() else {
        return Vec::new();
    };
    san.value
        .general_names
        .iter()
        .filter_map(|name| match name {
            GeneralName::DNSName(dns) => Some(format!("DNS:{dns}")),
            GeneralName::IPAddress(bytes) => ip_text(bytes).map(|ip| format!("IP:{ip}")),
            _ => None,
        })
        .take(MAX_SANS)
        .collect()
}

/// Whether the certificate names `host` as Java's `HostnameChecker` reads it for TLS: an IP
/// address only by an `IP:` name; a host name by its `DNS:` names (a wildcard stands for one
/// whole left-most label), or, when there are none, by the subject's common name.
pub fn names_host(facts: &CertFacts, host: &str) -> bool {
    let host = host.trim_matches(['[', ']']).trim_end_matches('.');
    if let Ok(addr) = host.parse::<std::net::IpAddr>() {
        return facts
            .sans
            .iter()
            .filter_map(|san| san.strip_prefix("IP:"))
            .any(|ip| ip.parse::<std::net::IpAddr>().is_ok_and(|ip| ip == addr));
    }
    let dns: Vec<&str> = facts
        .sans
        .iter()
        .filter_map(|san| san.strip_prefix("DNS:"))
        .collect();
    if dns.is_empty() {
        return common_name(&facts.subject).is_some_and(|cn| matches_name(cn, host));
    }
    dns.iter().any(|name| matches_name(name, host))
}

fn common_name(subject: &str) -> Option<&str> {
    subject
        .split(", ")
        .filter_map(|part| part.strip_prefix("CN="))
        .last()
}

fn matches_name(pattern: &str, host: &str) -> bool {
    let pattern = pattern.trim_end_matches('.');
    match pattern.strip_prefix("*.") {
        Some(rest) => host
            .split_once('.')
            .is_some_and(|(label, tail)| !label.is_empty() && tail.eq_ignore_ascii_case(rest)),
        None => pattern.eq_ignore_ascii_case(host),
    }
}

fn ip_text(bytes: &[u8]) -> Option<std::net::IpAddr> {
    match bytes.len() {
        4 => <[u8; 4]>::try_from(bytes).ok().map(std::net::IpAddr::from),
        16 => <[u8; 16]>::try_from(bytes).ok().map(std::net::IpAddr::from),
        _ => None,
    }
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

    #[test]
    fn host_names_are_matched_as_java_matches_them() {
        let facts = |sans: &[&str], subject: &str| CertFacts {
            subject: subject.into(),
            issuer: subject.into(),
            sans: sans.iter().map(|s| s.to_string()).collect(),
            not_before: 0,
            not_after: 0,
            self_issued: true,
        };
        let named = facts(
            &["DNS:ca.lab.test", "DNS:*.pki.lab.test", "IP:10.0.0.5"],
            "CN=x",
        );
        assert!(names_host(&named, "CA.lab.test."));
        assert!(names_host(&named, "est.pki.lab.test"));
        assert!(
            !names_host(&named, "a.b.pki.lab.test"),
            "a wildcard is one label"
        );
        assert!(!names_host(&named, "pki.lab.test"));
        assert!(names_host(&named, "10.0.0.5"));
        assert!(!names_host(&named, "10.0.0.6"));
        assert!(
            !names_host(&named, "x"),
            "no CN fallback when DNS names exist"
        );
        let cn_only = facts(&[], "O=lab, CN=ca.lab.test");
        assert!(names_host(&cn_only, "ca.lab.test"));
        assert!(
            !names_host(&facts(&[], "CN=127.0.0.1"), "127.0.0.1"),
            "an address needs IP:"
        );
    }
}
