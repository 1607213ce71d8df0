//! Hostile stand-ins: servers that answer wrongly on purpose, each in the way a real broken or
//! foreign service does, and the audit run against them end to end (the CLI, inside a test
//! namespace). A CA whose certificates or CRLs a strict Java client refuses, CEP/CES URLs that
//! answer something other than SOAP, CRL distribution points that cannot or must not be read,
//! a SQL Server Browser with a long or broken answer, an mDNS responder that sends a bare
//! header, an echo service on the HTTPS port, and banners carrying terminal escapes.
//!
//! These are stand-ins, not real daemons, on purpose: no real CA or Browser can be made to
//! answer this way. Certificates and CRLs are real ones, made with rcgen.
#![cfg(target_os = "linux")]

mod support;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rcgen::{
    BasicConstraints, CertificateParams, CertificateRevocationListParams, CrlDistributionPoint,
    DnType, IsCa, Issuer, KeyIdMethod, KeyPair, KeyUsagePurpose, SerialNumber, date_time_ymd,
};
use support::{Netns, cell, json_in, run_in};

const WEB: &str = "127.0.0.1:18280";
/// Stand-ins stop by themselves after this, whatever happens to the test.
const LIFETIME: Duration = Duration::from_secs(120);

/// A stand-in thread inside the namespace, stopped and joined on drop.
struct StandIn {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for StandIn {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Runs `serve` in `ns` until the stand-in is dropped; `serve` polls the flag it is given.
fn stand_in(ns: &Netns, serve: impl FnOnce(&AtomicBool) + Send + 'static) -> StandIn {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let (ready, wait) = std::sync::mpsc::channel();
    let thread = ns.spawn(move || {
        let _ = ready.send(());
        serve(&flag)
    });
    wait.recv().unwrap();
    StandIn {
        stop,
        thread: Some(thread),
    }
}

/// A TCP server at `at`: each accepted connection (blocking, reads time out after 2 s) is
/// handed to `serve`, one at a time.
fn tcp(ns: &Netns, at: &'static str, serve: impl Fn(TcpStream) + Send + 'static) -> StandIn {
    let listener = ns.run(move || TcpListener::bind(at).unwrap());
    listener.set_nonblocking(true).unwrap();
    stand_in(ns, move |stop| {
        let started = Instant::now();
        while !stop.load(Ordering::Relaxed) && started.elapsed() < LIFETIME {
            let Ok((stream, _)) = listener.accept() else {
                std::thread::sleep(Duration::from_millis(5));
                continue;
            };
            stream.set_nonblocking(false).unwrap();
            stream
                .set_read_timeout(Some(Duration::from_secs(2)))
                .unwrap();
            serve(stream);
        }
    })
}

/// An HTTP/1.1 server: each request's target (path and query) to a whole response.
fn web(ns: &Netns, at: &'static str, answer: impl Fn(&str) -> Vec<u8> + Send + 'static) -> StandIn {
    tcp(ns, at, move |mut stream| {
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") && head.len() < 64 * 1024 {
            match stream.read(&mut byte) {
                Ok(1) => head.push(byte[0]),
                _ => break,
            }
        }
        let text = String::from_utf8_lossy(&head).into_owned();
        let target = text.split(' ').nth(1).unwrap_or("/").to_string();
        let _ = stream.write_all(&answer(&target));
    })
}

fn response(status: &str, content_type: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

/// A CA named `name`, valid `from`–`to`, naming `points` as its CRL distribution points.
fn ca_params(name: &str, from: i32, to: i32, points: &[&str]) -> CertificateParams {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.distinguished_name.push(DnType::CommonName, name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params.not_before = date_time_ymd(from, 1, 1);
    params.not_after = date_time_ymd(to, 1, 1);
    params.serial_number = Some(SerialNumber::from(4242u64));
    if !points.is_empty() {
        params.crl_distribution_points = vec![CrlDistributionPoint {
            uris: points.iter().map(|p| p.to_string()).collect(),
        }];
    }
    params
}

fn crl_of(params: &CertificateParams, key: &KeyPair, this: i32, next: i32) -> Vec<u8> {
    CertificateRevocationListParams {
        this_update: date_time_ymd(this, 1, 1),
        next_update: date_time_ymd(next, 1, 1),
        crl_number: SerialNumber::from(1u64),
        issuing_distribution_point: None,
        revoked_certs: Vec::new(),
        key_identifier_method: KeyIdMethod::Sha256,
    }
    .signed_by(&Issuer::from_params(params, key))
    .unwrap()
    .der()
    .to_vec()
}

/// Every certificate and CRL the CA stand-in serves, by URL path.
struct Pki {
    files: Vec<(String, &'static str, Vec<u8>)>,
}

impl Pki {
    fn make() -> Pki {
        let mut files = Vec::new();
        let mut add = |path: &str, kind: &'static str, body: Vec<u8>| {
            files.push((path.to_string(), kind, body));
        };
        let der = "application/x-x509-ca-cert";
        let crl = "application/pkix-crl";
        let point = |name: &str| format!("http://{WEB}/{name}");
        // A CA that is not valid yet, and one whose certificate is not a CA.
        let key = KeyPair::generate().unwrap();
        let later = ca_params("Not Yet CA", 2090, 2095, &[]);
        add(
            "/notyet",
            der,
            later.self_signed(&key).unwrap().der().to_vec(),
        );
        let mut leafish = ca_params("No CA Flag", 2020, 2090, &[]);
        leafish.is_ca = IsCa::ExplicitNoCa;
        add(
            "/noca",
            der,
            leafish.self_signed(&key).unwrap().der().to_vec(),
        );
        // A leaf served before its CA, PEM.
        let root = ca_params("Order Root CA", 2020, 2090, &[]);
        let root_cert = root.self_signed(&key).unwrap();
        let mut leaf = CertificateParams::new(vec!["printer.lab.test".to_string()]).unwrap();
        leaf.distinguished_name
            .push(DnType::CommonName, "printer.lab.test");
        let leaf_key = KeyPair::generate().unwrap();
        let leaf_cert = leaf
            .signed_by(&leaf_key, &Issuer::from_params(&root, &key))
            .unwrap();
        add(
            "/leaffirst",
            der,
            format!("{}{}", leaf_cert.pem(), root_cert.pem()).into_bytes(),
        );
        // A CA whose point serves a CRL under its name, signed by another key.
        let foreign = ca_params("Foreign Key CA", 2020, 2090, &[&point("foreign.crl")]);
        add(
            "/foreign",
            der,
            foreign.self_signed(&key).unwrap().der().to_vec(),
        );
        let impostor = KeyPair::generate().unwrap();
        add("/foreign.crl", crl, crl_of(&foreign, &impostor, 2020, 2090));
        // A CRL issued in the future.
        let future = ca_params("Future CRL CA", 2020, 2095, &[&point("future.crl")]);
        add(
            "/future",
            der,
            future.self_signed(&key).unwrap().der().to_vec(),
        );
        add("/future.crl", crl, crl_of(&future, &key, 2080, 2090));
        // Five points, the fifth gone.
        let five_points: Vec<String> = (1..=5).map(|n| point(&format!("five{n}.crl"))).collect();
        let five_refs: Vec<&str> = five_points.iter().map(String::as_str).collect();
        let five = ca_params("Five Points CA", 2020, 2090, &five_refs);
        add("/five", der, five.self_signed(&key).unwrap().der().to_vec());
        for n in 1..=4 {
            add(
                &format!("/five{n}.crl"),
                crl,
                crl_of(&five, &key, 2020, 2090),
            );
        }
        // Points that cannot or must not be read.
        let odd = ca_params(
            "Odd Points CA",
            2020,
            2090,
            &[
                "ftp://127.0.0.1/odd.crl",
                "file:///c:/odd.crl",
                "ldap:///CN=Odd%20Points%20CA",
            ],
        );
        add("/odd", der, odd.self_signed(&key).unwrap().der().to_vec());
        let zero = ca_params(
            "Zero Point CA",
            2020,
            2090,
            &["http://0.0.0.0:18280/zero.crl"],
        );
        add("/zero", der, zero.self_signed(&key).unwrap().der().to_vec());
        let crlf = ca_params(
            "Header Point CA",
            2020,
            2090,
            &[&format!("{}\r\nX-Injected: 1", point("crlf.crl"))],
        );
        add("/crlf", der, crlf.self_signed(&key).unwrap().der().to_vec());
        // A fine CA, for EST only: the SCEP URL of the same server fails.
        let fine = ca_params("Fine CA", 2020, 2090, &[]);
        use base64::Engine;
        let b64 =
            base64::engine::general_purpose::STANDARD.encode(fine.self_signed(&key).unwrap().der());
        add(
            "/.well-known/est/cacerts",
            "application/pkcs7-mime",
            b64.into_bytes(),
        );
        Pki { files }
    }

    fn answer(&self, target: &str) -> Vec<u8> {
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        if query.contains("GetCACaps") && !path.starts_with("/fallback") {
            return response("200 OK", "text/plain", b"SHA-256\nAES\nSCEPStandard\n");
        }
        let base = path.trim_end_matches("/pkiclient.exe");
        if let Some((_, kind, body)) = self.files.iter().find(|(p, ..)| p == base) {
            return response("200 OK", kind, body);
        }
        match path {
            "/cep404/service.svc/CEP" => {
                response("404 Not Found", "text/html", b"<html>Not Found</html>")
            }
            "/ceplogin/service.svc/CEP" => response(
                "200 OK",
                "text/html",
                b"<html><form action=/login>Sign in</form></html>",
            ),
            "/cepmoved/service.svc/CEP" => b"HTTP/1.1 302 Found\r\nLocation: \
                https://login.lab.test/\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                .to_vec(),
            _ => response("404 Not Found", "text/html", b"<html>nothing here</html>"),
        }
    }
}

fn check_ca(ns: &Netns, path: &str) -> serde_json::Value {
    let url = format!("http://{WEB}{path}");
    let (_, report) = json_in(ns, &["check", "--ca", &url, "--timeout", "1s"]);
    report
}

#[test]
fn a_hostile_ca_never_passes() {
    let Some(ns) = Netns::create(&[]) else { return };
    let pki = Pki::make();
    let _web = web(&ns, WEB, move |target| pki.answer(target));
    // The CA certificate itself, judged as Java does.
    for (path, words) in [
        ("/notyet/pkiclient.exe", "not valid until 2090-01-01"),
        ("/noca/pkiclient.exe", "no certificate served is a CA"),
    ] {
        let report = check_ca(&ns, path);
        let ca = cell(&report, "ca");
        assert_eq!(ca["reason"], "rejected", "{path}: {ca:#}");
        assert_eq!(ca["verdict"], "fail", "{path}: {ca:#}");
        assert!(
            ca["hint"].as_str().unwrap().contains(words),
            "{path}: {ca:#}"
        );
    }
    let report = check_ca(&ns, "/leaffirst/pkiclient.exe");
    let ca = cell(&report, "ca");
    assert_eq!(ca["verdict"], "warn", "{ca:#}");
    assert!(
        ca["evidence"]["facts"]["ca_subject"]
            .as_str()
            .unwrap()
            .contains("Order Root CA"),
        "the CA, not the leaf served first: {ca:#}"
    );
    assert!(
        ca["hint"]
            .as_str()
            .unwrap()
            .contains("served before the CA")
    );
    // CEP/CES URLs that answer no SOAP.
    for path in [
        "/cep404/service.svc/CEP",
        "/ceplogin/service.svc/CEP",
        "/cepmoved/service.svc/CEP",
    ] {
        let report = check_ca(&ns, path);
        let ca = cell(&report, "ca");
        assert_eq!(ca["state"], "open", "{path}: {ca:#}");
        assert_eq!(ca["reason"], "wrong-protocol", "{path}: {ca:#}");
        assert_eq!(ca["verdict"], "fail", "{path}: {ca:#}");
    }
    // A SCEP URL that fails on a server whose EST works: the SCEP URL fails.
    let report = check_ca(&ns, "/fallback/pkiclient.exe");
    let ca = cell(&report, "ca");
    assert_eq!(ca["verdict"], "fail", "{ca:#}");
    assert!(ca["hint"].as_str().unwrap().contains("EST"), "{ca:#}");
}

#[test]
fn a_crl_that_is_not_the_cas_own_or_not_read_never_passes() {
    let Some(ns) = Netns::create(&[]) else { return };
    let pki = Pki::make();
    let _web = web(&ns, WEB, move |target| pki.answer(target));
    let crl = |path: &str| {
        let report = check_ca(&ns, path);
        cell(&report, "crl").clone()
    };
    let foreign = crl("/foreign/pkiclient.exe");
    assert_eq!(foreign["reason"], "rejected", "{foreign:#}");
    assert!(
        foreign["hint"]
            .as_str()
            .unwrap()
            .contains("does not verify"),
        "{foreign:#}"
    );
    let future = crl("/future/pkiclient.exe");
    assert_eq!(future["reason"], "rejected", "{future:#}");
    assert!(future["hint"].as_str().unwrap().contains("in the future"));
    let five = crl("/five/pkiclient.exe");
    assert_eq!(five["verdict"], "fail", "{five:#}");
    let summary = five["evidence"]["summary"].as_str().unwrap();
    assert!(
        summary.contains("4 of 5 distribution points fine"),
        "{summary}"
    );
    assert!(summary.contains("five5.crl"), "{summary}");
    // Nothing that could be read: never verified, and each point named with why.
    let odd = crl("/odd/pkiclient.exe");
    assert_eq!(odd["state"], "open", "{odd:#}");
    assert_eq!(odd["reason"], "not-verified", "{odd:#}");
    let summary = odd["evidence"]["summary"].as_str().unwrap();
    for point in ["ftp://", "file:///", "ldap:///"] {
        assert!(summary.contains(point), "{point}: {summary}");
    }
    // A derived address is held to a typed target's refusals.
    let zero = crl("/zero/pkiclient.exe");
    assert_ne!(zero["verdict"], "pass", "{zero:#}");
    assert!(
        zero["evidence"]["summary"]
            .as_str()
            .unwrap()
            .contains("0.0.0.0 is not probed"),
        "{zero:#}"
    );
    // A point whose URL would carry a header into the request: not fetched.
    let crlf = crl("/crlf/pkiclient.exe");
    assert_eq!(crlf["reason"], "not-verified", "{crlf:#}");
    assert!(
        crlf["evidence"]["summary"]
            .as_str()
            .unwrap()
            .contains("control character"),
        "{crlf:#}"
    );
}

#[test]
fn a_ca_name_is_held_to_the_rules_of_a_typed_address() {
    let Some(ns) = Netns::create(&[
        "0.0.0.0 zero.lab.test",
        "127.0.0.1 multi.lab.test",
        "127.0.0.2 multi.lab.test",
    ]) else {
        return;
    };
    let pki = Pki::make();
    let _web = web(&ns, WEB, move |target| pki.answer(target));
    let (code, report) = json_in(
        &ns,
        &[
            "check",
            "--ca",
            "http://zero.lab.test:18280/five/pkiclient.exe",
            "--timeout",
            "1s",
        ],
    );
    let ca = cell(&report, "ca");
    assert_eq!(ca["state"], "error", "{ca:#}");
    assert!(
        ca["evidence"]["summary"]
            .as_str()
            .unwrap()
            .contains("0.0.0.0"),
        "{ca:#}"
    );
    assert_eq!(code, 1);
    let (_, report) = json_in(
        &ns,
        &[
            "check",
            "--ca",
            "http://multi.lab.test:18280/five/pkiclient.exe",
            "--timeout",
            "1s",
        ],
    );
    let ca = cell(&report, "ca");
    let notes = ca["evidence"]["notes"].to_string();
    assert!(
        notes.contains("127.0.0.2"),
        "the other address is named: {ca:#}"
    );
}

/// A SQL Server Browser stand-in (MC-SQLR) answering instance questions with `record`.
fn browser(ns: &Netns, every: String) -> StandIn {
    let socket = ns.run(|| UdpSocket::bind("127.0.0.1:1434").unwrap());
    socket
        .set_read_timeout(Some(Duration::from_millis(20)))
        .unwrap();
    stand_in(ns, move |stop| {
        let started = Instant::now();
        let mut buf = [0u8; 2048];
        while !stop.load(Ordering::Relaxed) && started.elapsed() < LIFETIME {
            let Ok((n, from)) = socket.recv_from(&mut buf) else {
                continue;
            };
            let asked = String::from_utf8_lossy(&buf[1..n])
                .trim_end_matches('\0')
                .to_string();
            let data = match buf[0] {
                // The instance question: answered only for instances that exist.
                4 if every.contains(&format!("InstanceName;{asked};")) => every
                    .split(";;")
                    .find(|r| r.contains(&format!("InstanceName;{asked};")))
                    .map(|r| format!("{r};;"))
                    .unwrap(),
                3 => every.clone(),
                _ => continue,
            };
            let mut reply = vec![5];
            reply.extend_from_slice(&(data.len() as u16).to_le_bytes());
            reply.extend_from_slice(data.as_bytes());
            let _ = socket.send_to(&reply, from);
        }
    })
}

#[test]
fn a_long_or_broken_browser_answer_is_read_for_what_it_is() {
    let Some(ns) = Netns::create(&[]) else { return };
    let mut every = String::new();
    for n in 0..150 {
        every.push_str(&format!(
            "ServerName;DB;InstanceName;INST{n:03};IsClustered;No;Version;16.0.1000.6;tcp;{};;",
            41000 + n
        ));
    }
    every.push_str("ServerName;DB;InstanceName;BROKEN;IsClustered;No;tcp;abc;;");
    assert!(every.len() > 8192);
    let _browser = browser(&ns, every);
    let sql = |instance: &str| {
        let target = format!("127.0.0.1\\{instance}");
        let (_, report) = json_in(&ns, &["check", "--sqlserver", &target, "--timeout", "1s"]);
        report
    };
    // The last instance of a 10 KB list, asked for the list (unknown names draw silence).
    let report = sql("INST149");
    let browser_cell = cell(&report, "sql-browser");
    assert_eq!(browser_cell["state"], "verified", "{browser_cell:#}");
    assert_eq!(browser_cell["evidence"]["facts"]["tcp_port"], 41149);
    let report = sql("BROKEN");
    let broken = cell(&report, "sql-browser");
    assert_eq!(broken["reason"], "cut-short", "{broken:#}");
    assert!(!broken["hint"].as_str().unwrap().contains("TCP/IP disabled"));
    // An instance the host does not have: the sqlserver cell probes no port.
    let report = sql("NOPE");
    let server = cell(&report, "sqlserver");
    assert_eq!(server["port"], 0, "{server:#}");
    assert!(
        server["hint"].as_str().unwrap().contains("instance name"),
        "{server:#}"
    );
}

#[test]
fn a_bare_mdns_header_and_an_echo_on_443_are_not_the_service() {
    let Some(ns) = Netns::create(&[]) else { return };
    let socket = ns.run(|| UdpSocket::bind("127.0.0.1:5353").unwrap());
    socket
        .set_read_timeout(Some(Duration::from_millis(20)))
        .unwrap();
    let _mdns = stand_in(&ns, move |stop| {
        let started = Instant::now();
        let mut buf = [0u8; 1500];
        while !stop.load(Ordering::Relaxed) && started.elapsed() < LIFETIME {
            if let Ok((n, from)) = socket.recv_from(&mut buf)
                && n >= 12
            {
                let mut header = buf[..12].to_vec();
                header[2] |= 0x80;
                header[4..12].fill(0);
                let _ = socket.send_to(&header, from);
            }
        }
    });
    let _echo = tcp(&ns, "127.0.0.1:18443", |mut stream| {
        let mut buf = [0u8; 4096];
        while let Ok(n) = stream.read(&mut buf) {
            if n == 0 || stream.write_all(&buf[..n]).is_err() {
                break;
            }
        }
    });
    let (_, report) = json_in(
        &ns,
        &[
            "check",
            "--printers",
            "127.0.0.1",
            "--checks",
            "mdns,https",
            "--port",
            "https=18443",
            "--timeout",
            "1s",
        ],
    );
    let mdns = cell(&report, "mdns");
    assert_eq!(mdns["state"], "open", "{mdns:#}");
    assert_eq!(mdns["verdict"], "fail", "{mdns:#}");
    let https = cell(&report, "https");
    assert_eq!(https["reason"], "wrong-protocol", "{https:#}");
    assert!(
        !https["hint"]
            .as_str()
            .unwrap_or_default()
            .contains("TLS 1.2"),
        "{https:#}"
    );
}

#[test]
fn banners_with_terminal_escapes_reach_no_human_format_raw() {
    let Some(ns) = Netns::create(&[]) else { return };
    let _ftp = tcp(&ns, "127.0.0.1:18021", |mut stream| {
        let _ = stream
            .write_all(b"220 \x1b]0;owned\x07\x1b[2J\x1b[31mESMTP\x9b ready \xe2\x80\xae\r\n");
        let mut sink = [0u8; 256];
        let _ = stream.read(&mut sink);
        let _ = stream.write_all(b"221 bye\r\n");
    });
    for format in ["table", "markdown", "html", "csv", "junit"] {
        for extra in [&[][..], &["--details", "-vv"][..]] {
            let mut args = vec![
                "check",
                "--printers",
                "127.0.0.1",
                "--checks",
                "ftp",
                "--port",
                "ftp=18021",
                "--timeout",
                "1s",
                "--format",
                format,
            ];
            args.extend(extra);
            let (_, stdout, stderr) = run_in(&ns, &args);
            // A mail server's banner on the FTP port: wrong protocol, its evidence shown.
            assert!(
                stdout.contains("ESMTP"),
                "{format}: the banner is shown: {stdout}"
            );
            for (stream, text) in [("stdout", &stdout), ("stderr", &stderr)] {
                for raw in ['\x1b', '\x07', '\u{9b}', '\u{202e}'] {
                    assert!(
                        !text.contains(raw),
                        "{format} {extra:?}: a raw {raw:?} from the network reached {stream}:\n{text:?}"
                    );
                }
            }
        }
    }
}
