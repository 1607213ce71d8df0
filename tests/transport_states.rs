//! Each probe state made to really happen, inside a namespace the test creates, with the
//! evidence that decided it.
// Network namespaces and setns are Linux-only; on other platforms this file builds empty.
#![cfg(target_os = "linux")]

mod support;

use std::net::{TcpListener, UdpSocket};
use std::time::Duration;

use support::{Netns, cell, check_one, json_in};

/// A UDP socket in `ns` that answers every datagram with `reply` and reports each sender.
fn udp_responder(
    ns: &Netns,
    reply: &'static [u8],
) -> (u16, std::sync::mpsc::Receiver<std::net::SocketAddr>) {
    let socket = ns.run(|| UdpSocket::bind("127.0.0.1:0").expect("bind responder"));
    let port = socket.local_addr().unwrap().port();
    let (seen, senders) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = [0u8; 2048];
        // Bounded: the test process ends, or 100 datagrams arrive.
        for _ in 0..100 {
            let Ok((_, from)) = socket.recv_from(&mut buf) else {
                break;
            };
            let _ = seen.send(from);
            if !reply.is_empty() {
                let _ = socket.send_to(reply, from);
            }
        }
    });
    (port, senders)
}

#[test]
fn tcp_listener_is_open_with_rtt_and_source_port() {
    let Some(ns) = Netns::create(&[]) else { return };
    let listener = ns.run(|| TcpListener::bind("127.0.0.1:0").unwrap());
    let port = listener.local_addr().unwrap().port().to_string();
    let (code, report) = check_one(&ns, "raw", &format!("raw={port}"));
    let raw = cell(&report, "raw");
    assert_eq!(raw["state"], "open", "{raw:#}");
    assert_eq!(raw["verdict"], "pass");
    assert_eq!(raw["port"].as_u64(), Some(port.parse().unwrap()));
    assert!(raw["evidence"]["rtt_ms"].as_f64().is_some(), "{raw:#}");
    assert!(raw["evidence"]["source_port"].as_u64().unwrap() > 0);
    assert_eq!(code, 0);
}

#[test]
fn unused_tcp_port_is_closed_by_reset() {
    let Some(ns) = Netns::create(&[]) else { return };
    let (code, report) = check_one(&ns, "raw", "raw=9");
    let raw = cell(&report, "raw");
    assert_eq!(raw["state"], "closed", "{raw:#}");
    assert_eq!(raw["evidence"]["errno"], "ECONNREFUSED");
    assert_eq!(raw["verdict"], "fail");
    assert!(raw["hint"].as_str().unwrap().contains("tcp 9"), "{raw:#}");
    assert_eq!(code, 1);
}

#[test]
fn udp_responder_is_open_with_the_reply() {
    let Some(ns) = Netns::create(&[]) else { return };
    let (port, _seen) = udp_responder(&ns, b"pong");
    let (code, report) = check_one(&ns, "snmp", &format!("snmp={port}"));
    let snmp = cell(&report, "snmp");
    assert_eq!(snmp["state"], "open", "{snmp:#}");
    assert_eq!(snmp["evidence"]["reply_len"], 4);
    assert_eq!(snmp["evidence"]["reply_head"], "706f6e67");
    assert_eq!(snmp["evidence"]["reply_from"], format!("127.0.0.1:{port}"));
    assert_eq!(snmp["reason"], "wrong-protocol", "{snmp:#}");
    assert_eq!(
        code, 1,
        "a reply that is not SNMP does not pass the required check"
    );
}

#[test]
fn unused_udp_port_is_closed_by_icmp() {
    let Some(ns) = Netns::create(&[]) else { return };
    let (code, report) = check_one(&ns, "snmp", "snmp=9");
    let snmp = cell(&report, "snmp");
    assert_eq!(snmp["state"], "closed", "{snmp:#}");
    assert_eq!(snmp["evidence"]["errno"], "ECONNREFUSED");
    assert!(
        snmp["evidence"]["icmp"]
            .as_str()
            .unwrap()
            .contains("port unreachable")
    );
    assert_eq!(code, 1);
}

#[test]
fn silent_udp_socket_is_open_filtered_after_every_retry() {
    let Some(ns) = Netns::create(&[]) else { return };
    let (port, seen) = udp_responder(&ns, b"");
    let (code, report) = json_in(
        &ns,
        &[
            "check",
            "--printers",
            "127.0.0.1",
            "--checks",
            "snmp",
            "--port",
            &format!("snmp={port}"),
            "--timeout",
            "200ms",
            "--retries",
            "2",
        ],
    );
    let snmp = cell(&report, "snmp");
    assert_eq!(snmp["state"], "open|filtered", "{snmp:#}");
    assert_eq!(snmp["evidence"]["attempts"], 3);
    // Three discovery datagrams, then one GET as a last try.
    assert_eq!(
        seen.try_iter().count(),
        4,
        "the responder read every datagram"
    );
    assert_eq!(
        snmp["verdict"], "fail",
        "an SNMP agent always answers discovery"
    );
    assert_eq!(code, 1);
}

