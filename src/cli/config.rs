//! Merging, explicitly and in one place: CLI flags over the profile over the defaults.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::args::{CheckArgs, ColorChoice};
use super::profile::{Profile, ProfileError, load_profile};
use crate::catalog::{CheckId, Probe, Role};
use crate::probes::ProbeSettings;
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
        kerberos_realm: realm,
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
        inbound_requested,
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
