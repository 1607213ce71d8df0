//! What an operator meets at a terminal, in a ticket and in CI (issue 11): merged reports,
//! completions and the man page, the progress bar on a terminal only, `--output`, and the
//! summary of a fleet. Anything that probes runs inside a namespace the test creates.
// Network namespaces and setns are Linux-only; on other platforms this file builds empty.
#![cfg(target_os = "linux")]

mod support;

use std::path::Path;

use assert_cmd::Command as Cmd;
use support::Netns;

fn mve() -> Cmd {
    Cmd::new(env!("CARGO_BIN_EXE_mve-audit"))
}

fn examples() -> [String; 2] {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/reports");
    ["site-a.json", "site-b.json"].map(|f| dir.join(f).display().to_string())
}

/// Two reports of the same printers from two sites, which disagree on HTTP to .12 and .13.
#[test]
fn merge_shows_every_vantage_and_lists_the_conflicts() {
    let [a, b] = examples();
    let out = mve().args(["merge", &a, &b]).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "the examples have failing cells"
    );
    let report_only = mve()
        .args(["merge", &a, &b, "--fail-on", "never"])
        .output()
        .unwrap();
    assert_eq!(report_only.status.code(), Some(0), "{report_only:?}");
    let table = String::from_utf8(out.stdout).unwrap();
    assert!(table.contains("vantage"), "{table}");
    assert!(
        table.contains("127.0.0.12 @ site-b http tcp/80: filtered"),
        "{table}"
    );
    let conflicts: Vec<&str> = table
        .lines()
        .filter(|l| l.starts_with("CONFLICT"))
        .collect();
    assert_eq!(
        conflicts,
        [
            "CONFLICT 127.0.0.12 http: site-a verified, site-b filtered",
            "CONFLICT 127.0.0.13 http: site-a verified, site-b filtered"
        ]
    );
    let json = mve()
        .args(["merge", &a, &b, "--format", "json"])
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let cells = report["cells"].as_array().unwrap();
    assert_eq!(cells.len(), 80);
    let twelve_http: Vec<(&str, &str)> = cells
        .iter()
        .filter(|c| c["target"] == "127.0.0.12" && c["check"] == "http")
        .map(|c| (c["vantage"].as_str().unwrap(), c["state"].as_str().unwrap()))
        .collect();
    assert_eq!(
        twelve_http,
        [("site-a", "verified"), ("site-b", "filtered")]
    );
}

#[test]
fn merge_names_a_bad_report_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("broken.json");
    std::fs::write(&bad, "{\"schema_version\": 1,\n \"cells\": [}").unwrap();
    let out = mve()
        .args(["merge", &bad.display().to_string()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("broken.json:2:"), "{err}");
    let newer = dir.path().join("newer.json");
    std::fs::write(
        &newer,
        r#"{"schema_version": 9, "checks": [], "targets": [], "cells": []}"#,
    )
    .unwrap();
    let out = mve()
        .args(["merge", &newer.display().to_string()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("schema version 9"));
}

#[test]
fn completions_and_the_man_page_come_from_the_clap_definitions() {
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let out = mve().args(["completions", shell]).output().unwrap();
        assert!(out.status.success(), "{shell}");
        let text = String::from_utf8(out.stdout).unwrap();
        for word in ["printers", "failures-only", "merge"] {
            assert!(text.contains(word), "{shell} completion lacks {word}");
        }
        if shell == "bash" {
            insta::assert_snapshot!("completions-bash", text);
        }
    }
    let man = mve().arg("man").output().unwrap();
    assert!(man.status.success());
    let man = String::from_utf8(man.stdout).unwrap();
    assert!(man.starts_with(".ie \\n(.g .ds Aq"), "roff");
    insta::assert_snapshot!("man", man);
}

#[test]
fn every_subcommand_help_has_examples() {
    for command in [
        "catalog",
        "check",
        "local",
        "listen",
        "send",
        "merge",
        "completions",
        "man",
    ] {
        let out = mve().args([command, "--help"]).output().unwrap();
        let help = String::from_utf8(out.stdout).unwrap();
        assert!(help.contains("Examples:"), "{command} --help:\n{help}");
        assert!(help.contains("mve-audit "), "{command}");
    }
}

