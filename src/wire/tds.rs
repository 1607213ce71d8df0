//! SQL Server's TDS PRELOGIN (MS-TDS §2.2.6.5): the first message of every connection. The
//! server answers with its version and encryption mode before any login, so no credential is
//! needed. Hand-written: the TDS crate (tiberius) drives a whole login and exposes no
//! PRELOGIN on its own.

/// Packet types.
const PRELOGIN: u8 = 0x12;
const TABULAR_RESULT: u8 = 0x04;
/// Option tokens.
const VERSION: u8 = 0x00;
const ENCRYPTION: u8 = 0x01;
const INSTOPT: u8 = 0x02;
const THREADID: u8 = 0x03;
const MARS: u8 = 0x04;
const TERMINATOR: u8 = 0xff;
/// Our encryption request: ENCRYPT_OFF ("encryption available but off").
const ENCRYPT_OFF: u8 = 0x00;

/// A PRELOGIN packet announcing client version 0.0.0 and asking for no encryption.
pub fn prelogin_request() -> Vec<u8> {
    let options: [(u8, &[u8]); 5] = [
        (VERSION, &[0, 0, 0, 0, 0, 0]),
        (ENCRYPTION, &[ENCRYPT_OFF]),
        (INSTOPT, &[0]),
        (THREADID, &[0, 0, 0, 0]),
        (MARS, &[0]),
    ];
    let table_len = options.len() * 5 + 1;
    let mut table = Vec::with_capacity(table_len);
    let mut data = Vec::new();
    for (token, value) in options {
        let offset = (table_len + data.len()) as u16;
        table.push(token);
        table.extend_from_slice(&offset.to_be_bytes());
        table.extend_from_slice(&(value.len() as u16).to_be_bytes());
        data.extend_from_slice(value);
    }
    table.push(TERMINATOR);
    let length = (8 + table.len() + data.len()) as u16;
    let mut packet = vec![PRELOGIN, 0x01];
    packet.extend_from_slice(&length.to_be_bytes());
    packet.extend_from_slice(&[0, 0, 1, 0]); // SPID, packet id, window
    packet.extend_from_slice(&table);
    packet.extend_from_slice(&data);
    packet
}

/// What the server said in its PRELOGIN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prelogin {
    pub packet_type: u8,
    /// major.minor.build
    pub version: Option<(u8, u8, u16)>,
    pub encryption: Option<u8>,
}

/// The length of the first TDS packet once all of it has arrived (its header states it):
/// frames the reply to `prelogin_request` on a stream.
pub fn packet_len(buf: &[u8]) -> Option<usize> {
    let len = usize::from(u16::from_be_bytes([*buf.get(2)?, *buf.get(3)?])).max(8);
    (buf.len() >= len).then_some(len)
}

impl Prelogin {
    /// Whether this is a server's answer, not some other TDS packet.
    pub fn is_response(&self) -> bool {
        self.packet_type == TABULAR_RESULT
    }

    pub fn version_text(&self) -> Option<String> {
        self.version
            .map(|(major, minor, build)| format!("{major}.{minor}.{build}"))
    }

