//! Firebird's wire protocol: the `op_connect` packet every client sends first (XDR, big-endian
//! 32-bit words). The server answers accept or reject before any login, so nothing is
//! authenticated and no database is opened. Hand-written: the Firebird crates (rsfbclient)
//! link the native client or attach to a database; nothing maintained sends `op_connect`
//! alone.

const OP_CONNECT: u32 = 1;
const OP_ACCEPT: u32 = 3;
const OP_REJECT: u32 = 4;
const OP_RESPONSE: u32 = 9;
const OP_ATTACH: u32 = 19;
const OP_CONT_AUTH: u32 = 92;
const OP_ACCEPT_DATA: u32 = 94;
const OP_COND_ACCEPT: u32 = 98;
const CONNECT_VERSION3: u32 = 3;
const ARCH_GENERIC: u32 = 1;
const PTYPE_RPC: u32 = 2;
const PTYPE_LAZY_SEND: u32 = 5;
/// User identification tags.
const CNCT_USER: u8 = 1;
const CNCT_HOST: u8 = 4;
const CNCT_USER_VERIFICATION: u8 = 6;
/// Protocol versions offered, newest with the highest weight: 10, then 11 to 13 (which carry
/// the 0x8000 flag on the wire).
const PROTOCOLS: [(u32, u32); 4] = [(10, 2), (0x800b, 4), (0x800c, 6), (0x800d, 8)];

fn word(out: &mut Vec<u8>, value: u32) {
    out.extend_from_slice(&value.to_be_bytes());
}

/// XDR opaque: length, bytes, zero padding to 4.
fn opaque(out: &mut Vec<u8>, bytes: &[u8]) {
    word(out, bytes.len() as u32);
    out.extend_from_slice(bytes);
    out.resize(out.len() + (4 - bytes.len() % 4) % 4, 0);
}

/// The `op_connect` for a database path that names no real file.
pub fn connect_request() -> Vec<u8> {
    let mut user_id = Vec::new();
    for (tag, value) in [
        (CNCT_USER, &b"mve-audit"[..]),
        (CNCT_HOST, b"mve-audit"),
        (CNCT_USER_VERIFICATION, b""),
    ] {
        user_id.push(tag);
        user_id.push(value.len() as u8);
        user_id.extend_from_slice(value);
    }
    let mut out = Vec::with_capacity(128);
    for value in [OP_CONNECT, OP_ATTACH, CONNECT_VERSION3, ARCH_GENERIC] {
        word(&mut out, value);
    }
    opaque(&mut out, b"mve-audit-probe");
    word(&mut out, PROTOCOLS.len() as u32);
    opaque(&mut out, &user_id);
    for (version, weight) in PROTOCOLS {
        for value in [version, ARCH_GENERIC, PTYPE_RPC, PTYPE_LAZY_SEND, weight] {
            word(&mut out, value);
        }
    }
    out
}

/// The server's first answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// op_accept, op_accept_data or op_cond_accept, with the protocol version chosen.
    Accepted { op: u32, protocol: u32 },
    /// op_cont_auth: Firebird 3+ chose a protocol and asks the client to authenticate.
    AuthRequested,
    /// op_reject: no offered protocol is acceptable.
    Rejected,
    /// op_response: an error status instead of an answer.
    Response,
}

impl Answer {
    /// The chosen protocol version without the 0x8000 flag.
    pub fn protocol_number(&self) -> Option<u32> {
        match self {
            Answer::Accepted { protocol, .. } => Some(protocol & 0x7fff),
            _ => None,
        }
    }

    pub fn op_name(&self) -> &'static str {
        match self {
            Answer::Accepted { op: OP_ACCEPT, .. } => "op_accept",
            Answer::Accepted {
                op: OP_ACCEPT_DATA, ..
            } => "op_accept_data",
            Answer::Accepted { .. } => "op_cond_accept",
            Answer::AuthRequested => "op_cont_auth",
            Answer::Rejected => "op_reject",
            Answer::Response => "op_response",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FirebirdError {
    #[error("shorter than one XDR word")]
    Short,
    #[error("operation {0} is not an answer to op_connect")]
    Operation(u32),
}

fn read_word(bytes: &[u8], index: usize) -> Option<u32> {
    let chunk = bytes.get(index * 4..index * 4 + 4)?;
    Some(u32::from_be_bytes(chunk.try_into().ok()?))
}

/// Parses the answer to `connect_request`.
pub fn parse_answer(bytes: &[u8]) -> Result<Answer, FirebirdError> {
    let op = read_word(bytes, 0).ok_or(FirebirdError::Short)?;
    match op {
        OP_ACCEPT | OP_ACCEPT_DATA | OP_COND_ACCEPT => {
            let protocol = read_word(bytes, 1).ok_or(FirebirdError::Short)?;
            Ok(Answer::Accepted { op, protocol })
        }
        OP_CONT_AUTH => Ok(Answer::AuthRequested),
        OP_REJECT => Ok(Answer::Rejected),
        OP_RESPONSE => Ok(Answer::Response),
        other => Err(FirebirdError::Operation(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_layout() {
        let req = connect_request();
        assert_eq!(
            &req[..16],
            &[0, 0, 0, 1, 0, 0, 0, 19, 0, 0, 0, 3, 0, 0, 0, 1]
        );
        assert_eq!(req.len() % 4, 0);
        assert_eq!(&req[16..20], &[0, 0, 0, 15]);
        assert_eq!(&req[20..35], b"mve-audit-probe");
    }

    #[test]
    fn answers_parse() {
        let accept = [0, 0, 0, 3, 0, 0, 0x80, 0x0d, 0, 0, 0, 1, 0, 0, 0, 5];
        let answer = parse_answer(&accept).unwrap();
        assert_eq!(answer.protocol_number(), Some(13));
        assert_eq!(answer.op_name(), "op_accept");
        assert_eq!(parse_answer(&[0, 0, 0, 4]), Ok(Answer::Rejected));
        assert_eq!(
            parse_answer(&[0, 0, 0, 92, 0, 0, 0, 0]),
            Ok(Answer::AuthRequested)
        );
        assert_eq!(parse_answer(&[0, 0, 0, 3, 0]), Err(FirebirdError::Short));
        assert_eq!(
            parse_answer(b"HTTP"),
            Err(FirebirdError::Operation(0x4854_5450))
        );
        assert_eq!(parse_answer(&[]), Err(FirebirdError::Short));
    }

    #[test]
    fn firebird3_fixture() {
        use crate::wire::fixtures::{FIREBIRD_ANSWER, survives};
        assert_eq!(parse_answer(FIREBIRD_ANSWER), Ok(Answer::AuthRequested));
        survives(FIREBIRD_ANSWER, parse_answer);
    }
}
