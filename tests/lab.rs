//! The whole matrix end to end against the lab (tests/support/lab.rs): real daemons, real
//! firewalls, real ICMP from other hosts. The expected matrix lives in tests/lab/expected.txt
//! (one `target check state verdict` line per cell); a mismatch fails with a diff of the cells.
//! `MVE_AUDIT_BLESS=1` rewrites the file from a run, for review in the diff.
// Network namespaces and setns are Linux-only; on other platforms this file builds empty.
#![cfg(target_os = "linux")]

mod support;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use support::daemons::{self, Snmp};
use support::lab::{Lab, tcp_recorder, udp_stand_in};

const LEXMARK: &str = "Lexmark CX725 version CXTPP.081.225 kernel 5.4.0 All-N-1";

fn sa(text: &str) -> SocketAddr {
    text.parse().unwrap()
}

/// Builds every host. Returns None (after printing why) where the lab cannot exist outside CI.
fn build() -> Option<(Lab, Arc<Mutex<Vec<usize>>>)> {
    let mut lab = Lab::new()?;
    lab.add_host(
        "mve",
        &["10.231.1.10", "fd00:231::10"],
        &["10.231.1.21 printer-ok.lab"],
    );

    // printer-ok: every printer service answers.
    let ok = lab.add_host("printer-ok", &["10.231.1.21"], &[]);
    let printer = |ns: &support::Netns, ip: &str, community: &'static str| {
        let snmp = Snmp {
            addr: sa(&format!("{ip}:161")),
            community,
            sys_descr: LEXMARK,
            v3_user: None,
        };
        vec![
            daemons::snmpd(ns, &snmp),
            daemons::vsftpd(ns, sa(&format!("{ip}:21"))),
        ]
    };
    let mut started = printer(ok, "10.231.1.21", "public");
    started.push(daemons::nginx(
        ok,
        Some(sa("10.231.1.21:80")),
        Some(sa("10.231.1.21:443")),
        daemons::Tls::Current,
    ));
    started.push(daemons::avahi(ok, "lab0", "printer-ok"));
    // Stand-ins for the Lexmark protocols: no public implementation exists.
    udp_stand_in(ok, sa("10.231.1.21:9300"), b"npap stand-in");
    udp_stand_in(
        ok,
        sa("10.231.1.21:6000"),
        b"<?xml version=\"1.0\"?><exception code=\"1\"/>",
    );
    udp_stand_in(ok, sa("10.231.1.21:6100"), b"lst stand-in");
    tcp_recorder(ok, sa("10.231.1.21:6110"));
    let raw_bytes = tcp_recorder(ok, sa("10.231.1.21:9100"));

    // printer-locked: the same daemons behind a firewall.
    let locked = lab.add_host("printer-locked", &["10.231.1.22"], &[]);
    started.extend(printer(locked, "10.231.1.22", "public"));
    started.push(daemons::nginx(
        locked,
        None,
        Some(sa("10.231.1.22:443")),
        daemons::Tls::Current,
    ));
    started.push(daemons::avahi(locked, "lab0", "printer-locked"));
    udp_stand_in(locked, sa("10.231.1.22:9300"), b"npap stand-in");
    udp_stand_in(locked, sa("10.231.1.22:6100"), b"lst stand-in");
    tcp_recorder(locked, sa("10.231.1.22:6110"));
    tcp_recorder(locked, sa("10.231.1.22:9100"));
    let rules = "table inet lab {
        chain input {
            type filter hook input priority 0; policy accept;
            udp dport 161 drop
            tcp dport 9100 drop
            udp dport 9300 reject with icmpx type port-unreachable
            tcp dport 6110 reject with icmpx type admin-prohibited
            udp dport 6100 reject with icmpx type admin-prohibited
        }
    }";
    if !locked.nft(rules) {
        return None;
    }

    // services: mail, directory, KDC and Firebird; nothing on 1433.
    let services = lab.add_host("services", &["10.231.1.30"], &[]);
    started.push(daemons::postfix(services, sa("10.231.1.30:25")));
    started.push(daemons::slapd(
        services,
        sa("10.231.1.30:389"),
        sa("10.231.1.30:636"),
    ));
    started.push(daemons::krb5kdc(services, sa("10.231.1.30:88"), "LAB.TEST"));
    started.push(daemons::firebird(services, "10.231.1.30".parse().unwrap()));

    // misconfigured: HTTP on the LDAP port, an expired certificate, an unknown community.
    let bad = lab.add_host("misconfigured", &["10.231.1.40"], &[]);
    started.push(daemons::nginx(
        bad,
        Some(sa("10.231.1.40:389")),
        Some(sa("10.231.1.40:443")),
        daemons::Tls::Expired,
    ));
    let snmp = Snmp {
        addr: sa("10.231.1.40:161"),
        community: "not-what-mve-uses",
        sys_descr: LEXMARK,
        v3_user: None,
    };
    started.push(daemons::snmpd(bad, &snmp));

    // dark: every packet dropped.
    let dark = lab.add_host("dark", &["10.231.1.50"], &[]);
    if !dark.nft("table inet lab {\n chain input {\n  type filter hook input priority 0; policy drop;\n }\n}\n") {
        return None;
    }

    // An IPv6-only printer with SNMP and a web server.
    let v6 = lab.add_host("printer-v6", &["fd00:231::60"], &[]);
    let snmp = Snmp {
        addr: sa("[fd00:231::60]:161"),
        community: "public",
        sys_descr: LEXMARK,
        v3_user: None,
    };
    started.push(daemons::snmpd(v6, &snmp));
    started.push(daemons::nginx(
        v6,
        Some(sa("[fd00:231::60]:80")),
        Some(sa("[fd00:231::60]:443")),
        daemons::Tls::Current,
    ));

    for daemon in started {
        if !lab.keep(daemon) {
            return None;
        }
    }
    Some((lab, raw_bytes))
}

