//! Tests of `cli::config`: the merge of flags, environment, profile and defaults, by table.

use super::*;
use crate::cli::{Cli, Command, parse_profile};
use crate::probes::{SnmpAuth, SnmpCredentials, SnmpPriv};
use clap::Parser;

/// `check ARGS` (with a printer and `--profile site.toml`) merged over `profile` and `env`.
fn merged(profile: &str, args: &[&str], env: &Env) -> Result<CheckConfig, String> {
    let profile = parse_profile(profile, Path::new("site.toml")).map_err(|e| e.to_string())?;
    let mut argv = vec!["mve-audit", "check", "--profile", "site.toml"];
    if !args.contains(&"--printers") {
        argv.extend(["--printers", "192.0.2.1"]);
    }
    argv.extend(args);
    let cli = Cli::try_parse_from(argv).map_err(|e| e.to_string())?;
    let Command::Check(check) = cli.command else {
        panic!("not check")
    };
    merge(&check, &profile, env).map_err(|e| e.to_string())
}

fn timing(config: &CheckConfig) -> String {
    let p = &config.probe;
    format!(
        "timeout={:?} retries={} rate={} host_rate={} concurrency={:?}",
        p.timing.timeout, p.timing.retries, p.timing.rate, p.timing.host_rate, config.concurrency
    )
}

#[test]
fn flags_beat_the_profile_which_beats_the_defaults() {
    let profile =
        "[timing]\ntimeout = \"3s\"\nretries = 4\nrate = 100\nhost-rate = 7\nconcurrency = 9\n";
    let rows: [(&str, &[&str], &str); 4] = [
        (
            "",
            &[],
            "timeout=2s retries=2 rate=3000 host_rate=1 concurrency=None",
        ),
        (
            profile,
            &[],
            "timeout=3s retries=4 rate=100 host_rate=7 concurrency=Some(9)",
        ),
        (
            profile,
            &["--timeout", "500ms", "--retries", "0", "--rate", "0"],
            "timeout=500ms retries=0 rate=0 host_rate=7 concurrency=Some(9)",
        ),
        (
            "",
            &["--host-rate", "0", "--concurrency", "64"],
            "timeout=2s retries=2 rate=3000 host_rate=0 concurrency=Some(64)",
        ),
    ];
    for (profile, args, want) in rows {
        let config = merged(profile, args, &Env::default()).unwrap();
        assert_eq!(timing(&config), want, "{profile:?} {args:?}");
    }
}

#[test]
fn target_lists_from_a_flag_replace_the_profiles_and_skips_and_ports_add_up() {
    let profile = "[targets]\nprinters = [\"192.0.2.7\", \"192.0.2.8\"]\nsmtp = \"192.0.2.25\"\n\
                   [checks]\nskip = [\"raw\"]\n[ports]\nhttp = 8080\n";
    let from_profile = merged(
        profile,
        &["--printers", "192.0.2.7,192.0.2.8"],
        &Env::default(),
    )
    .unwrap();
    assert!(!from_profile.selected.contains(&CheckId::Raw));
    assert_eq!(from_profile.targets.roles().len(), 2, "printers and smtp");
    let flagged = merged(
        profile,
        &[
            "--printers",
            "192.0.2.9",
            "--skip",
            "ftp",
            "--port",
            "raw=9101",
        ],
        &Env::default(),
    )
    .unwrap();
    // The profile skips raw, the flag ftp: both are skipped.
    assert!(!flagged.selected.contains(&CheckId::Raw));
    assert!(!flagged.selected.contains(&CheckId::Ftp));
    // Naming raw with --checks runs it, whatever the profile skips.
    let named = merged(
        profile,
        &["--printers", "192.0.2.9", "--checks", "raw,http"],
        &Env::default(),
    )
    .unwrap();
    assert!(named.selected.contains(&CheckId::Raw));
    assert_eq!(flagged.ports.get(&CheckId::Http), Some(&8080));
    assert_eq!(flagged.ports.get(&CheckId::Raw), Some(&9101));
    let realm = merged("[kerberos]\nrealm = \"SITE.TEST\"\n", &[], &Env::default()).unwrap();
    assert_eq!(realm.probe.kerberos_realm, "SITE.TEST");
    let flag = merged(
        "[kerberos]\nrealm = \"SITE.TEST\"\n",
        &["--kerberos-realm", "X.TEST"],
        &Env::default(),
    );
    assert_eq!(flag.unwrap().probe.kerberos_realm, "X.TEST");
}

#[test]
fn snmp_defaults_to_v2c_public_and_flags_win() {
    let config = merged("", &[], &Env::default()).unwrap();
    assert_eq!(
        config.probe.snmp,
        SnmpCredentials::V2c {
            community: "public".into()
        }
    );
    let profile = "[snmp]\nversion = \"1\"\ncommunity = \"site\"\n";
    let config = merged(profile, &["--snmp-community", "flag"], &Env::default()).unwrap();
    assert_eq!(
        config.probe.snmp,
        SnmpCredentials::V1 {
            community: "flag".into()
        }
    );
}

