//! Every parser of network input, by name: the one list the `cargo fuzz` targets (`fuzz/`,
//! nightly, coverage-guided) and the stable, time-bounded fuzz run of the test command
//! (`tests/fuzz.rs`) both drive. A target may refuse any input; it may never panic.

/// A parser entry point: hostile bytes in, anything out.
pub type Target = fn(&[u8]);

/// The fuzz targets, by the names of `fuzz/fuzz_targets/*.rs` and `fuzz/corpus/*`.
pub const TARGETS: [(&str, Target); 18] = [
    ("ber_frame", |d| {
        let _ = crate::wire::ber::frame_len(d);
    }),
    ("dns_answer", |d| {
        let _ = crate::wire::dns::parse_answer(d).map(|a| a.host_config());
    }),
    ("firebird_answer", |d| {
        let _ = crate::wire::firebird::parse_answer(d);
    }),
    ("ca_served", |d| {
        if let Ok(certs) = crate::wire::pkix::served_certs(d) {
            for cert in &certs {
                let _ = crate::wire::pkix::ca_cert(cert);
            }
            if let Ok(chain) = crate::wire::trust::judge_chain(&certs, 0, true)
                && let Some(ca) = chain.issuing()
            {
                let _ = crate::wire::trust::judge_crl(d, "http://x/ca.crl", ca, &chain, 0);
            }
        }
        let _ = crate::wire::pkix::crl(d);
    }),
    ("crl_judged", |d| {
        // A CRL judged against a fixed lab CA: the signature and name checks on hostile bytes.
        let Ok(ca) = crate::wire::pkix::served_certs(crate::fuzzing::LAB_CA) else {
            return;
        };
        if let Ok(chain) = crate::wire::trust::judge_chain(&ca, 0, false)
            && let Some(issuing) = chain.issuing()
        {
            let _ = crate::wire::trust::judge_crl(d, "http://x/ca.crl", issuing, &chain, 0);
        }
    }),
    ("http_response", |d| {
        let _ = crate::wire::http::parse_response(d, false);
        let _ = crate::wire::http::parse_response(d, true);
    }),
    ("http_head", |d| {
        let _ = crate::wire::text::parse_http_head(d);
    }),
    ("kerberos_reply", |d| {
        let _ = crate::wire::kerberos::parse_reply(d);
    }),
    ("ldap_root_dse", |d| {
        let _ = crate::wire::ldap::parse_root_dse(d, 1);
        let _ = crate::wire::ldap::search_len(d);
        let _ = crate::wire::ldap::parse_attribute(d, 1, "certificateRevocationList;binary");
        let _ = crate::wire::ldap::LdapUrl::parse(&String::from_utf8_lossy(d));
    }),
    ("listener_tag", |d| {
        let _ = crate::inbound::listen::tagged(d, crate::inbound::PROBE_TAG.as_bytes());
    }),
    ("sql_browser_response", |d| {
        let _ = crate::wire::mcsqlr::parse_response(d);
    }),
    ("snmp_discovery", |d| {
        let _ = crate::wire::snmp::parse_discovery(d);
    }),
    ("snmp_get_response", |d| {
        let _ = crate::wire::snmp::parse_get_response(d);
    }),
    ("soap_answer", |d| {
        let _ = crate::wire::soap::parse_answer(d);
    }),
    ("tds_prelogin", |d| {
        let _ = crate::wire::tds::parse_prelogin(d);
        let _ = crate::wire::tds::packet_len(d);
    }),
    ("text_reply", |d| {
        if let Ok((reply, _)) = crate::wire::text::parse_reply(d) {
            let _ = crate::wire::text::ehlo_extensions(&reply);
        }
    }),
    ("x509_certificate", |d| {
        let _ = crate::wire::x509::parse_certificate(d);
    }),
    ("xmlnt_reply", |d| {
        let _ = crate::wire::lexmark::is_xmlnt_exception(d);
    }),
];

/// A CA certificate from the lab's openssl fixtures, for the CRL target.
pub const LAB_CA: &[u8] = include_bytes!("../tests/fixtures/openssl-ca.der");

/// The target named `name`.
pub fn target(name: &str) -> Option<Target> {
    TARGETS.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}
