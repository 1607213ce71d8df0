//! Secrets (issue 12): an SNMP community or v3 key given by environment or profile never shows
//! in any output format, at any verbosity, or in any error, including the parse error of the
//! field that holds it. Each source gets a unique secret and every output is searched for it.
//! Probes run inside a namespace the test creates (loopback only).
// Network namespaces and setns are Linux-only; on other platforms this file builds empty.
#![cfg(target_os = "linux")]

mod support;

use support::Netns;

const FORMATS: [&str; 7] = ["table", "json", "jsonl", "csv", "junit", "markdown", "html"];

/// Everything `mve-audit ARGS` writes, with `env` set and `profile` as its profile.
fn everything(ns: &Netns, args: &[&str], env: &[(&str, &str)], profile: Option<&str>) -> String {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = ns.mve_audit();
    cmd.args(args).env_remove("MVE_AUDIT_PROFILE");
    for (name, value) in env {
        cmd.env(name, value);
    }
    if let Some(text) = profile {
        let path = dir.path().join("site.toml");
        std::fs::write(&path, text).unwrap();
        cmd.arg("--profile").arg(&path);
    }
    let out = cmd.output().unwrap();
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn assert_hidden(output: &str, secrets: &[&str], what: &str) {
    for secret in secrets {
        assert!(!output.contains(secret), "{what} shows a secret:\n{output}");
    }
}

#[test]
fn secrets_from_the_environment_and_the_profile_never_show() {
    let Some(ns) = Netns::create(&[]) else { return };
    let env_community = "sekrit-env-community-7731";
    let file_community = "sekrit-profile-community-8842";
    let env_key = "sekrit-env-authkey-5519";
    let file_auth = "sekrit-profile-authkey-6620";
    let file_priv = "sekrit-profile-privkey-4410";
    let secrets = [env_community, file_community, env_key, file_auth, file_priv];
    let v2_profile = format!("[snmp]\ncommunity = \"{file_community}\"\n");
    let v3_profile =
        format!("[snmp]\nuser = \"mve\"\nauth-key = \"{file_auth}\"\npriv-key = \"{file_priv}\"\n");
    for format in FORMATS {
        for verbosity in ["-q", "-v", "-vv"] {
            let args = [
                "check",
                "--printers",
                "127.0.0.1",
                "--checks",
                "snmp",
                "--timeout",
                "100ms",
                "--retries",
                "0",
                "--format",
                format,
                verbosity,
            ];
            let env = [("MVE_AUDIT_SNMP_COMMUNITY", env_community)];
            let out = everything(&ns, &args, &env, Some(&v2_profile));
            assert_hidden(&out, &secrets, &format!("v2c {format} {verbosity}"));
            let env = [("MVE_AUDIT_SNMP_V3_AUTH_KEY", env_key)];
            let out = everything(&ns, &args, &env, Some(&v3_profile));
            assert_hidden(&out, &secrets, &format!("v3 {format} {verbosity}"));
            assert!(out.contains("snmp"), "the run happened: {out}");
        }
    }
}

/// Environment, profile, the secret, and what the error must say instead.
type Case = (
    &'static [(&'static str, &'static str)],
    &'static str,
    &'static str,
    &'static str,
);

#[test]
fn errors_about_a_secret_never_repeat_it() {
    let Some(ns) = Netns::create(&[]) else { return };
    let args = [
        "check",
        "--printers",
        "127.0.0.1",
        "--checks",
        "snmp",
        "--dry-run",
    ];
    let cases: [Case; 5] = [
        (
            &[],
            "[snmp]\ncommunity = 99887766\n",
            "99887766",
            "quoted string",
        ),
        (
            &[],
            "[snmp]\nuser = \"u\"\nauth-key = 77665544\n",
            "77665544",
            "quoted string",
        ),
        (
            &[],
            "[snmp]\nuser = \"u\"\nauth-key = \"sek12\"\n",
            "sek12",
            "8 characters",
        ),
        (
            &[("MVE_AUDIT_SNMP_V3_AUTH_KEY", "sekrit-nouser-key-3390")],
            "",
            "sekrit-nouser-key-3390",
            "no SNMPv3 user",
        ),
        (
            &[("MVE_AUDIT_SNMP_V3_PRIV_KEY", "sekrit-privonly-2281")],
            "[snmp]\nuser = \"u\"\n",
            "sekrit-privonly-2281",
            "needs authentication",
        ),
    ];
    for (env, profile, secret, reason) in cases {
        let out = everything(&ns, &args, env, Some(profile));
        assert!(out.contains(reason), "{profile:?}: {out}");
        assert_hidden(&out, &[secret], &format!("the error for {profile:?}"));
    }
}
