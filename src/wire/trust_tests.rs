//! Certificates and CRLs made with rcgen, each wrong in one way a strict client refuses.

use rcgen::{
    BasicConstraints, CertificateParams, CertificateRevocationListParams, DnType, IsCa, Issuer,
    KeyIdMethod, KeyPair, KeyUsagePurpose, RevokedCertParams, SerialNumber, date_time_ymd,
};

use super::*;

/// 2030-01-01, the judging time of these tests.
const NOW: i64 = 1_893_456_000;

fn ca_params(name: &str, from: i32, to: i32) -> CertificateParams {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.distinguished_name.push(DnType::CommonName, name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params.not_before = date_time_ymd(from, 1, 1);
    params.not_after = date_time_ymd(to, 1, 1);
    params.serial_number = Some(SerialNumber::from(name.len() as u64 + 1000));
    params
}

/// A self-signed CA: its DER, its params and key (to issue with).
fn root(name: &str) -> (Vec<u8>, CertificateParams, KeyPair) {
    let key = KeyPair::generate().unwrap();
    let params = ca_params(name, 2020, 2040);
    let der = params.self_signed(&key).unwrap().der().to_vec();
    (der, params, key)
}

fn issued(params: &CertificateParams, by: &CertificateParams, key: &KeyPair) -> Vec<u8> {
    let own = KeyPair::generate().unwrap();
    params
        .signed_by(&own, &Issuer::from_params(by, key))
        .unwrap()
        .der()
        .to_vec()
}

fn leaf(name: &str) -> CertificateParams {
    let mut params = CertificateParams::new(vec![format!("{name}.lab.test")]).unwrap();
    params.distinguished_name.push(DnType::CommonName, name);
    params.not_before = date_time_ymd(2020, 1, 1);
    params.not_after = date_time_ymd(2040, 1, 1);
    params.serial_number = Some(SerialNumber::from(77u64));
    params
}

fn crl(by: &CertificateParams, key: &KeyPair, this: i32, next: i32, revoked: &[u64]) -> Vec<u8> {
    CertificateRevocationListParams {
        this_update: date_time_ymd(this, 1, 1),
        next_update: date_time_ymd(next, 1, 1),
        crl_number: SerialNumber::from(1u64),
        issuing_distribution_point: None,
        revoked_certs: revoked
            .iter()
            .map(|serial| RevokedCertParams {
                serial_number: SerialNumber::from(*serial),
                revocation_time: date_time_ymd(2025, 1, 1),
                reason_code: None,
                invalidity_date: None,
            })
            .collect(),
        key_identifier_method: KeyIdMethod::Sha256,
    }
    .signed_by(&Issuer::from_params(by, key))
    .unwrap()
    .der()
    .to_vec()
}

#[test]
fn a_good_root_is_accepted() {
    let (der, ..) = root("Lab Root CA");
    let chain = judge_chain(&[der], NOW, false).unwrap();
    assert!(chain.refusals.is_empty(), "{:?}", chain.refusals);
    assert!(chain.oddities.is_empty(), "{:?}", chain.oddities);
    assert!(chain.issuing().unwrap().subject.contains("Lab Root CA"));
}

#[test]
fn a_ca_outside_its_validity_window_is_refused() {
    let key = KeyPair::generate().unwrap();
    let later = ca_params("Future CA", 2035, 2045)
        .self_signed(&key)
        .unwrap();
    let chain = judge_chain(&[later.der().to_vec()], NOW, false).unwrap();
    assert!(
        chain
            .refusals
            .iter()
            .any(|r| r.contains("not valid until 2035-01-01")),
        "{:?}",
        chain.refusals
    );
    let old = ca_params("Old CA", 2010, 2020).self_signed(&key).unwrap();
    let chain = judge_chain(&[old.der().to_vec()], NOW, false).unwrap();
    assert!(
        chain
            .refusals
            .iter()
            .any(|r| r.contains("expired on 2020-01-01")),
        "{:?}",
        chain.refusals
    );
}

#[test]
fn a_certificate_without_ca_true_is_no_ca() {
    let key = KeyPair::generate().unwrap();
    let mut params = ca_params("Not A CA", 2020, 2040);
    params.is_ca = IsCa::ExplicitNoCa;
    let der = params.self_signed(&key).unwrap().der().to_vec();
    let chain = judge_chain(&[der], NOW, false).unwrap();
    assert!(
        chain
            .refusals
            .iter()
            .any(|r| r.contains("no certificate served is a CA")),
        "{:?}",
        chain.refusals
    );
    // A CA whose key usage forbids signing certificates.
    let mut params = ca_params("Crl Only CA", 2020, 2040);
    params.key_usages = vec![KeyUsagePurpose::CrlSign];
    let der = params.self_signed(&key).unwrap().der().to_vec();
    let chain = judge_chain(&[der], NOW, false).unwrap();
    assert!(
        chain.refusals.iter().any(|r| r.contains("keyCertSign")),
        "{:?}",
        chain.refusals
    );
}

#[test]
fn the_ca_is_found_whatever_the_order_and_a_leaf_is_named() {
    let (root_der, root_params, root_key) = root("Lab Root CA");
    let leaf_der = issued(&leaf("printer"), &root_params, &root_key);
    // EST: a leaf before the CA is not the CA, and is worth a warning.
    let chain = judge_chain(&[leaf_der.clone(), root_der.clone()], NOW, false).unwrap();
    assert!(chain.refusals.is_empty(), "{:?}", chain.refusals);
    assert_eq!(chain.ca, 1);
    assert!(
        chain
            .oddities
            .iter()
            .any(|o| o.contains("served before the CA")),
        "{:?}",
        chain.oddities
    );
    // SCEP with RA certificates: an RA certificate issued by the CA is expected.
    let chain = judge_chain(&[leaf_der, root_der.clone()], NOW, true).unwrap();
    assert!(chain.oddities.is_empty(), "{:?}", chain.oddities);
    assert_eq!(chain.ca, 1);
    // A root and its intermediate: the intermediate issues, whatever the order.
    let mut sub = ca_params("Lab Issuing CA", 2020, 2040);
    sub.serial_number = Some(SerialNumber::from(5u64));
    let sub_der = issued(&sub, &root_params, &root_key);
    for ders in [
        vec![sub_der.clone(), root_der.clone()],
        vec![root_der.clone(), sub_der.clone()],
    ] {
        let chain = judge_chain(&ders, NOW, false).unwrap();
        assert!(chain.refusals.is_empty(), "{:?}", chain.refusals);
        assert!(chain.issuing().unwrap().subject.contains("Issuing"));
    }
}

#[test]
fn a_signature_by_another_key_under_the_same_name_is_refused() {
    let (root_der, root_params, _) = root("Lab Root CA");
    let impostor = KeyPair::generate().unwrap();
    let mut sub = ca_params("Lab Issuing CA", 2020, 2040);
    sub.serial_number = Some(SerialNumber::from(5u64));
    let forged = issued(&sub, &root_params, &impostor);
    let chain = judge_chain(&[forged, root_der], NOW, false).unwrap();
    assert!(
        chain.refusals.iter().any(|r| r.contains("does not verify")),
        "{:?}",
        chain.refusals
    );
}

#[test]
fn a_crl_is_tied_to_its_ca_and_its_dates() {
    let (root_der, root_params, root_key) = root("Lab Root CA");
    let chain = judge_chain(&[root_der], NOW, false).unwrap();
    let ca = chain.issuing().unwrap().clone();
    let refusals = |bytes: &[u8]| {
        judge_crl(bytes, "http://x/ca.crl", &ca, &chain, NOW)
            .unwrap()
            .refusals
    };
    // Its own, current: accepted.
    let good = judge_crl(
        &crl(&root_params, &root_key, 2029, 2031, &[]),
        "http://x/ca.crl",
        &ca,
        &chain,
        NOW,
    )
    .unwrap();
    assert!(good.refusals.is_empty() && !good.stale, "{good:?}");
    assert!(good.oddities.is_empty(), "{:?}", good.oddities);
    // Another CA's CRL.
    let (_, other_params, other_key) = root("Other CA");
    let other = refusals(&crl(&other_params, &other_key, 2029, 2031, &[]));
    assert!(
        other.iter().any(|r| r.contains("issued by CN=Other CA")),
        "{other:?}"
    );
    // The same name, another key.
    let impostor = KeyPair::generate().unwrap();
    let forged = refusals(&crl(&root_params, &impostor, 2029, 2031, &[]));
    assert!(
        forged.iter().any(|r| r.contains("does not verify")),
        "{forged:?}"
    );
    // Issued in the future.
    let future = refusals(&crl(&root_params, &root_key, 2031, 2032, &[]));
    assert!(
        future.iter().any(|r| r.contains("in the future")),
        "{future:?}"
    );
    // Past its next update.
    let stale = judge_crl(
        &crl(&root_params, &root_key, 2027, 2028, &[]),
        "http://x/ca.crl",
        &ca,
        &chain,
        NOW,
    );
    assert!(stale.unwrap().stale);
}

/// A root that names its CRL above an issuing CA that names none: the root's CRL is judged
/// for every certificate the root issued, so it revoking the issuing CA is seen, whichever
/// certificate named the point first; and the issuing CA without a point is named.
#[test]
fn a_crl_is_checked_for_every_certificate_its_issuer_issued() {
    let (root_der, root_params, root_key) = root("Lab Root CA");
    let mut sub = ca_params("Lab Issuing CA", 2020, 2040);
    sub.serial_number = Some(SerialNumber::from(5u64));
    let sub_der = issued(&sub, &root_params, &root_key);
    for ders in [
        vec![root_der.clone(), sub_der.clone()],
        vec![sub_der.clone(), root_der.clone()],
    ] {
        let chain = judge_chain(&ders, NOW, false).unwrap();
        let root_cert = chain.certs.iter().find(|c| c.self_issued).unwrap().clone();
        let revoking = crl(&root_params, &root_key, 2029, 2031, &[5]);
        let judged = judge_crl(&revoking, "http://x/ca.crl", &root_cert, &chain, NOW).unwrap();
        assert!(
            judged
                .refusals
                .iter()
                .any(|r| r.contains("revokes CN=Lab Issuing CA")),
            "{:?}",
            judged.refusals
        );
        let missing = chain.without_points();
        assert_eq!(missing.len(), 1, "{missing:?}");
        assert!(missing[0].subject.contains("Issuing"));
    }
}

#[test]
fn a_name_is_compared_as_its_parts_not_as_its_text() {
    // One RDN whose value holds ", O=lab" reads like two RDNs as text.
    let key = KeyPair::generate().unwrap();
    let mut two = ca_params("Lab Root CA", 2020, 2040);
    two.distinguished_name.push(DnType::OrganizationName, "lab");
    let two_der = two.self_signed(&key).unwrap().der().to_vec();
    let mut one = ca_params("Lab Root CA, O=lab", 2020, 2040);
    one.distinguished_name = rcgen::DistinguishedName::new();
    one.distinguished_name
        .push(DnType::CommonName, "Lab Root CA, O=lab");
    let chain = judge_chain(std::slice::from_ref(&two_der), NOW, false).unwrap();
    let ca = chain.issuing().unwrap().clone();
    let judged = judge_crl(
        &crl(&one, &key, 2029, 2031, &[]),
        "http://x/ca.crl",
        &ca,
        &chain,
        NOW,
    )
    .unwrap();
    assert!(
        judged.refusals.iter().any(|r| r.contains("issued by")),
        "{:?}",
        judged.refusals
    );
    // The same name in another case and spacing is the same name.
    let mut spaced = ca_params("lab  root ca", 2020, 2040);
    spaced.distinguished_name = rcgen::DistinguishedName::new();
    spaced
        .distinguished_name
        .push(DnType::CommonName, "lab  root ca");
    spaced
        .distinguished_name
        .push(DnType::OrganizationName, "LAB");
    let judged = judge_crl(
        &crl(&spaced, &key, 2029, 2031, &[]),
        "http://x/ca.crl",
        &ca,
        &chain,
        NOW,
    )
    .unwrap();
    assert!(judged.refusals.is_empty(), "{:?}", judged.refusals);
}

#[test]
fn a_crl_whose_scope_leaves_the_ca_out_is_refused() {
    let (root_der, root_params, root_key) = root("Lab Root CA");
    let chain = judge_chain(&[root_der], NOW, false).unwrap();
    let ca = chain.issuing().unwrap().clone();
    let scoped = |scope: Option<rcgen::CrlScope>, uri: &str| {
        let mut params = CertificateRevocationListParams {
            this_update: date_time_ymd(2029, 1, 1),
            next_update: date_time_ymd(2031, 1, 1),
            crl_number: SerialNumber::from(1u64),
            issuing_distribution_point: Some(rcgen::CrlIssuingDistributionPoint {
                distribution_point: rcgen::CrlDistributionPoint {
                    uris: vec![uri.to_string()],
                },
                scope,
            }),
            revoked_certs: Vec::new(),
            key_identifier_method: KeyIdMethod::Sha256,
        };
        params.crl_number = SerialNumber::from(2u64);
        let der = params
            .signed_by(&Issuer::from_params(&root_params, &root_key))
            .unwrap()
            .der()
            .to_vec();
        judge_crl(&der, "http://x/ca.crl", &ca, &chain, NOW)
            .unwrap()
            .refusals
    };
    assert!(scoped(None, "http://x/ca.crl").is_empty());
    let users = scoped(Some(rcgen::CrlScope::UserCertsOnly), "http://x/ca.crl");
    assert!(users.iter().any(|r| r.contains("end-entity")), "{users:?}");
    let elsewhere = scoped(None, "http://y/other.crl");
    assert!(
        elsewhere.iter().any(|r| r.contains("not http://x/ca.crl")),
        "{elsewhere:?}"
    );
}

#[test]
fn path_length_and_unknown_critical_extensions_are_enforced_below_the_anchor() {
    let (root_der, root_params, root_key) = root("Lab Root CA");
    let mut mid = ca_params("Lab Mid CA", 2020, 2040);
    mid.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    mid.serial_number = Some(SerialNumber::from(6u64));
    let mid_key = KeyPair::generate().unwrap();
    let mid_der = mid
        .signed_by(&mid_key, &Issuer::from_params(&root_params, &root_key))
        .unwrap()
        .der()
        .to_vec();
    let mut sub = ca_params("Lab Issuing CA", 2020, 2040);
    sub.serial_number = Some(SerialNumber::from(7u64));
    let sub_der = issued(&sub, &mid, &mid_key);
    let chain = judge_chain(&[sub_der, mid_der, root_der.clone()], NOW, false).unwrap();
    assert!(
        chain
            .refusals
            .iter()
            .any(|r| r.contains("pathLenConstraint")),
        "{:?}",
        chain.refusals
    );
    let mut odd = ca_params("Odd Issuing CA", 2020, 2040);
    odd.serial_number = Some(SerialNumber::from(8u64));
    let mut extension =
        rcgen::CustomExtension::from_oid_content(&[1, 3, 6, 1, 4, 1, 99999, 1], vec![5, 0]);
    extension.set_criticality(true);
    odd.custom_extensions = vec![extension];
    let odd_der = issued(&odd, &root_params, &root_key);
    let chain = judge_chain(&[odd_der, root_der], NOW, false).unwrap();
    assert!(
        chain
            .refusals
            .iter()
            .any(|r| r.contains("1.3.6.1.4.1.99999.1")),
        "{:?}",
        chain.refusals
    );
}

#[test]
fn a_crl_whose_issuer_was_not_served_is_not_called_checked() {
    let (_, root_params, root_key) = root("Lab Root CA");
    let mut sub = ca_params("Lab Issuing CA", 2020, 2040);
    sub.serial_number = Some(SerialNumber::from(5u64));
    let sub_der = issued(&sub, &root_params, &root_key);
    let chain = judge_chain(&[sub_der], NOW, false).unwrap();
    let ca = chain.issuing().unwrap().clone();
    let judged = judge_crl(
        &crl(&root_params, &root_key, 2029, 2031, &[]),
        "http://x/ca.crl",
        &ca,
        &chain,
        NOW,
    )
    .unwrap();
    assert!(judged.refusals.is_empty(), "{:?}", judged.refusals);
    assert!(
        judged.oddities.iter().any(|o| o.contains("not checked")),
        "{:?}",
        judged.oddities
    );
}

#[test]
fn hostile_bytes_are_refused_not_panicked_on() {
    let (root_der, ..) = root("Lab Root CA");
    let chain = judge_chain(std::slice::from_ref(&root_der), NOW, false).unwrap();
    let ca = chain.issuing().unwrap().clone();
    for cut in 0..root_der.len().min(200) {
        let _ = judge_crl(&root_der[..cut], "http://x/ca.crl", &ca, &chain, NOW);
        let _ = judge_chain(&[root_der[..cut].to_vec()], NOW, false);
    }
    assert!(judge_chain(&[], NOW, false).is_err());
}