#[test]
fn nftables_drop_and_admin_prohibited_reject_are_filtered() {
    let Some(ns) = Netns::create(&[]) else { return };
    // Listeners behind every rule, so nothing but the firewall decides the state.
    let held = ns.run(|| {
        let tcp: Vec<_> = [7001, 7003]
            .map(|p| TcpListener::bind(("127.0.0.1", p)).unwrap())
            .into();
        let udp: Vec<_> = [7002, 7004, 7005]
            .map(|p| UdpSocket::bind(("127.0.0.1", p)).unwrap())
            .into();
        (tcp, udp)
    });
    let rules = "table inet mvt {
        chain input {
            type filter hook input priority 0; policy accept;
            tcp dport 7001 drop
            udp dport 7002 drop
            tcp dport 7003 reject with icmpx type admin-prohibited
            udp dport 7004 reject with icmpx type admin-prohibited
            meta nfproto ipv4 udp dport 7005 reject with icmp type host-unreachable
        }
    }";
    if !ns.nft(rules) {
        return;
    }
    let (code, report) = json_in(
        &ns,
        &[
            "check",
            "--printers",
            "127.0.0.1",
            "--checks",
            "raw,https,snmp,mdns,xmlnt",
            "--port",
            "raw=7001",
            "--port",
            "snmp=7002",
            "--port",
            "https=7003",
            "--port",
            "mdns=7004",
            "--port",
            "xmlnt=7005",
            "--timeout",
            "300ms",
            "--retries",
            "1",
        ],
    );
    let dropped_tcp = cell(&report, "raw");
    assert_eq!(dropped_tcp["state"], "filtered", "{dropped_tcp:#}");
    assert!(
        dropped_tcp["evidence"]["summary"]
            .as_str()
            .unwrap()
            .contains("no answer")
    );

    // A dropped UDP datagram is indistinguishable from a silent service: open|filtered,
    // which fails a required SNMP check.
    let dropped_udp = cell(&report, "snmp");
    assert_eq!(dropped_udp["state"], "open|filtered", "{dropped_udp:#}");
    assert_eq!(dropped_udp["verdict"], "fail");

    for check in ["https", "mdns"] {
        let rejected = cell(&report, check);
        assert_eq!(rejected["state"], "filtered", "{rejected:#}");
        assert_eq!(
            rejected["evidence"]["errno"], "EHOSTUNREACH",
            "{rejected:#}"
        );
        assert!(
            rejected["evidence"]["icmp"]
                .as_str()
                .unwrap()
                .contains("prohibited")
        );
    }
    // On Linux the UDP socket reads the exact ICMP message from its error queue.
    let udp = cell(&report, "mdns");
    assert_eq!(
        udp["evidence"]["icmp"],
        "destination unreachable: communication administratively prohibited (type 3 code 13)",
        "{udp:#}"
    );
    assert_eq!(udp["evidence"]["icmp_from"], "127.0.0.1");
    // A host unreachable is a "soft" ICMP error that Linux hides from UDP sockets unless they
    // ask (IP_RECVERR): without it this cell would read open|filtered.
    let soft = cell(&report, "xmlnt");
    assert_eq!(soft["state"], "filtered", "{soft:#}");
    assert!(
        soft["evidence"]["icmp"]
            .as_str()
            .unwrap()
            .contains("host unreachable (type 3 code 1)"),
        "{soft:#}"
    );
    assert_eq!(code, 1);
    drop(held);
}

#[test]
fn npap_leaves_from_source_port_9187() {
    let Some(ns) = Netns::create(&[]) else { return };
    let (port, seen) = udp_responder(&ns, b"npap?");
    let (_, report) = check_one(&ns, "npap", &format!("npap={port}"));
    let from = seen
        .recv_timeout(Duration::from_secs(5))
        .expect("the responder saw the probe");
    assert_eq!(
        from.port(),
        9187,
        "the responder saw source port {}",
        from.port()
    );
    let npap = cell(&report, "npap");
    assert_eq!(npap["state"], "open", "{npap:#}");
    assert_eq!(npap["evidence"]["source_port"], 9187);
    assert!(npap["evidence"].get("notes").is_none(), "{npap:#}");
}

