//! Protocol verification against real daemons from Debian packages, each started inside a
//! namespace the test creates, on loopback and overridden ports. Stand-ins appear only where
//! no real implementation exists (SQL Server, the Lexmark protocols) and say so.
// Network namespaces and setns are Linux-only; on other platforms this file builds empty.
#![cfg(target_os = "linux")]

mod support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::time::Duration;

use support::daemons::{self, Snmp};
use support::{Netns, cell, check_one, json_in};

fn addr(text: &str) -> SocketAddr {
    text.parse().unwrap()
}

fn facts(cell: &serde_json::Value) -> &serde_json::Value {
    &cell["evidence"]["facts"]
}

/// Lab addresses for the mDNS test: they exist only inside its two namespaces.
const MVE_LAB: &str = "10.231.0.1"; // lab
const PRINTER_LAB: &str = "10.231.0.2"; // lab

const SYS_DESCR: &str = "Lexmark CX725 version CXTPP.081.225 kernel 5.4.0 All-N-1";

#[test]
fn snmp_v2c_and_v3_authpriv_are_verified_and_a_wrong_community_warns() {
    let Some(ns) = Netns::create(&[]) else { return };
    let settings = Snmp {
        addr: addr("127.0.0.1:1161"),
        community: "lab-community",
        sys_descr: SYS_DESCR,
        v3_user: Some(("mveaudit", "lab-auth-key", "lab-priv-key")),
    };
    let Some(_snmpd) = daemons::snmpd(&ns, &settings) else {
        return;
    };
    let base = [
        "check",
        "--printers",
        "127.0.0.1",
        "--checks",
        "snmp",
        "--port",
        "snmp=1161",
    ];

    let mut v2c = base.to_vec();
    v2c.extend(["--snmp-community", "lab-community"]);
    let (code, report) = json_in(&ns, &v2c);
    let snmp = cell(&report, "snmp");
    assert_eq!(snmp["state"], "verified", "{snmp:#}");
    assert_eq!(snmp["verdict"], "pass");
    assert_eq!(facts(snmp)["sys_descr"], SYS_DESCR);
    assert_eq!(facts(snmp)["snmp_version"], "v2c");
    assert!(
        facts(snmp)["engine_id"]
            .as_str()
            .unwrap()
            .starts_with("80001f88"),
        "{snmp:#}"
    );
    assert!(
        snmp["evidence"]["summary"]
            .as_str()
            .unwrap()
            .contains("net-snmp"),
        "{snmp:#}"
    );
    assert_eq!(code, 0);

    let output = ns
        .mve_audit()
        .args(base)
        .args(["--format", "json", "--snmp-user", "mveaudit"])
        .env("MVE_AUDIT_SNMP_V3_AUTH_KEY", "lab-auth-key")
        .env("MVE_AUDIT_SNMP_V3_PRIV_KEY", "lab-priv-key")
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let snmp = cell(&report, "snmp");
    assert_eq!(snmp["state"], "verified", "{snmp:#}");
    assert_eq!(facts(snmp)["snmp_version"], "v3");
    assert_eq!(facts(snmp)["security"], "authPriv");
    assert_eq!(facts(snmp)["sys_name"], "printer-lab");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        !text.contains("lab-auth-key") && !text.contains("lab-priv-key"),
        "no secret in the report"
    );

    let mut wrong = base.to_vec();
    wrong.extend([
        "--snmp-community",
        "not-the-community",
        "--timeout",
        "300ms",
        "--retries",
        "0",
    ]);
    let (code, report) = json_in(&ns, &wrong);
    let snmp = cell(&report, "snmp");
    assert_eq!(
        snmp["state"], "verified",
        "discovery still proves the agent: {snmp:#}"
    );
    assert_eq!(snmp["verdict"], "warn");
    assert!(
        snmp["evidence"]["summary"]
            .as_str()
            .unwrap()
            .contains("agent present, credentials not accepted")
    );
    assert_eq!(code, 0);
}

