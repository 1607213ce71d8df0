//! SNMP requests. The probe uses SNMPv3 engine discovery (RFC 3414 §4): an unauthenticated
//! GET with an empty engine id that every v3-capable agent answers with a Report, so an agent
//! is found without knowing any community or user.

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
        engine_id: engine_id[..engine_id.len().min(32)].to_vec(),
        engine_boots,
        engine_time,
        report_oid,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
