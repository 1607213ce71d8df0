//! Merging, explicitly and in one place: CLI flags over the profile over the defaults.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::args::{CheckArgs, ColorChoice};
use super::profile::{Profile, ProfileError, SnmpVersion, load_profile};
use crate::catalog::{CheckId, Probe, Role};
use crate::probes::{ProbeSettings, SnmpAuth, SnmpCredentials, SnmpPriv};
use crate::report::Format;
use crate::targets::{Limits, Origin, TargetError, TargetSet, parse_service};
use crate::wire::kerberos::PLACEHOLDER_REALM;

/// The defaults, in one place (also quoted in `--help` and the README).
pub struct Defaults;

impl Defaults {
    pub const TIMEOUT: Duration = Duration::from_secs(2);
    pub const RETRIES: u32 = 2;
    /// About 2 Mbit/s of probe packets (some 80 bytes each); see the README.
    pub const RATE: u32 = 3000;
    pub const HOST_RATE: u32 = 1;
}

/// Everything `check` needs, validated.
#[derive(Debug)]
pub struct CheckConfig {
    pub targets: TargetSet,
    pub selected: BTreeSet<CheckId>,
    /// "Some printers" checks promoted to required.
    pub promoted: Vec<CheckId>,
    pub ports: BTreeMap<CheckId, u16>,
    pub probe: ProbeSettings,
    /// An explicit cap on probes in flight; otherwise the rate and timing decide.
    pub concurrency: Option<usize>,
    pub dry_run: bool,
    pub format: Format,
    pub color: ColorChoice,
    pub strict: bool,
    pub details: bool,
    /// Checks the user asked for that `check` cannot run (inbound paths).
    pub inbound_requested: Vec<CheckId>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(transparent)]
    Profile(#[from] ProfileError),
    #[error(transparent)]
    Target(#[from] TargetError),
    #[error(
        "no targets: name printers with --printers, a service with --sqlserver, --firebird, \
         --smtp, --ldap, --ldaps or --kerberos, or give a --profile that has some"
    )]
    NoTargets,
    #[error("{origin}: a Kerberos realm cannot be empty")]
    EmptyRealm { origin: String },
    #[error("{origin}: {reason}")]
    Snmp { origin: String, reason: String },
    #[error(
        "nothing to check: no selected check applies to the targets given (checks: {checks}; \
         target roles: {roles})"
    )]
    NothingToCheck { checks: String, roles: String },
    #[error(transparent)]
    Listen(#[from] crate::inbound::listen::ListenError),
    #[error("{server}: {reason}")]
    Server { server: String, reason: String },
}

/// The service roles and the flag that names each.
const SERVICES: [(Role, &str); 6] = [
    (Role::Sqlserver, "--sqlserver"),
    (Role::Firebird, "--firebird"),
    (Role::Smtp, "--smtp"),
    (Role::Ldap, "--ldap"),
    (Role::Ldaps, "--ldaps"),
    (Role::Kerberos, "--kerberos"),
];