#[test]
fn an_echo_server_on_the_snmp_port_is_open_not_verified() {
    let Some(ns) = Netns::create(&[]) else { return };
    let socket = ns.run(|| UdpSocket::bind("127.0.0.1:1161").unwrap());
    std::thread::spawn(move || {
        let mut buf = [0u8; 2048];
        for _ in 0..20 {
            let Ok((n, from)) = socket.recv_from(&mut buf) else {
                break;
            };
            let _ = socket.send_to(&buf[..n], from);
        }
    });
    let (code, report) = json_in(
        &ns,
        &[
            "check",
            "--printers",
            "127.0.0.1",
            "--checks",
            "snmp",
            "--port",
            "snmp=1161",
            "--timeout",
            "300ms",
            "--retries",
            "0",
        ],
    );
    let snmp = cell(&report, "snmp");
    assert_eq!(snmp["state"], "open", "{snmp:#}");
    assert!(
        snmp["evidence"]["summary"]
            .as_str()
            .unwrap()
            .contains("not SNMP"),
        "{snmp:#}"
    );
    assert_eq!(snmp["reason"], "wrong-protocol", "{snmp:#}");
    assert_eq!(snmp["verdict"], "fail", "{snmp:#}");
    assert_eq!(code, 1);
}

#[test]
fn ldap_and_ldaps_report_the_root_dse() {
    let Some(ns) = Netns::create(&[]) else { return };
    let Some(_slapd) = daemons::slapd(&ns, addr("127.0.0.1:1389"), addr("127.0.0.1:1636")) else {
        return;
    };
    let (code, report) = json_in(
        &ns,
        &[
            "check",
            "--ldap",
            "127.0.0.1:1389",
            "--ldaps",
            "127.0.0.1:1636",
        ],
    );
    let ldap = cell(&report, "ldap");
    assert_eq!(ldap["state"], "verified", "{ldap:#}");
    assert_eq!(facts(ldap)["naming_contexts"][0], "dc=lab,dc=test");
    assert_eq!(facts(ldap)["starttls"], true);
    assert_eq!(facts(ldap)["supported_ldap_versions"][0], "3");
    let ldaps = cell(&report, "ldaps");
    assert_eq!(ldaps["state"], "verified", "{ldaps:#}");
    assert_eq!(facts(ldaps)["naming_contexts"][0], "dc=lab,dc=test");
    assert!(
        facts(ldaps)["tls_version"]
            .as_str()
            .unwrap()
            .starts_with("TLS 1."),
        "{ldaps:#}"
    );
    assert_eq!(facts(ldaps)["cert_self_signed"], true);
    assert_eq!(facts(ldaps)["cert_sans"][0], "DNS:ldap.lab.test");
    assert_eq!(code, 0);
}

#[test]
fn an_http_server_on_the_ldap_port_is_open_not_verified() {
    let Some(ns) = Netns::create(&[]) else { return };
    let Some(_nginx) = daemons::nginx(
        &ns,
        Some(addr("127.0.0.1:1389")),
        None,
        daemons::Tls::Current,
    ) else {
        return;
    };
    let (code, report) = json_in(
        &ns,
        &["check", "--ldap", "127.0.0.1:1389", "--timeout", "500ms"],
    );
    let ldap = cell(&report, "ldap");
    assert_eq!(ldap["state"], "open", "{ldap:#}");
    assert_eq!(ldap["reason"], "wrong-protocol", "{ldap:#}");
    assert_eq!(ldap["verdict"], "fail");
    assert!(
        ldap["evidence"]["summary"]
            .as_str()
            .unwrap()
            .contains("not LDAP"),
        "{ldap:#}"
    );
    assert_eq!(code, 1);
}

#[test]
fn kerberos_reports_the_kdc_error_realm_and_clock() {
    let Some(ns) = Netns::create(&[]) else { return };
    let Some(_kdc) = daemons::krb5kdc(&ns, addr("127.0.0.1:1088"), "LAB.TEST") else {
        return;
    };
    let (code, report) = json_in(
        &ns,
        &[
            "check",
            "--kerberos",
            "127.0.0.1:1088",
            "--kerberos-realm",
            "LAB.TEST",
        ],
    );
    let krb = cell(&report, "kerberos");
    assert_eq!(krb["state"], "verified", "{krb:#}");
    assert_eq!(facts(krb)["realm"], "LAB.TEST");
    assert_eq!(facts(krb)["error_name"], "KDC_ERR_C_PRINCIPAL_UNKNOWN");
    assert!(
        facts(krb)["clock_skew_seconds"].as_i64().unwrap().abs() < 60,
        "{krb:#}"
    );
    assert_eq!(code, 0);

    // A realm the KDC does not serve still proves a KDC.
    let (_, report) = json_in(&ns, &["check", "--kerberos", "127.0.0.1:1088"]);
    let krb = cell(&report, "kerberos");
    assert_eq!(krb["state"], "verified", "{krb:#}");
}

