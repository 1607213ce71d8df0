//! Kerberos AS-REQ (RFC 4120 §5.4.1) for a principal that does not exist: any KDC answers it
//! with a KRB-ERROR, which proves a KDC without a credential.
//!
//! Hand-written on `ber` rather than with `rasn-kerberos`, measured on this project's
//! machine (2 cores): `rasn-kerberos` brings 21 crates we do not otherwise build (chrono,
//! bitvec, snafu, uuid, itertools, nom, …), 30 s of clean release build and about 0.3 MB of
//! binary, for the four fields of one reply read here. It stays the test oracle instead (a
//! dev-dependency): it decodes our AS-REQ, and the fixtures captured from krb5kdc.

use crate::clock;

use super::ber::{
    BIT_STRING, BerError, GENERAL_STRING, GENERALIZED_TIME, INTEGER, Reader, SEQUENCE, application,
    cat, context, int, tlv, uint,
};

/// The client principal asked for; no realm should hold it.
pub const PROBE_PRINCIPAL: &str = "mve-audit-probe";
/// Used when the user names no realm: a KDC still answers, with WRONG_REALM.
pub const PLACEHOLDER_REALM: &str = "MVE-AUDIT.INVALID";

const PVNO: u64 = 5;
const AS_REQ: u64 = 10;
const NT_PRINCIPAL: u64 = 1;
const NT_SRV_INST: u64 = 2;
/// aes256-cts-hmac-sha1-96, aes128-cts-hmac-sha1-96, rc4-hmac.
const ETYPES: [u64; 3] = [18, 17, 23];

fn principal(name_type: u64, parts: &[&str]) -> Vec<u8> {
    let names: Vec<u8> = parts
        .iter()
        .flat_map(|p| tlv(GENERAL_STRING, p.as_bytes()))
        .collect();
    tlv(
        SEQUENCE,
        &cat(&[
            &tlv(context(0), &uint(name_type)),
            &tlv(context(1), &tlv(SEQUENCE, &names)),
        ]),
    )
}

/// An AS-REQ for `PROBE_PRINCIPAL@realm` asking for `krbtgt/realm`.
pub fn as_request(realm: &str, nonce: u32) -> Vec<u8> {
    let etypes: Vec<u8> = ETYPES.iter().flat_map(|&e| uint(e)).collect();
    let body = tlv(
        SEQUENCE,
        &cat(&[
            &tlv(context(0), &tlv(BIT_STRING, &[0, 0, 0, 0, 0])),
            &tlv(context(1), &principal(NT_PRINCIPAL, &[PROBE_PRINCIPAL])),
            &tlv(context(2), &tlv(GENERAL_STRING, realm.as_bytes())),
            &tlv(context(3), &principal(NT_SRV_INST, &["krbtgt", realm])),
            &tlv(context(5), &tlv(GENERALIZED_TIME, b"20370913024805Z")),
            // RFC 4120 says UInt32, but MIT's KDC decodes the nonce as a signed 32-bit value
            // and drops larger ones ("ASN.1 value too large"): keep it within 31 bits.
            &tlv(context(7), &uint((nonce & 0x7fff_ffff).into())),
            &tlv(context(8), &tlv(SEQUENCE, &etypes)),
        ]),
    );
    tlv(
        application(10),
        &tlv(
            SEQUENCE,
            &cat(&[
                &tlv(context(1), &uint(PVNO)),
                &tlv(context(2), &uint(AS_REQ)),
                &tlv(context(4), &body),
            ]),
        ),
    )
}

/// What a KDC answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KdcReply {
    Error(KrbError),
    /// An AS-REP: the principal exists and needs no pre-authentication (unexpected for ours).
    AsRep,
}

/// The fields of a KRB-ERROR (RFC 4120 §5.9.1) the audit reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KrbError {
    pub error_code: i64,
    pub realm: String,
    /// The KDC's clock as seconds since the Unix epoch.
    pub server_time: i64,
    pub text: Option<String>,
}

