//! Every example in every `--help` runs. Each is taken from the help text as printed, its
//! lab addresses swapped for loopback ones, its system paths for a temporary directory, and
//! run by `bash` inside a test namespace whose only interface is its loopback (the example
//! names like `mail.example.com` resolve there through the namespace's own hosts file), so
//! nothing leaves the machine. An example that stops parsing, names a flag that is gone, or
//! exits with a usage error fails here.
// Network namespaces are Linux-only; on other platforms this file builds empty.
#![cfg(target_os = "linux")]

mod support;

use support::Netns;

/// The tool and every subcommand clap knows (a new one is covered without a word here).
fn commands() -> Vec<String> {
    let cli = <mve_audit::cli::Cli as clap::CommandFactory>::command();
    std::iter::once(String::new())
        .chain(
            cli.get_subcommands()
                .map(|c| c.get_name().to_string())
                .filter(|name| name != "help"),
        )
        .collect()
}

/// What an example names that must not be used as written, and what runs instead.
const SWAPS: &[(&str, &str)] = &[
    // Documentation addresses (RFC 5737): loopback ones inside the namespace.
    ("192.0.2.0/24", "127.0.2.0/28"),
    ("192.0.2.3", "127.0.2.3"),
    ("192.0.2.4", "127.0.2.4"),
    ("192.0.2.5", "127.0.0.5"),
    // A long listen: a short one.
    ("--duration 5m", "--duration 1s"),
    ("--timeout 5s", "--timeout 1s"),
    // System paths: the temporary directory.
    ("/etc/bash_completion.d/", "$OUT/"),
    ("\"${fpath[1]}/_mve-audit\"", "$OUT/_mve-audit"),
    ("$PROFILE", "$OUT/profile.ps1"),
    ("/usr/local/share/man/man1/", "$OUT/"),
];

/// The examples of one command's `--help`, one shell line each.
fn examples(command: &str) -> Vec<String> {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_mve-audit"));
    if !command.is_empty() {
        cmd.arg(command);
    }
    let out = cmd.arg("--help").output().unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    help.lines()
        .skip_while(|l| !l.starts_with("Examples:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .map(|l| l.trim().to_string())
        .filter(|l| l.starts_with("mve-audit"))
        .collect()
}

#[test]
fn every_help_example_runs() {
    let Some(ns) = Netns::create(&["127.0.0.1 mail.example.com mve-server.example.com"]) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path();
    std::fs::write(work.join("fleet.txt"), "127.0.2.1\n127.0.2.2\n").unwrap();
    std::fs::write(
        work.join("site.toml"),
        "[targets]\nprinters = [\"127.0.2.1\"]\n[timing]\ntimeout = \"200ms\"\nretries = 0\n",
    )
    .unwrap();
    std::fs::create_dir(work.join("reports")).unwrap();
    // Reports to merge, from two vantage points.
    for (site, file) in [("site-a", "site-a.json"), ("site-b", "site-b.json")] {
        let out = ns
            .mve_audit()
            .current_dir(work)
            .args(["check", "--printers", "127.0.2.1", "--checks", "raw"])
            .args(["--timeout", "200ms", "--format", "json", "--vantage", site])
            .output()
            .unwrap();
        assert!(!out.stdout.is_empty());
        std::fs::write(work.join(file), &out.stdout).unwrap();
        // Two weeks of one place: diff compares a vantage point with itself (two places
        // have no cell in common, and diff refuses them).
        if site == "site-a" {
            std::fs::write(work.join("last-week.json"), &out.stdout).unwrap();
            std::fs::write(work.join("this-week.json"), &out.stdout).unwrap();
        }
        std::fs::write(work.join("reports").join(file), &out.stdout).unwrap();
    }
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_mve-audit"));
    let mut ran = 0;
    let mut failures = Vec::new();
    for command in commands() {
        let found = examples(&command);
        assert!(!found.is_empty(), "`{command} --help` has no examples");
        for example in found {
            let mut line = example.clone();
            for (from, to) in SWAPS {
                line = line.replace(from, to);
            }
            // Fast timing for the checks: the examples' own flags still parse first.
            if line.starts_with("mve-audit check") && !line.contains("--profile") {
                line = line.replacen(
                    "mve-audit check",
                    "mve-audit check --timeout 200ms --retries 0",
                    1,
                );
            }
            // `man -l -` needs man-db; without it the page is only checked to be one.
            if line.ends_with("| man -l -") && !has("man") {
                line = line.replace("| man -l -", "| grep -q '^.TH'");
            }
            let line = line.replacen("mve-audit", &bin.display().to_string(), 1);
            let out = ns
                .command("bash")
                .args(["-c", &format!("set -o pipefail; {line}")])
                .current_dir(work)
                .env("OUT", work)
                .env("MANPAGER", "cat")
                .env("PAGER", "cat")
                .output()
                .unwrap();
            let code = out.status.code();
            // An audit that found failures (1) still ran; a usage error (2) or worse did not.
            if !matches!(code, Some(0 | 1)) {
                failures.push(format!(
                    "{example}\n  ran: {line}\n  exit {code:?}\n  {}",
                    String::from_utf8_lossy(&out.stderr).trim()
                ));
            }
            ran += 1;
        }
    }
    assert!(ran >= 15, "only {ran} examples");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // The redirected examples wrote where they said.
    for file in [
        "mve-audit",
        "_mve-audit",
        "profile.ps1",
        "mve-audit.1",
        "mve-audit-check.1",
    ] {
        let written = std::fs::read(work.join(file)).unwrap_or_default();
        assert!(!written.is_empty(), "{file} was not written");
    }
    let html = std::fs::read_to_string(work.join("report.html")).unwrap();
    assert!(html.contains("<table"), "check --output report.html");
    let changes = std::fs::read_to_string(work.join("changes.md")).unwrap();
    assert!(changes.contains("mve-audit diff"), "{changes}");
    let merged = std::fs::read_to_string(work.join("fleet.html")).unwrap();
    assert!(merged.contains("site-a") && merged.contains("site-b"));
}

fn has(program: &str) -> bool {
    std::process::Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .output()
        .is_ok_and(|o| o.status.success())
}
