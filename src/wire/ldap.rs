//! LDAP (RFC 4511): an anonymous base-scope search of the root DSE, which any directory answers
//! without a bind, and the parse of its entry. Hand-written on `ber`: the LDAP crates (ldap3)
//! are clients that own the connection and its runtime; one request and one entry need
//! neither, and the drivers keep their own deadline, byte cap and TLS.

use super::ber::{
    BOOLEAN, BerError, ENUMERATED, INTEGER, OCTET_STRING, Reader, SEQUENCE, SET, application, cat,
    int, tlv, uint,
};

/// The StartTLS extended operation (RFC 4511 §4.14.1).
pub const STARTTLS_OID: &str = "1.3.6.1.4.1.1466.20037";

const ATTRIBUTES: [&str; 6] = [
    "namingContexts",
    "supportedLDAPVersion",
    "supportedSASLMechanisms",
    "supportedExtension",
    "vendorName",
    "vendorVersion",
];

/// The search request for the root DSE with message id `id`.
pub fn root_dse_request(id: u32) -> Vec<u8> {
    base_search(id, "", &ATTRIBUTES)
}

/// An anonymous base-object search of `base` for `attributes`, filter `(objectClass=*)`.
fn base_search(id: u32, base: &str, attributes: &[&str]) -> Vec<u8> {
    let attributes: Vec<u8> = attributes
        .iter()
        .flat_map(|a| tlv(OCTET_STRING, a.as_bytes()))
        .collect();
    let search = tlv(
        application(3),
        &cat(&[
            &tlv(OCTET_STRING, base.as_bytes()),
            &tlv(ENUMERATED, &[0]),     // scope: baseObject
            &tlv(ENUMERATED, &[0]),     // derefAliases: never
            &uint(0),                   // sizeLimit
            &uint(10),                  // timeLimit, seconds
            &tlv(BOOLEAN, &[0]),        // typesOnly
            &tlv(0x87, b"objectClass"), // filter: (objectClass=*)
            &tlv(SEQUENCE, &attributes),
        ]),
    );
    tlv(SEQUENCE, &cat(&[&uint(id.into()), &search]))
}

/// A base-object search of `base` for one attribute (a CRL on a CA's entry, as an `ldap://`
/// CRL distribution point names it), with message id `id`.
pub fn attribute_request(id: u32, base: &str, attribute: &str) -> Vec<u8> {
    base_search(id, base, &[attribute])
}

/// The values of `attribute` (matched without its options, `;binary`) in the entries that
/// answer `attribute_request(id, …)`, and the SearchResultDone code.
pub fn parse_attribute(
    bytes: &[u8],
    id: u32,
    attribute: &str,
) -> Result<(Vec<Vec<u8>>, Option<i64>), LdapError> {
    let wanted = attribute
        .split(';')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    let mut found = Vec::new();
    let code = walk_search(bytes, id, |name, value| {
        if name.split(';').next() == Some(wanted.as_str()) && found.len() < MAX_VALUES {
            found.push(value.to_vec());
        }
    })?;
    Ok((found, code))
}

/// Walks the messages that answer a search with message id `id`: `each` gets every value of
/// every attribute of every entry (the name lower-cased); returns the SearchResultDone code.
fn walk_search(
    bytes: &[u8],
    id: u32,
    mut each: impl FnMut(&str, &[u8]),
) -> Result<Option<i64>, LdapError> {
    let mut seen = false;
    let mut messages = Reader::new(bytes);
    while !messages.is_empty() {
        let mut message = messages.enter(SEQUENCE)?;
        let got = int(message.expect(INTEGER)?)?;
        if got != i64::from(id) {
            return Err(LdapError::MessageId {
                want: id.into(),
                got,
            });
        }
        let op = message.read()?;
        seen = true;
        match op.tag {
            ENTRY => {
                let mut entry = Reader::new(op.content);
                entry.expect(OCTET_STRING)?; // objectName
                let mut attributes = entry.enter(SEQUENCE)?;
                while !attributes.is_empty() {
                    let mut attribute = attributes.enter(SEQUENCE)?;
                    let name = String::from_utf8_lossy(attribute.expect(OCTET_STRING)?)
                        .to_ascii_lowercase();
                    let mut values = attribute.enter(SET)?;
                    while !values.is_empty() {
                        each(&name, values.expect(OCTET_STRING)?);
                    }
                }
            }
            DONE => {
                let mut done = Reader::new(op.content);
                return Ok(Some(int(done.expect(ENUMERATED)?)?));
            }
            // Search result references carry nothing we need.
            0x73 => {}
            other => return Err(LdapError::Operation(other)),
        }
    }
    if !seen {
        return Err(LdapError::Empty);
    }
    Ok(None)
}

