//! SNMP requests. The probe uses SNMPv3 engine discovery (RFC 3414 §4): an unauthenticated
//! GET with an empty engine id that every v3-capable agent answers with a Report, so an agent
//! is found without knowing any community or user. Then a GET of the system group: v1/v2c
//! (RFC 1157, RFC 3416) is encoded here, since a community GET is a few dozen bytes of BER
//! and going through our own UDP exchange keeps it paced, checked for its source and light
//! at fleet scale; v3 with USM keys goes through `async-snmp`.

use super::ber::{
    BerError, INTEGER, OCTET_STRING, OID, Reader, SEQUENCE, cat, context, int, oid_text, tlv, uint,
};

/// msgFlags: reportable, no auth, no priv.
const REPORTABLE: u8 = 0x04;
/// msgSecurityModel: USM.
const USM: u64 = 3;
/// The largest message we accept back, as told to the agent.
const MAX_SIZE: u64 = 65_507;

/// An SNMPv3 discovery request with the given message and request ids.
pub fn discovery_request(msg_id: u32, request_id: u32) -> Vec<u8> {
    let header = tlv(
        SEQUENCE,
        &cat(&[
            &uint(msg_id.into()),
            &uint(MAX_SIZE),
            &tlv(OCTET_STRING, &[REPORTABLE]),
            &uint(USM),
        ]),
    );
    let empty = tlv(OCTET_STRING, &[]);
    let usm = tlv(
        SEQUENCE,
        &cat(&[&empty, &uint(0), &uint(0), &empty, &empty, &empty]),
    );
    let pdu = tlv(
        context(0),
        &cat(&[
            &uint(request_id.into()),
            &uint(0),
            &uint(0),
            &tlv(SEQUENCE, &[]),
        ]),
    );
    let scoped = tlv(SEQUENCE, &cat(&[&empty, &empty, &pdu]));
    tlv(
        SEQUENCE,
        &cat(&[&uint(3), &header, &tlv(OCTET_STRING, &usm), &scoped]),
    )
}

/// The community versions: the message's version field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Community {
    V1 = 0,
    V2c = 1,
}

/// sysDescr.0, sysObjectID.0 and sysName.0: what the probe asks for.
pub const SYS_DESCR: [u32; 9] = [1, 3, 6, 1, 2, 1, 1, 1, 0];
pub const SYS_OBJECT_ID: [u32; 9] = [1, 3, 6, 1, 2, 1, 1, 2, 0];
pub const SYS_NAME: [u32; 9] = [1, 3, 6, 1, 2, 1, 1, 5, 0];

const GET_REQUEST: u8 = 0xa0;
const NULL: u8 = 0x05;
/// The SNMPv2 exceptions a varbind can carry instead of a value.
const NO_SUCH_OBJECT: u8 = 0x80;
/// The longest value text kept from a reply.
const MAX_TEXT: usize = 256;

/// BER of an OBJECT IDENTIFIER (at least two arcs, the first at most 2).
fn oid(arcs: &[u32]) -> Vec<u8> {
    let mut content = Vec::new();
    let (first, rest) = match arcs {
        [a, b, rest @ ..] => (u64::from(*a) * 40 + u64::from(*b), rest),
        _ => (0, &[][..]),
    };
    for arc in std::iter::once(first).chain(rest.iter().map(|a| u64::from(*a))) {
        let mut groups = vec![(arc & 0x7f) as u8];
        let mut rest = arc >> 7;
        while rest > 0 {
            groups.push(0x80 | (rest & 0x7f) as u8);
            rest >>= 7;
        }
        content.extend(groups.iter().rev());
    }
    tlv(OID, &content)
}

/// A v1/v2c GetRequest for `oids` with the given community and request id.
pub fn community_get(
    version: Community,
    community: &[u8],
    request_id: u32,
    oids: &[&[u32]],
) -> Vec<u8> {
    let varbinds: Vec<Vec<u8>> = oids
        .iter()
        .map(|arcs| tlv(SEQUENCE, &cat(&[&oid(arcs), &tlv(NULL, &[])])))
        .collect();
    let list: Vec<&[u8]> = varbinds.iter().map(Vec::as_slice).collect();
    let pdu = tlv(
        GET_REQUEST,
        &cat(&[
            &uint(request_id.into()),
            &uint(0),
            &uint(0),
            &tlv(SEQUENCE, &cat(&list)),
        ]),
    );
    tlv(
        SEQUENCE,
        &cat(&[&uint(version as u64), &tlv(OCTET_STRING, community), &pdu]),
    )
}

/// What a v1/v2c agent answered to `community_get`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetResponse {
    pub request_id: i64,
    /// 0 when the agent had no error.
    pub error_status: i64,
    /// Each OID asked, with its value as text (`None` for noSuchObject and the like).
    pub values: Vec<(String, Option<String>)>,
}