    /// The encryption mode by MS-TDS name.
    pub fn encryption_text(&self) -> &'static str {
        match self.encryption {
            Some(0) => "ENCRYPT_OFF (login packet encrypted only)",
            Some(1) => "ENCRYPT_ON",
            Some(2) => "ENCRYPT_NOT_SUP",
            Some(3) => "ENCRYPT_REQ (encryption required)",
            Some(_) => "unknown",
            None => "not stated",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TdsError {
    #[error("shorter than a TDS header")]
    Short,
    #[error("packet type 0x{0:02x} is not a PRELOGIN answer")]
    PacketType(u8),
    #[error("the packet length {0} does not match what arrived")]
    Length(usize),
    #[error("an option points outside the packet")]
    Option,
    #[error("the option table has no terminator")]
    Unterminated,
}

/// Parses a PRELOGIN packet (the server's answer has type 0x04; a request, type 0x12, has the
/// same layout and is accepted so the public example packet can serve as a fixture).
pub fn parse_prelogin(bytes: &[u8]) -> Result<Prelogin, TdsError> {
    let &[packet_type, _, len_hi, len_lo, ..] = bytes.get(..8).ok_or(TdsError::Short)? else {
        return Err(TdsError::Short);
    };
    if packet_type != TABULAR_RESULT && packet_type != PRELOGIN {
        return Err(TdsError::PacketType(packet_type));
    }
    let length = usize::from(u16::from_be_bytes([len_hi, len_lo]));
    if length < 8 {
        return Err(TdsError::Length(length));
    }
    let payload = bytes.get(8..length).ok_or(TdsError::Length(length))?;
    let mut result = Prelogin {
        packet_type,
        version: None,
        encryption: None,
    };
    // Each option entry is 5 bytes; a payload of n bytes holds at most n/5 of them.
    for entry in payload.chunks(5) {
        let Some(&token) = entry.first() else { break };
        if token == TERMINATOR {
            return Ok(result);
        }
        let [_, o1, o2, l1, l2] = entry else {
            return Err(TdsError::Unterminated);
        };
        let offset = usize::from(u16::from_be_bytes([*o1, *o2]));
        let len = usize::from(u16::from_be_bytes([*l1, *l2]));
        let value = payload
            .get(offset..offset.checked_add(len).ok_or(TdsError::Option)?)
            .ok_or(TdsError::Option)?;
        match (token, value) {
            (VERSION, [major, minor, b1, b2, ..]) => {
                result.version = Some((*major, *minor, u16::from_be_bytes([*b1, *b2])));
            }
            (ENCRYPTION, [mode, ..]) => result.encryption = Some(*mode),
            _ => {}
        }
    }
    Err(TdsError::Unterminated)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The pre-login example of [MS-TDS] §4.1 "Pre-Login Request" (Microsoft Open
    /// Specifications), byte for byte.
    const MS_TDS_4_1: [u8; 47] = [
        0x12, 0x01, 0x00, 0x2f, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x1a, 0x00, 0x06, 0x01, 0x00,
        0x20, 0x00, 0x01, 0x02, 0x00, 0x21, 0x00, 0x01, 0x03, 0x00, 0x22, 0x00, 0x04, 0x04, 0x00,
        0x26, 0x00, 0x01, 0xff, 0x09, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0xb8, 0x0d, 0x00,
        0x00, 0x01,
    ];

    #[test]
    fn the_spec_example_parses() {
        let got = parse_prelogin(&MS_TDS_4_1).unwrap();
        assert_eq!(got.version, Some((9, 0, 0)));
        assert_eq!(got.encryption, Some(1));
        assert_eq!(got.encryption_text(), "ENCRYPT_ON");
    }

    #[test]
    fn our_request_has_the_spec_layout() {
        let req = prelogin_request();
        assert_eq!(&req[..2], &[0x12, 0x01]);
        assert_eq!(usize::from(u16::from_be_bytes([req[2], req[3]])), req.len());
        let parsed = parse_prelogin(&req).unwrap();
        assert_eq!(parsed.version, Some((0, 0, 0)));
        assert_eq!(parsed.encryption, Some(ENCRYPT_OFF));
    }

    #[test]
    fn a_server_answer_with_version_and_required_encryption() {
        // The spec example turned into an answer: type 0x04, SQL Server 16.0.1000, ENCRYPT_REQ.
        let mut answer = MS_TDS_4_1;
        answer[0] = 0x04;
        answer[34..40].copy_from_slice(&[16, 0, 0x03, 0xe8, 0, 0]);
        answer[40] = 3;
        let got = parse_prelogin(&answer).unwrap();
        assert_eq!(got.version_text().as_deref(), Some("16.0.1000"));
        assert_eq!(got.encryption, Some(3));
    }

    #[test]
    fn hostile_packets_are_errors() {
        let mut bad_offset = MS_TDS_4_1;
        bad_offset[10] = 0xff;
        let rows: &[(&[u8], TdsError)] = &[
            (&[0x04, 1, 0], TdsError::Short),
            (&[0x17, 3, 1, 0, 0, 0, 0, 0], TdsError::PacketType(0x17)),
            (&[0x04, 1, 0xff, 0xff, 0, 0, 1, 0], TdsError::Length(65535)),
            (&bad_offset, TdsError::Option),
            (&[0x04, 1, 0, 10, 0, 0, 1, 0, 0, 0], TdsError::Unterminated),
        ];
        for (bytes, want) in rows {
            assert_eq!(parse_prelogin(bytes), Err(*want), "{bytes:02x?}");
        }
    }

    #[test]
    fn every_truncation_of_the_spec_example_is_refused() {
        assert_eq!(
            crate::wire::fixtures::survives(&MS_TDS_4_1, parse_prelogin),
            0
        );
    }
}