/// An `ldap://host[:port]/DN?attribute` URL, as CRL distribution points name a CRL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LdapUrl {
    pub host: String,
    pub port: u16,
    pub dn: String,
    pub attribute: String,
}

impl LdapUrl {
    /// `None` when it is not an `ldap://` URL with a host (Active Directory's `ldap:///…`
    /// leaves the host to the client's domain).
    pub fn parse(text: &str) -> Option<LdapUrl> {
        let rest = text
            .get(..7)
            .filter(|s| s.eq_ignore_ascii_case("ldap://"))
            .and(text.get(7..))?;
        let (authority, rest) = rest.split_once('/').unwrap_or((rest, ""));
        let (host, port) = match authority.rsplit_once(':') {
            Some((host, port)) if !host.contains(':') || host.ends_with(']') => {
                (host, port.parse().ok()?)
            }
            _ => (authority, 389),
        };
        let host = host.trim_matches(['[', ']']);
        if host.is_empty() {
            return None;
        }
        let mut parts = rest.split('?');
        let dn = percent_decode(parts.next().unwrap_or_default())?;
        let attribute = parts.next().filter(|a| !a.is_empty()).map_or_else(
            || "certificateRevocationList;binary".to_string(),
            str::to_string,
        );
        Some(LdapUrl {
            host: host.to_string(),
            port,
            dn,
            attribute,
        })
    }
}