impl GetResponse {
    /// The value given for the OID `arcs`, when the agent gave one.
    pub fn value_of(&self, arcs: &[u32]) -> Option<String> {
        let name: Vec<String> = arcs.iter().map(u32::to_string).collect();
        let name = name.join(".");
        self.values
            .iter()
            .find(|(oid, _)| *oid == name)
            .and_then(|(_, value)| value.clone())
    }
}

/// Parses a v1/v2c GetResponse.
pub fn parse_get_response(bytes: &[u8]) -> Result<GetResponse, SnmpError> {
    let mut message = Reader::new(bytes).enter(SEQUENCE)?;
    let version = int(message.expect(INTEGER)?)?;
    if version != 0 && version != 1 {
        return Err(SnmpError::Version(version));
    }
    message.expect(OCTET_STRING)?; // the community, echoed
    let pdu = message.read()?;
    if pdu.tag != RESPONSE {
        return Err(SnmpError::Pdu(pdu.tag));
    }
    let mut fields = Reader::new(pdu.content);
    let request_id = int(fields.expect(INTEGER)?)?;
    let error_status = int(fields.expect(INTEGER)?)?;
    fields.expect(INTEGER)?; // error-index
    let mut list = fields.enter(SEQUENCE)?;
    let mut values = Vec::new();
    // Bounded by the datagram: each varbind takes bytes, and we asked for three.
    while !list.is_empty() && values.len() < 16 {
        let mut varbind = list.enter(SEQUENCE)?;
        let name = oid_text(varbind.expect(OID)?)?;
        let value = varbind.read()?;
        let text = match value.tag {
            OCTET_STRING => Some(
                String::from_utf8_lossy(value.content)
                    .chars()
                    .filter(|c| !c.is_control())
                    .take(MAX_TEXT)
                    .collect(),
            ),
            OID => Some(oid_text(value.content)?),
            t if t >= NO_SUCH_OBJECT => None,
            _ => None,
        };
        values.push((name, text));
    }
    Ok(GetResponse {
        request_id,
        error_status,
        values,
    })
}

/// PDU tags a discovery can get back.
const RESPONSE: u8 = 0xa2;
const REPORT: u8 = 0xa8;

/// What an agent said to a discovery request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discovery {
    pub msg_id: i64,
    /// snmpEngineID, at most 32 bytes by RFC 3411 (longer ids are cut for display).
    pub engine_id: Vec<u8>,
    pub engine_boots: i64,
    pub engine_time: i64,
    /// The first variable of the Report (usmStatsUnknownEngineIDs.0 for a normal agent).
    pub report_oid: Option<String>,
}

