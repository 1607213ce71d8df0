//! The paths back to the server: `local`, `listen` and `send`, in namespaces the tests create.
// Network namespaces and setns are Linux-only; on other platforms this file builds empty.
#![cfg(target_os = "linux")]

mod support;

use std::io::{BufRead, BufReader};
use std::net::UdpSocket;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use support::{Netns, cell};

/// Starts `listen` in `ns` and waits until it says it is listening.
fn start_listen(ns: &Netns, args: &[&str]) -> Child {
    let mut child = ns
        .mve_audit()
        .arg("listen")
        .args(args)
        .args(["--format", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start listen");
    let stderr = child.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    let first = lines.next().expect("listen says something").unwrap();
    assert!(first.contains("listening on"), "{first}");
    // Keep draining stderr so the listener never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    child
}

fn finish(child: Child) -> (i32, serde_json::Value) {
    let output = child.wait_with_output().unwrap();
    let report = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    });
    (output.status.code().unwrap_or(-1), report)
}

fn json(ns: &Netns, args: &[&str]) -> (i32, serde_json::Value) {
    let output = ns
        .mve_audit()
        .args(args)
        .args(["--format", "json"])
        .output()
        .unwrap();
    let report = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    });
    (output.status.code().unwrap_or(-1), report)
}

/// A server and a printer namespace joined by a veth pair (lab addresses, namespaces only).
/// Lab addresses: they exist only inside the two test namespaces.
const SERVER_LAB: &str = "10.231.2.1"; // lab
const PRINTER_LAB: &str = "10.231.2.2"; // lab

fn pair() -> Option<(Netns, Netns)> {
    let server = Netns::create(&[])?;
    let printer = Netns::create(&[])?;
    server.link(&printer, SERVER_LAB, PRINTER_LAB);
    Some((server, printer))
}

#[test]
fn listen_and_send_verify_both_paths_and_a_drop_rule_fails_the_alert_path_on_both_sides() {
    let Some((server, printer)) = pair() else {
        return;
    };
    let listen_args = ["--duration", "4s", "--expect", PRINTER_LAB];

    let listener = start_listen(&server, &listen_args);
    let (code, sent) = json(&printer, &["send", SERVER_LAB, "--timeout", "1s"]);
    assert_eq!(cell(&sent, "npap-alerts")["state"], "verified", "{sent:#}");
    assert_eq!(cell(&sent, "npap-alerts")["evidence"]["source_port"], 9300);
    assert_eq!(cell(&sent, "console")["state"], "verified", "{sent:#}");
    assert_eq!(code, 0);
    let (code, heard) = finish(listener);
    assert_eq!(
        cell(&heard, "npap-alerts")["state"],
        "verified",
        "{heard:#}"
    );
    assert_eq!(cell(&heard, "npap-alerts")["target"], PRINTER_LAB);
    assert_eq!(cell(&heard, "console")["state"], "verified");
    assert_eq!(code, 0);

    let rules = "table inet lab {\n chain input {\n  type filter hook input priority 0; policy accept;\n  udp dport 9187 drop\n }\n}\n";
    if !server.nft(rules) {
        return;
    }
    let listener = start_listen(&server, &listen_args);
    let (code, sent) = json(
        &printer,
        &["send", SERVER_LAB, "--timeout", "500ms", "--retries", "1"],
    );
    let alert = cell(&sent, "npap-alerts");
    assert_eq!(alert["state"], "open|filtered", "{sent:#}");
    assert_eq!(alert["verdict"], "fail");
    assert!(
        alert["hint"].as_str().unwrap().contains("UDP 9187"),
        "{alert:#}"
    );
    assert_eq!(cell(&sent, "console")["state"], "verified");
    assert_eq!(code, 1);
    let (code, heard) = finish(listener);
    let alert = cell(&heard, "npap-alerts");
    assert_eq!(alert["state"], "open|filtered", "{heard:#}");
    assert_eq!(alert["verdict"], "fail");
    assert!(
        alert["evidence"]["summary"]
            .as_str()
            .unwrap()
            .contains(&format!("nothing arrived from {PRINTER_LAB}"))
    );
    assert_eq!(cell(&heard, "console")["state"], "verified");
    assert_eq!(code, 1);
}