/// `%20`-style escapes decoded; `None` for a bad escape or text that is not UTF-8.
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// What the root DSE says about the directory.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RootDse {
    pub naming_contexts: Vec<String>,
    pub ldap_versions: Vec<String>,
    pub sasl_mechanisms: Vec<String>,
    pub starttls: bool,
    pub vendor: Option<String>,
    /// The SearchResultDone code; 0 is success.
    pub result_code: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LdapError {
    #[error("not BER: {0}")]
    Ber(#[from] BerError),
    #[error("reply to message {got}, not {want}")]
    MessageId { want: i64, got: i64 },
    #[error("operation tag 0x{0:02x} is not a search result")]
    Operation(u8),
    #[error("no search result in the reply")]
    Empty,
}

const ENTRY: u8 = application(4);
const DONE: u8 = application(5);
/// At most this many values are kept per attribute.
const MAX_VALUES: usize = 32;

/// Parses the messages that answer `root_dse_request(id)`: entries then a SearchResultDone.
/// `bytes` may hold several LDAPMessages back to back.
pub fn parse_root_dse(bytes: &[u8], id: u32) -> Result<RootDse, LdapError> {
    let mut values: Vec<(String, Vec<String>)> = Vec::new();
    let code = walk_search(bytes, id, |name, value| {
        match values.iter_mut().find(|(n, _)| n == name) {
            Some((_, list)) if list.len() < MAX_VALUES => list.push(super::text_head(value, 256)),
            Some(_) => {}
            None => values.push((name.to_string(), vec![super::text_head(value, 256)])),
        }
    })?;
    let mut dse = RootDse {
        result_code: code,
        ..RootDse::default()
    };
    for (name, list) in values {
        match name.as_str() {
            "namingcontexts" => dse.naming_contexts = list,
            "supportedldapversion" => dse.ldap_versions = list,
            "supportedsaslmechanisms" => dse.sasl_mechanisms = list,
            "supportedextension" => dse.starttls = list.iter().any(|v| v == STARTTLS_OID),
            "vendorname" => dse.vendor = list.into_iter().next(),
            _ => {}
        }
    }
    Ok(dse)
}

/// The largest message a root DSE answer needs; a frame that claims more is not one.
pub const MAX_MESSAGE: usize = 64 * 1024;

/// The length of the messages up to and including a SearchResultDone, once it has arrived;
/// all of the buffer when it is not BER at all or claims more than `MAX_MESSAGE` (the parse
/// then says why): frames the reply to `root_dse_request` on a stream.
pub fn search_len(buf: &[u8]) -> Option<usize> {
    search_len_up_to(buf, MAX_MESSAGE)
}

/// `search_len` for messages up to `max` bytes (a CRL read from a directory is larger than a
/// root DSE).
pub fn search_len_up_to(buf: &[u8], max: usize) -> Option<usize> {
    let mut offset = 0;
    loop {
        let rest = buf.get(offset..).unwrap_or_default();
        match super::ber::frame_len(rest) {
            Ok(Some(len)) if len > max => return Some(buf.len()),
            Ok(Some(len)) if offset + len <= buf.len() => {
                let message = rest.get(..len).unwrap_or_default();
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

/// Whether one message is a SearchResultDone (or not a message at all, which ends the read).
fn is_search_done(message: &[u8]) -> bool {
    let Ok(mut inner) = Reader::new(message).enter(SEQUENCE) else {
        return true;
    };
    inner.read().is_ok() && inner.peek_tag() == Some(DONE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ldap_crl_urls_parse() {
        let url = LdapUrl::parse(
            "ldap://127.0.0.1:13389/cn=Lab%20Root%20CA%2Cdc=lab%2Cdc=test?certificateRevocationList;binary",
        )
        .unwrap();
        assert_eq!(url.host, "127.0.0.1");
        assert_eq!(url.port, 13389);
        assert_eq!(url.dn, "cn=Lab Root CA,dc=lab,dc=test");
        assert_eq!(url.attribute, "certificateRevocationList;binary");
        let plain = LdapUrl::parse("LDAP://dir.lab.test/cn=CA").unwrap();
        assert_eq!(
            (plain.port, plain.attribute.as_str()),
            (389, "certificateRevocationList;binary")
        );
        for bad in [
            "ldap:///CN=CDP,DC=corp?certificateRevocationList",
            "http://x/",
            "ldap://h/%zz",
            "ldap://h:x/",
        ] {
            assert_eq!(LdapUrl::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn an_attribute_search_reads_binary_values() {
        let entry = tlv(
            ENTRY,
            &cat(&[
                &tlv(OCTET_STRING, b"cn=CA"),
                &tlv(
                    SEQUENCE,
                    &tlv(
                        SEQUENCE,
                        &cat(&[
                            &tlv(OCTET_STRING, b"certificateRevocationList;binary"),
                            &tlv(SET, &tlv(OCTET_STRING, &[0x30, 0x00])),
                        ]),
                    ),
                ),
            ]),
        );
        let done = tlv(
            DONE,
            &cat(&[
                &tlv(ENUMERATED, &[0]),
                &tlv(OCTET_STRING, b""),
                &tlv(OCTET_STRING, b""),
            ]),
        );
        let reply = cat(&[
            &tlv(SEQUENCE, &cat(&[&uint(7), &entry])),
            &tlv(SEQUENCE, &cat(&[&uint(7), &done])),
        ]);
        let (values, code) =
            parse_attribute(&reply, 7, "certificateRevocationList;binary").unwrap();
        assert_eq!(values, [vec![0x30, 0x00]]);
        assert_eq!(code, Some(0));
        assert!(parse_attribute(&reply, 8, "x").is_err());
        assert!(parse_attribute(&reply[..10], 7, "x").is_err());
        assert!(!attribute_request(7, "cn=CA", "certificateRevocationList;binary").is_empty());
    }

    #[test]
    fn the_search_is_framed_and_a_giant_frame_ends_it() {
        use crate::wire::fixtures::SLAPD_ROOT_DSE;
        assert_eq!(search_len(SLAPD_ROOT_DSE), Some(SLAPD_ROOT_DSE.len()));
        assert_eq!(
            search_len(&SLAPD_ROOT_DSE[..10]),
            None,
            "waits for the rest"
        );
        // A length field claiming 4 GiB is not waited for.
        assert_eq!(search_len(b"\x30\x84\xff\xff\xff\xff"), Some(6));
        assert_eq!(search_len(b"\xff\xff"), Some(2), "not BER");
    }

    fn attribute(name: &str, values: &[&str]) -> Vec<u8> {
        let vals: Vec<u8> = values
            .iter()
            .flat_map(|v| tlv(OCTET_STRING, v.as_bytes()))
            .collect();
        tlv(
            SEQUENCE,
            &cat(&[&tlv(OCTET_STRING, name.as_bytes()), &tlv(SET, &vals)]),
        )
    }

    #[test]
    fn request_is_a_base_search_of_the_root() {
        let req = root_dse_request(7);
        let mut message = Reader::new(&req).enter(SEQUENCE).unwrap();
        assert_eq!(int(message.expect(INTEGER).unwrap()), Ok(7));
        let mut search = message.enter(application(3)).unwrap();
        assert_eq!(search.expect(OCTET_STRING), Ok(&b""[..]));
        assert_eq!(search.expect(ENUMERATED), Ok(&[0u8][..]));
    }

    #[test]
    fn entry_and_done_parse() {
        let attrs = cat(&[
            &attribute("namingContexts", &["dc=lab,dc=test"]),
            &attribute(
                "supportedExtension",
                &[STARTTLS_OID, "1.3.6.1.4.1.4203.1.11.1"],
            ),
            &attribute("supportedLDAPVersion", &["3"]),
        ]);
        let entry = tlv(
            ENTRY,
            &cat(&[&tlv(OCTET_STRING, b""), &tlv(SEQUENCE, &attrs)]),
        );
        let done = tlv(
            DONE,
            &cat(&[
                &tlv(ENUMERATED, &[0]),
                &tlv(OCTET_STRING, b""),
                &tlv(OCTET_STRING, b""),
            ]),
        );
        let bytes = cat(&[
            &tlv(SEQUENCE, &cat(&[&uint(3), &entry])),
            &tlv(SEQUENCE, &cat(&[&uint(3), &done])),
        ]);
        let dse = parse_root_dse(&bytes, 3).unwrap();
        assert_eq!(dse.naming_contexts, ["dc=lab,dc=test"]);
        assert!(dse.starttls);
        assert_eq!(dse.ldap_versions, ["3"]);
        assert_eq!(dse.result_code, Some(0));
        assert_eq!(
            parse_root_dse(&bytes, 4),
            Err(LdapError::MessageId { want: 4, got: 3 })
        );
    }

    #[test]
    fn http_on_the_ldap_port_is_not_ldap() {
        assert!(parse_root_dse(b"HTTP/1.1 400 Bad Request\r\n\r\n", 1).is_err());
        assert_eq!(parse_root_dse(b"", 1), Err(LdapError::Empty));
    }

    #[test]
    fn slapd_root_dse_fixture() {
        use crate::wire::fixtures::{SLAPD_ROOT_DSE, survives};
        let dse = parse_root_dse(SLAPD_ROOT_DSE, 1).unwrap();
        assert_eq!(dse.naming_contexts, ["dc=lab,dc=test"]);
        assert_eq!(dse.ldap_versions, ["3"]);
        assert!(dse.starttls);
        assert_eq!(dse.result_code, Some(0));
        survives(SLAPD_ROOT_DSE, |b| parse_root_dse(b, 1));
    }
}
