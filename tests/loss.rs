//! Exact under loss (issue 18): a path that stays silent on a host that answered elsewhere is
//! probed a second time before its silence is believed; a host that answered nothing is not.
//! The loss here is deterministic (nftables drops exactly the first SYN or datagram to a
//! port), so the tests do not depend on chance; `bench/fleet --loss` measures random loss.
#![cfg(target_os = "linux")]

mod support;

use std::net::{TcpListener, UdpSocket};

use support::{Netns, cell, json_in};

/// The first SYN to the RAW port and the first datagram to the SNMP-port stand-in are lost;
/// the host answers on HTTP (a reset). Both paths are found open on the second look, and
/// the run says the path loses packets.
#[test]
fn a_lost_first_packet_is_found_by_the_second_look() {
    let Some(ns) = Netns::create(&[]) else { return };
    let raw = ns.run(|| TcpListener::bind("127.0.0.1:0").unwrap());
    let raw_port = raw.local_addr().unwrap().port();
    let udp = ns.run(|| UdpSocket::bind("127.0.0.1:0").unwrap());
    let udp_port = udp.local_addr().unwrap().port();
    // A stand-in that answers every datagram it gets (bounded: the test ends first).
    ns.spawn(move || {
        let mut buf = [0u8; 1500];
        for _ in 0..100 {
            let Ok((_, from)) = udp.recv_from(&mut buf) else {
                return;
            };
            let _ = udp.send_to(b"\x30\x00", from);
        }
    });
    assert!(ns.nft(&format!(
        "table inet loss {{\n chain input {{\n  type filter hook input priority 0;\n  \
         tcp dport {raw_port} tcp flags syn numgen inc mod 1000000 == 0 drop\n }}\n \
         chain udp_in {{\n  type filter hook input priority 1;\n  \
         udp dport {udp_port} numgen inc mod 1000000 == 0 drop\n }}\n}}\n"
    )));
    let (code, report) = json_in(
        &ns,
        &[
            "check",
            "--printers",
            "127.0.0.1",
            "--checks",
            "raw,http,npap",
            "--port",
            &format!("raw={raw_port}"),
            "--port",
            "http=7",
            "--port",
            &format!("npap={udp_port}"),
            "--timeout",
            "400ms",
            "--retries",
            "0",
        ],
    );
    let raw_cell = cell(&report, "raw");
    assert_eq!(raw_cell["state"], "open", "{raw_cell:#}");
    assert_eq!(raw_cell["second_look"], "answered", "{raw_cell:#}");
    let npap = cell(&report, "npap");
    assert_eq!(npap["state"], "open", "{npap:#}");
    assert_eq!(npap["second_look"], "answered", "{npap:#}");
    assert_eq!(cell(&report, "http")["state"], "closed");
    assert_eq!(report["summary"]["second_looks"], 2);
    assert_eq!(report["summary"]["answered_second"], 2);
    assert_eq!(code, 1, "http is closed");
    drop(raw);
}

/// A path silent twice on an answering host stays silent, and says it was asked twice; a
/// host that answers nothing at all gets no second look (dark hosts cost what they did).
#[test]
fn silence_stands_after_a_second_look_and_dark_hosts_get_none() {
    let Some(ns) = Netns::create(&[]) else { return };
    assert!(ns.nft(
        "table inet dark {\n chain input {\n  type filter hook input priority 0;\n  \
         ip daddr 127.0.0.9 drop\n  tcp dport 9100 drop\n }\n}\n"
    ));
    let (_, report) = json_in(
        &ns,
        &[
            "check",
            "--printers",
            "127.0.0.1,127.0.0.9",
            "--checks",
            "raw,http",
            "--port",
            "http=7",
            "--timeout",
            "300ms",
        ],
    );
    let cells = report["cells"].as_array().unwrap();
    let raw_here = cells
        .iter()
        .find(|c| c["check"] == "raw" && c["target"] == "127.0.0.1")
        .unwrap();
    assert_eq!(raw_here["state"], "filtered", "{raw_here:#}");
    assert_eq!(raw_here["second_look"], "silent-again", "{raw_here:#}");
    for dark in cells.iter().filter(|c| c["target"] == "127.0.0.9") {
        assert_eq!(dark["state"], "filtered", "{dark:#}");
        assert!(dark.get("second_look").is_none(), "{dark:#}");
    }
    assert_eq!(report["summary"]["second_looks"], 1);
    assert!(report["summary"].get("answered_second").is_none());
}
