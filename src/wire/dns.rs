//! DNS-SD over unicast mDNS (RFC 6762 §6.7 "legacy unicast"): queries sent from an ephemeral
//! port, which the responder answers straight back to, and the parse of what printers publish.
//! Lexmark printers publish `<name>._host-config._udp.local` TXT records whose strings are
//! "KEY value" pairs (SECUREMODE, PASSWORDSET, …); MVE reads them to learn a printer's security
//! state.

use hickory_proto::op::{Message, MessageType, OpCode, Query};
use hickory_proto::rr::{Name, RData, RecordType};

/// The DNS-SD meta-query: every service type the responder offers.
pub const SERVICES: &str = "_services._dns-sd._udp.local.";
/// Lexmark's security-capability service type.
pub const HOST_CONFIG: &str = "_host-config._udp.local.";

/// At most this many records of each kind are kept from one reply.
const MAX_ITEMS: usize = 64;

/// A standard query for `name`'s records of type `kind`, with a non-zero `id`.
pub fn query(id: u16, name: &str, kind: RecordType) -> Vec<u8> {
    let mut message = Message::new(id.max(1), MessageType::Query, OpCode::Query);
    if let Ok(name) = Name::from_ascii(name) {
        message.add_query(Query::query(name, kind));
    }
    // Encoding a query with one well-formed question cannot fail; an empty vector would only
    // make the probe read as silent.
    message.to_vec().unwrap_or_default()
}

/// A name as people read it: DNS-SD instance names hold spaces and parentheses, which the
/// master-file form would escape (`Lexmark\040CX725`).
pub fn readable(name: &Name) -> String {
    let mut text = name
        .iter()
        .map(|label| String::from_utf8_lossy(label).into_owned())
        .collect::<Vec<_>>()
        .join(".");
    if name.is_fqdn() {
        text.push('.');
    }
    text
}

/// A TXT query for a name taken from an answer.
pub fn txt_query_for(id: u16, name: &Name) -> Vec<u8> {
    let mut message = Message::new(id.max(1), MessageType::Query, OpCode::Query);
    message.add_query(Query::query(name.clone(), RecordType::TXT));
    message.to_vec().unwrap_or_default()
}

/// A PTR query (the common case).
pub fn ptr_query(id: u16, name: &str) -> Vec<u8> {
    query(id, name, RecordType::PTR)
}

/// An SRV record, reduced to what a report shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    pub instance: String,
    pub target: String,
    pub port: u16,
}

/// What one reply carried, from every section.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Answer {
    pub id: u16,
    pub is_response: bool,
    /// The owner names of the answer section's PTR records: what question the reply answers.
    pub answered: Vec<String>,
    /// PTR targets: service types for the meta-query, instance names for a type query.
    pub pointers: Vec<String>,
    /// The same targets as names, to query further without re-parsing text.
    pub pointer_names: Vec<Name>,
    pub services: Vec<Service>,
    /// Each TXT record: its owner name and its strings.
    pub texts: Vec<(String, Vec<String>)>,
}

impl Answer {
    /// Whether the answer section holds a PTR record for `name` (case-insensitive, with or
    /// without the final dot): an answer to the question asked, not a bare header.
    pub fn answers(&self, name: &str) -> bool {
        let name = name.trim_end_matches('.');
        self.answered
            .iter()
            .any(|owner| owner.trim_end_matches('.').eq_ignore_ascii_case(name))
    }

    /// The "KEY value" pairs of `_host-config._udp` TXT records, keys upper-cased.
    pub fn host_config(&self) -> Vec<(String, String)> {
        self.texts
            .iter()
            .filter(|(owner, _)| owner.to_ascii_lowercase().ends_with(HOST_CONFIG))
            .flat_map(|(_, strings)| strings.iter())
            .filter_map(|s| {
                let s = s.trim();
                let (key, value) = s
                    .split_once(' ')
                    .or_else(|| s.split_once('='))
                    .unwrap_or((s, ""));
                (!key.is_empty()).then(|| (key.to_ascii_uppercase(), value.trim().to_string()))
            })
            .take(MAX_ITEMS)
            .collect()
    }
}