impl KrbError {
    /// The RFC 4120 name of the error code.
    pub fn code_name(&self) -> &'static str {
        match self.error_code {
            6 => "KDC_ERR_C_PRINCIPAL_UNKNOWN",
            7 => "KDC_ERR_S_PRINCIPAL_UNKNOWN",
            14 => "KDC_ERR_ETYPE_NOSUPP",
            18 => "KDC_ERR_CLIENT_REVOKED",
            24 => "KDC_ERR_PREAUTH_FAILED",
            25 => "KDC_ERR_PREAUTH_REQUIRED",
            37 => "KRB_AP_ERR_SKEW",
            60 => "KRB_ERR_GENERIC",
            68 => "KDC_ERR_WRONG_REALM",
            _ => "other",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KerberosError {
    #[error("not BER: {0}")]
    Ber(#[from] BerError),
    #[error("application tag 0x{0:02x} is not a KRB-ERROR or AS-REP")]
    Message(u8),
    #[error("bad KerberosTime")]
    Time,
    #[error("missing field [{0}]")]
    Missing(u8),
}

const KRB_ERROR: u8 = application(30);
const AS_REP: u8 = application(11);

/// Parses a KDC's reply to `as_request`.
pub fn parse_reply(bytes: &[u8]) -> Result<KdcReply, KerberosError> {
    let message = Reader::new(bytes).read()?;
    match message.tag {
        AS_REP => return Ok(KdcReply::AsRep),
        KRB_ERROR => {}
        other => return Err(KerberosError::Message(other)),
    }
    let mut fields = Reader::new(message.content).enter(SEQUENCE)?;
    let (mut code, mut realm, mut stime, mut text) = (None, None, None, None);
    while !fields.is_empty() {
        let field = fields.read()?;
        let mut inner = Reader::new(field.content);
        match field.tag {
            t if t == context(4) => {
                stime = Some(
                    clock::generalized_time(inner.expect(GENERALIZED_TIME)?)
                        .ok_or(KerberosError::Time)?,
                )
            }
            t if t == context(6) => code = Some(int(inner.expect(INTEGER)?)?),
            t if t == context(9) => realm = Some(text_of(inner.expect(GENERAL_STRING)?)),
            t if t == context(11) => text = Some(text_of(inner.expect(GENERAL_STRING)?)),
            _ => {}
        }
    }
    Ok(KdcReply::Error(KrbError {
        error_code: code.ok_or(KerberosError::Missing(6))?,
        realm: realm.ok_or(KerberosError::Missing(9))?,
        server_time: stime.ok_or(KerberosError::Missing(4))?,
        text,
    }))
}

/// Printable text of a string field, at most 256 characters.
fn text_of(bytes: &[u8]) -> String {
    super::text_head(bytes, 256)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn as_req_is_application_10_with_the_realm() {
        let req = as_request("EXAMPLE.TEST", 7);
        assert_eq!(req[0], 0x6a, "[APPLICATION 10]");
        assert_eq!(req[1], 0x81, "one length byte follows");
        assert_eq!(usize::from(req[2]) + 3, req.len());
        let text = String::from_utf8_lossy(&req);
        assert!(text.contains("EXAMPLE.TEST"));
        assert!(text.contains("krbtgt"));
        assert!(text.contains(PROBE_PRINCIPAL));
    }

    #[test]
    fn krb5kdc_error_fixtures() {
        use crate::wire::fixtures::{KDC_PRINCIPAL_UNKNOWN, KDC_WRONG_REALM, survives};
        let KdcReply::Error(error) = parse_reply(KDC_PRINCIPAL_UNKNOWN).unwrap() else {
            panic!("not a KRB-ERROR")
        };
        assert_eq!(error.error_code, 6);
        assert_eq!(error.code_name(), "KDC_ERR_C_PRINCIPAL_UNKNOWN");
        assert_eq!(error.realm, "LAB.TEST");
        assert!(error.server_time > 1_700_000_000);
        let KdcReply::Error(wrong) = parse_reply(KDC_WRONG_REALM).unwrap() else {
            panic!("not a KRB-ERROR")
        };
        assert_eq!(wrong.realm, PLACEHOLDER_REALM);
        assert_ne!(wrong.error_code, 0);
        assert_eq!(survives(KDC_PRINCIPAL_UNKNOWN, parse_reply), 0);
    }

    #[test]
    fn nonce_stays_within_31_bits_for_mit_kdcs() {
        // Regression: MIT krb5kdc drops an AS-REQ whose nonce needs 32 bits.
        let req = as_request("LAB.TEST", u32::MAX);
        let needle = [0xa7, 0x06, 0x02, 0x04, 0x7f, 0xff, 0xff, 0xff];
        assert!(req.windows(needle.len()).any(|w| w == needle));
    }
}

/// Our hand-built AS-REQ decoded by an independent ASN.1 implementation (dev-only).
#[cfg(test)]
mod rasn_check {
    use super::*;

    #[test]
    fn rasn_kerberos_decodes_our_as_req() {
        let bytes = as_request("LAB.TEST", 0x1234_5678);
        let decoded: rasn_kerberos::AsReq = rasn::der::decode(&bytes).expect("valid AS-REQ");
        let request = &decoded.0;
        assert_eq!(request.pvno, 5.into());
        assert_eq!(request.msg_type, 10.into());
        let body = &request.req_body;
        assert_eq!(body.realm.as_bytes(), b"LAB.TEST");
        assert_eq!(body.nonce, 0x1234_5678);
        assert_eq!(body.etype, [18, 17, 23]);
        let cname = body.cname.as_ref().expect("cname");
        assert_eq!(cname.string[0].as_bytes(), PROBE_PRINCIPAL.as_bytes());
        let sname = body.sname.as_ref().expect("sname");
        assert_eq!(sname.string[0].as_bytes(), b"krbtgt");
    }
}
