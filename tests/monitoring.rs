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