#[test]
fn http_and_https_are_verified_and_an_expired_certificate_warns() {
    let Some(ns) = Netns::create(&[]) else { return };
    let Some(nginx) = daemons::nginx(
        &ns,
        Some(addr("127.0.0.1:8080")),
        Some(addr("127.0.0.1:8443")),
        daemons::Tls::Current,
    ) else {
        return;
    };
    let args = [
        "check",
        "--printers",
        "127.0.0.1",
        "--checks",
        "http,https",
        "--port",
        "http=8080",
        "--port",
        "https=8443",
    ];
    let (code, report) = json_in(&ns, &args);
    let http = cell(&report, "http");
    assert_eq!(http["state"], "verified", "{http:#}");
    assert_eq!(facts(http)["http_status"], 200);
    assert!(
        facts(http)["server"].as_str().unwrap().starts_with("nginx"),
        "{http:#}"
    );
    let https = cell(&report, "https");
    assert_eq!(https["state"], "verified", "{https:#}");
    assert_eq!(https["verdict"], "pass");
    assert_eq!(
        facts(https)["cert_subject"],
        "CN=printer.lab.test, O=mve-audit lab"
    );
    assert_eq!(facts(https)["cert_not_after"], "2035-01-01");
    assert!(
        facts(https)["tls_cipher"]
            .as_str()
            .unwrap()
            .starts_with("TLS"),
        "{https:#}"
    );
    assert_eq!(code, 0);
    // The HTTP check aimed at the TLS port: nginx answers plain HTTP there with 400. That is
    // a web server, but not one that serves this client in the clear: verified, and a warning.
    let (_, report) = check_one(&ns, "http", "http=8443");
    let http = cell(&report, "http");
    assert_eq!(http["state"], "verified", "{http:#}");
    assert_eq!(facts(http)["http_status"], 400);
    assert_eq!(http["verdict"], "warn", "{http:#}");
    assert!(
        http["hint"].as_str().unwrap().contains("HTTPS only"),
        "{http:#}"
    );
    drop(nginx);

    let Some(_expired) = daemons::nginx(
        &ns,
        None,
        Some(addr("127.0.0.1:8443")),
        daemons::Tls::Expired,
    ) else {
        return;
    };
    let (code, report) = check_one(&ns, "https", "https=8443");
    let https = cell(&report, "https");
    assert_eq!(https["state"], "verified", "{https:#}");
    assert_eq!(https["verdict"], "warn");
    assert!(
        https["hint"]
            .as_str()
            .unwrap()
            .contains("expired on 2021-01-01"),
        "{https:#}"
    );
    assert!(facts(https)["cert_days_left"].as_i64().unwrap() < 0);
    assert_eq!(code, 0, "a warning does not fail the run");
}

#[test]
fn ftp_banner_is_verified_without_a_login() {
    let Some(ns) = Netns::create(&[]) else { return };
    let Some(_ftp) = daemons::vsftpd(&ns, addr("127.0.0.1:2121")) else {
        return;
    };
    let (_, report) = check_one(&ns, "ftp", "ftp=2121");
    let ftp = cell(&report, "ftp");
    assert_eq!(ftp["state"], "verified", "{ftp:#}");
    assert_eq!(facts(ftp)["reply_code"], 220);
    assert!(
        facts(ftp)["banner"]
            .as_str()
            .unwrap()
            .contains("Lexmark lab FTP ready"),
        "{ftp:#}"
    );
}

