//! Kerberos AS-REQ (RFC 4120 §5.4.1) for a principal that does not exist: any KDC answers it
//! with a KRB-ERROR, which proves a KDC without a credential.

use super::ber::{
    BIT_STRING, GENERAL_STRING, GENERALIZED_TIME, SEQUENCE, application, cat, context, tlv, uint,
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
            &tlv(context(7), &uint(nonce.into())),
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
}