/// Runs `args` under a pseudo-terminal (`script`), in `ns`, without `CI` in the environment.
fn on_a_terminal(ns: &Netns, args: &str) -> String {
    on_a_terminal_of(ns, 120, args)
}

/// As `on_a_terminal`, `columns` wide.
fn on_a_terminal_of(ns: &Netns, columns: u16, args: &str) -> String {
    // A pseudo-terminal starts at 0×0: give it a size, as a real one has.
    let command = format!(
        "stty rows 40 cols {columns}; {} {args}",
        env!("CARGO_BIN_EXE_mve-audit")
    );
    let out = ns
        .command("script")
        .args(["-qfec", &command, "/dev/null"])
        .env_remove("CI")
        .output()
        .expect("script(1) from util-linux");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn the_progress_bar_shows_on_a_terminal_and_never_on_a_pipe() {
    let Some(ns) = Netns::create(&[]) else { return };
    // 254 loopback printers with RAW closed and a paced rate: long enough for several draws.
    let args = "check --printers 127.0.1.0/24 --checks raw --rate 500 --format jsonl";
    let terminal = on_a_terminal(&ns, args);
    assert!(
        terminal.contains("probes ·"),
        "no bar on a terminal:\n{terminal}"
    );
    assert!(terminal.contains("left"), "no time left shown:\n{terminal}");
    let piped = ns
        .mve_audit()
        .args(args.split(' '))
        .env_remove("CI")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&piped.stderr);
    assert!(!stderr.contains("probes ·"), "a bar on a pipe:\n{stderr}");
    let quiet = on_a_terminal(&ns, &format!("{args} --quiet"));
    assert!(!quiet.contains("probes ·"), "a bar with --quiet:\n{quiet}");
    // At most ~10 redraws a second: 254 probes at 500/s take about half a second.
    let draws = terminal.matches("probes ·").count();
    assert!((1..=12).contains(&draws), "{draws} redraws:\n{terminal}");
}

/// A report file the user may not write (root's, in a directory anyone may write) is not
/// renamed over just because the directory allows it: refused as `>` would refuse it, the
/// file untouched; the user's own file there is replaced. Run as uid 65534 (CI runs as root;
/// skipped otherwise). `--dry-run` writes the plan and sends nothing.
#[cfg(target_os = "linux")]
#[test]
fn output_does_not_replace_a_file_the_user_may_not_write() {
    use std::os::unix::fs::{PermissionsExt, chown};
    // SAFETY: geteuid(2) has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped: needs root to run as another user");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let theirs = dir.path().join("root.json");
    std::fs::write(&theirs, "root's report").unwrap();
    let mine = dir.path().join("mine.json");
    std::fs::write(&mine, "old").unwrap();
    chown(&mine, Some(65534), Some(65534)).unwrap();
    let as_nobody = |path: &Path| {
        std::process::Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(env!("CARGO_BIN_EXE_mve-audit"))
            .args(["check", "--printers", "192.0.2.7", "--dry-run", "--output"])
            .arg(path)
            .current_dir("/")
            .output()
            .expect("setpriv (util-linux)")
    };
    let out = as_nobody(&theirs);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(
        err.contains("root.json") && err.contains("Permission denied"),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&theirs).unwrap(), "root's report");
    let out = as_nobody(&mine);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(
        std::fs::read_to_string(&mine)
            .unwrap()
            .contains("192.0.2.7")
    );
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        2,
        "no temp file left"
    );
}

#[test]
fn output_is_written_whole_to_the_named_file() {
    let Some(ns) = Netns::create(&[]) else { return };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.html");
    let out = ns
        .mve_audit()
        .args([
            "check",
            "--printers",
            "127.0.0.1",
            "--checks",
            "raw",
            "--format",
            "html",
        ])
        .args(["--output", &path.display().to_string()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "raw is closed on loopback");
    assert!(out.stdout.is_empty(), "the report went to the file");
    let html = std::fs::read_to_string(&path).unwrap();
    assert!(html.starts_with("<!doctype html>") && html.trim_end().ends_with("</html>"));
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "self-contained"
    );
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "no temp file left"
    );
}