/// FTP and SMTP both greet with 220: each check, pointed at the other's real daemon, says
/// "wrong protocol" and fails, never passes on the code alone.
#[test]
fn ftp_and_smtp_are_not_taken_for_each_other() {
    let Some(ns) = Netns::create(&[]) else { return };
    let Some(_ftp) = daemons::vsftpd(&ns, addr("127.0.0.1:2121")) else {
        return;
    };
    let Some(postfix) = daemons::postfix(&ns, addr("127.0.0.1:2525")) else {
        return;
    };
    let (code, report) = json_in(
        &ns,
        &[
            "check",
            "--printers",
            "127.0.0.1",
            "--checks",
            "ftp,smtp",
            "--port",
            "ftp=2525",
            "--smtp",
            "127.0.0.1:2121",
        ],
    );
    let ftp = cell(&report, "ftp");
    assert_eq!(ftp["state"], "open", "{ftp:#}\n{}", postfix.log());
    assert_eq!(ftp["reason"], "wrong-protocol", "{ftp:#}");
    assert_eq!(ftp["verdict"], "fail", "{ftp:#}");
    let smtp = cell(&report, "smtp");
    assert_eq!(smtp["state"], "open", "{smtp:#}");
    assert_eq!(smtp["reason"], "wrong-protocol", "{smtp:#}");
    assert_eq!(smtp["verdict"], "fail", "{smtp:#}");
    assert_eq!(code, 1);
}

#[test]
fn smtp_reports_extensions_and_the_starttls_certificate() {
    let Some(ns) = Netns::create(&[]) else { return };
    let Some(postfix) = daemons::postfix(&ns, addr("127.0.0.1:2525")) else {
        return;
    };
    let (code, report) = json_in(&ns, &["check", "--smtp", "127.0.0.1:2525"]);
    let smtp = cell(&report, "smtp");
    assert_eq!(smtp["state"], "verified", "{smtp:#}\n{}", postfix.log());
    assert_eq!(facts(smtp)["starttls"], true);
    assert!(
        facts(smtp)["extensions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e == "PIPELINING")
    );
    assert!(
        facts(smtp)["banner"]
            .as_str()
            .unwrap()
            .contains("mail.lab.test ESMTP"),
        "{smtp:#}"
    );
    assert_eq!(
        facts(smtp)["cert_subject"],
        "CN=mail.lab.test, O=mve-audit lab"
    );
    assert!(
        facts(smtp)["tls_version"]
            .as_str()
            .unwrap()
            .starts_with("TLS 1.")
    );
    assert_eq!(code, 0);
}

#[test]
fn firebird_accepts_op_connect() {
    let Some(ns) = Netns::create(&[]) else { return };
    let Some(_fb) = daemons::firebird(&ns, "127.0.0.1".parse().unwrap()) else {
        return;
    };
    let (code, report) = json_in(&ns, &["check", "--firebird", "127.0.0.1"]);
    let fb = cell(&report, "firebird");
    assert_eq!(fb["state"], "verified", "{fb:#}");
    // Firebird 3 picks protocol 13 and asks for its SRP login straight away.
    assert_eq!(facts(fb)["answer"], "op_cont_auth", "{fb:#}");
    assert_eq!(code, 0);
}

#[test]
fn mdns_lists_services_and_the_lexmark_host_config_keys() {
    // Avahi skips loopback, so the printer gets a veth link to the prober's namespace.
    let Some(mve) = Netns::create(&[]) else {
        return;
    };
    let Some(printer) = Netns::create(&[]) else {
        return;
    };
    // Lab link addresses, inside the two test namespaces only.
    let (_, b) = mve.link(&printer, MVE_LAB, PRINTER_LAB);
    let Some(avahi) = daemons::avahi(&printer, &b, "printer-lab") else {
        return;
    };
    let (_, report) = json_in(
        &mve,
        &[
            "check",
            "--printers",
            PRINTER_LAB,
            "--checks",
            "mdns",
            "--timeout",
            "1s",
        ],
    );
    let mdns = cell(&report, "mdns");
    assert_eq!(mdns["state"], "verified", "{mdns:#}\n{}", avahi.log());
    let services = facts(mdns)["services"].as_array().unwrap();
    assert!(
        services.iter().any(|s| s == "_host-config._udp.local."),
        "{mdns:#}"
    );
    assert!(services.iter().any(|s| s == "_ipp._tcp.local."), "{mdns:#}");
    let config = &facts(mdns)["host_config"];
    assert_eq!(config["SECUREMODE"], "1", "{mdns:#}");
    assert_eq!(config["PASSWORDSET"], "1");
    assert_eq!(config["MACUAA"], "00:21:b7:aa:bb:cc");
    // The record becomes a host fact, and the summary counts the printer as secured.
    assert_eq!(mdns["security"]["secure_mode"], true, "{mdns:#}");
    assert_eq!(mdns["security"]["password_set"], true, "{mdns:#}");
    let out = mve
        .mve_audit()
        .args(["check", "--printers", PRINTER_LAB, "--checks", "mdns"])
        .args(["--timeout", "1s", "--summary", "--color", "never"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("1 printer is secured"), "{text}");
}

#[test]
fn raw_9100_receives_not_a_single_byte() {
    let Some(ns) = Netns::create(&[]) else { return };
    let listener = ns.run(|| TcpListener::bind("127.0.0.1:0").unwrap());
    let port = listener.local_addr().unwrap().port();
    let received = std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        conn.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut all = Vec::new();
        // Reads until the prober closes the connection.
        let _ = conn.read_to_end(&mut all);
        all.len()
    });
    let (_, report) = check_one(&ns, "raw", &format!("raw={port}"));
    assert_eq!(cell(&report, "raw")["state"], "open");
    assert_eq!(
        received.join().unwrap(),
        0,
        "RAW 9100 must never receive print data"
    );
}

