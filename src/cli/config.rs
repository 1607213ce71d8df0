//! Merging, explicitly and in one place: CLI flags over the profile over the defaults.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::args::{CheckArgs, ColorChoice};
use super::profile::{Profile, ProfileError, SnmpVersion, load_profile};
use crate::catalog::{CheckId, Probe, Role};
use crate::probes::{ProbeSettings, SnmpAuth, SnmpCredentials, SnmpPriv};
use crate::report::Format;
use crate::targets::{Limits, Origin, Target, TargetError, parse_printers, parse_service};
use crate::wire::kerberos::PLACEHOLDER_REALM;

/// The defaults, in one place (also quoted in `--help` and the README).
pub struct Defaults;

impl Defaults {
    pub const TIMEOUT: Duration = Duration::from_secs(2);
    pub const RETRIES: u32 = 2;
    pub const CONCURRENCY: u32 = 64;
    pub const RATE: u32 = 300;
    pub const HOST_RATE: u32 = 1;
}

/// Everything `check` needs, validated.
#[derive(Debug)]
pub struct CheckConfig {
    pub targets: Vec<Target>,
    pub selected: BTreeSet<CheckId>,
    /// "Some printers" checks promoted to required.
    pub promoted: Vec<CheckId>,
    pub ports: BTreeMap<CheckId, u16>,
    pub probe: ProbeSettings,
    pub concurrency: usize,
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

    let mut targets = Vec::new();
    // Printers: the flag replaces the profile's list.
    if args.printers.is_empty() {
        for value in &profile.targets.printers {
            let origin = profile_origin(&shown, "targets.printers");
            parse_printers(value, &origin, base.as_deref(), limits, &mut targets)?;
        }
    } else {
        for value in &args.printers {
            parse_printers(
                value,
                &Origin::Flag("--printers"),
                None,
                limits,
                &mut targets,
            )?;
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
                targets.push(parse_service(item, role, &origin)?);
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
        .unwrap_or(Defaults::CONCURRENCY) as usize;

    Ok(CheckConfig {
        targets,
        selected,
        promoted,
        ports,
        probe,
        concurrency,
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
    let origin = |key: &str, flag: bool| {
        if flag {
            key.to_string()
        } else {
            profile_origin(shown, &format!("snmp.{key}")).to_string()
        }
    };
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
    let auth_key = std::env::var("MVE_AUDIT_SNMP_V3_AUTH_KEY")
        .ok()
        .or_else(|| p.auth_key.clone());
    let priv_key = std::env::var("MVE_AUDIT_SNMP_V3_PRIV_KEY")
        .ok()
        .or_else(|| p.priv_key.clone());
    let auth_name = args
        .snmp_auth_protocol
        .clone()
        .or_else(|| p.auth_protocol.clone());
    let priv_name = args
        .snmp_priv_protocol
        .clone()
        .or_else(|| p.priv_protocol.clone());
    let auth = match (auth_key, &auth_name) {
        (None, None) => None,
        (None, Some(_)) => {
            return Err(bad(
                origin("auth-protocol", args.snmp_auth_protocol.is_some()),
                "an auth protocol needs a key: MVE_AUDIT_SNMP_V3_AUTH_KEY or snmp.auth-key".into(),
            ));
        }
        (Some(key), name) => {
            let protocol: SnmpAuth = name.as_deref().unwrap_or("sha").parse().map_err(|e| {
                bad(
                    origin("auth-protocol", args.snmp_auth_protocol.is_some()),
                    e,
                )
            })?;
            if key.len() < 8 {
                return Err(bad(
                    "MVE_AUDIT_SNMP_V3_AUTH_KEY / snmp.auth-key".into(),
                    "an SNMPv3 key has at least 8 characters".into(),
                ));
            }
            Some((protocol, key))
        }
    };
    let privacy = match (priv_key, &priv_name) {
        (None, None) => None,
        (None, Some(_)) => {
            return Err(bad(
                origin("priv-protocol", args.snmp_priv_protocol.is_some()),
                "a privacy protocol needs a key: MVE_AUDIT_SNMP_V3_PRIV_KEY or snmp.priv-key"
                    .into(),
            ));
        }
        (Some(_), _) if auth.is_none() => {
            return Err(bad(
                "MVE_AUDIT_SNMP_V3_PRIV_KEY / snmp.priv-key".into(),
                "SNMPv3 privacy needs authentication too".into(),
            ));
        }
        (Some(key), name) => {
            let protocol: SnmpPriv = name.as_deref().unwrap_or("aes").parse().map_err(|e| {
                bad(
                    origin("priv-protocol", args.snmp_priv_protocol.is_some()),
                    e,
                )
            })?;
            if key.len() < 8 {
                return Err(bad(
                    "MVE_AUDIT_SNMP_V3_PRIV_KEY / snmp.priv-key".into(),
                    "an SNMPv3 key has at least 8 characters".into(),
                ));
            }
            Some((protocol, key))
        }
    };
    Ok(SnmpCredentials::V3 {
        user,
        auth,
        privacy,
    })
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
