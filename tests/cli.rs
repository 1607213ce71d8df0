//! The binary end to end: output formats, exit codes, and errors that name the bad value.
//! Anything that probes runs inside a namespace the test creates.

mod support;

#[cfg(target_os = "linux")]
use std::net::TcpListener;
use std::process::{Command, Stdio};

use assert_cmd::Command as Cmd;
#[cfg(target_os = "linux")]
use support::{Netns, cell, json_in, run_in};

fn mve() -> Cmd {
    Cmd::new(env!("CARGO_BIN_EXE_mve-audit"))
}

fn stderr_of(cmd: &mut Cmd) -> (i32, String) {
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn catalog_json_lists_every_path_with_its_fields() {
    let out = mve()
        .args(["catalog", "--format", "json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["schema_version"], 1);
    let paths = report["paths"].as_array().unwrap();
    // The vendor's 18 paths of 2020, and MVE 4.x's SQL Server Browser, CA and CRL.
    assert_eq!(paths.len(), 21);
    for id in ["sql-browser", "ca", "crl"] {
        assert!(paths.iter().any(|p| p["id"] == id), "{id}");
    }
    for path in paths {
        for field in [
            "id",
            "protocol",
            "direction",
            "transport",
            "mve_side",
            "peer",
            "used_for",
            "requirement",
            "notes",
        ] {
            assert!(path.get(field).is_some(), "{field} missing in {path:#}");
        }
    }
    let npap = paths.iter().find(|p| p["id"] == "npap").unwrap();
    assert_eq!(npap["transport"], "udp");
    assert_eq!(npap["mve_side"]["port"], 9187);
    assert_eq!(npap["peer"]["port"], 9300);
    assert_eq!(npap["direction"], "server-to-printer");
    assert_eq!(npap["requirement"], "required");
    let sql = paths.iter().find(|p| p["id"] == "sqlserver").unwrap();
    assert_eq!(sql["peer"]["kind"], "user-defined");
    assert_eq!(sql["peer"]["default"], 1433);
    let https = paths.iter().find(|p| p["id"] == "https").unwrap();
    assert!(https["notes"][0].as_str().unwrap().contains("TCP 161"));
}

#[test]
fn catalog_table_shows_every_id_and_the_oddities() {
    let out = mve().arg("catalog").output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    for id in [
        "npap",
        "lst-handshake",
        "npap-alerts",
        "console",
        "kerberos",
    ] {
        assert!(text.contains(id), "{id} missing");
    }
    assert!(text.contains("TCP 161"));
    assert!(text.contains("active-mode"));
}

#[test]
fn help_documents_the_exit_codes() {
    let out = mve().args(["check", "--help"]).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("Exit codes:"), "{text}");
    assert!(text.contains("2    usage or configuration error"), "{text}");
    assert!(
        text.contains("141  the report's reader went away"),
        "{text}"
    );
    assert!(text.contains("130  interrupted"), "{text}");
}

#[test]
fn top_level_help_lists_every_command_and_version_works() {
    let out = mve().arg("--help").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for command in ["catalog", "check", "local", "listen", "send"] {
        assert!(
            text.contains(&format!("  {command} ")),
            "{command} missing:\n{text}"
        );
    }
    let out = mve().arg("--version").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let version = String::from_utf8(out.stdout).unwrap();
    assert!(version.starts_with("mve-audit "), "{version}");
    // The commit it was built from (build.rs reads .git): a checkout's tests see a hash.
    let commit = version
        .split("(commit ")
        .nth(1)
        .and_then(|rest| rest.split(')').next())
        .unwrap_or_default();
    if std::path::Path::new(".git").exists() && std::env::var_os("MVE_AUDIT_COMMIT").is_none() {
        assert!(
            commit.len() == 12 && commit.bytes().all(|b| b.is_ascii_hexdigit()),
            "{version}"
        );
    } else {
        assert!(!commit.is_empty(), "{version}");
    }
    let short = mve().arg("-V").output().unwrap();
    assert_eq!(
        String::from_utf8(short.stdout).unwrap().trim(),
        concat!("mve-audit ", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn usage_errors_exit_2_and_name_the_bad_value() {
    let rows: &[(&[&str], &str)] = &[
        (
            &["check", "--printers", "192.0.2.0/33"],
            "--printers: '192.0.2.0/33' is not a valid CIDR range",
        ),
        (
            &["check", "--printers", "192.0.2.300/24"],
            "'192.0.2.300/24'",
        ),
        (
            &["check", "--printers", "printer1", "--port", "raw=70000"],
            "raw=70000",
        ),
        (
            &["check", "--printers", "printer1", "--port", "raw=0"],
            "port 0",
        ),
        (
            &["check", "--smtp", "mail:smtp"],
            "--smtp: 'mail:smtp' has a bad port",
        ),
        (&["check", "--printers", "198.51.100.0/8"], "--allow-large"),
        (
            &["check", "--printers", "p", "--checks", "telnet"],
            "unknown check 'telnet'",
        ),
        (&["check", "--printers", "p", "--timeout", "2"], "no unit"),
        (&["check"], "no targets"),
        (
            &["check", "--printers", "p", "--checks", "ldap"],
            "nothing to check",
        ),
        (
            &["check", "--printers", "p", "--checks", "console"],
            "mve-audit listen",
        ),
        (&["check", "--no-such-flag"], "--no-such-flag"),
        (&["frobnicate"], "frobnicate"),
    ];
    for (args, want) in rows {
        let (code, stderr) = stderr_of(mve().args(*args));
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(stderr.contains(want), "{args:?}: {stderr}");
    }
}

#[test]
fn profile_errors_name_file_line_and_column() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path();
    let profile = dir.join("site.toml");
    std::fs::write(
        &profile,
        "[targets]\nprinters = [\"192.0.2.1\"]\n\n[timing]\ntimout = \"2s\"\n",
    )
    .unwrap();
    let (code, stderr) = stderr_of(mve().args(["check", "--profile"]).arg(&profile));
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("site.toml:5:1:"), "{stderr}");
    assert!(stderr.contains("unknown field `timout`"), "{stderr}");

    std::fs::write(&profile, "[targets]\nprinters = [\"192.0.2.0/40\"]\n").unwrap();
    let (code, stderr) = stderr_of(mve().args(["check", "--profile"]).arg(&profile));
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("site.toml:2:13: targets.printers: '192.0.2.0/40'"),
        "{stderr}"
    );

    let (code, stderr) = stderr_of(mve().args(["check", "--profile", "/nonexistent/p.toml"]));
    assert_eq!(code, 2);
    assert!(stderr.contains("/nonexistent/p.toml"), "{stderr}");
}

#[test]
fn shipped_profiles_parse_and_only_lack_targets() {
    for name in ["preflight.toml", "printers.toml"] {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/profiles/").to_string() + name;
        let (code, stderr) = stderr_of(mve().args(["check", "--profile", &path]));
        assert_eq!(code, 2, "{name}: {stderr}");
        assert!(stderr.contains("no targets"), "{name}: {stderr}");
    }
}

#[test]
#[cfg(target_os = "linux")] // probes run inside a network namespace
fn table_output_shows_matrix_failures_hints_and_summary() {
    let Some(ns) = Netns::create(&[]) else { return };
    let listener = ns.run(|| TcpListener::bind("127.0.0.1:0").unwrap());
    let port = listener.local_addr().unwrap().port();
    let (code, stdout, _) = run_in(
        &ns,
        &[
            "check",
            "--printers",
            "127.0.0.1",
            "--checks",
            "raw,http",
            "--port",
            &format!("raw={port}"),
            "--port",
            "http=9",
        ],
    );
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("raw"), "{stdout}");
    assert!(stdout.contains(&format!("tcp/{port}")), "{stdout}");
    assert!(stdout.contains("│ 127.0.0.1 ┆ closed ┆ open"), "{stdout}");
    assert!(
        stdout.contains("FAIL 127.0.0.1 http tcp/9: closed — TCP reset"),
        "{stdout}"
    );
    assert!(stdout.contains("fix: Nothing listens on tcp 9"), "{stdout}");
    assert!(
        stdout.contains("2 cells on 1 target: 1 pass, 0 warn, 1 fail"),
        "{stdout}"
    );
    assert!(!stdout.contains('\x1b'), "no colour when piped");

    let (_, coloured, _) = run_in(
        &ns,
        &[
            "check",
            "--printers",
            "127.0.0.1",
            "--checks",
            "http",
            "--port",
            "http=9",
            "--color",
            "always",
        ],
    );
    assert!(coloured.contains("\x1b["), "{coloured}");
}

#[test]
#[cfg(target_os = "linux")] // probes run inside a network namespace
fn exit_code_0_when_required_checks_pass_and_strict_turns_warnings_into_1() {
    let Some(ns) = Netns::create(&[]) else { return };
    let listener = ns.run(|| TcpListener::bind("127.0.0.1:0").unwrap());
    let port = listener.local_addr().unwrap().port();
    let raw = format!("raw={port}");
    // lst-handshake serves only some printers: closed is a warning, not a failure.
    let args = [
        "check",
        "--printers",
        "127.0.0.1",
        "--checks",
        "raw,lst-handshake",
        "--port",
        &raw,
        "--port",
        "lst-handshake=9",
    ];
    let (code, report) = json_in(&ns, &args);
    assert_eq!(cell(&report, "lst-handshake")["verdict"], "warn");
    assert_eq!(code, 0);
    let with = |more: &[&'static str]| {
        let mut all = args.to_vec();
        all.extend(more);
        json_in(&ns, &all).0
    };
    assert_eq!(with(&["--strict"]), 1);
    assert_eq!(
        with(&["--fail-on", "warn"]),
        1,
        "--fail-on warn is --strict"
    );
    assert_eq!(with(&["--fail-on", "fail"]), 0, "the default, spelled out");
    let mut required = args.to_vec();
    required.extend(["--require", "lst-handshake"]);
    let (code, report) = json_in(&ns, &required);
    assert_eq!(cell(&report, "lst-handshake")["verdict"], "fail");
    assert_eq!(code, 1);
    // A report-only job: a finished audit exits 0 whatever failed, and the report says so.
    assert_eq!(
        with(&["--require", "lst-handshake", "--fail-on", "never"]),
        0
    );
    // Two spellings of one choice that disagree are a usage error, not last-wins.
    let mut both = args.to_vec();
    both.extend(["--strict", "--fail-on", "never"]);
    let (code, _, err) = run_in(&ns, &both);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--fail-on"), "{err}");
}

#[test]
#[cfg(target_os = "linux")] // probes run inside a network namespace
fn unresolvable_names_become_error_cells_and_lab_names_resolve() {
    // The namespace's resolver is its own loopback, where nothing answers; its hosts file
    // names one printer.
    let Some(ns) = Netns::create(&["127.0.0.1 printer-a.lab"]) else {
        return;
    };
    let (code, report) = json_in(
        &ns,
        &[
            "check",
            "--printers",
            "printer-a.lab,no-such-printer.invalid",
            "--checks",
            "raw",
            "--port",
            "raw=9",
        ],
    );
    assert_eq!(code, 1);
    let cells = report["cells"].as_array().unwrap();
    let lab = cells
        .iter()
        .find(|c| c["target"] == "printer-a.lab")
        .unwrap();
    assert_eq!(lab["address"], "127.0.0.1");
    assert_eq!(lab["state"], "closed");
    let missing = cells
        .iter()
        .find(|c| c["target"] == "no-such-printer.invalid")
        .unwrap();
    assert_eq!(missing["state"], "error", "{missing:#}");
    assert!(missing["address"].is_null());
    let summary = missing["evidence"]["summary"].as_str().unwrap();
    assert!(
        summary.contains("'no-such-printer.invalid' did not resolve"),
        "{summary}"
    );
    assert!(missing["hint"].as_str().unwrap().contains("DNS"));
}

#[test]
#[cfg(target_os = "linux")] // probes run inside a network namespace
fn readme_example_checks_raw_and_snmp_on_loopback() {
    let Some(ns) = Netns::create(&[]) else { return };
    let listener = ns.run(|| TcpListener::bind("127.0.0.1:0").unwrap());
    let snmp = ns.run(|| std::net::UdpSocket::bind("127.0.0.1:0").unwrap());
    let (raw_port, snmp_port) = (
        listener.local_addr().unwrap().port(),
        snmp.local_addr().unwrap().port(),
    );
    let agent = std::thread::spawn(move || {
        let mut buf = [0u8; 512];
        let (_, from) = snmp.recv_from(&mut buf).unwrap();
        snmp.send_to(b"\x30\x00", from).unwrap();
    });
    let (code, stdout, stderr) = run_in(
        &ns,
        &[
            "check",
            "--printers",
            "127.0.0.1",
            "--checks",
            "raw,snmp",
            "--port",
            &format!("raw={raw_port}"),
            "--port",
            &format!("snmp={snmp_port}"),
        ],
    );
    // The stand-in agent answers two bytes that are not SNMP: the port is open, SNMP is not
    // proven, and a required check that cannot prove its service fails, saying why.
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(stdout.contains("open (wrong protocol)"), "{stdout}");
    assert!(
        stdout.contains("2 cells on 1 target: 1 pass, 0 warn, 1 fail"),
        "{stdout}"
    );
    agent.join().unwrap();
}

#[test]
#[cfg(target_os = "linux")] // probes run inside a network namespace
fn profile_supplies_targets_and_flags_override_it() {
    let Some(ns) = Netns::create(&[]) else { return };
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path();
    std::fs::write(dir.join("fleet.txt"), "# lab\n127.0.0.2\n").unwrap();
    std::fs::write(
        dir.join("lab.toml"),
        "[targets]\nprinters = [\"@fleet.txt\"]\n\n[checks]\nonly = [\"raw\"]\n\n[ports]\nraw = 9\n\n[timing]\ntimeout = \"300ms\"\n",
    )
    .unwrap();
    let profile = dir.join("lab.toml").display().to_string();
    let (_, report) = json_in(&ns, &["check", "--profile", &profile]);
    let raw = cell(&report, "raw");
    assert_eq!(
        raw["address"], "127.0.0.2",
        "the @file is read relative to the profile"
    );
    assert_eq!(raw["port"], 9);
    let (_, report) = json_in(
        &ns,
        &[
            "check",
            "--profile",
            &profile,
            "--printers",
            "127.0.0.3",
            "--port",
            "raw=10",
        ],
    );
    let raw = cell(&report, "raw");
    assert_eq!(raw["address"], "127.0.0.3");
    assert_eq!(raw["port"], 10);
}

#[test]
#[cfg(unix)] // /dev/full
fn unwritable_output_exits_3() {
    let devfull = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let status = Command::new(env!("CARGO_BIN_EXE_mve-audit"))
        .arg("catalog")
        .stdout(devfull)
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(3));
}

