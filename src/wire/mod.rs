//! Pure codecs, one file per protocol: request bytes in, parsed replies out. Nothing here
//! touches a socket or a runtime, so every codec is testable with byte fixtures.

// Network input is hostile: no unwrap, expect or unchecked indexing outside tests.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic
    )
)]

pub mod ber;
pub mod dns;
pub mod firebird;
pub mod http;
pub mod kerberos;
pub mod ldap;
pub mod lexmark;
pub mod mcsqlr;
pub mod pkix;
pub mod snmp;
pub mod soap;
pub mod tds;
pub mod text;
pub mod trust;
pub mod x509;

/// The first `max` bytes of a field as text (invalid UTF-8 replaced): what evidence keeps of
/// a peer's string.
pub fn text_head(bytes: &[u8], max: usize) -> String {
    String::from_utf8_lossy(bytes.get(..bytes.len().min(max)).unwrap_or_default()).into_owned()
}

/// A fresh id for request and message ids: unpredictable enough that a stale or spoofed reply
/// is unlikely to match, with no dependency on a random-number crate.
pub fn nonce() -> u32 {
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::time::{SystemTime, UNIX_EPOCH};

    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    nanos.wrapping_mul(2_654_435_761) ^ count.wrapping_mul(0x9e37_79b9) ^ std::process::id()
}

/// Fixtures captured from real daemons (`tests/capture_fixtures.rs`) and the hostile variants
/// every parser must survive: each truncation, a megabyte of trailing junk, and noise.
#[cfg(test)]
pub(crate) mod fixtures {
    pub const SNMPD_REPORT: &[u8] =
        include_bytes!("../../tests/fixtures/snmpd-discovery-report.bin");
    /// net-snmp's answer to a v2c GET of sysDescr, sysObjectID and sysName (community
    /// "public"), captured from the snmpd of bench/fleet.
    pub const SNMPD_GET_RESPONSE: &[u8] =
        include_bytes!("../../tests/fixtures/snmpd-get-response.bin");
    pub const KDC_PRINCIPAL_UNKNOWN: &[u8] =
        include_bytes!("../../tests/fixtures/krb5kdc-principal-unknown.bin");
    pub const KDC_WRONG_REALM: &[u8] =
        include_bytes!("../../tests/fixtures/krb5kdc-wrong-realm.bin");
    pub const SLAPD_ROOT_DSE: &[u8] = include_bytes!("../../tests/fixtures/slapd-root-dse.bin");
    pub const NGINX_HEAD: &[u8] = include_bytes!("../../tests/fixtures/nginx-head.bin");
    pub const NGINX_CERT: &[u8] = include_bytes!("../../tests/fixtures/nginx-certificate.der");
    pub const VSFTPD_BANNER: &[u8] = include_bytes!("../../tests/fixtures/vsftpd-banner.bin");
    pub const POSTFIX_BANNER: &[u8] = include_bytes!("../../tests/fixtures/postfix-banner.bin");
    pub const POSTFIX_EHLO: &[u8] = include_bytes!("../../tests/fixtures/postfix-ehlo.bin");
    pub const FIREBIRD_ANSWER: &[u8] =
        include_bytes!("../../tests/fixtures/firebird-connect-answer.bin");
    pub const AVAHI_SERVICES: &[u8] = include_bytes!("../../tests/fixtures/avahi-services.bin");
    pub const AVAHI_PTR: &[u8] = include_bytes!("../../tests/fixtures/avahi-host-config-ptr.bin");
    pub const AVAHI_TXT: &[u8] = include_bytes!("../../tests/fixtures/avahi-host-config-txt.bin");
    /// A CA made by `openssl req -x509` (CDP http://crl.lab.test/root.crl), as DER and as
    /// the PKCS#7 bundle `openssl crl2pkcs7 -nocrl` makes; and CRLs `openssl ca -gencrl` made
    /// for it, one stale (next update 2020-02-01), one fresh (2099-12-31).
    pub const OPENSSL_CA: &[u8] = include_bytes!("../../tests/fixtures/openssl-ca.der");
    pub const OPENSSL_CA_P7B: &[u8] = include_bytes!("../../tests/fixtures/openssl-ca.p7b");
    pub const OPENSSL_CRL_STALE: &[u8] =
        include_bytes!("../../tests/fixtures/openssl-crl-stale.der");
    pub const OPENSSL_CRL_FRESH: &[u8] =
        include_bytes!("../../tests/fixtures/openssl-crl-fresh.der");

    /// Runs `parse` over every prefix of `fixture`, the fixture with a megabyte appended, and
    /// pseudo-random noise; it must return, never panic. Returns how many prefixes parsed.
    pub fn survives<T, E>(fixture: &[u8], parse: impl Fn(&[u8]) -> Result<T, E>) -> usize {
        let mut ok = 0;
        for end in 0..fixture.len() {
            ok += usize::from(parse(&fixture[..end]).is_ok());
        }
        let mut big = fixture.to_vec();
        big.resize(fixture.len() + (1 << 20), 0xff);
        let _ = parse(&big);
        let mut state = 0x2545_f491_u32;
        for len in [1usize, 7, 64, 512, 4096] {
            let noise: Vec<u8> = (0..len)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 17;
                    state ^= state << 5;
                    state as u8
                })
                .collect();
            let _ = parse(&noise);
        }
        ok
    }
}
