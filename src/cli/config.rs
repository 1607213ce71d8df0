//! Merging, explicitly and in one place: flags over the environment over the profile over the
//! defaults, into one typed configuration. Reading the profile and the environment happens
//! first (`build_config`); `merge` is the one typed function that decides, and is tested by
//! table.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::args::{CheckArgs, ColorChoice};
use super::profile::{Profile, ProfileError, load_profile};
use super::snmp::SnmpProblem;
use crate::catalog::CheckId;
use crate::engine::Timing;
use crate::probes::{ProbeSettings, SnmpAuth, SnmpPriv};
use crate::report::Format;
use crate::targets::{Limits, Origin, ResolveError, TargetError, TargetSet, parse_service};
use crate::wire::kerberos::PLACEHOLDER_REALM;

/// The defaults, in one place: `--help` quotes these (the README too).
pub struct Defaults;

impl Defaults {
    pub const TIMEOUT: Duration = Duration::from_secs(2);
    pub const RETRIES: u32 = 2;
    /// About 2 Mbit/s of probe packets (some 80 bytes each); see the README.
    pub const RATE: u32 = 3000;
    pub const HOST_RATE: u32 = 1;
    pub const COMMUNITY: &str = "public";
    pub const AUTH: SnmpAuth = SnmpAuth::Sha1;
    pub const PRIVACY: SnmpPriv = SnmpPriv::Aes128;
}

/// The SNMPv3 keys from the environment: read once, before the merge, so the merge is a
/// function of its inputs. (Keys have no flag: a flag shows in the process list.)
#[derive(Default, Clone, PartialEq, Eq)]
pub struct Env {
    pub auth_key: Option<String>,
    pub priv_key: Option<String>,
}

impl Env {
    pub const AUTH_KEY: &str = "MVE_AUDIT_SNMP_V3_AUTH_KEY";
    pub const PRIV_KEY: &str = "MVE_AUDIT_SNMP_V3_PRIV_KEY";

    pub fn read() -> Env {
        Env {
            auth_key: std::env::var(Env::AUTH_KEY).ok(),
            priv_key: std::env::var(Env::PRIV_KEY).ok(),
        }
    }
}

impl std::fmt::Debug for Env {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Env")
            .field("auth_key", &self.auth_key.as_ref().map(|_| "…"))
            .field("priv_key", &self.priv_key.as_ref().map(|_| "…"))
            .finish()
    }
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
    /// `Some(true)` for the summary, `Some(false)` for the matrix, `None` to choose by the
    /// terminal's height.
    pub summary: Option<bool>,
    pub failures_only: bool,
    pub output: Option<PathBuf>,
    /// The vantage point named in the report.
    pub vantage: Option<String>,
    pub quiet: bool,
    pub verbose: u8,
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
    #[error("{origin}: {problem}")]
    Snmp {
        origin: String,
        problem: SnmpProblem,
    },
    #[error(
        "nothing to check: no selected check applies to the targets given (checks: {checks}; \
         target roles: {roles})"
    )]
    NothingToCheck { checks: String, roles: String },
    #[error(transparent)]
    Listen(#[from] crate::inbound::listen::ListenError),
    #[error("{server}: {source}")]
    Server {
        server: String,
        source: ResolveError,
    },
}

/// Reads the profile (when named) and the environment, then merges.
pub fn build_config(args: &CheckArgs) -> Result<CheckConfig, ConfigError> {
    let profile = match args.profile.as_deref() {
        Some(path) => load_profile(path)?,
        None => Profile::default(),
    };
    merge(args, &profile, &Env::read())
}

/// Where each value comes from: a flag, else the environment, else the profile, else the
/// default. Lists (targets, checks) from a flag replace the profile's; port overrides add up.
pub fn merge(args: &CheckArgs, profile: &Profile, env: &Env) -> Result<CheckConfig, ConfigError> {
    let shown = args.profile.as_deref().map(|p| p.display().to_string());
    let targets = merge_targets(args, profile, &shown)?;
    let (selected, inbound_requested) = merge_checks(args, profile, &targets)?;
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
        timing: Timing {
            timeout: pick(args.timeout, timing.timeout.map(|d| d.0), Defaults::TIMEOUT),
            retries: pick(args.retries, timing.retries.map(|r| r.0), Defaults::RETRIES),
            rate: pick(args.rate, timing.rate.map(|r| r.0), Defaults::RATE),
            host_rate: pick(
                args.host_rate,
                timing.host_rate.map(|r| r.0),
                Defaults::HOST_RATE,
            ),
        },
        kerberos_realm: realm,
        snmp: super::snmp::credentials(args, profile, env, &shown)?,
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
        summary: match (args.summary, args.matrix) {
            (true, _) => Some(true),
            (_, true) => Some(false),
            _ => None,
        },
        failures_only: args.failures_only,
        output: args.output.clone(),
        vantage: args.vantage.clone(),
        quiet: args.quiet,
        verbose: args.verbose,
    })
}

/// Printers and services: a role named by a flag replaces the profile's list for that role.
fn merge_targets(
    args: &CheckArgs,
    profile: &Profile,
    shown: &Option<String>,
) -> Result<TargetSet, ConfigError> {
    let base = args
        .profile
        .as_deref()
        .and_then(Path::parent)
        .map(PathBuf::from);
    let mut targets = TargetSet::new(Limits {
        allow_large: args.allow_large,
    });
    if args.targets.printers.is_empty() {
        for value in &profile.targets.printers {
            let origin = profile_origin(shown, "targets.printers");
            targets.add_printers(value, &origin, base.as_deref())?;
        }
    } else {
        for value in &args.targets.printers {
            targets.add_printers(value, &Origin::Flag("--printers"), None)?;
        }
    }
    let from_profile = profile.targets.services();
    for ((role, flag, from_flag), (_, key, in_profile)) in
        args.targets.services().into_iter().zip(from_profile)
    {
        let (values, origin) = if from_flag.is_empty() {
            let key = format!("targets.{}", key.trim_start_matches('-'));
            (in_profile, profile_origin(shown, &key))
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
    Ok(targets)
}

/// The checks to run, and those asked for that `check` cannot run (inbound paths).
fn merge_checks(
    args: &CheckArgs,
    profile: &Profile,
    targets: &TargetSet,
) -> Result<(BTreeSet<CheckId>, Vec<CheckId>), ConfigError> {
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
        .filter(|c| !c.path().is_outbound())
        .collect();
    let roles = targets.roles();
    let applies = selected
        .iter()
        .any(|c| c.path().is_outbound() && roles.contains(&c.path().role));
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
    Ok((selected, inbound_requested))
}

/// The flag's value, else the profile's, else the default.
fn pick<T>(flag: Option<T>, profile: Option<T>, default: T) -> T {
    flag.or(profile).unwrap_or(default)
}

pub(super) fn profile_origin(file: &Option<String>, key: &str) -> Origin {
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

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;