/// A reader that went away is no error message (nobody reads stderr's complaint), but the
/// output was cut short, so the exit code says so: 141, as a shell reports a closed pipe.
#[test]
fn a_closed_pipe_is_quiet_and_exits_141() {
    // The reader is gone before the child starts, so the first write fails, whatever the
    // timing.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = Command::new(env!("CARGO_BIN_EXE_mve-audit"))
        .args(["catalog", "--format", "json"])
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(141));
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// What Notepad saves as "Unicode": UTF-16 LE with a byte-order mark and CRLF line ends.
fn notepad_unicode(text: &str) -> Vec<u8> {
    let mut bytes = vec![0xff, 0xfe];
    bytes.extend(
        text.replace('\n', "\r\n")
            .encode_utf16()
            .flat_map(u16::to_le_bytes),
    );
    bytes
}

#[test]
fn notepad_unicode_profiles_and_target_lists_read_as_utf8() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("fleet.txt"),
        notepad_unicode("# lobby\n127.0.0.1\n127.0.0.2 # second floor\n"),
    )
    .unwrap();
    let profile = dir.path().join("site.toml");
    std::fs::write(
        &profile,
        notepad_unicode("[targets]\nprinters = [\"@fleet.txt\", \"127.0.0.3\"]\n"),
    )
    .unwrap();
    let out = mve()
        .args(["check", "--dry-run", "--format", "json", "--profile"])
        .arg(&profile)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(plan["targets"], 3, "both list lines and the profile's own");

    // A Notepad profile with a mistake is reported at its line, as a UTF-8 one would be.
    std::fs::write(
        &profile,
        notepad_unicode("[targets]\n\nprinters = [\"@fleet.txt\"]\n[timing]\nretries = 99\n"),
    )
    .unwrap();
    let (code, stderr) = stderr_of(
        mve()
            .args(["check", "--dry-run", "--profile"])
            .arg(&profile),
    );
    assert_eq!(code, 2);
    assert!(stderr.contains("site.toml:5:"), "{stderr}");
}