/// Runs the audit from the mve host and returns (exit code, cells by "target check").
fn audit(lab: &Lab) -> (i32, BTreeMap<String, String>) {
    let profile = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/lab/lab.toml");
    let output = lab
        .ns("mve")
        .mve_audit()
        .args(["check", "--profile"])
        .arg(&profile)
        .args(["--format", "json"])
        .output()
        .expect("run mve-audit");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    let cells = report["cells"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let key = format!(
                "{} {}",
                c["target"].as_str().unwrap(),
                c["check"].as_str().unwrap()
            );
            let value = format!(
                "{} {}",
                c["state"].as_str().unwrap(),
                c["verdict"].as_str().unwrap()
            );
            (key, value)
        })
        .collect();
    (output.status.code().unwrap_or(-1), cells)
}

fn expected_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/lab/expected.txt")
}

fn expected() -> (i32, BTreeMap<String, String>) {
    let text = std::fs::read_to_string(expected_path()).expect("tests/lab/expected.txt");
    let mut code = -1;
    let mut cells = BTreeMap::new();
    for line in text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        if let Some(value) = line.strip_prefix("exit ") {
            code = value.parse().unwrap();
            continue;
        }
        let parts: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(parts.len(), 4, "bad expected line: {line}");
        cells.insert(
            format!("{} {}", parts[0], parts[1]),
            format!("{} {}", parts[2], parts[3]),
        );
    }
    (code, cells)
}

fn bless(code: i32, cells: &BTreeMap<String, String>) {
    let mut text = String::from(
        "# The lab's expected matrix: target check state verdict (tests/lab.rs).\n\
         # Regenerate with MVE_AUDIT_BLESS=1 and review the diff cell by cell.\n",
    );
    text.push_str(&format!("exit {code}\n"));
    for (key, value) in cells {
        text.push_str(&format!("{key} {value}\n"));
    }
    std::fs::write(expected_path(), text).unwrap();
}

/// Every cell that differs, one line each.
fn diff(want: &BTreeMap<String, String>, got: &BTreeMap<String, String>) -> Vec<String> {
    let mut keys: Vec<&String> = want.keys().chain(got.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| want.get(*k) != got.get(*k))
        .map(|k| {
            format!(
                "  {k}: expected {}, got {}",
                want.get(k).map_or("(no cell)", String::as_str),
                got.get(k).map_or("(no cell)", String::as_str)
            )
        })
        .collect()
}

#[test]
fn the_lab_matrix_matches_with_and_without_icmp_rate_limits() {
    let Some((lab, raw_bytes)) = build() else {
        return;
    };

    lab.icmp_ratelimit(0);
    let (code, cells) = audit(&lab);
    if std::env::var_os("MVE_AUDIT_BLESS").is_some() {
        bless(code, &cells);
    }
    let (want_code, want) = expected();
    let changed = diff(&want, &cells);
    assert!(
        changed.is_empty(),
        "lab matrix differs from tests/lab/expected.txt:\n{}",
        changed.join("\n")
    );
    assert_eq!(code, want_code, "exit code");
    let raw = raw_bytes.lock().unwrap().clone();
    assert!(
        !raw.is_empty() && raw.iter().all(|&n| n == 0),
        "RAW 9100 received bytes: {raw:?}"
    );

    // The same run as a person sees it (shown with --no-capture, or when the test fails).
    let table = lab
        .ns("mve")
        .mve_audit()
        .args(["check", "--profile"])
        .arg(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/lab/lab.toml"))
        .args(["--color", "never"])
        .output()
        .expect("run mve-audit");
    println!("{}", String::from_utf8_lossy(&table.stdout));

    // Real printers rate-limit ICMP errors (Linux: a burst of 6, then 1 a second per peer).
    lab.icmp_ratelimit(1000);
    let (code, cells) = audit(&lab);
    let changed = diff(&want, &cells);
    assert!(
        changed.is_empty(),
        "with the default ICMP rate limit the lab matrix differs:\n{}",
        changed.join("\n")
    );
    assert_eq!(code, want_code);
}
