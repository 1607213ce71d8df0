//! Results that flow into monitoring: `--format openmetrics` read back by a real parser (the
//! Python `prometheus_client` OpenMetrics parser, Debian's python3-prometheus-client), and
//! `mve-audit diff` between two real reports.
// Network namespaces are Linux-only; on other platforms this file builds empty.
#![cfg(target_os = "linux")]

mod support;

use std::net::TcpListener;
use std::process::{Command, Stdio};

use support::Netns;

/// Parses OpenMetrics text with prometheus_client (strict: a wrong line, a missing `# EOF`,
/// a duplicate series is an error) and returns each sample as `name labels value`, sorted.
fn parsed(text: &str) -> Result<Vec<String>, String> {
    let script = r#"
import json, sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families
out = []
for family in text_string_to_metric_families(sys.stdin.read()):
    for s in family.samples:
        out.append([family.type, s.name, s.labels, s.value])
print(json.dumps(out))
"#;
    let mut child = Command::new("/usr/bin/python3")
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("python3: {e}"))?;
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    let samples: Vec<(String, String, serde_json::Value, f64)> =
        serde_json::from_slice(&out.stdout).unwrap();
    let mut lines: Vec<String> = samples
        .into_iter()
        .map(|(kind, name, labels, value)| format!("{kind} {name} {labels} {value}"))
        .collect();
    lines.sort();
    Ok(lines)
}

