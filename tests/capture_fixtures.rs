//! Captures the byte fixtures of `tests/fixtures/` from the real daemons, so codec unit tests
//! parse what real servers send. Run on purpose, not in CI:
//!
//! ```sh
//! cargo test --test capture_fixtures -- --ignored
//! ```
// Network namespaces and setns are Linux-only; on other platforms this file builds empty.
#![cfg(target_os = "linux")]

mod support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::path::PathBuf;
use std::time::Duration;

use mve_audit::wire::{dns, firebird, kerberos, ldap, snmp, text};
use support::Netns;
use support::daemons::{self, Snmp};

fn fixture(name: &str, bytes: &[u8]) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::write(&path, bytes).unwrap();
    eprintln!("wrote {} ({} bytes)", path.display(), bytes.len());
}

fn udp(ns: &Netns, peer: SocketAddr, request: Vec<u8>) -> Vec<u8> {
    ns.run(move || {
        let socket = UdpSocket::bind(if peer.is_ipv4() {
            "0.0.0.0:0"
        } else {
            "[::]:0"
        })
        .unwrap();
        socket
            .set_read_timeout(Some(Duration::from_secs(1)))
            .unwrap();
        socket.connect(peer).unwrap();
        let mut buf = vec![0u8; 9000];
        // Avahi can let one legacy-unicast query go unanswered; ask up to three times.
        for _ in 0..3 {
            socket.send(&request).unwrap();
            if let Ok(n) = socket.recv(&mut buf) {
                buf.truncate(n);
                return buf;
            }
        }
        panic!("no answer from {peer}")
    })
}

/// Sends each request in turn and collects what arrives within a short quiet period after it.
fn tcp(ns: &Netns, peer: SocketAddr, requests: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
    ns.run(move || {
        let mut stream = TcpStream::connect_timeout(&peer, Duration::from_secs(3)).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_millis(700)))
            .unwrap();
        let mut replies = Vec::new();
        let read_all = |stream: &mut TcpStream| {
            let mut all = Vec::new();
            let mut buf = [0u8; 4096];
            while let Ok(n) = stream.read(&mut buf) {
                if n == 0 {
                    break;
                }
                all.extend_from_slice(&buf[..n]);
            }
            all
        };
        if requests.is_empty() {
            replies.push(read_all(&mut stream));
        }
        for request in requests {
            if request.is_empty() {
                replies.push(read_all(&mut stream));
                continue;
            }
            stream.write_all(&request).unwrap();
            replies.push(read_all(&mut stream));
        }
        replies
    })
}

#[test]
#[ignore = "writes tests/fixtures from real daemons; run on purpose"]
fn capture_from_real_daemons() {
    let ns = Netns::create(&[]).expect("namespace");
    let lo = |port: u16| SocketAddr::from(([127, 0, 0, 1], port));

    let settings = Snmp {
        addr: lo(1161),
        community: "public",
        sys_descr: "Lexmark CX725 lab",
        v3_user: None,
    };
    let _snmpd = daemons::snmpd(&ns, &settings).unwrap();
    fixture(
        "snmpd-discovery-report.bin",
        &udp(&ns, lo(1161), snmp::discovery_request(0x1234, 0x5678)),
    );

    let _kdc = daemons::krb5kdc(&ns, lo(1088), "LAB.TEST").unwrap();
    fixture(
        "krb5kdc-principal-unknown.bin",
        &udp(&ns, lo(1088), kerberos::as_request("LAB.TEST", 7)),
    );
    fixture(
        "krb5kdc-wrong-realm.bin",
        &udp(
            &ns,
            lo(1088),
            kerberos::as_request(kerberos::PLACEHOLDER_REALM, 8),
        ),
    );

    let _slapd = daemons::slapd(&ns, lo(1389), lo(1636)).unwrap();
    let replies = tcp(&ns, lo(1389), vec![ldap::root_dse_request(1)]);
    fixture("slapd-root-dse.bin", &replies[0]);

    let nginx = daemons::nginx(&ns, Some(lo(8080)), Some(lo(8443)), daemons::Tls::Current).unwrap();
    let replies = tcp(
        &ns,
        lo(8080),
        vec![text::http_head_request("printer.lab.test")],
    );
    fixture("nginx-head.bin", &replies[0]);
    let pem = std::fs::read_to_string(nginx.dir.join("cert.pem")).unwrap();
    fixture("nginx-certificate.der", &pem_to_der(&pem));

    let _ftp = daemons::vsftpd(&ns, lo(2121)).unwrap();
    let replies = tcp(&ns, lo(2121), vec![]);
    fixture("vsftpd-banner.bin", &replies[0]);

    let _postfix = daemons::postfix(&ns, lo(2525)).unwrap();
    let replies = tcp(
        &ns,
        lo(2525),
        vec![Vec::new(), b"EHLO [127.0.0.1]\r\n".to_vec()],
    );
    fixture("postfix-banner.bin", &replies[0]);
    fixture("postfix-ehlo.bin", &replies[1]);

    let _fb = daemons::firebird(&ns, "127.0.0.1".parse().unwrap()).unwrap();
    let replies = tcp(&ns, lo(3050), vec![firebird::connect_request()]);
    fixture("firebird-connect-answer.bin", &replies[0]);

    let printer = Netns::create(&[]).expect("namespace");
    let (_, b) = ns.link(&printer, "10.231.0.1", "10.231.0.2"); // lab link, test namespaces only
    let _avahi = daemons::avahi(&printer, &b, "printer-lab").unwrap();
    let mdns = SocketAddr::from(([10, 231, 0, 2], 5353));
    fixture(
        "avahi-services.bin",
        &udp(&ns, mdns, dns::ptr_query(0x4d56, dns::SERVICES)),
    );
    let host_config = udp(&ns, mdns, dns::ptr_query(0x4d57, dns::HOST_CONFIG));
    fixture("avahi-host-config-ptr.bin", &host_config);
    let instance = dns::parse_answer(&host_config).unwrap().pointer_names[0].clone();
    fixture(
        "avahi-host-config-txt.bin",
        &udp(&ns, mdns, dns::txt_query_for(0x4d58, &instance)),
    );
}

fn pem_to_der(pem: &str) -> Vec<u8> {
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    decode_base64(&body)
}

fn decode_base64(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let mut acc = 0u32;
    let mut bits = 0;
    for c in text.bytes().filter(|c| *c != b'=') {
        let value = ALPHABET.iter().position(|&a| a == c).expect("base64") as u32;
        acc = (acc << 6) | value;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}
