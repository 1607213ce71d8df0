//! The certificate authority checks against real parts: a CA made by `openssl` in the test
//! (a root with a CRL distribution point, its CRL fresh or stale, its certificates as DER and
//! as a PKCS#7 bundle, base64 for EST), served by nginx over HTTP and HTTPS with the content
//! types RFC 8894 (SCEP), RFC 7030 (EST) and RFC 5280 (CRLs) name. Everything inside a test
//! namespace; nothing is enrolled, no CSR is ever sent.
// Network namespaces are Linux-only; on other platforms this file builds empty.
#![cfg(target_os = "linux")]

mod support;

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;

use support::daemons;
use support::{Netns, cell, json_in};

const HTTP: &str = "127.0.0.1:18080";
const HTTPS: &str = "127.0.0.1:18443";
/// The HTTPS server by the name its certificate carries (the namespace's /etc/hosts).
const NAMED: &str = "ca.lab.test:18443";
/// The CA over IPv6: the Host header must carry the address in brackets and the port, or
/// nginx answers 400.
const HTTP6: &str = "[::1]:18080";
/// A web server with no CA on it: its SCEP path answers an HTML page.
const PLAIN: &str = "127.0.0.1:18081";
/// The directory where one CA publishes its CRL.
const LDAP: &str = "127.0.0.1:13389";
/// What a Windows CEP endpoint answers a policy query without credentials: a SOAP 1.2 fault.
const FAULT: &str = "<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\"><s:Body>\
    <s:Fault><s:Code><s:Value>s:Sender</s:Value></s:Code><s:Reason><s:Text xml:lang=\"en-US\">\
    An error occurred when verifying security for the message.</s:Text></s:Reason></s:Fault>\
    </s:Body></s:Envelope>";

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A root CA named `name` in `dir/<file>.*` whose certificate names `crl_url` (one or more
/// `URI:` values, comma-separated), and its CRL with `next_update` (`YYYYMMDDHHMMSSZ`).
fn make_ca(dir: &Path, file: &str, name: &str, crl_url: &str, next_update: &str) {
    let points = format!(
        "crlDistributionPoints={}",
        crl_url
            .split(',')
            .map(|u| format!("URI:{u}"))
            .collect::<Vec<_>>()
            .join(",")
    );
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            &format!("{file}.key"),
            "-out",
            &format!("{file}.pem"),
            "-days",
            "3650",
            "-subj",
            &format!("/CN={name}/O=mve-audit lab"),
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
            "-addext",
            &points,
        ],
    );
    openssl(
        dir,
        &[
            "x509",
            "-in",
            &format!("{file}.pem"),
            "-outform",
            "DER",
            "-out",
            &format!("{file}.der"),
        ],
    );
    let db = dir.join(format!("{file}-db"));
    std::fs::create_dir_all(&db).unwrap();
    std::fs::write(db.join("index.txt"), "").unwrap();
    std::fs::write(db.join("crlnumber"), "01\n").unwrap();
    std::fs::write(
        dir.join(format!("{file}.cnf")),
        format!(
            "[ ca ]\ndefault_ca = lab\n[ lab ]\ndatabase = {0}/index.txt\ncrlnumber = {0}/crlnumber\n\
             default_md = sha256\n",
            db.display()
        ),
    )
    .unwrap();
    openssl(
        dir,
        &[
            "ca",
            "-config",
            &format!("{file}.cnf"),
            "-gencrl",
            "-keyfile",
            &format!("{file}.key"),
            "-cert",
            &format!("{file}.pem"),
            "-crl_lastupdate",
            "20200101000000Z",
            "-crl_nextupdate",
            next_update,
            "-out",
            &format!("{file}.crl.pem"),
        ],
    );
    openssl(
        dir,
        &[
            "crl",
            "-in",
            &format!("{file}.crl.pem"),
            "-outform",
            "DER",
            "-out",
            &format!("{file}.crl"),
        ],
    );
}

