//! The multi-site run, proven: `examples/ansible/audit.yml` run by real ansible-core (from
//! PyPI, installed into `target/ansible` by the test command) over two inventory hosts with
//! the local connection, standing for two sites' MVE servers. Each audits the same printer
//! from its own profile (one site's RAW port answers, the other's does not), the playbook
//! fetches both reports and merges them, and the merged matrix is checked: a row per site,
//! and the cell they disagree on listed as a conflict. Everything runs inside a test
//! namespace with only its loopback.
// Network namespaces are Linux-only; on other platforms this file builds empty.
#![cfg(target_os = "linux")]

mod support;

use std::net::TcpListener;
use std::path::{Path, PathBuf};

use support::Netns;

fn ansible_playbook() -> Option<PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/ansible/bin/ansible-playbook");
    path.exists().then_some(path)
}

#[test]
fn the_ansible_example_audits_two_sites_and_merges_them() {
    let Some(ns) = Netns::create(&[]) else { return };
    let Some(playbook_bin) = ansible_playbook() else {
        support::unavailable("ansible-core is not installed in target/ansible (scripts/test does)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path();
    // The printer: RAW answers on one port only.
    let listener = ns.run(|| TcpListener::bind("127.0.0.1:0").unwrap());
    let open = listener.local_addr().unwrap().port();
    let closed = ns.run(|| {
        TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    });
    for (site, port) in [("east", open), ("west", closed)] {
        std::fs::write(
            work.join(format!("{site}.toml")),
            format!(
                "[targets]\nprinters = [\"127.0.0.1\"]\n[checks]\nonly = [\"raw\"]\n\
                 [ports]\nraw = {port}\n[timing]\ntimeout = \"300ms\"\n"
            ),
        )
        .unwrap();
    }
    let python = playbook_bin.parent().unwrap().join("python3");
    std::fs::write(
        work.join("inventory.ini"),
        format!(
            "[mve_servers]\n\
             east ansible_connection=local site=east profile={w}/east.toml\n\
             west ansible_connection=local site=west profile={w}/west.toml\n\
             [all:vars]\nansible_python_interpreter={py}\n\
             [local]\nlocalhost ansible_connection=local ansible_python_interpreter={py}\n",
            w = work.display(),
            py = python.display()
        ),
    )
    .unwrap();
    let reports = work.join("reports");
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_mve-audit")).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/ansible/audit.yml");
    let out = ns
        .command(&playbook_bin)
        .arg("-i")
        .arg(work.join("inventory.ini"))
        .arg(&example)
        .arg("-e")
        .arg(format!(
            "report_dir={} remote_dir={}",
            reports.display(),
            work.display()
        ))
        .env("PATH", path)
        .env("ANSIBLE_LOCAL_TEMP", work.join("ansible-local"))
        .env("ANSIBLE_REMOTE_TEMP", work.join("ansible-remote"))
        .env("ANSIBLE_NOCOLOR", "1")
        .env("ANSIBLE_HOST_KEY_CHECKING", "False")
        .current_dir(work)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "ansible-playbook failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    drop(listener);
    // Both reports were fetched, and the playbook's merge wrote the HTML page.
    for site in ["east", "west"] {
        assert!(reports.join(format!("{site}.json")).exists(), "{stdout}");
    }
    let html = std::fs::read_to_string(reports.join("fleet.html")).unwrap();
    assert!(html.contains("east") && html.contains("west"), "{html}");
    // The playbook printed the merged summary.
    assert!(stdout.contains("127.0.0.1"), "{stdout}");
    // The merged matrix: one row per site, the disagreement listed.
    let merged = std::process::Command::new(env!("CARGO_BIN_EXE_mve-audit"))
        .arg("merge")
        .arg(reports.join("east.json"))
        .arg(reports.join("west.json"))
        .args(["--format", "json"])
        .output()
        .unwrap();
    let matrix: serde_json::Value = serde_json::from_slice(&merged.stdout).unwrap();
    let vantages: Vec<&str> = matrix["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["vantage"].as_str().unwrap())
        .collect();
    assert_eq!(vantages, ["east", "west"], "{matrix:#}");
    let states: Vec<(&str, &str)> = matrix["cells"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["vantage"].as_str().unwrap(), c["state"].as_str().unwrap()))
        .collect();
    assert!(states.contains(&("east", "open")), "{states:?}");
    assert!(states.contains(&("west", "closed")), "{states:?}");
    let conflicts = matrix["conflicts"].as_array().unwrap();
    assert_eq!(conflicts.len(), 1, "{matrix:#}");
    assert_eq!(conflicts[0]["check"], "raw");
}
