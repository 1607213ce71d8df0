//! The CA checks' readings of hostile answers, without a network.

use super::*;
use crate::wire::fixtures::{OPENSSL_CA, OPENSSL_CA_P7B, OPENSSL_CRL_FRESH, OPENSSL_CRL_STALE};

fn answer(status: u16, content_type: &str, body: &[u8]) -> Response {
    Response {
        status,
        reason: "OK".into(),
        content_type: Some(content_type.into()),
        content_type_full: Some(content_type.into()),
        location: None,
        authenticate: Vec::new(),
        body: body.to_vec(),
    }
}

#[test]
fn ca_urls_parse_and_name_their_protocol() {
    let url = Url::parse("https://ca.lab.test/certsrv/mscep/mscep.dll").unwrap();
    assert_eq!(
        (url.tls, url.port, url.path.as_str()),
        (true, 443, "/certsrv/mscep/mscep.dll")
    );
    assert_eq!(kind_of(&url.path), Kind::Scep);
    let url = Url::parse("HTTP://[::1]:8080/.well-known/est").unwrap();
    assert_eq!((url.tls, url.host.as_str(), url.port), (false, "::1", 8080));
    assert_eq!(kind_of(&url.path), Kind::Est);
    assert_eq!(est_cacerts(&url.path), "/.well-known/est/cacerts");
    assert_eq!(
        est_cacerts("/.well-known/est/arbitrary/"),
        "/.well-known/est/arbitrary/cacerts"
    );
    let cep = "/ADPolicyProvider_CEP_Kerberos/service.svc/CEP";
    assert_eq!(kind_of(cep), Kind::CepCes);
    assert_eq!(
        scep_operation("/scep/pkiclient.exe?x=1", "GetCACaps"),
        "/scep/pkiclient.exe?operation=GetCACaps"
    );
}

/// The hostile answers a CA URL can give: each ends in a defined state.
#[test]
fn hostile_ca_answers_end_in_a_defined_state() {
    let wanted = ["application/x-x509-ca-cert"];
    let good = certificates(&answer(200, wanted[0], OPENSSL_CA), "GetCACert", &wanted).unwrap();
    assert!(good.warnings.is_empty(), "{:?}", good.warnings);
    let odd = certificates(&answer(200, "text/plain", OPENSSL_CA), "GetCACert", &wanted).unwrap();
    assert!(odd.warnings[0].contains("'text/plain'"));
    let html = certificates(
        &answer(200, "text/html", b"<html>Service Unavailable</html>"),
        "GetCACert",
        &wanted,
    )
    .err()
    .unwrap();
    assert_eq!(html.unproven, Some(Unproven::WrongProtocol));
    let cut = certificates(
        &answer(200, wanted[0], &OPENSSL_CA[..OPENSSL_CA.len() / 2]),
        "GetCACert",
        &wanted,
    )
    .err()
    .unwrap();
    assert_eq!(cut.unproven, Some(Unproven::CutShort), "{cut:?}");
    let missing = certificates(&answer(404, "text/html", b"nope"), "GetCACert", &wanted)
        .err()
        .unwrap();
    assert_eq!(missing.unproven, Some(Unproven::WrongProtocol));
}

#[test]
fn an_openssl_bundle_is_read_with_its_distribution_point() {
    let wanted = ["application/x-x509-ca-ra-cert"];
    for body in [OPENSSL_CA, OPENSSL_CA_P7B] {
        let read = certificates(&answer(200, wanted[0], body), "GetCACert", &wanted).unwrap();
        let chain = read.chain.unwrap();
        assert_eq!(
            chain.issuing().unwrap().crl_urls,
            ["http://crl.lab.test/root.crl"]
        );
        assert!(
            read.evidence.summary.contains("Corpus Root CA"),
            "{}",
            read.evidence.summary
        );
    }
}

fn lab_chain() -> Chain {
    let ders = pkix::served_certs(OPENSSL_CA).unwrap();
    trust::judge_chain(&ders, clock::unix_now(), false).unwrap()
}

#[test]
fn cep_ces_passes_only_on_its_own_soap_answer() {
    let url =
        Url::parse("https://ca.lab.test/ADPolicyProvider_CEP_UsernamePassword/service.svc/CEP")
            .unwrap();
    let judge = |a: &Response| cep::tests_judge(a, &url);
    let fault = "<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\"><s:Body>\
        <s:Fault><s:Code><s:Value>s:Sender</s:Value></s:Code><s:Reason><s:Text xml:lang=\"en\">\
        An error occurred when verifying security for the message.</s:Text></s:Reason>\
        </s:Fault></s:Body></s:Envelope>";
    let read = judge(&answer(500, "application/soap+xml", fault.as_bytes())).unwrap();
    assert!(
        read.evidence.summary.contains("SOAP 1.2 fault"),
        "{}",
        read.evidence.summary
    );
    for (status, kind, body) in [
        (404, "text/html", &b"<html>Not Found</html>"[..]),
        (200, "text/html", b"<html><form>Sign in</form></html>"),
        (405, "text/html", b""),
        (200, "application/soap+xml", b"<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\"><s:Body><x/></s:Body></s:Envelope>"),
    ] {
        let refused = judge(&answer(status, kind, body)).err().unwrap();
        assert_eq!(refused.state, State::Open, "{status} {kind}");
        assert_eq!(refused.unproven, Some(Unproven::WrongProtocol), "{refused:?}");
    }
    let mut redirect = answer(302, "text/html", b"");
    redirect.location = Some("https://login.lab.test/".into());
    let moved = judge(&redirect).err().unwrap();
    assert!(moved.warning.unwrap().contains("login.lab.test"));
    let mut challenge = answer(401, "text/html", b"");
    challenge.authenticate = vec!["Negotiate".into(), "NTLM".into()];
    let denied = judge(&challenge).err().unwrap();
    assert_eq!(denied.unproven, Some(Unproven::NotVerified));
    assert!(denied.warning.unwrap().contains("Negotiate, NTLM"));
}

#[test]
fn crl_points_that_cannot_be_read_are_never_called_fine() {
    let chain = lab_chain();
    let fresh = crl::tests_judge(&chain, OPENSSL_CRL_FRESH);
    assert_eq!(fresh.state, State::Verified, "{fresh:?}");
    let stale = crl::tests_judge(&chain, OPENSSL_CRL_STALE);
    assert_eq!(stale.unproven, Some(Unproven::Stale), "{stale:?}");
    // Nothing read: not verified, whatever the reason.
    let none = crl::tests_summarize(vec![], 0);
    assert_eq!(none.unproven, Some(Unproven::NotVerified));
    let skipped = crl::tests_summarize(
        vec![("ftp://x/ca.crl".into(), Err("only HTTP and LDAP".into()))],
        0,
    );
    assert_eq!(skipped.state, State::Open);
    assert!(skipped.evidence.summary.contains("ftp://x/ca.crl"));
    // One read and fine, one not checked, and points past the limit: a warning that counts.
    let fine = crl::tests_judge(&chain, OPENSSL_CRL_FRESH);
    let mixed = crl::tests_summarize(
        vec![
            ("http://x/ca.crl".into(), Ok(fine)),
            ("file:///c/ca.crl".into(), Err("not fetched".into())),
        ],
        3,
    );
    assert_eq!(mixed.state, State::Verified);
    let warning = mixed.warning.unwrap();
    assert!(warning.contains("4 of 5"), "{warning}");
}