#[test]
fn a_tall_matrix_on_a_terminal_becomes_the_summary() {
    let Some(ns) = Netns::create(&[]) else { return };
    let text = on_a_terminal(
        &ns,
        "check --printers 127.0.2.0/25 --checks raw --color never --timeout 200ms",
    );
    assert!(
        text.contains("126 printers 127.0.2.1–127.0.2.126"),
        "{text}"
    );
    assert!(
        !text.contains("FAIL 127.0.2.5 raw"),
        "the matrix's failure list:\n{text}"
    );
    let matrix = on_a_terminal(
        &ns,
        "check --printers 127.0.2.0/25 --checks raw --color never --timeout 200ms --matrix",
    );
    assert!(matrix.contains("FAIL 127.0.2.5 raw"), "{matrix}");
}

/// The first command a new user runs shows every state without root and exits 0.
#[test]
fn the_demo_shows_every_state_without_root() {
    let Some(ns) = Netns::create(&[]) else { return };
    // As an unprivileged user: the demo needs no root.
    let out = ns
        .command("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(env!("CARGO_BIN_EXE_mve-audit"))
        .args(["demo", "--format", "json"])
        .env_remove("CI")
        .current_dir("/")
        .output()
        .expect("setpriv (util-linux)");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let states: Vec<(String, String)> = report["cells"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["check"].as_str().unwrap().to_string(),
                c["state"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    for (check, state) in [
        ("snmp", "verified"),
        ("https", "verified"),
        ("http", "verified"),
        ("npap", "open|filtered"),
        ("ftp", "open"),
        ("raw", "closed"),
    ] {
        assert!(
            states.contains(&(check.to_string(), state.to_string())),
            "{check} {state} in {states:?}"
        );
    }
    assert!(stderr.contains("nothing leaves this machine"), "{stderr}");
    assert!(stderr.contains("Next, audit yours"), "{stderr}");
}

/// Two words for one host (`localhost,127.0.0.1`) are noted, not refused: both rows stay.
#[test]
fn one_host_named_twice_is_noted() {
    let Some(ns) = Netns::create(&[]) else { return };
    let out = ns
        .mve_audit()
        .args([
            "check",
            "--printers",
            "localhost,127.0.0.1",
            "--checks",
            "raw",
        ])
        .args(["--timeout", "200ms", "--format", "csv"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("'localhost' and '127.0.0.1' are the same host (127.0.0.1)"),
        "{stderr}"
    );
    assert_eq!(
        stdout.lines().filter(|l| l.contains(",raw,")).count(),
        2,
        "{stdout}"
    );
    // --quiet keeps stderr for errors.
    let quiet = ns
        .mve_audit()
        .args([
            "check",
            "--printers",
            "localhost,127.0.0.1",
            "--checks",
            "raw",
        ])
        .args(["--timeout", "200ms", "--format", "csv", "--quiet"])
        .output()
        .unwrap();
    assert!(
        quiet.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&quiet.stderr)
    );
}

/// A 40-column terminal (a phone's ssh client, a split pane) gets the summary instead of a
/// matrix wrapped one character per line; `--matrix` draws it at its natural width.
#[test]
fn a_narrow_terminal_gets_the_summary_and_never_a_one_character_matrix() {
    let Some(ns) = Netns::create(&[]) else { return };
    let args = "check --printers 127.0.4.1,127.0.4.2 --checks raw,http,https,ftp --color never \
                --timeout 200ms";
    let text = on_a_terminal_of(&ns, 40, args);
    assert!(text.contains("2 printers 127.0.4.1–127.0.4.2"), "{text}");
    let matrix = on_a_terminal_of(&ns, 40, &format!("{args} --matrix"));
    // The header names each check whole: no column was squeezed to a letter a line.
    let header = matrix
        .lines()
        .find(|l| l.contains("target"))
        .unwrap_or_else(|| panic!("no header:\n{matrix}"));
    for check in ["raw", "http", "https", "ftp"] {
        assert!(header.contains(check), "{check} in {header:?}:\n{matrix}");
    }
    // Wide enough, the matrix is drawn as before.
    let wide = on_a_terminal_of(&ns, 120, args);
    assert!(
        wide.contains("127.0.4.1") && wide.contains("closed"),
        "{wide}"
    );
    assert!(!wide.contains("2 printers 127.0.4.1–127.0.4.2"), "{wide}");
}

/// Runs a slow check (a /25 of dark addresses, paced) in `ns`, sends `signal` after a second,
/// and returns the exit code and what was written to stdout.
fn interrupted_run(ns: &Netns, format: &str, signal: i32, extra: &[&str]) -> (Option<i32>, String) {
    let child = ns
        .mve_audit()
        .args([
            "check",
            "--printers",
            "127.0.3.0/25",
            "--checks",
            "raw,snmp",
        ])
        .args(["--rate", "50", "--format", format])
        .args(extra)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    // `ip netns exec` runs the binary as its own process (exec): signal that.
    let pid = child.id() as i32;
    assert_eq!(unsafe_kill(pid, signal), 0);
    let out = child.wait_with_output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

fn unsafe_kill(pid: i32, signal: i32) -> i32 {
    // SAFETY: kill(2) with a pid we spawned; no memory is shared.
    unsafe { libc::kill(pid, signal) }
}

#[test]
fn a_signal_ends_the_run_with_a_partial_report_in_every_format() {
    let Some(ns) = Netns::create(&[]) else { return };
    assert!(ns.nft(
        "table inet dark {\n chain input {\n  type filter hook input priority 0;\n  ip daddr 127.0.3.64/26 drop\n }\n}\n"
    ));
    // 126 hosts (the /25 without its network and broadcast addresses) × 2 checks are planned; whatever had not finished is in the report as
    // `unfinished`, counted in the summary apart from pass, warn and fail.
    let (code, json) = interrupted_run(&ns, "json", libc::SIGINT, &[]);
    assert_eq!(code, Some(130), "{json}");
    let report: serde_json::Value = serde_json::from_str(&json).expect("a whole JSON report");
    assert_eq!(report["interrupted"], "SIGINT");
    let cells = report["cells"].as_array().unwrap();
    assert_eq!(cells.len(), 252, "every planned cell is in the report");
    let unfinished = cells.iter().filter(|c| c["state"] == "unfinished").count();
    assert!(
        unfinished > 0 && unfinished < 252,
        "{unfinished} cells unfinished at the signal"
    );
    assert_eq!(report["summary"]["unfinished"], unfinished);
    assert_eq!(report["summary"]["cells"], 252);
    let (code, jsonl) = interrupted_run(&ns, "jsonl", libc::SIGTERM, &[]);
    assert_eq!(code, Some(143));
    let last: serde_json::Value = serde_json::from_str(jsonl.lines().last().unwrap()).unwrap();
    assert_eq!(last["kind"], "summary");
    assert_eq!(last["interrupted"], "SIGTERM");
    let unfinished = jsonl.matches(r#""state":"unfinished""#).count();
    assert!(unfinished > 0, "{jsonl}");
    assert_eq!(last["summary"]["unfinished"], unfinished);
    assert_eq!(jsonl.lines().count(), 253, "252 cells and the summary");
    let (code, table) = interrupted_run(&ns, "table", libc::SIGTERM, &[]);
    assert_eq!(code, Some(143));
    assert!(
        table.starts_with("PARTIAL REPORT: interrupted by SIGTERM"),
        "{table}"
    );
    assert!(table.contains("unfinished"), "{table}");
    let (_, csv) = interrupted_run(&ns, "csv", libc::SIGINT, &[]);
    assert!(
        csv.trim_end()
            .ends_with("cells marked unfinished were not probed to the end"),
        "{csv}"
    );
    assert!(csv.contains(",unfinished,"), "{csv}");
    for format in ["junit", "markdown", "html"] {
        let (code, text) = interrupted_run(&ns, format, libc::SIGINT, &[]);
        assert_eq!(code, Some(130), "{format}");
        assert!(text.contains("unfinished"), "{format}: {text}");
    }
    // The terminal or ssh session going away (SIGHUP) ends the run the same way, exit 129,
    // also in a report-only job (`--fail-on never`): a cut-short run has no verdict.
    let (code, json) = interrupted_run(&ns, "json", libc::SIGHUP, &["--fail-on", "never"]);
    assert_eq!(code, Some(129), "{json}");
    let report: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(report["interrupted"], "SIGHUP");
}

/// An ssh session dropping (SIGHUP) in the middle of a run with `--output`: the partial
/// report is in place, whole, and no temporary file is left beside it.
#[test]
fn a_hangup_leaves_the_partial_report_and_no_temporary_file() {
    let Some(ns) = Netns::create(&[]) else { return };
    assert!(ns.nft(
        "table inet dark {\n chain input {\n  type filter hook input priority 0;\n  ip daddr 127.0.3.64/26 drop\n }\n}\n"
    ));
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.json");
    let child = ns
        .mve_audit()
        .args([
            "check",
            "--printers",
            "127.0.3.0/25",
            "--checks",
            "raw,snmp",
        ])
        .args(["--rate", "50", "--format", "json", "--output"])
        .arg(&report)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    assert_eq!(unsafe_kill(child.id() as i32, libc::SIGHUP), 0);
    let status = child.wait_with_output().unwrap().status;
    assert_eq!(status.code(), Some(129));
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["report.json"], "no temporary file left");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(json["interrupted"], "SIGHUP");
}

/// Every format of a merged report keeps each row's site and lists the disagreements.
#[test]
fn merge_keeps_vantage_and_conflicts_in_every_format() {
    let [a, b] = examples();
    let run = |format: &str| {
        let out = mve()
            .args(["merge", &a, &b, "--format", format])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{format}");
        String::from_utf8(out.stdout).unwrap()
    };
    let csv = run("csv");
    let mut reader = ::csv::ReaderBuilder::new()
        .comment(Some(b'#'))
        .from_reader(csv.as_bytes());
    let headers = reader.headers().unwrap().clone();
    let vantage = headers
        .iter()
        .position(|h| h == "vantage")
        .expect("a vantage column");
    let sites: std::collections::BTreeSet<String> = reader
        .records()
        .map(|r| r.unwrap()[vantage].to_string())
        .collect();
    assert_eq!(sites.into_iter().collect::<Vec<_>>(), ["site-a", "site-b"]);
    assert!(csv.contains("# CONFLICT"), "{csv}");
    let jsonl = run("jsonl");
    let lines: Vec<serde_json::Value> = jsonl
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(
        lines
            .iter()
            .filter(|l| l["check"].is_string() && l["kind"].is_null())
            .all(|l| l["vantage"] == "site-a" || l["vantage"] == "site-b"),
        "{jsonl}"
    );
    assert!(lines.iter().any(|l| l["kind"] == "conflict"), "{jsonl}");
    let json: serde_json::Value = serde_json::from_str(&run("json")).unwrap();
    let conflicts = json["conflicts"].as_array().expect("conflicts in json");
    assert!(!conflicts.is_empty());
    // The merged report, conflicts and all, is what the committed schema describes.
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas/report-v1.schema.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let mut schemas = boon::Schemas::new();
    let mut compiler = boon::Compiler::new();
    compiler.add_resource("report-v1.json", schema).unwrap();
    let index = compiler.compile("report-v1.json", &mut schemas).unwrap();
    if let Err(err) = schemas.validate(&json, index) {
        panic!("the merged report breaks the schema: {err}");
    }
    let junit = run("junit");
    assert!(
        junit.contains("@ site-a") && junit.contains("@ site-b"),
        "{junit}"
    );
    assert!(junit.contains("CONFLICT"), "{junit}");
}

/// Two reports from the same vantage point cannot be told apart: refused, naming both.
#[test]
fn merge_refuses_two_reports_from_one_vantage() {
    let [a, _] = examples();
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("again.json");
    std::fs::copy(&a, &copy).unwrap();
    let out = mve()
        .args(["merge", &a, &copy.display().to_string()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("site-a.json") && err.contains("again.json"),
        "{err}"
    );
    assert!(err.contains("vantage point 'site-a'"), "{err}");
}

/// The same report given twice (also as `dir/../dir/file`) would count every cell twice:
/// refused, naming it, before anything is drawn.
#[test]
fn merge_refuses_the_same_report_twice() {
    let [a, _] = examples();
    let path = std::path::Path::new(&a);
    let dir = path.parent().unwrap();
    let other_spelling = dir
        .join("..")
        .join(dir.file_name().unwrap())
        .join(path.file_name().unwrap());
    for second in [a.clone(), other_spelling.display().to_string()] {
        let out = mve().args(["merge", &a, &second]).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{second}: {out:?}");
        assert!(out.stdout.is_empty(), "nothing drawn: {out:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("site-a.json is given twice"), "{err}");
    }
    // Standard input can be read once.
    let out = mve()
        .args(["merge", "-", "-"])
        .pipe_stdin(&a)
        .unwrap()
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("- is given twice"));
}

/// A merge that holds a run cut short is partial too: the banner, `"interrupted"` in JSON, and
/// that run's exit code (here SIGTERM's 143), never 0 or 1, whatever `--fail-on` says.
#[test]
fn a_merge_of_a_partial_report_is_partial() {
    let [a, b] = examples();
    let mut report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&a).unwrap()).unwrap();
    report["interrupted"] = "SIGTERM".into();
    let dir = tempfile::tempdir().unwrap();
    let partial = dir.path().join("site-a.json");
    std::fs::write(&partial, report.to_string()).unwrap();
    let partial = partial.display().to_string();
    let out = mve().args(["merge", &partial, &b]).output().unwrap();
    assert_eq!(out.status.code(), Some(143), "{out:?}");
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.starts_with("PARTIAL REPORT"), "{table}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("site-a.json is a partial report"), "{err}");
    let out = mve()
        .args([
            "merge",
            &partial,
            &b,
            "--format",
            "json",
            "--fail-on",
            "never",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(143), "{out:?}");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["interrupted"], "SIGTERM");
}

/// `merge -` reads one report from standard input (piped from a remote run).
#[test]
fn merge_reads_a_report_from_standard_input() {
    let [a, b] = examples();
    let out = mve()
        .args(["merge", "-", &b, "--format", "json"])
        .pipe_stdin(&a)
        .unwrap()
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let sites: std::collections::BTreeSet<&str> = json["targets"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["vantage"].as_str())
        .collect();
    assert!(
        sites.contains("site-a") && sites.contains("site-b"),
        "{sites:?}"
    );
}

/// A page per subcommand (mve-audit-check(1), …), each with the environment and the exit
/// status; an unknown one is a usage error listing the known ones.
#[test]
fn every_subcommand_has_a_manual_page() {
    for name in [
        "demo",
        "catalog",
        "check",
        "local",
        "listen",
        "send",
        "merge",
        "completions",
    ] {
        let out = mve().args(["man", name]).output().unwrap();
        assert!(out.status.success(), "{name}");
        let page = String::from_utf8(out.stdout).unwrap();
        assert!(page.contains(&format!(".TH mve-audit-{name} 1")), "{name}");
        assert!(page.contains(".SH ENVIRONMENT"), "{name}");
        assert!(page.contains(".SH \"EXIT STATUS\""), "{name}");
        assert!(page.contains("141"), "{name}");
    }
    let check = String::from_utf8(mve().args(["man", "check"]).output().unwrap().stdout).unwrap();
    assert!(check.contains("MVE_AUDIT_SNMP_V3_AUTH_KEY"));
    let out = mve().args(["man", "nope"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("known: demo, catalog, check"));
}
