//! Exact under loss (issue 18): a path that stays silent on a host that answered elsewhere is
//! probed a second time before its silence is believed; a host that answered nothing is not.
//! The loss here is deterministic (nftables drops exactly the first SYN or datagram to a
//! port), so the tests do not depend on chance; `bench/fleet --loss` measures random loss.
#![cfg(target_os = "linux")]

mod support;

use std::net::TcpListener;

use support::{Netns, cell, json_in};

/// An nftables table with `rule` on the way in, and the first SYN to the HTTP port (7, closed)
/// dropped, so the reset to the kernel's retransmitted SYN shows the path loses packets.
fn lossy_path(rule: &str) -> String {
    format!(
        "table inet loss {{\n chain input {{\n  type filter hook input priority 0;\n  {rule}\n }}\n \
         chain http_in {{\n  type filter hook input priority 1;\n  \
         tcp dport 7 tcp flags syn numgen inc mod 1000000 == 0 drop\n }}\n}}\n"
    )
}

/// A RAW listener in `ns` whose first `lost` SYNs are dropped, and an HTTP port (7, closed)
/// whose first SYN is dropped, so the reset to the kernel's retransmitted SYN shows the path
/// loses packets; returns the listener and the report of `raw,http` with `extra` flags.
fn raw_behind_lost_syns(ns: &Netns, lost: u32, extra: &[&str]) -> (TcpListener, serde_json::Value) {
    let raw = ns.run(|| TcpListener::bind("127.0.0.1:0").unwrap());
    let raw_port = raw.local_addr().unwrap().port();
    assert!(ns.nft(&lossy_path(&format!(
        "tcp dport {raw_port} tcp flags syn numgen inc mod 1000000 < {lost} drop"
    ))));
    let raw_flag = format!("raw={raw_port}");
    let mut args = vec![
        "check",
        "--printers",
        "127.0.0.1",
        "--checks",
        "raw,http",
        "--port",
        &raw_flag,
        "--port",
        "http=7",
    ];
    args.extend(extra);
    let (_, report) = json_in(ns, &args);
    (raw, report)
}

/// The first two SYNs to the RAW port are lost, so its connect times out; the first SYN to
/// the HTTP port is lost too, and the reset to the kernel's retransmitted SYN (a second
/// later) shows the path loses packets. RAW, silent on a host that answered, is found open
/// on the second look, and the run says the path loses packets.
#[test]
fn a_lost_first_packet_is_found_by_the_second_look() {
    let Some(ns) = Netns::create(&[]) else { return };
    let (raw, report) = raw_behind_lost_syns(&ns, 2, &["--timeout", "1500ms"]);
    let http = cell(&report, "http");
    assert_eq!(http["state"], "closed", "{http:#}");
    assert!(
        http["evidence"]["rtt_ms"].as_f64().unwrap() >= 900.0,
        "answered to the retransmitted SYN: {http:#}"
    );
    let raw_cell = cell(&report, "raw");
    assert_eq!(raw_cell["state"], "open", "{raw_cell:#}");
    assert_eq!(raw_cell["second_look"], "answered", "{raw_cell:#}");
    assert_eq!(report["summary"]["second_looks"], 1);
    assert_eq!(report["summary"]["answered_second"], 1);
    assert_eq!(report["summary"]["fail"], 1, "http is closed");
    drop(raw);
}

/// On a clean path (no answer needed a retry) a silent cell is believed at once, and a host
/// that answers nothing is never probed again: neither costs a second look.
#[test]
fn a_clean_path_and_dark_hosts_get_no_second_look() {
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
    for c in report["cells"].as_array().unwrap() {
        assert!(c.get("second_look").is_none(), "{c:#}");
    }
    assert_eq!(cell(&report, "raw")["state"], "filtered");
    assert!(
        report["summary"].get("second_looks").is_none(),
        "{report:#}"
    );
}