pub fn build_config(args: &CheckArgs) -> Result<CheckConfig, ConfigError> {
    let profile_path = args.profile.as_deref();
    let profile = match profile_path {
        Some(path) => load_profile(path)?,
        None => Profile::default(),
    };
    let shown = profile_path.map(|p| p.display().to_string());
    let base = profile_path.and_then(Path::parent).map(PathBuf::from);
    let limits = Limits {
        allow_large: args.allow_large,
    };

    let mut targets = TargetSet::new(limits);
    // Printers: the flag replaces the profile's list.
    if args.printers.is_empty() {
        for value in &profile.targets.printers {
            let origin = profile_origin(&shown, "targets.printers");
            targets.add_printers(value, &origin, base.as_deref())?;
        }
    } else {
        for value in &args.printers {
            targets.add_printers(value, &Origin::Flag("--printers"), None)?;
        }
    }
    for (role, flag) in SERVICES {
        let from_flag = service_flag(args, role);
        let (values, origin) = if from_flag.is_empty() {
            let key = format!("targets.{}", role.as_str());
            (
                service_profile(&profile, role),
                profile_origin(&shown, &key),
            )
        } else {
            (from_flag, Origin::Flag(flag))
        };
        for value in values {
            for item in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                targets.add(parse_service(item, role, &origin)?);
            }
        }
    }
    if targets.is_empty() {
        return Err(ConfigError::NoTargets);
    }

    let only: Option<Vec<CheckId>> = if args.checks.is_empty() {
        profile.checks.only.clone()
    } else {
        Some(args.checks.clone())
    };
    let skip = if args.skip.is_empty() {
        &profile.checks.skip
    } else {
        &args.skip
    };
    let mut selected: BTreeSet<CheckId> = match &only {
        Some(list) => list.iter().copied().collect(),
        None => CheckId::ALL.into_iter().collect(),
    };
    for check in skip {
        selected.remove(check);
    }
    let inbound_requested = only
        .unwrap_or_default()
        .into_iter()
        .filter(|c| c.path().probe == Probe::Inbound)
        .collect();

    let roles = targets.roles().clone();
    let applies = selected
        .iter()
        .any(|c| c.path().probe != Probe::Inbound && roles.contains(&c.path().role));
    if !applies {
        let list = |items: Vec<String>| {
            if items.is_empty() {
                "none".to_string()
            } else {
                items.join(", ")
            }
        };
        return Err(ConfigError::NothingToCheck {
            checks: list(selected.iter().map(ToString::to_string).collect()),
            roles: list(roles.iter().map(ToString::to_string).collect()),
        });
    }

    let promoted = if args.require.is_empty() {
        profile.checks.require.clone()
    } else {
        args.require.clone()
    };

    let mut ports: BTreeMap<CheckId, u16> = profile.ports.iter().map(|(c, p)| (*c, p.0)).collect();
    ports.extend(args.ports.iter().copied());

    let timing = &profile.timing;
    let realm = match (&args.kerberos_realm, &profile.kerberos.realm) {
        (Some(realm), _) => checked_realm(realm, "--kerberos-realm")?,
        (None, Some(realm)) => {
            checked_realm(realm, &profile_origin(&shown, "kerberos.realm").to_string())?
        }
        (None, None) => PLACEHOLDER_REALM.to_string(),
    };
    let probe = ProbeSettings {
        timeout: args
            .timeout
            .or(timing.timeout.map(|d| d.0))
            .unwrap_or(Defaults::TIMEOUT),
        retries: args
            .retries
            .or(timing.retries.map(|r| r.0))
            .unwrap_or(Defaults::RETRIES),
        rate: args
            .rate
            .or(timing.rate.map(|r| r.0))
            .unwrap_or(Defaults::RATE),
        host_rate: args
            .host_rate
            .or(timing.host_rate.map(|r| r.0))
            .unwrap_or(Defaults::HOST_RATE),
        kerberos_realm: realm,
        snmp: snmp_credentials(args, &profile, &shown)?,
        payloads: profile
            .payloads
            .iter()
            .map(|(check, payload)| (*check, payload.0.clone()))
            .collect(),
    };
    let concurrency = args
        .concurrency
        .or(timing.concurrency.map(|c| c.0))
        .map(|c| c as usize);

    Ok(CheckConfig {
        targets,
        selected,
        promoted,
        ports,
        probe,
        concurrency,
        dry_run: args.dry_run,
        format: args.format,
        color: args.color,
        strict: args.strict,
        details: args.details,
        inbound_requested,
    })
}

/// SNMP credentials: flags and environment over the profile over v2c "public". Keys come only
/// from the environment or the profile.
fn snmp_credentials(
    args: &CheckArgs,
    profile: &Profile,
    shown: &Option<String>,
) -> Result<SnmpCredentials, ConfigError> {
    let p = &profile.snmp;
    let bad = |origin: String, reason: String| ConfigError::Snmp { origin, reason };
    let user = args.snmp_user.clone().or_else(|| p.user.clone());
    let version = match (&args.snmp_version, p.version) {
        (Some(v), _) => v.clone(),
        (None, Some(SnmpVersion::V1)) => "1".into(),
        (None, Some(SnmpVersion::V2c)) => "2c".into(),
        (None, Some(SnmpVersion::V3)) => "3".into(),
        (None, None) if user.is_some() => "3".into(),
        (None, None) => "2c".into(),
    };
    let community = args
        .snmp_community
        .clone()
        .or_else(|| p.community.clone())
        .unwrap_or_else(|| "public".to_string());
    match version.as_str() {
        "1" => return Ok(SnmpCredentials::V1 { community }),
        "2c" => return Ok(SnmpCredentials::V2c { community }),
        _ => {}
    }
    let user = user.ok_or_else(|| {
        bad(
            "--snmp-version 3".into(),
            "SNMPv3 needs a user: --snmp-user, MVE_AUDIT_SNMP_V3_USER or snmp.user".into(),
        )
    })?;
    let auth: Option<(SnmpAuth, String)> = v3_secret(V3Secret {
        kind: "auth",
        env: "MVE_AUDIT_SNMP_V3_AUTH_KEY",
        key: p.auth_key.clone(),
        protocol: args.snmp_auth_protocol.clone(),
        profile_protocol: p.auth_protocol.clone(),
        default: "sha",
        shown,
    })?;
    let privacy: Option<(SnmpPriv, String)> = v3_secret(V3Secret {
        kind: "priv",
        env: "MVE_AUDIT_SNMP_V3_PRIV_KEY",
        key: p.priv_key.clone(),
        protocol: args.snmp_priv_protocol.clone(),
        profile_protocol: p.priv_protocol.clone(),
        default: "aes",
        shown,
    })?;
    if privacy.is_some() && auth.is_none() {
        return Err(bad(
            "MVE_AUDIT_SNMP_V3_PRIV_KEY / snmp.priv-key".into(),
            "SNMPv3 privacy needs authentication too".into(),
        ));
    }
    Ok(SnmpCredentials::V3 {
        user,
        auth,
        privacy,
    })
}