#[test]
fn the_console_page_is_fetched_by_curl_over_tls() {
    let Some(ns) = Netns::create(&[]) else { return };
    let listener = start_listen(
        &ns,
        &[
            "--duration",
            "3s",
            "--tcp-port",
            "8443",
            "--udp-port",
            "19187",
        ],
    );
    let curl = ns
        .command("curl")
        .args([
            "--silent",
            "--show-error",
            "--insecure",
            "--max-time",
            "5",
            "https://127.0.0.1:8443/",
        ])
        .output();
    let (_, heard) = finish(listener);
    let Ok(curl) = curl else {
        support::unavailable("curl is not installed");
        return;
    };
    let page = String::from_utf8_lossy(&curl.stdout);
    assert!(
        curl.status.success(),
        "{}",
        String::from_utf8_lossy(&curl.stderr)
    );
    assert!(page.contains("The MVE console port answers"), "{page}");
    assert!(page.contains("from 127.0.0.1"), "{page}");
    let console = cell(&heard, "console");
    assert_eq!(
        console["state"], "open",
        "an untagged browser visit: {heard:#}"
    );
    assert!(
        console["evidence"]["summary"]
            .as_str()
            .unwrap()
            .contains("GET / HTTP/1.1")
    );
}

#[test]
fn local_names_the_holder_and_its_pid_and_reports_free_ports() {
    let Some(ns) = Netns::create(&[]) else { return };
    let held = ns.run(|| UdpSocket::bind("0.0.0.0:9187").unwrap());
    let (code, report) = json(&ns, &["local", "--port", "tcp/8443"]);
    let ports = report["ports"].as_array().unwrap();
    let find = |name: &str| ports.iter().find(|p| p["port"] == name).unwrap();
    let alerts = find("udp/9187");
    assert_eq!(alerts["state"], "in-use", "{report:#}");
    assert_eq!(alerts["verdict"], "fail");
    let me = std::fs::read_to_string("/proc/self/comm")
        .unwrap()
        .trim()
        .to_string();
    assert_eq!(
        alerts["holders"][0]["pid"],
        std::process::id(),
        "{alerts:#}"
    );
    assert_eq!(alerts["holders"][0]["name"], me);
    assert!(
        alerts["summary"]
            .as_str()
            .unwrap()
            .contains(&format!("(PID {})", std::process::id()))
    );
    for free in ["tcp/443", "udp/6100", "tcp/8443"] {
        assert_eq!(find(free)["state"], "free", "{free}: {report:#}");
    }
    assert_eq!(code, 1);
    drop(held);
    let (code, _) = json(&ns, &["local"]);
    assert_eq!(code, 0, "every port free once the holder lets go");

    // A profile adds its own ports.
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path();
    let profile = dir.join("site.toml");
    std::fs::write(&profile, "[local]\nports = [\"udp/19999\"]\n").unwrap();
    let (_, report) = json(&ns, &["local", "--profile", profile.to_str().unwrap()]);
    let extra = report["ports"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["port"] == "udp/19999");
    assert_eq!(
        extra.expect("the profile's port is checked")["state"],
        "free"
    );
}

#[test]
fn sigint_during_listen_prints_the_summary_so_far_and_exits_with_its_code() {
    listen_stops_on("-INT");
}

#[test]
fn sigterm_during_listen_does_what_sigint_does() {
    listen_stops_on("-TERM");
}

/// `listen` gets `signal` while it waits: it stops at once and reports what arrived.
fn listen_stops_on(signal: &str) {
    let Some(ns) = Netns::create(&[]) else { return };
    let listener = start_listen(
        &ns,
        &[
            "--duration",
            "60s",
            "--expect",
            "127.0.0.1,127.0.0.2",
            "--tcp-port",
            "8443",
        ],
    );
    ns.run(|| {
        let socket = UdpSocket::bind("127.0.0.1:9300").unwrap();
        socket.send_to(b"an alert", "127.0.0.1:9187").unwrap();
    });
    std::thread::sleep(Duration::from_millis(300));
    let started = Instant::now();
    // `ip netns exec` execs the program, so the child's PID is mve-audit's.
    let status = std::process::Command::new("kill")
        .args([signal, &listener.id().to_string()])
        .status()
        .unwrap();
    let (code, heard) = finish(listener);
    assert!(status.success());
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "stopped at once, not after 60s"
    );
    let cells = heard["cells"].as_array().unwrap();
    let seen = cells
        .iter()
        .find(|c| c["target"] == "127.0.0.1" && c["check"] == "npap-alerts")
        .unwrap();
    assert_eq!(seen["state"], "open", "{heard:#}");
    assert!(
        seen["evidence"]["summary"]
            .as_str()
            .unwrap()
            .contains("NPAP alert?"),
        "{seen:#}"
    );
    let missing = cells
        .iter()
        .find(|c| c["target"] == "127.0.0.2" && c["check"] == "npap-alerts")
        .unwrap();
    assert_eq!(missing["verdict"], "fail");
    assert_eq!(code, 1, "an expected source never arrived");
}