/// PRELOGIN as a SQL Server answers it ([MS-TDS] §2.2.6.5): version 16.0.1000, encryption
/// required.
const PRELOGIN_ANSWER: [u8; 32] = [
    0x04, 0x01, 0x00, 0x20, 0x00, 0x00, 0x01, 0x00, // header, 32 bytes
    0x00, 0x00, 0x10, 0x00, 0x06, // VERSION at 16, 6 bytes
    0x01, 0x00, 0x16, 0x00, 0x01, // ENCRYPTION at 22, 1 byte
    0x02, 0x00, 0x17, 0x00, 0x01, // INSTOPT at 23
    0xff, // terminator
    16, 0, 0x03, 0xe8, 0, 0,    // 16.0.1000
    0x03, // ENCRYPT_REQ
    0x00, // INSTOPT
];

/// Stand-ins for a SQL Server named instance, which has no Debian package: a SQL Server
/// Browser on UDP 1434 speaking [MC-SQLR] (it answers CLNT_UCAST_INST for the instances it
/// has, stays silent for others as the real one does, and lists every instance for
/// CLNT_UCAST_EX), and the instance's TDS listener on a dynamic port. MVE 4.x names the
/// instance; the Browser hands out the port; TDS is verified on it.
#[test]
fn a_named_instance_is_found_through_the_sql_server_browser() {
    let Some(ns) = Netns::create(&[]) else { return };
    let listener = ns.run(|| TcpListener::bind("127.0.0.1:0").unwrap());
    let port = listener.local_addr().unwrap().port();
    let browser = ns.run(|| UdpSocket::bind("127.0.0.1:1434").unwrap());
    browser
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let records = format!(
        "ServerName;DB1;InstanceName;MVE;IsClustered;No;Version;16.0.1000.6;tcp;{port};;\
         ServerName;DB1;InstanceName;PIPES;IsClustered;No;Version;16.0.1000.6;np;\\\\DB1\\pipe\\q;;"
    );
    let answer = mve_audit::wire::mcsqlr::response(&records);
    std::thread::spawn(move || {
        let mut buf = [0u8; 512];
        while let Ok((len, from)) = browser.recv_from(&mut buf) {
            let request = &buf[..len];
            let known = |name: &[u8]| request.get(1..=name.len()) == Some(name);
            let reply = match request.first() {
                Some(3) => true,
                Some(4) => known(b"MVE") || known(b"PIPES"),
                _ => false,
            };
            if reply {
                let _ = browser.send_to(&answer, from);
            }
        }
    });
    std::thread::spawn(move || {
        while let Ok((mut conn, _)) = listener.accept() {
            let mut request = [0u8; 512];
            let _ = conn.read(&mut request);
            let _ = conn.write_all(&PRELOGIN_ANSWER);
        }
    });
    let run = |target: &str| {
        let (_, report) = json_in(
            &ns,
            &[
                "check",
                "--sqlserver",
                target,
                "--timeout",
                "500ms",
                "--retries",
                "0",
            ],
        );
        report
    };
    // The instance is found, and TDS verified on its port.
    let report = run("127.0.0.1\\MVE");
    let browser_cell = cell(&report, "sql-browser");
    assert_eq!(browser_cell["state"], "verified", "{browser_cell:#}");
    assert_eq!(facts(browser_cell)["tcp_port"], port);
    let sql = cell(&report, "sqlserver");
    assert_eq!(sql["state"], "verified", "{sql:#}");
    assert_eq!(sql["port"], port, "the cell names the port probed");
    assert_eq!(sql["target"], "127.0.0.1\\MVE");
    // An instance the host does not have: the Browser's list says so, with the fix.
    let report = run("127.0.0.1\\NOPE");
    let browser_cell = cell(&report, "sql-browser");
    assert_eq!(browser_cell["verdict"], "warn", "{browser_cell:#}");
    assert!(
        browser_cell["hint"]
            .as_str()
            .unwrap()
            .contains("no instance NOPE")
    );
    assert!(
        browser_cell["hint"]
            .as_str()
            .unwrap()
            .contains("MVE, PIPES")
    );
    let sql = cell(&report, "sqlserver");
    assert_eq!(sql["state"], "error", "{sql:#}");
    assert!(
        sql["evidence"]["summary"]
            .as_str()
            .unwrap()
            .contains("not on this host")
    );
    assert_eq!(sql["port"], 0, "no TCP port was probed: {sql:#}");
    // An instance with TCP/IP disabled.
    let report = run("127.0.0.1\\PIPES");
    let browser_cell = cell(&report, "sql-browser");
    assert!(
        browser_cell["hint"]
            .as_str()
            .unwrap()
            .contains("TCP/IP disabled")
    );
    assert_eq!(cell(&report, "sqlserver")["verdict"], "fail");
    // No Browser at all (another host on the namespace's loopback): closed by ICMP.
    let report = run("127.0.0.2\\MVE");
    let browser_cell = cell(&report, "sql-browser");
    assert_eq!(browser_cell["state"], "closed", "{browser_cell:#}");
    assert!(
        cell(&report, "sqlserver")["evidence"]["summary"]
            .as_str()
            .unwrap()
            .contains("did not answer")
    );
    // A target without an instance gets no sql-browser cell.
    let (_, report) = json_in(
        &ns,
        &["check", "--sqlserver", "127.0.0.1:1", "--timeout", "300ms"],
    );
    assert!(
        report["cells"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["check"] != "sql-browser"),
        "{report:#}"
    );
}