/// Where one SNMPv3 secret (auth or privacy) and its protocol come from.
struct V3Secret<'a> {
    /// "auth" or "priv", as in the profile keys `auth-key` / `priv-protocol`.
    kind: &'static str,
    env: &'static str,
    key: Option<String>,
    protocol: Option<String>,
    profile_protocol: Option<String>,
    default: &'static str,
    shown: &'a Option<String>,
}

/// A protocol and its key: both or neither (the protocol has a default), the key from the
/// environment over the profile, at least 8 characters (RFC 3414).
fn v3_secret<P: std::str::FromStr<Err = String>>(
    secret: V3Secret,
) -> Result<Option<(P, String)>, ConfigError> {
    let kind = secret.kind;
    let protocol_origin = match secret.protocol {
        Some(_) => format!("--snmp-{kind}-protocol"),
        None => profile_origin(secret.shown, &format!("snmp.{kind}-protocol")).to_string(),
    };
    let key_origin = format!("{} / snmp.{kind}-key", secret.env);
    let key = std::env::var(secret.env).ok().or(secret.key);
    let name = secret.protocol.or(secret.profile_protocol);
    let bad = |origin: String, reason: String| ConfigError::Snmp { origin, reason };
    match (key, name) {
        (None, None) => Ok(None),
        (None, Some(_)) => Err(bad(
            protocol_origin,
            format!(
                "the SNMPv3 {kind} protocol needs a key: {} or snmp.{kind}-key",
                secret.env
            ),
        )),
        (Some(key), name) => {
            let protocol = name
                .as_deref()
                .unwrap_or(secret.default)
                .parse()
                .map_err(|e| bad(protocol_origin, e))?;
            if key.len() < 8 {
                return Err(bad(
                    key_origin,
                    "an SNMPv3 key has at least 8 characters".into(),
                ));
            }
            Ok(Some((protocol, key)))
        }
    }
}

fn profile_origin(file: &Option<String>, key: &str) -> Origin {
    Origin::Profile {
        file: file.clone().unwrap_or_default(),
        key: key.to_string(),
    }
}

fn checked_realm(realm: &str, origin: &str) -> Result<String, ConfigError> {
    let realm = realm.trim();
    if realm.is_empty() {
        return Err(ConfigError::EmptyRealm {
            origin: origin.to_string(),
        });
    }
    Ok(realm.to_string())
}

fn service_flag(args: &CheckArgs, role: Role) -> &[String] {
    match role {
        Role::Sqlserver => &args.sqlserver,
        Role::Firebird => &args.firebird,
        Role::Smtp => &args.smtp,
        Role::Ldap => &args.ldap,
        Role::Ldaps => &args.ldaps,
        Role::Kerberos => &args.kerberos,
        Role::Printer | Role::Server => &[],
    }
}

fn service_profile(profile: &Profile, role: Role) -> &[String] {
    let t = &profile.targets;
    match role {
        Role::Sqlserver => &t.sqlserver,
        Role::Firebird => &t.firebird,
        Role::Smtp => &t.smtp,
        Role::Ldap => &t.ldap,
        Role::Ldaps => &t.ldaps,
        Role::Kerberos => &t.kerberos,
        Role::Printer | Role::Server => &[],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::Parser;

    /// Builds the configuration of `check ARGS` with `profile` as its profile file.
    fn config(profile: &str, args: &[&str]) -> Result<CheckConfig, String> {
        let dir = std::env::temp_dir().join(format!(
            "mve-audit-config-{}-{}",
            std::process::id(),
            profile.len()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("site.toml");
        std::fs::write(&path, profile).unwrap();
        let mut argv = vec!["mve-audit", "check", "--printers", "192.0.2.1", "--profile"];
        let path_text = path.display().to_string();
        argv.push(&path_text);
        argv.extend(args);
        let Command::Check(check) = Cli::try_parse_from(argv).unwrap().command else {
            panic!("not check")
        };
        let result = build_config(&check).map_err(|e| e.to_string());
        std::fs::remove_dir_all(dir).unwrap();
        result
    }

    #[test]
    fn snmp_defaults_to_v2c_public() {
        let config = config("", &[]).unwrap();
        assert_eq!(
            config.probe.snmp,
            SnmpCredentials::V2c {
                community: "public".into()
            }
        );
    }

    #[test]
    fn snmp_v3_comes_from_the_profile_with_its_protocols() {
        let profile = "[snmp]\nuser = \"mve\"\nauth-protocol = \"sha256\"\nauth-key = \"auth-secret\"\n\
                       priv-key = \"priv-secret\"\n";
        let config = config(profile, &[]).unwrap();
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
    }

    #[test]
    fn bad_snmp_settings_name_where_they_came_from() {
        let rows: &[(&str, &[&str], &str)] = &[
            ("", &["--snmp-version", "3"], "SNMPv3 needs a user"),
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
                "--snmp-auth-protocol: unknown SNMPv3 auth protocol 'sha3'",
            ),
        ];
        for (profile, args, want) in rows {
            let err = config(profile, args).unwrap_err();
            assert!(err.contains(want), "{profile:?} {args:?}: {err}");
        }
    }
}