#[test]
fn npap_falls_back_to_an_ephemeral_port_when_9187_is_held() {
    let Some(ns) = Netns::create(&[]) else { return };
    // Held the way a running MVE holds it: a plain bind, no SO_REUSEADDR.
    let holder = ns.run(|| UdpSocket::bind("0.0.0.0:9187").expect("hold 9187"));
    let (port, seen) = udp_responder(&ns, b"npap?");
    let (_, report) = check_one(&ns, "npap", &format!("npap={port}"));
    let from = seen
        .recv_timeout(Duration::from_secs(5))
        .expect("the responder saw the probe");
    assert_ne!(from.port(), 9187);
    let npap = cell(&report, "npap");
    assert_eq!(npap["state"], "open", "{npap:#}");
    assert_eq!(
        npap["evidence"]["source_port"].as_u64(),
        Some(u64::from(from.port()))
    );
    let notes = npap["evidence"]["notes"][0].as_str().unwrap();
    assert!(notes.contains("source-port rule untested"), "{notes}");
    assert!(notes.contains("9187"), "{notes}");
    drop(holder);
}

#[test]
fn many_npap_probes_share_9187_and_each_gets_its_own_reply() {
    let Some(ns) = Netns::create(&[]) else { return };
    // Four responders on four loopback addresses: concurrent probes from one source port must
    // each read the reply of their own peer.
    let responders: Vec<_> = (1..=4)
        .map(|i| {
            let addr = format!("127.0.0.{i}:9300");
            let socket = ns.run(move || UdpSocket::bind(addr).unwrap());
            std::thread::spawn(move || {
                let mut buf = [0u8; 64];
                if let Ok((_, from)) = socket.recv_from(&mut buf) {
                    let _ = socket.send_to(&[i as u8; 3], from);
                }
            })
        })
        .collect();
    let (code, report) = json_in(
        &ns,
        &[
            "check",
            "--printers",
            "127.0.0.1,127.0.0.2,127.0.0.3,127.0.0.4",
            "--checks",
            "npap",
        ],
    );
    for i in 1..=4u8 {
        let cell = report["cells"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["address"] == format!("127.0.0.{i}"))
            .unwrap();
        assert_eq!(cell["state"], "open", "{cell:#}");
        assert_eq!(cell["evidence"]["source_port"], 9187, "{cell:#}");
        assert_eq!(
            cell["evidence"]["reply_head"],
            format!("{i:02x}{i:02x}{i:02x}"),
            "{cell:#}"
        );
    }
    assert_eq!(code, 0);
    for r in responders {
        r.join().unwrap();
    }
}

/// The host diagnoses a support engineer names, from real firewall rules: every UDP path
/// dropped while TCP answers, and every TCP connection refused while UDP answers.
#[test]
fn udp_dropping_and_tcp_refusing_firewalls_are_named_for_the_host() {
    let summary = |ns: &Netns, args: &[&str]| {
        let out = ns
            .mve_audit()
            .args([
                "check",
                "--printers",
                "127.0.0.1",
                "--summary",
                "--color",
                "never",
            ])
            .args(["--timeout", "300ms", "--retries", "0"])
            .args(args)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    // UDP dropped, TCP answering (a listener on the RAW port).
    let Some(ns) = Netns::create(&[]) else { return };
    let _raw = ns.run(|| TcpListener::bind(("127.0.0.1", 7101)).unwrap());
    if !ns.nft(
        "table inet mvt {
            chain input {
                type filter hook input priority 0; policy accept;
                meta l4proto udp drop
            }
        }",
    ) {
        return;
    }
    let text = summary(&ns, &["--checks", "raw,snmp,npap", "--port", "raw=7101"]);
    assert!(
        text.contains("TCP answers but every UDP path is silent"),
        "{text}"
    );
    assert!(text.contains("drops UDP"), "{text}");
    // TCP refused by the firewall, UDP answering (a responder on the NPAP port).
    let Some(ns) = Netns::create(&[]) else { return };
    let responder = ns.run(|| UdpSocket::bind(("127.0.0.1", 7102)).unwrap());
    let echo = std::thread::spawn(move || {
        let mut buf = [0u8; 1500];
        responder
            .set_read_timeout(Some(std::time::Duration::from_secs(2)))
            .unwrap();
        while let Ok((_, from)) = responder.recv_from(&mut buf) {
            let _ = responder.send_to(b"npap reply", from);
        }
    });
    if !ns.nft(
        "table inet mvt {
            chain input {
                type filter hook input priority 0; policy accept;
                tcp dport 7103 reject with tcp reset
                tcp dport 7104 reject with icmpx type admin-prohibited
            }
        }",
    ) {
        return;
    }
    let text = summary(
        &ns,
        &[
            "--checks",
            "npap,raw,http",
            "--port",
            "npap=7102",
            "--port",
            "raw=7103",
            "--port",
            "http=7104",
        ],
    );
    assert!(
        text.contains("UDP answers but every TCP path is refused or dropped"),
        "{text}"
    );
    assert!(text.contains("Restricted Server List"), "{text}");
    drop(ns);
    let _ = echo.join();
}