/// On a path that loses packets, a path silent twice on an answering host stays silent and
/// says it was asked twice.
#[test]
fn silence_stands_after_a_second_look() {
    let Some(ns) = Netns::create(&[]) else { return };
    assert!(ns.nft(
        "table inet lossy {\n chain input {\n  type filter hook input priority 0;\n  \
         tcp dport 9100 drop\n  \
         tcp dport 7 tcp flags syn numgen inc mod 1000000 == 0 drop\n }\n}\n"
    ));
    let (_, report) = json_in(
        &ns,
        &[
            "check",
            "--printers",
            "127.0.0.1",
            "--checks",
            "raw,http",
            "--port",
            "http=7",
            "--timeout",
            "1500ms",
        ],
    );
    let raw = cell(&report, "raw");
    assert_eq!(raw["state"], "filtered", "{raw:#}");
    assert_eq!(raw["second_look"], "silent-again", "{raw:#}");
    assert_eq!(report["summary"]["second_looks"], 1);
    assert!(report["summary"].get("answered_second").is_none());
}

/// A second look does not leave its SYNs to the kernel's one retransmission: it staggers
/// three connects in its timeout. Here the first six SYNs to the RAW port are lost: the
/// first look's two (at 0 and 1 s), then four of the second look's; a second look of one
/// connect (SYNs at 0 and 1 s) would be silent again, the staggered one is answered by its
/// fifth SYN.
#[test]
fn a_second_look_staggers_its_syns() {
    let Some(ns) = Netns::create(&[]) else { return };
    let (raw, report) = raw_behind_lost_syns(&ns, 6, &[]);
    let raw_cell = cell(&report, "raw");
    assert_eq!(raw_cell["state"], "open", "{raw_cell:#}");
    assert_eq!(raw_cell["second_look"], "answered", "{raw_cell:#}");
    assert!(
        raw_cell["evidence"]["rtt_ms"].as_f64().unwrap() >= 400.0,
        "answered a later SYN of the second look: {raw_cell:#}"
    );
    drop(raw);
}

/// The same for a datagram: the first four datagrams to a UDP port are lost (the first
/// look's whole schedule, and its confirming datagram if it sends one); on a path that has
/// shown loss the second look sends the schedule again, a third of a timeout apart, and is
/// answered, well before three more timeouts would have passed.
#[test]
fn a_lost_datagram_is_found_by_the_second_look() {
    let Some(ns) = Netns::create(&[]) else { return };
    let udp = ns.run(|| std::net::UdpSocket::bind("127.0.0.1:0").unwrap());
    let udp_port = udp.local_addr().unwrap().port();
    udp.set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    // An echo, bounded by its read timeout: it ends 30 s after the last datagram.
    std::thread::spawn(move || {
        let mut buf = [0u8; 1500];
        while let Ok((n, from)) = udp.recv_from(&mut buf) {
            let _ = udp.send_to(&buf[..n], from);
        }
    });
    assert!(ns.nft(&lossy_path(&format!(
        "udp dport {udp_port} numgen inc mod 1000000 < 4 drop"
    ))));
    let npap = format!("npap={udp_port}");
    let started = std::time::Instant::now();
    let (_, report) = json_in(
        &ns,
        &[
            "check",
            "--printers",
            "127.0.0.1",
            "--checks",
            "npap,http",
            "--port",
            &npap,
            "--port",
            "http=7",
            "--timeout",
            "1500ms",
        ],
    );
    let took = started.elapsed();
    let cell_npap = cell(&report, "npap");
    assert_eq!(cell_npap["state"], "open", "{cell_npap:#}");
    assert_eq!(cell_npap["second_look"], "answered", "{cell_npap:#}");
    assert_eq!(report["summary"]["answered_second"], 1);
    // First look: three datagrams and perhaps a fourth, 1.5 s each (≤ 6 s); the second look
    // answered by its first or second datagram, half a second apart, where a schedule of
    // whole timeouts would have needed 1.5 s more.
    assert!(took < std::time::Duration::from_millis(5800), "{took:?}");
}