impl Discovery {
    /// The IANA enterprise number in an RFC 3411 engine id, and its owner when well known.
    pub fn enterprise(&self) -> Option<(u32, &'static str)> {
        let head: [u8; 4] = self.engine_id.get(..4)?.try_into().ok()?;
        if head[0] & 0x80 == 0 {
            return None;
        }
        let number = u32::from_be_bytes(head) & 0x7fff_ffff;
        let owner = match number {
            9 => "Cisco",
            11 => "HP",
            641 => "Lexmark",
            1248 => "Epson",
            1602 => "Canon",
            2435 => "Brother",
            8072 => "net-snmp",
            _ => "",
        };
        Some((number, owner))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SnmpError {
    #[error("not BER: {0}")]
    Ber(#[from] BerError),
    #[error("SNMP version {0}, not 3")]
    Version(i64),
    #[error("PDU tag 0x{0:02x} is neither a Report nor a Response")]
    Pdu(u8),
    #[error("the scoped PDU is encrypted")]
    Encrypted,
    #[error("a reply to message {got}, not to ours ({want})")]
    MessageId { want: u32, got: i64 },
}

/// Keeps a discovery answer only when it answers message `msg_id`.
pub fn answers(found: Discovery, msg_id: u32) -> Result<Discovery, SnmpError> {
    if found.msg_id == i64::from(msg_id) {
        Ok(found)
    } else {
        Err(SnmpError::MessageId {
            want: msg_id,
            got: found.msg_id,
        })
    }
}

/// Parses the agent's answer to `discovery_request`.
pub fn parse_discovery(bytes: &[u8]) -> Result<Discovery, SnmpError> {
    let mut message = Reader::new(bytes).enter(SEQUENCE)?;
    let version = int(message.expect(INTEGER)?)?;
    if version != 3 {
        return Err(SnmpError::Version(version));
    }
    let mut header = message.enter(SEQUENCE)?;
    let msg_id = int(header.expect(INTEGER)?)?;
    let security = message.expect(OCTET_STRING)?;
    let mut usm = Reader::new(security).enter(SEQUENCE)?;
    let engine_id = usm.expect(OCTET_STRING)?;
    let engine_boots = int(usm.expect(INTEGER)?)?;
    let engine_time = int(usm.expect(INTEGER)?)?;
    if message.peek_tag() == Some(OCTET_STRING) {
        return Err(SnmpError::Encrypted);
    }
    let mut scoped = message.enter(SEQUENCE)?;
    scoped.expect(OCTET_STRING)?; // contextEngineID
    scoped.expect(OCTET_STRING)?; // contextName
    let pdu = scoped.read()?;
    if pdu.tag != REPORT && pdu.tag != RESPONSE {
        return Err(SnmpError::Pdu(pdu.tag));
    }
    let mut fields = Reader::new(pdu.content);
    fields.expect(INTEGER)?; // request-id
    fields.expect(INTEGER)?; // error-status
    fields.expect(INTEGER)?; // error-index
    let mut varbinds = fields.enter(SEQUENCE)?;
    let report_oid = match varbinds.is_empty() {
        true => None,
        false => Some(oid_text(varbinds.enter(SEQUENCE)?.expect(OID)?)?),
    };
    Ok(Discovery {
        msg_id,
        engine_id: engine_id.iter().take(32).copied().collect(),
        engine_boots,
        engine_time,
        report_oid,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn community_get_matches_hand_laid_bytes() {
        // RFC 1157 §4.1 layout: version 1 (v2c), community "public", GetRequest id 0x42.
        let want: &[u8] = &[
            0x30, 0x26, 0x02, 0x01, 0x01, 0x04, 0x06, b'p', b'u', b'b', b'l', b'i', b'c', 0xa0,
            0x19, 0x02, 0x01, 0x42, 0x02, 0x01, 0x00, 0x02, 0x01, 0x00, 0x30, 0x0e, 0x30, 0x0c,
            0x06, 0x08, 0x2b, 0x06, 0x01, 0x02, 0x01, 0x01, 0x01, 0x00, 0x05, 0x00,
        ];
        assert_eq!(
            community_get(Community::V2c, b"public", 0x42, &[&SYS_DESCR]),
            want
        );
        // Arcs over 127 take several bytes.
        assert_eq!(
            oid(&[1, 3, 6, 1, 4, 1, 641]),
            [0x06, 0x07, 0x2b, 6, 1, 4, 1, 0x85, 0x01]
        );
    }

    #[test]
    fn net_snmp_get_response_fixture() {
        let answer = parse_get_response(crate::wire::fixtures::SNMPD_GET_RESPONSE).unwrap();
        assert_eq!(answer.error_status, 0);
        assert_eq!(answer.values.len(), 3);
        assert_eq!(answer.values[0].0, "1.3.6.1.2.1.1.1.0");
        assert!(answer.values[0].1.as_deref().is_some_and(|d| !d.is_empty()));
        let ok = crate::wire::fixtures::survives(
            crate::wire::fixtures::SNMPD_GET_RESPONSE,
            parse_get_response,
        );
        assert_eq!(ok, 0, "no truncation of a response parses");
        // Our own request is not a response.
        let request = community_get(Community::V1, b"public", 7, &[&SYS_DESCR]);
        assert!(matches!(
            parse_get_response(&request),
            Err(SnmpError::Pdu(0xa0))
        ));
    }

    #[test]
    fn discovery_matches_net_snmp_bytes() {
        // Laid out by hand from RFC 3412 §6 and RFC 3414 §2.4 (message ids 0x1234 / 0x5678).
        let want: &[u8] = &[
            0x30, 0x3a, 0x02, 0x01, 0x03, // version 3
            0x30, 0x0f, 0x02, 0x02, 0x12, 0x34, 0x02, 0x03, 0x00, 0xff, 0xe3, 0x04, 0x01, 0x04,
            0x02, 0x01, 0x03, // header
            0x04, 0x10, 0x30, 0x0e, 0x04, 0x00, 0x02, 0x01, 0x00, 0x02, 0x01, 0x00, 0x04, 0x00,
            0x04, 0x00, 0x04, 0x00, // usm
            0x30, 0x12, 0x04, 0x00, 0x04, 0x00, 0xa0, 0x0c, 0x02, 0x02, 0x56, 0x78, 0x02, 0x01,
            0x00, 0x02, 0x01, 0x00, 0x30, 0x00, // scoped pdu
        ];
        assert_eq!(discovery_request(0x1234, 0x5678), want);
    }

    #[test]
    fn net_snmp_report_fixture() {
        let found = parse_discovery(crate::wire::fixtures::SNMPD_REPORT).unwrap();
        assert_eq!(found.msg_id, 0x1234);
        assert_eq!(found.enterprise(), Some((8072, "net-snmp")));
        assert_eq!(found.report_oid.as_deref(), Some("1.3.6.1.6.3.15.1.1.4.0"));
        assert!(found.engine_boots >= 1);
        let ok =
            crate::wire::fixtures::survives(crate::wire::fixtures::SNMPD_REPORT, parse_discovery);
        assert_eq!(ok, 0, "no truncation of a report parses");
    }
}