fn has_parser() -> bool {
    Command::new("/usr/bin/python3")
        .args(["-c", "import prometheus_client.openmetrics.parser"])
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn openmetrics_output_is_read_by_prometheus_client() {
    let Some(ns) = Netns::create(&[]) else { return };
    if !has_parser() {
        support::unavailable("python3-prometheus-client is not installed");
        return;
    }
    // raw: a listener (open, pass); http: nothing (closed, fail).
    let listener = ns.run(|| TcpListener::bind("127.0.0.1:0").unwrap());
    let port = listener.local_addr().unwrap().port();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("mve.prom");
    let out = ns
        .mve_audit()
        .args([
            "check",
            "--printers",
            "127.0.0.1,localhost",
            "--checks",
            "raw,http",
        ])
        .args([
            "--port",
            &format!("raw={port}"),
            "--timeout",
            "300ms",
            "--quiet",
        ])
        .arg("--output")
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.ends_with("# EOF\n"), "{text}");
    let samples = parsed(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let find = |words: &[&str]| {
        samples
            .iter()
            .filter(|s| words.iter().all(|w| s.contains(w)))
            .count()
    };
    assert_eq!(
        find(&[
            "gauge mve_audit_path_up ",
            "\"check\":\"raw\"",
            "\"state\":\"open\""
        ]),
        2
    );
    assert_eq!(
        find(&[
            "mve_audit_path_up ",
            "\"check\":\"raw\"",
            "\"verdict\":\"pass\"",
            " 1"
        ]),
        2,
        "{samples:#?}"
    );
    assert_eq!(
        find(&[
            "mve_audit_path_up ",
            "\"check\":\"http\"",
            "\"state\":\"closed\"",
            " 0"
        ]),
        2
    );
    assert_eq!(
        find(&["\"target\":\"localhost\"", "\"address\":\"127.0.0.1\""]),
        4
    );
    assert_eq!(find(&["mve_audit_path_rtt_seconds ", "\"port\":\"80\""]), 2);
    assert_eq!(find(&["mve_audit_cells ", "\"verdict\":\"fail\"", " 2"]), 1);
    assert_eq!(find(&["mve_audit_run_finished ", " 1"]), 1);
    assert_eq!(find(&["mve_audit_run_duration_seconds "]), 1);
    // The parser is strict: the same text without its end marker is refused.
    let cut = text.replace("# EOF\n", "");
    assert!(parsed(&cut).is_err(), "a text without # EOF parsed");
}

/// Two real audits a week apart: RAW on one printer went down, on another came up, a printer
/// was added and one removed. `diff` names each, in table, json and markdown, and exits 1 for
/// the required path that got worse; a report against itself exits 0.
#[test]
fn diff_names_what_got_worse_better_appeared_and_disappeared() {
    let Some(ns) = Netns::create(&[]) else { return };
    let dir = tempfile::tempdir().unwrap();
    let report = |printers: &str, raw: u16, file: &str| {
        let out = ns
            .mve_audit()
            .args(["check", "--printers", printers, "--checks", "raw"])
            .args(["--port", &format!("raw={raw}")])
            .args(["--timeout", "300ms", "--quiet", "--output"])
            .arg(dir.path().join(file))
            .output()
            .unwrap();
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    // Week 1: RAW answers on 127.0.0.1 only.
    let listener = ns.run(|| TcpListener::bind("127.0.0.1:0").unwrap());
    let port = listener.local_addr().unwrap().port();
    report("127.0.0.1,127.0.0.2,127.0.0.4", port, "week1.json");
    // Week 2: on 127.0.0.2 only; 127.0.0.4 left, 127.0.0.3 came.
    drop(listener);
    let listener = ns.run(move || TcpListener::bind(("127.0.0.2", port)).unwrap());
    report("127.0.0.1,127.0.0.2,127.0.0.3", port, "week2.json");
    // Week 3: on both.
    let other = ns.run(move || TcpListener::bind(("127.0.0.1", port)).unwrap());
    report("127.0.0.1,127.0.0.2,127.0.0.4", port, "week3.json");
    drop((listener, other));
    let diff = |args: &[&str]| {
        ns.mve_audit()
            .current_dir(dir.path())
            .args(["diff"])
            .args(args)
            .output()
            .unwrap()
    };
    let out = diff(&["week1.json", "week2.json", "--format", "json"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let changes: Vec<(String, String, String)> = json["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["change"].as_str().unwrap().to_string(),
                c["target"].as_str().unwrap().to_string(),
                c["check"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let has = |change: &str, target: &str, check: &str| {
        changes.contains(&(change.into(), target.into(), check.into()))
    };
    assert!(has("worse", "127.0.0.1", "raw"), "{changes:?}");
    assert!(has("better", "127.0.0.2", "raw"), "{changes:?}");
    assert!(has("disappeared", "127.0.0.4", "raw"), "{changes:?}");
    assert!(has("appeared", "127.0.0.3", "raw"), "{changes:?}");
    assert_eq!(changes.len(), 4, "{changes:?}");
    assert_eq!(json["regressions"], 1);
    // The table and markdown say the same.
    let table = String::from_utf8(diff(&["week1.json", "week2.json"]).stdout).unwrap();
    assert!(table.contains("worse (required)"), "{table}");
    assert!(table.contains("1 worse (1 required)"), "{table}");
    let markdown = diff(&["week1.json", "week2.json", "--format", "markdown"]);
    let markdown = String::from_utf8(markdown.stdout).unwrap();
    assert!(
        markdown.contains("| **worse (required)** | 127.0.0.1 | raw |"),
        "{markdown}"
    );
    // The other way round, 127.0.0.2 got worse: still a regression.
    let back = diff(&["week2.json", "week1.json", "--format", "json"]);
    assert_eq!(back.status.code(), Some(1));
    // Only better: exit 0.
    let better = diff(&["week1.json", "week3.json", "--format", "json"]);
    assert_eq!(
        better.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&better.stdout)
    );
    // A report against itself: nothing changed, exit 0.
    let same = diff(&["week1.json", "week1.json"]);
    assert_eq!(same.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&same.stdout).contains("No cell changed"));
    // A new report whose run was cut short: listed, but no verdict, so the run's code (143).
    let mut cut: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("week3.json")).unwrap())
            .unwrap();
    cut["interrupted"] = "SIGTERM".into();
    std::fs::write(dir.path().join("cut.json"), cut.to_string()).unwrap();
    let partial = diff(&["week1.json", "cut.json"]);
    assert_eq!(partial.status.code(), Some(143), "{partial:?}");
    assert!(String::from_utf8_lossy(&partial.stderr).contains("cut.json is a partial report"));
    // A file that is not a report: exit 2, named.
    std::fs::write(dir.path().join("bad.json"), "{}").unwrap();
    let bad = diff(&["week1.json", "bad.json"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("bad.json"));
}
