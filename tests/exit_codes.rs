//! Exit codes that cannot lie (issue 18): an audit with no target exits 2 naming where it
//! looked, and a run whose reader went away exits 141 (the shell's code for a closed pipe),
//! never 0 or 1, whatever the format. Probing runs happen inside a namespace of the test's own.
#![cfg(target_os = "linux")]

mod support;

use std::io::Write;
use std::process::{Command, Stdio};

use assert_cmd::Command as Cmd;
use support::Netns;

fn mve() -> Cmd {
    Cmd::new(env!("CARGO_BIN_EXE_mve-audit"))
}

/// Empty lists, `/dev/null` and a list of comments: no target after reading every source is a
/// usage error naming the source, with and without `--strict` or `--fail-on never`, from a flag
/// or a profile.
#[test]
fn no_target_after_every_source_exits_2_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.txt");
    std::fs::write(&empty, "").unwrap();
    let comments = dir.path().join("comments.txt");
    std::fs::write(&comments, "# printers go here\n\n   # none yet\n").unwrap();
    let profile = dir.path().join("site.toml");
    std::fs::write(&profile, "[targets]\nprinters = \"@comments.txt\"\n").unwrap();
    let cases: Vec<(Vec<String>, String)> = vec![
        (
            vec!["--printers".into(), format!("@{}", empty.display())],
            "empty.txt".into(),
        ),
        (
            vec!["--printers".into(), "@/dev/null".into()],
            "/dev/null".into(),
        ),
        (
            vec![
                "--printers".into(),
                format!("@{}", comments.display()),
                "--strict".into(),
            ],
            "comments.txt".into(),
        ),
        (
            vec!["--profile".into(), profile.display().to_string()],
            "targets.printers".into(),
        ),
        (
            vec![
                "--printers".into(),
                "@/dev/null".into(),
                "--fail-on".into(),
                "never".into(),
            ],
            "/dev/null".into(),
        ),
    ];
    for (args, named) in cases {
        let out = mve()
            .arg("check")
            .args(&args)
            .arg("--dry-run")
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains("no targets"), "{args:?}: {err}");
        assert!(err.contains(&named), "{args:?} names {named}: {err}");
    }
    // One empty list beside a real target is not an error.
    let out = mve()
        .args(["check", "--printers"])
        .arg(format!("@{},192.0.2.7", empty.display()))
        .args(["--dry-run"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
}

/// Runs `command` with stdout a pipe whose reader is gone before the child starts (so the
/// first write fails, whatever the timing); returns the exit code.
fn with_closed_stdout(mut command: Command) -> Option<i32> {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    command
        .stdout(writer)
        .stderr(Stdio::null())
        .status()
        .unwrap()
        .code()
}

#[test]
fn a_closed_stdout_exits_141_in_every_format() {
    // Every command that writes without a network: none may end 0, 1 or in a panic (101).
    let reports = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/reports");
    let (a, b) = (
        format!("{reports}/site-a.json"),
        format!("{reports}/site-b.json"),
    );
    let quiet: [&[&str]; 9] = [
        &["catalog", "--format", "table"],
        &["catalog", "--format", "json"],
        &["completions", "bash"],
        &["completions", "powershell"],
        &["man", "check"],
        &["merge", &a, &b],
        // One vantage point against itself: two would have nothing to compare (exit 2).
        &["diff", &a, &a],
        &["check", "--printers", "192.0.2.0/24", "--dry-run"],
        &[
            "check",
            "--printers",
            "192.0.2.0/24",
            "--dry-run",
            "--format",
            "json",
        ],
    ];
    for args in quiet {
        let mut command = Command::new(env!("CARGO_BIN_EXE_mve-audit"));
        command.args(args);
        assert_eq!(with_closed_stdout(command), Some(141), "{args:?}");
    }
    // A check whose every cell fails, in each format, inside a namespace of its own: the
    // reader leaving must not turn it into a pass (0) or an ordinary failure (1).
    let Some(ns) = Netns::create(&[]) else { return };
    let failing = |format: &str, extra: &[&str]| {
        let mut command = ns.mve_audit();
        command.args([
            "check",
            "--printers",
            "127.0.0.1,127.0.0.2,127.0.0.3",
            "--checks",
            "raw,http",
            "--port",
            "raw=9",
            "--port",
            "http=7",
            "--format",
            format,
            "--quiet",
        ]);
        command.args(extra);
        with_closed_stdout(command)
    };
    for format in ["table", "json", "jsonl", "csv", "junit", "markdown", "html"] {
        assert_eq!(failing(format, &[]), Some(141), "check {format}");
    }
    // Nor does a report-only job (`--fail-on never`) turn a cut-short run into a pass.
    assert_eq!(
        failing("jsonl", &["--fail-on", "never"]),
        Some(141),
        "--fail-on never"
    );
}

/// The control: the same run read to the end exits 1 (every cell failed), so 141 above is
/// the closed pipe and nothing else.
#[test]
fn the_same_run_read_to_the_end_exits_1() {
    let Some(ns) = Netns::create(&[]) else { return };
    let out = ns
        .mve_audit()
        .args([
            "check",
            "--printers",
            "127.0.0.1",
            "--checks",
            "raw",
            "--port",
            "raw=9",
            "--format",
            "jsonl",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let _ = std::io::stdout().flush();
}
