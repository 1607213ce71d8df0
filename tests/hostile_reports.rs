//! Reports read back by `merge` and `diff` that a person edited, put together, or filled with
//! text a peer chose (issue 27): a cell twice, no cell, two vantage points with nothing in
//! common, unfinished cells in a run that says it finished, escape sequences in a target or a
//! vantage. Each is refused with exit 2 and the cell or file named, or drawn with nothing raw.
//! Nothing here probes: the reports are the committed examples, changed in a tempdir.

use std::path::{Path, PathBuf};

use assert_cmd::Command as Cmd;
use serde_json::Value;

fn mve() -> Cmd {
    Cmd::new(env!("CARGO_BIN_EXE_mve-audit"))
}

fn example(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/reports")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn write(dir: &Path, name: &str, report: &Value) -> String {
    let path: PathBuf = dir.join(name);
    std::fs::write(&path, report.to_string()).unwrap();
    path.display().to_string()
}

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn run(args: &[&str]) -> Run {
    let out = mve().args(args).output().unwrap();
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// No control character but the format's own line breaks.
fn assert_no_raw_control(what: &str, text: &str) {
    let raw: Vec<char> = text
        .chars()
        .filter(|c| *c != '\n' && (c.is_control() || ('\u{202a}'..='\u{202e}').contains(c)))
        .collect();
    assert!(raw.is_empty(), "{what} carries {raw:?}:\n{text}");
}

#[test]
fn merge_and_diff_refuse_a_report_that_holds_a_cell_twice() {
    let dir = tempfile::tempdir().unwrap();
    let mut report = example("site-a.json");
    let first = report["cells"][0].clone();
    report["cells"].as_array_mut().unwrap().push(first);
    let twice = write(dir.path(), "twice.json", &report);
    let b = write(dir.path(), "site-b.json", &example("site-b.json"));
    let a = write(dir.path(), "site-a.json", &example("site-a.json"));
    for args in [
        vec!["merge", twice.as_str()],
        vec!["merge", b.as_str(), twice.as_str()],
        vec!["diff", a.as_str(), twice.as_str()],
        vec!["diff", twice.as_str(), a.as_str()],
    ] {
        let out = run(&args);
        assert_eq!(out.code, Some(2), "{args:?}: {}", out.stderr);
        assert!(out.stdout.is_empty(), "{args:?}: nothing drawn");
        assert!(
            out.stderr
                .contains("twice.json: the cell 127.0.0.10 npap @ site-a is there twice"),
            "{args:?}: {}",
            out.stderr
        );
    }
}

/// The same cell twice with two states: which one would the matrix show? Neither.
#[test]
fn a_conflicting_duplicate_is_refused_with_both_states() {
    let dir = tempfile::tempdir().unwrap();
    let mut report = example("site-a.json");
    let mut other = report["cells"][0].clone();
    other["state"] = "verified".into();
    other["verdict"] = "pass".into();
    report["cells"].as_array_mut().unwrap().push(other);
    let path = write(dir.path(), "edited.json", &report);
    let out = run(&["merge", &path]);
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(
        out.stderr
            .contains("127.0.0.10 npap @ site-a is there twice (closed, then verified)"),
        "{}",
        out.stderr
    );
}

#[test]
fn an_empty_report_is_refused_by_merge_and_diff() {
    let dir = tempfile::tempdir().unwrap();
    let mut report = example("site-a.json");
    report["cells"] = Value::Array(Vec::new());
    let empty = write(dir.path(), "empty.json", &report);
    report["targets"] = Value::Array(Vec::new());
    report["checks"] = Value::Array(Vec::new());
    let bare = write(dir.path(), "bare.json", &report);
    let b = write(dir.path(), "site-b.json", &example("site-b.json"));
    for args in [
        vec!["merge", empty.as_str()],
        vec!["merge", bare.as_str()],
        vec!["merge", b.as_str(), bare.as_str()],
        vec!["diff", b.as_str(), bare.as_str()],
        vec!["diff", bare.as_str(), b.as_str()],
    ] {
        let out = run(&args);
        assert_eq!(out.code, Some(2), "{args:?}: {}", out.stderr);
        assert!(out.stdout.is_empty(), "{args:?}");
        assert!(
            out.stderr.contains("the report holds no cell"),
            "{args:?}: {}",
            out.stderr
        );
    }
}

/// Cells are compared by vantage point: two reports from different places share none, and
/// the diff used to list all 40 as appeared and 40 as disappeared, exit 0.
#[test]
fn a_diff_across_vantage_points_has_nothing_to_compare() {
    let dir = tempfile::tempdir().unwrap();
    let a = write(dir.path(), "site-a.json", &example("site-a.json"));
    let b = write(dir.path(), "site-b.json", &example("site-b.json"));
    for format in ["table", "json", "markdown"] {
        let out = run(&["diff", &a, &b, "--format", format]);
        assert_eq!(out.code, Some(2), "{format}: {}", out.stdout);
        assert!(out.stdout.is_empty(), "{format}: {}", out.stdout);
        assert!(
            out.stderr.contains(
                "these reports were made from different vantage points (site-a, site-b): \
                 nothing to compare"
            ),
            "{}",
            out.stderr
        );
    }
    // A run without --vantage against one with it: no cell in common either.
    let mut plain = example("site-a.json");
    for row in plain["targets"].as_array_mut().unwrap() {
        row.as_object_mut().unwrap().remove("vantage");
    }
    for cell in plain["cells"].as_array_mut().unwrap() {
        cell.as_object_mut().unwrap().remove("vantage");
    }
    let plain = write(dir.path(), "plain.json", &plain);
    let out = run(&["diff", &plain, &a]);
    assert_eq!(out.code, Some(2), "{}", out.stdout);
    assert!(out.stderr.contains("(unnamed, site-a)"), "{}", out.stderr);
    // The same place: compared as before.
    let out = run(&["diff", &a, &a]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(
        out.stdout.contains("No cell changed (40 compared)"),
        "{}",
        out.stdout
    );
}

/// A merged report read back holds each target once per vantage point: each cell stays on
/// its own vantage's row (they used to land on the first row of their target).
#[test]
fn a_merged_report_merges_and_diffs_again_with_each_cell_in_its_place() {
    let dir = tempfile::tempdir().unwrap();
    let a = write(dir.path(), "site-a.json", &example("site-a.json"));
    let b = write(dir.path(), "site-b.json", &example("site-b.json"));
    let merged = dir.path().join("merged.json").display().to_string();
    let out = run(&["merge", &a, &b, "--format", "json", "--output", &merged]);
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    let mut c = example("site-a.json");
    for row in c["targets"].as_array_mut().unwrap() {
        row["vantage"] = "site-c".into();
    }
    for cell in c["cells"].as_array_mut().unwrap() {
        cell["vantage"] = "site-c".into();
    }
    let c = write(dir.path(), "site-c.json", &c);
    let out = run(&["merge", &merged, &c, "--format", "json"]);
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    let json: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(json["cells"].as_array().unwrap().len(), 120);
    let twelve_http: Vec<(&str, &str)> = json["cells"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["target"] == "127.0.0.12" && c["check"] == "http")
        .map(|c| (c["vantage"].as_str().unwrap(), c["state"].as_str().unwrap()))
        .collect();
    assert_eq!(
        twelve_http,
        [
            ("site-a", "verified"),
            ("site-b", "filtered"),
            ("site-c", "verified")
        ]
    );
    let out = run(&["diff", &merged, &merged]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(
        out.stdout.contains("No cell changed (80 compared)"),
        "{}",
        out.stdout
    );
}

#[test]
fn unfinished_cells_must_come_from_a_run_that_says_it_was_cut_short() {
    let dir = tempfile::tempdir().unwrap();
    let b = write(dir.path(), "site-b.json", &example("site-b.json"));
    // Unfinished, in a report that says it finished: refused.
    let mut report = example("site-a.json");
    report["cells"][0]["state"] = "unfinished".into();
    report["cells"][0]["verdict"] = "unfinished".into();
    let finished = write(dir.path(), "finished.json", &report);
    for args in [
        vec!["merge", finished.as_str()],
        vec!["diff", b.as_str(), finished.as_str()],
    ] {
        let out = run(&args);
        assert_eq!(out.code, Some(2), "{args:?}: {}", out.stderr);
        assert!(
            out.stderr.contains(
                "the cell 127.0.0.10 npap @ site-a is unfinished, but the report does not say"
            ),
            "{}",
            out.stderr
        );
    }
    // A finished cell with no verdict: refused.
    let mut report = example("site-a.json");
    report["cells"][0]["verdict"] = "unfinished".into();
    let path = write(dir.path(), "no-verdict.json", &report);
    let out = run(&["merge", &path]);
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(
        out.stderr.contains("is closed with the verdict unfinished"),
        "{}",
        out.stderr
    );
    // A partial report written before unfinished had its own verdict said `warn`: read as
    // unfinished, and the merge ends as that run did.
    let mut report = example("site-a.json");
    report["interrupted"] = "SIGTERM".into();
    report["cells"][0]["state"] = "unfinished".into();
    report["cells"][0]["verdict"] = "warn".into();
    let old = write(dir.path(), "old-partial.json", &report);
    let out = run(&["merge", &old, "--format", "json"]);
    assert_eq!(out.code, Some(143), "{}", out.stderr);
    let json: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(json["cells"][0]["verdict"], "unfinished");
    assert_eq!(json["summary"]["unfinished"], 1);
    assert_eq!(
        json["summary"]["warn"],
        example("site-a.json")["summary"]["warn"]
    );
}

/// A cell of a check the report does not list was counted, and missing from the matrix.
#[test]
fn a_cell_is_never_counted_and_left_out_of_the_matrix() {
    let dir = tempfile::tempdir().unwrap();
    let mut report = example("site-a.json");
    report["checks"] = serde_json::json!(["npap", "snmp", "http", "https"]);
    let path = write(dir.path(), "no-raw.json", &report);
    let out = run(&["merge", &path, "--format", "markdown"]);
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    let header = out.stdout.lines().next().unwrap();
    assert!(header.contains("| raw |"), "{}", out.stdout);
}

/// Escape sequences and a bidi override in a merged report's targets and vantages: no
/// format shows them raw, and neither do the messages about the report.
#[test]
fn a_hostile_report_reaches_no_terminal_raw() {
    let dir = tempfile::tempdir().unwrap();
    let mut report = example("site-a.json");
    let target = "127.0.0.10\x1b]0;owned\x07\u{202e}";
    let vantage = "site-a\x1b[2J";
    for row in report["targets"].as_array_mut().unwrap() {
        row["vantage"] = vantage.into();
        if row["target"] == "127.0.0.10" {
            row["target"] = target.into();
        }
    }
    for cell in report["cells"].as_array_mut().unwrap() {
        cell["vantage"] = vantage.into();
        if cell["target"] == "127.0.0.10" {
            cell["target"] = target.into();
            cell["evidence"]["summary"] = "220 \x1b[31mready\r\n=cmd|' /C calc'!A0".into();
        }
    }
    let hostile = write(dir.path(), "hostile.json", &report);
    let b = write(dir.path(), "site-b.json", &example("site-b.json"));
    for format in ["table", "markdown", "html", "csv", "junit", "openmetrics"] {
        let out = run(&["merge", &hostile, &b, "--format", format]);
        assert_eq!(out.code, Some(1), "{format}: {}", out.stderr);
        assert_no_raw_control(format, &out.stdout);
        // Shown, in Markdown with its bracket escaped too.
        let shown = if format == "markdown" {
            r"x1b\[2J"
        } else {
            r"x1b[2J"
        };
        assert!(out.stdout.contains(shown), "{format}: {}", out.stdout);
    }
    let csv = run(&["merge", &hostile, &b, "--format", "csv"]).stdout;
    assert!(!csv.lines().any(|l| l.starts_with('=')), "{csv}");
    // The messages: a vantage given twice, a cell twice.
    let again = write(dir.path(), "again.json", &report);
    let out = run(&["merge", &hostile, &again]);
    assert_eq!(out.code, Some(2));
    assert_no_raw_control("stderr", &out.stderr);
    assert!(out.stderr.contains(r"site-a\x1b[2J"), "{}", out.stderr);
    let first = report["cells"][0].clone();
    report["cells"].as_array_mut().unwrap().push(first);
    let twice = write(dir.path(), "twice.json", &report);
    let out = run(&["merge", &twice]);
    assert_eq!(out.code, Some(2));
    assert_no_raw_control("stderr", &out.stderr);
    assert!(
        out.stderr
            .contains(r"127.0.0.10\x1b]0;owned\x07\u{202e} npap"),
        "{}",
        out.stderr
    );
}

/// A verdict edited against its state is not believed: a closed required cell marked "pass"
/// would turn a failing run green.
#[test]
fn a_verdict_that_contradicts_its_state_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut report = example("site-a.json");
    let mut edited = 0;
    for cell in report["cells"].as_array_mut().unwrap() {
        if cell["verdict"] == "fail" {
            cell["verdict"] = "pass".into();
            edited += 1;
        }
    }
    assert!(edited > 0, "the example holds failing cells");
    let lie = write(dir.path(), "lie.json", &report);
    let a = write(dir.path(), "site-a.json", &example("site-a.json"));
    for args in [
        vec!["merge", lie.as_str()],
        vec!["diff", a.as_str(), lie.as_str()],
    ] {
        let out = run(&args);
        assert_eq!(out.code, Some(2), "{args:?}: {}", out.stderr);
        assert!(
            out.stderr.contains("yet it says pass"),
            "{args:?}: {}",
            out.stderr
        );
    }
    // A report file whose unknown value carries an escape: the message shows it escaped.
    let mut hostile = example("site-a.json");
    hostile["cells"][0]["state"] = "r\u{1b}[1m".into();
    let hostile = write(dir.path(), "hostile.json", &hostile);
    let out = run(&["merge", &hostile]);
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert_no_raw_control("merge stderr", &out.stderr);
}