#[test]
fn local_says_a_privileged_port_needs_privilege_for_an_ordinary_user() {
    let Some(ns) = Netns::create(&[]) else { return };
    // As user nobody, binding TCP 443 is refused: the check says so instead of calling the
    // port taken or free.
    let output = ns
        .command("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(env!("CARGO_BIN_EXE_mve-audit"))
        .args(["local", "--format", "json"])
        .output();
    let Ok(output) = output else {
        support::unavailable("setpriv (util-linux) is not installed");
        return;
    };
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    let console = report["ports"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["port"] == "tcp/443")
        .unwrap();
    assert_eq!(console["state"], "needs-privilege", "{report:#}");
    assert_eq!(console["verdict"], "warn");
    assert_eq!(
        output.status.code(),
        Some(0),
        "a warning does not fail the run"
    );
}

/// A broadcast storm at the alerts port: four loopback sources send as fast as they can for
/// 2.5 s (bounded by time and count). `listen` keeps a tally per source, so its memory stays
/// small and its stderr gets a line per source a second, not a line per datagram.
#[test]
fn a_flood_costs_listen_neither_memory_nor_the_terminal() {
    let Some(ns) = Netns::create(&[]) else { return };
    let mut child = ns
        .mve_audit()
        .args(["listen", "--duration", "4s", "--bind", "127.0.0.1"])
        .args([
            "--udp-port",
            "19187",
            "--tcp-port",
            "18443",
            "--format",
            "json",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start listen");
    let stderr = child.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    let first = lines.next().expect("listen says something").unwrap();
    assert!(first.contains("listening on"), "{first}");
    let counted = std::thread::spawn(move || lines.count());
    let floods: Vec<_> = (2..6)
        .map(|n| {
            ns.spawn(move || {
                let socket = std::net::UdpSocket::bind(format!("127.0.0.{n}:0")).unwrap();
                let payload = [0x5a_u8; 64];
                let until = std::time::Instant::now() + std::time::Duration::from_millis(2500);
                let mut sent = 0u64;
                // Bounded: 2.5 s or 5,000,000 datagrams, whichever ends first.
                while std::time::Instant::now() < until && sent < 5_000_000 {
                    if socket.send_to(&payload, "127.0.0.1:19187").is_ok() {
                        sent += 1;
                    }
                }
                sent
            })
        })
        .collect();
    let sent: u64 = floods.into_iter().map(|f| f.join().unwrap()).sum();
    let output = child.wait_with_output().unwrap();
    let stderr_lines = counted.join().unwrap();
    // SAFETY: getrusage(2) fills the struct we pass; RUSAGE_CHILDREN covers `listen`, the
    // only child this test process waited for (nextest runs each test in its own process).
    let peak_kb = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        assert_eq!(libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage), 0);
        usage.ru_maxrss
    };
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let arrivals: u64 = report["cells"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["evidence"]["facts"]["arrivals"].as_u64().unwrap_or(0))
        .sum();
    eprintln!(
        "flood: {sent} datagrams sent, {arrivals} tallied, {stderr_lines} stderr lines, peak RSS {} MB",
        peak_kb / 1024
    );
    assert!(sent > 100_000, "the flood was a flood: {sent}");
    assert!(arrivals > 10_000, "{arrivals} tallied of {sent}");
    assert_eq!(
        report["cells"].as_array().unwrap().len(),
        4,
        "one row per source"
    );
    assert!(
        stderr_lines < 40,
        "{stderr_lines} stderr lines for {sent} datagrams"
    );
    assert!(peak_kb < 40 * 1024, "peak RSS {peak_kb} KB under the flood");
}

/// `listen` with nothing expected and nothing arriving says so in its own words, not the
/// matrix's "nothing to check" (issue 19).
#[test]
fn listen_with_nothing_arriving_says_what_happened() {
    let Some(ns) = Netns::create(&[]) else { return };
    let out = ns
        .mve_audit()
        .args(["listen", "--duration", "1s", "--bind", "127.0.0.1"])
        .args(["--udp-port", "19188", "--tcp-port", "18444"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("Nothing arrived on udp/19188 or tcp/18444"),
        "{text}"
    );
    assert!(text.contains("--expect"), "{text}");
}

/// A port `listen` cannot bind names the process that holds it, as `local` does (issue 19).
#[test]
fn a_listen_bind_failure_names_the_holder() {
    let Some(ns) = Netns::create(&[]) else { return };
    let held = ns.run(|| UdpSocket::bind("127.0.0.1:19190").unwrap());
    let out = ns
        .mve_audit()
        .args(["listen", "--duration", "1s", "--bind", "127.0.0.1"])
        .args(["--udp-port", "19190", "--tcp-port", "18445"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("127.0.0.1:19190"), "{err}");
    assert!(
        err.contains(&format!("(pid {})", std::process::id())),
        "names this test process as the holder: {err}"
    );
    drop(held);
}