/// nginx serving the lab CAs; `None` when nginx or openssl is missing outside CI.
fn ca_server(ns: &Netns) -> Option<daemons::Daemon> {
    let listens: Vec<SocketAddr> = [HTTP, HTTPS, PLAIN, HTTP6]
        .map(|a| a.parse().unwrap())
        .into();
    daemons::nginx_with(
        ns,
        |dir| {
            let www = dir.join("www");
            std::fs::create_dir_all(&www).unwrap();
            make_ca(
                &www,
                "root",
                "Lab Root CA",
                &format!("http://{HTTP}/root.crl"),
                "20991231000000Z",
            );
            make_ca(
                &www,
                "stale",
                "Stale Lab CA",
                &format!("http://{HTTP}/stale.crl"),
                "20200201000000Z",
            );
            // A CA whose CRL is published in a directory (LDAP), and one that names an HTTP
            // point and an LDAP one with no CRL in it.
            make_ca(
                &www,
                "dir",
                "Dir Lab CA",
                &format!(
                    "ldap://{LDAP}/cn=Dir%20Lab%20CA%2Cdc=lab%2Cdc=test\
                     ?certificateRevocationList;binary"
                ),
                "20991231000000Z",
            );
            make_ca(
                &www,
                "both",
                "Both Lab CA",
                &format!("http://{HTTP}/both.crl,ldap://{LDAP}/cn=Missing%2Cdc=lab%2Cdc=test"),
                "20991231000000Z",
            );
            // A CA whose point serves another CA's CRL (Lab Root CA's): fresh, well-formed,
            // and not its own, which Java refuses.
            make_ca(
                &www,
                "foreign",
                "Foreign Lab CA",
                &format!("http://{HTTP}/root.crl"),
                "20991231000000Z",
            );
            // EST: the chain as a PKCS#7 certs-only bundle, base64 (RFC 7030 §4.1.3).
            openssl(
                &www,
                &[
                    "crl2pkcs7",
                    "-nocrl",
                    "-certfile",
                    "root.pem",
                    "-outform",
                    "DER",
                    "-out",
                    "root.p7b",
                ],
            );
            openssl(&www, &["base64", "-in", "root.p7b", "-out", "cacerts.b64"]);
            std::fs::write(
                www.join("caps.txt"),
                "POSTPKIOperation\nSHA-256\nAES\nSCEPStandard\n",
            )
            .unwrap();
            let (cert, key) = daemons::certificate(dir, &["ca.lab.test"], false);
            let w = www.display();
            format!(
                " types {{ text/plain txt; application/x-x509-ca-cert der; \
                   application/x-x509-ca-ra-cert p7b; application/pkix-crl crl; }}\n\
                 map $arg_operation $scep {{ GetCACaps /caps.txt; GetCACert /root.p7b; default /none; }}\n\
                 map $arg_operation $stale {{ GetCACaps /caps.txt; GetCACert /stale.der; default /none; }}\n\
                 map $arg_operation $dir {{ GetCACaps /caps.txt; GetCACert /dir.der; default /none; }}\n\
                 map $arg_operation $both {{ GetCACaps /caps.txt; GetCACert /both.der; default /none; }}\n\
                 map $arg_operation $foreign {{ GetCACaps /caps.txt; GetCACert /foreign.der; default /none; }}\n\
                 server {{ listen {HTTP}; listen {HTTP6}; listen {HTTPS} ssl; ssl_certificate {}; ssl_certificate_key {};\n\
                   root {w};\n\
                   location = /scep/pkiclient.exe {{ try_files $scep =404; }}\n\
                   location = /stale/pkiclient.exe {{ try_files $stale =404; }}\n\
                   location = /dir/pkiclient.exe {{ try_files $dir =404; }}\n\
                   location = /both/pkiclient.exe {{ try_files $both =404; }}\n\
                   location = /foreign/pkiclient.exe {{ try_files $foreign =404; }}\n\
                   location = /.well-known/est/cacerts {{ default_type application/pkcs7-mime; \
                     add_header Content-Transfer-Encoding base64; try_files /cacerts.b64 =404; }}\n\
                   location ~ \\.crl$ {{ }}\n\
                   location = /ADPolicyProvider_CEP_Kerberos/service.svc/CEP {{ \
                     add_header WWW-Authenticate Negotiate always; return 401; }}\n\
                   location = /ADPolicyProvider_CEP_UsernamePassword/service.svc/CEP {{ \
                     default_type application/soap+xml; return 500 '{FAULT}'; }}\n\
                   location = /old/service.svc/CEP {{ return 405; }}\n\
                   location / {{ return 404; }}\n\
                 }}\n\
                 server {{ listen {PLAIN}; location / {{ default_type text/html; \
                   return 200 \"<html><body>Service Unavailable</body></html>\"; }} }}\n",
                cert.display(),
                key.display()
            )
        },
        &listens,
    )
}