/// `--output report.json` without `--format` writes JSON (the name says so), and `--dry-run`
/// writes its plan there too, not to the terminal (issue 19).
#[test]
fn the_output_name_picks_the_format_and_takes_the_dry_run() {
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("plan.json");
    let out = Command::new(env!("CARGO_BIN_EXE_mve-audit"))
        .args(["check", "--printers", "192.0.2.7", "--dry-run", "--output"])
        .arg(&plan)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(out.stdout.is_empty(), "the plan went to the file");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&plan).unwrap()).unwrap();
    assert_eq!(json["dry_run"], true);
    let text = dir.path().join("plan.txt");
    let out = Command::new(env!("CARGO_BIN_EXE_mve-audit"))
        .args(["check", "--printers", "192.0.2.7", "--dry-run", "--output"])
        .arg(&text)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(
        std::fs::read_to_string(&text)
            .unwrap()
            .starts_with("Dry run: nothing was sent")
    );
}

/// `--snmp-version 2C` is taken as `2c`, like the protocol names that already ignore case.
#[test]
fn the_snmp_version_ignores_case() {
    let out = Command::new(env!("CARGO_BIN_EXE_mve-audit"))
        .args([
            "check",
            "--printers",
            "192.0.2.7",
            "--snmp-version",
            "2C",
            "--dry-run",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
}

/// `@-` reads a target list from standard input (once), with line numbers named after `-`.
#[test]
fn a_target_list_on_standard_input() {
    let run = |input: &str, extra: &[&str]| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_mve-audit"))
            .args(["check", "--printers", "@-", "--dry-run", "--format", "json"])
            .args(extra)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write as _;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    let out = run("# lab\n192.0.2.7\n192.0.2.8\n", &[]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(plan["targets"], 2);
    let bad = run("192.0.2.7\nnot..a.host\n", &[]);
    assert_eq!(bad.status.code(), Some(2));
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(err.contains("-:2"), "{err}");
    let empty = run("# nothing yet\n", &[]);
    assert_eq!(empty.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&empty.stderr).contains("@-"));
    let twice = run("192.0.2.7\n", &["--printers", "@-"]);
    assert_eq!(twice.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&twice.stderr).contains("once"));
}

/// `-v` says where each value came from: a flag, an environment variable, the profile, the
/// default; a secret shows as set, never its value.
#[test]
fn verbose_names_the_origin_of_each_value() {
    let temp = tempfile::tempdir().unwrap();
    let profile = temp.path().join("site.toml");
    std::fs::write(
        &profile,
        "[timing]\nretries = 1\n[snmp]\ncommunity = \"s3cret-community\"\n",
    )
    .unwrap();
    let out = mve()
        .env("MVE_AUDIT_PROFILE", &profile)
        .env_remove("MVE_AUDIT_SNMP_COMMUNITY")
        .args([
            "check",
            "--printers",
            "127.0.0.1",
            "--timeout",
            "500ms",
            "-v",
        ])
        .args(["--dry-run", "--output"])
        .arg(temp.path().join("plan.json"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let line = |name: &str| {
        stderr
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{name} ")))
            .unwrap_or_else(|| panic!("no {name}:\n{stderr}"))
            .to_string()
    };
    assert!(
        line("profile").contains("environment MVE_AUDIT_PROFILE"),
        "{stderr}"
    );
    assert!(line("timeout").contains("flag --timeout"), "{stderr}");
    assert!(line("retries").contains("timing.retries"), "{stderr}");
    assert!(line("rate").contains("(default)"), "{stderr}");
    assert!(line("format").contains("--output's extension"), "{stderr}");
    assert!(
        line("snmp-community").contains("snmp.community"),
        "{stderr}"
    );
    assert!(!stderr.contains("s3cret"), "{stderr}");
    // The dry run honoured --output and named the target.
    let plan = std::fs::read_to_string(temp.path().join("plan.json")).unwrap();
    assert!(plan.contains("\"target\": \"127.0.0.1\""), "{plan}");
}

/// The hosted Windows runner's smoke (`scripts/windows-smoke.ps1`) cannot run here; every
/// flag it passes must at least exist in the help of the subcommand it is given to, so a
/// renamed flag fails this test rather than the runner.
#[test]
fn the_windows_smoke_script_uses_only_flags_that_exist() {
    let script = std::fs::read_to_string("scripts/windows-smoke.ps1").unwrap();
    let mut checked = 0;
    for line in script.lines() {
        let Some(call) = line.split("& $Exe ").nth(1) else {
            continue;
        };
        let words: Vec<&str> = call.split_whitespace().collect();
        let sub = words[0];
        if sub.starts_with('-') {
            continue;
        }
        let help = mve().args([sub, "--help"]).output().unwrap();
        let help = String::from_utf8_lossy(&help.stdout).into_owned();
        for flag in words.iter().filter(|w| w.starts_with("--")) {
            let flag = flag.trim_end_matches('`');
            assert!(help.contains(flag), "{sub} has no {flag} (line: {line})");
            checked += 1;
        }
    }
    assert!(
        checked >= 8,
        "only {checked} flags found: the script changed shape"
    );
}
