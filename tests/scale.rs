//! Fleet-scale behaviour, inside namespaces the tests create: a run under a tight open-file
//! limit over a thousand targets, jsonl cells streaming before the run ends, and a dry run
//! that sends nothing. (Speed and memory are measured by `bench/fleet`, not asserted here.)
// Network namespaces and setns are Linux-only; on other platforms this file builds empty.
#![cfg(target_os = "linux")]

mod support;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::process::Stdio;
use std::time::{Duration, Instant};

use support::{Netns, run_in};

/// Accepts and drops connections on `addr` inside `ns`, at most `limit` of them.
fn tcp_listener(ns: &Netns, addr: &'static str, limit: usize) {
    let listener = ns.run(move || TcpListener::bind(addr).expect("bind listener"));
    std::thread::spawn(move || {
        for stream in listener.incoming().take(limit) {
            drop(stream);
        }
    });
}

/// A fresh namespace with `rules` loaded; `None` (after saying why) when either is missing.
fn namespace_with(rules: &str) -> Option<Netns> {
    let ns = Netns::create(&[])?;
    ns.nft(rules).then_some(ns)
}

fn jsonl_cells(stdout: &str) -> Vec<serde_json::Value> {
    stdout
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("a JSON line"))
        .filter(|v| v.get("check").is_some())
        .collect()
}

/// The third octet of a loopback target decides what the namespace does with it.
fn expected(address: &str, check: &str) -> &'static str {
    let third: u8 = address.split('.').nth(2).unwrap().parse().unwrap();
    let fourth: u8 = address.split('.').nth(3).unwrap().parse().unwrap();
    match (check, third, fourth) {
        ("raw", 1, 0..=63) => "filtered",
        ("raw", 2, _) => "closed",
        ("raw", _, _) => "open",
        ("npap", 3, 0..=63) => "open|filtered",
        _ => "closed",
    }
}

#[test]
fn a_thousand_targets_under_an_open_file_limit_of_64_get_every_state_right() {
    let Some(ns) = namespace_with(
        "table inet t {\n chain input {\n  type filter hook input priority 0;\n\
         ip daddr 127.0.1.0/26 tcp dport 9100 drop\n\
         ip daddr 127.0.2.0/24 tcp dport 9100 reject with tcp reset\n\
         ip daddr 127.0.3.0/26 udp dport 9300 drop\n }\n}\n",
    ) else {
        return;
    };
    tcp_listener(&ns, "0.0.0.0:9100", 2000);
    // 1,022 printers × 5 checks: enough probes that the run announces its estimate.
    let output = ns
        .command("prlimit")
        .args(["--nofile=64:64", env!("CARGO_BIN_EXE_mve-audit")])
        .args([
            "check",
            "--printers",
            "127.0.0.0/22",
            "--checks",
            "raw,http,npap,xmlnt,lst",
            "--timeout",
            "500ms",
            "--retries",
            "0",
            "--format",
            "jsonl",
        ])
        .output()
        .expect("run mve-audit under prlimit");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("5,110 probes to 1,022 targets"),
        "the estimate comes first on stderr: {stderr}"
    );
    let cells = jsonl_cells(&stdout);
    assert_eq!(cells.len(), 1022 * 5, "stderr: {stderr}");
    let mut wrong = BTreeMap::new();
    for cell in &cells {
        let address = cell["address"].as_str().unwrap();
        let check = cell["check"].as_str().unwrap();
        let state = cell["state"].as_str().unwrap();
        let want = match check {
            "raw" | "npap" => expected(address, check),
            _ => "closed",
        };
        if state != want {
            *wrong
                .entry(format!(
                    "{check} {want} → {state}: {}",
                    cell["evidence"]["summary"]
                ))
                .or_insert(0) += 1;
        }
    }
    assert!(
        wrong.is_empty(),
        "cells wrong under RLIMIT_NOFILE 64: {wrong:#?}"
    );
}

#[test]
fn jsonl_cells_arrive_before_the_run_ends() {
    let Some(ns) = namespace_with(
        "table inet t {\n chain input {\n  type filter hook input priority 0;\n\
         ip daddr 127.0.0.2 drop\n }\n}\n",
    ) else {
        return;
    };
    let started = Instant::now();
    let mut child = ns
        .mve_audit()
        .args([
            "check",
            "--printers",
            "127.0.0.1,127.0.0.2",
            "--checks",
            "raw",
            "--timeout",
            "3s",
            "--format",
            "jsonl",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("run mve-audit");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().expect("a first line").expect("read");
    let first_after = started.elapsed();
    let still_running = child.try_wait().expect("try_wait").is_none();
    let cell: serde_json::Value = serde_json::from_str(&first).unwrap();
    assert_eq!(cell["address"], "127.0.0.1", "{first}");
    assert_eq!(cell["state"], "closed", "{first}");
    assert!(
        still_running && first_after < Duration::from_secs(2),
        "the first cell came {first_after:?} after the start, running: {still_running}"
    );
    let rest: Vec<String> = lines.map(|l| l.unwrap()).collect();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(1));
    assert!(started.elapsed() >= Duration::from_secs(3));
    assert_eq!(
        rest.len(),
        2,
        "the dropped target's cell, then the summary: {rest:?}"
    );
    assert!(rest[0].contains("\"filtered\""), "{}", rest[0]);
    assert!(rest[1].contains("\"summary\""), "{}", rest[1]);
}

#[test]
fn a_dry_run_sends_nothing_and_prints_the_estimate() {
    // Every packet leaving any socket of the namespace is counted, DNS lookups included.
    let Some(ns) = namespace_with(
        "table inet t {\n counter sent {}\n chain output {\n  type filter hook output priority 0;\n\
         counter name sent\n }\n}\n",
    ) else {
        return;
    };
    let sent = || {
        let out = ns
            .command("nft")
            .args(["list", "counter", "inet", "t", "sent"])
            .output()
            .expect("nft list counter");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        text.split("packets ")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|n| n.parse::<u64>().ok())
            .unwrap_or_else(|| panic!("no packet count in {text}"))
    };
    let (code, stdout, stderr) = run_in(
        &ns,
        &[
            "check",
            "--printers",
            "127.0.0.0/24,printer.lab.test",
            "--smtp",
            "mail.lab.test",
            "--dry-run",
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(sent(), 0, "a dry run sent packets:\n{stdout}");
    assert!(stdout.contains("nothing was sent"), "{stdout}");
    assert!(stdout.contains("targets:       256"), "{stdout}");
    assert!(stdout.contains("probes:        2,551"), "{stdout}");
    assert!(stdout.contains("estimate:"), "{stdout}");

    // The same without --dry-run on one target is visible: the counter works.
    let (_, _, _) = run_in(
        &ns,
        &["check", "--printers", "127.0.0.1", "--checks", "raw"],
    );
    assert!(sent() > 0, "the control run sent nothing visible");
}