#[test]
fn snmp_v3_comes_from_the_profile_and_the_environment() {
    let profile = "[snmp]\nuser = \"mve\"\nauth-protocol = \"sha256\"\nauth-key = \"auth-secret\"\n\
                   priv-key = \"priv-secret\"\n";
    let config = merged(profile, &[], &Env::default()).unwrap();
    assert_eq!(
        config.probe.snmp,
        SnmpCredentials::V3 {
            user: "mve".into(),
            auth: Some((SnmpAuth::Sha256, "auth-secret".into())),
            privacy: Some((SnmpPriv::Aes128, "priv-secret".into())),
        }
    );
    assert!(
        !format!("{:?}", config.probe.snmp).contains("secret"),
        "Debug hides keys"
    );
    let env = Env {
        auth_key: Some("from-the-env".into()),
        priv_key: None,
    };
    let config = merged(profile, &["--snmp-auth-protocol", "md5"], &env).unwrap();
    let SnmpCredentials::V3 { auth, .. } = config.probe.snmp else {
        panic!("v3")
    };
    assert_eq!(auth, Some((SnmpAuth::Md5, "from-the-env".into())));
}

#[test]
fn bad_snmp_settings_name_where_they_came_from() {
    let rows: &[(&str, &[&str], &str)] = &[
        (
            "",
            &["--snmp-version", "3"],
            "--snmp-version: SNMPv3 needs a user",
        ),
        (
            "[snmp]\nuser = \"u\"\nauth-protocol = \"sha\"\n",
            &[],
            "snmp.auth-protocol: the SNMPv3 auth protocol needs a key",
        ),
        (
            "[snmp]\nuser = \"u\"\nauth-key = \"short\"\n",
            &[],
            "at least 8 characters",
        ),
        (
            "[snmp]\nuser = \"u\"\npriv-key = \"long-enough\"\n",
            &[],
            "needs authentication too",
        ),
        (
            "[snmp]\nuser = \"u\"\nauth-key = \"long-enough\"\n",
            &["--snmp-auth-protocol", "sha3"],
            "unknown SNMPv3 auth protocol 'sha3'",
        ),
        (
            "[snmp]\nauth-protocol = \"sha3\"\n",
            &[],
            "site.toml:2:17: unknown SNMPv3 auth protocol 'sha3'",
        ),
        ("[snmp]\nversion = \"2\"\n", &[], "site.toml:2:11"),
        (
            "",
            &["--snmp-version", "2"],
            "invalid value '2' for '--snmp-version",
        ),
    ];
    for (profile, args, want) in rows {
        let err = merged(profile, args, &Env::default()).unwrap_err();
        assert!(err.contains(want), "{profile:?} {args:?}: {err}");
    }
}

/// SNMPv3 settings on a run that speaks v1 or v2c are not dropped without a word: each is
/// named where it came from (a key by its source, never its value); a v3 run has no note.
#[test]
fn v3_settings_on_a_v2c_run_are_noted_by_origin() {
    let profile = "[snmp]\nversion = \"2c\"\nuser = \"mve\"\nauth-protocol = \"sha256\"\n";
    let env = Env {
        priv_key: Some("secret-priv-key".into()),
        ..Env::default()
    };
    let config = merged(profile, &[], &env).unwrap();
    let [note] = config.notes.as_slice() else {
        panic!("one note: {:?}", config.notes)
    };
    assert!(note.starts_with("SNMP v2c is used"), "{note}");
    assert!(note.contains("site.toml:3:8: snmp.user"), "{note}");
    assert!(note.contains("snmp.auth-protocol"), "{note}");
    assert!(note.contains("MVE_AUDIT_SNMP_V3_PRIV_KEY"), "{note}");
    assert!(!note.contains("secret-priv-key"), "{note}");
    let flags = merged(
        "",
        &["--snmp-version", "1", "--snmp-auth-protocol", "md5"],
        &Env::default(),
    )
    .unwrap();
    assert!(
        flags
            .notes
            .iter()
            .any(|n| n.starts_with("SNMP v1 is used") && n.contains("--snmp-auth-protocol")),
        "{:?}",
        flags.notes
    );
    let v3 = merged(
        profile.replace("\"2c\"", "3").as_str(),
        &[],
        &Env {
            auth_key: Some("auth-key-123".into()),
            ..Env::default()
        },
    )
    .unwrap();
    assert!(v3.notes.is_empty(), "{:?}", v3.notes);
    assert!(merged("", &[], &Env::default()).unwrap().notes.is_empty());
}