fn base64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn has_openssl() -> bool {
    Command::new("openssl")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn a_real_ca_is_read_over_scep_and_est_and_its_crl_is_checked() {
    let Some(ns) = Netns::create(&["127.0.0.1 ca.lab.test"]) else {
        return;
    };
    if !has_openssl() {
        support::unavailable("openssl is not installed");
        return;
    }
    let Some(nginx) = ca_server(&ns) else { return };
    let check = |url: &str| {
        let (_, report) = json_in(&ns, &["check", "--ca", url, "--timeout", "1s"]);
        report
    };
    // SCEP over HTTP: GetCACaps, then GetCACert (a PKCS#7 bundle); the CRL fresh.
    let report = check(&format!("http://{HTTP}/scep/pkiclient.exe"));
    let ca = cell(&report, "ca");
    assert_eq!(ca["state"], "verified", "{ca:#}\n{}", nginx.log());
    assert_eq!(ca["verdict"], "pass", "{ca:#}");
    assert_eq!(ca["evidence"]["facts"]["protocol"], "scep");
    assert!(
        ca["evidence"]["facts"]["ca_subject"]
            .as_str()
            .unwrap()
            .contains("Lab Root CA")
    );
    assert!(
        ca["evidence"]["facts"]["scep_capabilities"]
            .as_str()
            .unwrap()
            .contains("SHA-256")
    );
    let crl = cell(&report, "crl");
    assert_eq!(crl["state"], "verified", "{crl:#}");
    assert_eq!(
        crl["port"], 18080,
        "the cell names the distribution point's port"
    );
    assert_eq!(crl["evidence"]["facts"]["crl_next_update"], "2099-12-31");
    // The same over IPv6, by its literal.
    let report = check(&format!("http://{HTTP6}/scep/pkiclient.exe"));
    let ca = cell(&report, "ca");
    assert_eq!(ca["state"], "verified", "{ca:#}\n{}", nginx.log());
    // EST over HTTPS: /cacerts, base64 PKCS#7 with the RFC's content type.
    let report = check(&format!("https://{NAMED}/.well-known/est"));
    let ca = cell(&report, "ca");
    assert_eq!(ca["state"], "verified", "{ca:#}");
    assert_eq!(ca["evidence"]["facts"]["protocol"], "est");
    assert_eq!(
        ca["evidence"]["facts"]["content_type"],
        "application/pkcs7-mime"
    );
    assert_eq!(ca["verdict"], "pass", "{ca:#}");
    // The same server by its address, which its certificate does not name: Java refuses it.
    let report = check(&format!("https://{HTTPS}/.well-known/est"));
    let ca = cell(&report, "ca");
    assert_eq!(ca["reason"], "rejected", "{ca:#}");
    assert!(
        ca["hint"].as_str().unwrap().contains("not 127.0.0.1"),
        "{ca:#}"
    );
    // Microsoft CEP over HTTPS: the policy query draws the SOAP fault of a service that
    // wants credentials, which proves CEP answers there.
    let report = check(&format!(
        "https://{NAMED}/ADPolicyProvider_CEP_UsernamePassword/service.svc/CEP"
    ));
    let ca = cell(&report, "ca");
    assert_eq!(ca["state"], "verified", "{ca:#}");
    assert_eq!(ca["evidence"]["facts"]["protocol"], "cep-ces");
    assert_eq!(ca["evidence"]["facts"]["http_status"], 500);
    let crl = cell(&report, "crl");
    assert_eq!(crl["state"], "open", "no CRL was read: {crl:#}");
    assert_eq!(crl["reason"], "not-verified", "{crl:#}");
    assert!(
        crl["hint"].as_str().unwrap().contains("SCEP URL"),
        "{crl:#}"
    );
    // A 405 or a 401 is the web server's answer, not CEP's.
    for (path, reason) in [
        ("/old/service.svc/CEP", "wrong-protocol"),
        (
            "/ADPolicyProvider_CEP_Kerberos/service.svc/CEP",
            "not-verified",
        ),
    ] {
        let report = check(&format!("https://{NAMED}{path}"));
        let ca = cell(&report, "ca");
        assert_eq!(ca["state"], "open", "{path}: {ca:#}");
        assert_eq!(ca["reason"], reason, "{path}: {ca:#}");
        assert_eq!(ca["verdict"], "fail", "{path}: {ca:#}");
    }
    // A SCEP URL where no SCEP answers, on a server whose EST works: the SCEP URL fails,
    // and the hint names the EST URL that works.
    let report = check(&format!("https://{NAMED}/wrong/pkiclient.exe"));
    let ca = cell(&report, "ca");
    assert_eq!(ca["verdict"], "fail", "{ca:#}");
    assert_eq!(ca["reason"], "wrong-protocol", "{ca:#}");
    let hint = ca["hint"].as_str().unwrap();
    assert!(hint.contains("/.well-known/est"), "{hint}");
    // A CA whose CRL is past its nextUpdate: what MVE reports as "CA validation failed".
    let report = check(&format!("http://{HTTP}/stale/pkiclient.exe"));
    assert_eq!(cell(&report, "ca")["state"], "verified");
    let crl = cell(&report, "crl");
    assert_eq!(crl["state"], "open", "{crl:#}");
    assert_eq!(crl["reason"], "stale", "{crl:#}");
    assert_eq!(crl["verdict"], "fail");
    assert!(
        crl["hint"]
            .as_str()
            .unwrap()
            .contains("CA validation failed"),
        "{crl:#}"
    );
    // A CRL published in a directory: an anonymous base search of the CA's entry.
    let crl_der = std::fs::read(nginx.dir.join("www/dir.crl")).unwrap();
    let ldif = format!(
        "dn: dc=lab,dc=test\nobjectClass: dcObject\nobjectClass: organization\no: lab\ndc: lab\n\n\
         dn: cn=Dir Lab CA,dc=lab,dc=test\nobjectClass: applicationProcess\nobjectClass: pkiCA\n\
         cn: Dir Lab CA\ncertificateRevocationList;binary:: {}\n",
        base64(&crl_der)
    );
    let Some(slapd) = daemons::slapd_with(&ns, LDAP.parse().unwrap(), &ldif) else {
        return;
    };
    let report = check(&format!("http://{HTTP}/dir/pkiclient.exe"));
    let crl = cell(&report, "crl");
    assert_eq!(crl["state"], "verified", "{crl:#}\n{}", slapd.log());
    assert_eq!(crl["port"], 13389);
    assert_eq!(crl["evidence"]["facts"]["crl_next_update"], "2099-12-31");
    // Two points, the LDAP one empty: the cell is not green, and says which.
    let report = check(&format!("http://{HTTP}/both/pkiclient.exe"));
    let crl = cell(&report, "crl");
    assert_eq!(crl["verdict"], "fail", "{crl:#}");
    let summary = crl["evidence"]["summary"].as_str().unwrap();
    assert!(
        summary.contains("1 of 2 distribution points fine"),
        "{summary}"
    );
    assert!(summary.contains("ldap://"), "{summary}");
    // Another CA's CRL at the point: refused, named.
    let report = check(&format!("http://{HTTP}/foreign/pkiclient.exe"));
    let crl = cell(&report, "crl");
    assert_eq!(crl["reason"], "rejected", "{crl:#}");
    assert_eq!(crl["verdict"], "fail", "{crl:#}");
    let hint = crl["hint"].as_str().unwrap();
    assert!(
        hint.contains("Lab Root CA") && hint.contains("Foreign Lab CA"),
        "{hint}"
    );
    // A web server that is no CA: an HTML page where GetCACaps should be, no EST either.
    let report = check(&format!("http://{PLAIN}/certsrv/mscep/mscep.dll"));
    let ca = cell(&report, "ca");
    assert_eq!(ca["state"], "open", "{ca:#}");
    assert_eq!(ca["reason"], "wrong-protocol", "{ca:#}");
    assert_eq!(ca["verdict"], "fail");
    // Nothing listening: closed, and the CRL check says why it could not start.
    let report = check("http://127.0.0.1:18099/scep/pkiclient.exe");
    assert_eq!(cell(&report, "ca")["state"], "closed");
    let crl = cell(&report, "crl");
    assert!(
        crl["evidence"]["summary"]
            .as_str()
            .unwrap()
            .contains("could not be read"),
        "{crl:#}"
    );
}