/// A stand-in for SQL Server, which has no Debian package: it answers PRELOGIN as [MS-TDS]
/// §2.2.6.5 lays out (version 16.0.1000, encryption required).
#[test]
fn sqlserver_prelogin_is_verified_against_a_stand_in() {
    let Some(ns) = Netns::create(&[]) else { return };
    let listener = ns.run(|| TcpListener::bind("127.0.0.1:1433").unwrap());
    std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        let mut request = [0u8; 512];
        let _ = conn.read(&mut request);
        conn.write_all(&PRELOGIN_ANSWER).unwrap();
    });
    let (_, report) = json_in(&ns, &["check", "--sqlserver", "127.0.0.1"]);
    let sql = cell(&report, "sqlserver");
    assert_eq!(sql["state"], "verified", "{sql:#}");
    assert_eq!(facts(sql)["server_version"], "16.0.1000");
    assert!(
        facts(sql)["encryption"]
            .as_str()
            .unwrap()
            .starts_with("ENCRYPT_REQ")
    );
}

/// Stand-ins for the Lexmark protocols (no public implementation exists): an XMLNT responder
/// that answers with an `<exception>` document, and a silent NPAP port next to a closed one.
#[test]
fn xmlnt_exception_is_verified_and_silent_npap_is_likely_listening() {
    let Some(ns) = Netns::create(&[]) else { return };
    let xmlnt = ns.run(|| UdpSocket::bind("127.0.0.1:6000").unwrap());
    std::thread::spawn(move || {
        let mut buf = [0u8; 1500];
        if let Ok((_, from)) = xmlnt.recv_from(&mut buf) {
            let _ = xmlnt.send_to(
                b"<?xml version=\"1.0\"?><exception code=\"2\">bad request</exception>",
                from,
            );
        }
    });
    let silent = ns.run(|| UdpSocket::bind("127.0.0.1:9300").unwrap());
    let (code, report) = json_in(
        &ns,
        &[
            "check",
            "--printers",
            "127.0.0.1",
            "--checks",
            "npap,xmlnt",
            "--timeout",
            "300ms",
            "--retries",
            "1",
        ],
    );
    let xml = cell(&report, "xmlnt");
    assert_eq!(xml["state"], "verified", "{xml:#}");
    assert_eq!(xml["evidence"]["source_port"], 9187);
    let npap = cell(&report, "npap");
    assert_eq!(npap["state"], "open|filtered", "{npap:#}");
    assert_eq!(npap["verdict"], "warn");
    assert_eq!(facts(npap)["control_result"], "icmp-port-unreachable");
    assert!(
        npap["evidence"]["summary"]
            .as_str()
            .unwrap()
            .starts_with("likely listening"),
        "{npap:#}"
    );
    assert_eq!(code, 0);
    drop(silent);
}