#[derive(Debug, Clone, thiserror::Error)]
#[error("not a DNS message: {0}")]
pub struct DnsError(#[from] hickory_proto::serialize::binary::DecodeError);

/// Parses a reply. The id is reported, not required to match: some printers answer legacy
/// unicast queries with id 0 or without echoing the question.
pub fn parse_answer(bytes: &[u8]) -> Result<Answer, DnsError> {
    let message = Message::from_vec(bytes)?;
    let mut answer = Answer {
        id: message.metadata.id,
        // RFC 6762 §18.3, §18.11: a message with a non-zero OPCODE or RCODE is ignored.
        is_response: message.metadata.message_type == MessageType::Response
            && message.metadata.op_code == OpCode::Query
            && message.metadata.response_code == hickory_proto::op::ResponseCode::NoError,
        ..Answer::default()
    };
    // A PTR in class IN that is alive (a TTL of 0 is a "goodbye": the service is gone) and
    // points at a name, not the root.
    for record in message.answers.iter().take(MAX_ITEMS) {
        if let RData::PTR(ptr) = &record.data
            && record.dns_class == hickory_proto::rr::DNSClass::IN
            && record.ttl > 0
            && !ptr.0.is_root()
        {
            answer.answered.push(readable(&record.name));
        }
    }
    let records = message.answers.iter().chain(&message.additionals);
    for record in records {
        let owner = readable(&record.name);
        match &record.data {
            RData::PTR(ptr) if answer.pointers.len() < MAX_ITEMS => {
                let target = readable(&ptr.0);
                if !answer.pointers.contains(&target) {
                    answer.pointers.push(target);
                    answer.pointer_names.push(ptr.0.clone());
                }
            }
            RData::SRV(srv) if answer.services.len() < MAX_ITEMS => answer.services.push(Service {
                instance: owner,
                target: readable(&srv.target),
                port: srv.port,
            }),
            RData::TXT(txt) if answer.texts.len() < MAX_ITEMS => {
                let strings = txt
                    .txt_data
                    .iter()
                    .take(MAX_ITEMS)
                    .map(|s| super::text_head(s, 255))
                    .collect();
                answer.texts.push((owner, strings));
            }
            _ => {}
        }
    }
    Ok(answer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn services_query_bytes() {
        let q = ptr_query(0x4d56, SERVICES);
        assert_eq!(
            &q[..4],
            &[0x4d, 0x56, 0, 0],
            "id, standard query, no recursion"
        );
        assert_eq!(&q[4..12], &[0, 1, 0, 0, 0, 0, 0, 0]);
        assert_eq!(&q[12..22], b"\x09_services");
        assert_eq!(&q[q.len() - 5..], &[0, 0, 12, 0, 1]);
    }

    #[test]
    fn id_is_never_zero() {
        assert_eq!(&ptr_query(0, SERVICES)[..2], &[0, 1]);
    }

    #[test]
    fn host_config_pairs_split_on_space_or_equals() {
        let answer = Answer {
            texts: vec![
                (
                    "Lexmark X._host-config._udp.local.".into(),
                    vec!["SECUREMODE 1".into(), "macuaa=00:11".into(), "".into()],
                ),
                (
                    "Lexmark X._ipp._tcp.local.".into(),
                    vec!["ty=Lexmark".into()],
                ),
            ],
            ..Answer::default()
        };
        assert_eq!(
            answer.host_config(),
            [
                ("SECUREMODE".to_string(), "1".to_string()),
                ("MACUAA".into(), "00:11".into())
            ]
        );
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(parse_answer(b"").is_err());
        assert!(parse_answer(&[0xff; 11]).is_err());
        assert!(parse_answer(b"HTTP/1.1 400 Bad Request\r\n\r\n").is_err());
    }

    #[test]
    fn avahi_fixtures() {
        use crate::wire::fixtures::{AVAHI_PTR, AVAHI_SERVICES, AVAHI_TXT, survives};
        let services = parse_answer(AVAHI_SERVICES).unwrap();
        assert!(services.is_response);
        assert_eq!(
            services.pointers,
            ["_host-config._udp.local.", "_ipp._tcp.local."]
        );
        let ptr = parse_answer(AVAHI_PTR).unwrap();
        assert_eq!(
            ptr.pointers,
            ["Lexmark CX725 (printer-lab)._host-config._udp.local."]
        );
        let txt = parse_answer(AVAHI_TXT).unwrap();
        assert_eq!(
            txt.host_config(),
            [
                ("SECUREMODE".to_string(), "1".to_string()),
                ("PASSWORDSET".into(), "1".into()),
                ("NEWPASSWORDTYPE".into(), "2".into()),
                ("MACUAA".into(), "00:21:b7:aa:bb:cc".into()),
            ]
        );
        for fixture in [AVAHI_SERVICES, AVAHI_PTR, AVAHI_TXT] {
            survives(fixture, parse_answer);
        }
    }
}