/// A profile's hex payload is what leaves on the wire.
#[test]
fn a_profile_payload_is_sent_as_given() {
    let Some(ns) = Netns::create(&[]) else { return };
    let socket = ns.run(|| UdpSocket::bind("127.0.0.1:9300").unwrap());
    let got = std::thread::spawn(move || {
        let mut buf = [0u8; 1500];
        let (n, from) = socket.recv_from(&mut buf).unwrap();
        socket.send_to(b"ack", from).unwrap();
        buf[..n].to_vec()
    });
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path();
    let profile = dir.join("payload.toml");
    std::fs::write(&profile, "[targets]\nprinters = \"127.0.0.1\"\n[checks]\nonly = [\"npap\"]\n[payloads]\nnpap = \"de ad be ef\"\n").unwrap();
    let (_, report) = json_in(&ns, &["check", "--profile", profile.to_str().unwrap()]);
    assert_eq!(got.join().unwrap(), [0xde, 0xad, 0xbe, 0xef]);
    assert_eq!(cell(&report, "npap")["state"], "open");
}

#[test]
fn tls_1_0_only_firmware_is_present_but_incompatible_never_closed() {
    let Some(ns) = Netns::create(&[]) else { return };
    let Some(_old) = daemons::nginx(
        &ns,
        None,
        Some(addr("127.0.0.1:8443")),
        daemons::Tls::Tls10Only,
    ) else {
        return;
    };
    let (code, report) = check_one(&ns, "https", "https=8443");
    let https = cell(&report, "https");
    assert_eq!(https["state"], "open", "{https:#}");
    assert_eq!(https["reason"], "no-handshake", "{https:#}");
    // MVE cannot talk to it either: a required check that cannot prove its service fails.
    assert_eq!(https["verdict"], "fail");
    let summary = https["evidence"]["summary"].as_str().unwrap();
    assert!(
        summary.starts_with("TLS present but incompatible"),
        "{summary}"
    );
    assert!(
        https["hint"].as_str().unwrap().contains("TLS 1.2"),
        "{https:#}"
    );
    assert_eq!(code, 1);
}

/// A KDC whose clock is far from ours: a stand-in that replays a KRB-ERROR captured from the
/// real krb5kdc (tests/fixtures), whose server time is fixed at capture, so it grows stale.
#[test]
fn kerberos_clock_skew_beyond_five_minutes_warns() {
    let Some(ns) = Netns::create(&[]) else { return };
    let socket = ns.run(|| UdpSocket::bind("127.0.0.1:1088").unwrap());
    std::thread::spawn(move || {
        let reply = include_bytes!("fixtures/krb5kdc-principal-unknown.bin");
        let mut buf = [0u8; 2048];
        if let Ok((_, from)) = socket.recv_from(&mut buf) {
            let _ = socket.send_to(reply, from);
        }
    });
    let (code, report) = json_in(
        &ns,
        &["check", "--kerberos", "127.0.0.1:1088", "--retries", "0"],
    );
    let krb = cell(&report, "kerberos");
    assert_eq!(krb["state"], "verified", "{krb:#}");
    assert!(
        facts(krb)["clock_skew_seconds"].as_i64().unwrap() < -300,
        "{krb:#}"
    );
    assert_eq!(krb["verdict"], "warn");
    assert!(krb["hint"].as_str().unwrap().contains("NTP"), "{krb:#}");
    assert_eq!(code, 0);
}
